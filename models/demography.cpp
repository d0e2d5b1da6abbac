// File: models/demography.cpp
// Aging, births, schooling, young adults leaving and old-age deaths (see demography.hpp).
#include "models/demography.hpp"

#include "models/row_ops.hpp"
#include "models/shared_state.hpp"
#include "sim/param_spec.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

namespace chacra::models {

namespace {

// Setup draws use a period no month can reach, so they never coincide with a monthly stream.
constexpr std::uint64_t kSetupPeriod = 0xFFFF'FFFF'FFFF'0000ull;

// Eight uniforms on (0, 1) with 32-bit resolution from one Philox block (four 64-bit words).
inline void draw8(rng::Stream& s, double* u) {
  for (int i = 0; i < 4; ++i) {
    const std::uint64_t w = s();
    u[2 * i] = (static_cast<double>(w & 0xFFFF'FFFFull) + 0.5) * 0x1.0p-32;
    u[2 * i + 1] = (static_cast<double>(w >> 32) + 0.5) * 0x1.0p-32;
  }
}

// P(at least one event) among n members each with hazard h, for n = 0..kMaxMembers.
std::array<double, kMaxMembers + 1> any_event_table(double h) {
  std::array<double, kMaxMembers + 1> t{};
  for (int n = 0; n <= kMaxMembers; ++n) t[n] = 1.0 - std::pow(1.0 - h, n);
  return t;
}

// The monthly step tests draw8's uniforms on their integers: half k of a block (the low 32 bits of word
// k / 2 for even k, the high 32 for odd k) is b with u_k = (b + 0.5) * 2^-32, exact in double. For x <= 1,
// x * 2^32 - 0.5 is exact (or, below -0.25, rounds to a value whose ceiling is still <= 0), so u_k < x
// exactly when b < ceil(x * 2^32 - 0.5).
inline std::uint64_t half32(const std::uint64_t* w, int k) { return k % 2 == 0 ? w[k / 2] & 0xFFFF'FFFFull : w[k / 2] >> 32; }
std::uint64_t below32(double x) {
  const double y = std::ceil(x * 0x1.0p32 - 0.5);
  return !(y > 0.0) ? 0u : (y >= 0x1.0p32 ? std::uint64_t{1} << 32 : static_cast<std::uint64_t>(y));
}
std::array<std::uint64_t, kMaxMembers + 1> any_event_below(double h) {
  const auto p = any_event_table(h);
  std::array<std::uint64_t, kMaxMembers + 1> t{};
  for (int n = 0; n <= kMaxMembers; ++n) t[n] = below32(p[n]);
  return t;
}

// Age thresholds of the monthly step, in months (int16 like the ages).
struct StepBounds {
  std::int16_t sec_age, fmin, fmax, lmin, lmax, gap, old_age, smin, cmax;
};

// Ages every member one month (empty slots, -1, stay empty; ages saturate at 32767). Returns the oldest
// age after aging (-1 if the row is empty) and whether some member reaches the secondary-completion age.
struct Aged {
  int oldest;
  bool completion_age;
};
inline Aged age_row(std::int16_t* a, std::int16_t sec_age) {
#if defined(CHACRA_ROWS_SSE2)
  const auto s = rows::detail::load_slots(a);
  const __m128i minus1 = _mm_set1_epi16(-1), sec = _mm_set1_epi16(sec_age);
  // Adds one where a >= 0, saturating at 32767.
  auto age = [&](__m128i x) { return _mm_adds_epi16(x, _mm_srli_epi16(_mm_cmpgt_epi16(x, minus1), 15)); };
  const __m128i lo = age(s.lo);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(a), lo);
  __m128i m = lo, hits = _mm_cmpeq_epi16(lo, sec);
  // Slots 8 and 9 are empty (-1, unchanged, never the maximum or the completion age) in most households.
  if (_mm_cvtsi128_si32(s.hi) != -1) [[unlikely]] {
    const __m128i hi = age(s.hi);  // lanes 2-7 stay -1
    const std::int32_t tail = _mm_cvtsi128_si32(hi);
    std::memcpy(a + 8, &tail, 4);
    m = _mm_max_epi16(m, hi);
    hits = _mm_or_si128(hits, _mm_cmpeq_epi16(hi, sec));
  }
  m = _mm_max_epi16(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(1, 0, 3, 2)));
  m = _mm_max_epi16(m, _mm_shuffle_epi32(m, _MM_SHUFFLE(2, 3, 0, 1)));
  m = _mm_max_epi16(m, _mm_srli_epi32(m, 16));
  return {static_cast<std::int16_t>(_mm_cvtsi128_si32(m) & 0xFFFF), _mm_movemask_epi8(hits) != 0};
#else
  int oldest = -1;
  bool completion_age = false;
  for (int k = 0; k < kMaxMembers; ++k) {
    const std::int16_t ak = static_cast<std::int16_t>(a[k] + (a[k] >= 0 && a[k] < 32767));
    a[k] = ak;
    completion_age |= ak == sec_age;
    oldest = std::max<int>(oldest, ak);
  }
  return {oldest, completion_age};
#endif
}

// Counts of a row: members, young adults who may leave (living with someone at least `gap` older than
// them, given the oldest age), members of old age, fertile women, and children expected at school.
struct Counts {
  int members, leavers, old, fertile, pupils;
};
#if defined(CHACRA_ROWS_SSE2)
// The thresholds as vectors, built once per block: x >= lo is x > lo - 1, and lo <= x < hi is one signed
// compare after a shift that maps lo to -32768 (x - lo below hi - lo as unsigned 16-bit).
struct CountVectors {
  __m128i minus1, old1, lbias, llim, fbias, flim, sbias, slim;
  static __m128i bias(std::int16_t lo) { return _mm_set1_epi16(static_cast<std::int16_t>(0x8000 - lo)); }
  static __m128i limit(std::int16_t lo, std::int16_t hi) {
    return _mm_set1_epi16(static_cast<std::int16_t>(hi > lo ? -0x8000 + (hi - lo) : -0x8000));  // empty: never
  }
  explicit CountVectors(const StepBounds& b)
      : minus1(_mm_set1_epi16(-1)), old1(_mm_set1_epi16(static_cast<std::int16_t>(b.old_age - 1))),
        lbias(bias(b.lmin)), llim(limit(b.lmin, b.lmax)), fbias(bias(b.fmin)), flim(limit(b.fmin, b.fmax)),
        sbias(bias(b.smin)), slim(limit(b.smin, b.cmax)) {}
};
// Lanes (0 / -1) of eight slots counted by count_row: ages `s`, female and secondary flags `f`, `d` widened
// to 16 bits.
struct RowMasks {
  __m128i members, leavers, old, fertile, pupils;
};
inline RowMasks row_masks(__m128i s, __m128i f, __m128i d, __m128i leave_top, const CountVectors& v) {
  const __m128i zero = _mm_setzero_si128();
  auto range = [&](__m128i bias, __m128i lim) { return _mm_cmplt_epi16(_mm_add_epi16(s, bias), lim); };
  return {_mm_cmpgt_epi16(s, v.minus1), _mm_and_si128(range(v.lbias, v.llim), _mm_cmplt_epi16(s, leave_top)),
          _mm_cmpgt_epi16(s, v.old1), _mm_andnot_si128(_mm_cmpeq_epi16(f, zero), range(v.fbias, v.flim)),
          _mm_and_si128(_mm_cmpeq_epi16(d, zero), range(v.sbias, v.slim))};
}
// Lane counts of two 16-bit masks (0 / -1 lanes) at once: the sums of lanes go to the two halves of a
// packed byte vector, which one psadbw adds up.
inline void count_pair(__m128i a_mask, __m128i b_mask, int& a, int& b) {
  const __m128i packed = _mm_packs_epi16(a_mask, b_mask);  // bytes -2..0
  const __m128i sums = _mm_sad_epu8(_mm_sub_epi8(_mm_setzero_si128(), packed), _mm_setzero_si128());
  a = _mm_cvtsi128_si32(sums);
  b = _mm_extract_epi16(sums, 4);
}
#else
struct CountVectors {
  explicit CountVectors(const StepBounds&) {}
};
#endif
inline Counts count_row(const std::int16_t* a, const std::uint8_t* fem, const std::uint8_t* sd, int oldest,
                        const StepBounds& b, [[maybe_unused]] const CountVectors& v) {
#if defined(CHACRA_ROWS_SSE2)
  const auto s = rows::detail::load_slots(a);  // lanes 2-7 of hi are -1: empty, counted nowhere
  const auto f = rows::detail::load_bytes(fem);
  const auto d = rows::detail::load_bytes(sd);
  // oldest - a >= gap  <=>  a < oldest - gap + 1 (no overflow: ages and gaps are far below 2^15)
  const __m128i leave_top = _mm_set1_epi16(static_cast<std::int16_t>(oldest - b.gap + 1));
  RowMasks m = row_masks(s.lo, f.lo, d.lo, leave_top, v);
  // Slots 8 and 9 are empty (-1, counted nowhere) in most households: their masks only when one is not.
  // (Lanes 2-7 of the widened byte rows are 0xFF: "female" there, but their age, -1, is never fertile.)
  std::int32_t tail;
  std::memcpy(&tail, a + 8, 4);
  if (tail != -1) [[unlikely]] {
    const RowMasks h = row_masks(s.hi, f.hi, d.hi, leave_top, v);
    m = {_mm_add_epi16(m.members, h.members), _mm_add_epi16(m.leavers, h.leavers), _mm_add_epi16(m.old, h.old),
         _mm_add_epi16(m.fertile, h.fertile), _mm_add_epi16(m.pupils, h.pupils)};
  }
  Counts c;
  count_pair(m.members, m.leavers, c.members, c.leavers);
  count_pair(m.old, m.fertile, c.old, c.fertile);
  int none = 0;
  count_pair(m.pupils, _mm_setzero_si128(), c.pupils, none);
  return c;
#else
  Counts c{0, 0, 0, 0, 0};
  for (int k = 0; k < kMaxMembers; ++k) {
    const int ak = a[k];
    c.members += ak >= 0;
    c.leavers += ak >= b.lmin && ak < b.lmax && oldest - ak >= b.gap;
    c.old += ak >= b.old_age;
    c.fertile += (fem[k] != 0) & (ak >= b.fmin) & (ak < b.fmax);
    c.pupils += (ak >= b.smin) & (ak < b.cmax) & (sd[k] == 0);
  }
  return c;
#endif
}

}  // namespace

template <class V>
void DemographyParams::describe(V& v) {
  v.real("demography.conception_hazard", conception_hazard, {0, 1}, "probability per woman and month",
         "Monthly probability that a woman of fertile age conceives (at most one pregnancy per household at a "
         "time; a household with n fertile women conceives with probability 1-(1-h)^n)",
         "Rural total fertility of about 3 children per woman (INEI, ENDES 2017-2018) spread over 30 fertile "
         "years: 3/360 per month, raised for the months spent pregnant");
  v.years_as_months("demography.fertile_min_age_years", fertile_min_months, {10, 60},
                    "Youngest age at which women conceive", "Convention of fertility statistics (15-49); assumption");
  v.years_as_months("demography.fertile_max_age_years", fertile_max_months, {11, 60},
                    "Age from which women no longer conceive (exclusive)",
                    "Assumption: births to rural women over 45 are rare (INEI, ENDES)");
  v.real("demography.female_birth_share", female_birth_share, {0, 1}, "share", "Probability that a newborn is a girl",
         "Sex ratio at birth of about 105 boys per 100 girls");
  v.years_as_months("demography.school_start_age_years", school_start_months, {0, 10},
                    "Age from which children attend school (Juntos co-responsibility from age 3)",
                    "MIDIS, Juntos co-responsibilities: school attendance from age 3");
  v.years_as_months("demography.secondary_completion_age_years", secondary_age_months, {10, 25},
                    "Age at which a child who completes secondary school does so",
                    "Peruvian school system: 6 years primary from 6, 5 years secondary");
  v.real("demography.secondary_completion_prob", secondary_completion, {0, 1}, "probability",
         "Probability that a child finishes secondary school (decided at the completion age; those who do not "
         "remain Juntos-eligible until 19)",
         "Assumption: rural secondary completion at 17-19 of about 60% (INEI/ENAHO 2018, Escale MINEDU)");
  v.years_as_months("demography.leave_min_age_years", leave_min_months, {14, 40},
                    "Youngest age at which a member living with a parent may leave the household", "Assumption");
  v.years_as_months("demography.leave_max_age_years", leave_max_months, {15, 60},
                    "Age from which members who stayed are treated as settled adults (exclusive)", "Assumption");
  v.years_as_months("demography.parent_age_gap_years", parent_gap_months, {10, 40},
                    "A member is the child of the household (and may leave) when someone at least this much older "
                    "lives in it",
                    "Assumption (relationships are not recorded)");
  v.real("demography.leave_hazard", leave_hazard, {0, 1}, "probability per month",
         "Monthly probability that an eligible young adult leaves (one at most per month; the oldest goes)",
         "Assumption: about 17% a year, so most children who do not form the household's next generation "
         "leave by their mid-twenties (rural out-migration of youth, INEI census 2017)");
  v.years_as_months("demography.old_age_years", old_age_months, {30, 120}, "Age from which old-age mortality applies",
                    "Assumption");
  v.real("demography.old_age_mortality", old_age_mortality, {0, 1}, "probability per member and month",
         "Monthly death probability of members aged over old_age_years (one at most per month; the oldest; the "
         "last member of a household never dies, so households persist)",
         "Assumption: about 3.5% a year, rural Peru life expectancy in the low seventies (INEI)");
  v.years_as_months("demography.child_max_age_years", child_max_months, {5, 30},
                    "Children under this age who have not finished secondary attend school",
                    "MIDIS, Juntos rules: children count until 19");
}

DemographyParams DemographyParams::from(const ParamSet& params) { return read_params<DemographyParams>(params); }

void Demography::register_params(Registry& r) { declare_params<DemographyParams>(r); }

void Demography::setup(World& world, const ParamSet& params, const rng::StreamSeed& seed) {
  p_ = DemographyParams::from(params);
  auto& h = world.households;
  auto* secondary = h.add(col::member_secondary_done);
  auto* pregnancy = h.add(col::pregnancy_month);
  auto* size = h.add(col::household_size);
  auto* school = h.add(col::school_children);
  h.add(col::members_left);
  const auto* age = h.get(col::member_age_months);
  const auto* female = h.get(col::member_female);

  // Stationary probability of being pregnant for a single fertile woman: nine months pregnant, then a
  // geometric wait with mean 1/hazard.
  const auto any_conception = any_event_table(p_.conception_hazard);
  for (std::size_t i = world.household_begin(); i < world.household_end(); ++i) {  // all, or this rank's block
    auto s = seed.open(kSetupDomain, kSetupPeriod, i);
    double u[8];
    draw8(s, u);
    double member_u[kMaxMembers];
    for (double& v : member_u) v = s.uniform();
    const std::int16_t* a = age + i * kMaxMembers;
    std::uint8_t* sd = secondary + i * kMaxMembers;
    int fertile = 0, members = 0, pupils = 0;
    for (int k = 0; k < kMaxMembers; ++k) {
      if (a[k] < 0) continue;
      ++members;
      if (female[i * kMaxMembers + k] && a[k] >= p_.fertile_min_months && a[k] < p_.fertile_max_months) ++fertile;
      // Secondary completion of members already past the completion age.
      sd[k] = a[k] >= p_.secondary_age_months && member_u[k] < p_.secondary_completion ? 1 : 0;
      if (a[k] >= p_.school_start_months && a[k] < p_.child_max_months && !sd[k]) ++pupils;
    }
    const double hz = any_conception[fertile];
    const double pregnant = hz > 0 ? 9.0 * hz / (9.0 * hz + 1.0) : 0.0;
    pregnancy[i] = u[0] < pregnant ? static_cast<std::uint8_t>(1 + std::min(8, static_cast<int>(u[1] * 9))) : 0;
    size[i] = static_cast<std::uint8_t>(members);
    school[i] = static_cast<std::uint8_t>(pupils);
  }
}

Phase Demography::step_phase() const {
  return Phase::per_block("demography.step", [this](World& world, const StepContext& ctx, const Block& block) {
    const DemographyParams& p = p_;
    auto& h = world.households;
    auto* age = h.get(col::member_age_months);
    auto* female = h.get(col::member_female);
    auto* secondary = h.get(col::member_secondary_done);
    auto* pregnancy = h.get(col::pregnancy_month);
    auto* size = h.get(col::household_size);
    auto* school = h.get(col::school_children);
    auto* left = h.get(col::members_left);
    // Small tables of P(any event among n members), as thresholds on the draws' integers; built per block
    // call, a few dozen flops.
    const auto any_conception = any_event_below(p.conception_hazard);
    const auto any_leave = any_event_below(p.leave_hazard);
    const auto any_death = any_event_below(p.old_age_mortality);
    const std::uint64_t completion = below32(p.secondary_completion), girl = below32(p.female_birth_share);

    const auto sec_age = static_cast<std::int16_t>(p.secondary_age_months);
    const int fmin = p.fertile_min_months, fmax = p.fertile_max_months;
    const int lmin = p.leave_min_months, lmax = p.leave_max_months, gap = p.parent_gap_months;
    const int old_age = p.old_age_months, smin = p.school_start_months, cmax = p.child_max_months;

    const StepBounds bounds{sec_age,
                            static_cast<std::int16_t>(fmin),
                            static_cast<std::int16_t>(fmax),
                            static_cast<std::int16_t>(lmin),
                            static_cast<std::int16_t>(lmax),
                            static_cast<std::int16_t>(gap),
                            static_cast<std::int16_t>(old_age),
                            static_cast<std::int16_t>(smin),
                            static_cast<std::int16_t>(cmax)};
    const CountVectors vectors(bounds);
    // The listed households' blocks of the month, with what does not depend on the household computed once.
    const rng::FirstBlocks first_blocks(ctx.seed, kStepDomain, static_cast<std::uint64_t>(ctx.month));

    // Most households have no event in a month. Their row is aged and counted first (SSE2 row kernels);
    // when none of the draws could change anything (no member reaching the completion age, no birth into
    // an empty slot, nobody who may leave or die, no possible conception) the household is done without
    // computing its Philox block: a draw's value is fixed by (seed, month, household), so skipping an
    // unused one changes no result. The others are listed, without a branch (which households need a draw
    // is as good as random, so a branch on it would often be mispredicted), and the original per-slot code
    // runs for them with the draws, a chunk of households at a time.
    struct Pending {
      std::uint32_t i;
      int oldest;
      std::uint8_t pm;
      bool completion_age, birth, counted;
      Counts c;
    };
    constexpr std::uint32_t kChunk = 64;
    std::array<Pending, kChunk> pending;
    for (std::uint32_t c0 = block.household_begin; c0 < block.household_end; c0 += kChunk) {
      const std::uint32_t c1 = std::min(block.household_end, c0 + kChunk);
      std::uint32_t n = 0;
      for (std::uint32_t i = c0; i < c1; ++i) {
        std::int16_t* a = age + static_cast<std::size_t>(i) * kMaxMembers;
        const Aged aged = age_row(a, sec_age);
        const std::uint8_t pm = pregnancy[i];
        bool birth = false;  // month 9 ends in a birth into the first empty slot, if there is one
        if (pm >= 9)
          for (int k = 0; k < kMaxMembers; ++k) birth |= a[k] < 0;
        Counts c{};
        const bool counted = !aged.completion_age && !birth;
        if (counted) {
          const std::size_t row = static_cast<std::size_t>(i) * kMaxMembers;
          c = count_row(a, female + row, secondary + row, aged.oldest, bounds, vectors);
        }
        // No event is possible without a draw: leaving needs a candidate, death an old member and another
        // member, conception a fertile woman in a household without a pregnancy. The quiet household's
        // values are final; a listed household's are written again below.
        const bool quiet = counted & (c.leavers == 0) & ((c.old == 0) | (c.members <= 1)) & ((pm != 0) | (c.fertile == 0));
        pregnancy[i] = static_cast<std::uint8_t>(pm >= 9 ? 0 : pm + (pm > 0));
        size[i] = static_cast<std::uint8_t>(c.members);
        school[i] = static_cast<std::uint8_t>(c.pupils);
        pending[n] = {i, aged.oldest, pm, aged.completion_age, birth, counted, c};
        n += quiet ? 0 : 1;
      }
      // The listed households' blocks first: without branches between them their multiply chains overlap.
      std::array<rng::Stream::Philox::ctr_type, kChunk> blocks;
      for (std::uint32_t k = 0; k < n; ++k)
        blocks[k] = first_blocks(pending[k].i);

      for (std::uint32_t k = 0; k < n; ++k) {
        const Pending& e = pending[k];
        const std::uint32_t i = e.i;
        const int oldest = e.oldest;
        const std::uint8_t pm = e.pm;
        Counts c = e.c;
        std::int16_t* a = age + static_cast<std::size_t>(i) * kMaxMembers;
        std::uint8_t* fem = female + static_cast<std::size_t>(i) * kMaxMembers;
        std::uint8_t* sd = secondary + static_cast<std::size_t>(i) * kMaxMembers;
        const std::uint64_t* w = blocks[k].v;

        // Secondary completion at the completion age (twins share the draw).
        if (e.completion_age) {
          const std::uint8_t completes = half32(w, 2) < completion ? 1 : 0;
          for (int s = 0; s < kMaxMembers; ++s) sd[s] = a[s] == sec_age ? completes : sd[s];
        }
        if (e.birth) {
          for (int s = 0; s < kMaxMembers; ++s) {
            if (a[s] < 0) {
              a[s] = 0;
              fem[s] = half32(w, 1) < girl ? 1 : 0;
              sd[s] = 0;
              break;
            }
          }
        }
        if (!e.counted) c = count_row(a, fem, sd, oldest, bounds, vectors);  // after completion and birth

        // Young adults who live with a parent leave (the oldest of them); old members die (the oldest). The
        // tables give P = 0 for no candidate, so only the rare events branch.
        int members = c.members, old = c.old;
        bool removed = false;
        if (half32(w, 3) < any_leave[c.leavers]) {
          int leaver = -1;
          for (int s = 0; s < kMaxMembers; ++s)
            if (a[s] >= lmin && a[s] < lmax && oldest - a[s] >= gap && (leaver < 0 || a[s] > a[leaver])) leaver = s;
          if (a[leaver] >= old_age) --old;
          a[leaver] = -1;
          fem[leaver] = 0;
          sd[leaver] = 0;
          --members;
          removed = true;
          if (left[i] < 255) ++left[i];
        }
        if ((members > 1) & (half32(w, 4) < any_death[old])) {
          int eldest = -1;
          for (int s = 0; s < kMaxMembers; ++s)
            if (a[s] >= old_age && (eldest < 0 || a[s] > a[eldest])) eldest = s;
          a[eldest] = -1;
          fem[eldest] = 0;
          sd[eldest] = 0;
          --members;
          removed = true;
        }

        // Conception, only in a household without a pregnancy at the start of the month; counted after
        // leaving and deaths, so a woman who left this month no longer counts.
        if (removed) c = count_row(a, fem, sd, oldest, bounds, vectors);
        if ((pm == 0) & (half32(w, 0) < any_conception[c.fertile])) pregnancy[i] = 1;
        size[i] = static_cast<std::uint8_t>(members);
        school[i] = static_cast<std::uint8_t>(c.pupils);
      }
    }
  });
}

}  // namespace chacra::models
