// Parameter sweeps (chacra sweep): a design over registered parameters (a --vary grid or a design file) run point
// by point, every arm and replicate of the scenario at every point on the same populations and random numbers,
// gathered into one HDF5 file with a design dimension, and the sensitivity of each effect of the comparison to
// the parameters (Sobol indices for a Saltelli design, Morris effects for trajectories). docs/sensitivity.md.
#pragma once

#include "sim/engine.hpp"
#include "sim/params.hpp"
#include "sim/scenario.hpp"
#include "study/comparison.hpp"
#include "study/design.hpp"
#include "study/sensitivity.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace chacra::study {

// A full grid from `--vary NAME=FROM:TO:POINTS` texts. Each name must be a real or integer parameter of the
// registry (or arms.ARM.NAME for one arm's value), the range inside the parameter's own, and an integer axis's
// points whole numbers. Throws UsageError naming the --vary text, what is wrong and a fix (the nearest names).
Design grid_from_vary(const std::vector<std::string>& vary, const Registry& registry);

// A design file (YAML; docs/sensitivity.md, "Design files"):
//   design: grid | latin_hypercube | sobol | saltelli | morris
//   parameters: {NAME: [MIN, MAX], ...}        grid: {NAME: [FROM, TO, POINTS]}
//   points: N (latin_hypercube, sobol)   base_rows: N (saltelli)   trajectories: R, levels: P (morris)
//   seed: S   scramble: none | digital_shift, skip: K (sobol, saltelli)   candidates: C (morris)
// Every problem is reported at once as a ConfigError with the file, line and column and the nearest valid key.
Design load_design_file(const std::string& path, const Registry& registry);

// The "--set" text that gives parameter `parameter` of `design` its value at point `point` (exact: %.17g).
std::string point_setting(const Design& design, std::size_t point, std::size_t parameter);

// One sensitivity measure of one effect of the comparison to one parameter. Sobol rows fill first and total
// (with bootstrap intervals); Morris rows fill mu, mu_star (with its interval) and sigma; the rest is NaN.
struct SensitivityRow {
  std::string arm, reference, outcome, subgroup, statistic, unit, parameter, method;  // method: sobol or morris
  double first, first_low, first_high, total, total_low, total_high;
  double mu, mu_star, mu_star_low, mu_star_high, sigma;
};

struct SweepOptions {
  std::string output_path;  // OUT.h5; the points are run into OUT.h5.points/ and gathered at the end
  bool force = false;
  bool resume = false;  // keep the points already finished in OUT.h5.points/ (and continue a partial one)
  int threads = 0;
  std::string command_line;
  std::string reference_arm;  // "" : the scenario's run.reference_arm, else the first arm
  BootstrapOptions bootstrap;
  // Household-months done and total over the whole design.
  std::function<void(std::uint64_t done, std::uint64_t total)> progress;
};

struct SweepResult {
  Design design;
  std::vector<std::string> arms, periods;
  int replicates = 0;
  std::vector<ComparisonTable> comparisons;  // one per point (empty without a panel)
  std::vector<SensitivityRow> sensitivity;
  std::vector<std::string> notes;  // what could not be estimated and why
  std::size_t points_resumed = 0;
  std::uint64_t household_months = 0;
  double seconds = 0.0;
};

// Loads the scenario with extra "--set" texts (the point's values after the user's own sets).
using ScenarioLoader = std::function<Scenario(const std::vector<std::string>& sets)>;

// Runs every point of the design (budget-neutral arms solved per point), writes OUT.h5 (docs/output.md,
// "Sweep") and returns what it holds. Throws OutputExists when OUT.h5 exists without force, or when
// OUT.h5.points/ exists without force or resume; ConfigError when a point's parameters are invalid for the
// scenario (reported before anything runs) or a kept point came from another scenario; Interrupted on a stop
// (the finished points are kept for --resume).
SweepResult run_sweep(const Design& design, const ScenarioLoader& load, const ModelBuilder& builder,
                      const SweepOptions& options);

// Sobol indices (Saltelli design) or Morris effects (Morris design) of every effect of the comparisons
// (subgroup "all", every arm but the reference), outputs in point order. Effects undefined at some point or
// constant over the design get a note instead. Other designs give no rows and a note.
std::vector<SensitivityRow> sensitivity_of_effects(const Design& design, const std::vector<ComparisonTable>& points,
                                                   const BootstrapOptions& bootstrap, std::vector<std::string>& notes);

// Reads a sweep file back (design, comparisons, sensitivity). Throws ComparisonError for a file without a sweep.
SweepResult read_sweep(hid_t file);

// For the terminal: the design, then for `outcome` ("NAME" or "NAME:STATISTIC", statistic final_year by default)
// the sensitivity rows, or (grid and sample designs) the effect of each arm at each point with its interval.
std::string format_sweep(const SweepResult& result, const std::string& outcome);
// Every sensitivity row as CSV or JSON.
std::string format_sensitivity(const std::vector<SensitivityRow>& rows, const std::string& format);

}  // namespace chacra::study
