// File: models/hw_business.cpp
// Group formation, CLAR selection and local-market competition rules of Haku Winay's business component.
#include "models/hw_business.hpp"

#include "sim/param_spec.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace chacra::models {

std::vector<int> partition_group_sizes(int n, double mean_size) {
  std::vector<int> sizes;
  if (n < kMinGroupSize) return sizes;
  const int k_min = (n + kMaxGroupSize - 1) / kMaxGroupSize;
  const int k_max = n / kMinGroupSize;
  const double mean = std::clamp(mean_size, double{kMinGroupSize}, double{kMaxGroupSize});
  const int k = std::clamp(static_cast<int>(std::lround(n / mean)), k_min, k_max);
  const int base = n / k, extra = n % k;
  sizes.assign(static_cast<std::size_t>(k), base);
  for (int g = 0; g < extra; ++g) ++sizes[static_cast<std::size_t>(g)];
  return sizes;
}

std::vector<std::uint8_t> clar_select(std::span<const double> scores, std::span<const double> prizes,
                                      double budget, double min_score) {
  const std::size_t n = scores.size();
  std::vector<std::uint8_t> funded(n, 0);
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  double left = budget;
  for (std::size_t g : order) {
    if (scores[g] < min_score) break;
    const double prize = g < prizes.size() ? prizes[g] : 0.0;
    if (prize > left + 1e-9) break;
    funded[g] = 1;
    left -= prize;
  }
  return funded;
}

double market_competition_factor(int n_same, double crowding) {
  if (n_same <= 1) return 1.0;
  return 1.0 / (1.0 + std::max(0.0, crowding) * (n_same - 1));
}

double monthly_failure_hazard(double annual_rate, int n_same, double crowding, bool supported,
                              double support_reduction) {
  const double a = std::clamp(annual_rate, 0.0, 1.0);
  double h = 1.0 - std::pow(1.0 - a, 1.0 / 12.0);
  h /= market_competition_factor(n_same, crowding);
  if (supported) h *= 1.0 - std::clamp(support_reduction, 0.0, 1.0);
  return std::clamp(h, 0.0, 1.0);
}

template <class V>
void BusinessParams::describe(V& v) {
  v.real("business.startup_pen", startup_pen, {0, 1e7}, "PEN 2017",
         "Up-front cost of starting a baseline non-farm business (stock, tools, a stall), financed from cash above "
         "the reserve or credit (economy.liquidity.enabled)",
         "Assumption (prior range 1,000-5,000); de Mel, McKenzie and Woodruff (2008) for the scale of "
         "microenterprise capital");
  v.real("business.start_hazard", start_hazard, {0, 1}, "probability per month",
         "Monthly chance that a household without a baseline business wants to start one "
         "(economy.persistence.enabled), set so that the baseline share is about stationary given the exits",
         "Calibration assumption: about 0.12 of households run a business and 2% of them exit a year for other "
         "reasons than profit; 0.0002 keeps the no-programme business income stationary over ten years");
  v.real("business.time_share", time_share, {0, 10}, "adults",
         "Share of an adult's working time a business takes; its owners' outside option is the off-farm earnings "
         "of that time",
         "Assumption (prior range 0.2-0.5)");
  v.integer("business.loss_months", loss_months, {1, 600}, "months",
            "A business exits after this many consecutive months with expected profit below its owners' outside "
            "option (economy.persistence.enabled)",
            "Assumption (prior range 3-12)");
  v.real("business.background_exit_rate_year", background_exit_rate_year, {0, 1}, "probability per year",
         "Exits whatever the profit (death, migration); replaces haku_winay.business_failure_rate_year when "
         "economy.persistence.enabled is on (the crowding factor still raises it)",
         "Assumption");
  v.borrow("economy.persistence.enabled", persistence);
  v.borrow("economy.liquidity.enabled", liquidity);
  v.borrow("persistence.profit_memory", profit_memory);
  v.borrow("livelihood.wage_month_pen", wage_month_pen);
  v.borrow("livelihood.wage_employment_rate", wage_employment_rate);
  v.borrow("livelihood.market_wage_slope", market_wage_slope);
  v.borrow("livelihood.business_profit_pen", business_profit_pen);
}

BusinessParams BusinessParams::from(const ParamSet& params) { return read_params<BusinessParams>(params); }

void BusinessParams::register_params(Registry& registry) { declare_params<BusinessParams>(registry); }

}  // namespace chacra::models
