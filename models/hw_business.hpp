// File: models/hw_business.hpp
// Haku Winay component 3 (year 2: business groups and the CLAR competition) as pure functions: how participants split into business
// groups of 3-5, how the local committee (CLAR) funds the best plans within its budget, and how a
// business's returns and survival fall with the number of similar businesses in its local market.
// The module (models/haku_winay.cpp) owns the groups and businesses; these functions hold the rules.
#pragma once

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

enum class BusinessStatus : std::uint8_t { none = 0, active = 1, failed = 2 };

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

}  // namespace chacra::models
