// chacra bench: throughput of the full model per thread count, parallel efficiency, memory per household,
// time share of each phase, output overhead, and the model's cost as a multiple of a reference kernel that
// only makes the same random draws and sweeps the same state (docs/performance.md).
#include "app/bench.hpp"

#include "app/cli.hpp"
#include "app/commands.hpp"
#include "app/options.hpp"
#include "models/registry.hpp"
#include "sim/bench_kernel.hpp"
#include "sim/population.hpp"
#include "sim/runner.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace chacra::cli {

namespace {

const std::vector<OptionSpec> kBenchOptions = {
    {"--households", "-n", true, false, "households of the synthetic population (default 100000)"},
    {"--years", "-y", true, false, "simulated years (default: run.years of configs/default.yaml)"},
    {"--threads", "-t", true, false, "comma-separated thread counts, e.g. 1,2 (default: 1 and all cores)"},
    {"--repeats", "-r", true, false, "timed repeats of every measurement; medians are reported (default 3)"},
    {"--format", "", true, false, "table (default) or json"},
    {"--arms", "", true, false, "both (default: the 'both' arm of configs/default.yaml) or default (all its arms)"},
    {"--scaling", "", true, false, "comma-separated household counts for the linearity check (1 thread), e.g. "
                                    "10000,100000,1000000,10000000 (default: none)"},
    {"--scaling-years", "", true, false, "simulated years of each linearity run (default 1)"},
    {"--no-output", "", false, false, "skip the output overhead measurement (runs with and without the HDF5 panel)"},
    {"--tmpdir", "", true, false, "directory of the temporary HDF5 file (default: $TMPDIR or /tmp)"},
    {"--help", "-h", false, false, "this help"},
};

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// CPU seconds of the process (user + system, all threads). On a machine shared with other work the CPU
// time of a one-thread run is its cost; wall time also counts the time other processes held the core.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Wall and CPU seconds of a measured section.
struct Timing {
  double wall = 0.0, cpu = 0.0;
};
class Stopwatch {
 public:
  Stopwatch() : wall0_(clock_type::now()), cpu0_(cpu_seconds()) {}
  Timing elapsed() const { return {seconds_since(wall0_), cpu_seconds() - cpu0_}; }

 private:
  clock_type::time_point wall0_;
  double cpu0_;
};

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  double a = 0, b = 0, c = 0;
  in >> a >> b >> c;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f %.2f %.2f", a, b, c);
  return buf;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      std::string s = colon == std::string::npos ? line : line.substr(colon + 1);
      s.erase(0, s.find_first_not_of(" \t"));
      return s;
    }
  return "unknown";
}

std::string host() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

std::string compiler() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("gcc ") + __VERSION__;
#else
  return "unknown";
#endif
}

// What the preprocessor tells of the flags this binary was built with (CMAKE_BUILD_TYPE=Release gives
// -O3 -DNDEBUG; the instruction set is the compiler's default unless CMAKE_CXX_FLAGS adds -march).
std::string compiler_flags() {
  std::string f;
#ifdef __OPTIMIZE__
  f += "optimised (-O1 or higher)";
#else
  f += "not optimised (-O0)";
#endif
#ifdef NDEBUG
  f += ", NDEBUG";
#endif
#if defined(__AVX512F__)
  f += ", AVX-512";
#elif defined(__AVX2__)
  f += ", AVX2";
#elif defined(__SSE4_2__)
  f += ", SSE4.2";
#else
  f += ", x86-64 baseline (SSE2)";
#endif
#ifdef __FMA__
  f += ", FMA";
#endif
#ifdef __SANITIZE_ADDRESS__
  f += ", AddressSanitizer";
#endif
  return f;
}

std::vector<long long> parse_list(const std::string& option, const std::string& text, long long min, long long max) {
  std::vector<long long> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    ParsedArgs one;
    one.values[option] = {item};
    out.push_back(one.get_int(option, 0, min, max));
  }
  if (out.empty()) throw UsageError(option + " expects a comma-separated list of whole numbers");
  return out;
}

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\', o += c;
    else if (static_cast<unsigned char>(c) < 0x20) o += ' ';
    else o += c;
  }
  return o;
}

std::string num(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// The scenario of the benchmark: configs/default.yaml with the population and horizon of the bench, one
// replicate, and either its 'both' arm or its four arms. Districts keep the default's 500 households each.
Scenario bench_scenario(long long households, long long years, const std::string& arms) {
  const long long districts = std::max(1LL, households / 500);
  std::vector<std::string> sets = {"population.households=" + std::to_string(households),
                                   "population.districts=" + std::to_string(districts),
                                   "run.years=" + std::to_string(years), "run.replicates=1"};
  Scenario s = load_scenario_for("", sets);
  if (arms == "both") {
    const Arm* both = s.find_arm("both");
    if (!both) throw UsageError("the default scenario has no arm 'both'");
    const Arm keep = *both;
    s.arms = {keep};
  } else if (arms != "default") {
    throw UsageError("--arms expects both or default, got '" + arms + "'");
  }
  return s;
}

struct SetUp {
  World world;
  Model model;
};

SetUp set_up(const World& population, const Arm& arm, const rng::StreamSeed& seed) {
  SetUp s{population, models::build_model(arm.params)};
  for (auto& m : s.model.modules) m->setup(s.world, arm.params, seed);
  return s;
}

struct PhaseProfile {
  std::vector<std::string> names;
  std::vector<double> seconds;
  double tallied_blocks = 0.0;  // Philox blocks per household-month of the phases other than Haku Winay's
  double hw_blocks = 0.0;       // Philox blocks per household-month of Haku Winay's phases
};

// One profiled pass (each block phase its own parallel pass, timed) over every arm. The Philox blocks are the
// generator's own count per phase (Stepper::phase_blocks), exact on the one thread this pass runs on.
PhaseProfile profile_phases(const World& population, const Scenario& s, const rng::StreamSeed& seed) {
  PhaseProfile out;
  std::uint64_t hw_blocks = 0, other_blocks = 0, household_months = 0;
  for (const Arm& arm : s.arms) {
    SetUp su = set_up(population, arm, seed);
    Stepper st(su.world, su.model.month, arm.params, seed);
    st.set_profiling(true);
    for (int month = 0; month < su.world.calendar.months; ++month) st.step(month);
    household_months += su.world.household_count() * static_cast<std::uint64_t>(su.world.calendar.months);
    if (out.names.empty()) {
      for (const auto& ph : su.model.month) out.names.push_back(ph.name);
      out.seconds.assign(out.names.size(), 0.0);
    }
    for (std::size_t i = 0; i < out.seconds.size() && i < st.phase_seconds().size(); ++i)
      out.seconds[i] += st.phase_seconds()[i];
    for (std::size_t i = 0; i < su.model.month.size(); ++i)
      (su.model.month[i].name.starts_with("haku_winay.") ? hw_blocks : other_blocks) += st.phase_blocks()[i];
  }
  const double hm = static_cast<double>(std::max<std::uint64_t>(household_months, 1));
  out.hw_blocks = static_cast<double>(hw_blocks) / hm;
  out.tallied_blocks = static_cast<double>(other_blocks) / hm;
  return out;
}

// Wall and CPU seconds of the month loop of every arm (set-up excluded).
Timing time_model(const World& population, const Scenario& s, const rng::StreamSeed& seed) {
  Timing total;
  for (const Arm& arm : s.arms) {
    SetUp su = set_up(population, arm, seed);
    Stepper st(su.world, su.model.month, arm.params, seed);
    const Stopwatch sw;
    for (int month = 0; month < su.world.calendar.months; ++month) st.step(month);
    const Timing t = sw.elapsed();
    total.wall += t.wall;
    total.cpu += t.cpu;
  }
  return total;
}

Timing time_reference(World& world, int months, std::size_t arms, const rng::StreamSeed& seed,
                      const ReferenceKernelShape& shape, std::uint64_t& sink) {
  const Stopwatch sw;
  for (std::size_t a = 0; a < arms; ++a) sink ^= run_reference_kernel(world, months, seed, shape);
  return sw.elapsed();
}

struct ThreadFigures {
  int threads = 0;
  std::vector<double> model_s, reference_s, ratio;          // wall seconds
  std::vector<double> model_cpu, reference_cpu, cpu_ratio;  // CPU seconds
  std::vector<double> contract_cpu, contract_ratio;          // CPU seconds of the contract kernel
  double rate = 0.0;  // household-months per wall second, median
  double reference_rate = 0.0;
  double cpu_rate = 0.0;  // household-months per CPU second, median
  double reference_cpu_rate = 0.0;
};

struct ScalingFigure {
  long long households = 0;
  double seconds = 0.0, cpu_seconds = 0.0, ns_per_household_month = 0.0;
};

}  // namespace

int cmd_bench(const std::vector<std::string>& args) {
  const ParsedArgs a = parse_args("bench", args, kBenchOptions, 0);
  if (a.has("--help")) {
    std::cout << "usage: chacra bench [OPTIONS]\n\n"
                 "Measures the full model (models::build_model, default parameters, configs/default.yaml) on one\n"
                 "replicate: household-months per second per thread count, parallel efficiency, memory per\n"
                 "household, phase shares, the cost of writing the HDF5 panel, and the cost relative to a\n"
                 "reference kernel that only draws the same random numbers and sweeps the same state.\n\n"
              << format_options(kBenchOptions);
    return kOk;
  }
  const long long households = a.get_int("--households", 100000, 1000, 100'000'000);
  const long long years =
      a.get_int("--years", load_scenario_for("", {}).base.integer("run.years"), 1, 200);  // the default scenario's
  const int repeats = static_cast<int>(a.get_int("--repeats", 3, 1, 1000));
  const std::string format = a.get("--format", "table");
  if (format != "table" && format != "json") throw UsageError("--format expects table or json, got '" + format + "'");
  const std::string arms = a.get("--arms", "both");
  const int hw_threads = tbb::info::default_concurrency();
  std::vector<long long> thread_list =
      a.has("--threads") ? parse_list("--threads", a.get("--threads"), 1, 4096)
                         : (hw_threads > 1 ? std::vector<long long>{1, hw_threads} : std::vector<long long>{1});
  std::vector<long long> scaling =
      a.has("--scaling") ? parse_list("--scaling", a.get("--scaling"), 1000, 100'000'000) : std::vector<long long>{};
  const long long scaling_years = a.get_int("--scaling-years", 1, 1, 200);
  const bool measure_output = !a.has("--no-output");
  std::string tmpdir = a.get("--tmpdir", std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");

  const std::string load_start = load_average();
  const Scenario scenario = bench_scenario(households, years, arms);
  const rng::StreamSeed seed{static_cast<std::uint64_t>(scenario.base.integer("run.seed")), 0};
  const bool table = format == "table";
  auto note = [&](const std::string& s) {
    if (table) std::fprintf(stderr, "bench: %s\n", s.c_str());
  };

  // Memory first, before any world has been freed (so no allocation reuses freed pages).
  note("generating " + std::to_string(households) + " households");
  const std::uint64_t rss0 = resident_bytes();
  const auto tg = clock_type::now();
  const World population = generate_population(scenario.base, 0);
  const double generate_s = seconds_since(tg);
  const std::uint64_t rss1 = resident_bytes();
  SetUp reference_world = set_up(population, scenario.arms.front(), seed);
  const std::uint64_t rss2 = resident_bytes();
  const std::size_t n = population.household_count();
  const int months = population.calendar.months;
  const std::uint64_t hm = static_cast<std::uint64_t>(n) * static_cast<std::uint64_t>(months) * scenario.arms.size();
  const std::size_t bytes_per_household = reference_world.world.households.bytes_per_row();
  const double rss_population = static_cast<double>(rss1 - std::min(rss0, rss1)) / static_cast<double>(n);
  const double rss_world = static_cast<double>(rss2 - std::min(rss1, rss2)) / static_cast<double>(n);
  // The run's own memory estimate for ten million households with the default yearly panel.
  Scenario big = scenario;
  big.base.set("population.households", std::int64_t{10'000'000});
  big.base.set("population.districts", std::int64_t{20'000});
  const MemoryEstimate estimate_10m = estimate_memory(big, model_builder());

  // Phase shares and the draws of the Haku Winay phases, one thread.
  note("profiling phases (1 thread)");
  PhaseProfile profile;
  {
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, 1);
    profile = profile_phases(population, scenario, seed);
  }
  // The floor draws what the model computed (the generator's count). A second
  // kernel draws the model's whole contract (five streams per household-month, each one Philox block,
  // plus Haku Winay's), as if no unused block were skipped.
  const auto shape_of = [](double blocks) {
    ReferenceKernelShape k;
    k.blocks_per_household_month = static_cast<int>(std::floor(blocks));
    k.extra_share = blocks - std::floor(blocks);
    return k;
  };
  const double computed_blocks = profile.tallied_blocks + profile.hw_blocks;
  const double contract_blocks = 5.0 + profile.hw_blocks;
  const ReferenceKernelShape shape = shape_of(computed_blocks), contract_shape = shape_of(contract_blocks);

  // Model and reference kernel, interleaved repeat by repeat so their ratio is measured under the same load.
  std::vector<ThreadFigures> figures;
  for (long long t : thread_list) {
    ThreadFigures f;
    f.threads = static_cast<int>(t);
    figures.push_back(f);
  }
  std::uint64_t sink = 0;
  for (int r = 0; r < repeats; ++r) {
    for (auto& f : figures) {
      note("repeat " + std::to_string(r + 1) + "/" + std::to_string(repeats) + ", " + std::to_string(f.threads) +
           " thread(s): model and reference kernel");
      tbb::global_control gc(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(f.threads));
      const Timing m = time_model(population, scenario, seed);
      const Timing k = time_reference(reference_world.world, months, scenario.arms.size(), seed, shape, sink);
      const Timing kc = time_reference(reference_world.world, months, scenario.arms.size(), seed, contract_shape, sink);
      f.contract_cpu.push_back(kc.cpu);
      f.contract_ratio.push_back(m.cpu / kc.cpu);
      f.model_s.push_back(m.wall);
      f.reference_s.push_back(k.wall);
      f.ratio.push_back(m.wall / k.wall);
      f.model_cpu.push_back(m.cpu);
      f.reference_cpu.push_back(k.cpu);
      f.cpu_ratio.push_back(m.cpu / k.cpu);
    }
  }
  for (auto& f : figures) {
    f.rate = static_cast<double>(hm) / median(f.model_s);
    f.reference_rate = static_cast<double>(hm) / median(f.reference_s);
    f.cpu_rate = static_cast<double>(hm) / median(f.model_cpu);
    f.reference_cpu_rate = static_cast<double>(hm) / median(f.reference_cpu);
  }
  const ThreadFigures* one = nullptr;
  for (const auto& f : figures)
    if (f.threads == 1) one = &f;

  // Output overhead: run_scenario with and without the HDF5 file (population generation, set-up, the
  // recorder's period means included in both), for each thread count, on the arms of configs/default.yaml
  // (the default panel: one population table per replicate, a yearly panel per arm) whatever --arms says.
  const Scenario output_scenario = bench_scenario(households, years, "default");
  struct OutputFigures {
    int threads = 0;
    std::vector<double> with_wall, without_wall, with_cpu, without_cpu;
  };
  std::vector<OutputFigures> outputs;
  std::uintmax_t file_bytes = 0;
  if (measure_output) {
    const std::string path =
        (std::filesystem::path(tmpdir) / ("chacra_bench_" + std::to_string(getpid()) + ".h5")).string();
    for (const auto& f : figures) {
      OutputFigures o;
      o.threads = f.threads;
      outputs.push_back(o);
    }
    for (int r = 0; r < repeats; ++r) {
      for (auto& o : outputs) {
        note("repeat " + std::to_string(r + 1) + "/" + std::to_string(repeats) + ", " + std::to_string(o.threads) +
             " thread(s): run with and without the HDF5 panel");
        RunOptions without;
        without.threads = o.threads;
        const Stopwatch sw0;
        run_scenario(output_scenario, model_builder(), without);
        const Timing t0 = sw0.elapsed();
        RunOptions with = without;
        with.output_path = path;
        with.force = true;
        with.command_line = "chacra bench";
        const Stopwatch sw1;
        run_scenario(output_scenario, model_builder(), with);
        const Timing t1 = sw1.elapsed();
        file_bytes = std::filesystem::file_size(path);
        std::filesystem::remove(path);
        o.without_wall.push_back(t0.wall);
        o.with_wall.push_back(t1.wall);
        o.without_cpu.push_back(t0.cpu);
        o.with_cpu.push_back(t1.cpu);
      }
    }
  }

  // Linearity in households x months: the model alone, one thread, the 'both' arm.
  std::vector<ScalingFigure> scaling_figures;
  for (long long sn : scaling) {
    note("linearity: " + std::to_string(sn) + " households x " + std::to_string(scaling_years) + " year(s)");
    const Scenario ss = bench_scenario(sn, scaling_years, "both");
    const World pop = generate_population(ss.base, 0);
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, 1);
    std::vector<double> times, cpu;
    for (int r = 0; r < repeats; ++r) {
      const Timing t = time_model(pop, ss, seed);
      times.push_back(t.wall);
      cpu.push_back(t.cpu);
    }
    ScalingFigure f;
    f.households = sn;
    f.seconds = median(times);
    f.cpu_seconds = median(cpu);
    f.ns_per_household_month =
        1e9 * f.cpu_seconds / (static_cast<double>(pop.household_count()) * static_cast<double>(pop.calendar.months));
    scaling_figures.push_back(f);
  }

  // ---- Report ----
  // Per-core figures and the floor ratio use CPU time of the one-thread runs (robust on a shared machine);
  // parallel efficiency is wall-clock by definition: rate(t) / (t x rate(1)).
  const ThreadFigures& base = one ? *one : figures.front();
  const double per_core = base.cpu_rate / base.threads;
  const double floor_ratio = median(base.cpu_ratio);
  auto efficiency = [&](const ThreadFigures& f) { return one ? f.rate / (f.threads * one->rate) : std::nan(""); };
  // CPU-time efficiency: the one-thread run's CPU time over the t-thread run's (the extra work parallel
  // execution costs: scheduling, idle spinning, imbalance); on a dedicated machine it bounds the wall-clock
  // efficiency from above, on a shared one it is what the code itself can be held to.
  auto cpu_efficiency = [&](const ThreadFigures& f) { return one ? f.cpu_rate / one->cpu_rate : std::nan(""); };
  const OutputFigures* out_one = nullptr;
  for (const auto& o : outputs)
    if (o.threads == base.threads) out_one = &o;
  const double output_overhead =
      out_one ? median(out_one->with_cpu) / median(out_one->without_cpu) : std::nan("");
  double profile_total = 0.0;
  for (double x : profile.seconds) profile_total += x;
  const double floor_ratio_contract = median(base.contract_ratio);
  const std::string frequency = scenario.base.choice("output.frequency");

  if (format == "json") {
    auto list = [](const std::vector<double>& v) {
      std::string t = "[";
      for (std::size_t k = 0; k < v.size(); ++k) t += (k ? ", " : "") + num(v[k]);
      return t + "]";
    };
    std::ostringstream o;
    o << "{\n";
    o << "  \"chacra_version\": \"" << json_escape(chacra_version()) << "\",\n";
    o << "  \"commit\": \"" << json_escape(chacra_commit()) << "\",\n";
    o << "  \"host\": \"" << json_escape(host()) << "\",\n";
    o << "  \"cpu_model\": \"" << json_escape(cpu_model()) << "\",\n";
    o << "  \"hardware_threads\": " << hw_threads << ",\n";
    o << "  \"compiler\": \"" << json_escape(compiler()) << "\",\n";
    o << "  \"compiler_flags\": \"" << json_escape(compiler_flags()) << "\",\n";
    o << "  \"load_average\": {\"start\": \"" << load_start << "\", \"end\": \"" << load_average() << "\"},\n";
    o << "  \"scenario\": {\"source\": \"configs/default.yaml\", \"arms\": [";
    for (std::size_t i = 0; i < scenario.arms.size(); ++i) o << (i ? ", " : "") << "\"" << scenario.arms[i].name << "\"";
    o << "], \"households\": " << n << ", \"districts\": " << population.district_count() << ", \"months\": " << months
      << ", \"replicates\": 1, \"household_months\": " << hm << ", \"repeats\": " << repeats << "},\n";
    o << "  \"household_months_per_s_per_core\": " << num(per_core) << ",\n";
    o << "  \"household_months_per_s_per_core_threads\": " << base.threads << ",\n";
    o << "  \"floor_ratio\": " << num(floor_ratio) << ",\n";
    o << "  \"floor_ratio_contract\": " << num(floor_ratio_contract) << ",\n";
    o << "  \"parallel_efficiency\": {";
    for (std::size_t i = 0; i < figures.size(); ++i)
      o << (i ? ", " : "") << "\"" << figures[i].threads << "\": " << num(efficiency(figures[i]));
    o << "},\n";
    o << "  \"parallel_efficiency_cpu\": {";
    for (std::size_t i = 0; i < figures.size(); ++i)
      o << (i ? ", " : "") << "\"" << figures[i].threads << "\": " << num(cpu_efficiency(figures[i]));
    o << "},\n";
    o << "  \"bytes_per_household\": " << bytes_per_household << ",\n";
    o << "  \"output_overhead\": " << num(output_overhead) << ",\n";
    o << "  \"timing_basis\": \"household_months_per_s_per_core, floor_ratio and output_overhead: median CPU time "
         "(user+system) of the one-thread runs; parallel_efficiency: median wall time\",\n";
    o << "  \"throughput\": [";
    for (std::size_t i = 0; i < figures.size(); ++i) {
      const auto& f = figures[i];
      o << (i ? "," : "") << "\n    {\"threads\": " << f.threads << ", \"household_months_per_s_wall\": " << num(f.rate)
        << ", \"household_months_per_s_cpu\": " << num(f.cpu_rate)
        << ", \"ns_per_household_month_cpu\": " << num(1e9 / f.cpu_rate)
        << ", \"parallel_efficiency\": " << num(efficiency(f)) << ", \"cpu_efficiency\": " << num(cpu_efficiency(f))
        << ", \"reference_household_months_per_s_wall\": " << num(f.reference_rate)
        << ", \"reference_household_months_per_s_cpu\": " << num(f.reference_cpu_rate)
        << ", \"floor_ratio_wall\": " << num(median(f.ratio)) << ", \"floor_ratio_cpu\": " << num(median(f.cpu_ratio))
        << ", \"floor_ratio_contract_cpu\": " << num(median(f.contract_ratio))
        << ", \"model_wall_s\": " << list(f.model_s) << ", \"model_cpu_s\": " << list(f.model_cpu)
        << ", \"reference_wall_s\": " << list(f.reference_s) << ", \"reference_cpu_s\": " << list(f.reference_cpu)
        << "}";
    }
    o << "\n  ],\n";
    o << "  \"reference_kernel\": {\"philox_blocks_per_household_month\": " << num(computed_blocks)
      << ", \"tallied_by_phases\": " << num(profile.tallied_blocks) << ", \"haku_winay\": " << num(profile.hw_blocks)
      << ", \"contract_blocks_per_household_month\": " << num(contract_blocks)
      << ", \"bytes_read_and_written_per_household_month\": " << bytes_per_household
      << ", \"checksum\": " << (sink & 0xFFFF) << "},\n";
    o << "  \"memory\": {\"table_bytes_per_household\": " << bytes_per_household
      << ", \"rss_bytes_per_household_population\": " << num(rss_population)
      << ", \"rss_bytes_per_household_set_up_world\": " << num(rss_world)
      << ", \"estimate_10M_households_bytes\": " << estimate_10m.bytes
      << ", \"memory_limit_bytes\": " << estimate_10m.limit << "},\n";
    o << "  \"phases\": [";
    for (std::size_t i = 0; i < profile.names.size(); ++i)
      o << (i ? "," : "") << "\n    {\"name\": \"" << profile.names[i] << "\", \"seconds\": " << num(profile.seconds[i])
        << ", \"share\": " << num(profile_total > 0 ? profile.seconds[i] / profile_total : 0.0)
        << ", \"ns_per_household_month\": " << num(1e9 * profile.seconds[i] / static_cast<double>(hm)) << "}";
    o << "\n  ],\n";
    o << "  \"output\": {\"frequency\": \"" << frequency << "\", \"arms\": " << output_scenario.arms.size()
      << ", \"file_bytes\": " << file_bytes << ", \"runs\": [";
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      const auto& x = outputs[i];
      o << (i ? "," : "") << "\n    {\"threads\": " << x.threads
        << ", \"overhead_cpu\": " << num(median(x.with_cpu) / median(x.without_cpu))
        << ", \"overhead_wall\": " << num(median(x.with_wall) / median(x.without_wall))
        << ", \"with_panel_wall_s\": " << list(x.with_wall) << ", \"without_panel_wall_s\": " << list(x.without_wall)
        << ", \"with_panel_cpu_s\": " << list(x.with_cpu) << ", \"without_panel_cpu_s\": " << list(x.without_cpu) << "}";
    }
    o << (outputs.empty() ? "" : "\n  ") << "]},\n";
    o << "  \"population_generation_seconds\": " << num(generate_s) << ",\n";
    o << "  \"linearity\": [";
    for (std::size_t i = 0; i < scaling_figures.size(); ++i)
      o << (i ? "," : "") << "\n    {\"households\": " << scaling_figures[i].households
        << ", \"months\": " << scaling_years * 12 << ", \"wall_s\": " << num(scaling_figures[i].seconds)
        << ", \"cpu_s\": " << num(scaling_figures[i].cpu_seconds)
        << ", \"ns_per_household_month_cpu\": " << num(scaling_figures[i].ns_per_household_month) << "}";
    o << (scaling_figures.empty() ? "" : "\n  ") << "]\n";
    o << "}\n";
    std::cout << o.str();
    return kOk;
  }

  std::printf("chacra bench %s (commit %s) on %s: %s, %d hardware threads, load average %s\n",
              chacra_version().c_str(), chacra_commit().c_str(), host().c_str(), cpu_model().c_str(), hw_threads,
              load_start.c_str());
  std::printf("compiler: %s (%s)\n", compiler().c_str(), compiler_flags().c_str());
  std::printf("scenario: configs/default.yaml, arm(s):");
  for (const auto& arm : scenario.arms) std::printf(" %s", arm.name.c_str());
  std::printf("; %zu households, %zu districts, %d months, 1 replicate; medians of %d repeats\n\n", n,
              population.district_count(), months, repeats);
  std::printf("full model (month loop) and reference kernel, household-months per second:\n");
  std::printf("%8s %10s %10s %12s %11s %9s %13s %12s %11s\n", "threads", "M/s wall", "M/s CPU", "ns CPU/hh-m",
              "efficiency", "CPU eff.", "ref M/s wall", "ref M/s CPU", "x ref (CPU)");
  for (const auto& f : figures)
    std::printf("%8d %10.3f %10.3f %12.1f %11.3f %9.3f %13.3f %12.3f %11.2f\n", f.threads, f.rate / 1e6,
                f.cpu_rate / 1e6, 1e9 / f.cpu_rate, efficiency(f), cpu_efficiency(f), f.reference_rate / 1e6,
                f.reference_cpu_rate / 1e6, median(f.cpu_ratio));
  std::printf("\nreference kernel: %.3f Philox blocks per household-month, as the generator counted them (%.3f in "
              "the other phases + %.3f in Haku Winay's), %zu bytes read and written per household-month\n",
              computed_blocks, profile.tallied_blocks, profile.hw_blocks, bytes_per_household);
  std::printf("                  against the draw contract (%.3f blocks: five streams per household-month + Haku "
              "Winay) the model costs %.2fx\n",
              contract_blocks, floor_ratio_contract);
  std::printf("memory: %zu bytes of household state per household (table); resident: %.0f bytes per household for "
              "the population, %.0f for a set-up world\n",
              bytes_per_household, rss_population, rss_world);
  std::printf("        run estimate for 10 million households with the %s panel: %.2f GiB (limit %.2f GiB)\n",
              frequency.c_str(), static_cast<double>(estimate_10m.bytes) / (1u << 30),
              static_cast<double>(estimate_10m.limit) / (1u << 30));
  if (!outputs.empty()) {
    std::printf("\noutput (run_scenario with / without the %s HDF5 panel, the %zu arms of configs/default.yaml, "
                "file %.1f MiB):\n",
                frequency.c_str(), output_scenario.arms.size(), static_cast<double>(file_bytes) / (1 << 20));
    std::printf("%8s %12s %12s %12s %12s %12s %12s\n", "threads", "with wall", "without", "x wall", "with CPU",
                "without", "x CPU");
    for (const auto& x : outputs)
      std::printf("%8d %11.3fs %11.3fs %12.3f %11.3fs %11.3fs %12.3f\n", x.threads, median(x.with_wall),
                  median(x.without_wall), median(x.with_wall) / median(x.without_wall), median(x.with_cpu),
                  median(x.without_cpu), median(x.with_cpu) / median(x.without_cpu));
  }
  std::printf("\nphases (1 thread, each block phase timed as its own pass, wall):\n");
  std::printf("  %-28s %10s %8s %14s\n", "phase", "seconds", "share", "ns/hh-month");
  for (std::size_t i = 0; i < profile.names.size(); ++i)
    std::printf("  %-28s %10.3f %7.1f%% %14.1f\n", profile.names[i].c_str(), profile.seconds[i],
                profile_total > 0 ? 100.0 * profile.seconds[i] / profile_total : 0.0,
                1e9 * profile.seconds[i] / static_cast<double>(hm));
  std::printf("  %-28s %10.3f %7.1f%% %14.1f\n", "total", profile_total, 100.0,
              1e9 * profile_total / static_cast<double>(hm));
  if (!scaling_figures.empty()) {
    std::printf("\nlinearity (1 thread, 'both' arm, %lld months, CPU time):\n", scaling_years * 12);
    std::printf("  %12s %10s %10s %14s\n", "households", "wall s", "CPU s", "ns CPU/hh-m");
    for (const auto& f : scaling_figures)
      std::printf("  %12lld %10.3f %10.3f %14.1f\n", f.households, f.seconds, f.cpu_seconds, f.ns_per_household_month);
  }
  std::printf("\nsummary: %.3f M household-months/s per core (%d thread, CPU time); %.2fx the reference kernel; ",
              per_core / 1e6, base.threads, floor_ratio);
  for (const auto& f : figures)
    if (f.threads > 1 && one) std::printf("efficiency %.2f at %d threads (wall); ", efficiency(f), f.threads);
  std::printf("%zu bytes per household", bytes_per_household);
  if (out_one) std::printf("; output overhead %.2fx (CPU, %d thread)", output_overhead, base.threads);
  std::printf("\n");
  return kOk;
}

}  // namespace chacra::cli
