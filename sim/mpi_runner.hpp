// Scale-out of the arm x replicate runner over MPI ranks (built only with -DCHACRA_WITH_MPI=ON; see
// docs/cluster.md). Each arm x replicate unit is run by one rank into a file of its own,
// OUT.parts/unit_rR_aA.h5 (written by run_scenario, so it is renamed into place only once complete); rank
// 0 then joins the unit files into OUT.partial in canonical order (provenance, populations and arms by
// replicate), runs RunOptions::finalize (the comparison), and renames it to OUT. The result is identical to
// a single-process run of the same scenario and seed, whatever the number of ranks.
#pragma once

#include "sim/runner.hpp"

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace chacra::mpi {

// True when this process was started by an MPI launcher (mpirun/mpiexec, srun with PMI/PMIx), or when the
// environment variable CHACRA_MPI=1 forces it; CHACRA_MPI=0 forces a serial run.
bool launched();

// Initialises MPI (if it is not yet) and finalises it when destroyed.
class Session {
 public:
  Session();
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  int rank() const { return rank_; }
  int size() const { return size_; }
  bool root() const { return rank_ == 0; }

 private:
  int rank_ = 0, size_ = 1;
  bool owner_ = false;
};

// The collective operations of all ranks of MPI_COMM_WORLD (rank order = district block order), for a world
// split by districts across every rank (the budget-neutrality solve before an --mpi-split districts run).
// Needs a Session.
std::unique_ptr<Collective> world_collective();

// One work unit: replicate r, arm index a (into scenario.arms).
struct Unit {
  std::uint32_t replicate = 0;
  std::size_t arm = 0;
};

// The static, deterministic assignment of units (canonical order: replicate-major, arms in scenario order) to
// ranks: dealt in a snake order (0..K-1, K-1..0, ...) so that each rank gets a mix of arms whatever K.
std::vector<std::vector<Unit>> assign_units(const std::vector<Unit>& units, int ranks);

// How the ranks share the work (chacra run --mpi-split; docs/cluster.md):
//   units      each rank runs whole arm x replicate units (the default);
//   districts  every unit runs on all ranks, its population split by blocks of whole districts (for a
//              population too large for one node);
//   auto       groups of ranks: as many groups as units left to run, at most one per rank, each unit split
//              by districts across its group's ranks (units when there are at least as many units as ranks).
// The output is identical in every mode.
enum class Split { units, districts, automatic };
Split parse_split(const std::string& name);  // "units", "districts", "auto"; throws std::invalid_argument
const char* split_name(Split split);

// Groups of consecutive ranks that each run whole units: group g is ranks [first_rank[g], first_rank[g+1]).
struct Layout {
  std::vector<int> first_rank;  // groups + 1 entries
  int groups() const { return static_cast<int>(first_rank.size()) - 1; }
  int group_of(int rank) const;
  int size(int group) const { return first_rank[static_cast<std::size_t>(group) + 1] - first_rank[static_cast<std::size_t>(group)]; }
};
Layout layout(Split split, std::size_t units, int ranks);

// Where unit (r, a) is written: OUT.parts/unit_r<R>_a<A>.h5.
std::string parts_dir(const std::string& output_path);
std::string unit_path(const std::string& output_path, const Unit& unit);

// A work unit failed on this rank. The other ranks wait for this one's part, so the caller ends the whole job
// at once with abort_job(exit_status(e)) after printing the message, which names the rank, the unit and the
// error (nested) and says how to resume.
class UnitFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Ends the job on every rank with `status` (MPI_Abort): for main, after a UnitFailed.
[[noreturn]] void abort_job(int status);

// Runs the scenario split across the ranks of MPI_COMM_WORLD. Collective: every rank calls it with the same
// scenario, options and split. Rank 0 returns the full RunResult (units in canonical order, as
// run_scenario); other ranks return a RunResult holding only their own units. options.threads is per rank
// (0: the cores of the node divided among the ranks on it, or SLURM_CPUS_PER_TASK). options.resume keeps
// the unit files completed by an earlier attempt (in any split mode, on any number of ranks) and runs only
// the others. A unit that fails on any rank throws UnitFailed there. A failure of rank 0's own work (checking
// the output, joining the unit files) is rethrown on rank 0 and thrown as ReportedElsewhere (sim/errors.hpp)
// with the same exit status on the others. A unit split by districts is written (renamed into place) only
// once every rank of its group has finished it.
// options.progress is ignored; progress lines (unless quiet) name rank(s) and unit.
RunResult run_scenario_mpi(const Session& session, const Scenario& scenario, const ModelBuilder& builder,
                           const RunOptions& options, bool quiet = false, Split split = Split::units);

}  // namespace chacra::mpi
