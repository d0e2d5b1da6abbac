// Sobol indices (Saltelli 2010 first order, Jansen 1999 total order) and Morris elementary effects, with
// bootstrap percentile intervals drawn from counter-based streams.
#include "study/sensitivity.hpp"

#include "sim/rng.hpp"
#include "study/stats.hpp"

#include <cmath>
#include <map>
#include <stdexcept>

namespace chacra::study {
namespace {

constexpr std::uint32_t kSobolBootstrap = rng::domain_id("study.sobol.bootstrap");
constexpr std::uint32_t kMorrisBootstrap = rng::domain_id("study.morris.bootstrap");

void check_bootstrap(const BootstrapOptions& b, const char* what) {
  if (b.resamples < 2)
    throw std::invalid_argument(std::string(what) + ": at least 2 bootstrap resamples are needed for an interval");
  if (!(b.level > 0.0 && b.level < 1.0))
    throw std::invalid_argument(std::string(what) + ": interval level must be in (0, 1), got " +
                                std::to_string(b.level));
}

void check_finite(const std::vector<double>& v, const char* what, const std::string& which) {
  for (std::size_t j = 0; j < v.size(); ++j)
    if (!std::isfinite(v[j]))
      throw std::invalid_argument(std::string(what) + ": output " + which + "[" + std::to_string(j) +
                                  "] is not finite; every design point needs a finite output");
}

// Row j of resample b: the units (base rows, trajectories) are drawn uniformly with replacement.
std::vector<std::size_t> resample(std::uint32_t domain, std::uint64_t seed, std::size_t b, std::size_t n) {
  rng::Stream s(seed, 0, domain, 0, b);
  std::vector<std::size_t> rows(n);
  for (std::size_t& r : rows) r = s.below(n);
  return rows;
}

Interval percentile(std::vector<double> draws, double level) {
  const std::vector<double> q = stats::quantiles(std::move(draws), {(1.0 - level) / 2.0, (1.0 + level) / 2.0});
  return {q[0], q[1]};
}

// Point estimates on the base rows `rows` (a bootstrap resample, or every row once). Returns false when the
// outputs of A and B on those rows have no variance.
bool sobol_estimates(const std::vector<double>& f_a, const std::vector<double>& f_b,
                     const std::vector<std::vector<double>>& f_ab, const std::vector<std::size_t>& rows,
                     std::vector<double>& first, std::vector<double>& total, double& mean, double& variance) {
  const double n = static_cast<double>(rows.size());
  double sum = 0.0;
  for (std::size_t j : rows) sum += f_a[j] + f_b[j];
  mean = sum / (2.0 * n);
  double ss = 0.0;
  for (std::size_t j : rows) {
    const double da = f_a[j] - mean, db = f_b[j] - mean;
    ss += da * da + db * db;
  }
  variance = ss / (2.0 * n);
  if (!(variance > 0.0)) return false;
  for (std::size_t i = 0; i < f_ab.size(); ++i) {
    double s1 = 0.0, st = 0.0;
    for (std::size_t j : rows) {
      const double step = f_ab[i][j] - f_a[j];
      s1 += (f_b[j] - mean) * step;
      st += step * step;
    }
    first[i] = s1 / n / variance;
    total[i] = st / (2.0 * n) / variance;
  }
  return true;
}

}  // namespace

SobolResult sobol_indices(const std::vector<double>& f_a, const std::vector<double>& f_b,
                          const std::vector<std::vector<double>>& f_ab, const std::vector<std::string>& names,
                          const BootstrapOptions& bootstrap) {
  const char* what = "sobol_indices";
  check_bootstrap(bootstrap, what);
  const std::size_t n = f_a.size(), k = f_ab.size();
  if (n < 2) throw std::invalid_argument("sobol_indices: needs at least 2 base rows, got " + std::to_string(n));
  if (k == 0 || names.size() != k)
    throw std::invalid_argument("sobol_indices: " + std::to_string(k) + " A_B matrices and " +
                                std::to_string(names.size()) + " parameter names; expected one of each per parameter");
  if (f_b.size() != n)
    throw std::invalid_argument("sobol_indices: " + std::to_string(n) + " outputs of A but " +
                                std::to_string(f_b.size()) + " of B");
  check_finite(f_a, what, "A");
  check_finite(f_b, what, "B");
  for (std::size_t i = 0; i < k; ++i) {
    if (f_ab[i].size() != n)
      throw std::invalid_argument("sobol_indices: " + std::to_string(f_ab[i].size()) + " outputs of A_B for " +
                                  names[i] + ", expected " + std::to_string(n));
    check_finite(f_ab[i], what, "A_B(" + names[i] + ")");
  }

  SobolResult r;
  r.base_rows = n;
  r.bootstrap = bootstrap;
  std::vector<std::size_t> all(n);
  for (std::size_t j = 0; j < n; ++j) all[j] = j;
  std::vector<double> first(k), total(k);
  if (!sobol_estimates(f_a, f_b, f_ab, all, first, total, r.mean, r.variance))
    throw std::invalid_argument("sobol_indices: the outputs of A and B are all equal (zero variance); the indices "
                                "are undefined");

  std::vector<std::vector<double>> first_draws(k), total_draws(k);
  std::vector<double> bf(k), bt(k);
  double bmean = 0.0, bvar = 0.0;
  for (std::size_t b = 0; b < bootstrap.resamples; ++b) {
    if (!sobol_estimates(f_a, f_b, f_ab, resample(kSobolBootstrap, bootstrap.seed, b, n), bf, bt, bmean, bvar))
      continue;
    ++r.resamples_used;
    for (std::size_t i = 0; i < k; ++i) {
      first_draws[i].push_back(bf[i]);
      total_draws[i].push_back(bt[i]);
    }
  }
  if (r.resamples_used * 2 < bootstrap.resamples)
    throw std::invalid_argument("sobol_indices: more than half the bootstrap resamples have zero output variance; "
                                "use more base rows");
  for (std::size_t i = 0; i < k; ++i)
    r.indices.push_back({names[i], first[i], percentile(std::move(first_draws[i]), bootstrap.level), total[i],
                         percentile(std::move(total_draws[i]), bootstrap.level)});
  return r;
}

SobolResult sobol_indices(const Design& design, const std::vector<double>& outputs,
                          const BootstrapOptions& bootstrap) {
  if (design.kind != DesignKind::saltelli)
    throw std::invalid_argument(std::string("sobol_indices: the design is a ") + to_string(design.kind) +
                                " design; Sobol indices need a saltelli design");
  if (outputs.size() != design.size())
    throw std::invalid_argument("sobol_indices: " + std::to_string(outputs.size()) + " outputs for a design of " +
                                std::to_string(design.size()) + " points");
  const std::size_t n = design.base_rows, k = design.dimensions();
  // NaN marks a slot no point filled, so a design with a missing point is caught below.
  const double missing = std::nan("");
  std::vector<double> f_a(n, missing), f_b(n, missing);
  std::vector<std::vector<double>> f_ab(k, std::vector<double>(n, missing));
  std::vector<std::string> names;
  for (const Parameter& p : design.parameters) names.push_back(p.name);
  for (std::size_t p = 0; p < design.size(); ++p) {
    const PointTag& t = design.tags[p];
    if (!std::isfinite(outputs[p]))
      throw std::invalid_argument("sobol_indices: output of point " + std::to_string(p) + " is not finite");
    if (t.row >= n || (t.role == PointRole::saltelli_ab && t.parameter >= k))
      throw std::invalid_argument("sobol_indices: point " + std::to_string(p) + " has a tag outside the design");
    switch (t.role) {
      case PointRole::saltelli_a: f_a[t.row] = outputs[p]; break;
      case PointRole::saltelli_b: f_b[t.row] = outputs[p]; break;
      case PointRole::saltelli_ab: f_ab[t.parameter][t.row] = outputs[p]; break;
      default:
        throw std::invalid_argument(std::string("sobol_indices: point ") + std::to_string(p) + " has role " +
                                    to_string(t.role) + ", not A, B or AB");
    }
  }
  // Outputs are finite, so a slot still NaN is one that no point filled.
  for (std::size_t j = 0; j < n; ++j) {
    std::string absent = std::isnan(f_a[j]) ? "A" : std::isnan(f_b[j]) ? "B" : "";
    for (std::size_t i = 0; i < k && absent.empty(); ++i)
      if (std::isnan(f_ab[i][j])) absent = "A_B(" + names[i] + ")";
    if (!absent.empty())
      throw std::invalid_argument("sobol_indices: base row " + std::to_string(j) + " has no point of " + absent +
                                  "; the design is incomplete");
  }
  return sobol_indices(f_a, f_b, f_ab, names, bootstrap);
}

std::vector<std::vector<double>> elementary_effects(const Design& design, const std::vector<double>& outputs) {
  if (design.kind != DesignKind::morris)
    throw std::invalid_argument(std::string("elementary_effects: the design is a ") + to_string(design.kind) +
                                " design; elementary effects need a morris design");
  if (outputs.size() != design.size())
    throw std::invalid_argument("elementary_effects: " + std::to_string(outputs.size()) +
                                " outputs for a design of " + std::to_string(design.size()) + " points");
  const std::size_t k = design.dimensions();
  // Point index by (trajectory, step).
  std::map<std::pair<std::size_t, std::size_t>, std::size_t> at;
  std::size_t trajectories = 0;
  for (std::size_t p = 0; p < design.size(); ++p) {
    const PointTag& t = design.tags[p];
    if (t.role != PointRole::morris || t.step > k || !at.emplace(std::make_pair(t.row, t.step), p).second)
      throw std::invalid_argument("elementary_effects: point " + std::to_string(p) +
                                  " is not a distinct step of a Morris trajectory");
    if (!std::isfinite(outputs[p]))
      throw std::invalid_argument("elementary_effects: output of point " + std::to_string(p) + " is not finite");
    trajectories = std::max(trajectories, t.row + 1);
  }
  if (at.size() != trajectories * (k + 1))
    throw std::invalid_argument("elementary_effects: the design's trajectories are incomplete (" +
                                std::to_string(at.size()) + " points for " + std::to_string(trajectories) +
                                " trajectories of " + std::to_string(k + 1) + ")");
  const double missing = std::nan("");
  std::vector<std::vector<double>> effects(k, std::vector<double>(trajectories, missing));
  for (std::size_t t = 0; t < trajectories; ++t)
    for (std::size_t s = 1; s <= k; ++s) {
      const std::size_t after = at.at({t, s}), before = at.at({t, s - 1});
      const std::size_t i = design.tags[after].parameter;
      const double step = i < k ? design.unit[after * k + i] - design.unit[before * k + i] : 0.0;
      if (i >= k || step == 0.0 || !std::isnan(effects[i][t]))
        throw std::invalid_argument("elementary_effects: step " + std::to_string(s) + " of trajectory " +
                                    std::to_string(t) + " does not move a parameter not moved before");
      effects[i][t] = (outputs[after] - outputs[before]) / step;
    }
  return effects;
}

MorrisResult morris_effects(const Design& design, const std::vector<double>& outputs,
                            const BootstrapOptions& bootstrap) {
  check_bootstrap(bootstrap, "morris_effects");
  const std::vector<std::vector<double>> ee = elementary_effects(design, outputs);
  const std::size_t r = ee.empty() ? 0 : ee[0].size();
  if (r < 2)
    throw std::invalid_argument("morris_effects: needs at least 2 trajectories for a standard deviation");
  MorrisResult result;
  result.trajectories = r;
  result.bootstrap = bootstrap;
  std::vector<std::vector<std::size_t>> draws;
  for (std::size_t b = 0; b < bootstrap.resamples; ++b) draws.push_back(resample(kMorrisBootstrap, bootstrap.seed, b, r));
  for (std::size_t i = 0; i < ee.size(); ++i) {
    std::vector<double> abs_effects(r);
    for (std::size_t t = 0; t < r; ++t) abs_effects[t] = std::abs(ee[i][t]);
    MorrisEffect e;
    e.parameter = design.parameters[i].name;
    e.mu = stats::mean(ee[i]);
    e.mu_star = stats::mean(abs_effects);
    e.sigma = stats::stddev(ee[i]);
    std::vector<double> mu_star_draws;
    mu_star_draws.reserve(draws.size());
    for (const std::vector<std::size_t>& rows : draws) {
      double sum = 0.0;
      for (std::size_t t : rows) sum += abs_effects[t];
      mu_star_draws.push_back(sum / static_cast<double>(r));
    }
    e.mu_star_interval = percentile(std::move(mu_star_draws), bootstrap.level);
    result.effects.push_back(e);
  }
  return result;
}

}  // namespace chacra::study
