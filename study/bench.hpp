// The performance study behind `chacra bench` (docs/performance.md): throughput of the full model per thread
// count, parallel efficiency, memory per household, time share of each phase, output overhead, linearity in
// households, and the model's cost as a multiple of a reference kernel that only makes the same random draws
// and sweeps the same state; and, from one thread, the serial fraction, the Amdahl projection of efficiency
// to 64 threads and the memory bandwidth the month needs, so a small machine shows what a large one will do. Each measurement is its own function; run() makes them in order and the report
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
  bool stream = true;                    // measure the memory bandwidth (a triad over 3 x 64 MiB)
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
  // Seconds the model run's threads waited, runnable, for a CPU that other processes held (NaN: not known); on a
  // quiet machine about 0, and the wall-clock figures then measure chacra, not the load.
  std::vector<double> model_run_delay;
  double rate = 0.0;                // household-months per wall second, median
  double reference_rate = 0.0;
  double cpu_rate = 0.0;            // household-months per CPU second, median
  double reference_cpu_rate = 0.0;
};

// run_scenario with and without the HDF5 file at one thread count.
struct OutputFigures {
  int threads = 0;
  std::vector<double> with_wall, without_wall, with_cpu, without_cpu;
  std::vector<double> writer_wait;  // seconds the run waited for the background panel writer (with the file)
  // Where the file's cost went in each run with it (output::write_counters, output::panel_copy_ns): CPU seconds
  // encoding chunks (off the month loop for the panel), seconds in HDF5's chunk writes and reading units back
  // for their checksums, seconds copying periods' values on the month loop, bytes before / after encoding, and
  // chunks taken from an earlier arm's (output::ChunkCache).
  std::vector<double> encode_cpu, hdf5_write, checksum, panel_copy, bytes_in, bytes_stored, reused_chunks;
};

struct ScalingFigure {
  long long households = 0;
  double seconds = 0.0, cpu_seconds = 0.0, ns_per_household_month = 0.0;
};

struct PhaseProfile {
  std::vector<std::string> names;
  std::vector<double> seconds;      // wall
  std::vector<double> cpu_seconds;  // CPU time of the profiling thread
  // Seconds of each phase that ran serially (a global phase's time less its parallel loops; 0 for block phases).
  std::vector<double> serial_seconds;
  std::vector<bool> global;
  std::vector<int> active_months;  // months the phase ran in (a global phase is skipped when idle)
  double passes_per_month = 0.0;   // parallel passes over the blocks, unprofiled (the month's barriers)
  double tallied_blocks = 0.0;  // Philox blocks per household-month of the phases other than Haku Winay's
  double hw_blocks = 0.0;       // Philox blocks per household-month of Haku Winay's phases
};

// Memory bandwidth of this machine: a STREAM-like triad (a = b + s c) over arrays far larger than the caches.
struct StreamBandwidth {
  double bytes_per_s_one = 0.0;  // one thread
  double bytes_per_s_all = 0.0;  // all hardware threads
  int threads_all = 0;
  std::size_t array_bytes = 0;
};

// Where the month would stop scaling, from the one-thread figures: Amdahl's law on the serial fraction, and the
// balance of a pass's blocks over the threads.
struct Projection {
  double serial_fraction = 0.0;  // serial seconds / all seconds of the profiled month loop, one thread
  std::vector<int> threads;      // 2, 4, 8, 16, 32, 64 and every measured count
  std::vector<double> amdahl;    // amdahl_efficiency(serial_fraction, n)
  std::vector<double> balance;   // block_balance(block households, n)
  std::vector<double> model;     // projected_efficiency(serial_fraction, balance, n)
  std::vector<double> reference; // the reference kernel: no serial part, the same blocks (= balance)
};

// Efficiency at n threads of work whose serial fraction at one thread is s: 1 / (n s + 1 - s).
double amdahl_efficiency(double serial_fraction, int threads);
// How evenly one pass's blocks (of the given work each, e.g. households) fill n threads: the blocks taken in
// order, each by the thread that is free first (list scheduling, as work stealing roughly does); total work /
// (n x the last thread's finishing time). 1 when every thread has the same work.
double block_balance(const std::vector<double>& block_work, int threads);
// Amdahl with the parallel part slowed by the block balance g: 1 / (n s + (1 - s) / g).
double projected_efficiency(double serial_fraction, double balance, int threads);
// Bytes of household state a month moves per household: every column read and written back once per pass
// (counted as the reference kernel's sweep is: the table's bytes per household, per pass).
double bandwidth_bytes_per_household_month(std::size_t table_bytes_per_household, double passes_per_month);

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
  std::vector<double> block_households;  // households of each block of the bench's world (one pass's work)
  StreamBandwidth stream;
  Projection projection;
};

// The projection of `report` (from its profile and blocks) at 2, 4, 8, 16, 32, 64 and the measured thread counts.
Projection project(const Report& report);

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
