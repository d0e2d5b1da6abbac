// File: models/asset_prices.hpp
// What a household's animals and technologies are worth (2017 PEN): the price of a head of each species and
// the up-front cost of each technology, as parameters that other modules borrow (Juntos's proxy-means test
// values what a household owns with them).
//
// Their owners are the livestock module (livestock.<species>.price_pen) and the adoption module
// (adoption.<tech>.upfront_pen), which the persistence and liquidity channels add on another branch. Until
// those declarations are on this branch they are declared here, with the same names, defaults and sources;
// when they are, this file and its line in models/registry.cpp go (a name declared twice stops the registry).
#pragma once

#include "models/economy.hpp"
#include "sim/param_spec.hpp"

#include <array>

namespace chacra::models {

struct AssetPrices {
  std::array<double, kSpeciesCount> animal_price_pen = {20.0, 180.0, 1800.0};
  std::array<double, kTechCount> upfront_pen = {250.0, 100.0, 0.0, 1200.0, 600.0, 800.0, 200.0, 400.0, 300.0, 80.0};

  template <class V> void describe(V& v);
  static void register_params(Registry& registry);
};

}  // namespace chacra::models
