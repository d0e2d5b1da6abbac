// Creates the columns that programme modules write and livelihoods modules read (see shared_state.hpp).
#include "models/shared_state.hpp"

#include "models/economy.hpp"
#include "models/livestock.hpp"

namespace chacra::models {

void add_shared_columns(World& w) {
  auto& h = w.households;
  h.add(col::adoption_push);
  h.add(col::asset_delivered);
  h.add(col::support_active);
  h.add(col::juntos_transfer_pen);
  h.add(col::business_profit_pen);
  h.add(col::saving_boost);
  h.add(col::juntos_enrolled);
  w.centres.add(col::centre_hw_active);
  // The household economy's columns that several modules share (models/economy.hpp).
  h.add(col::debt_pen);
  h.add(col::investment_pen);
  h.add(col::borrowed_pen);
  h.add(col::tech_profit_pen);
  h.add(col::herd);
  h.add(col::market_orientation);
  h.add(col::time_burden);
  h.add(col::livestock_sales_pen);
  h.add(col::livestock_own_pen);
  h.add(col::livestock_products_pen);
}

}  // namespace chacra::models
