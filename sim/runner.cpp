// Runs arms x replicates on common random numbers and hands each unit's panel to the output writer
// (sim/output/), which writes the HDF5 file under a temporary name renamed only when everything is complete.
#include "sim/runner.hpp"

#include "sim/interrupt.hpp"
#include "sim/output/h5.hpp"
#include "sim/population.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <future>
#include <memory>
#include <optional>

namespace chacra {

std::string chacra_version() { return CHACRA_VERSION; }

int months_per_period(const std::string& frequency) {
  if (frequency == "monthly") return 1;
  if (frequency == "quarterly") return 3;
  return 12;
}

std::vector<std::string> period_labels(const Calendar& cal, int months) {
  std::vector<std::string> labels;
  char buf[32];
  for (int m = 0; m + months <= cal.months; m += months) {
    if (months == 12) std::snprintf(buf, sizeof buf, "%d", cal.year(m));
    else if (months == 3) std::snprintf(buf, sizeof buf, "%dQ%d", cal.year(m), (cal.month_of_year(m) - 1) / 3 + 1);
    else std::snprintf(buf, sizeof buf, "%d-%02d", cal.year(m), cal.month_of_year(m));
    labels.emplace_back(buf);
  }
  return labels;
}

std::vector<std::string> resolve_panel_variables(const World& world, const std::vector<std::string>& requested,
                                                 const std::string& file_label) {
  const Table& h = world.households;
  std::vector<std::string> out;
  if (requested.empty()) {
    for (std::size_t i = 0; i < h.column_count(); ++i)
      if (h.info(i).panel) out.push_back(h.info(i).name);
    return out;
  }
  std::vector<ConfigIssue> issues;
  for (const auto& name : requested) {
    if (h.has(name)) {
      out.push_back(name);
      continue;
    }
    std::string best;
    std::size_t best_d = std::string::npos;
    for (std::size_t i = 0; i < h.column_count(); ++i) {
      const std::size_t d = edit_distance(name, h.info(i).name);
      if (d < best_d) best_d = d, best = h.info(i).name;
    }
    ConfigIssue issue;
    issue.file = file_label;
    issue.key = "output.variables";
    issue.message = "'" + name + "' is not a household variable";
    issue.hint = best.empty() ? "" : "did you mean '" + best + "'? (chacra params lists parameters; docs/output.md lists variables)";
    issues.push_back(issue);
  }
  if (!issues.empty()) throw ConfigError(file_label, issues);
  return out;
}

namespace {

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string host_name() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

// What the file records about the run; `scenario_yaml` is scenario.resolved_yaml().
output::RunHeader run_header(const Scenario& scenario, const RunOptions& options, int threads,
                             const std::string& start_time, const std::vector<std::string>& periods,
                             std::string scenario_yaml) {
  const ParamSet& base = scenario.base;
  output::RunHeader h;
  h.chacra_version = chacra_version();
  h.git_commit = chacra_commit();
  h.scenario_name = scenario.name;
  h.scenario_path = scenario.path;
  h.run_seed = static_cast<long long>(base.integer("run.seed"));
  h.population_seed = static_cast<long long>(base.integer("population.seed"));
  h.replicates = static_cast<long long>(base.integer("run.replicates"));
  h.threads = threads;
  h.host = host_name();
  h.start_time = start_time;
  h.command_line = options.command_line;
  h.output_frequency = base.choice("output.frequency");
  h.scenario_yaml = std::move(scenario_yaml);
  for (const auto& arm : scenario.arms) h.arms.push_back(arm.name);
  h.periods = periods;
  return h;
}

// The reach every module reports at the end of a unit, in module and report order. Collective in a split world
// (the modules sum their counts across processes).
std::vector<output::ReachRow> unit_reach(const Model& model, const World& world) {
  std::vector<output::ReachRow> rows;
  for (const auto& m : model.modules)
    for (const ReachItem& x : m->reach(world)) rows.push_back({m->name(), x.item, x.description, x.unit, x.value});
  return rows;
}

// A module's unit table as a table of records: one column per table column, int32 or float64.
output::Records unit_table_records(const UnitTable& t) {
  output::Records rec;
  rec.description = t.description;
  rec.lists = false;
  const std::size_t n = t.columns.size(), rows = t.rows();
  for (std::size_t k = 0; k < n; ++k) {
    output::RecordColumn c;
    c.name = t.columns[k].name;
    c.description = t.columns[k].description + (t.columns[k].unit.empty() ? "" : " (" + t.columns[k].unit + ")");
    c.type = t.columns[k].integer ? ColumnType::i32 : ColumnType::f64;
    c.numbers.resize(rows);
    for (std::size_t r = 0; r < rows; ++r) c.numbers[r] = t.values[r * n + k];
    rec.columns.push_back(std::move(c));
  }
  return rec;
}

}  // namespace

std::uint64_t checked_product(std::initializer_list<std::uint64_t> factors, const std::string& what) {
  std::uint64_t p = 1;
  for (auto f : factors)
    if (__builtin_mul_overflow(p, f, &p)) throw ResourceError(what + " overflows 64 bits; reduce the population or horizon");
  return p;
}

std::uint64_t memory_limit_bytes() {
  std::uint64_t limit = static_cast<std::uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<std::uint64_t>(sysconf(_SC_PAGE_SIZE));
  struct rlimit rl {};
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) limit = std::min<std::uint64_t>(limit, rl.rlim_cur);
  if (const char* env = std::getenv("CHACRA_MEMORY_LIMIT_BYTES")) {
    std::uint64_t value = 0;
    const char* end = env + std::strlen(env);
    const auto [ptr, ec] = std::from_chars(env, end, value);
    if (ec != std::errc() || ptr != end || value == 0)
      throw ResourceError(std::string("CHACRA_MEMORY_LIMIT_BYTES must be a positive whole number of bytes, got '") +
                          env + "'");
    limit = std::min(limit, value);
  }
  return limit;
}

std::uint64_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  const bool ok = std::fscanf(f, "%llu %llu", &size, &resident) == 2;
  std::fclose(f);
  return ok ? resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

World setup_sample_world(const ParamSet& arm_params, const ModelBuilder& builder, std::int64_t households) {
  ParamSet small = arm_params;
  small.set("population.households", households);
  small.set("population.districts", std::min<std::int64_t>(arm_params.integer("population.districts"), households));
  World world = generate_population(small, 0);
  Model model = builder(arm_params);
  for (auto& m : model.modules) m->setup(world, arm_params, rng::StreamSeed{0, 0});
  return world;
}

void require_memory(const MemoryEstimate& memory) {
  if (memory.bytes > memory.limit * 9 / 10)
    throw ResourceError("the population needs about " + std::to_string(memory.bytes >> 20) + " MiB (" +
                        std::to_string(memory.households) + " households x " +
                        std::to_string(memory.bytes / std::max<std::uint64_t>(memory.households, 1)) +
                        " bytes), more than 90% of the memory available (" + std::to_string(memory.limit >> 20) +
                        " MiB); reduce population.households or run on a larger machine");
}

MemoryEstimate estimate_memory(const Scenario& scenario, const ModelBuilder& builder) {
  // Set the model up on a small population and scale its per-household footprint: nothing of the real
  // size is allocated before the estimate is checked.
  const ParamSet& base = scenario.base;
  const World world = setup_sample_world(scenario.arms.front().params, builder,
                                         std::min<std::int64_t>(base.integer("population.households"), 2000));
  const auto variables = resolve_panel_variables(world, base.text_list("output.variables"), scenario.path);
  std::uint64_t per_household = world.households.bytes_per_row();
  std::uint64_t accumulators = 0;
  for (const auto& v : variables) {
    const ColumnInfo& info = world.households.info(world.households.index(v));
    const bool flow = info.aggregation == PeriodAggregation::sum;
    if (flow) accumulators += 4ull * static_cast<std::uint64_t>(info.width);
    // The copy of a period's panel values that the recorder's background writer holds.
    if (base.boolean("output.panel"))
      accumulators += (flow ? 4ull : column_type_size(info.type)) * static_cast<std::uint64_t>(info.width);
  }
  const double centre_share = static_cast<double>(world.centres.bytes_per_row() * world.centre_count()) /
                              static_cast<double>(std::max<std::size_t>(world.household_count(), 1));
  MemoryEstimate e;
  e.households = static_cast<std::uint64_t>(base.integer("population.households"));
  e.bytes_per_household = per_household;
  // The replicate's population and the arm's working copy, plus period accumulators and centre tables.
  const std::uint64_t per = 2 * per_household + accumulators + static_cast<std::uint64_t>(2 * centre_share) + 16;
  e.bytes = checked_product({e.households, per}, "the memory estimate (households x bytes per household)");
  const std::uint64_t months = static_cast<std::uint64_t>(base.integer("run.years")) * 12;
  e.panel_cells = checked_product({e.households, months, std::max<std::uint64_t>(variables.size(), 1),
                                   static_cast<std::uint64_t>(scenario.arms.size()),
                                   static_cast<std::uint64_t>(base.integer("run.replicates"))},
                                  "the panel size (households x months x variables x arms x replicates)");
  e.limit = memory_limit_bytes();
  // The file: the panel as stored (flows as float32), the population tables, per replicate.
  std::uint64_t panel_row = 0;
  for (const auto& v : variables) {
    const ColumnInfo& info = world.households.info(world.households.index(v));
    const ColumnType stored = info.aggregation == PeriodAggregation::sum ? ColumnType::f32 : info.type;
    panel_row += column_type_size(stored) * static_cast<std::uint64_t>(info.width);
  }
  const std::uint64_t periods = months / static_cast<std::uint64_t>(months_per_period(base.choice("output.frequency")));
  const std::uint64_t replicates = static_cast<std::uint64_t>(base.integer("run.replicates"));
  const std::uint64_t panel =
      base.boolean("output.panel")
          ? checked_product({e.households, periods, panel_row, static_cast<std::uint64_t>(scenario.arms.size()), replicates},
                            "the panel size (households x periods x bytes x arms x replicates)")
          : 0;
  const std::uint64_t population = checked_product(
      {e.households, per_household + static_cast<std::uint64_t>(centre_share) + 1, replicates},
      "the population tables' size (households x bytes x replicates)");
  e.output_bytes = panel + population;
  return e;
}

output::OutputRequest output_request(const Scenario& scenario, const RunOptions& options, const MemoryEstimate& estimate) {
  return output_request(scenario, options, estimate, scenario.resolved_yaml());
}

output::OutputRequest output_request(const Scenario& scenario, const RunOptions& options, const MemoryEstimate& estimate,
                                     std::string scenario_yaml) {
  output::OutputRequest r;
  r.path = options.output_path;
  r.force = options.force;
  r.resume = options.resume;
  r.scenario_yaml = std::move(scenario_yaml);
  r.inputs = {scenario.path};
  r.replace_stale_partial = options.replace_stale_partial;
  r.min_bytes = static_cast<std::uint64_t>(static_cast<double>(estimate.output_bytes) * kOutputMinShare);
  r.typical_bytes = static_cast<std::uint64_t>(static_cast<double>(estimate.output_bytes) * kOutputTypicalShare);
  r.note = options.note;
  return r;
}

RunResult run_scenario(const Scenario& scenario, const ModelBuilder& builder, const RunOptions& options) {
  using clock = std::chrono::steady_clock;
  const auto t_start = clock::now();
  h5::quiet_errors();
  const ParamSet& base = scenario.base;
  const int threads = options.threads > 0 ? options.threads : tbb::info::default_concurrency();
  tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));

  const auto replicates = static_cast<std::uint32_t>(base.integer("run.replicates"));
  const std::uint64_t run_seed = static_cast<std::uint64_t>(base.integer("run.seed"));
  const int months_per = months_per_period(base.choice("output.frequency"));
  const bool write_panel = base.boolean("output.panel");

  // A world split by districts across the processes of options.collective: each holds its block's
  // households; rank 0 alone writes the file (the others send it their rows).
  const Collective* split = options.collective;
  const bool writer = split == nullptr || split->rank() == 0;
  if (split != nullptr && options.resume)
    throw std::logic_error("run_scenario: --resume is handled by the MPI runner (unit files) for a split world");

  MemoryEstimate memory = estimate_memory(scenario, builder);
  if (split != nullptr) {  // this process's share (blocks are balanced by households)
    const auto ranks = static_cast<std::uint64_t>(split->size());
    memory.households = (memory.households + ranks - 1) / ranks;
    memory.bytes = (memory.bytes + ranks - 1) / ranks;
  }
  require_memory(memory);

  RunResult result;
  result.threads = threads;
  result.output_path = writer ? options.output_path : std::string();
  std::unique_ptr<output::OutputFile> out;
  // A finished unit's last writes (its last period's panel, aggregates, reach, tables, checksum, complete mark,
  // flush) run on a background thread while the next unit's population is copied and its modules are set up,
  // which make no HDF5 call: at 2 threads that work was a serial stretch of the run with one core idle.
  // settle() waits for them before this thread's next HDF5 call, so the file's operations keep their order (the
  // same file) and a failure surfaces here. Declared after `out`, so a run that throws waits for it before the
  // file is closed.
  struct Finishing {
    std::unique_ptr<output::UnitWriter> unit;
    std::unique_ptr<output::Recorder> recorder;
    std::future<void> done;
  };
  // The encoded chunks of the replicate's units so far, which its later arms reuse where their chunks are the same
  // (the file is the same without it). Memory the estimate does not count: at most its bound, and never more than
  // a quarter of what the estimate leaves free. Declared before `finishing`, whose writes use it.
  output::ChunkCache chunk_cache(std::min<std::uint64_t>(
      output::ChunkCache::kDefaultBytes, memory.limit > memory.bytes ? (memory.limit - memory.bytes) / 4 : 0));
  std::uint32_t cached_replicate = 0;
  std::optional<Finishing> finishing;
  auto settle = [&finishing] {
    if (!finishing) return;
    Finishing f = std::move(*finishing);
    finishing.reset();
    const auto t0 = std::chrono::steady_clock::now();
    f.done.wait();
    output::panel_wait_ns += static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
    f.done.get();
  };
  const std::string start_time = now_iso();

  // The generator places exactly population.households households; the calendar comes from run.*.
  const auto households = static_cast<std::uint64_t>(base.integer("population.households"));
  Calendar calendar;
  calendar.start_year = static_cast<int>(base.integer("run.start_year"));
  calendar.months = static_cast<int>(base.integer("run.years") * 12);
  result.households = households;
  result.period_labels = period_labels(calendar, months_per);
  auto selected = [&](std::uint32_t r, std::size_t a) { return !options.run_unit || options.run_unit(r, a); };
  std::uint64_t done = 0, total = 0;
  for (std::uint32_t r = 0; r < replicates; ++r)
    for (std::size_t a = 0; a < scenario.arms.size(); ++a)
      if (selected(r, a)) total += households * static_cast<std::uint64_t>(calendar.months);
  try {
    for (std::uint32_t r = 0; r < replicates; ++r) {
      // Only replicates with a unit to run are generated (a unit filter of the MPI runner selects one).
      bool any = false;
      for (std::size_t a = 0; a < scenario.arms.size(); ++a) any = any || selected(r, a);
      if (!any) continue;
      const World population = split != nullptr ? generate_population(base, r, *split) : generate_population(base, r);
      bool population_written = false;  // split world: this replicate's population is in the file
      for (std::size_t a = 0; a < scenario.arms.size(); ++a) {
        if (!selected(r, a)) continue;
        const Arm& arm = scenario.arms[a];
        ParamSet unit_params = arm.params;
        if (options.unit_params) options.unit_params(r, arm, unit_params);
        World world = population;
        Model model = builder(unit_params);
        const rng::StreamSeed seed{run_seed, r};
        for (auto& m : model.modules) m->setup(world, unit_params, seed);
        const auto variables = resolve_panel_variables(world, base.text_list("output.variables"), scenario.path);
        settle();
        if (r != cached_replicate) {  // a new population: no chunk of the last replicate's can match
          chunk_cache.clear();
          cached_replicate = r;
        }
        if (!out && writer && !options.output_path.empty()) {
          // Opened only after the first arm set up cleanly, so invalid variables never leave a file.
          // Emitted once for both (tens of milliseconds on this thread, with the other threads idle).
          std::string yaml = scenario.resolved_yaml();
          out = std::make_unique<output::OutputFile>(output_request(scenario, options, memory, yaml));
          if (!out->resumed()) {
            output::write_run_header(out->id(), run_header(scenario, options, threads, start_time,
                                                           result.period_labels, std::move(yaml)));
            out->flush();  // from here the partial file is recognisably chacra's, even if the run is killed
          } else {
            // The resumed progress was checked to be this scenario's (its resolved YAML, exactly).
            output::set_provenance(out->id(), "resumed_time", now_iso());
          }
        }
        result.bytes_per_household = world.households.bytes_per_row();
        if (out && out->resumed()) {
          if (output::unit_complete(out->id(), arm.name, r)) {
            result.units.push_back(output::read_unit_means(out->id(), arm.name, r, variables));
            done += world.total_households() * static_cast<std::uint64_t>(world.calendar.months);
            continue;
          }
          output::remove_unit(out->id(), arm.name, r);  // started but not finished: redo it
        }
        if (split != nullptr) {
          // Every process takes part (it sends its rows), so the decision may not depend on the file.
          if (!options.output_path.empty() && !population_written)
            output::write_population_split(out ? out->id() : -1, r, world);
          population_written = true;
        } else if (out) {
          output::write_population(out->id(), r, world);
        }
        std::unique_ptr<output::UnitWriter> unit;
        if (out)
          unit = std::make_unique<output::UnitWriter>(out->id(), arm.name, arm.description, r, write_panel,
                                                      scenario.arms.size() > 1 ? &chunk_cache : nullptr);
        auto recorder = std::make_unique<output::Recorder>(world, variables, months_per, result.period_labels.size(),
                                                           unit.get());
        Stepper stepper(world, model.month, unit_params, seed);
        stepper.set_profiling(options.profile);
        for (int month = 0; month < world.calendar.months; ++month) {
          if (stop_requested()) throw Interrupted(stop_signal());
          stepper.step(month);
          recorder->after_month(month);
          done += world.total_households();  // every process of a split world steps the whole month together
          if (options.progress) options.progress(done, total);
        }
        recorder->finish();  // split world: a collective step that every process reaches only after its last month
        std::vector<output::ReachRow> reach = unit_reach(model, world);  // collective in a split world
        std::vector<std::pair<std::string, output::Records>> tables;
        for (const auto& m : model.modules)
          for (const UnitTable& t : m->unit_tables(world))  // collective in a split world
            if (unit) tables.emplace_back(t.name, unit_table_records(t));
        // The unit's writes, in the order the file has always had them. The recorder no longer touches the world
        // (its last period is copied), so both may outlive this iteration's world.
        auto finish = [u = unit.get(), rec = recorder.get(), file = out.get(), reach_rows = output::reach_records(reach),
                       tables = std::move(tables)] {
          rec->write_aggregates();
          if (u == nullptr) return;
          u->write_reach(reach_rows);
          for (const auto& [name, records] : tables) u->write_table(name, records);
          // A unit is complete only once this mark is on disk; --resume skips exactly these.
          u->complete();
          file->flush();
        };
        result.units.push_back(recorder->result(arm.name, r));
        if (split == nullptr && unit) {
          finishing.emplace(Finishing{std::move(unit), std::move(recorder), {}});
          finishing->done = std::async(std::launch::async, std::move(finish));
        } else {
          finish();
        }
        result.units.back().reach = std::move(reach);
        if (result.phase_names.empty()) {
          for (const auto& ph : model.month) result.phase_names.push_back(ph.name);
          result.phase_seconds.assign(model.month.size(), 0.0);
        }
        for (std::size_t i = 0; i < stepper.phase_seconds().size() && i < result.phase_seconds.size(); ++i)
          result.phase_seconds[i] += stepper.phase_seconds()[i];
      }
    }
    settle();
    result.household_months = done;
    if (out) {
      if (options.finalize) options.finalize(out->id(), result);
      output::set_provenance(out->id(), "end_time", now_iso());
      output::set_provenance(out->id(), "seconds", std::chrono::duration<double>(clock::now() - t_start).count());
      out->commit();
    }
  } catch (const Interrupted&) {
    try {
      settle();  // the unit being finished is kept complete, or redone by --resume if its writes failed
    } catch (const std::exception&) {
    }
    if (out) out->keep_partial();
    throw;
  }
  result.seconds = std::chrono::duration<double>(clock::now() - t_start).count();
  return result;
}

}  // namespace chacra
