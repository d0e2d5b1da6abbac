// Float and byte lanes for phase kernels that evaluate one formula for several households at once.
//
// A formula written once as a template over V (float for one household, vf for kLanes households) with
// the helpers below gives the same bits either way: vf uses GCC/Clang vector extensions (one SSE2 register on
// the x86-64 baseline), each lane performs exactly the IEEE operations of the one-household code in the same
// order (the build sets -ffp-contract=off, so no multiply-add is fused in either), and select() keeps the old
// value in a lane where the one-household code skips a term (docs/performance.md).
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>

#if defined(__SSE__) && !defined(CHACRA_NO_SIMD)
#include <xmmintrin.h>
#define CHACRA_LANES_SSE 1
#endif
#if defined(__SSE2__) && !defined(CHACRA_NO_SIMD)
#include <emmintrin.h>
#define CHACRA_BYTES_SSE2 1
#endif

namespace chacra::models::lanes {

// Four lanes: the SSE2 width. (Eight-lane vectors are split by GCC into element-wise code on SSE2 for the
// masked selects, which made the income phase 2.4x slower.)
inline constexpr int kLanes = 4;
using vf = float __attribute__((vector_size(kLanes * sizeof(float))));
using vi = std::int32_t __attribute__((vector_size(kLanes * sizeof(std::int32_t))));

inline vf splat(float x) {
  vf v;
  for (int j = 0; j < kLanes; ++j) v[j] = x;
  return v;
}

// One household (float, masks unsigned) or kLanes households (vf, masks vi): the lane count, the mask type,
// and loads and stores of consecutive households of a column (masks are gathered as int32).
template <class V>
struct Traits;
template <>
struct Traits<float> {
  using Mask = unsigned;
  static constexpr int width = 1;
  static float load(const float* p) { return *p; }
  static Mask load_mask(const std::int32_t* p) { return static_cast<unsigned>(*p); }
};
template <>
struct Traits<vf> {
  using Mask = vi;
  static constexpr int width = kLanes;
  static vf load(const float* p) {
    vf v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  static Mask load_mask(const std::int32_t* p) {
    vi v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
};
template <class V>
V load(const float* p) {
  return Traits<V>::load(p);
}
inline void store(float* p, float v) { *p = v; }
inline void store(float* p, vf v) { std::memcpy(p, &v, sizeof v); }

// Value j of V (j = 0 for float).
inline float lane(float v, int) { return v; }
inline float lane(vf v, int j) { return v[j]; }
inline bool lane(bool m, int) { return m; }
inline bool lane(vi m, int j) { return m[j] != 0; }

// Rows of 12 floats of Traits<V>::width consecutive households, by column: out[m] holds value m of each
// household's row (one SSE transpose per four columns).
inline std::array<float, 12> columns12(const float* rows, float) {
  std::array<float, 12> out;
  std::memcpy(out.data(), rows, sizeof out);
  return out;
}
inline std::array<vf, 12> columns12(const float* rows, vf) {
  static_assert(kLanes == 4, "one 4 x 4 transpose per four columns");
  std::array<vf, 12> out;
  for (int b = 0; b < 12; b += 4) {
#if defined(CHACRA_LANES_SSE)
    __m128 r0 = _mm_loadu_ps(rows + b), r1 = _mm_loadu_ps(rows + 12 + b), r2 = _mm_loadu_ps(rows + 24 + b),
           r3 = _mm_loadu_ps(rows + 36 + b);
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    out[b] = r0;
    out[b + 1] = r1;
    out[b + 2] = r2;
    out[b + 3] = r3;
#else
    for (int m = b; m < b + 4; ++m)
      for (int j = 0; j < kLanes; ++j) out[m][j] = rows[12 * j + m];
#endif
  }
  return out;
}

// The inverse of columns12 for four columns: rows[stride * j + q] = value j of v[q], q = 0..3 (one SSE transpose
// and four stores where lane-by-lane stores take sixteen).
inline void store_columns4(float* rows, std::size_t, const std::array<float, 4>& v) { std::memcpy(rows, v.data(), sizeof v); }
inline void store_columns4(float* rows, std::size_t stride, const std::array<vf, 4>& v) {
  static_assert(kLanes == 4, "one 4 x 4 transpose");
#if defined(CHACRA_LANES_SSE)
  __m128 r0 = v[0], r1 = v[1], r2 = v[2], r3 = v[3];
  _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
  _mm_storeu_ps(rows, r0);
  _mm_storeu_ps(rows + stride, r1);
  _mm_storeu_ps(rows + 2 * stride, r2);
  _mm_storeu_ps(rows + 3 * stride, r3);
#else
  for (int q = 0; q < 4; ++q)
    for (int j = 0; j < kLanes; ++j) rows[stride * static_cast<std::size_t>(j) + static_cast<std::size_t>(q)] = v[q][j];
#endif
}

// std::max(c, x) and std::min(c, x), with the same operand roles in lanes (so NaN and signed zeros select
// the same operand as the scalar call). On SSE, MAXPS(a, b) is a > b ? a : b and MINPS(a, b) is a < b ? a : b,
// each returning b when either is NaN: exactly c < x ? x : c as MAXPS(x, c) and x < c ? x : c as MINPS(x, c),
// one instruction where the compare and the select take four.
inline float max_of(float c, float x) { return c < x ? x : c; }
inline float min_of(float c, float x) { return x < c ? x : c; }
#if defined(CHACRA_LANES_SSE)
inline vf max_of(vf c, vf x) { return _mm_max_ps(x, c); }
inline vf min_of(vf c, vf x) { return _mm_min_ps(x, c); }
#else
inline vf max_of(vf c, vf x) { return c < x ? x : c; }
inline vf min_of(vf c, vf x) { return x < c ? x : c; }
#endif
inline vf max_of(float c, vf x) { return max_of(splat(c), x); }
inline vf min_of(float c, vf x) { return min_of(splat(c), x); }
// std::clamp(x, lo, hi), whose inner choice hi < x ? hi : x is MINPS(hi, x); the outer one stays a select, so
// that the result is the scalar call's even where hi < lo.
inline float clamp_of(float x, float lo, float hi) { return x < lo ? lo : (hi < x ? hi : x); }
#if defined(CHACRA_LANES_SSE)
inline vf clamp_of(vf x, vf lo, vf hi) { return x < lo ? lo : vf(_mm_min_ps(hi, x)); }
#else
inline vf clamp_of(vf x, vf lo, vf hi) { return x < lo ? lo : (hi < x ? hi : x); }
#endif

// m ? a : b, per lane for a lane mask (all ones or zero).
inline float select(bool m, float a, float b) { return m ? a : b; }
inline vf select(vi m, vf a, vf b) { return m ? a : b; }

// v where the mask is set, +0.0 elsewhere (a bitwise and in lanes). Adding +0.0 leaves a sum that is not
// -0.0 unchanged, so a sum of finite non-negative terms that starts at +0.0 can add keep(m, term) instead
// of selecting between the new and the old sum (one instruction instead of three).
inline float keep(bool m, float v) { return m ? v : 0.0f; }
inline vf keep(vi m, vf v) { return reinterpret_cast<vf>(reinterpret_cast<vi>(v) & m); }
inline vf keep(vi m, float v) { return keep(m, splat(v)); }

// Whether bit `bit` of a mask is set: a bool for one household, a lane mask for lanes (the bit shifted to the
// sign and spread by an arithmetic shift: two instructions where an and, a compare with zero and its negation
// take four).
inline bool has_bit(unsigned mask, int bit) { return ((mask >> bit) & 1u) != 0; }
inline vi has_bit(vi masks, int bit) { return (masks << (31 - bit)) >> 31; }

// f(std::integral_constant<int, b>{}) for each set bit b < Bits of `set`, in increasing order, unrolled: one
// branch per bit, which keeps its direction all month when `set` is a month's constant (the technologies that
// earn, that have an up-front value), where a loop over the set bits mispredicts its exit, and each call's b
// is a constant the compiler folds.
template <int Bits, class F>
[[gnu::always_inline]] inline void for_each_bit(unsigned set, F&& f) {
  [&]<int... b>(std::integer_sequence<int, b...>) __attribute__((always_inline)) {
    ((((set >> b) & 1u) != 0 ? f(std::integral_constant<int, b>{}) : void()), ...);
  }(std::make_integer_sequence<int, Bits>{});
}

// Four households' one-byte column values (flags, counts) as int32 lanes, zero-extended.
inline vi bytes4(const std::uint8_t* p) {
#if defined(CHACRA_BYTES_SSE2)
  std::int32_t w;
  std::memcpy(&w, p, sizeof w);
  const __m128i zero = _mm_setzero_si128();
  return reinterpret_cast<vi>(_mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(w), zero), zero));
#else
  return vi{p[0], p[1], p[2], p[3]};
#endif
}
// Persons of the households from p (household_size, a byte), at least 1, as V: the rules'
// static_cast<float>(std::max<int>(1, size)), for one or four households.
inline float persons(const std::uint8_t* p, float) { return static_cast<float>(*p > 1 ? *p : 1); }
inline vf persons(const std::uint8_t* p, vf) {
  const vi s = bytes4(p);
  return __builtin_convertvector(s - (s == 0), vf);  // 0 becomes 1 (the compare's -1 subtracted)
}
// All ones in lane j where p[j] is not zero (four households' flags as a mask).
inline vi flags4(const std::uint8_t* p) { return bytes4(p) != 0; }
// p[j] = 1 where lane j of the mask m (lanes of 0 or -1) is set, else 0.
inline void store_flags4(std::uint8_t* p, vi m) {
#if defined(CHACRA_BYTES_SSE2)
  const __m128i w = reinterpret_cast<__m128i>(m);
  const __m128i b = _mm_and_si128(_mm_packs_epi16(_mm_packs_epi32(w, w), w), _mm_set1_epi8(1));
  const std::int32_t out = _mm_cvtsi128_si32(b);
  std::memcpy(p, &out, sizeof out);
#else
  for (int j = 0; j < kLanes; ++j) p[j] = m[j] != 0 ? 1 : 0;
#endif
}

}  // namespace chacra::models::lanes

// Byte lanes: sixteen households' one-byte columns (statuses, flags) in one vector, for status transitions
// written once as selects. Comparisons give lanes of 0 or -1 (m8); `c ? a : b` selects per lane.
namespace chacra::models::bytes {

inline constexpr int kLanes = 16;
using u8 = std::uint8_t __attribute__((vector_size(kLanes)));
using m8 = std::int8_t __attribute__((vector_size(kLanes)));

inline u8 splat(std::uint8_t x) { return u8{} + x; }
// The first n (<= kLanes) bytes from p; lanes from n on are zero.
inline u8 load(const std::uint8_t* p, int n) {
  u8 v{};
  if (n == kLanes) {
    std::memcpy(&v, p, kLanes);
  } else {
    std::memcpy(&v, p, static_cast<std::size_t>(n));
  }
  return v;
}
// Stores the first n (<= kLanes) lanes at p.
inline void store(std::uint8_t* p, u8 v, int n) {
  if (n == kLanes) {
    std::memcpy(p, &v, kLanes);
  } else {
    std::memcpy(p, &v, static_cast<std::size_t>(n));
  }
}
// Bit j set where lane j of a mask is set.
inline unsigned lane_bits(m8 mask) {
#if defined(CHACRA_BYTES_SSE2)
  return static_cast<unsigned>(_mm_movemask_epi8(reinterpret_cast<__m128i>(mask)));
#else
  unsigned bits = 0;
  for (int j = 0; j < kLanes; ++j) bits |= (mask[j] != 0 ? 1u : 0u) << j;
  return bits;
#endif
}

}  // namespace chacra::models::bytes
