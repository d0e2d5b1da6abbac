// The arm x replicate runner: builds each replicate's population, runs every arm on it with common random
// numbers, records the household panel and per-period aggregates, and writes one HDF5 file atomically.
#pragma once

#include "sim/engine.hpp"
#include "sim/errors.hpp"
#include "sim/output/recorder.hpp"
#include "sim/output/writer.hpp"
#include "sim/scenario.hpp"

#include <hdf5.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace chacra {

struct RunResult;

// The run would not fit in memory, or a size overflows; raised before anything large is allocated.
class ResourceError : public BadInput {
 public:
  using BadInput::BadInput;
};

struct MemoryEstimate {
  std::uint64_t households = 0;
  std::uint64_t bytes_per_household = 0;  // household state of one world
  std::uint64_t bytes = 0;                // estimated peak resident bytes of the run
  std::uint64_t panel_cells = 0;          // households x months x variables x arms x replicates
  std::uint64_t limit = 0;                // physical memory, RLIMIT_AS, or CHACRA_MEMORY_LIMIT_BYTES
  std::uint64_t output_bytes = 0;         // the output file uncompressed: panel and population tables
};

// The output file compresses to about a fifth of output_bytes (22% for the default scenario; all-zero chunks
// are not stored at all). A run is refused when even kOutputMinShare of it cannot be written (free disk space,
// ulimit -f), and warned about when kOutputTypicalShare cannot.
inline constexpr double kOutputMinShare = 0.05;
inline constexpr double kOutputTypicalShare = 0.25;

// Memory available to the run: physical memory, RLIMIT_AS, or CHACRA_MEMORY_LIMIT_BYTES (the smallest).
std::uint64_t memory_limit_bytes();
// Resident bytes of this process now, from /proc/self/statm (0 where it cannot be read).
std::uint64_t resident_bytes();

// A world of `households` households (at most as many districts) drawn from the arm's population parameters,
// with the arm's model set up on it: for checks and estimates that must not build the real population.
World setup_sample_world(const ParamSet& arm_params, const ModelBuilder& builder, std::int64_t households);

// Estimates the run's memory from a model set up on a small sample of the population.
MemoryEstimate estimate_memory(const Scenario& scenario, const ModelBuilder& builder);
// Throws ResourceError (naming the sizes and what to do) when the estimate exceeds 90% of the memory available.
void require_memory(const MemoryEstimate& memory);

struct RunOptions {
  std::string output_path;  // empty: run without writing a file
  bool force = false;
  // A leftover OUT.partial is started over without --force (the MPI runner's own intermediate files).
  bool replace_stale_partial = false;
  // Warnings about the output (a unit of the resumed progress whose checksum fails, and is run again).
  std::function<void(const std::string&)> note;
  int threads = 0;  // 0: all hardware threads
  bool profile = false;  // time each phase separately
  std::string command_line;
  // Continue OUT.partial left by an interrupted run of the same scenario: completed arm x replicate units
  // are kept, the rest are run again. The result is identical to an uninterrupted run.
  bool resume = false;
  // Which arm x replicate units this process runs (empty: all). Used to split work across MPI ranks; a
  // skipped unit leaves nothing in the file and no UnitResult.
  std::function<bool(std::uint32_t replicate, std::size_t arm)> run_unit;
  // Per-unit parameters (chacra run --posterior): called with a copy of the arm's parameters before the unit's
  // model is built; empty: every unit runs its arm's parameters. The population still comes from the base.
  std::function<void(std::uint32_t replicate, const Arm& arm, ParamSet& params)> unit_params;
  // Called with the open file after every unit has run and before the file is renamed into place (the
  // comparison tables are written here).
  std::function<void(hid_t file, RunResult& result)> finalize;
  // Called after every simulated month with household-months done and total.
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
  // Split every unit's world by blocks of whole districts across the processes of this collective (MPI
  // ranks; null: this process runs whole worlds). Collective: every process calls run_scenario with the same
  // scenario and options; each generates and simulates only its block, the serial phases communicate, and
  // rank 0 gathers the panel and population and alone writes output_path (its RunResult holds the means;
  // the others' too, broadcast at the end of each unit). resume is not supported here (the MPI runner
  // resumes by unit files); the results are bit-identical to a single-process run.
  const Collective* collective = nullptr;
};

struct RunResult {
  std::vector<std::string> period_labels;
  std::vector<UnitResult> units;  // arm-major within replicate: replicate 0 arms..., replicate 1 arms...
  std::uint64_t households = 0;
  std::uint64_t household_months = 0;
  double seconds = 0;
  std::size_t bytes_per_household = 0;
  std::vector<std::string> phase_names;
  std::vector<double> phase_seconds;
  std::string output_path;
  int threads = 0;
};

// Household panel variables for a world: the names given, or every column marked panel. Throws
// ConfigError (key output.variables) for a name that is not a household column.
std::vector<std::string> resolve_panel_variables(const World& world, const std::vector<std::string>& requested,
                                                 const std::string& file_label);

// What the run asks of its output file (sim/output/lifecycle.hpp): the path and options, the scenario it must
// hold when resumed, the scenario file it must never be, and the room it needs (from `estimate`).
output::OutputRequest output_request(const Scenario& scenario, const RunOptions& options, const MemoryEstimate& estimate);
// The same with the scenario's resolved YAML already emitted.
output::OutputRequest output_request(const Scenario& scenario, const RunOptions& options, const MemoryEstimate& estimate,
                                     std::string scenario_yaml);

RunResult run_scenario(const Scenario& scenario, const ModelBuilder& builder, const RunOptions& options);

// Labels of output periods ("2017", "2017Q1", "2017-01") for a calendar and output.frequency.
std::vector<std::string> period_labels(const Calendar& calendar, int months_per_period);
int months_per_period(const std::string& frequency);

std::string chacra_version();
std::string chacra_commit();

}  // namespace chacra
