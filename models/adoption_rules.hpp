// The adoption module's rule as plain code: the monthly hazards of adopting and of dropping a technology
// (adoption_hazard, drop_hazard) and one household's month (adopt_or_drop: every technology's hazard against
// its uniform), beside the fast driver that the phase runs (screen each household against an upper bound of
// its hazards, then update_candidates computes the exact hazards only where the draw falls under the bound).
// A test checks that the driver and the plain rule give the same states on random households, so the rule
// an economist audits is the one the model runs. Formulas: models/adoption.hpp.
#pragma once

#include "models/adoption.hpp"
#include "models/row_ops.hpp"
#include "models/shared_state.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

namespace chacra::models {

constexpr int kSprinkler = tech_index(Tech::sprinkler_irrigation);
constexpr int kPasture = tech_index(Tech::cultivated_pasture);

// Twelve uniforms on (0, 1) with 21-bit resolution from one Philox block, u_k from bits 21 * (k % 3) of
// word k / 3. The resolution (5e-7) is far below the smallest hazards used (about 1e-3), so hazards are
// represented to 0.05%.
constexpr std::uint64_t kMask21 = (1u << 21) - 1;
inline float uniform21(const std::uint64_t* w, int k) {
  return (static_cast<float>((w[k / 3] >> (21 * (k % 3))) & kMask21) + 0.5f) * 0x1.0p-21f;
}

// The monthly screen of a household: technology t is a candidate (its exact hazard is computed) when
// u_t < bound[t] + push[t] * readopt_max, the same float operations for every t as in scalar code; a
// household without candidates has no event. `pushed`: some push entry is not +0.0 (the row needs a reset).
struct Screened {
  unsigned candidates;  // bit t
  bool pushed;
};
#if defined(CHACRA_ROWS_SSE2)
// On SSE2 the twelve 21-bit fields of a block are spread over three vectors of four int32 lanes in the
// order below (cheap to build from whole words); the bounds are kept in that order, the push row is
// shuffled into it, and the lane masks map back to technologies by table. Lanes without a technology (-1)
// are dropped.
constexpr std::array<int, 12> kLaneTech = {0, 1, 3, 4, 2, 6, 5, 9, 7, -1, 8, -1};
struct ScreenBounds {
  __m128 v[3];
  explicit ScreenBounds(const std::array<float, kTechCount>& bound) {
    float lanes[12];
    for (int l = 0; l < 12; ++l) lanes[l] = kLaneTech[l] < 0 ? 0.0f : bound[static_cast<std::size_t>(kLaneTech[l])];
    for (int j = 0; j < 3; ++j) v[j] = _mm_loadu_ps(lanes + 4 * j);
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
inline Screened screen(const std::uint64_t* w, const float* push, const ScreenBounds& b, float readopt_max) {
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
  unsigned candidates = 0;
  for (int j = 0; j < 3; ++j) {
    const __m128 u = _mm_mul_ps(_mm_add_ps(_mm_cvtepi32_ps(fields[j]), half), scale);  // exact, as uniform21
    const __m128 x = _mm_add_ps(b.v[j], _mm_mul_ps(pushes[j], rmax));
    candidates |= kLaneBits[static_cast<std::size_t>(j)][static_cast<unsigned>(_mm_movemask_ps(_mm_cmplt_ps(u, x)))];
  }
  const __m128i any = _mm_or_si128(_mm_or_si128(_mm_castps_si128(t0), _mm_castps_si128(t1)), _mm_castps_si128(t2));
  return {candidates, _mm_movemask_epi8(_mm_cmpeq_epi32(any, _mm_setzero_si128())) != 0xFFFF};
}
#else
struct ScreenBounds {
  std::array<float, kTechCount> v;
  explicit ScreenBounds(const std::array<float, kTechCount>& bound) : v(bound) {}
};
inline Screened screen(const std::uint64_t* w, const float* push, const ScreenBounds& b, float readopt_max) {
  Screened s{0, false};
  for (int t = 0; t < kTechCount; ++t) {
    if (uniform21(w, t) < b.v[static_cast<std::size_t>(t)] + push[t] * readopt_max) s.candidates |= 1u << t;
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

  explicit AdoptionConstants(const AdoptionParams& p) {
    for (int t = 0; t < kTechCount; ++t) {
      base[t] = static_cast<float>(p.tech[t].baseline_hazard);
      drop_supported[t] = static_cast<float>(p.tech[t].drop_hazard_supported);
      drop_after[t] = static_cast<float>(p.tech[t].drop_hazard_after);
      const double need = p.liquidity_cover_months * p.tech[t].upkeep_pen;
      inv_need[t] = need > 0 ? static_cast<float>(1.0 / need) : 0.0f;
      free[t] = need > 0 ? 0.0f : 1.0f;
      drop_max[t] = static_cast<float>(std::max(p.tech[t].drop_hazard_supported,
                                                p.tech[t].drop_hazard_after * std::max(1.0, p.asset_drop_factor)) *
                                       std::max(1.0, p.liquidity_drop_factor));
    }
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
// programme where its asset was delivered, and higher the less cash covers its upkeep.
inline float drop_hazard(const AdoptionConstants& k, int t, bool supported, bool asset, float cover) {
  const float support = supported ? 1.0f : 0.0f;
  const float unsupported = k.drop_after[t] * (asset ? k.asset_factor : 1.0f);
  return (unsupported * (1.0f - support) + k.drop_supported[t] * support) * (1.0f + k.liquidity_drop * (1.0f - cover));
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
    const float cover = liquidity_cover(k, t, h.cash);
    const float hazard = st == kAdopted ? drop_hazard(k, t, h.supported, h.asset[t] != 0, cover)
                                        : adoption_hazard(k, t, st, h.push[t], peer[t], labour, cover,
                                                          adoption_feasible(k, t, h.water, h.land_ha));
    if (uniform21(w, t) < hazard) h.state[t] = st == kAdopted ? kDropped : kAdopted;
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

// An upper bound of technology t's hazards in a centre without the push (labour and liquidity factors are at
// most 1), slightly inflated against float rounding: the screen's bound.
inline float screen_bound(const AdoptionConstants& k, int t, float peer) {
  return std::max((k.base[t] + peer) * k.readopt_max, k.drop_max[t]) * 1.0001f + 1e-7f;
}

// The fast driver for one household: the screen, then the exact hazards of its candidates only. The phase
// does the same over a batch of households (listing those with candidates without a branch).
inline void adopt_or_drop_screened(const AdoptionConstants& k, const std::array<float, kTechCount>& peer,
                                   const ScreenBounds& bounds, const std::uint64_t* w, const AdoptionHousehold& h) {
  const Screened sc = screen(w, h.push, bounds, k.readopt_max);
  if (sc.candidates != 0) update_candidates(k, peer, w, h, sc.candidates);
}

}  // namespace chacra::models
