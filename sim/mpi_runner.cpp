// MPI scale-out of the arm x replicate runner: units split across ranks, one file per unit, joined by rank 0.
// Compiled only with -DCHACRA_WITH_MPI=ON (sim/CMakeLists.txt drops this file otherwise; the guard below
// keeps a default build that globs sim/*.cpp working too).
#ifdef CHACRA_WITH_MPI

#include "sim/mpi_runner.hpp"

#include "sim/errors.hpp"
#include "sim/interrupt.hpp"
#include "sim/output/h5.hpp"
#include "sim/output/reader.hpp"
#include "sim/population.hpp"

#include <mpi.h>
#include <oneapi/tbb/info.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <thread>

namespace chacra::mpi {

namespace fs = std::filesystem;

bool launched() {
  if (const char* force = std::getenv("CHACRA_MPI")) return std::strcmp(force, "0") != 0 && *force != '\0';
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}

Session::Session() {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    // Only the main thread calls MPI; TBB's workers never do.
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);
    owner_ = true;
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
}

Session::~Session() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (owner_ && !finalized) MPI_Finalize();
}

Split parse_split(const std::string& name) {
  if (name == "units") return Split::units;
  if (name == "districts") return Split::districts;
  if (name == "auto") return Split::automatic;
  throw std::invalid_argument("--mpi-split expects units, districts or auto, got '" + name + "'");
}

const char* split_name(Split split) {
  switch (split) {
    case Split::units: return "units";
    case Split::districts: return "districts";
    case Split::automatic: return "auto";
  }
  return "?";
}

int Layout::group_of(int rank) const {
  for (int g = 0; g < groups(); ++g)
    if (rank < first_rank[static_cast<std::size_t>(g) + 1]) return g;
  return groups() - 1;
}

Layout layout(Split split, std::size_t units, int ranks) {
  ranks = std::max(ranks, 1);
  int groups = ranks;  // units: one rank per group
  if (split == Split::districts) groups = 1;
  if (split == Split::automatic) groups = static_cast<int>(std::clamp<std::size_t>(units, 1, static_cast<std::size_t>(ranks)));
  Layout l;
  for (int g = 0; g <= groups; ++g)
    l.first_rank.push_back(static_cast<int>(static_cast<long long>(g) * ranks / groups));
  return l;
}

std::vector<std::vector<Unit>> assign_units(const std::vector<Unit>& units, int ranks) {
  const auto k = static_cast<std::size_t>(std::max(ranks, 1));
  std::vector<std::vector<Unit>> out(k);
  for (std::size_t i = 0; i < units.size(); ++i) {
    const std::size_t row = i / k, pos = i % k;
    out[row % 2 == 0 ? pos : k - 1 - pos].push_back(units[i]);
  }
  return out;
}

std::string parts_dir(const std::string& output_path) { return output_path + ".parts"; }

std::string unit_path(const std::string& output_path, const Unit& unit) {
  return parts_dir(output_path) + "/unit_r" + std::to_string(unit.replicate) + "_a" + std::to_string(unit.arm) + ".h5";
}

namespace {

using clock = std::chrono::steady_clock;

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

// Waits for a non-blocking operation without spinning a core (ranks that finished early must not steal
// cycles from the ranks still simulating on the same node): a few quick tests, then sleeps growing to 0.5 ms.
// Used where a rank may wait long for others (synchronisation points, small messages); bulk transfers that
// follow such a point use wait_yielding, which keeps the transfer moving.
void wait_gently(MPI_Request& request) {
  int flag = 0;
  for (int tries = 0;; ++tries) {
    MPI_Test(&request, &flag, MPI_STATUS_IGNORE);
    if (flag) return;
    if (tries < 32)
      std::this_thread::yield();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(std::min(500, 10 * (tries - 31))));
  }
}

// Waits for a transfer whose peer is known to be taking part (it has passed the synchronisation point): test
// and yield, so that on a node with more runnable processes than cores (other jobs, --oversubscribe) the
// peer gets the core instead of this rank spinning through its time slice.
void wait_yielding(MPI_Request& request) {
  int flag = 0;
  for (;;) {
    MPI_Test(&request, &flag, MPI_STATUS_IGNORE);
    if (flag) return;
    std::this_thread::yield();
  }
}

// Collective operations of the ranks that share one world split by districts (sim/collective.hpp), over a
// communicator whose rank order is the order of the district blocks. Only the thread that steps the world
// calls them (MPI_THREAD_FUNNELED). Bulk data moves in messages of at most 1 GiB (MPI counts are int).
class MpiCollective : public Collective {
 public:
  explicit MpiCollective(MPI_Comm comm) : comm_(comm) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
  }
  int size() const override { return size_; }
  int rank() const override { return rank_; }

  void ordered_sum(std::vector<double>& acc, const std::function<void(std::vector<double>&)>& add) const override {
    const int n = static_cast<int>(acc.size());
    if (rank_ > 0) {
      MPI_Request req;
      MPI_Irecv(acc.data(), n, MPI_DOUBLE, rank_ - 1, kOrderedSumTag, comm_, &req);
      wait_gently(req);
    }
    add(acc);
    if (rank_ + 1 < size_) {
      MPI_Request req;
      MPI_Isend(acc.data(), n, MPI_DOUBLE, rank_ + 1, kOrderedSumTag, comm_, &req);
      wait_gently(req);
    }
    MPI_Request req;
    MPI_Ibcast(acc.data(), n, MPI_DOUBLE, size_ - 1, comm_, &req);
    wait_gently(req);
  }

  void sum(std::vector<std::uint64_t>& values) const override {
    MPI_Request req;
    MPI_Iallreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_UINT64_T, MPI_SUM, comm_, &req);
    wait_gently(req);
  }

  std::vector<char> all_gather(const void* data, std::size_t bytes) const override {
    std::vector<std::uint64_t> sizes(static_cast<std::size_t>(size_));
    std::uint64_t mine = bytes;
    MPI_Request req;
    MPI_Iallgather(&mine, 1, MPI_UINT64_T, sizes.data(), 1, MPI_UINT64_T, comm_, &req);
    wait_gently(req);
    std::vector<int> counts, offsets;
    std::uint64_t total = 0;
    for (std::uint64_t n : sizes) {
      if (total + n > static_cast<std::uint64_t>(std::numeric_limits<int>::max()))
        throw std::runtime_error("MPI all_gather of more than 2 GiB");
      counts.push_back(static_cast<int>(n));
      offsets.push_back(static_cast<int>(total));
      total += n;
    }
    std::vector<char> out(static_cast<std::size_t>(total));
    MPI_Iallgatherv(data, static_cast<int>(bytes), MPI_BYTE, out.data(), counts.data(), offsets.data(), MPI_BYTE,
                    comm_, &req);
    wait_yielding(req);
    return out;
  }

  // Rank 0 (which also writes the file, so usually arrives last) receives the ranks' data one after another.
  // A sending rank waits gently (sleeping) for rank 0's go-ahead, then sends while rank 0 is receiving: no
  // rank spins while rank 0 is still busy, and the transfer itself is not slowed by sleeps.
  void gather(const void* data, std::size_t bytes, std::vector<char>& out,
              std::vector<std::uint64_t>* sizes_out) const override {
    std::vector<std::uint64_t> sizes(static_cast<std::size_t>(size_));
    std::uint64_t mine = bytes;
    MPI_Request req;
    MPI_Igather(&mine, 1, MPI_UINT64_T, sizes.data(), 1, MPI_UINT64_T, 0, comm_, &req);
    wait_gently(req);
    if (rank_ != 0) {
      char go = 0;
      MPI_Irecv(&go, 1, MPI_BYTE, 0, kGoTag, comm_, &req);
      wait_gently(req);
      send(data, bytes, 0, kGatherTag);
      return;
    }
    std::uint64_t total = 0;
    for (std::uint64_t n : sizes) total += n;
    out.resize(static_cast<std::size_t>(total));
    if (bytes > 0) std::memcpy(out.data(), data, bytes);
    std::size_t at = bytes;
    for (int r = 1; r < size_; ++r) {
      char go = 1;
      send(&go, 1, r, kGoTag);
      receive(out.data() + at, sizes[static_cast<std::size_t>(r)], r, kGatherTag);
      at += sizes[static_cast<std::size_t>(r)];
    }
    if (sizes_out != nullptr) *sizes_out = sizes;
  }

  void broadcast(std::vector<char>& bytes) const override {
    std::uint64_t n = bytes.size();
    MPI_Request req;
    MPI_Ibcast(&n, 1, MPI_UINT64_T, 0, comm_, &req);
    wait_gently(req);
    bytes.resize(static_cast<std::size_t>(n));
    for (std::uint64_t at = 0; at < n; at += kPiece) {
      const int count = static_cast<int>(std::min<std::uint64_t>(kPiece, n - at));
      MPI_Ibcast(bytes.data() + at, count, MPI_BYTE, 0, comm_, &req);
      wait_yielding(req);
    }
  }

 private:
  static constexpr std::uint64_t kPiece = std::uint64_t{1} << 30;
  static constexpr int kOrderedSumTag = 7101, kGatherTag = 7102, kGoTag = 7103;

  void send(const void* data, std::uint64_t bytes, int to, int tag) const {
    const char* p = static_cast<const char*>(data);
    for (std::uint64_t at = 0; at < bytes; at += kPiece) {
      const int count = static_cast<int>(std::min<std::uint64_t>(kPiece, bytes - at));
      MPI_Request req;
      MPI_Isend(p + at, count, MPI_BYTE, to, tag, comm_, &req);
      wait_yielding(req);
    }
  }
  void receive(char* data, std::uint64_t bytes, int from, int tag) const {
    for (std::uint64_t at = 0; at < bytes; at += kPiece) {
      const int count = static_cast<int>(std::min<std::uint64_t>(kPiece, bytes - at));
      MPI_Request req;
      MPI_Irecv(data + at, count, MPI_BYTE, from, tag, comm_, &req);
      wait_yielding(req);
    }
  }

  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
};

void broadcast_int(int& value, int root) {
  MPI_Request req;
  MPI_Ibcast(&value, 1, MPI_INT, root, MPI_COMM_WORLD, &req);
  wait_gently(req);
}

void broadcast_bytes(std::vector<char>& bytes, int root) {
  int n = static_cast<int>(bytes.size());
  broadcast_int(n, root);
  bytes.resize(static_cast<std::size_t>(n));
  if (n == 0) return;
  MPI_Request req;
  MPI_Ibcast(bytes.data(), n, MPI_CHAR, root, MPI_COMM_WORLD, &req);
  wait_gently(req);
}

void barrier_gently() {
  MPI_Request req;
  MPI_Ibarrier(MPI_COMM_WORLD, &req);
  wait_gently(req);
}

// Ranks sharing this node, to divide its cores among them.
int local_ranks() {
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
  int n = 1;
  MPI_Comm_size(node, &n);
  MPI_Comm_free(&node);
  return std::max(n, 1);
}

int default_threads(int local) {
  if (const char* cpus = std::getenv("SLURM_CPUS_PER_TASK")) {
    const long n = std::strtol(cpus, nullptr, 10);
    if (n > 0) return static_cast<int>(n);
  }
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // default_concurrency() honours the affinity mask mpirun/srun bound this rank to.
  return std::max(1, std::min(tbb::info::default_concurrency(), hw / local));
}

std::string processor_name() {
  char buf[MPI_MAX_PROCESSOR_NAME + 1] = {0};
  int len = 0;
  MPI_Get_processor_name(buf, &len);
  return std::string(buf, static_cast<std::size_t>(std::max(len, 0)));
}

std::vector<std::string> gather_strings(const std::string& mine, int ranks) {
  constexpr int kWidth = 256;
  std::vector<char> send(kWidth, '\0');
  std::memcpy(send.data(), mine.data(), std::min<std::size_t>(mine.size(), kWidth - 1));
  std::vector<char> all(static_cast<std::size_t>(kWidth) * static_cast<std::size_t>(ranks), '\0');
  MPI_Request req;
  MPI_Igather(send.data(), kWidth, MPI_CHAR, all.data(), kWidth, MPI_CHAR, 0, MPI_COMM_WORLD, &req);
  wait_gently(req);
  std::vector<std::string> out;
  for (int i = 0; i < ranks; ++i) out.emplace_back(all.data() + static_cast<std::size_t>(i) * kWidth);
  return out;
}

// CHACRA_FAIL_UNIT=arm:replicate[:crash] makes that unit throw (or the rank die by SIGKILL) after its first
// month: the failure tests of tests/mpi. Honoured only in builds with tests (CHACRA_MPI_FAULT_INJECTION).
struct FaultInjection {
  std::string arm;
  long replicate = -1;
  bool crash = false;
  bool matches(const std::string& a, std::uint32_t r) const {
    return replicate >= 0 && a == arm && static_cast<std::uint32_t>(replicate) == r;
  }
};

FaultInjection fault_injection() {
  FaultInjection f;
#ifdef CHACRA_MPI_FAULT_INJECTION
  if (const char* spec = std::getenv("CHACRA_FAIL_UNIT")) {
    std::string s = spec;
    if (s.size() > 6 && s.compare(s.size() - 6, 6, ":crash") == 0) f.crash = true, s.resize(s.size() - 6);
    const auto colon = s.rfind(':');
    if (colon != std::string::npos) {
      f.arm = s.substr(0, colon);
      f.replicate = std::strtol(s.c_str() + colon + 1, nullptr, 10);
    }
  }
#endif
  return f;
}

// The panel variables of an arm, in the order run_scenario records them (set up on a tiny population, as
// `chacra validate` does), so that the joined RunResult matches a single-process run's.
std::vector<std::string> arm_variables(const Scenario& scenario, const ModelBuilder& builder, const Arm& arm) {
  const World world = setup_sample_world(arm.params, builder, 200);
  return resolve_panel_variables(world, scenario.base.text_list("output.variables"), scenario.path);
}


// Removes the unit files of OUT.parts/ (finished or not) and the directory when nothing else is in it: never
// a file chacra did not write (output::remove_leftover).
void remove_unit_files(const std::string& output_path, const std::vector<Unit>& units) {
  const std::string dir = parts_dir(output_path);
  if (!fs::is_directory(fs::symlink_status(dir))) return;
  for (const Unit& u : units)
    for (const std::string& path : {unit_path(output_path, u), output::partial_path(unit_path(output_path, u)),
                                    output::resume_path(unit_path(output_path, u))})
      output::remove_leftover(path);
  std::error_code ec;
  fs::remove(dir, ec);  // only when empty
}

struct Plan {
  std::vector<char> done;  // per canonical unit: completed by an earlier attempt (kept in OUT.parts)
};

// Rank 0: prepares OUT.parts (fresh, or kept for --resume after checking it belongs to this scenario).
Plan prepare(const Scenario& scenario, const RunOptions& options, const std::vector<Unit>& units) {
  Plan plan;
  plan.done.assign(units.size(), 0);
  const std::string dir = parts_dir(options.output_path);
  if (fs::exists(fs::symlink_status(options.output_path)) && !options.force)
    throw OutputExists("output " + options.output_path + " already exists; use --force to overwrite it or -o to choose another");
  if (!options.resume) {
    remove_unit_files(options.output_path, units);
  } else if (fs::exists(dir)) {
    for (std::size_t i = 0; i < units.size(); ++i) {
      const std::string path = unit_path(options.output_path, units[i]);
      if (!fs::exists(path)) continue;  // never finished: OUT.parts/...h5.partial, if any, is started over
      std::string stored;
      try {
        stored = output::Reader(path).scenario_yaml();
      } catch (const h5::Error&) {
        stored.clear();
      }
      if (stored != scenario.resolved_yaml())
        throw ConfigError({ConfigIssue{path, 0, 0, "--resume",
                                       "the unit files in " + dir + " were produced by a different scenario or settings",
                                       "run the same scenario and options, or drop --resume to start over"}});
      plan.done[i] = 1;
    }
  }
  fs::create_directories(dir);
  return plan;
}

}  // namespace

std::unique_ptr<Collective> world_collective() { return std::make_unique<MpiCollective>(MPI_COMM_WORLD); }

void abort_job(int status) {
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, status);
  std::_Exit(status);  // MPI_Abort does not return; if it did, this rank still ends with the status
}

RunResult run_scenario_mpi(const Session& session, const Scenario& scenario, const ModelBuilder& builder,
                           const RunOptions& options, bool quiet, Split split) {
  const auto t_start = clock::now();
  const std::string start_time = now_iso();
  h5::quiet_errors();
  const int ranks = session.size(), me = session.rank();
  const ParamSet& base = scenario.base;
  const auto replicates = static_cast<std::uint32_t>(base.integer("run.replicates"));
  if (options.output_path.empty()) throw std::invalid_argument("an MPI run needs an output file (-o OUT.h5)");

  std::vector<Unit> units;
  for (std::uint32_t r = 0; r < replicates; ++r)
    for (std::size_t a = 0; a < scenario.arms.size(); ++a) units.push_back(Unit{r, a});
  auto unit_name = [&](const Unit& u) {
    return "arm '" + scenario.arms[u.arm].name + "', replicate " + std::to_string(u.replicate);
  };

  const int threads = options.threads > 0 ? options.threads : default_threads(local_ranks());
  const std::string host = processor_name();
  const std::vector<std::string> hosts = gather_strings(host, ranks);
  const std::vector<std::string> rank_threads = gather_strings(std::to_string(threads), ranks);

  // Rank 0 decides what is left to run and tells everyone (one view of the file system, not K).
  int status = 0;
  std::exception_ptr failure;
  std::vector<char> done(units.size(), 0);
  if (session.root()) {
    try {
      done = prepare(scenario, options, units).done;
    } catch (const std::exception& e) {
      status = exit_status(e);
      failure = std::current_exception();
    }
  }
  broadcast_int(status, 0);
  if (status != 0) {
    if (session.root()) std::rethrow_exception(failure);
    throw ReportedElsewhere(status);  // rank 0 reports the error once
  }
  broadcast_bytes(done, 0);
  std::vector<Unit> pending;
  std::size_t resumed = 0;
  for (std::size_t i = 0; i < units.size(); ++i) {
    if (done[i]) ++resumed;
    else pending.push_back(units[i]);
  }
  // Groups of consecutive ranks each run whole units; a group of several ranks splits each of its units'
  // population by blocks of districts (its ranks in block order). One group per rank is the unit split.
  const Layout groups = layout(split, pending.size(), ranks);
  const int group = groups.group_of(me);
  const int group_size = groups.size(group);
  MPI_Comm group_comm;
  MPI_Comm_split(MPI_COMM_WORLD, group, me, &group_comm);
  const MpiCollective collective(group_comm);
  const bool leader = collective.rank() == 0;  // writes the group's unit files and prints its lines
  auto group_name = [&](int g) {
    const int first = groups.first_rank[static_cast<std::size_t>(g)], size = groups.size(g);
    return size == 1 ? std::to_string(first) : std::to_string(first) + "-" + std::to_string(first + size - 1);
  };
  const auto assignment = assign_units(pending, groups.groups());
  if (session.root() && !quiet) {
    std::string line = "chacra: " + std::to_string(pending.size()) + " arm x replicate units on " +
                       std::to_string(ranks) + " MPI rank(s) x " + rank_threads.front() + " thread(s)";
    if (groups.groups() < ranks)
      line += ", split by districts over " + std::to_string(groups.groups()) + " group(s) of ranks";
    if (resumed) line += " (" + std::to_string(resumed) + " finished earlier, kept)";
    std::fputs((line + "\n").c_str(), stderr);
  }

  // This group's units, each into its own file; a failure ends the job with the unit named.
  const FaultInjection fault = fault_injection();
  RunResult mine;
  mine.threads = threads;
  const std::string who = group_size == 1 ? "rank " + std::to_string(me) : "ranks " + group_name(group);
  for (const Unit& u : assignment[static_cast<std::size_t>(group)]) {
    const Arm& arm = scenario.arms[u.arm];
    const auto t_unit = clock::now();
    try {
      if (stop_requested()) throw Interrupted(stop_signal());
      if (!quiet && leader)
        std::fprintf(stderr, "chacra[%s/%d %s]: %s started\n", who.c_str(), ranks, host.c_str(), unit_name(u).c_str());
      RunOptions o;
      o.output_path = unit_path(options.output_path, u);
      o.force = true;
      o.replace_stale_partial = true;
      o.threads = threads;
      o.profile = options.profile;
      o.command_line = options.command_line;
      o.run_unit = [u](std::uint32_t r, std::size_t a) { return r == u.replicate && a == u.arm; };
      if (group_size > 1) o.collective = &collective;
      // Injected on the group's last rank: with a split unit, a rank that does not write the file fails.
      if (fault.matches(arm.name, u.replicate) && collective.rank() == group_size - 1) {
        const bool crash = fault.crash;
        o.progress = [crash](std::uint64_t, std::uint64_t) {
          if (crash) std::raise(SIGKILL);
          throw std::runtime_error("injected failure (CHACRA_FAIL_UNIT)");
        };
      }
      RunResult r = run_scenario(scenario, builder, o);
      for (auto& unit : r.units) mine.units.push_back(std::move(unit));
      mine.households = r.households;
      mine.period_labels = r.period_labels;
      mine.household_months += r.household_months;
      mine.bytes_per_household = r.bytes_per_household;
      if (mine.phase_names.empty()) mine.phase_names = r.phase_names, mine.phase_seconds.assign(r.phase_seconds.size(), 0.0);
      for (std::size_t i = 0; i < r.phase_seconds.size() && i < mine.phase_seconds.size(); ++i)
        mine.phase_seconds[i] += r.phase_seconds[i];
      if (!quiet && leader)
        std::fprintf(stderr, "chacra[%s/%d %s]: %s done in %.1f s\n", who.c_str(), ranks, host.c_str(),
                     unit_name(u).c_str(), std::chrono::duration<double>(clock::now() - t_unit).count());
    } catch (const std::exception& e) {
      // The other ranks wait for this one's part: the caller ends the whole job (abort_job).
      std::throw_with_nested(UnitFailed(
          "MPI rank " + std::to_string(me) + " of " + std::to_string(ranks) + " (" + host + ") failed in work unit " +
          unit_name(u) + ": " + e.what() + "\nchacra: the job is aborted with exit status " +
          std::to_string(exit_status(e)) + "; finished units are kept in " + parts_dir(options.output_path) +
          "/;\n        run the same command with --resume to run only the unfinished ones"));
    }
  }
  barrier_gently();  // every unit file is complete (renamed into place) past this point
  MPI_Comm_free(&group_comm);

  // Rank 0 joins the unit files into OUT, in canonical order, then finalize and the atomic rename.
  RunResult result;
  status = 0;
  if (session.root()) {
    try {
      result.threads = threads;
      result.output_path = options.output_path;
      {
        RunOptions join = options;
        join.resume = false;  // the units are resumed; the joined file is written afresh
        join.replace_stale_partial = true;
        output::OutputFile file(output_request(scenario, join, MemoryEstimate{}));
        const hid_t out = file.id();
        std::vector<std::vector<std::string>> variables;
        for (const Arm& arm : scenario.arms) variables.push_back(arm_variables(scenario, builder, arm));
        std::string unit_ranks;
        for (std::uint32_t r = 0; r < replicates; ++r) {
          for (std::size_t a = 0; a < scenario.arms.size(); ++a) {
            const Unit u{r, a};
            const std::string path = unit_path(options.output_path, u);
            h5::Handle src = h5::open_file_readonly(path);
            const Arm& arm = scenario.arms[a];
            if (r == 0 && a == 0) {
              output::copy_run_header(src, out, path);
              result.period_labels = output::Reader(src).periods();
              result.households = output::Reader(src).population_rows(0, output::layout::Table::households);
            }
            output::copy_population(src, out, r, path);
            if (!output::unit_complete(src, arm.name, r))
              throw h5::Error(path + " holds no complete unit (" + unit_name(u) + "); run again with --resume");
            output::copy_unit(src, out, arm.name, r, path);
            result.units.push_back(output::read_unit_means(out, arm.name, r, variables[a]));
            // Which rank (or ranks "first-last" of a group) ran the unit ("-" for one finished by an earlier,
            // resumed attempt).
            int ran_by = -1;
            for (int k = 0; k < groups.groups() && ran_by < 0; ++k)
              for (const Unit& v : assignment[static_cast<std::size_t>(k)])
                if (v.replicate == r && v.arm == a) ran_by = k;
            unit_ranks += (unit_ranks.empty() ? "" : ",") + arm.name + "/" + std::to_string(r) + "=" +
                          (ran_by < 0 ? std::string("-") : group_name(ran_by));
          }
        }
        const std::uint64_t months = static_cast<std::uint64_t>(base.integer("run.years")) * 12;
        result.household_months = result.households * months * units.size();
        result.bytes_per_household = mine.bytes_per_household;
        result.phase_names = mine.phase_names;
        result.phase_seconds = mine.phase_seconds;

        std::string host_list, thread_list;
        for (int k = 0; k < ranks; ++k) {
          host_list += (k ? "," : "") + hosts[static_cast<std::size_t>(k)];
          thread_list += (k ? "," : "") + rank_threads[static_cast<std::size_t>(k)];
        }
        output::set_provenance(out, "threads", static_cast<long long>(threads));
        output::set_provenance(out, "host", host);
        output::set_provenance(out, "start_time", start_time);
        output::set_provenance(out, "command_line", options.command_line);
        output::set_provenance(out, "mpi_ranks", static_cast<long long>(ranks));
        output::set_provenance(out, "mpi_hosts", host_list);
        output::set_provenance(out, "mpi_threads_per_rank", thread_list);
        output::set_provenance(out, "mpi_unit_ranks", unit_ranks);
        output::set_provenance(out, "mpi_split", std::string(split_name(split)));
        output::set_provenance(out, "mpi_groups", static_cast<long long>(groups.groups()));
        output::set_provenance(out, "mpi_join", std::string("unit files joined by rank 0 (H5Ocopy)"));
        if (resumed) {
          output::set_provenance(out, "resumed_time", start_time);
          output::set_provenance(out, "mpi_units_resumed", static_cast<long long>(resumed));
        }
        if (options.finalize) options.finalize(out, result);
        output::set_provenance(out, "end_time", now_iso());
        output::set_provenance(out, "seconds", std::chrono::duration<double>(clock::now() - t_start).count());
        file.commit();
      }
      remove_unit_files(options.output_path, units);
    } catch (const std::exception& e) {
      status = exit_status(e);
      failure = std::current_exception();
    }
  }
  broadcast_int(status, 0);
  if (status != 0) {
    if (session.root()) std::rethrow_exception(failure);
    throw ReportedElsewhere(status);
  }
  if (!session.root()) return mine;
  result.seconds = std::chrono::duration<double>(clock::now() - t_start).count();
  return result;
}

}  // namespace chacra::mpi

#endif  // CHACRA_WITH_MPI
