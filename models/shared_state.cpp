// Creates the columns that programme modules write and livelihoods modules read (see shared_state.hpp).
#include "models/shared_state.hpp"

namespace chacra::models {

void add_shared_columns(World& w) {
  auto& h = w.households;
  ColumnInfo push;
  push.name = col::adoption_push;
  push.unit = "probability per month";
  push.description = "Extra monthly adoption hazard from programme exposure this month, per technology";
  push.width = kTechCount;
  push.labels.assign(kTechNames.begin(), kTechNames.end());
  h.add<float>(push);
  ColumnInfo asset;
  asset.name = col::asset_delivered;
  asset.unit = "0/1";
  asset.description = "Programme asset for the technology delivered to the household (persists)";
  asset.width = kTechCount;
  asset.labels.assign(kTechNames.begin(), kTechNames.end());
  asset.panel = false;
  h.add<std::uint8_t>(asset);
  h.add<std::uint8_t>(col::support_active, "0/1", "Household under Haku Winay support this month", 1, false);
  h.add<float>(col::juntos_transfer_pen, "PEN", "Juntos transfer paid to the household", 1, true,
               PeriodAggregation::sum);
  h.add<float>(col::business_profit_pen, "PEN", "Profit of the household's share in an HW business", 1, false,
               PeriodAggregation::sum);
  h.add<float>(col::saving_boost, "share of income", "Increase in saving rate from financial education", 1,
               false);
  h.add<std::uint8_t>(col::juntos_enrolled, "0/1", "Household affiliated to Juntos (enrolled or suspended)", 1,
                      true);
  w.centres.add<std::uint8_t>(col::centre_hw_active, "0/1", "Haku Winay operating in the centre this month");
}

}  // namespace chacra::models
