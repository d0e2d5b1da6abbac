// The livestock module's rules as plain code, one household at a time: each species' carrying capacity, the
// poverty trap's share (how far below the asset threshold a household is), and one month of a herd (disease,
// births, what is kept, eaten, sold, products, distress sales); and beside them the driver the phase runs on
// several households at once in float lanes (herd_month_of, models/lanes.hpp), which a test checks against the
// plain rules bit for bit. Formulas: models/livestock.hpp.
#pragma once

#include "models/economy.hpp"
#include "models/lanes.hpp"
#include "models/livestock.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <type_traits>

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
  unsigned productive = 0;  // the technologies whose productive_upfront is not zero (bit t)

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
    for (int t = 0; t < kTechCount; ++t) {
      productive_upfront[t] = Livestock::kProductive[t] ? static_cast<float>(p.upfront_pen[t]) : 0.0f;
      if (productive_upfront[t] != 0.0f) productive |= 1u << t;
    }
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

// ---- The phase's driver: several households at once ----

// A constant as V: the float itself, or the same value in every lane.
template <class V>
inline V splat_as(float x) {
  if constexpr (std::is_same_v<V, float>) {
    return x;
  } else {
    return lanes::splat(x);
  }
}

// HerdInputs for one household (V = float, M = unsigned) or lanes::kLanes households (V = lanes::vf, M =
// lanes::vi), with the poverty trap's input `adopted` (technology bit masks), read only when the trap is on.
template <class V, class M>
struct HerdLanes {
  std::array<V, kSpeciesCount> herd{};
  V land_ha{}, pasture_ha{}, stocking{}, climate_keep{}, disease_u{}, cash{}, distress_need{};
  M shed{}, adopted{};
};

template <class V>
struct HerdLanesMonth {
  std::array<V, kSpeciesCount> herd{};
  V sales_pen{}, own_pen{}, products_pen{}, distress_pen{};
  V trap{};         // trap_share (+0.0 with the trap off)
  V return_factor{};  // 1 - (1 - low_return) * trap: the asset_return_factor of the month
  V buy{};          // breeding stock to buy (heads; +0.0 where none or in a month of distress sales)
};

// The herds of consecutive households (rows of kSpeciesCount floats) as one value per species: for four
// households, their twelve floats in three loads and eight shuffles (g0 s0 c0 g1 | s1 c1 g2 s2 | c2 g3 s3 c3 to
// g0-g3, s0-s3, c0-c3), where lane-by-lane scalar loads and stores through the stack took twenty-four and stalled the
// vector loads that read them back; and the inverse.
static_assert(kSpeciesCount == 3, "four herds are twelve floats, three vectors");
inline std::array<float, kSpeciesCount> herd_columns(const float* rows, float) { return {rows[0], rows[1], rows[2]}; }
inline void store_herd_columns(float* rows, const std::array<float, kSpeciesCount>& v) {
  for (int s = 0; s < kSpeciesCount; ++s) rows[s] = v[static_cast<std::size_t>(s)];
}
inline std::array<lanes::vf, kSpeciesCount> herd_columns(const float* rows, lanes::vf) {
#if defined(CHACRA_LANES_SSE)
  const __m128 a = _mm_loadu_ps(rows), b = _mm_loadu_ps(rows + 4), c = _mm_loadu_ps(rows + 8);
  const __m128 g = _mm_shuffle_ps(a, _mm_shuffle_ps(b, c, _MM_SHUFFLE(1, 1, 2, 2)), _MM_SHUFFLE(2, 0, 3, 0));
  const __m128 s = _mm_shuffle_ps(_mm_shuffle_ps(a, b, _MM_SHUFFLE(0, 0, 1, 1)),
                                  _mm_shuffle_ps(b, c, _MM_SHUFFLE(2, 2, 3, 3)), _MM_SHUFFLE(2, 0, 2, 0));
  const __m128 k = _mm_shuffle_ps(_mm_shuffle_ps(a, b, _MM_SHUFFLE(1, 1, 2, 2)),
                                  _mm_shuffle_ps(c, c, _MM_SHUFFLE(3, 3, 0, 0)), _MM_SHUFFLE(2, 0, 2, 0));
  return {g, s, k};
#else
  std::array<lanes::vf, kSpeciesCount> v;
  for (int s = 0; s < kSpeciesCount; ++s)
    for (int j = 0; j < lanes::kLanes; ++j) v[static_cast<std::size_t>(s)][j] = rows[kSpeciesCount * j + s];
  return v;
#endif
}
inline void store_herd_columns(float* rows, const std::array<lanes::vf, kSpeciesCount>& v) {
#if defined(CHACRA_LANES_SSE)
  const __m128 g = v[0], s = v[1], k = v[2];
  const __m128 a = _mm_shuffle_ps(_mm_shuffle_ps(g, s, _MM_SHUFFLE(0, 0, 0, 0)),
                                  _mm_shuffle_ps(k, g, _MM_SHUFFLE(1, 1, 0, 0)), _MM_SHUFFLE(2, 0, 2, 0));
  const __m128 b = _mm_shuffle_ps(_mm_shuffle_ps(s, k, _MM_SHUFFLE(1, 1, 1, 1)),
                                  _mm_shuffle_ps(g, s, _MM_SHUFFLE(2, 2, 2, 2)), _MM_SHUFFLE(2, 0, 2, 0));
  const __m128 c = _mm_shuffle_ps(_mm_shuffle_ps(k, g, _MM_SHUFFLE(3, 3, 2, 2)),
                                  _mm_shuffle_ps(s, k, _MM_SHUFFLE(3, 3, 3, 3)), _MM_SHUFFLE(2, 0, 2, 0));
  _mm_storeu_ps(rows, a);
  _mm_storeu_ps(rows + 4, b);
  _mm_storeu_ps(rows + 8, c);
#else
  for (int s = 0; s < kSpeciesCount; ++s)
    for (int j = 0; j < lanes::kLanes; ++j) rows[kSpeciesCount * j + s] = v[static_cast<std::size_t>(s)][j];
#endif
}

// Whether some lane of x is above zero (x > 0 for one household): a group's rare branches (distress sales,
// breeding stock) are skipped where no lane takes them, since their selects then keep every lane's value.
inline bool any_positive(float x) { return x > 0.0f; }
inline bool any_positive(lanes::vf x) {
#if defined(CHACRA_LANES_SSE)
  return _mm_movemask_ps(_mm_cmpgt_ps(x, _mm_setzero_ps())) != 0;
#else
  bool any = false;
  for (int j = 0; j < lanes::kLanes; ++j) any |= x[j] > 0.0f;
  return any;
#endif
}

// The fast driver of the phase's rules (productive_assets, trap_share, herd_month, breeding_stock_to_buy): the
// same IEEE operations in the same order per lane (exp once per lane, std::exp), every branch of the plain rule a
// select, so each household gets the plain rule's bits (test LivestockRules.LanesMatchThePlainRules). A herd's
// month has few branches that a household's state steers (disease, distress sales, a shed, sown pasture), and
// each of them was a mispredicted jump in the plain code.
template <class V, class M>
[[gnu::always_inline]] inline HerdLanesMonth<V> herd_month_of(const LivestockConstants& k, const HerdLanes<V, M>& h) {
  using lanes::keep;
  using lanes::max_of;
  using lanes::min_of;
  using lanes::select;
  HerdLanesMonth<V> out;
  const V zero{}, one = splat_as<V>(1.0f);
  V trap{};
  if (k.trap) {
    V assets{};  // productive_assets: the herd's value, then each productive technology adopted, in index order
    for (int s = 0; s < kSpeciesCount; ++s) assets += h.herd[s] * k.price[s];
    // Every technology with an up-front value, whoever adopted it (the same set all month, so no branch
    // mispredicts): a household that has not adopted t adds +0.0 to a sum that is not -0.0, as the plain rule's
    // skipped term does; technologies with no up-front value would add +0.0 too and are skipped.
    lanes::for_each_bit<kTechCount>(k.productive, [&](auto t) {
      assets += keep(lanes::has_bit(h.adopted, t), k.productive_upfront[t]);
    });
    const V x = (assets - k.threshold) * k.inv_width;
    V e;
    if constexpr (std::is_same_v<V, float>) {
      e = std::exp(x);
    } else {
      for (int j = 0; j < lanes::kLanes; ++j) e[j] = std::exp(x[j]);
    }
    trap = 1.0f / (1.0f + e);
  }
  out.trap = trap;
  const V ret = 1.0f - (1.0f - k.low_return) * trap;
  out.return_factor = ret;
  V cash_short = max_of(0.0f, h.distress_need - h.cash);
  const V sown = select(h.pasture_ha > 0.0f, one, zero);
  for (int s = 0; s < kSpeciesCount; ++s) {
    V n = h.herd[s];
    if (s == kGuineaPigs) n = select(h.disease_u < k.disease_prob, n * k.disease_keep, n);
    const V cap = (k.per_household[s] + k.per_ha[s] * h.land_ha) * h.stocking + k.per_pasture_ha[s] * h.pasture_ha +
                  select(h.shed, splat_as<V>(k.shed[s]), zero);
    const V target = cap * (1.0f - trap);
    const V births = k.birth[s] * n * ret * (k.pasture_fed[s] ? h.climate_keep : one);
    const V kept = min_of(births, max_of(0.0f, target - n));
    const V increase_out = births - kept;
    n += kept;
    const V above_capacity = max_of(0.0f, n - cap);
    const V destocked = above_capacity + k.destock * trap * max_of(0.0f, min_of(n, cap) - target);
    n -= destocked;
    const V out_heads = increase_out + destocked;
    const V eaten = min_of(k.ration[s], out_heads);
    out.own_pen += eaten * k.price[s];
    out.sales_pen += (out_heads - eaten) * k.price[s];
    out.products_pen += n * (k.product[s] + sown * (k.product_pasture[s] - k.product[s])) * ret;
    out.herd[s] = n;
  }
  // Distress sales, small stock first, in the lanes still short of cash (the plain rule's loop stops there); none
  // where no lane is short (most groups of most months).
  for (int s = 0; s < kSpeciesCount && any_positive(cash_short); ++s) {
    const float unit = k.price[s] * k.distress_keep;
    if (!(unit > 0.0f)) continue;
    const auto short_of_cash = cash_short > 0.0f;
    const V heads = min_of(out.herd[s], cash_short / unit);
    out.herd[s] = select(short_of_cash, out.herd[s] - heads, out.herd[s]);
    out.distress_pen = select(short_of_cash, out.distress_pen + heads * unit, out.distress_pen);
    cash_short = select(short_of_cash, cash_short - heads * unit, cash_short);
  }
  out.sales_pen += out.distress_pen;
  // Breeding stock for a shed (not in a month of distress sales).
  out.buy = select(out.distress_pen > 0.0f, zero,
                   select(h.shed, max_of(0.0f, k.breeding_stock - out.herd[kGuineaPigs]), zero));
  return out;
}

}  // namespace chacra::models
