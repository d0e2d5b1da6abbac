// The performance study behind `chacra bench` (docs/performance.md): throughput of the full model per thread
// count, parallel efficiency, memory per household, time share of each phase, output overhead, linearity in
// households, and the model's cost as a multiple of a reference kernel that only makes the same random draws
// and sweeps the same state. Each measurement is its own function; run() makes them in order and the report
// is formatted as a table or as JSON (with host, compiler, commit and thread counts beside every figure).
#pragma once

#include "sim/engine.hpp"
#include "sim/runner.hpp"
#include "sim/scenario.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace chacra::study::bench {

struct Options {
  long long households = 100000;
  long long years = 0;                   // simulated years (0: run.years of the default scenario)
  std::vector<long long> threads;        // thread counts (empty: 1 and all cores)
  int repeats = 3;                       // timed repeats of every measurement; medians are reported
  std::string arms = "both";             // the default scenario's 'both' arm, or "default": all its arms
  std::vector<long long> scaling;        // household counts of the linearity check (1 thread)
  long long scaling_years = 1;
  bool output = true;                    // measure the output overhead (runs with and without the HDF5 file)
  std::string tmpdir = "/tmp";           // where the temporary HDF5 file goes
  std::vector<std::string> sets;         // parameter overrides (key.path=value) applied to every scenario the
                                         // bench loads, before its own (households, districts, years, replicates)
};

// Where the figures were measured.
struct Machine {
  std::string host, cpu_model, compiler, compiler_flags, load_start, load_end;
  int hardware_threads = 0;
};

// Wall and CPU seconds of a measured section.
struct Timing {
  double wall = 0.0, cpu = 0.0;
};

// The model and the reference kernel at one thread count, one entry per repeat.
struct ThreadFigures {
  int threads = 0;
  std::vector<double> model_s, reference_s, ratio;          // wall seconds
  std::vector<double> model_cpu, reference_cpu, cpu_ratio;  // CPU seconds
  std::vector<double> contract_cpu, contract_ratio;         // CPU seconds of the contract kernel
  double rate = 0.0;                // household-months per wall second, median
  double reference_rate = 0.0;
  double cpu_rate = 0.0;            // household-months per CPU second, median
  double reference_cpu_rate = 0.0;
};

// run_scenario with and without the HDF5 file at one thread count.
struct OutputFigures {
  int threads = 0;
  std::vector<double> with_wall, without_wall, with_cpu, without_cpu;
};

struct ScalingFigure {
  long long households = 0;
  double seconds = 0.0, cpu_seconds = 0.0, ns_per_household_month = 0.0;
};

struct PhaseProfile {
  std::vector<std::string> names;
  std::vector<double> seconds;      // wall
  std::vector<double> cpu_seconds;  // CPU time of the profiling thread
  double tallied_blocks = 0.0;  // Philox blocks per household-month of the phases other than Haku Winay's
  double hw_blocks = 0.0;       // Philox blocks per household-month of Haku Winay's phases
};

struct Memory {
  std::size_t bytes_per_household = 0;  // household state of one world (table)
  double rss_population = 0.0;          // resident bytes per household of the population
  double rss_world = 0.0;               // of a set-up world
  MemoryEstimate estimate_10m;          // the run's own estimate for ten million households
};

struct Report {
  Machine machine;
  std::string version, commit, frequency;
  std::vector<std::string> arms;
  std::vector<std::string> sets;  // Options::sets, as given
  std::size_t households = 0, districts = 0;
  int months = 0, repeats = 0;
  std::uint64_t household_months = 0;
  double generate_seconds = 0.0;
  Memory memory;
  PhaseProfile profile;
  double computed_blocks = 0.0, contract_blocks = 0.0;  // reference kernels: blocks per household-month
  std::uint64_t checksum = 0;
  std::vector<ThreadFigures> throughput;
  std::size_t output_arms = 0;
  std::uintmax_t file_bytes = 0;
  std::vector<OutputFigures> output;
  long long scaling_years = 0;
  std::vector<ScalingFigure> linearity;
};

// The scenario of the benchmark, from the default scenario loaded with `load(sets)`: its population and
// horizon set to the bench's, one replicate, and either its 'both' arm or all its arms. Districts keep 500
// households each. Throws std::invalid_argument for another `arms`.
using ScenarioLoader = std::function<Scenario(const std::vector<std::string>& sets)>;
Scenario scenario(const ScenarioLoader& load, long long households, long long years, const std::string& arms);

// Makes every measurement of `options` on the full model (`builder`); `note` (may be empty) hears what is
// being measured.
Report run(const Options& options, const ScenarioLoader& load, const ModelBuilder& builder,
           const std::function<void(const std::string&)>& note = {});

std::string format_table(const Report& report);
std::string format_json(const Report& report);

double median(std::vector<double> values);

}  // namespace chacra::study::bench
