// Micro-benchmark of the local markets (models/markets.hpp, docs/markets.md): one period's clearing of one
// local economy with the standard goods and hired labour. Items are economy-periods; divide the time by the
// households of an economy (about 500 in a default district) for the cost per household-month.
//
//   build/benchmarks/chacra_microbench --benchmark_filter=Markets --benchmark_repetitions=5
#include "models/markets.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

namespace {

namespace mk = chacra::models::markets;

// A local economy of `centres` centres: local food and livestock sold by one household group per centre,
// each business good by two groups, labour by one worker group per centre. Without `mixed`, the groups of a
// market share one elasticity and one capacity ratio (the closed forms: the proposed parameters); with it,
// the households and the businesses of a market differ in both, so that some groups are at capacity and
// others not (the bracketing solver). `variant` moves spending so that markets fall in all three regimes.
mk::PeriodInput economy(int centres, bool mixed, int variant) {
  std::uint64_t x = 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(variant);
  auto uniform = [&]() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return static_cast<double>(x >> 11) * 0x1.0p-53;
  };
  mk::PeriodInput in;
  in.goods.resize(mk::kGoodCount);
  for (int g = 0; g < mk::kGoodCount; ++g) {
    mk::MarketInput& m = in.goods[g];
    m.margin = 0.1 + 0.3 * uniform();
    m.cpi_weight = 0.04;
    const int groups = g < 2 ? centres : 2;
    double ref = 0;
    for (int i = 0; i < groups; ++i) {
      mk::Seller s;
      s.supply_ref = 100 + 400 * uniform();
      const bool business = mixed && 2 * i >= groups;  // listed after the households, by kind
      s.elasticity = business ? 1.0 : 0.5;
      s.capacity = (business ? 1.05 : 1.3) * s.supply_ref;
      s.labour_share = 0.2;
      s.outside_input_share = 0.2;
      m.sellers.push_back(s);
      ref += s.supply_ref;
    }
    m.final_spending_pen = ref * (0.6 + 0.8 * uniform());
  }
  in.labour.outside_price_pen = 35;
  in.labour.margin = 0.3;
  for (int c = 0; c < centres; ++c) {
    mk::Seller s;
    s.supply_ref = 20 + 40 * uniform();
    s.elasticity = 0.5;
    s.capacity = 2 * s.supply_ref;
    in.labour.sellers.push_back(s);
  }
  in.leakage_pen = 5000;
  in.transfers_pen = 2000;
  return in;
}

void BM_MarketsClearPeriod(benchmark::State& state) {
  const int centres = static_cast<int>(state.range(0));
  const bool mixed = state.range(1) != 0;
  std::vector<mk::PeriodInput> economies;
  for (int v = 0; v < 64; ++v) economies.push_back(economy(centres, mixed, v));
  mk::PeriodOutcome out;
  std::size_t i = 0;
  for (auto _ : state) {
    mk::clear_period(economies[i++ & 63], out);
    benchmark::DoNotOptimize(out.local_income_pen);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MarketsClearPeriod)->ArgsProduct({{10, 40}, {0, 1}})->ArgNames({"centres", "mixed"});

}  // namespace
