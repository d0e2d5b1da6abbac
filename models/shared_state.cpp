// Creates the columns that programme modules write and livelihoods modules read (see shared_state.hpp).
#include "models/shared_state.hpp"

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
}

}  // namespace chacra::models
