// File: study/posterior.hpp
// A posterior ensemble written by `chacra calibrate` (posterior.h5, format chacra-posterior version 1; layout in
// docs/calibration_method.md): reading and checking it against the registry, drawing a row for a replicate, and
// applying it to a replicate's parameters. Replicates 2k and 2k+1 share the row drawn for pair k (stream keyed by
// the run seed, k and the posterior domain), so the spread of an estimate over replicates splits into a parameter
// part (between pairs) and a sampling part (within pairs): see split_variance.
#pragma once

#include "sim/params.hpp"
#include "sim/rng.hpp"
#include "sim/runner.hpp"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace chacra::study::posterior {

inline constexpr std::uint32_t kPosteriorDomain = rng::domain_id("posterior.draw");

struct Target {
  std::string name, role, statistic_json;  // role: calibration or validation
};

struct Ensemble {
  std::string path, problem_name, problem_sha256;
  std::vector<std::string> parameters;      // registry names, the columns of draws
  std::vector<std::vector<double>> draws;   // one complete parameter set per row
  std::vector<double> weight;               // >= 0, sums to 1
  std::vector<double> central;              // weighted posterior medians
  std::vector<Target> targets;
  // The evaluate outcome a target's statistic reads ({"kind": "evaluate", "outcome": X}), or "" for another kind.
  static std::string evaluate_outcome(const Target& t);
};

// Reads and checks `path` (format, version, shapes, unique names, every parameter a real-valued registry
// parameter with every draw in its range, weights >= 0 summing to 1 within 1e-9). Throws BadInput naming the file
// and the dataset (exit status 2).
Ensemble read(const std::string& path, const Registry& registry);

// The row replicate `replicate` uses: drawn by weight from the stream (run_seed, pair = replicate / 2, domain).
std::size_t row_for_replicate(const Ensemble& e, std::uint64_t run_seed, std::uint32_t replicate);

// The --set overrides of a row, as (name, value) pairs.
std::vector<std::pair<std::string, ParamValue>> overrides(const Ensemble& e, std::size_t row);

// Applies a row to `params`, skipping the names in `keep` (an arm's own overrides win over the posterior).
void apply(const Ensemble& e, std::size_t row, ParamSet& params, const std::vector<std::string>& keep = {});

// The variance of replicate estimates split by the pairs that share a row: sampling = mean over complete pairs
// of (a - b)^2 / 2; parameter = max(0, variance of the pair means - sampling / 2). NaN when fewer than two complete
// pairs have finite estimates. Replicates are in order (0, 1 form pair 0).
struct VarianceSplit {
  double sd_parameter, sd_sampling;
  std::size_t pairs;
};
VarianceSplit split_variance(const std::vector<double>& by_replicate);
// The parameters' share of the variance, sd_parameter^2 / (sd_parameter^2 + sd_sampling^2): NaN when either is not
// finite (no posterior, fewer than two pairs), 0 when both are 0.
double parameter_share(double sd_parameter, double sd_sampling);

// chacra run --posterior: refuses an ensemble whose parameters the run cannot vary by replicate (population.*,
// run.*, output.*: shared by every arm and replicate), as BadInput naming them.
void check_for_run(const Ensemble& e);

// The effect of each arm against `reference` in the last period, per replicate, on `variables` (those the run
// recorded), split into parameter and sampling parts; a text table for the run's printout.
std::string format_run_split(const RunResult& result, const std::string& reference,
                             const std::vector<std::string>& variables);

}  // namespace chacra::study::posterior
