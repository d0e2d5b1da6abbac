// File: models/asset_prices.cpp
// The prices of animals and the up-front costs of technologies (see asset_prices.hpp).
#include "models/asset_prices.hpp"

#include <string>

namespace chacra::models {

namespace {

// What each technology's up-front cost pays for (in its parameter's description).
constexpr std::array<const char*, kTechCount> kUpfrontItems = {
    "fencing, seed and tools", "a compost bin and tools", "nothing: it uses the household's own preparation",
    "kit, hoses and a small reservoir", "seed and soil preparation", "the shed (breeding stock is bought apart)",
    "certified seed", "the stove", "tank, pipes and filter", "digging and a cover"};

}  // namespace

template <class V>
void AssetPrices::describe(V& v) {
  for (int s = 0; s < kSpeciesCount; ++s) {
    const std::string name = kSpeciesNames[static_cast<std::size_t>(s)];
    v.real("livestock." + name + ".price_pen", animal_price_pen[static_cast<std::size_t>(s)], {0, 1e6},
           "PEN 2017 per head", "Price of one head of " + name + " (sales, purchases and the value of animals eaten)",
           "Assumption from rural market prices (PEN 2017): guinea pig 20, sheep 180, cattle 1,800 (prior range "
           "+-50%)");
  }
  for (int t = 0; t < kTechCount; ++t) {
    const std::string name = kTechNames[static_cast<std::size_t>(t)];
    v.real("adoption." + name + ".upfront_pen", upfront_pen[static_cast<std::size_t>(t)], {0, 1e6}, "PEN 2017",
           "One-off cost of adopting " + name + " (" + kUpfrontItems[static_cast<std::size_t>(t)] + ")",
           "Assumption; the ten sum to about PEN 4,000, within Haku Winay's asset spending per household (PEN "
           "3,500-6,200 over three years, World Bank economic inclusion case study)");
  }
}

void AssetPrices::register_params(Registry& registry) { declare_params<AssetPrices>(registry); }

}  // namespace chacra::models
