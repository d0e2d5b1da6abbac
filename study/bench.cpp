// The measurements of `chacra bench` (see study/bench.hpp). CPU time of a one-thread run is its cost on a
// machine shared with other work (wall time also counts the time other processes held the core); parallel
// efficiency is wall-clock by definition.
#include "study/bench.hpp"

#include "sim/bench_kernel.hpp"
#include "sim/population.hpp"

#include <nlohmann/json.hpp>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/partitioner.h>
#include <oneapi/tbb/info.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

namespace chacra::study::bench {

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

// CPU seconds of the process (user + system, all threads).
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         1e-6 * static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Seconds the process's threads have waited, runnable, for a CPU (the run_delay of /proc/self/task/*/schedstat;
// NaN where the kernel does not keep it): what other processes took from a timed run. A thread that has
// exited takes its part with it, so differences are clamped at zero by the caller.
double run_delay_seconds() {
  std::error_code ec;
  double total = 0.0;
  bool any = false;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream in(task.path() / "schedstat");
    unsigned long long run = 0, delay = 0;
    if (in >> run >> delay) {
      total += 1e-9 * static_cast<double>(delay);
      any = true;
    }
  }
  return any ? total : std::nan("");
}

class Stopwatch {
 public:
  Stopwatch() : wall0_(clock_type::now()), cpu0_(cpu_seconds()) {}
  Timing elapsed() const { return {seconds_since(wall0_), cpu_seconds() - cpu0_}; }

 private:
  clock_type::time_point wall0_;
  double cpu0_;
};

// ---- The machine ----

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  double a = 0, b = 0, c = 0;
  in >> a >> b >> c;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f %.2f %.2f", a, b, c);
  return buf;
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

Machine machine() {
  Machine m;
  m.host = host();
  m.cpu_model = cpu_model();
  m.compiler = compiler();
  m.compiler_flags = compiler_flags();
  m.hardware_threads = tbb::info::default_concurrency();
  m.load_start = load_average();
  return m;
}

// ---- The model, its phases and the reference kernel ----

struct SetUp {
  World world;
  Model model;
};

SetUp set_up(const World& population, const Arm& arm, const ModelBuilder& builder, const rng::StreamSeed& seed) {
  SetUp s{population, builder(arm.params)};
  for (auto& m : s.model.modules) m->setup(s.world, arm.params, seed);
  return s;
}

// One profiled pass (each block phase its own parallel pass, timed) over every arm. The Philox blocks are the
// generator's own count per phase (Stepper::phase_blocks), exact on the one thread this pass runs on.
PhaseProfile profile_phases(const World& population, const Scenario& s, const ModelBuilder& builder,
                            const rng::StreamSeed& seed) {
  PhaseProfile out;
  std::uint64_t hw_blocks = 0, other_blocks = 0, household_months = 0;
  for (const Arm& arm : s.arms) {
    SetUp su = set_up(population, arm, builder, seed);
    Stepper st(su.world, su.model.month, arm.params, seed);
    st.set_profiling(true);
    for (int month = 0; month < su.world.calendar.months; ++month) st.step(month);
    household_months += su.world.household_count() * static_cast<std::uint64_t>(su.world.calendar.months);
    if (out.names.empty()) {
      for (const auto& ph : su.model.month) out.names.push_back(ph.name);
      out.seconds.assign(out.names.size(), 0.0);
      out.cpu_seconds.assign(out.names.size(), 0.0);
    }
    if (out.serial_seconds.empty()) {
      out.serial_seconds.assign(out.names.size(), 0.0);
      out.active_months.assign(out.names.size(), 0);
      for (const auto& ph : su.model.month) out.global.push_back(ph.scope == Phase::Scope::global);
    }
    for (std::size_t i = 0; i < out.seconds.size() && i < st.phase_seconds().size(); ++i) {
      out.seconds[i] += st.phase_seconds()[i];
      out.cpu_seconds[i] += st.phase_cpu_seconds()[i];
      // On one thread a global phase's parallel loops ran on this thread: the rest of its time was serial.
      if (out.global[i]) out.serial_seconds[i] += std::max(0.0, st.phase_seconds()[i] - st.phase_parallel_seconds()[i]);
      out.active_months[i] += st.phase_active_months()[i];
    }
    for (std::size_t i = 0; i < su.model.month.size(); ++i)
      (su.model.month[i].name.starts_with("haku_winay.") ? hw_blocks : other_blocks) += st.phase_blocks()[i];
  }
  const double hm = static_cast<double>(std::max<std::uint64_t>(household_months, 1));
  out.hw_blocks = static_cast<double>(hw_blocks) / hm;
  out.tallied_blocks = static_cast<double>(other_blocks) / hm;
  return out;
}

// Wall and CPU seconds of the month loop of every arm (set-up excluded); `passes_per_month` (if given) hears
// the month's parallel passes over the blocks, on average.
Timing time_model(const World& population, const Scenario& s, const ModelBuilder& builder,
                  const rng::StreamSeed& seed, double* passes_per_month = nullptr) {
  Timing total;
  std::uint64_t passes = 0, months = 0;
  for (const Arm& arm : s.arms) {
    SetUp su = set_up(population, arm, builder, seed);
    Stepper st(su.world, su.model.month, arm.params, seed);
    const Stopwatch sw;
    for (int month = 0; month < su.world.calendar.months; ++month) st.step(month);
    const Timing t = sw.elapsed();
    total.wall += t.wall;
    total.cpu += t.cpu;
    passes += st.passes();
    months += static_cast<std::uint64_t>(su.world.calendar.months);
  }
  if (passes_per_month != nullptr) *passes_per_month = static_cast<double>(passes) / static_cast<double>(std::max<std::uint64_t>(months, 1));
  return total;
}

// The triad a[i] = b[i] + 3 c[i] over three arrays of `array_bytes` each, best of five, on `threads` threads
// (the arrays split in equal static parts, each first touched by the thread that sweeps it): bytes read and
// written per second, counted as STREAM counts them (3 x 8 bytes per element, write-allocate not counted).
double triad_bandwidth(std::size_t array_bytes, int threads) {
  const std::size_t n = array_bytes / sizeof(double);
  std::unique_ptr<double[]> a(new double[n]), b(new double[n]), c(new double[n]);
  tbb::global_control gc(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
  const std::size_t grain = std::max<std::size_t>(n / static_cast<std::size_t>(threads), 1);
  tbb::static_partitioner part;
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, grain), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t i = r.begin(); i != r.end(); ++i) a[i] = 0.0, b[i] = 1.0, c[i] = 2.0;
  }, part);
  double best = 0.0;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = clock_type::now();
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, grain), [&](const tbb::blocked_range<std::size_t>& r) {
      double* __restrict pa = a.get();
      const double* __restrict pb = b.get();
      const double* __restrict pc = c.get();
      for (std::size_t i = r.begin(); i != r.end(); ++i) pa[i] = pb[i] + 3.0 * pc[i];
    }, part);
    const double secs = seconds_since(t0);
    if (secs > 0) best = std::max(best, 3.0 * static_cast<double>(n * sizeof(double)) / secs);
  }
  volatile double keep = a[n / 2];  // the sweeps have an observable result
  (void)keep;
  return best;
}

StreamBandwidth measure_stream(int hardware_threads) {
  StreamBandwidth s;
  s.array_bytes = std::size_t{64} << 20;  // three arrays of 64 MiB: six times a 32 MiB last-level cache
  s.threads_all = std::max(hardware_threads, 1);
  s.bytes_per_s_one = triad_bandwidth(s.array_bytes, 1);
  s.bytes_per_s_all = s.threads_all > 1 ? triad_bandwidth(s.array_bytes, s.threads_all) : s.bytes_per_s_one;
  return s;
}

Timing time_reference(World& world, int months, std::size_t arms, const rng::StreamSeed& seed,
                      const ReferenceKernelShape& shape, std::uint64_t& sink) {
  const Stopwatch sw;
  for (std::size_t a = 0; a < arms; ++a) sink ^= run_reference_kernel(world, months, seed, shape);
  return sw.elapsed();
}

ReferenceKernelShape kernel_shape(double blocks) {
  ReferenceKernelShape k;
  k.blocks_per_household_month = static_cast<int>(std::floor(blocks));
  k.extra_share = blocks - std::floor(blocks);
  return k;
}

// ---- The measurements ----

// Memory first, before any world has been freed (so no allocation reuses freed pages): resident bytes of the
// population and of a set-up world (kept in `world` for the reference kernel), and the run's own estimate for
// ten million households.
Memory measure_memory(const Scenario& scenario, const ModelBuilder& builder, const rng::StreamSeed& seed,
                      World& population, SetUp& world, double& generate_seconds) {
  Memory m;
  const std::uint64_t rss0 = resident_bytes();
  const auto tg = clock_type::now();
  population = generate_population(scenario.base, 0);
  generate_seconds = seconds_since(tg);
  const std::uint64_t rss1 = resident_bytes();
  world = set_up(population, scenario.arms.front(), builder, seed);
  const std::uint64_t rss2 = resident_bytes();
  const auto n = static_cast<double>(population.household_count());
  m.bytes_per_household = world.world.households.bytes_per_row();
  m.rss_population = static_cast<double>(rss1 - std::min(rss0, rss1)) / n;
  m.rss_world = static_cast<double>(rss2 - std::min(rss1, rss2)) / n;
  Scenario big = scenario;
  big.base.set("population.households", std::int64_t{10'000'000});
  big.base.set("population.districts", std::int64_t{20'000});
  m.estimate_10m = estimate_memory(big, builder);
  return m;
}

// The model and the reference kernels, interleaved repeat by repeat so their ratio is measured under the
// same load.
std::vector<ThreadFigures> measure_throughput(const Options& o, const Scenario& scenario, const ModelBuilder& builder,
                                              const rng::StreamSeed& seed, const World& population, World& reference,
                                              const ReferenceKernelShape& shape, const ReferenceKernelShape& contract,
                                              std::uint64_t household_months, std::uint64_t& sink,
                                              double& passes_per_month,
                                              const std::function<void(const std::string&)>& note) {
  std::vector<ThreadFigures> figures;
  for (long long t : o.threads) {
    ThreadFigures f;
    f.threads = static_cast<int>(t);
    figures.push_back(f);
  }
  const int months = population.calendar.months;
  for (int r = 0; r < o.repeats; ++r) {
    for (auto& f : figures) {
      note("repeat " + std::to_string(r + 1) + "/" + std::to_string(o.repeats) + ", " + std::to_string(f.threads) +
           " thread(s): model and reference kernel");
      tbb::global_control gc(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(f.threads));
      const double delay0 = run_delay_seconds();
      const Timing m = time_model(population, scenario, builder, seed, &passes_per_month);
      f.model_run_delay.push_back(std::max(0.0, run_delay_seconds() - delay0));
      const Timing k = time_reference(reference, months, scenario.arms.size(), seed, shape, sink);
      const Timing kc = time_reference(reference, months, scenario.arms.size(), seed, contract, sink);
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
  const auto hm = static_cast<double>(household_months);
  for (auto& f : figures) {
    f.rate = hm / median(f.model_s);
    f.reference_rate = hm / median(f.reference_s);
    f.cpu_rate = hm / median(f.model_cpu);
    f.reference_cpu_rate = hm / median(f.reference_cpu);
  }
  return figures;
}

// Output overhead: run_scenario with and without the HDF5 file (population generation, set-up, the recorder's
// period means included in both), for each thread count, on the arms of configs/default.yaml (the default
// panel: one population table per replicate, a yearly panel per arm) whatever --arms says.
std::vector<OutputFigures> measure_output(const Options& o, const Scenario& scenario, const ModelBuilder& builder,
                                          std::uintmax_t& file_bytes,
                                          const std::function<void(const std::string&)>& note) {
  std::vector<OutputFigures> outputs;
  const std::string path =
      (std::filesystem::path(o.tmpdir) / ("chacra_bench_" + std::to_string(getpid()) + ".h5")).string();
  for (long long t : o.threads) {
    OutputFigures f;
    f.threads = static_cast<int>(t);
    outputs.push_back(f);
  }
  for (int r = 0; r < o.repeats; ++r) {
    for (auto& f : outputs) {
      note("repeat " + std::to_string(r + 1) + "/" + std::to_string(o.repeats) + ", " + std::to_string(f.threads) +
           " thread(s): run with and without the HDF5 panel");
      RunOptions without;
      without.threads = f.threads;
      const Stopwatch sw0;
      run_scenario(scenario, builder, without);
      const Timing t0 = sw0.elapsed();
      RunOptions with = without;
      with.output_path = path;
      with.force = true;
      with.command_line = "chacra bench";
      const std::uint64_t wait0 = output::panel_wait_ns, copy0 = output::panel_copy_ns;
      auto& wc = output::write_counters;
      const std::uint64_t enc0 = wc.encode_cpu_ns, h50 = wc.hdf5_ns, sum0 = wc.checksum_ns, in0 = wc.bytes_in,
                          st0 = wc.bytes_stored, re0 = wc.reused;
      const Stopwatch sw1;
      run_scenario(scenario, builder, with);
      const Timing t1 = sw1.elapsed();
      f.writer_wait.push_back(1e-9 * static_cast<double>(output::panel_wait_ns - wait0));
      f.panel_copy.push_back(1e-9 * static_cast<double>(output::panel_copy_ns - copy0));
      f.encode_cpu.push_back(1e-9 * static_cast<double>(wc.encode_cpu_ns - enc0));
      f.hdf5_write.push_back(1e-9 * static_cast<double>(wc.hdf5_ns - h50));
      f.checksum.push_back(1e-9 * static_cast<double>(wc.checksum_ns - sum0));
      f.bytes_in.push_back(static_cast<double>(wc.bytes_in - in0));
      f.bytes_stored.push_back(static_cast<double>(wc.bytes_stored - st0));
      f.reused_chunks.push_back(static_cast<double>(wc.reused - re0));
      file_bytes = std::filesystem::file_size(path);
      std::filesystem::remove(path);
      f.without_wall.push_back(t0.wall);
      f.with_wall.push_back(t1.wall);
      f.without_cpu.push_back(t0.cpu);
      f.with_cpu.push_back(t1.cpu);
    }
  }
  return outputs;
}

// Linearity in households x months: the model alone, one thread, the 'both' arm.
std::vector<ScalingFigure> measure_linearity(const Options& o, const ScenarioLoader& load, const ModelBuilder& builder,
                                             const rng::StreamSeed& seed,
                                             const std::function<void(const std::string&)>& note) {
  std::vector<ScalingFigure> out;
  for (long long sn : o.scaling) {
    note("linearity: " + std::to_string(sn) + " households x " + std::to_string(o.scaling_years) + " year(s)");
    const Scenario ss = scenario(load, sn, o.scaling_years, "both");
    const World pop = generate_population(ss.base, 0);
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, 1);
    std::vector<double> times, cpu;
    for (int r = 0; r < o.repeats; ++r) {
      const Timing t = time_model(pop, ss, builder, seed);
      times.push_back(t.wall);
      cpu.push_back(t.cpu);
    }
    ScalingFigure f;
    f.households = sn;
    f.seconds = median(times);
    f.cpu_seconds = median(cpu);
    f.ns_per_household_month =
        1e9 * f.cpu_seconds / (static_cast<double>(pop.household_count()) * static_cast<double>(pop.calendar.months));
    out.push_back(f);
  }
  return out;
}

// ---- Figures derived for the report ----

double projected_at(const Projection& p, int threads) {
  for (std::size_t i = 0; i < p.threads.size(); ++i)
    if (p.threads[i] == threads) return p.model[i];
  return std::nan("");
}
double reference_at(const Projection& p, int threads) {
  for (std::size_t i = 0; i < p.threads.size(); ++i)
    if (p.threads[i] == threads) return p.reference[i];
  return std::nan("");
}

// How far the projection at two threads may be from the measured efficiency (the check `chacra bench` reports).
constexpr double kProjectionTolerance = 0.05;

struct Derived {
  const ThreadFigures* one = nullptr;   // the one-thread figures, if measured
  const ThreadFigures* base = nullptr;  // those the per-core figures come from (one thread, else the first)
  const OutputFigures* out_one = nullptr;
  double per_core = 0.0, floor_ratio = 0.0, floor_ratio_contract = 0.0, output_overhead = 0.0, profile_total = 0.0,
         profile_cpu_total = 0.0;
  double efficiency(const ThreadFigures& f) const { return one ? f.rate / (f.threads * one->rate) : std::nan(""); }
  // CPU-time efficiency: the one-thread run's CPU time over the t-thread run's (the extra work parallel
  // execution costs: scheduling, idle spinning, imbalance); on a dedicated machine it bounds the wall-clock
  // efficiency from above, on a shared one it is what the code itself can be held to.
  double cpu_efficiency(const ThreadFigures& f) const { return one ? f.cpu_rate / one->cpu_rate : std::nan(""); }
  // The projection against the measured efficiency at two threads (when both 1 and 2 were measured).
  const ThreadFigures* two = nullptr;
  double check_projected = std::nan(""), check_measured = std::nan("");
  bool check_within() const { return std::fabs(check_projected - check_measured) <= kProjectionTolerance; }
  // Bytes per household-month, and per second on one core (CPU time) for the model and the reference kernel.
  double bandwidth_bytes = 0.0, model_bytes_per_s = 0.0, reference_bytes_per_s = 0.0;
};

Derived derive(const Report& r) {
  Derived d;
  for (const auto& f : r.throughput)
    if (f.threads == 1) d.one = &f;
  d.base = d.one ? d.one : &r.throughput.front();
  d.per_core = d.base->cpu_rate / d.base->threads;
  d.floor_ratio = median(d.base->cpu_ratio);
  d.floor_ratio_contract = median(d.base->contract_ratio);
  for (const auto& o : r.output)
    if (o.threads == d.base->threads) d.out_one = &o;
  d.output_overhead = d.out_one ? median(d.out_one->with_cpu) / median(d.out_one->without_cpu) : std::nan("");
  for (double x : r.profile.seconds) d.profile_total += x;
  for (double x : r.profile.cpu_seconds) d.profile_cpu_total += x;
  for (const auto& f : r.throughput)
    if (f.threads == 2) d.two = &f;
  if (d.one && d.two) {
    d.check_measured = d.efficiency(*d.two);
    for (std::size_t i = 0; i < r.projection.threads.size(); ++i)
      if (r.projection.threads[i] == 2) d.check_projected = r.projection.model[i];
  }
  d.bandwidth_bytes = bandwidth_bytes_per_household_month(r.memory.bytes_per_household, r.profile.passes_per_month);
  d.model_bytes_per_s = d.bandwidth_bytes * d.base->cpu_rate / d.base->threads;
  d.reference_bytes_per_s = static_cast<double>(r.memory.bytes_per_household) * d.base->reference_cpu_rate / d.base->threads;
  return d;
}

// A figure rounded to six significant digits, as the report states it (NaN stays NaN).
double figure(double v) {
  if (!std::isfinite(v)) return v;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return std::strtod(buf, nullptr);
}

nlohmann::ordered_json figures(const std::vector<double>& v) {
  auto a = nlohmann::ordered_json::array();
  for (double x : v) a.push_back(figure(x));
  return a;
}

}  // namespace

double amdahl_efficiency(double serial_fraction, int threads) {
  const double n = std::max(threads, 1);
  return 1.0 / (n * serial_fraction + 1.0 - serial_fraction);
}

double block_balance(const std::vector<double>& block_work, int threads) {
  if (block_work.empty() || threads <= 1) return 1.0;
  // Each thread's finishing time; the next block goes to the one free first (the lowest index among equals).
  std::vector<double> busy(static_cast<std::size_t>(threads), 0.0);
  double total = 0.0;
  for (double w : block_work) {
    *std::min_element(busy.begin(), busy.end()) += w;
    total += w;
  }
  const double makespan = *std::max_element(busy.begin(), busy.end());
  return makespan > 0 ? total / (static_cast<double>(threads) * makespan) : 1.0;
}

double projected_efficiency(double serial_fraction, double balance, int threads) {
  const double n = std::max(threads, 1);
  return 1.0 / (n * serial_fraction + (1.0 - serial_fraction) / std::max(balance, 1e-12));
}

double bandwidth_bytes_per_household_month(std::size_t table_bytes_per_household, double passes_per_month) {
  return static_cast<double>(table_bytes_per_household) * passes_per_month;
}

Projection project(const Report& r) {
  Projection p;
  double total = 0.0, serial = 0.0;
  for (double x : r.profile.seconds) total += x;
  for (double x : r.profile.serial_seconds) serial += x;
  p.serial_fraction = total > 0 ? serial / total : 0.0;
  p.threads = {2, 4, 8, 16, 32, 64};
  for (const auto& f : r.throughput)
    if (f.threads > 1 && std::find(p.threads.begin(), p.threads.end(), f.threads) == p.threads.end())
      p.threads.push_back(f.threads);
  std::sort(p.threads.begin(), p.threads.end());
  for (int n : p.threads) {
    const double g = block_balance(r.block_households, n);
    p.amdahl.push_back(amdahl_efficiency(p.serial_fraction, n));
    p.balance.push_back(g);
    p.model.push_back(projected_efficiency(p.serial_fraction, g, n));
    p.reference.push_back(g);
  }
  return p;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

Scenario scenario(const ScenarioLoader& load, long long households, long long years, const std::string& arms) {
  const long long districts = std::max(1LL, households / 500);
  std::vector<std::string> sets = {"population.households=" + std::to_string(households),
                                   "population.districts=" + std::to_string(districts),
                                   "run.years=" + std::to_string(years), "run.replicates=1"};
  Scenario s = load(sets);
  if (arms == "both") {
    const Arm* both = s.find_arm("both");
    if (!both) throw std::invalid_argument("the default scenario has no arm 'both'");
    const Arm keep = *both;
    s.arms = {keep};
  } else if (arms != "default") {
    throw std::invalid_argument("--arms expects both or default, got '" + arms + "'");
  }
  return s;
}

Report run(const Options& options, const ScenarioLoader& load_default, const ModelBuilder& builder,
           const std::function<void(const std::string&)>& note_fn) {
  // The caller's overrides (e.g. the household economy's switches) first, so the bench's own sizes win.
  const ScenarioLoader load = [&](const std::vector<std::string>& sets) {
    std::vector<std::string> all = options.sets;
    all.insert(all.end(), sets.begin(), sets.end());
    return load_default(all);
  };
  const auto note = [&](const std::string& s) {
    if (note_fn) note_fn(s);
  };
  Options o = options;
  const int hw_threads = tbb::info::default_concurrency();
  if (o.threads.empty()) o.threads = hw_threads > 1 ? std::vector<long long>{1, hw_threads} : std::vector<long long>{1};
  if (o.years <= 0) o.years = load({}).base.integer("run.years");
  Report r;
  r.machine = machine();
  r.version = chacra_version();
  r.commit = chacra_commit();
  r.repeats = o.repeats;
  r.sets = o.sets;
  r.scaling_years = o.scaling_years;
  const Scenario s = scenario(load, o.households, o.years, o.arms);
  const rng::StreamSeed seed{static_cast<std::uint64_t>(s.base.integer("run.seed")), 0};
  for (const auto& arm : s.arms) r.arms.push_back(arm.name);
  r.frequency = s.base.choice("output.frequency");

  note("generating " + std::to_string(o.households) + " households");
  World population;
  SetUp reference{World{}, Model{}};
  r.memory = measure_memory(s, builder, seed, population, reference, r.generate_seconds);
  r.households = population.household_count();
  r.districts = population.district_count();
  r.months = population.calendar.months;
  r.household_months = static_cast<std::uint64_t>(r.households) * static_cast<std::uint64_t>(r.months) * s.arms.size();

  // Phase shares and the draws of the Haku Winay phases, one thread.
  note("profiling phases (1 thread)");
  {
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, 1);
    r.profile = profile_phases(population, s, builder, seed);
  }
  // The floor draws what the model computed (the generator's count). A second kernel draws the model's whole
  // contract (five streams per household-month, each one Philox block, plus
  // Haku Winay's), as if no unused block were skipped.
  r.computed_blocks = r.profile.tallied_blocks + r.profile.hw_blocks;
  r.contract_blocks = 5.0 + r.profile.hw_blocks;
  std::uint64_t sink = 0;
  r.throughput = measure_throughput(o, s, builder, seed, population, reference.world, kernel_shape(r.computed_blocks),
                                    kernel_shape(r.contract_blocks), r.household_months, sink,
                                    r.profile.passes_per_month, note);
  r.checksum = sink & 0xFFFF;
  // The set-up world's blocks: a module may cut them anew (the local markets cut them between economies).
  for (const Block& b : reference.world.blocks) r.block_households.push_back(b.household_end - b.household_begin);
  if (o.stream) {
    note("memory bandwidth (triad, 1 and " + std::to_string(hw_threads) + " threads)");
    r.stream = measure_stream(hw_threads);
  }
  r.projection = project(r);

  const Scenario output_scenario = scenario(load, o.households, o.years, "default");
  r.output_arms = output_scenario.arms.size();
  if (o.output) r.output = measure_output(o, output_scenario, builder, r.file_bytes, note);
  r.linearity = measure_linearity(o, load, builder, seed, note);
  r.machine.load_end = load_average();
  return r;
}

std::string format_json(const Report& r) {
  const Derived d = derive(r);
  using json = nlohmann::ordered_json;
  json o;
  o["chacra_version"] = r.version;
  o["commit"] = r.commit;
  o["host"] = r.machine.host;
  o["cpu_model"] = r.machine.cpu_model;
  o["hardware_threads"] = r.machine.hardware_threads;
  o["compiler"] = r.machine.compiler;
  o["compiler_flags"] = r.machine.compiler_flags;
  o["load_average"] = {{"start", r.machine.load_start}, {"end", r.machine.load_end}};
  o["scenario"] = {{"source", "configs/default.yaml"}, {"arms", r.arms},           {"households", r.households},
                   {"districts", r.districts},         {"months", r.months},       {"replicates", 1},
                   {"household_months", r.household_months}, {"repeats", r.repeats},
                   {"sets", r.sets}};
  o["household_months_per_s_per_core"] = figure(d.per_core);
  o["household_months_per_s_per_core_threads"] = d.base->threads;
  o["floor_ratio"] = figure(d.floor_ratio);
  o["floor_ratio_contract"] = figure(d.floor_ratio_contract);
  json eff = json::object(), cpu_eff = json::object();
  for (const auto& f : r.throughput) {
    eff[std::to_string(f.threads)] = figure(d.efficiency(f));
    cpu_eff[std::to_string(f.threads)] = figure(d.cpu_efficiency(f));
  }
  o["parallel_efficiency"] = eff;
  o["parallel_efficiency_cpu"] = cpu_eff;
  o["bytes_per_household"] = r.memory.bytes_per_household;
  o["output_overhead"] = figure(d.output_overhead);
  // Scaling from one thread: the serial fraction, Amdahl's projection, the blocks' balance, memory traffic.
  const Projection& p = r.projection;
  o["serial_fraction"] = figure(p.serial_fraction);
  json serial_by_phase = json::object();
  for (std::size_t i = 0; i < r.profile.names.size(); ++i)
    serial_by_phase[r.profile.names[i]] =
        figure(d.profile_total > 0 ? r.profile.serial_seconds[i] / d.profile_total : 0.0);
  o["serial_fraction_by_phase"] = serial_by_phase;
  json amdahl = json::object(), projected = json::object(), balance = json::object(), ref_projected = json::object();
  for (std::size_t i = 0; i < p.threads.size(); ++i) {
    const std::string n = std::to_string(p.threads[i]);
    amdahl[n] = figure(p.amdahl[i]);
    balance[n] = figure(p.balance[i]);
    projected[n] = figure(p.model[i]);
    ref_projected[n] = figure(p.reference[i]);
  }
  o["amdahl_efficiency"] = amdahl;
  o["block_balance"] = balance;
  o["projected_efficiency"] = projected;
  o["reference_projected_efficiency"] = ref_projected;
  if (std::isfinite(d.check_projected) && std::isfinite(d.check_measured))
    o["projection_check"] = {{"threads", 2},
                             {"projected", figure(d.check_projected)},
                             {"measured", figure(d.check_measured)},
                             {"difference", figure(d.check_projected - d.check_measured)},
                             {"tolerance", kProjectionTolerance},
                             {"within", d.check_within()}};
  else
    o["projection_check"] = nullptr;
  o["passes_per_month"] = figure(r.profile.passes_per_month);
  o["bandwidth_bytes_per_household_month"] = figure(d.bandwidth_bytes);
  o["memory_bandwidth"] = {
      {"triad_bytes_per_s_1_thread", figure(r.stream.bytes_per_s_one)},
      {"triad_bytes_per_s_all_threads", figure(r.stream.bytes_per_s_all)},
      {"triad_threads", r.stream.threads_all},
      {"triad_array_bytes", r.stream.array_bytes},
      {"model_bytes_per_s_per_core", figure(d.model_bytes_per_s)},
      {"reference_bytes_per_s_per_core", figure(d.reference_bytes_per_s)},
      {"model_cores_to_reach_triad_all_threads",
       figure(d.model_bytes_per_s > 0 && r.stream.bytes_per_s_all > 0 ? r.stream.bytes_per_s_all / d.model_bytes_per_s
                                                                     : std::nan(""))},
      {"reference_cores_to_reach_triad_all_threads",
       figure(d.reference_bytes_per_s > 0 && r.stream.bytes_per_s_all > 0
                  ? r.stream.bytes_per_s_all / d.reference_bytes_per_s
                  : std::nan(""))}};
  o["timing_basis"] =
      "household_months_per_s_per_core, floor_ratio and output_overhead: median CPU time (user+system) of the "
      "one-thread runs; parallel_efficiency: median wall time";
  json throughput = json::array();
  for (const auto& f : r.throughput)
    throughput.push_back({{"threads", f.threads},
                          {"household_months_per_s_wall", figure(f.rate)},
                          {"household_months_per_s_cpu", figure(f.cpu_rate)},
                          {"ns_per_household_month_cpu", figure(1e9 / f.cpu_rate)},
                          {"parallel_efficiency", figure(d.efficiency(f))},
                          {"cpu_efficiency", figure(d.cpu_efficiency(f))},
                          {"reference_household_months_per_s_wall", figure(f.reference_rate)},
                          {"reference_household_months_per_s_cpu", figure(f.reference_cpu_rate)},
                          {"floor_ratio_wall", figure(median(f.ratio))},
                          {"floor_ratio_cpu", figure(median(f.cpu_ratio))},
                          {"floor_ratio_contract_cpu", figure(median(f.contract_ratio))},
                          {"model_wall_s", figures(f.model_s)},
                          {"model_cpu_s", figures(f.model_cpu)},
                          {"model_run_delay_s", figures(f.model_run_delay)},
                          {"reference_wall_s", figures(f.reference_s)},
                          {"reference_cpu_s", figures(f.reference_cpu)}});
  o["throughput"] = throughput;
  o["reference_kernel"] = {{"philox_blocks_per_household_month", figure(r.computed_blocks)},
                           {"tallied_by_phases", figure(r.profile.tallied_blocks)},
                           {"haku_winay", figure(r.profile.hw_blocks)},
                           {"contract_blocks_per_household_month", figure(r.contract_blocks)},
                           {"bytes_read_and_written_per_household_month", r.memory.bytes_per_household},
                           {"checksum", r.checksum}};
  o["memory"] = {{"table_bytes_per_household", r.memory.bytes_per_household},
                 {"rss_bytes_per_household_population", figure(r.memory.rss_population)},
                 {"rss_bytes_per_household_set_up_world", figure(r.memory.rss_world)},
                 {"estimate_10M_households_bytes", r.memory.estimate_10m.bytes},
                 {"memory_limit_bytes", r.memory.estimate_10m.limit}};
  const auto hm = static_cast<double>(r.household_months);
  json phases = json::array();
  for (std::size_t i = 0; i < r.profile.names.size(); ++i)
    phases.push_back({{"name", r.profile.names[i]},
                      {"scope", r.profile.global[i] ? "global" : "block"},
                      {"active_months", r.profile.active_months[i]},
                      {"seconds", figure(r.profile.seconds[i])},
                      {"serial_seconds", figure(r.profile.serial_seconds[i])},
                      {"share", figure(d.profile_total > 0 ? r.profile.seconds[i] / d.profile_total : 0.0)},
                      {"ns_per_household_month", figure(1e9 * r.profile.seconds[i] / hm)},
                      {"cpu_seconds", figure(r.profile.cpu_seconds[i])},
                      {"cpu_ns_per_household_month", figure(1e9 * r.profile.cpu_seconds[i] / hm)}});
  o["phases"] = phases;
  json runs = json::array();
  for (const auto& x : r.output)
    runs.push_back({{"threads", x.threads},
                    {"overhead_cpu", figure(median(x.with_cpu) / median(x.without_cpu))},
                    {"overhead_wall", figure(median(x.with_wall) / median(x.without_wall))},
                    {"with_panel_wall_s", figures(x.with_wall)},
                    {"writer_wait_s", figures(x.writer_wait)},
                    {"encode_cpu_s", figures(x.encode_cpu)},
                    {"hdf5_write_s", figures(x.hdf5_write)},
                    {"checksum_s", figures(x.checksum)},
                    {"panel_copy_s", figures(x.panel_copy)},
                    {"bytes_encoded", figures(x.bytes_in)},
                    {"bytes_stored", figures(x.bytes_stored)},
                    {"reused_chunks", figures(x.reused_chunks)},
                    {"without_panel_wall_s", figures(x.without_wall)},
                    {"with_panel_cpu_s", figures(x.with_cpu)},
                    {"without_panel_cpu_s", figures(x.without_cpu)}});
  o["output"] = {{"frequency", r.frequency}, {"arms", r.output_arms}, {"file_bytes", r.file_bytes}, {"runs", runs}};
  o["population_generation_seconds"] = figure(r.generate_seconds);
  json linearity = json::array();
  for (const auto& f : r.linearity)
    linearity.push_back({{"households", f.households},
                         {"months", r.scaling_years * 12},
                         {"wall_s", figure(f.seconds)},
                         {"cpu_s", figure(f.cpu_seconds)},
                         {"ns_per_household_month_cpu", figure(f.ns_per_household_month)}});
  o["linearity"] = linearity;
  return o.dump(2) + "\n";
}

std::string format_table(const Report& r) {
  const Derived d = derive(r);
  std::ostringstream os;
  char line[1024];
  auto print = [&](const char* fmt, auto... args) {
    std::snprintf(line, sizeof line, fmt, args...);
    os << line;
  };
  const auto hm = static_cast<double>(r.household_months);
  print("chacra bench %s (commit %s) on %s: %s, %d hardware threads, load average %s\n", r.version.c_str(),
        r.commit.c_str(), r.machine.host.c_str(), r.machine.cpu_model.c_str(), r.machine.hardware_threads,
        r.machine.load_start.c_str());
  print("compiler: %s (%s)\n", r.machine.compiler.c_str(), r.machine.compiler_flags.c_str());
  os << "scenario: configs/default.yaml, arm(s):";
  for (const auto& arm : r.arms) os << " " << arm;
  print("; %zu households, %zu districts, %d months, 1 replicate; medians of %d repeats\n", r.households,
        r.districts, r.months, r.repeats);
  os << "settings:";
  if (r.sets.empty()) os << " none (configs/default.yaml as it is)";
  for (const auto& set : r.sets) os << " " << set;
  os << "\n\n";
  os << "full model (month loop) and reference kernel, household-months per second:\n";
  print("%8s %10s %10s %12s %11s %9s %13s %12s %11s\n", "threads", "M/s wall", "M/s CPU", "ns CPU/hh-m", "efficiency",
        "CPU eff.", "ref M/s wall", "ref M/s CPU", "x ref (CPU)");
  for (const auto& f : r.throughput)
    print("%8d %10.3f %10.3f %12.1f %11.3f %9.3f %13.3f %12.3f %11.2f\n", f.threads, f.rate / 1e6, f.cpu_rate / 1e6,
          1e9 / f.cpu_rate, d.efficiency(f), d.cpu_efficiency(f), f.reference_rate / 1e6, f.reference_cpu_rate / 1e6,
          median(f.cpu_ratio));
  print("\nreference kernel: %.3f Philox blocks per household-month, as the generator counted them (%.3f in "
        "the other phases + %.3f in Haku Winay's), %zu bytes read and written per household-month\n",
        r.computed_blocks, r.profile.tallied_blocks, r.profile.hw_blocks, r.memory.bytes_per_household);
  print("                  against the draw contract (%.3f blocks: five streams per household-month + Haku "
        "Winay) the model costs %.2fx\n",
        r.contract_blocks, d.floor_ratio_contract);
  print("memory: %zu bytes of household state per household (table); resident: %.0f bytes per household for "
        "the population, %.0f for a set-up world\n",
        r.memory.bytes_per_household, r.memory.rss_population, r.memory.rss_world);
  print("        run estimate for 10 million households with the %s panel: %.2f GiB (limit %.2f GiB)\n",
        r.frequency.c_str(), static_cast<double>(r.memory.estimate_10m.bytes) / (1u << 30),
        static_cast<double>(r.memory.estimate_10m.limit) / (1u << 30));
  if (!r.output.empty()) {
    print("\noutput (run_scenario with / without the %s HDF5 panel, the %zu arms of configs/default.yaml, "
          "file %.1f MiB):\n",
          r.frequency.c_str(), r.output_arms, static_cast<double>(r.file_bytes) / (1 << 20));
    print("%8s %12s %12s %12s %12s %12s %12s %14s\n", "threads", "with wall", "without", "x wall", "with CPU", "without",
          "x CPU", "writer wait");
    for (const auto& x : r.output)
      print("%8d %11.3fs %11.3fs %12.3f %11.3fs %11.3fs %12.3f %13.3fs\n", x.threads, median(x.with_wall),
            median(x.without_wall), median(x.with_wall) / median(x.without_wall), median(x.with_cpu),
            median(x.without_cpu), median(x.with_cpu) / median(x.without_cpu), median(x.writer_wait));
    print("%8s %12s %12s %12s %12s %12s\n", "threads", "encode CPU", "HDF5 write", "checksum", "panel copy",
          "stored");
    for (const auto& x : r.output)
      print("%8d %11.3fs %11.3fs %11.3fs %11.3fs %11.1f%%\n", x.threads, median(x.encode_cpu), median(x.hdf5_write),
            median(x.checksum), median(x.panel_copy), 100.0 * median(x.bytes_stored) / median(x.bytes_in));
  }
  os << "\nphases (1 thread, each block phase timed as its own pass; wall, the thread's CPU time and the serial "
        "part):\n";
  print("  %-28s %10s %8s %14s %10s %14s %10s %8s %7s\n", "phase", "seconds", "share", "ns/hh-month", "CPU s",
        "CPU ns/hh-m", "serial s", "serial", "months");
  double serial_total = 0.0;
  for (std::size_t i = 0; i < r.profile.names.size(); ++i) {
    serial_total += r.profile.serial_seconds[i];
    print("  %-28s %10.3f %7.1f%% %14.1f %10.3f %14.1f %10.4f %7.2f%% %7d\n", r.profile.names[i].c_str(),
          r.profile.seconds[i], d.profile_total > 0 ? 100.0 * r.profile.seconds[i] / d.profile_total : 0.0,
          1e9 * r.profile.seconds[i] / hm, r.profile.cpu_seconds[i], 1e9 * r.profile.cpu_seconds[i] / hm,
          r.profile.serial_seconds[i], d.profile_total > 0 ? 100.0 * r.profile.serial_seconds[i] / d.profile_total : 0.0,
          r.profile.active_months[i]);
  }
  print("  %-28s %10.3f %7.1f%% %14.1f %10.3f %14.1f %10.4f %7.2f%%\n", "total", d.profile_total, 100.0,
        1e9 * d.profile_total / hm, d.profile_cpu_total, 1e9 * d.profile_cpu_total / hm, serial_total,
        100.0 * r.projection.serial_fraction);
  const Projection& p = r.projection;
  print("\nscaling projected from one thread (serial fraction %.4f: the global phases' time less their parallel "
        "loops; %.2f passes over %zu blocks a month):\n",
        p.serial_fraction, r.profile.passes_per_month, r.block_households.size());
  print("  %8s %10s %14s %10s %14s %10s\n", "threads", "Amdahl", "block balance", "projected", "ref. projected",
        "measured");
  for (std::size_t i = 0; i < p.threads.size(); ++i) {
    double measured = std::nan("");
    for (const auto& f : r.throughput)
      if (f.threads == p.threads[i]) measured = d.efficiency(f);
    print("  %8d %10.3f %14.3f %10.3f %14.3f %10s\n", p.threads[i], p.amdahl[i], p.balance[i], p.model[i],
          p.reference[i], std::isfinite(measured) ? (std::to_string(measured).substr(0, 5)).c_str() : "-");
  }
  if (std::isfinite(d.check_projected) && std::isfinite(d.check_measured))
    print("  check at 2 threads: projected %.3f, measured %.3f (wall), difference %+.3f: %s the %.2f tolerance\n",
          d.check_projected, d.check_measured, d.check_projected - d.check_measured,
          d.check_within() ? "within" : "OUTSIDE", kProjectionTolerance);
  print("memory traffic: %zu bytes x %.2f passes = %.0f bytes per household-month, %.2f GB/s per core for the model "
        "(%.2f GB/s for the reference kernel)\n",
        r.memory.bytes_per_household, r.profile.passes_per_month, d.bandwidth_bytes, d.model_bytes_per_s / 1e9,
        d.reference_bytes_per_s / 1e9);
  if (r.stream.bytes_per_s_one > 0)
    print("                triad bandwidth %.2f GB/s on 1 thread, %.2f GB/s on %d: the model's traffic would fill "
          "the latter at %.1f cores (the reference kernel's at %.1f)\n",
          r.stream.bytes_per_s_one / 1e9, r.stream.bytes_per_s_all / 1e9, r.stream.threads_all,
          r.stream.bytes_per_s_all / d.model_bytes_per_s, r.stream.bytes_per_s_all / d.reference_bytes_per_s);
  if (!r.linearity.empty()) {
    print("\nlinearity (1 thread, 'both' arm, %lld months, CPU time):\n", r.scaling_years * 12);
    print("  %12s %10s %10s %14s\n", "households", "wall s", "CPU s", "ns CPU/hh-m");
    for (const auto& f : r.linearity)
      print("  %12lld %10.3f %10.3f %14.1f\n", f.households, f.seconds, f.cpu_seconds, f.ns_per_household_month);
  }
  print("\nsummary: %.3f M household-months/s per core (%d thread, CPU time); %.2fx the reference kernel; ",
        d.per_core / 1e6, d.base->threads, d.floor_ratio);
  for (const auto& f : r.throughput)
    if (f.threads > 1 && d.one) print("efficiency %.2f at %d threads (wall); ", d.efficiency(f), f.threads);
  print("serial fraction %.4f, projected efficiency %.2f at 16 threads (reference kernel %.2f); ",
        r.projection.serial_fraction, projected_at(r.projection, 16), reference_at(r.projection, 16));
  print("%zu bytes per household", r.memory.bytes_per_household);
  if (d.out_one) print("; output overhead %.2fx (CPU, %d thread)", d.output_overhead, d.base->threads);
  os << "\n";
  return os.str();
}

}  // namespace chacra::study::bench
