// Scale-out of the arm x replicate runner over MPI ranks (built only with -DCHACRA_WITH_MPI=ON; see
// docs/cluster.md). Each arm x replicate unit is run by one rank into a file of its own,
// OUT.parts/unit_rR_aA.h5 (written by run_scenario, so it is renamed into place only once complete); rank
// 0 then joins the unit files into OUT.partial in canonical order (provenance, populations and arms by
// replicate), runs RunOptions::finalize (the comparison), and renames it to OUT. The result is identical to
// a single-process run of the same scenario and seed, whatever the number of ranks.
#pragma once

#include "sim/runner.hpp"

#include <cstdint>
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

// One work unit: replicate r, arm index a (into scenario.arms).
struct Unit {
  std::uint32_t replicate = 0;
  std::size_t arm = 0;
};

// The static, deterministic assignment of units (canonical order: replicate-major, arms in scenario order) to
// ranks: dealt in a snake order (0..K-1, K-1..0, ...) so that each rank gets a mix of arms whatever K.
std::vector<std::vector<Unit>> assign_units(const std::vector<Unit>& units, int ranks);

// Where unit (r, a) is written: OUT.parts/unit_r<R>_a<A>.h5.
std::string parts_dir(const std::string& output_path);
std::string unit_path(const std::string& output_path, const Unit& unit);

// Runs the scenario split across the ranks of MPI_COMM_WORLD. Collective: every rank calls it with the same
// scenario and options. Rank 0 returns the full RunResult (units in canonical order, as run_scenario);
// other ranks return a RunResult holding only their own units. options.threads is per rank (0: the cores
// of the node divided among the ranks on it, or SLURM_CPUS_PER_TASK). options.resume keeps the unit
// files completed by an earlier attempt and runs only the others. A unit that fails on any rank ends the
// whole job: the failing rank prints the unit (arm, replicate) and the error, then calls MPI_Abort with
// exit status 1 (2 for bad input, 128+signal when interrupted).
// options.progress is ignored; progress lines (unless quiet) name rank and unit.
RunResult run_scenario_mpi(const Session& session, const Scenario& scenario, const ModelBuilder& builder,
                           const RunOptions& options, bool quiet = false);

}  // namespace chacra::mpi
