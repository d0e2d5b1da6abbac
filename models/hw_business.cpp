// File: models/hw_business.cpp
// Group formation, CLAR selection and local-market competition rules of Haku Winay's business component.
#include "models/hw_business.hpp"

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

}  // namespace chacra::models
