// The scaling projection of `chacra bench` on known inputs (no timing: the projection's check against a
// measured efficiency is a benchmark, run by `chacra bench` itself and by the bench-tier test).
#include "study/bench.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace bench = chacra::study::bench;

TEST(BenchProjection, AmdahlKnownValues) {
  EXPECT_DOUBLE_EQ(bench::amdahl_efficiency(0.0, 64), 1.0);
  EXPECT_DOUBLE_EQ(bench::amdahl_efficiency(0.3, 1), 1.0);
  // s = 0.1 at 10 threads: speed-up 1 / (0.1 + 0.09) = 5.263..., efficiency 0.5263...
  EXPECT_NEAR(bench::amdahl_efficiency(0.1, 10), 1.0 / 1.9, 1e-12);
  EXPECT_NEAR(bench::amdahl_efficiency(1.0, 16), 1.0 / 16, 1e-12);
  EXPECT_LT(bench::amdahl_efficiency(0.01, 32), bench::amdahl_efficiency(0.01, 16));
}

TEST(BenchProjection, BlockBalanceOfEqualAndUnequalBlocks) {
  const std::vector<double> equal(24, 4096.0);
  EXPECT_DOUBLE_EQ(bench::block_balance(equal, 1), 1.0);
  EXPECT_DOUBLE_EQ(bench::block_balance(equal, 8), 1.0);   // 3 blocks per thread
  EXPECT_DOUBLE_EQ(bench::block_balance(equal, 16), 24.0 / 32.0);  // half the threads take a second block
  EXPECT_DOUBLE_EQ(bench::block_balance(equal, 64), 24.0 / 64.0);  // 40 threads idle
  // One block of half the work limits two threads to 1.0 only if the rest fills the other: 4 + 2 + 1 + 1.
  EXPECT_DOUBLE_EQ(bench::block_balance({4, 2, 1, 1}, 2), 1.0);
  // In order, list scheduling: 1 | 1, then 4 to the first, 2 to the second: 5 against 3.
  EXPECT_DOUBLE_EQ(bench::block_balance({1, 1, 4, 2}, 2), 8.0 / 10.0);
  EXPECT_DOUBLE_EQ(bench::block_balance({}, 16), 1.0);
}

TEST(BenchProjection, ProjectedEfficiencyCombinesSerialPartAndBalance) {
  EXPECT_NEAR(bench::projected_efficiency(0.1, 1.0, 10), bench::amdahl_efficiency(0.1, 10), 1e-12);
  EXPECT_NEAR(bench::projected_efficiency(0.0, 0.75, 16), 0.75, 1e-12);
  // s = 0.02, g = 0.8, n = 8: 1 / (0.16 + 0.98 / 0.8)
  EXPECT_NEAR(bench::projected_efficiency(0.02, 0.8, 8), 1.0 / (0.16 + 0.98 / 0.8), 1e-12);
}

TEST(BenchProjection, ProjectFromAReport) {
  bench::Report r;
  r.profile.names = {"a.block", "b.global", "c.block"};
  r.profile.seconds = {6.0, 1.0, 3.0};
  r.profile.serial_seconds = {0.0, 0.2, 0.0};  // b's other 0.8 s ran in parallel loops
  r.block_households.assign(32, 1000.0);
  bench::ThreadFigures one, three;
  one.threads = 1;
  three.threads = 3;  // a measured count outside 2..64's powers is projected too
  r.throughput = {one, three};
  const bench::Projection p = bench::project(r);
  EXPECT_DOUBLE_EQ(p.serial_fraction, 0.02);
  ASSERT_EQ(p.threads, (std::vector<int>{2, 3, 4, 8, 16, 32, 64}));
  for (std::size_t i = 0; i < p.threads.size(); ++i) {
    const int n = p.threads[i];
    EXPECT_NEAR(p.amdahl[i], 1.0 / (n * 0.02 + 0.98), 1e-12) << n;
    EXPECT_DOUBLE_EQ(p.reference[i], p.balance[i]) << n;
    EXPECT_LE(p.model[i], p.amdahl[i] + 1e-12) << n;
  }
  EXPECT_DOUBLE_EQ(p.balance[1], 32.0 / 33.0);  // 3 threads: 11, 11, 10 blocks
  EXPECT_DOUBLE_EQ(p.balance[6], 0.5);          // 64 threads, 32 blocks
}

TEST(BenchProjection, BandwidthCountsEveryPass) {
  EXPECT_DOUBLE_EQ(bench::bandwidth_bytes_per_household_month(500, 1.0), 500.0);
  EXPECT_DOUBLE_EQ(bench::bandwidth_bytes_per_household_month(500, 2.5), 1250.0);
}
