// The lane helpers (models/lanes.hpp) give, lane by lane, the same bits as the one-household calls they
// stand for, including for signed zeros and NaN, so phase kernels written once for float and lanes agree.
#include "models/lanes.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace {

namespace lanes = chacra::models::lanes;
using lanes::kLanes;
using lanes::vf;

const std::vector<float> kValues = {0.0f, -0.0f, 1.0f, -1.0f, 0.2f, 1e-30f, -3.5e12f,
                                    std::numeric_limits<float>::infinity(),
                                    std::numeric_limits<float>::quiet_NaN()};

std::uint32_t bits(float x) { return std::bit_cast<std::uint32_t>(x); }

vf lanes_of(const float* v) { return lanes::load<vf>(v); }

}  // namespace

TEST(Lanes, MaxMinClampSelectMatchTheScalarCalls) {
  for (float c : kValues) {
    for (float x : kValues) {
      // One value per lane, the other lanes other values, so a lane mix-up shows.
      const float xs[kLanes] = {x, c, 2.0f, -0.0f};
      const vf v = lanes_of(xs), cv = lanes::splat(c);
      const vf mx = lanes::max_of(c, v), mn = lanes::min_of(c, v), mv = lanes::max_of(cv, v);
      for (int j = 0; j < kLanes; ++j) {
        EXPECT_EQ(bits(mx[j]), bits(std::max(c, xs[j]))) << c << " " << xs[j];
        EXPECT_EQ(bits(mv[j]), bits(std::max(c, xs[j])));
        EXPECT_EQ(bits(mn[j]), bits(std::min(c, xs[j]))) << c << " " << xs[j];
        EXPECT_EQ(bits(lanes::max_of(c, xs[j])), bits(std::max(c, xs[j])));
        EXPECT_EQ(bits(lanes::min_of(c, xs[j])), bits(std::min(c, xs[j])));
      }
      if (std::isnan(c) || std::isnan(x)) continue;  // std::clamp requires ordered bounds
      const float lo = std::min(c, 0.5f), hi = std::max(c, 0.5f);
      const vf cl = lanes::clamp_of(v, lanes::splat(lo), lanes::splat(hi));
      for (int j = 0; j < kLanes; ++j) {
        if (std::isnan(xs[j])) continue;
        EXPECT_EQ(bits(cl[j]), bits(std::clamp(xs[j], lo, hi))) << xs[j] << " in [" << lo << ", " << hi << "]";
        EXPECT_EQ(bits(lanes::clamp_of(xs[j], lo, hi)), bits(std::clamp(xs[j], lo, hi)));
      }
    }
  }
}

TEST(Lanes, MasksSelectAndLaneAccess) {
  const std::int32_t masks[kLanes] = {0b1, 0b10, 0b11, 0};
  const lanes::vi m = lanes::Traits<vf>::load_mask(masks);
  const float a[kLanes] = {1, 2, 3, 4}, b[kLanes] = {-1, -2, -3, -4};
  for (int bit = 0; bit < 2; ++bit) {
    const auto on = lanes::has_bit(m, bit);
    const vf s = lanes::select(on, lanes_of(a), lanes_of(b));
    for (int j = 0; j < kLanes; ++j) {
      const bool expected = ((masks[j] >> bit) & 1) != 0;
      EXPECT_EQ(lanes::lane(on, j), expected);
      EXPECT_EQ(lanes::has_bit(static_cast<unsigned>(masks[j]), bit), expected);
      EXPECT_EQ(s[j], expected ? a[j] : b[j]);
      EXPECT_EQ(lanes::lane(s, j), s[j]);
    }
    // keep(): the value or +0.0 (never -0.0), so adding it to a non-negative sum equals selecting the sums.
    const float neg[kLanes] = {-0.0f, -0.0f, 5.0f, -0.0f};
    const vf kept = lanes::keep(on, lanes_of(neg));
    vf sum = lanes::splat(0.0f), selected = sum;
    for (int t = 0; t < 3; ++t) {
      sum += lanes::keep(on, lanes_of(a) * static_cast<float>(t));
      selected = lanes::select(on, selected + lanes_of(a) * static_cast<float>(t), selected);
    }
    for (int j = 0; j < kLanes; ++j) {
      const bool expected = ((masks[j] >> bit) & 1) != 0;
      EXPECT_EQ(bits(kept[j]), bits(expected ? neg[j] : 0.0f)) << "lane " << j;
      EXPECT_EQ(bits(lanes::keep(expected, neg[j])), bits(kept[j]));
      EXPECT_EQ(bits(sum[j]), bits(selected[j])) << "lane " << j;
    }
  }
}

TEST(Lanes, Columns12TransposesRowsOfTwelve) {
  float rows[12 * kLanes];
  for (int k = 0; k < 12 * kLanes; ++k) rows[k] = static_cast<float>(k) + 0.25f;
  const auto by_column = lanes::columns12(rows, vf{});
  for (int m = 0; m < 12; ++m)
    for (int j = 0; j < kLanes; ++j) EXPECT_EQ(by_column[m][j], rows[12 * j + m]) << "column " << m << " lane " << j;
  const auto one = lanes::columns12(rows + 12, 0.0f);
  for (int m = 0; m < 12; ++m) EXPECT_EQ(one[m], rows[12 + m]);
  float out[kLanes];
  lanes::store(out, by_column[5]);
  for (int j = 0; j < kLanes; ++j) EXPECT_EQ(out[j], rows[12 * j + 5]);
}

// Byte lanes: a partial load fills the lanes past n with zero, a partial store writes exactly n bytes (the
// bytes after them belong to the next block's households, which another thread may be writing), and
// lane_bits gives one bit per set lane.
TEST(ByteLanes, PartialLoadsAndStoresTouchOnlyTheirBytes) {
  namespace bytes = chacra::models::bytes;
  std::uint8_t src[bytes::kLanes + 4];
  for (int j = 0; j < bytes::kLanes + 4; ++j) src[j] = static_cast<std::uint8_t>(j + 1);
  for (int n = 0; n <= bytes::kLanes; ++n) {
    const bytes::u8 v = bytes::load(src, n);
    for (int j = 0; j < bytes::kLanes; ++j) EXPECT_EQ(v[j], j < n ? src[j] : 0) << "n " << n << " lane " << j;

    std::uint8_t dst[bytes::kLanes + 4];
    std::fill(std::begin(dst), std::end(dst), std::uint8_t{0xEE});
    bytes::store(dst, v + bytes::splat(100), n);
    for (int j = 0; j < bytes::kLanes + 4; ++j)
      EXPECT_EQ(dst[j], j < n ? static_cast<std::uint8_t>(src[j] + 100) : 0xEE) << "n " << n << " byte " << j;

    // Lanes below n that hold an odd value.
    const bytes::m8 odd = (v & bytes::splat(1)) != 0;
    unsigned expected = 0;
    for (int j = 0; j < n; ++j) expected |= (src[j] % 2 != 0 ? 1u : 0u) << j;
    EXPECT_EQ(bytes::lane_bits(odd), expected) << "n " << n;
  }
}
