// Global sensitivity estimators on a design's outputs: Sobol first-order (Saltelli et al. 2010) and total-order
// (Jansen 1999) indices with bootstrap percentile intervals, and Morris elementary effects (mu, mu*, sigma).
#pragma once

#include "study/design.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace chacra::study {

// Bootstrap over the design's independent units (Saltelli base rows, Morris trajectories): `resamples`
// resamples with replacement, drawn from counter-based streams keyed by the seed (same seed, same intervals),
// and percentile intervals at `level` (type-7 quantiles at (1 - level)/2 and (1 + level)/2).
struct BootstrapOptions {
  std::size_t resamples = 1000;
  double level = 0.95;
  std::uint64_t seed = 0;
};

struct Interval {
  double low = 0.0;
  double high = 0.0;
  bool contains(double v) const { return low <= v && v <= high; }
};

struct SobolIndex {
  std::string parameter;
  double first = 0.0;  // S_i
  Interval first_interval;
  double total = 0.0;  // S_Ti
  Interval total_interval;
};

struct SobolResult {
  std::vector<SobolIndex> indices;  // in the design's parameter order
  std::size_t base_rows = 0;        // N
  double mean = 0.0;                // f0, the mean output over A and B
  double variance = 0.0;            // V, the output variance over A and B (2N values, divided by 2N)
  BootstrapOptions bootstrap;
  std::size_t resamples_used = 0;  // resamples whose output variance was positive (the others have no index)
};

// Sobol indices from the outputs of a Saltelli design, f(A_j), f(B_j) and f(A_B^(i)_j) for base rows j = 1..N.
// With f0 and V the mean and variance of the 2N outputs of A and B:
//   first order (Saltelli et al. 2010, table 2 (b)):  S_i  = (1/N) sum_j (f(B)_j - f0) (f(A_B^(i))_j - f(A)_j) / V
//   total order (Jansen 1999; Saltelli et al. 2010, table 2 (f)):  S_Ti = (1/2N) sum_j (f(A)_j - f(A_B^(i))_j)^2 / V
// (subtracting f0 from f(B) leaves the expectation unchanged and reduces the estimator's variance when the
// mean is far from zero). Intervals resample the N base rows, the same rows for every parameter and for both
// indices. Throws std::invalid_argument for mismatched lengths, N < 2, non-finite outputs, or outputs of A and
// B that are all equal (zero variance: the indices are undefined).
SobolResult sobol_indices(const std::vector<double>& f_a, const std::vector<double>& f_b,
                          const std::vector<std::vector<double>>& f_ab, const std::vector<std::string>& names,
                          const BootstrapOptions& bootstrap = {});
// The same from a design built by saltelli() and its outputs in point order (outputs[p] is f(design point p));
// points are matched to A, B and A_B^(i) by their tags.
SobolResult sobol_indices(const Design& design, const std::vector<double>& outputs,
                          const BootstrapOptions& bootstrap = {});

struct MorrisEffect {
  std::string parameter;
  double mu = 0.0;       // mean elementary effect (Morris 1991)
  double mu_star = 0.0;  // mean absolute elementary effect (Campolongo et al. 2007): the ranking measure
  double sigma = 0.0;    // standard deviation of the elementary effects (r - 1 denominator): interactions and
                         // non-linearity
  Interval mu_star_interval;  // bootstrap over trajectories
};

struct MorrisResult {
  std::vector<MorrisEffect> effects;  // in the design's parameter order
  std::size_t trajectories = 0;
  BootstrapOptions bootstrap;
};

// Elementary effects from the outputs of a design built by morris(), outputs in point order. The effect of
// parameter i in a trajectory is (f(x after the step) - f(x before)) / (the step in unit coordinates, +-delta):
// effects are per unit of the parameter's range, so that parameters with different units can be ranked.
// Returns effects[i][t] for parameter i and trajectory t. Throws std::invalid_argument when the design is not a
// complete set of Morris trajectories or the outputs do not match it.
std::vector<std::vector<double>> elementary_effects(const Design& design, const std::vector<double>& outputs);
// mu, mu* and sigma per parameter, with a bootstrap interval for mu* resampling whole trajectories.
MorrisResult morris_effects(const Design& design, const std::vector<double>& outputs,
                            const BootstrapOptions& bootstrap = {});

}  // namespace chacra::study
