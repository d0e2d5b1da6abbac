// The livestock module's rules as plain code, one household at a time: each species' carrying capacity, the
// poverty trap's share (how far below the asset threshold a household is), and one month of a herd (disease,
// births, what is kept, eaten, sold, products, distress sales). The phase runs these functions as they are
// (a herd's month has too many branches to gain from lanes, and most of its cost is the memory it touches).
// Formulas: models/livestock.hpp.
#pragma once

#include "models/economy.hpp"
#include "models/livestock.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace chacra::models {

constexpr int kGuineaPigs = 0, kSheep = 1, kCattle = 2;

// The rule's constants, in float, from the parameters.
struct LivestockConstants {
  std::array<float, kSpeciesCount> price{}, birth{}, ration{}, per_household{}, per_ha{}, per_pasture_ha{},
      shed{}, product{}, product_pasture{};
  std::array<bool, kSpeciesCount> pasture_fed{};
  float disease_prob = 0, disease_keep = 1, distress_keep = 1, amazon = 1, wealth_slope = 0;
  float breeding_stock = 0;
  // The poverty trap (zero share when off).
  bool trap = false;
  float threshold = 0, inv_width = 0, low_return = 1, destock = 0;
  std::array<float, kTechCount> productive_upfront{};  // up-front value of each productive technology

  LivestockConstants(const LivestockParams& p, bool trap_on) {
    for (int s = 0; s < kSpeciesCount; ++s) {
      const SpeciesParams& q = p.species[static_cast<std::size_t>(s)];
      price[s] = static_cast<float>(q.price_pen);
      birth[s] = static_cast<float>(q.birth_rate);
      ration[s] = static_cast<float>(q.eaten_per_month);
      per_household[s] = static_cast<float>(q.capacity_per_household);
      per_ha[s] = static_cast<float>(q.capacity_per_ha);
      per_pasture_ha[s] = static_cast<float>(q.capacity_per_pasture_ha);
      shed[s] = static_cast<float>(q.capacity_shed);
      product[s] = static_cast<float>(q.product_pen);
      product_pasture[s] = static_cast<float>(q.product_pasture_pen);
      pasture_fed[s] = s != kGuineaPigs;
    }
    disease_prob = static_cast<float>(p.disease_prob);
    disease_keep = static_cast<float>(1.0 - p.disease_loss);
    distress_keep = static_cast<float>(1.0 - p.distress_discount);
    amazon = static_cast<float>(p.amazon_capacity_factor);
    wealth_slope = static_cast<float>(p.stocking_wealth_slope);
    breeding_stock = static_cast<float>(p.shed_breeding_stock);
    trap = trap_on;
    threshold = static_cast<float>(p.trap.asset_threshold_pen);
    inv_width = p.trap.width_pen > 0 ? static_cast<float>(1.0 / p.trap.width_pen) : 0.0f;
    low_return = static_cast<float>(p.trap.low_return_factor);
    destock = static_cast<float>(p.trap.destock_rate);
    for (int t = 0; t < kTechCount; ++t)
      productive_upfront[t] = Livestock::kProductive[t] ? static_cast<float>(p.upfront_pen[t]) : 0.0f;
  }
};

// Stocking rate of a household: how many animals its land carries relative to the average, higher for
// wealthier households (better pasture, more family labour for herding) and lower in the Amazon.
inline float stocking_rate(const LivestockConstants& k, float wealth_index, bool amazon) {
  return std::clamp(1.0f + k.wealth_slope * wealth_index, 0.2f, 3.0f) * (amazon ? k.amazon : 1.0f);
}

// Carrying capacity of species s (heads): a fixed number per household (guinea pigs in the kitchen), per
// hectare of land at the household's stocking rate, per hectare of cultivated pasture, and with a shed.
inline float capacity(const LivestockConstants& k, int s, float land_ha, float pasture_ha, bool shed, float stocking) {
  return (k.per_household[s] + k.per_ha[s] * land_ha) * stocking + k.per_pasture_ha[s] * pasture_ha +
         (shed ? k.shed[s] : 0.0f);
}

// Productive assets (PEN 2017): the herd's value and the up-front value of the productive technologies adopted.
inline float productive_assets(const LivestockConstants& k, const float* herd, unsigned adopted) {
  float a = 0.0f;
  for (int s = 0; s < kSpeciesCount; ++s) a += herd[s] * k.price[s];
  for (int t = 0; t < kTechCount; ++t)
    if (((adopted >> t) & 1u) != 0) a += k.productive_upfront[t];
  return a;
}

// The poverty trap's share: 0 far above the asset threshold, 1 far below (a logistic of the given width);
// always 0 when the trap is off.
inline float trap_share(const LivestockConstants& k, float assets) {
  if (!k.trap) return 0.0f;
  return 1.0f / (1.0f + std::exp((assets - k.threshold) * k.inv_width));
}

// What one household's herd does in a month.
struct HerdInputs {
  std::array<float, kSpeciesCount> herd{};  // heads at the start of the month
  float land_ha = 0, pasture_ha = 0, stocking = 1;
  bool shed = false;        // small_animal_shed adopted
  float climate_keep = 1;   // share of pasture-fed births kept after the district's climate shock
  float disease_u = 1;      // uniform of the month's guinea-pig disease draw
  float cash = 0;           // cash on hand: savings at the start of the month and the month's expected income
  float distress_need = 0;  // cash below which the household sells animals to eat
  float trap = 0;           // trap_share of its productive assets
};

struct HerdMonth {
  std::array<float, kSpeciesCount> herd{};  // heads at the end of the month
  float sales_pen = 0;     // money from animals sold (increase, surplus, destocking, distress sales)
  float own_pen = 0;       // value of animals eaten at home
  float products_pen = 0;  // milk and wool
  float distress_pen = 0;  // the part of sales_pen from distress sales (at the discounted price)
};

// One month: guinea-pig disease; births (net of natural deaths; pasture-fed species lose the climate shock's
// share; fewer below the trap's threshold); the increase is kept up to the target herd (the capacity, or less
// below the trap's threshold), the rest eaten up to the household's ration and sold; a herd above capacity is
// sold down to it (and below the threshold destocked towards the target); products from the herd kept;
// finally, a household short of cash sells animals at a discount, small stock first, until its cash reaches
// the need.
inline HerdMonth herd_month(const LivestockConstants& k, const HerdInputs& h) {
  HerdMonth out;
  const float ret = 1.0f - (1.0f - k.low_return) * h.trap;
  float cash_short = std::max(0.0f, h.distress_need - h.cash);
  // Sown pasture's products as a weight (households with and without pasture are mixed at random).
  const float sown = h.pasture_ha > 0.0f ? 1.0f : 0.0f;
  for (int s = 0; s < kSpeciesCount; ++s) {
    float n = h.herd[s];
    if (s == kGuineaPigs) n = h.disease_u < k.disease_prob ? n * k.disease_keep : n;
    const float cap = capacity(k, s, h.land_ha, h.pasture_ha, h.shed, h.stocking);
    const float target = cap * (1.0f - h.trap);
    const float births = k.birth[s] * n * ret * (k.pasture_fed[s] ? h.climate_keep : 1.0f);
    const float kept = std::min(births, std::max(0.0f, target - n));
    const float increase_out = births - kept;
    n += kept;
    const float above_capacity = std::max(0.0f, n - cap);
    const float destocked = above_capacity + k.destock * h.trap * std::max(0.0f, std::min(n, cap) - target);
    n -= destocked;
    const float out_heads = increase_out + destocked;
    const float eaten = std::min(k.ration[s], out_heads);
    out.own_pen += eaten * k.price[s];
    out.sales_pen += (out_heads - eaten) * k.price[s];
    out.products_pen += n * (k.product[s] + sown * (k.product_pasture[s] - k.product[s])) * ret;
    out.herd[s] = n;
  }
  for (int s = 0; s < kSpeciesCount && cash_short > 0.0f; ++s) {
    const float unit = k.price[s] * k.distress_keep;
    if (!(unit > 0.0f)) continue;
    const float heads = std::min(out.herd[s], cash_short / unit);
    out.herd[s] -= heads;
    out.distress_pen += heads * unit;
    cash_short -= heads * unit;
  }
  out.sales_pen += out.distress_pen;
  return out;
}

// The monthly output value (PEN 2017, before running costs and labour) that the herd owes to the small-animal
// shed and to cultivated pasture, for the income phase's tech_profit_pen: the increase (births at full returns)
// and products of the animals the household keeps above what its land alone would carry, plus the milk premium
// of sown pasture on every cow. `herd`: heads at the end of the month.
struct HerdTechValue {
  float shed_pen = 0, pasture_pen = 0;
};
inline HerdTechValue herd_tech_value(const LivestockConstants& k, const float* herd, float land_ha, float pasture_ha,
                                     bool shed, float stocking) {
  HerdTechValue v;
  const auto above = [&](int s, bool with_shed, float pasture) {
    return std::max(0.0f, herd[s] - capacity(k, s, land_ha, pasture, with_shed, stocking));
  };
  if (shed) {
    const float extra = above(kGuineaPigs, false, pasture_ha);
    v.shed_pen = extra * (k.birth[kGuineaPigs] * k.price[kGuineaPigs] + k.product[kGuineaPigs]);
  }
  if (pasture_ha > 0.0f) {
    for (int s = kSheep; s <= kCattle; ++s) {
      const float extra = above(s, shed, 0.0f);
      v.pasture_pen += extra * (k.birth[s] * k.price[s] + k.product[s]) +
                       herd[s] * (k.product_pasture[s] - k.product[s]);
    }
  }
  return v;
}

// Guinea pigs a shed adopter buys to stock the shed (heads; 0 when the herd already has them).
inline float breeding_stock_to_buy(const LivestockConstants& k, float guinea_pigs, bool shed) {
  return shed ? std::max(0.0f, k.breeding_stock - guinea_pigs) : 0.0f;
}

}  // namespace chacra::models
