// The adoption module's rule as plain code: the monthly hazards of adopting and of dropping a technology
// (adoption_hazard, drop_hazard) and one household's month (adopt_or_drop: every technology's hazard against
// its uniform), beside the fast driver that the phase runs (screen each household against an upper bound of
// its hazards, then update_candidates computes the exact hazards only where the draw falls under the bound).
// A test checks that the driver and the plain rule give the same states on random households, so the rule
// an economist audits is the one the model runs. Formulas: models/adoption.hpp.
#pragma once

#include "models/adoption.hpp"
#include "models/economy.hpp"
#include "models/row_ops.hpp"
#include "models/shared_state.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace chacra::models {

constexpr int kSprinkler = tech_index(Tech::sprinkler_irrigation);
constexpr int kPasture = tech_index(Tech::cultivated_pasture);
// Technologies that earn income (their drops follow profit when economy.persistence.enabled is on); the stove,
// safe water and the waste pit do not and keep their hazards.
constexpr unsigned kEarningTechs = (1u << tech_index(Tech::improved_stove)) - 1u;
// They come first in the menu: the expected profit of the others is never used.
constexpr int kEarningCount = std::countr_one(kEarningTechs);

// Twelve uniforms on (0, 1) with 21-bit resolution from one Philox block, u_k from bits 21 * (k % 3) of
// word k / 3. The resolution (5e-7) is far below the smallest hazards used (about 1e-3), so hazards are
// represented to 0.05%.
constexpr std::uint64_t kMask21 = (1u << 21) - 1;
inline float uniform21(const std::uint64_t* w, int k) {
  return (static_cast<float>((w[k / 3] >> (21 * (k % 3))) & kMask21) + 0.5f) * 0x1.0p-21f;
}

// The monthly screen of a household: technology t is a candidate (its exact hazard is computed) when its
// uniform falls under an upper bound of its hazard, the same float operations for every t as in scalar code:
// u_t < adopt[t] + push[t] * readopt_max where t is not adopted (its adoption hazard), u_t < drop[t] where it is
// (its drop hazard, which no push enters). A household without candidates has no event. `pushed`: some push entry
// is not +0.0 (the row needs a reset).
struct Screened {
  unsigned candidates;  // bit t
  bool pushed;
};
// The technologies a household has adopted (bit t), which choose the bound of each technology in the screen.
inline unsigned adopted_mask(const std::uint8_t* state) {
  return rows::tech_mask(state, static_cast<std::uint8_t>(TechState::adopted));
}
#if defined(CHACRA_ROWS_SSE2)
// On SSE2 the twelve 21-bit fields of a block are spread over three vectors of four int32 lanes in the
// order below (cheap to build from whole words); the bounds are kept in that order, the push row is
// shuffled into it, and the lane masks map back to technologies by table. Lanes without a technology (-1)
// are dropped.
constexpr std::array<int, 12> kLaneTech = {0, 1, 3, 4, 2, 6, 5, 9, 7, -1, 8, -1};
struct ScreenBounds {
  __m128 adopt[3], drop[3];
  ScreenBounds(const std::array<float, kTechCount>& adopt_bound, const std::array<float, kTechCount>& drop_bound) {
    float a[12], d[12];
    for (int l = 0; l < 12; ++l) {
      const int t = kLaneTech[static_cast<std::size_t>(l)];
      a[l] = t < 0 ? 0.0f : adopt_bound[static_cast<std::size_t>(t)];
      d[l] = t < 0 ? 0.0f : drop_bound[static_cast<std::size_t>(t)];
    }
    for (int j = 0; j < 3; ++j) {
      adopt[j] = _mm_loadu_ps(a + 4 * j);
      drop[j] = _mm_loadu_ps(d + 4 * j);
    }
  }
};
// Technology bits of each 4-bit lane mask of vector j.
constexpr std::array<std::array<std::uint16_t, 16>, 3> kLaneBits = [] {
  std::array<std::array<std::uint16_t, 16>, 3> t{};
  for (int j = 0; j < 3; ++j)
    for (unsigned m = 0; m < 16; ++m)
      for (int l = 0; l < 4; ++l)
        if ((m >> l & 1u) != 0 && kLaneTech[static_cast<std::size_t>(4 * j + l)] >= 0)
          t[static_cast<std::size_t>(j)][m] |= static_cast<std::uint16_t>(1u << kLaneTech[static_cast<std::size_t>(4 * j + l)]);
  return t;
}();
inline Screened screen(const std::uint64_t* w, const float* push, unsigned adopted, const ScreenBounds& b,
                       float readopt_max) {
  // Fields as int32 lanes: P = techs 0, 1, 3, 4; Q = 2, 6, 5, 9; R = 7, -, 8, - (kLaneTech).
  const __m128i mask = _mm_set1_epi64x(static_cast<long long>(kMask21));
  const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w));
  const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 2));
  const __m128i a0 = _mm_and_si128(a, mask), a1 = _mm_and_si128(_mm_srli_epi64(a, 21), mask);
  const __m128i a2 = _mm_and_si128(_mm_srli_epi64(a, 42), mask);
  const __m128i c0 = _mm_and_si128(c, mask), c1 = _mm_and_si128(_mm_srli_epi64(c, 21), mask);
  const __m128i c2 = _mm_and_si128(_mm_srli_epi64(c, 42), mask);
  const __m128i fields[3] = {_mm_or_si128(a0, _mm_slli_epi64(a1, 32)), _mm_or_si128(a2, _mm_slli_epi64(c0, 32)),
                             _mm_unpacklo_epi64(c1, c2)};
  // The push row in the same lane order (lanes without a technology get some push value; they are dropped).
  const __m128 t0 = _mm_loadu_ps(push), t1 = _mm_loadu_ps(push + 4);
  const __m128 t2 = _mm_castsi128_ps(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(push + 8)));
  const __m128 p34 = _mm_shuffle_ps(t0, t1, _MM_SHUFFLE(0, 0, 3, 3));
  const __m128 p26 = _mm_shuffle_ps(t0, t1, _MM_SHUFFLE(2, 2, 2, 2)), p59 = _mm_shuffle_ps(t1, t2, _MM_SHUFFLE(1, 1, 1, 1));
  const __m128 pushes[3] = {_mm_shuffle_ps(t0, p34, _MM_SHUFFLE(2, 0, 1, 0)), _mm_shuffle_ps(p26, p59, _MM_SHUFFLE(2, 0, 2, 0)),
                            _mm_shuffle_ps(t1, t2, _MM_SHUFFLE(3, 0, 3, 3))};
  const __m128 half = _mm_set1_ps(0.5f), scale = _mm_set1_ps(0x1.0p-21f), rmax = _mm_set1_ps(readopt_max);
  unsigned adopting = 0, dropping = 0;
  for (int j = 0; j < 3; ++j) {
    const __m128 u = _mm_mul_ps(_mm_add_ps(_mm_cvtepi32_ps(fields[j]), half), scale);  // exact, as uniform21
    const __m128 x = _mm_add_ps(b.adopt[j], _mm_mul_ps(pushes[j], rmax));
    adopting |= kLaneBits[static_cast<std::size_t>(j)][static_cast<unsigned>(_mm_movemask_ps(_mm_cmplt_ps(u, x)))];
    dropping |= kLaneBits[static_cast<std::size_t>(j)][static_cast<unsigned>(_mm_movemask_ps(_mm_cmplt_ps(u, b.drop[j])))];
  }
  const __m128i any = _mm_or_si128(_mm_or_si128(_mm_castps_si128(t0), _mm_castps_si128(t1)), _mm_castps_si128(t2));
  return {(adopting & ~adopted) | (dropping & adopted),
          _mm_movemask_epi8(_mm_cmpeq_epi32(any, _mm_setzero_si128())) != 0xFFFF};
}
#else
struct ScreenBounds {
  std::array<float, kTechCount> adopt, drop;
  ScreenBounds(const std::array<float, kTechCount>& adopt_bound, const std::array<float, kTechCount>& drop_bound)
      : adopt(adopt_bound), drop(drop_bound) {}
};
inline Screened screen(const std::uint64_t* w, const float* push, unsigned adopted, const ScreenBounds& b,
                       float readopt_max) {
  Screened s{0, false};
  for (int t = 0; t < kTechCount; ++t) {
    const auto k = static_cast<std::size_t>(t);
    const float bound = ((adopted >> t) & 1u) != 0 ? b.drop[k] : b.adopt[k] + push[t] * readopt_max;
    if (uniform21(w, t) < bound) s.candidates |= 1u << t;
    std::uint32_t bits;
    std::memcpy(&bits, push + t, 4);
    s.pushed |= bits != 0;
  }
  return s;
}
#endif

// The rule's constants, in float, from the parameters.
struct AdoptionConstants {
  std::array<float, kTechCount> base{}, drop_supported{}, drop_after{};
  // Liquidity: 1 / (cover months x upkeep), and 1 for a technology without upkeep (never constrained).
  std::array<float, kTechCount> inv_need{}, free{};
  std::array<float, kTechCount> drop_max{};  // the largest possible drop hazard (for the screen's bound)
  float readopt_max = 1, asset_factor = 1, liquidity_floor = 0, liquidity_drop = 0, readopt = 1;
  std::array<float, 3> labour_factor{};  // by working-age members 0, 1, 2 or more
  float pasture_min_land = 0, pasture_mean = 0, pasture_max_share = 0;
  // Persistence from profitability and the financing of adoption (zero effect with their switches off).
  bool persistence = false, liquidity = false;
  std::array<float, kTechCount> upfront{}, reference{};
  float unprofitable = 0, background = 1, intent_keep = 1, complement = 1, memory = 0;
  float unprofitable_max = 0;  // the largest drop hazard of an unprofitable technology (for the screen's bound)

  explicit AdoptionConstants(const AdoptionParams& p, double complement_share = 1.0) {
    persistence = p.persistence;
    liquidity = p.liquidity;
    for (int t = 0; t < kTechCount; ++t) {
      base[t] = static_cast<float>(p.tech[t].baseline_hazard);
      drop_supported[t] = static_cast<float>(p.tech[t].drop_hazard_supported);
      drop_after[t] = static_cast<float>(p.tech[t].drop_hazard_after);
      const double need = p.liquidity_cover_months * p.tech[t].upkeep_pen;
      inv_need[t] = need > 0 ? static_cast<float>(1.0 / need) : 0.0f;
      free[t] = need > 0 ? 0.0f : 1.0f;
      const double after_factor =
          std::max(1.0, p.asset_drop_factor) * (persistence && ((kEarningTechs >> t) & 1u) != 0 ? p.background_drop_factor : 1.0);
      drop_max[t] = static_cast<float>(std::max(p.tech[t].drop_hazard_supported, p.tech[t].drop_hazard_after * after_factor) *
                                       std::max(1.0, p.liquidity_drop_factor));
      upfront[t] = static_cast<float>(p.tech[t].upfront_pen);
      reference[t] = static_cast<float>(p.tech[t].reference_profit_pen);
    }
    unprofitable = static_cast<float>(p.unprofitable_drop_hazard);
    background = static_cast<float>(p.background_drop_factor);
    intent_keep = static_cast<float>(1.0 - p.intent_decay);
    complement = static_cast<float>(complement_share);
    memory = static_cast<float>(p.profit_memory);
    unprofitable_max = static_cast<float>(p.unprofitable_drop_hazard * std::max(1.0, p.liquidity_drop_factor));
    readopt_max = static_cast<float>(std::max(1.0, p.readopt_factor));
    asset_factor = static_cast<float>(p.asset_drop_factor);
    liquidity_floor = static_cast<float>(p.liquidity_adopt_floor);
    liquidity_drop = static_cast<float>(p.liquidity_drop_factor - 1.0);
    readopt = static_cast<float>(p.readopt_factor);
    labour_factor = {static_cast<float>(p.labour_shortfall_factor * p.labour_shortfall_factor),
                     static_cast<float>(p.labour_shortfall_factor), 1.0f};
    pasture_min_land = static_cast<float>(p.pasture_min_land_ha);
    pasture_mean = static_cast<float>(p.pasture_mean_ha);
    pasture_max_share = static_cast<float>(p.pasture_max_land_share);
  }
};

// How a household pays an up-front cost this month (economy.liquidity.enabled): its accounts and terms. With
// `terms` set, the credit limit and the reserve are computed from `permanent` (the household's permanent income)
// when a payment is made, not given: most households that the phase looks at pay nothing in a month.
struct AdoptionFinance {
  finance::Accounts accounts;
  std::uint32_t household = 0;
  float credit_limit = 0, reserve = 0;
  bool allow_credit = true;
  const CreditTerms* terms = nullptr;
  float permanent = 0;
  float limit_pen() const { return terms != nullptr ? terms->limit(permanent) : credit_limit; }
  float reserve_pen() const {
    return terms != nullptr ? static_cast<float>(terms->reserve_months) * std::max(0.0f, permanent) : reserve;
  }
};

// One household in a month: its rows (technology states, this month's programme push, assets delivered)
// and what the hazards read.
struct AdoptionHousehold {
  std::uint8_t* state;        // kTechCount TechState bytes, updated
  const float* push;          // kTechCount extra hazards from programmes this month
  const std::uint8_t* asset;  // kTechCount flags
  float* pasture_ha;          // updated when cultivated pasture is adopted or dropped
  int adults = 0;             // members aged 15-64
  float cash = 0;
  bool supported = false;     // under programme support this month
  bool water = false;         // year-round water
  float land_ha = 0;
  float* expected = nullptr;            // kTechCount expected profits (economy.persistence.enabled)
  std::uint16_t* pending = nullptr;     // technologies wanted but not yet paid for (economy.liquidity.enabled)
  const AdoptionFinance* finance = nullptr;  // with economy.liquidity.enabled
};

// Share of technology t's liquidity need that the household's cash covers (1: not constrained).
inline float liquidity_cover(const AdoptionConstants& k, int t, float cash) {
  return std::min(1.0f, std::max(cash, 0.0f) * k.inv_need[t] + k.free[t]);
}

// Monthly hazard of adopting technology t (never adopted or dropped before): the baseline hazard, the
// programmes' push and the peer term, times the labour factor, the liquidity factor, the re-adoption factor
// for a household that dropped it, and zero where the hard constraint (water, land) rules it out.
inline float adoption_hazard(const AdoptionConstants& k, int t, std::uint8_t state, float push, float peer,
                             float labour, float cover, bool feasible) {
  return (k.base[t] + push + peer) * labour * (k.liquidity_floor + (1.0f - k.liquidity_floor) * cover) *
         (state == static_cast<std::uint8_t>(TechState::dropped) ? k.readopt : 1.0f) * (feasible ? 1.0f : 0.0f);
}

// Monthly hazard of dropping an adopted technology t: lower while under programme support, lower after the
// programme where its asset was delivered, and higher the less cash covers its upkeep. With persistence from
// profitability, an income-earning technology whose expected profit is below zero is dropped with the
// unprofitable hazard, and a profitable one only for other reasons (the background factor).
inline float drop_hazard(const AdoptionConstants& k, int t, bool supported, bool asset, float cover,
                         float expected_profit = 0.0f) {
  const float support = supported ? 1.0f : 0.0f;
  const float liquidity = 1.0f + k.liquidity_drop * (1.0f - cover);
  if (k.persistence && ((kEarningTechs >> t) & 1u) != 0) {
    if (expected_profit < 0.0f) return k.unprofitable * liquidity;
    const float unsupported = k.drop_after[t] * (asset ? k.asset_factor : 1.0f) * k.background;
    return (unsupported * (1.0f - support) + k.drop_supported[t] * support) * liquidity;
  }
  const float unsupported = k.drop_after[t] * (asset ? k.asset_factor : 1.0f);
  return (unsupported * (1.0f - support) + k.drop_supported[t] * support) * (1.0f + k.liquidity_drop * (1.0f - cover));
}

// The up-front cost a household pays to adopt technology t: all of it, or only the complementary share where a
// programme asset for it was delivered.
inline float upfront_cost(const AdoptionConstants& k, int t, bool asset) {
  return asset ? k.upfront[t] * k.complement : k.upfront[t];
}

// Pays technology t's up-front cost from cash above the reserve, then credit (finance::pay); false when the
// household cannot pay all of it (nothing is paid).
inline bool pay_upfront(const AdoptionConstants& k, int t, const AdoptionHousehold& h) {
  const AdoptionFinance& f = *h.finance;
  const std::uint32_t i = f.household;
  const float amount = upfront_cost(k, t, h.asset[t] != 0);
  const finance::Payment p =
      finance::pay(f.accounts.cash[i], f.accounts.debt[i], f.limit_pen(), f.reserve_pen(), amount, f.allow_credit);
  f.accounts.book(i, amount, p);
  return p.paid;
}

// The mean expected profit of a centre's adopters of t relative to t's reference profit, clamped to [0, 2]: how
// much neighbours' results scale the peer term (1 where t earns nothing or nobody has adopted it).
inline float peer_profit_factor(const AdoptionConstants& k, int t, float expected_sum, int adopters) {
  if (t >= kEarningCount || !(k.reference[t] > 0.0f) || adopters <= 0) return 1.0f;
  const float ratio = expected_sum / static_cast<float>(adopters) / k.reference[t];
  return std::clamp(ratio, 0.0f, 2.0f);
}

// Whether technology t's hard constraint allows it (sprinklers need water; pasture needs land).
inline bool adoption_feasible(const AdoptionConstants& k, int t, bool water, float land_ha) {
  return t == kSprinkler ? water : (t == kPasture ? land_ha >= k.pasture_min_land : true);
}

// Technology t changes state when its uniform falls under its hazard; then cultivated pasture's area.
// `peer`: the centre's peer term per technology; `w`: the household's Philox block of the month.
inline void update_candidates(const AdoptionConstants& k, const std::array<float, kTechCount>& peer,
                              const std::uint64_t* w, const AdoptionHousehold& h, unsigned candidates) {
  constexpr auto kAdopted = static_cast<std::uint8_t>(TechState::adopted);
  constexpr auto kDropped = static_cast<std::uint8_t>(TechState::dropped);
  const float labour = k.labour_factor[static_cast<std::size_t>(std::min(h.adults, 2))];
  const std::uint8_t pasture_before = h.state[kPasture];
  for (unsigned m = candidates; m != 0; m &= m - 1) {
    const int t = std::countr_zero(m);
    const std::uint8_t st = h.state[t];
    const float u = uniform21(w, t);
    const float cover = liquidity_cover(k, t, h.cash);
    if (st == kAdopted) {
      if (u < drop_hazard(k, t, h.supported, h.asset[t] != 0, cover, k.persistence ? h.expected[t] : 0.0f))
        h.state[t] = kDropped;
      continue;
    }
    // A wish to adopt: from this month's hazard, or (with the financing of adoption) kept from an earlier month
    // unless it lapses (the top of the same uniform, so a lapse never coincides with a new wish's draw).
    const auto bit = static_cast<std::uint16_t>(1u << t);
    const bool waiting = k.liquidity && (*h.pending & bit) != 0;
    if (waiting && u >= k.intent_keep) {
      *h.pending = static_cast<std::uint16_t>(*h.pending & ~bit);
      continue;
    }
    if (!waiting && !(u < adoption_hazard(k, t, st, h.push[t], peer[t], labour, k.liquidity ? 1.0f : cover,
                                           adoption_feasible(k, t, h.water, h.land_ha))))
      continue;
    if (k.liquidity) {
      if (!pay_upfront(k, t, h)) {
        *h.pending = static_cast<std::uint16_t>(*h.pending | bit);  // without cash it waits
        continue;
      }
      *h.pending = static_cast<std::uint16_t>(*h.pending & ~bit);
    }
    h.state[t] = kAdopted;
    if (k.persistence) h.expected[t] = k.reference[t];
  }
  if (h.state[kPasture] != pasture_before)
    *h.pasture_ha = h.state[kPasture] == kAdopted
                        ? std::min(k.pasture_max_share * h.land_ha, k.pasture_mean * (0.5f + uniform21(w, 10)))
                        : 0.0f;
}

// The plain rule: one household's month, every technology's hazard against its uniform.
inline void adopt_or_drop(const AdoptionConstants& k, const std::array<float, kTechCount>& peer,
                          const std::uint64_t* w, const AdoptionHousehold& h) {
  update_candidates(k, peer, w, h, (1u << kTechCount) - 1);
}

// Upper bounds of technology t's hazards in a centre without the push (labour and liquidity factors are at
// most 1), slightly inflated against float rounding: the screen's bounds, of the adoption hazard (for a
// household that has not adopted t) and of the drop hazard (for one that has).
// `unprofitable`: some adopter of t in the centre expects a loss (persistence from profitability).
inline float adopt_screen_bound(const AdoptionConstants& k, int t, float peer) {
  return (k.base[t] + peer) * k.readopt_max * 1.0001f + 1e-7f;
}
inline float drop_screen_bound(const AdoptionConstants& k, int t, bool unprofitable = false) {
  const float drop = unprofitable ? std::max(k.drop_max[t], k.unprofitable_max) : k.drop_max[t];
  return drop * 1.0001f + 1e-7f;
}
// The screen's bounds of a centre: its peer terms and the technologies some adopter there expects to lose on.
inline ScreenBounds screen_bounds(const AdoptionConstants& k, const std::array<float, kTechCount>& peer,
                                  unsigned unprofitable = 0) {
  std::array<float, kTechCount> adopt{}, drop{};
  for (int t = 0; t < kTechCount; ++t) {
    adopt[static_cast<std::size_t>(t)] = adopt_screen_bound(k, t, peer[static_cast<std::size_t>(t)]);
    drop[static_cast<std::size_t>(t)] = drop_screen_bound(k, t, ((unprofitable >> t) & 1u) != 0);
  }
  return ScreenBounds(adopt, drop);
}

// The fast driver for one household: the screen, then the exact hazards of its candidates only. The phase
// does the same over a batch of households (listing those with candidates without a branch).
inline void adopt_or_drop_screened(const AdoptionConstants& k, const std::array<float, kTechCount>& peer,
                                   const ScreenBounds& bounds, const std::uint64_t* w, const AdoptionHousehold& h) {
  const Screened sc = screen(w, h.push, adopted_mask(h.state), bounds, k.readopt_max);
  // Technologies waiting for financing are tried every month.
  const unsigned candidates = sc.candidates | (k.liquidity ? *h.pending : 0u);
  if (candidates != 0) update_candidates(k, peer, w, h, candidates);
}

// The baseline non-farm business's month (economy.persistence.enabled): an owner updates its expected profit and
// exits after business.loss_months months below the outside option, or with the background hazard; a household
// without one wants to start one with the start hazard and (economy.liquidity.enabled) starts only if it can pay
// the start-up cost. One uniform decides both, since a household either has a business or has not.
struct BusinessConstants {
  float start_hazard = 0, exit_hazard = 0, memory = 0, startup = 0, reference = 0;
  int loss_months = 1;
  bool liquidity = false;
  explicit BusinessConstants(const BusinessParams& b)
      : start_hazard(static_cast<float>(b.start_hazard)),
        exit_hazard(static_cast<float>(1.0 - std::pow(1.0 - std::clamp(b.background_exit_rate_year, 0.0, 1.0), 1.0 / 12.0))),
        memory(static_cast<float>(b.profit_memory)),
        startup(static_cast<float>(b.startup_pen)),
        reference(static_cast<float>(b.business_profit_pen)),
        loss_months(b.loss_months),
        liquidity(b.liquidity) {}
};

struct BaselineBusiness {
  std::uint8_t* has;         // has_business, updated
  float* expected;           // business_expected_profit_pen, updated
  std::uint8_t* loss;        // business_loss_months, updated
  float profit = 0;          // last month's profit of the business
  float outside_option = 0;  // its owners' outside option (BusinessParams::outside_option)
  bool observed = true;      // false in the run's first month (no profit seen yet)
};

inline void baseline_business_month(const BusinessConstants& k, float u, const BaselineBusiness& b,
                                    const AdoptionFinance* finance) {
  if (*b.has != 0) {
    BusinessBook book{*b.expected, *b.loss};
    const bool losing = b.observed && business_month(book, b.profit, k.memory, b.outside_option, k.loss_months);
    if (losing || u < k.exit_hazard) {
      *b.has = 0;
      book = {k.reference, 0};
    }
    *b.expected = book.expected_profit;
    *b.loss = static_cast<std::uint8_t>(std::min(book.loss_months, 255));
    return;
  }
  if (!(u < k.start_hazard)) return;
  if (k.liquidity) {
    const std::uint32_t i = finance->household;
    const finance::Payment p = finance::pay(finance->accounts.cash[i], finance->accounts.debt[i], finance->limit_pen(),
                                            finance->reserve_pen(), k.startup, finance->allow_credit);
    if (!p.paid) return;
    finance->accounts.book(i, k.startup, p);
  }
  *b.has = 1;
  *b.expected = k.reference;
  *b.loss = 0;
}

// The fast driver of baseline_business_month for the phase: an owner's month (update, losses, exit) computed for
// every household and stored only for owners, as selects rather than a branch on ownership; returns true for a
// household without a business whose uniform falls under the start hazard, which the caller hands to
// baseline_business_month (the rule itself: a start, paid for with economy.liquidity.enabled). The same bits as
// the rule: an owner's values are the rule's operations in the same order, and the other households' values are
// stored back unchanged.
inline bool owner_month(const BusinessConstants& k, float u, std::uint8_t* has, float* expected, std::uint8_t* loss,
                        float profit, float outside_option, bool observed) {
  const bool owner = *has != 0;
  const float e0 = *expected;
  const int l0 = *loss;
  float e = e0;
  int l = l0;
  bool losing = false;
  if (observed) {  // the same for every household of the month
    BusinessBook book{e0, l0};
    losing = business_month(book, profit, k.memory, outside_option, k.loss_months);
    e = book.expected_profit;
    l = book.loss_months;
  }
  const bool exits = losing | (u < k.exit_hazard);
  const float owner_e = exits ? k.reference : e;
  const int owner_l = exits ? 0 : std::min(l, 255);
  *has = (owner & exits) ? std::uint8_t{0} : *has;
  *expected = owner ? owner_e : e0;
  *loss = static_cast<std::uint8_t>(owner ? owner_l : l0);
  return !owner & (u < k.start_hazard);
}

// The expected profit of each adopted income-earning technology after this month's profit (exponential average
// with weight `memory`); the others keep theirs.
inline void update_expected_profit(float memory, const std::uint8_t* state, const float* profit, float* expected) {
  for (int t = 0; t < kEarningCount; ++t)
    if (state[t] == static_cast<std::uint8_t>(TechState::adopted)) expected[t] += memory * (profit[t] - expected[t]);
}

// The same for one household, and its adopters' sums for the centre (expected profit of each technology and the
// technologies someone expects to lose on), without a branch: whether a household has adopted a technology is as
// good as random, so branches would often be mispredicted. The same bits as update_expected_profit: for a
// technology not in use the weight is 0, and e + 0 * (profit - e) is e (profits are finite, and an expectation is
// never -0.0: x + m * (p - x) is -0.0 only when it is exactly zero from non-zero terms, which rounds to +0.0).
inline unsigned update_expected_profit_and_sum(float memory, const std::uint8_t* state, const float* profit,
                                               float* expected, std::array<float, kTechCount>& sum) {
  unsigned unprofitable = 0;
  static_assert(static_cast<int>(TechState::adopted) == 1 && static_cast<int>(TechState::dropped) == 2,
                "bit 0 of a state is 1 exactly when the technology is adopted");
  int t = 0;
#if defined(CHACRA_ROWS_SSE2)
  // The first four technologies in one SSE2 vector: the same operations in the same order on each, so the same
  // bits (the build has no fused multiply-add, -ffp-contract=off).
  static_assert(kEarningCount >= 4);
  {
    std::int32_t bytes;
    std::memcpy(&bytes, state, sizeof bytes);
    const __m128i zero = _mm_setzero_si128();
    const __m128i adopted =
        _mm_and_si128(_mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(bytes), zero), zero), _mm_set1_epi32(1));
    const __m128 on = _mm_cvtepi32_ps(adopted);
    const __m128 x = _mm_loadu_ps(expected);
    const __m128 weight = _mm_mul_ps(_mm_set1_ps(memory), on);
    const __m128 e = _mm_add_ps(x, _mm_mul_ps(weight, _mm_sub_ps(_mm_loadu_ps(profit), x)));
    _mm_storeu_ps(expected, e);
    _mm_storeu_ps(sum.data(), _mm_add_ps(_mm_loadu_ps(sum.data()), _mm_mul_ps(on, e)));
    const __m128i losing = _mm_and_si128(_mm_castps_si128(_mm_cmplt_ps(e, _mm_setzero_ps())),
                                         _mm_cmpeq_epi32(adopted, _mm_set1_epi32(1)));
    unprofitable = static_cast<unsigned>(_mm_movemask_ps(_mm_castsi128_ps(losing)));
    t = 4;
  }
  // The other three (technologies 4-6) in a second vector over 4-7: technology 7 earns nothing, so its lane is
  // computed with weight 0 but neither stored nor summed (its expectation and sum keep their bits).
  static_assert(kEarningCount == 7 && kTechCount >= 8);
  {
    std::int32_t bytes;
    std::memcpy(&bytes, state + 4, sizeof bytes);
    const __m128i zero = _mm_setzero_si128();
    const __m128i adopted = _mm_and_si128(_mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(bytes), zero), zero),
                                          _mm_setr_epi32(1, 1, 1, 0));
    const __m128 earning = _mm_castsi128_ps(_mm_setr_epi32(-1, -1, -1, 0));
    const __m128 on = _mm_cvtepi32_ps(adopted);
    const __m128 x = _mm_loadu_ps(expected + 4);
    const __m128 weight = _mm_mul_ps(_mm_set1_ps(memory), on);
    const __m128 e = _mm_add_ps(x, _mm_mul_ps(weight, _mm_sub_ps(_mm_loadu_ps(profit + 4), x)));
    _mm_storeu_ps(expected + 4, _mm_or_ps(_mm_and_ps(earning, e), _mm_andnot_ps(earning, x)));
    const __m128 s0 = _mm_loadu_ps(sum.data() + 4);
    const __m128 s1 = _mm_add_ps(s0, _mm_mul_ps(on, e));
    _mm_storeu_ps(sum.data() + 4, _mm_or_ps(_mm_and_ps(earning, s1), _mm_andnot_ps(earning, s0)));
    const __m128i losing = _mm_and_si128(_mm_castps_si128(_mm_cmplt_ps(e, _mm_setzero_ps())),
                                         _mm_cmpeq_epi32(adopted, _mm_set1_epi32(1)));
    unprofitable |= static_cast<unsigned>(_mm_movemask_ps(_mm_castsi128_ps(losing))) << 4;
    t = kEarningCount;
  }
#endif
  for (; t < kEarningCount; ++t) {
    // Arithmetic, not a comparison, so that the compiler does not turn the selection back into a branch.
    const unsigned adopted = state[t] & 1u;
    const auto on = static_cast<float>(adopted);
    const float e = expected[t] + (memory * on) * (profit[t] - expected[t]);
    expected[t] = e;
    sum[static_cast<std::size_t>(t)] += on * e;
    unprofitable |= (adopted & static_cast<unsigned>(e < 0.0f)) << t;
  }
  return unprofitable;
}

}  // namespace chacra::models
