// Generator tests: Random123 known-answer vectors, stream keying, and distribution moments within stated SEs.
#include "sim/rng.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <vector>

using chacra::rng::Stream;

TEST(RngGolden, Philox4x64KnownAnswers) {
  // Known-answer vectors published with Random123 (kat_vectors, philox4x64 10 rounds).
  using P = Stream::Philox;
  P::ctr_type c = {{0, 0, 0, 0}};
  P::key_type k = {{0, 0}};
  auto r = Stream::raw(c, k);
  EXPECT_EQ(r.v[0], 0x16554d9eca36314cULL);
  EXPECT_EQ(r.v[1], 0xdb20fe9d672d0fdcULL);
  EXPECT_EQ(r.v[2], 0xd7e772cee186176bULL);
  EXPECT_EQ(r.v[3], 0x7e68b68aec7ba23bULL);
  c = {{0x243f6a8885a308d3ULL, 0x13198a2e03707344ULL, 0xa4093822299f31d0ULL, 0x082efa98ec4e6c89ULL}};
  k = {{0x452821e638d01377ULL, 0xbe5466cf34e90c6cULL}};
  r = Stream::raw(c, k);
  EXPECT_EQ(r.v[0], 0xa528f45403e61d95ULL);
  EXPECT_EQ(r.v[1], 0x38c72dbd566e9788ULL);
  EXPECT_EQ(r.v[2], 0xa5a1610e72fd18b5ULL);
  EXPECT_EQ(r.v[3], 0x57bd43b5e52b7fe6ULL);
}

TEST(RngGolden, StreamBitsAreFixed) {
  // Golden bits of chacra's own keying (seed, replicate<<32|domain) x (draw, entity, period, 0). A change
  // here changes every result chacra has ever produced: update only on purpose.
  Stream s(42, 3, chacra::rng::domain_id("test.golden"), 7, 11);
  std::vector<std::uint64_t> got;
  for (int i = 0; i < 6; ++i) got.push_back(s());
  Stream again(42, 3, chacra::rng::domain_id("test.golden"), 7, 11);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(again(), got[static_cast<std::size_t>(i)]);
  // Draws 0..3 are the first Philox block for counter {0, entity, period, 0}.
  auto block = Stream::raw({{0, 11, 7, 0}}, {{42, (std::uint64_t{3} << 32) | chacra::rng::domain_id("test.golden")}});
  for (int i = 0; i < 4; ++i) EXPECT_EQ(got[static_cast<std::size_t>(i)], block.v[i]);
  auto block2 = Stream::raw({{1, 11, 7, 0}}, {{42, (std::uint64_t{3} << 32) | chacra::rng::domain_id("test.golden")}});
  EXPECT_EQ(got[4], block2.v[0]);
  const std::vector<std::uint64_t> golden = {0x13a385611ddf92f3ULL, 0xccc9069575a50985ULL, 0x7e80f53fd9a0f739ULL,
                                             0x1a21cc75e6ac1e60ULL, 0xcba07be21f048949ULL, 0x28e9de578fdb9f95ULL};
  EXPECT_EQ(got, golden);
  // Distributions on top of the stream are golden too (Boost.Random's normal is part of the contract).
  Stream t(42, 3, chacra::rng::domain_id("test.golden"), 7, 11);
  EXPECT_EQ(t.uniform(), 0.076713882646684717);
  EXPECT_EQ(t.normal(), 1.2046884992648983);
  EXPECT_EQ(chacra::rng::domain_id(""), 2166136261u);  // FNV-1a offset basis
  EXPECT_EQ(chacra::rng::domain_id("a"), 0xe40c292cu);  // FNV-1a("a")
}

TEST(RngGolden, FirstBlocksAreTheStreamsFirstBlocks) {
  // FirstBlocks precomputes what does not depend on the entity; its blocks must be first_block's, bit for bit,
  // and counted like them. Edge values (0, all ones) and random ones for the seed, period and entity.
  Stream gen(99, 0, chacra::rng::domain_id("test.first_blocks"), 0, 0);
  const std::uint64_t edges[] = {0, 1, ~std::uint64_t{0}, std::uint64_t{1} << 63};
  for (int trial = 0; trial < 200; ++trial) {
    chacra::rng::StreamSeed seed{trial < 4 ? edges[trial] : gen(), static_cast<std::uint32_t>(gen())};
    const auto domain = static_cast<std::uint32_t>(gen());
    const std::uint64_t period = trial < 4 ? edges[3 - trial] : gen() % 1000;
    const chacra::rng::FirstBlocks blocks(seed, domain, period);
    for (int e = 0; e < 20; ++e) {
      const std::uint64_t entity = e < 4 ? edges[e] : (e % 2 == 0 ? gen() : gen() % 100000);
      const auto before = chacra::rng::philox_blocks;
      const auto got = blocks(entity);
      EXPECT_EQ(chacra::rng::philox_blocks, before + 1);
      const auto want = seed.first_block(domain, period, entity);
      for (int w = 0; w < 4; ++w) ASSERT_EQ(got.v[w], want.v[w]) << "trial " << trial << " entity " << entity;
      // Its first uniform is a freshly opened stream's, bit for bit.
      const auto before_uniform = chacra::rng::philox_blocks;
      const double u = blocks.uniform(entity);
      EXPECT_EQ(chacra::rng::philox_blocks, before_uniform + 1);
      ASSERT_EQ(std::bit_cast<std::uint64_t>(u),
                std::bit_cast<std::uint64_t>(seed.open(domain, period, entity).uniform()))
          << "trial " << trial << " entity " << entity;
    }
  }
}

TEST(RngStreams, KeysAndCountersSeparateStreams) {
  const auto d = chacra::rng::domain_id("x");
  Stream base(1, 0, d, 0, 0);
  const auto first = base();
  EXPECT_NE(Stream(2, 0, d, 0, 0)(), first);                                // seed
  EXPECT_NE(Stream(1, 1, d, 0, 0)(), first);                                // replicate
  EXPECT_NE(Stream(1, 0, chacra::rng::domain_id("y"), 0, 0)(), first);      // domain
  EXPECT_NE(Stream(1, 0, d, 1, 0)(), first);                                // period
  EXPECT_NE(Stream(1, 0, d, 0, 1)(), first);                                // entity
}

namespace {
struct Moments {
  double mean = 0, var = 0;
};
template <class F> Moments moments(int n, F draw) {
  double s = 0, s2 = 0;
  for (int i = 0; i < n; ++i) {
    const double x = draw(i);
    s += x;
    s2 += x * x;
  }
  Moments m;
  m.mean = s / n;
  m.var = s2 / n - m.mean * m.mean;
  return m;
}
}  // namespace

// Each check allows 4 standard errors of the sample statistic.
TEST(RngMoments, UniformNormalBernoulliPoisson) {
  const int n = 200000;
  const auto d = chacra::rng::domain_id("test.moments");
  auto u = moments(n, [&](int i) { return Stream(3, 0, d, 0, static_cast<std::uint64_t>(i)).uniform(); });
  EXPECT_NEAR(u.mean, 0.5, 4 * std::sqrt(1.0 / 12 / n));
  EXPECT_NEAR(u.var, 1.0 / 12, 4 * std::sqrt(1.0 / 180 / n));  // var of (U-1/2)^2 is 1/180
  auto z = moments(n, [&](int i) { return Stream(3, 1, d, 0, static_cast<std::uint64_t>(i)).normal(); });
  EXPECT_NEAR(z.mean, 0.0, 4 * std::sqrt(1.0 / n));
  EXPECT_NEAR(z.var, 1.0, 4 * std::sqrt(2.0 / n));
  auto b = moments(n, [&](int i) { return Stream(3, 2, d, 0, static_cast<std::uint64_t>(i)).bernoulli(0.3) ? 1.0 : 0.0; });
  EXPECT_NEAR(b.mean, 0.3, 4 * std::sqrt(0.3 * 0.7 / n));
  auto p = moments(n, [&](int i) { return Stream(3, 3, d, 0, static_cast<std::uint64_t>(i)).poisson(2.5); });
  EXPECT_NEAR(p.mean, 2.5, 4 * std::sqrt(2.5 / n));
  EXPECT_NEAR(p.var, 2.5, 4 * std::sqrt((2.5 + 2 * 2.5 * 2.5) / n));
  // Draws within one stream are independent: lag-1 correlation near 0.
  Stream s(3, 4, d, 0, 0);
  double prev = s.uniform(), sxy = 0;
  for (int i = 0; i < n; ++i) {
    const double x = s.uniform();
    sxy += (x - 0.5) * (prev - 0.5);
    prev = x;
  }
  EXPECT_NEAR(sxy / n / (1.0 / 12), 0.0, 4 / std::sqrt(static_cast<double>(n)));
}

TEST(RngMoments, UniformIsOpenInterval) {
  Stream s(0, 0, 0, 0, 0);
  for (int i = 0; i < 100000; ++i) {
    const double x = s.uniform();
    ASSERT_GT(x, 0.0);
    ASSERT_LT(x, 1.0);
  }
}
