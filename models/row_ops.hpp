// Small per-household row kernels shared by the phase loops: counts over the kMaxMembers member slots and
// the technology slots, on SSE2 (the x86-64 baseline) with a plain C++ fallback that gives the
// same results. They only read rows; results are exact integers (docs/performance.md).
#pragma once

#include "models/lanes.hpp"
#include "models/shared_state.hpp"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__) && defined(__x86_64__) && !defined(CHACRA_NO_SIMD)
#define CHACRA_ROWS_SSE2 1
#include <emmintrin.h>
#endif

namespace chacra::models::rows {

static_assert(kMaxMembers == 10, "the SSE2 row kernels load 8 + 2 member slots");
static_assert(kTechCount == 10, "the SSE2 row kernels load 8 + 2 technology slots");

#if defined(CHACRA_ROWS_SSE2)
namespace detail {

// The ten int16 slots of a row as lanes 0-7 of `lo` and lanes 0-1 of `hi` (lanes 2-7 of `hi` are -1, an
// empty slot, which fails every test below that requires a non-negative age).
struct Slots16 {
  __m128i lo, hi;
};
inline Slots16 load_slots(const std::int16_t* a) {
  std::int32_t tail;
  std::memcpy(&tail, a + 8, 4);
  const __m128i empty_hi = _mm_set_epi16(-1, -1, -1, -1, -1, -1, 0, 0);
  return {_mm_loadu_si128(reinterpret_cast<const __m128i*>(a)), _mm_or_si128(_mm_cvtsi32_si128(tail), empty_hi)};
}
// Lanes where lo_bound <= x < hi_bound (all ones), else zero.
inline __m128i in_range(__m128i x, std::int16_t lo_bound, std::int16_t hi_bound) {
  return _mm_andnot_si128(_mm_cmplt_epi16(x, _mm_set1_epi16(lo_bound)), _mm_cmplt_epi16(x, _mm_set1_epi16(hi_bound)));
}
// Number of all-ones lanes of two 16-bit masks.
inline int count_lanes(__m128i m_lo, __m128i m_hi) {
  const __m128i s = _mm_madd_epi16(_mm_add_epi16(m_lo, m_hi), _mm_set1_epi16(1));  // 4 x int32, each -0..-4
  const __m128i s2 = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  const __m128i s4 = _mm_add_epi32(s2, _mm_shuffle_epi32(s2, _MM_SHUFFLE(2, 3, 0, 1)));
  return -_mm_cvtsi128_si32(s4);
}
// The ten uint8 slots of a row in byte lanes 0-9 (lanes 10-15 are zero), without reading past the row.
inline __m128i load_row10(const std::uint8_t* p) {
  std::uint64_t head;
  std::uint16_t tail;
  std::memcpy(&head, p, 8);
  std::memcpy(&tail, p + 8, 2);
  return _mm_unpacklo_epi64(_mm_cvtsi64_si128(static_cast<long long>(head)), _mm_cvtsi32_si128(tail));
}
// The ten uint8 slots of a row widened to int16 lanes (lanes 2-7 of hi are 0xFF).
inline Slots16 load_bytes(const std::uint8_t* p) {
  const __m128i row = load_row10(p), zero = _mm_setzero_si128();
  const __m128i hi = _mm_unpackhi_epi8(row, zero);  // slots 8-9, then zeros
  return {_mm_unpacklo_epi8(row, zero), _mm_or_si128(hi, _mm_set_epi16(0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0))};
}

}  // namespace detail
#endif

// Members whose age in months is in [lo, hi) (lo >= 0).
inline int members_aged(const std::int16_t* age, int lo, int hi) {
#if defined(CHACRA_ROWS_SSE2)
  const auto s = detail::load_slots(age);
  const auto l = static_cast<std::int16_t>(lo), h = static_cast<std::int16_t>(hi);
  return detail::count_lanes(detail::in_range(s.lo, l, h), detail::in_range(s.hi, l, h));
#else
  int n = 0;
  for (int k = 0; k < kMaxMembers; ++k) n += age[k] >= lo && age[k] < hi;
  return n;
#endif
}

// Members whose age in months is in each of four ranges [lo[k], hi[k]) (lo[k] >= 0), from one load of the row:
// the same counts as four calls of members_aged.
inline std::array<int, 4> members_aged4(const std::int16_t* age, const std::array<std::int16_t, 4>& lo,
                                        const std::array<std::int16_t, 4>& hi) {
#if defined(CHACRA_ROWS_SSE2)
  const auto s = detail::load_slots(age);
  const __m128i ones = _mm_set1_epi16(1);
  __m128i sums[4];
  for (int k = 0; k < 4; ++k)  // four int32 partial sums (each -0..-4) of range k
    sums[k] = _mm_madd_epi16(_mm_add_epi16(detail::in_range(s.lo, lo[k], hi[k]), detail::in_range(s.hi, lo[k], hi[k])),
                             ones);
  // Transpose-add the four vectors: lane k of the result is the sum of sums[k].
  const __m128i t0 = _mm_add_epi32(_mm_unpacklo_epi32(sums[0], sums[1]), _mm_unpackhi_epi32(sums[0], sums[1]));
  const __m128i t1 = _mm_add_epi32(_mm_unpacklo_epi32(sums[2], sums[3]), _mm_unpackhi_epi32(sums[2], sums[3]));
  const __m128i total = _mm_add_epi32(_mm_unpacklo_epi64(t0, t1), _mm_unpackhi_epi64(t0, t1));
  alignas(16) std::int32_t c[4];
  _mm_store_si128(reinterpret_cast<__m128i*>(c), total);
  return {-c[0], -c[1], -c[2], -c[3]};
#else
  std::array<int, 4> n{};
  for (int k = 0; k < 4; ++k) n[k] = members_aged(age, lo[k], hi[k]);
  return n;
#endif
}

// Whether some member is aged in [0, max_age) and has not finished secondary school (flag 0).
inline bool any_child(const std::int16_t* age, const std::uint8_t* secondary_done, int max_age) {
#if defined(CHACRA_ROWS_SSE2)
  const auto s = detail::load_slots(age);
  const auto d = detail::load_bytes(secondary_done);
  const __m128i zero = _mm_setzero_si128();
  const auto h = static_cast<std::int16_t>(max_age);
  const __m128i m_lo = _mm_and_si128(detail::in_range(s.lo, 0, h), _mm_cmpeq_epi16(d.lo, zero));
  const __m128i m_hi = _mm_and_si128(detail::in_range(s.hi, 0, h), _mm_cmpeq_epi16(d.hi, zero));
  return _mm_movemask_epi8(_mm_or_si128(m_lo, m_hi)) != 0;
#else
  bool child = false;
  for (int k = 0; k < kMaxMembers; ++k) child |= age[k] >= 0 && age[k] < max_age && secondary_done[k] == 0;
  return child;
#endif
}

// Bit t set when state[t] == value, for the kTechCount technology slots of a row.
inline unsigned tech_mask(const std::uint8_t* state, std::uint8_t value) {
#if defined(CHACRA_ROWS_SSE2)
  const __m128i v = detail::load_row10(state);
  const unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(static_cast<char>(value)))));
  return m & 0x3FFu;
#else
  unsigned m = 0;
  for (int t = 0; t < kTechCount; ++t) m |= (state[t] == value ? 1u : 0u) << t;
  return m;
#endif
}

// tech_mask of four consecutive rows (4 x kTechCount bytes) from three loads: row j's mask in bits [10 j, 10 j + 10).
inline std::uint64_t tech_masks4(const std::uint8_t* rows, std::uint8_t value) {
#if defined(CHACRA_ROWS_SSE2)
  const __m128i v = _mm_set1_epi8(static_cast<char>(value));
  std::int64_t tail;
  std::memcpy(&tail, rows + 32, sizeof tail);
  const auto eq = [&](__m128i x) { return static_cast<std::uint64_t>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, v))); };
  return eq(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows))) |
         eq(_mm_loadu_si128(reinterpret_cast<const __m128i*>(rows + 16))) << 16 |
         (eq(_mm_cvtsi64_si128(tail)) & 0xFFu) << 32;
#else
  std::uint64_t m = 0;
  for (int j = 0; j < 4; ++j) m |= static_cast<std::uint64_t>(tech_mask(rows + j * kTechCount, value)) << (10 * j);
  return m;
#endif
}

// Row j's mask (j < 4) from tech_masks4's result.
inline unsigned tech_mask_of(std::uint64_t masks4, int j) {
  return static_cast<unsigned>(masks4 >> (kTechCount * j)) & 0x3FFu;
}
// The four rows' masks from tech_masks4's result, one per int32 lane.
inline lanes::vi tech_mask_lanes(std::uint64_t masks4) {
  static_assert(lanes::kLanes == 4, "four rows, four lanes");
  return lanes::vi{static_cast<std::int32_t>(masks4), static_cast<std::int32_t>(masks4 >> kTechCount),
                   static_cast<std::int32_t>(masks4 >> (2 * kTechCount)),
                   static_cast<std::int32_t>(masks4 >> (3 * kTechCount))} &
         0x3FF;
}

// Whether households first..first+n-1 live in one district (households are sorted by district, so almost
// always): a phase in lanes then takes the district's values once for all its lanes.
template <int n>
inline bool one_district(const std::uint32_t* district, std::uint32_t first) {
  bool same = true;
  for (int j = 1; j < n; ++j) same &= district[first + static_cast<std::uint32_t>(j)] == district[first];
  return same;
}

// The inputs the consumption rules take per lane for households first..first+n-1: persons (at least 1) and the
// mask of adopted technologies; returns the union of the masks (technologies some lane has adopted).
template <int n>
inline unsigned budget_lanes(const std::uint8_t* state, const std::uint8_t* size, std::uint32_t first,
                             float (&persons)[n], std::int32_t (&adopted)[n]) {
  unsigned present = 0;
  for (int j = 0; j < n; ++j) {
    const std::uint32_t hh = first + static_cast<std::uint32_t>(j);
    const unsigned m =
        tech_mask(state + static_cast<std::size_t>(hh) * kTechCount, static_cast<std::uint8_t>(TechState::adopted));
    adopted[j] = static_cast<std::int32_t>(m);
    present |= m;
    persons[j] = static_cast<float>(size[hh] > 1 ? size[hh] : 1);
  }
  return present;
}

// Adds to counts[t] the number of rows (kTechCount bytes each, `n` consecutive rows) whose slot t equals
// `value`.
inline void add_tech_counts(const std::uint8_t* rows_begin, std::size_t n, std::uint8_t value, int* counts) {
#if defined(CHACRA_ROWS_SSE2)
  // Byte counters (slots 0-9 of a row in lanes 0-9), widened to int16 before they can wrap.
  const __m128i v = _mm_set1_epi8(static_cast<char>(value));
  for (std::size_t r0 = 0; r0 < n; r0 += 255) {
    __m128i acc = _mm_setzero_si128();
    for (std::size_t r = r0; r < n && r < r0 + 255; ++r) {
      acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(detail::load_row10(rows_begin + r * kTechCount), v));
    }
    alignas(16) std::uint8_t c[16];
    _mm_store_si128(reinterpret_cast<__m128i*>(c), acc);
    for (int t = 0; t < kTechCount; ++t) counts[t] += c[t];
  }
#else
  for (std::size_t r = 0; r < n; ++r)
    for (int t = 0; t < kTechCount; ++t) counts[t] += rows_begin[r * kTechCount + static_cast<std::size_t>(t)] == value;
#endif
}

// Members whose age in months is in [lo, hi) (lo >= 0) in each of four consecutive rows (40 slots from `age`):
// the same counts as four calls of members_aged. The rows' 40 slots are five vectors; their range masks pack to
// one bit per slot and each row's ten bits are counted by a table, where four calls take four horizontal sums.
inline std::array<int, 4> members_aged_of4(const std::int16_t* age, std::int16_t lo, std::int16_t hi) {
#if defined(CHACRA_ROWS_SSE2)
  static constexpr std::array<std::uint8_t, 1024> kBits = [] {
    std::array<std::uint8_t, 1024> n{};
    for (unsigned m = 0; m < 1024; ++m) n[m] = static_cast<std::uint8_t>(std::popcount(m));
    return n;
  }();
  const auto in = [&](int k) {
    return detail::in_range(_mm_loadu_si128(reinterpret_cast<const __m128i*>(age + 8 * k)), lo, hi);
  };
  const auto bits16 = [](__m128i a, __m128i b) {  // one bit per int16 lane of a, then of b
    return static_cast<std::uint64_t>(static_cast<unsigned>(_mm_movemask_epi8(_mm_packs_epi16(a, b))));
  };
  const std::uint64_t bits = bits16(in(0), in(1)) | bits16(in(2), in(3)) << 16 | bits16(in(4), _mm_setzero_si128()) << 32;
  return {kBits[bits & 1023u], kBits[(bits >> 10) & 1023u], kBits[(bits >> 20) & 1023u], kBits[(bits >> 30) & 1023u]};
#else
  std::array<int, 4> n{};
  for (int j = 0; j < 4; ++j) n[static_cast<std::size_t>(j)] = members_aged(age + kMaxMembers * j, lo, hi);
  return n;
#endif
}

// Lists, in order, the households i of [begin, end) for which keep(i) holds into `out` (room for end - begin)
// and returns how many. There is no branch per household: which households a phase works on (affiliated,
// participating, ...) is often as good as random from one to the next, and a branch on it would be
// mispredicted about as often as it is taken (docs/performance.md, item 14).
template <class Keep>
std::uint32_t list_households(std::uint32_t begin, std::uint32_t end, std::uint32_t* out, Keep keep) {
  std::uint32_t n = 0;
  for (std::uint32_t i = begin; i < end; ++i) {
    out[n] = i;
    n += keep(i) ? 1 : 0;
  }
  return n;
}

}  // namespace chacra::models::rows
