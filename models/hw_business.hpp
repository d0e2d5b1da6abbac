// File: models/hw_business.hpp
// Haku Winay component 3 (year 2: business groups and the CLAR competition) as pure functions: how participants split into business
// groups of 3-5, how the local committee (CLAR) funds the best plans within its budget, and how a
// business's returns and survival fall with the number of similar businesses in its local market.
// The module (models/haku_winay.cpp) owns the groups and businesses; these functions hold the rules.
#pragma once

#include "sim/params.hpp"
#include "sim/table.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace chacra::models {

// Business lines of the HW competitions (World Bank Haku Winay case study); 0 is "no business" in the panel.
enum class BusinessType : std::uint8_t {
  none = 0,
  guinea_pigs = 1,  // guinea-pig and small-animal rearing for sale
  dairy,
  bakery_food,
  textiles_crafts,
  rural_tourism,
  fish_farming,
  cattle_fattening,
};
inline constexpr int kBusinessTypeCount = 7;  // excluding none
inline constexpr std::array<const char*, kBusinessTypeCount> kBusinessTypeNames = {
    "guinea_pigs", "dairy", "bakery_food", "textiles_crafts", "rural_tourism", "fish_farming", "cattle_fattening"};
// Index 0..6 of a business type (none excluded).
constexpr int business_index(BusinessType t) { return static_cast<int>(t) - 1; }

// The column business_type as codes: none, then the business lines.
inline constexpr Code kBusinessTypeCodes[] = {{static_cast<int>(BusinessType::none), "none"},
                                              {static_cast<int>(BusinessType::guinea_pigs), kBusinessTypeNames[0]},
                                              {static_cast<int>(BusinessType::dairy), kBusinessTypeNames[1]},
                                              {static_cast<int>(BusinessType::bakery_food), kBusinessTypeNames[2]},
                                              {static_cast<int>(BusinessType::textiles_crafts), kBusinessTypeNames[3]},
                                              {static_cast<int>(BusinessType::rural_tourism), kBusinessTypeNames[4]},
                                              {static_cast<int>(BusinessType::fish_farming), kBusinessTypeNames[5]},
                                              {static_cast<int>(BusinessType::cattle_fattening), kBusinessTypeNames[6]}};

enum class BusinessStatus : std::uint8_t { none = 0, active = 1, failed = 2 };
inline constexpr Code kBusinessStatusCodes[] = {{static_cast<int>(BusinessStatus::none), "none"},
                                                {static_cast<int>(BusinessStatus::active), "active"},
                                                {static_cast<int>(BusinessStatus::failed), "failed"}};

inline constexpr int kMinGroupSize = 3;
inline constexpr int kMaxGroupSize = 5;

// Sizes of the groups that `n` households form when groups hold 3-5 members and average about
// `mean_size`: k = round(n / mean_size) groups clamped to [ceil(n/5), floor(n/3)], sizes differing by at most
// one (larger first). Empty for n < 3. The sizes sum to n.
std::vector<int> partition_group_sizes(int n, double mean_size);

// The committee's decision: plans ranked by score (ties: lower index first) are funded in order while
// their prize fits in the remaining budget and their score reaches `min_score`; the first plan that does
// not fit stops the funding, so a better plan never loses to a worse one. Returns 1 for funded plans.
std::vector<std::uint8_t> clar_select(std::span<const double> scores, std::span<const double> prizes,
                                      double budget, double min_score);

// Share of a lone business's returns that each of `n_same` businesses of one type in one local market
// earns: 1 / (1 + crowding * (n_same - 1)). Decreasing in n_same when crowding > 0; 1 for n_same <= 1.
double market_competition_factor(int n_same, double crowding);

// Monthly failure probability of a business: the annual rate as a monthly hazard, raised by crowding
// (divided by the competition factor) and lowered by `support_reduction` while the business receives
// the programme's technical support (year 3); capped at 1.
double monthly_failure_hazard(double annual_rate, int n_same, double crowding, bool supported,
                              double support_reduction);

// Survival of businesses from their profit (economy.persistence.enabled) and the start-up of baseline non-farm
// businesses: parameters shared by the baseline business (the adoption phase) and Haku Winay's businesses.
struct BusinessParams {
  double startup_pen = 2500.0;              // business.startup_pen
  double start_hazard = 0.0002;             // business.start_hazard (a month, households without one)
  double time_share = 0.3;                  // business.time_share (of an adult's working time)
  int loss_months = 6;                      // business.loss_months
  double background_exit_rate_year = 0.02;  // business.background_exit_rate_year
  // Borrowed: the switches, the memory of expected profit, and the wage and business profit of the livelihood module.
  bool persistence = false;
  bool liquidity = false;
  double profit_memory = 1.0 / 12.0;  // persistence.profit_memory (Adoption)
  double wage_month_pen = 550.0;
  double wage_employment_rate = 0.24;
  double market_wage_slope = 0.8;
  double business_profit_pen = 180.0;

  template <class V> void describe(V& v);
  static BusinessParams from(const ParamSet& params);
  static void register_params(Registry& registry);
  // An owner's outside option (PEN a month): the off-farm earnings of the business's share of an adult's time
  // in a district of this market dynamism (the livelihood module's wage rule for one adult).
  float outside_option(float market_dynamism) const {
    const double wage_factor = std::max(0.0, 1.0 + market_wage_slope * (market_dynamism - 0.5));
    return static_cast<float>(time_share * wage_month_pen * wage_employment_rate * wage_factor);
  }
};

// The exit rule of a business (baseline or Haku Winay) in a month, from its profit this month.
struct BusinessBook {
  float expected_profit;  // exponential average of monthly profit (per owner household)
  int loss_months;        // consecutive months with expected profit below the outside option
};
// Updates the average with weight `memory`; counts a month of loss when it is below `outside_option`; the
// business exits when that count reaches `loss_months` (returned true).
// Inline: the adoption phase runs it for every household of a month (owner_month, models/adoption_rules.hpp).
inline bool business_month(BusinessBook& b, float profit, float memory, float outside_option, int loss_months) {
  b.expected_profit += memory * (profit - b.expected_profit);
  b.loss_months = b.expected_profit < outside_option ? b.loss_months + 1 : 0;
  return b.loss_months >= loss_months;
}

}  // namespace chacra::models
