// The month as one ordered list of phases, the module interface, and the deterministic parallel stepper.
#pragma once

#include "sim/params.hpp"
#include "sim/rng.hpp"
#include "sim/world.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace chacra {

// What every phase sees for the current month.
struct StepContext {
  const ParamSet& params;
  rng::StreamSeed seed;  // the run seed and this replicate
  int month = 0;         // months since the start of the run
  const Calendar& calendar;
  int year() const { return calendar.year(month); }
  int month_of_year() const { return calendar.month_of_year(month); }
};

// A phase either runs on every block in parallel (it may touch only the households and centres of its
// block) or once, serially, with the whole world (a barrier; use for district- or nation-wide decisions).
struct Phase {
  enum class Scope { block, global };
  std::string name;  // "module.phase", shown in profiles and docs
  Scope scope = Scope::block;
  std::function<void(World&, const StepContext&, const Block&)> block;
  std::function<void(World&, const StepContext&)> global;
  // A global phase with nothing to do in a month (e.g. a yearly selection outside its month) says so here: the
  // Stepper then skips it, and the block phases on either side run as one pass instead of two. It must be
  // true only when `global` would change nothing, and must give the same answer on every process of a world
  // split by districts when `global` takes part in collective steps. Empty: never idle.
  std::function<bool(const StepContext&)> idle;

  static Phase per_block(std::string name, std::function<void(World&, const StepContext&, const Block&)> f) {
    Phase p;
    p.name = std::move(name);
    p.scope = Scope::block;
    p.block = std::move(f);
    return p;
  }
  static Phase serial(std::string name, std::function<void(World&, const StepContext&)> f) {
    Phase p;
    p.name = std::move(name);
    p.scope = Scope::global;
    p.global = std::move(f);
    return p;
  }
  // The same global phase, skipped in the months where `when` is true (see `idle`).
  Phase idle_when(std::function<bool(const StepContext&)> when) && {
    idle = std::move(when);
    return std::move(*this);
  }
};

// One count a module reports at the end of an arm x replicate unit (a stage of a programme's reach: centres
// selected, households offered, paid per round...), stored in the unit's reach table.
struct ReachItem {
  std::string item;         // snake_case name, unique within the module
  std::string description;  // what is counted
  std::string unit;         // "households", "centres", "groups", "payments per round"...
  double value = 0.0;
};

// A table a module records for an arm x replicate unit (stored as arms/<arm>/replicate_R/<name>, docs/output.md):
// parallel numeric columns, one row per record (e.g. each local economy in each clearing period).
struct UnitTable {
  struct Column {
    std::string name, unit, description;
    bool integer = false;  // stored as int32 (indices, months), else float64
  };
  std::string name;         // the group's name in the unit, snake_case
  std::string description;
  std::vector<Column> columns;
  std::vector<double> values;  // row-major: rows x columns.size()
  std::size_t rows() const { return columns.empty() ? 0 : values.size() / columns.size(); }
};

// A behavioural or programme module. `setup` adds its columns to the world (always, even when the
// module is switched off in an arm, so every arm has the same panel) and draws initial state from
// counter-based streams, so arms stay on common random numbers.
class Module {
 public:
  virtual ~Module() = default;
  virtual std::string name() const = 0;
  virtual void setup(World& world, const ParamSet& params, const rng::StreamSeed& seed) = 0;
  // Its reach at the end of a unit (after the last month), in a fixed order; none by default. Called on every
  // process of a world split by districts, which must all return the whole population's counts (sums through
  // world.comm()).
  virtual std::vector<ReachItem> reach(const World& world) const {
    (void)world;
    return {};
  }
  // Its tables at the end of a unit, after reach(); none by default. Called on every process of a split world:
  // the whole population's rows must be on rank 0 (gathered through world.comm()); other ranks' are ignored.
  virtual std::vector<UnitTable> unit_tables(const World& world) const {
    (void)world;
    return {};
  }
};

// What models/ hands the engine for one arm: its modules and the month's ordered phase list.
struct Model {
  std::vector<std::unique_ptr<Module>> modules;
  std::vector<Phase> month;
};

using ModelBuilder = std::function<Model(const ParamSet&)>;

// Runs phases over the blocks of a world. Consecutive block phases are fused into one parallel pass so a
// block stays in cache; a serial phase is a barrier, unless it is idle this month (Phase::idle), when the
// block phases around it are fused too. Every random draw is keyed by (period, entity), so the result is
// bit-identical for any thread count and block partition.
class Stepper {
 public:
  Stepper(World& world, const std::vector<Phase>& phases, const ParamSet& params, rng::StreamSeed seed);
  void step(int month);
  // Seconds spent in each phase so far, while profiling (each block phase then runs as its own pass).
  const std::vector<double>& phase_seconds() const { return phase_seconds_; }
  // CPU seconds of the calling thread in each phase, while profiling: the phase's cost when the stepper runs on
  // one thread, as `chacra bench` profiles it, whatever else shares the core.
  const std::vector<double>& phase_cpu_seconds() const { return phase_cpu_seconds_; }
  // Philox blocks each phase computed so far, while profiling (rng::philox_blocks of the calling thread:
  // exact when the stepper runs on one thread, as `chacra bench` profiles it).
  const std::vector<std::uint64_t>& phase_blocks() const { return phase_blocks_; }
  // Seconds each global phase spent in parallel loops (sim/parallel.hpp) so far, while profiling: its serial
  // part is phase_seconds less this (exact on one thread, where the loops run on the calling thread).
  const std::vector<double>& phase_parallel_seconds() const { return phase_parallel_seconds_; }
  // Months each phase ran in (not idle) so far, and parallel passes over the blocks: the month's barriers.
  const std::vector<int>& phase_active_months() const { return phase_active_months_; }
  std::uint64_t passes() const { return passes_; }
  void set_profiling(bool on) { profile_ = on; }

 private:
  World& world_;
  const std::vector<Phase>& phases_;
  const ParamSet& params_;
  rng::StreamSeed seed_;
  std::vector<double> phase_seconds_, phase_cpu_seconds_;
  std::vector<std::uint64_t> phase_blocks_;
  std::vector<double> phase_parallel_seconds_;
  std::vector<int> phase_active_months_;
  std::vector<std::size_t> pass_phases_;  // this month's block phases of one pass (reused)
  std::uint64_t passes_ = 0;
  bool profile_ = false;
};

}  // namespace chacra
