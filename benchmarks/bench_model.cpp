// Micro-benchmarks of the model: population generator, each phase of the month on a warmed-up world, the
// Philox streams and the reference draw-and-sweep kernel (docs/performance.md). Items are households (or
// household-months), so Google Benchmark reports households per second.
//
//   build/benchmarks/chacra_microbench --benchmark_filter=Phase --benchmark_repetitions=5
#include "models/registry.hpp"
#include "sim/bench_kernel.hpp"
#include "sim/engine.hpp"
#include "sim/population.hpp"
#include "study/stats.hpp"

#include <benchmark/benchmark.h>
#include <oneapi/tbb/global_control.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace {

using chacra::ParamSet;
using chacra::World;

constexpr std::int64_t kHouseholds = 50'000;  // about 19 MB of household state: larger than the caches
constexpr int kWarmMonths = 14;               // Haku Winay's first cohort is in its year-1 stages by then

ParamSet default_params(std::int64_t households) {
  ParamSet p(chacra::models::registry());
  p.set("population.households", households);
  p.set("population.districts", std::max<std::int64_t>(1, households / 500));
  return p;
}

// The same with the household economy's persistence (herds, profit-driven drops, businesses) and the financing
// of adoption switched on, to measure what those channels cost.
ParamSet economy_params(std::int64_t households) {
  ParamSet p = default_params(households);
  p.set("economy.persistence.enabled", true);
  p.set("economy.liquidity.enabled", true);
  return p;
}

// A world set up with the full model (every programme on, default parameters) and stepped kWarmMonths.
struct WarmWorld {
  ParamSet params;
  World world;
  chacra::Model model;
  chacra::rng::StreamSeed seed{1, 0};
  explicit WarmWorld(std::int64_t households) : WarmWorld(default_params(households)) {}
  explicit WarmWorld(ParamSet p)
      : params(std::move(p)), world(chacra::generate_population(params, 0)),
        model(chacra::models::build_model(params)) {
    for (auto& m : model.modules) m->setup(world, params, seed);
    chacra::Stepper stepper(world, model.month, params, seed);
    for (int month = 0; month < kWarmMonths; ++month) stepper.step(month);
  }
};

WarmWorld& warm_world() {
  static WarmWorld w(kHouseholds);
  return w;
}

WarmWorld& warm_economy_world() {
  static WarmWorld w(economy_params(kHouseholds));
  return w;
}

void BM_GeneratePopulation(benchmark::State& state) {
  const ParamSet p = default_params(state.range(0));
  for (auto _ : state) {
    World w = chacra::generate_population(p, 0);
    benchmark::DoNotOptimize(w.households.data(0));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_GeneratePopulation)->Arg(10'000)->Arg(100'000)->Unit(benchmark::kMillisecond);

// Model set-up (every module's setup on a copy of the population).
void BM_ModelSetup(benchmark::State& state) {
  const ParamSet p = default_params(kHouseholds);
  const World population = chacra::generate_population(p, 0);
  for (auto _ : state) {
    World w = population;
    chacra::Model m = chacra::models::build_model(p);
    for (auto& mod : m.modules) mod->setup(w, p, chacra::rng::StreamSeed{1, 0});
    benchmark::DoNotOptimize(w.households.data(0));
  }
  state.SetItemsProcessed(state.iterations() * kHouseholds);
}
BENCHMARK(BM_ModelSetup)->Unit(benchmark::kMillisecond);

// One phase of month kWarmMonths over every block, one thread. Phases change the state, so repeated calls
// see a slowly drifting world: fine for timing, not for results.
void BM_Phase(benchmark::State& state, std::size_t index, bool economy) {
  WarmWorld& w = economy ? warm_economy_world() : warm_world();
  const chacra::Phase& phase = w.model.month[index];
  const chacra::StepContext ctx{w.params, w.seed, kWarmMonths, w.world.calendar};
  for (auto _ : state) {
    if (phase.scope == chacra::Phase::Scope::block) {
      for (const auto& b : w.world.blocks) phase.block(w.world, ctx, b);
    } else {
      phase.global(w.world, ctx);
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(w.world.household_count()));
}

// The whole month (all phases, fused as the Stepper runs them), one thread.
void BM_Month(benchmark::State& state, bool economy) {
  tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
  WarmWorld& w = economy ? warm_economy_world() : warm_world();
  chacra::Stepper stepper(w.world, w.model.month, w.params, w.seed);
  for (auto _ : state) stepper.step(kWarmMonths);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(w.world.household_count()));
}
BENCHMARK_CAPTURE(BM_Month, default, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Month, persistence_liquidity, true)->Unit(benchmark::kMillisecond);

// Registers one benchmark per phase, named after it ("Phase/adoption.update"), and the same with persistence and
// the financing of adoption on ("EconomyPhase/adoption.update").
const int kRegistered = [] {
  const chacra::Model m = chacra::models::build_model(default_params(kHouseholds));
  for (std::size_t i = 0; i < m.month.size(); ++i)
    benchmark::RegisterBenchmark(("Phase/" + m.month[i].name).c_str(), BM_Phase, i, false)
        ->Unit(benchmark::kMicrosecond);
  for (std::size_t i = 0; i < m.month.size(); ++i)
    benchmark::RegisterBenchmark(("EconomyPhase/" + m.month[i].name).c_str(), BM_Phase, i, true)
        ->Unit(benchmark::kMicrosecond);
  return 0;
}();

// One counter-based stream opened and one Philox4x64-10 block drawn (four 64-bit words).
void BM_PhiloxBlock(benchmark::State& state) {
  const chacra::rng::StreamSeed seed{1, 0};
  std::uint64_t i = 0, acc = 0;
  for (auto _ : state) {
    auto s = seed.open(chacra::rng::domain_id("bench.philox"), 7, i++);
    acc ^= s() ^ s() ^ s() ^ s();
  }
  benchmark::DoNotOptimize(acc);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PhiloxBlock);

// The reference kernel of `chacra bench`: N Philox blocks per household and a read-and-write sweep of every
// household column, one month, one thread.
void BM_ReferenceKernel(benchmark::State& state) {
  tbb::global_control one(tbb::global_control::max_allowed_parallelism, 1);
  WarmWorld& w = warm_world();
  chacra::ReferenceKernelShape shape;
  shape.blocks_per_household_month = static_cast<int>(state.range(0));
  std::uint64_t sink = 0;
  for (auto _ : state) sink ^= chacra::run_reference_kernel(w.world, 1, w.seed, shape);
  benchmark::DoNotOptimize(sink);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(w.world.household_count()));
}
BENCHMARK(BM_ReferenceKernel)->Arg(0)->Arg(1)->Arg(5)->Unit(benchmark::kMicrosecond);

// Clustered OLS (the evaluation's ANCOVA) on N rows, ten regressors, clusters of 500 rows; items are rows.
void BM_OlsClustered(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  constexpr std::size_t k = 10;
  std::vector<std::vector<double>> X(k, std::vector<double>(n));
  std::vector<double> y(n);
  std::vector<int> clusters(n);
  chacra::rng::Stream s(14, 0, chacra::rng::domain_id("bench.ols"), 0, 0);
  for (std::size_t i = 0; i < n; ++i) {
    double yi = 1.0;
    for (std::size_t j = 0; j < k; ++j) {
      X[j][i] = s.uniform() + 0.1 * static_cast<double>(j);
      yi += static_cast<double>(j + 1) * X[j][i];
    }
    y[i] = yi + (s.uniform() - 0.5);
    clusters[i] = static_cast<int>(i / 500);
  }
  for (auto _ : state) benchmark::DoNotOptimize(chacra::stats::ols(X, y, &clusters));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_OlsClustered)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

}  // namespace
