// Statistics for policy comparisons and the virtual evaluation: quantiles, inequality, OLS/WLS with classical,
// HC1 and cluster-robust (CR1) standard errors, local-linear regression discontinuity, quantile treatment
// effects, Student t quantiles (Boost.Math) and replicate intervals. Every function is pure and
// thread-safe. Invalid input (empty samples, mismatched lengths, NaN, negative weights, singular designs)
// throws std::invalid_argument with a message naming the function and the problem.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace chacra::stats {

// ---------------------------------------------------------------------------------------------------------
// Moments

// Arithmetic mean sum(v)/n. Throws on an empty vector.
double mean(const std::vector<double>& v);
// Sample variance sum((v-mean)^2)/(n-1) (two-pass). Throws when n < 2.
double variance(const std::vector<double>& v);
// Sample standard deviation sqrt(variance(v)) (n-1 denominator). Throws when n < 2.
double stddev(const std::vector<double>& v);
// Pearson correlation of paired values (two-pass). Throws when the lengths differ or n < 2; NaN when either
// variable is constant.
double correlation(const std::vector<double>& x, const std::vector<double>& y);
// Weighted mean sum(w*v)/sum(w). Weights must be finite and >= 0 with a positive sum.
double weighted_mean(const std::vector<double>& v, const std::vector<double>& w);

// ---------------------------------------------------------------------------------------------------------
// Quantiles

// Type-7 quantile (R's and numpy's default): with x sorted and h = (n-1)q, x[floor h] + (h - floor h) *
// (x[floor h + 1] - x[floor h]) (0-based). q in [0,1]; n >= 1; O(n) via nth_element.
double quantile(std::vector<double> v, double q);
// Type-7 quantiles for each q in qs, sorting v once. Results are in the order of qs.
std::vector<double> quantiles(std::vector<double> v, const std::vector<double>& qs);
// Weighted type-7 analogue: after sorting by value and dropping zero weights, point k sits at the centre of its
// weight mass c_k = (w_1 + ... + w_{k-1}) + w_k/2, positions p_k = (c_k - c_1)/(c_n - c_1) run from 0 (smallest
// value) to 1 (largest), and the quantile interpolates linearly between the values at the bracketing positions.
// Equals quantile() for equal weights and is invariant to rescaling the weights. Weights >= 0, sum > 0.
double weighted_quantile(const std::vector<double>& values, const std::vector<double>& weights, double q);
// weighted_quantile for each q in qs, sorting once.
std::vector<double> weighted_quantiles(const std::vector<double>& values, const std::vector<double>& weights,
                                       const std::vector<double>& qs);

// ---------------------------------------------------------------------------------------------------------
// Inequality

// Gini coefficient sum_i sum_j |x_i - x_j| / (2 n^2 mean), computed as sum_i (2i - n - 1) x_(i) / (n sum x)
// over sorted values (i = 1..n). 0 when all values are equal, (n-1)/n when one person holds everything.
// Convention for negative values: they are used as given (no truncation at zero); the total must be positive
// (throws otherwise) and the coefficient may then exceed 1.
double gini(std::vector<double> v);
// Weighted Gini sum_ij w_i w_j |x_i - x_j| / (2 W^2 mean_w) (W = sum w, mean_w = weighted mean), i.e. the Gini of
// the population in which value i appears w_i times; same conventions as gini(). Weights >= 0, sum > 0.
double weighted_gini(const std::vector<double>& values, const std::vector<double>& weights);

// ---------------------------------------------------------------------------------------------------------
// Student t distribution

// P(T <= t) for Student t with dof > 0 degrees of freedom (dof may be fractional or +infinity = normal), from
// Boost.Math's students_t_distribution (the smaller tail computed directly).
double student_t_cdf(double t, double dof);
// The p-quantile of Student t with dof > 0 (p in (0,1), dof may be +infinity), from Boost.Math (the upper tail
// as a complement); within an ulp or two of the exact value.
double student_t_quantile(double p, double dof);
// Two-sided 95% critical value: the 97.5% quantile of Student t with dof degrees of freedom (1.959964 for
// dof = infinity, 2.073873 for 22, 12.706205 for 1). For cluster-robust inference pass OlsResult::dof (G-1).
double t_critical_95(double dof);

// ---------------------------------------------------------------------------------------------------------
// Linear regression

// How the coefficient covariance was estimated.
enum class Vce {
  classical,  // s^2 (X'WX)^-1, s^2 = sum(w e^2)/(n-k)
  hc1,        // heteroskedasticity-robust sandwich (X'WX)^-1 [sum w^2 e^2 x x'] (X'WX)^-1 * n/(n-k) (Stata ", robust")
  cr1,        // cluster-robust Liang-Zeger sandwich with scores s_g = sum_{i in g} w_i e_i x_i and Stata's factor
              // G/(G-1) * (n-1)/(n-k) (Stata ", vce(cluster id)")
};

struct OlsResult {
  std::vector<double> beta, se;    // coefficients and standard errors, intercept first when one was added
  std::vector<std::string> names;  // "intercept" then the column names (default "x0", "x1", ... by column index)
  std::size_t n = 0;               // observations used (those with positive weight)
  std::size_t clusters = 0;        // G, the number of clusters for CR1; 0 otherwise
  double r2 = 0.0;  // weighted R^2 = 1 - SSR/SST; SST centred with an intercept, uncentred without; NaN if SST = 0
  Vce vce = Vce::classical;
  double dof = 0.0;          // degrees of freedom for t inference: n-k (classical, HC1) or G-1 (CR1)
  std::vector<double> vcov;  // k x k coefficient covariance, row-major, same order as beta

  // Index of the coefficient with this name; throws std::invalid_argument if absent.
  std::size_t index_of(std::string_view name) const;
  double coef(std::string_view name) const { return beta[index_of(name)]; }
  double se_of(std::string_view name) const { return se[index_of(name)]; }
};

// Weighted least squares: minimises sum w_i (y_i - x_i'b)^2. X_columns holds k columns of length n (column-major);
// add_intercept prepends a constant column. Weights are analytic/precision weights (finite, >= 0; zero-weight rows
// are dropped; results are invariant to rescaling w). Standard errors are classical when clusters is null and CR1
// when cluster ids (any ints, one per row) are given (needs G >= 2). Solved by a Cholesky factorisation of the
// (column-centred, equilibrated) X'WX accumulated in O(n k^2) time and O(k^2 + G k) memory, with no n x n matrices.
// Throws std::invalid_argument on a singular design, naming the first column that is constant (collinear with the
// intercept) or a linear combination of the intercept and earlier columns (relative pivot < 1e-10), and when
// n <= k. names, if given, must have one entry per column of X_columns.
OlsResult wls(const std::vector<std::vector<double>>& X_columns, const std::vector<double>& y,
              const std::vector<double>& weights, const std::vector<int>* clusters = nullptr,
              bool add_intercept = true, const std::vector<std::string>& names = {});
// Ordinary least squares: wls with unit weights (classical SEs, or CR1 when clusters is given).
OlsResult ols(const std::vector<std::vector<double>>& X_columns, const std::vector<double>& y,
              const std::vector<int>* clusters = nullptr, bool add_intercept = true,
              const std::vector<std::string>& names = {});
// wls with heteroskedasticity-robust HC1 standard errors (no clusters).
OlsResult wls_robust(const std::vector<std::vector<double>>& X_columns, const std::vector<double>& y,
                     const std::vector<double>& weights, bool add_intercept = true,
                     const std::vector<std::string>& names = {});
// ols with heteroskedasticity-robust HC1 standard errors (no clusters).
OlsResult ols_robust(const std::vector<std::vector<double>>& X_columns, const std::vector<double>& y,
                     bool add_intercept = true, const std::vector<std::string>& names = {});

// ---------------------------------------------------------------------------------------------------------
// Regression discontinuity

struct RdResult {
  double estimate = 0.0, se = 0.0;  // jump at the cutoff and its standard error
  std::size_t n_left = 0, n_right = 0;  // observations with positive kernel weight below / at-or-above the cutoff
  double bandwidth = 0.0;
  double dof = 0.0;  // n-4 (HC1) or G-1 (CR1), for t_critical_95
};

// Sharp RD by local-linear regression: on observations with |x-c| < h, weighted least squares of
// y ~ 1 + D + (x-c) + D*(x-c) with D = [x >= c] and triangular kernel weights 1 - |x-c|/h; estimate = coefficient
// on D. SE from the weighted sandwich: HC1 without clusters, CR1 with cluster ids (one per observation). Needs at
// least 2 observations with positive weight on each side (throws otherwise).
RdResult local_linear_rd(const std::vector<double>& running, const std::vector<double>& y, double cutoff,
                         double bandwidth, const std::vector<int>* clusters = nullptr);

// ---------------------------------------------------------------------------------------------------------
// Quantile treatment effects

struct QteResult {
  std::vector<double> qs, effects;
};

// Unconditional quantile treatment effects: effects[j] = quantile(y_treated, qs[j]) - quantile(y_control, qs[j])
// (type 7), each sample sorted once.
QteResult quantile_treatment_effects(const std::vector<double>& y_treated, const std::vector<double>& y_control,
                                     const std::vector<double>& qs);

// ---------------------------------------------------------------------------------------------------------
// Intervals over replicates

struct Interval {
  double mean = 0.0, low = 0.0, high = 0.0;
};

// Percentile interval of a replicate distribution: mean of the draws and the type-7 quantiles at (1-level)/2 and
// (1+level)/2 (2.5% and 97.5% for level 0.95). level in (0,1).
Interval percentile_interval(std::vector<double> draws, double level = 0.95);
// Interval for the mean of the draws: mean -/+ t_{n-1, (1+level)/2} * sd / sqrt(n) (sd with n-1). Zero width
// (low = high = mean) when n = 1 or all draws are identical.
Interval mean_interval(const std::vector<double>& draws, double level = 0.95);

}  // namespace chacra::stats
