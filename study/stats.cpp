// Statistics library: see stats.hpp for the conventions of each function.
#include "study/stats.hpp"

#include <boost/math/distributions/complement.hpp>
#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <utility>

namespace chacra::stats {
namespace {

[[noreturn]] void fail(const char* fn, const std::string& what) {
  throw std::invalid_argument(std::string("chacra::stats::") + fn + ": " + what);
}

std::string fmt_g(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g", x);
  return buf;
}

void check_nonempty(const char* fn, std::size_t n) {
  if (n == 0) fail(fn, "empty input");
}

void check_q(const char* fn, double q) {
  if (!(q >= 0.0 && q <= 1.0)) fail(fn, "quantile level " + std::to_string(q) + " is outside [0, 1]");
}

void check_no_nan(const char* fn, const std::vector<double>& v) {
  for (double x : v)
    if (std::isnan(x)) fail(fn, "NaN in input");
}

// Checks weights (same length, finite, >= 0, positive sum) and returns their sum.
double check_weights(const char* fn, std::size_t n, const std::vector<double>& w) {
  if (w.size() != n)
    fail(fn, "weights have length " + std::to_string(w.size()) + " but values have length " + std::to_string(n));
  double sum = 0.0;
  for (double x : w) {
    if (!(x >= 0.0) || !std::isfinite(x)) fail(fn, "weights must be finite and non-negative");
    sum += x;
  }
  if (!(sum > 0.0)) fail(fn, "weights sum to zero");
  return sum;
}

// Type-7 quantile of an already sorted, non-empty vector.
double sorted_quantile(const std::vector<double>& x, double q) {
  const std::size_t n = x.size();
  const double h = static_cast<double>(n - 1) * q;
  const double lo = std::floor(h);
  const auto i = static_cast<std::size_t>(lo);
  if (i + 1 >= n) return x[n - 1];
  const double frac = h - lo;
  if (frac == 0.0) return x[i];
  return std::lerp(x[i], x[i + 1], frac);
}

// Values sorted with their positive weights, and the weighted type-7 positions p_k (see stats.hpp).
struct WeightedSorted {
  std::vector<double> x, p;
};

WeightedSorted weighted_positions(const char* fn, const std::vector<double>& values,
                                  const std::vector<double>& weights) {
  check_nonempty(fn, values.size());
  check_weights(fn, values.size(), weights);
  check_no_nan(fn, values);
  std::vector<std::pair<double, double>> vw;
  vw.reserve(values.size());
  for (std::size_t i = 0; i < values.size(); ++i)
    if (weights[i] > 0.0) vw.emplace_back(values[i], weights[i]);
  std::sort(vw.begin(), vw.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  WeightedSorted out;
  const std::size_t m = vw.size();
  out.x.resize(m);
  out.p.resize(m);
  double cum = 0.0;
  for (std::size_t k = 0; k < m; ++k) {
    out.x[k] = vw[k].first;
    out.p[k] = cum + 0.5 * vw[k].second;  // centre of mass
    cum += vw[k].second;
  }
  const double c1 = out.p[0], span = out.p[m - 1] - out.p[0];
  for (std::size_t k = 0; k < m; ++k) out.p[k] = span > 0.0 ? (out.p[k] - c1) / span : 0.0;
  if (m > 1) out.p[m - 1] = 1.0;
  return out;
}

double weighted_sorted_quantile(const WeightedSorted& s, double q) {
  const std::size_t m = s.x.size();
  if (m == 1) return s.x[0];
  // First position >= q; interpolate between it and its predecessor.
  const auto it = std::lower_bound(s.p.begin(), s.p.end(), q);
  const auto k = static_cast<std::size_t>(it - s.p.begin());
  if (k == 0) return s.x[0];
  if (k >= m) return s.x[m - 1];
  const double frac = (q - s.p[k - 1]) / (s.p[k] - s.p[k - 1]);
  if (frac >= 1.0) return s.x[k];
  return std::lerp(s.x[k - 1], s.x[k], frac);
}

// ---------------------------------------------------------------------------------------------------------
// Student t (Boost.Math). Errors become std::invalid_argument like every other function here; the upper tail
// is taken as the complement, so that small tail probabilities keep their precision.

using TDistribution =
    boost::math::students_t_distribution<double, boost::math::policies::policy<
                                                      boost::math::policies::domain_error<boost::math::policies::throw_on_error>,
                                                      boost::math::policies::overflow_error<boost::math::policies::errno_on_error>>>;

// Upper-tail t quantile t with P(T > t) = alpha, alpha in (0, 1/2]; the normal quantile for infinite dof.
double t_upper_quantile(double alpha, double dof) {
  if (alpha >= 0.5) return 0.0;
  if (std::isinf(dof)) return boost::math::quantile(boost::math::complement(boost::math::normal_distribution<double>(), alpha));
  return boost::math::quantile(boost::math::complement(TDistribution(dof), alpha));
}

// ---------------------------------------------------------------------------------------------------------
// Least squares

enum class Mode { classical, hc1, cluster };

// Maps cluster ids of the rows with positive weight to 0..G-1 (rows with zero weight get UINT32_MAX).
std::vector<std::uint32_t> dense_cluster_ids(const std::vector<int>& ids, const double* w, std::size_t& G) {
  const std::size_t n = ids.size();
  constexpr auto kNone = std::numeric_limits<std::uint32_t>::max();
  std::vector<std::uint32_t> g(n, kNone);
  std::int64_t lo = std::numeric_limits<std::int64_t>::max(), hi = std::numeric_limits<std::int64_t>::min();
  for (std::size_t i = 0; i < n; ++i) {
    if (w && !(w[i] > 0.0)) continue;
    lo = std::min<std::int64_t>(lo, ids[i]);
    hi = std::max<std::int64_t>(hi, ids[i]);
  }
  G = 0;
  if (lo > hi) return g;
  const std::int64_t range = hi - lo + 1;
  if (range <= static_cast<std::int64_t>(4 * n + 1024)) {
    std::vector<std::uint32_t> table(static_cast<std::size_t>(range), kNone);
    for (std::size_t i = 0; i < n; ++i) {
      if (w && !(w[i] > 0.0)) continue;
      auto& slot = table[static_cast<std::size_t>(ids[i] - lo)];
      if (slot == kNone) slot = static_cast<std::uint32_t>(G++);
      g[i] = slot;
    }
  } else {
    std::vector<int> u;
    u.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      if (!w || w[i] > 0.0) u.push_back(ids[i]);
    std::sort(u.begin(), u.end());
    u.erase(std::unique(u.begin(), u.end()), u.end());
    G = u.size();
    for (std::size_t i = 0; i < n; ++i) {
      if (w && !(w[i] > 0.0)) continue;
      g[i] = static_cast<std::uint32_t>(std::lower_bound(u.begin(), u.end(), ids[i]) - u.begin());
    }
  }
  return g;
}

// The least-squares engine. Works in the centred parametrisation y - ybar = a + (x - m)'b (means weighted; no
// centring without an intercept), which keeps X'WX well conditioned, then maps coefficients and covariance back:
// beta = T beta~ + (ybar, 0...) with T = I except T[0][j] = -m_j, V = T V~ T'.
// Weighted = false means unit weights (w ignored). Three passes over the data: means, cross-products, residuals.
template <bool Weighted>
OlsResult fit(const char* fn, const std::vector<std::vector<double>>& X, const std::vector<double>& y,
              const double* w, const std::vector<int>* clusters, bool add_intercept,
              const std::vector<std::string>& names, Mode mode) {
  const std::size_t n_rows = y.size();
  const std::size_t kx = X.size();
  const std::size_t off = add_intercept ? 1 : 0;
  const std::size_t k = kx + off;
  if (k == 0) fail(fn, "no regressors (no columns and no intercept)");
  for (std::size_t j = 0; j < kx; ++j)
    if (X[j].size() != n_rows)
      fail(fn, "column " + std::to_string(j) + " has length " + std::to_string(X[j].size()) + " but y has length " +
                   std::to_string(n_rows));
  if (!names.empty() && names.size() != kx)
    fail(fn, "got " + std::to_string(names.size()) + " names for " + std::to_string(kx) + " columns");
  if (clusters && clusters->size() != n_rows)
    fail(fn, "cluster ids have length " + std::to_string(clusters->size()) + " but y has length " +
                 std::to_string(n_rows));

  OlsResult r;
  r.names.reserve(k);
  if (add_intercept) r.names.emplace_back("intercept");
  for (std::size_t j = 0; j < kx; ++j) r.names.push_back(names.empty() ? "x" + std::to_string(j) : names[j]);
  auto col_label = [&](std::size_t a) {  // a indexes coefficients
    if (add_intercept && a == 0) return std::string("the intercept");
    const std::size_t j = a - off;
    return "column " + std::to_string(j) + " ('" + r.names[a] + "')";
  };

  std::vector<const double*> cols(kx);
  for (std::size_t j = 0; j < kx; ++j) cols[j] = X[j].data();
  const double* yp = y.data();

  // Pass 1: weights, weighted sums and uncentred second moments (for the constant-column test).
  double W = 0.0;
  std::size_t n = 0;
  if constexpr (Weighted) {
    for (std::size_t i = 0; i < n_rows; ++i) {
      const double wi = w[i];
      if (!(wi >= 0.0) || !std::isfinite(wi)) fail(fn, "weights must be finite and non-negative");
      W += wi;
      n += wi > 0.0 ? 1 : 0;
    }
  } else {
    W = static_cast<double>(n_rows);
    n = n_rows;
  }
  if (n <= k)
    fail(fn, "needs more observations (with positive weight) than coefficients: n = " + std::to_string(n) +
                 ", k = " + std::to_string(k));
  std::vector<double> m(k, 0.0), raw2(k, 0.0);
  double ybar = 0.0;
  {
    auto wsum = [&](const double* v, double& s1, double& s2) {
      double a = 0.0, b = 0.0;
      for (std::size_t i = 0; i < n_rows; ++i) {
        const double wv = (Weighted ? w[i] : 1.0) * v[i];
        a += wv;
        b += wv * v[i];
      }
      s1 = a;
      s2 = b;
    };
    for (std::size_t j = 0; j < kx; ++j) {
      double s1, s2;
      wsum(cols[j], s1, s2);
      if (!std::isfinite(s1) || !std::isfinite(s2)) fail(fn, "non-finite value in " + col_label(j + off));
      m[j + off] = add_intercept ? s1 / W : 0.0;
      raw2[j + off] = s2;
    }
    double s1, s2;
    wsum(yp, s1, s2);
    if (!std::isfinite(s1) || !std::isfinite(s2)) fail(fn, "non-finite value in y");
    ybar = add_intercept ? s1 / W : 0.0;
    if (add_intercept) raw2[0] = W;
  }

  // Pass 2: A = sum w x~ x~' (upper triangle), b = sum w x~ y~, syy = sum w y~^2.
  std::vector<double> A(k * k, 0.0), bvec(k, 0.0), xt(k, 1.0);
  double syy = 0.0;
  for (std::size_t i = 0; i < n_rows; ++i) {
    const double wi = Weighted ? w[i] : 1.0;
    if (Weighted && wi == 0.0) continue;
    for (std::size_t j = 0; j < kx; ++j) xt[j + off] = cols[j][i] - m[j + off];
    const double yt = yp[i] - ybar;
    for (std::size_t a = 0; a < k; ++a) {
      const double wa = wi * xt[a];
      double* Arow = &A[a * k];
      for (std::size_t c = a; c < k; ++c) Arow[c] += wa * xt[c];
      bvec[a] += wa * yt;
    }
    syy += wi * yt * yt;
  }
  for (std::size_t a = 0; a < k; ++a)
    for (std::size_t c = 0; c < a; ++c) A[a * k + c] = A[c * k + a];

  // Equilibrated Cholesky with a singularity test on each pivot (1 - R^2 of the column on the earlier ones).
  std::vector<double> s(k);
  for (std::size_t a = 0; a < k; ++a) {
    const double d = A[a * k + a];
    if (!(d > 1e-20 * raw2[a]) || !(d > 0.0)) {
      if (add_intercept && a > 0)
        fail(fn, "singular design: " + col_label(a) + " is constant, so it is collinear with the intercept");
      fail(fn, "singular design: " + col_label(a) + " is identically zero");
    }
    s[a] = 1.0 / std::sqrt(d);
  }
  std::vector<double> L(k * k, 0.0);
  constexpr double kPivotTol = 1e-10;
  for (std::size_t j = 0; j < k; ++j) {
    double d = A[j * k + j] * s[j] * s[j];
    for (std::size_t l = 0; l < j; ++l) d -= L[j * k + l] * L[j * k + l];
    if (!(d > kPivotTol))
      fail(fn, "singular design: " + col_label(j) + " is (numerically) a linear combination of " +
                   (add_intercept ? std::string("the intercept and ") : std::string()) +
                   "the columns before it (relative pivot " + fmt_g(d) + " <= 1e-10)");
    const double ljj = std::sqrt(d);
    L[j * k + j] = ljj;
    for (std::size_t i = j + 1; i < k; ++i) {
      double v = A[i * k + j] * s[i] * s[j];
      for (std::size_t l = 0; l < j; ++l) v -= L[i * k + l] * L[j * k + l];
      L[i * k + j] = v / ljj;
    }
  }
  // Solve (S A S) z = S b by forward/back substitution; beta~ = S z.
  std::vector<double> z(k), bt(k);
  for (std::size_t i = 0; i < k; ++i) {
    double v = bvec[i] * s[i];
    for (std::size_t l = 0; l < i; ++l) v -= L[i * k + l] * z[l];
    z[i] = v / L[i * k + i];
  }
  for (std::size_t i = k; i-- > 0;) {
    double v = z[i];
    for (std::size_t l = i + 1; l < k; ++l) v -= L[l * k + i] * bt[l];
    bt[i] = v / L[i * k + i];
  }
  for (std::size_t i = 0; i < k; ++i) bt[i] *= s[i];
  // Inverse of A: S (L^-T L^-1) S.
  std::vector<double> Li(k * k, 0.0);  // L^-1, lower triangular
  for (std::size_t j = 0; j < k; ++j) {
    Li[j * k + j] = 1.0 / L[j * k + j];
    for (std::size_t i = j + 1; i < k; ++i) {
      double v = 0.0;
      for (std::size_t l = j; l < i; ++l) v -= L[i * k + l] * Li[l * k + j];
      Li[i * k + j] = v / L[i * k + i];
    }
  }
  std::vector<double> Ainv(k * k, 0.0);
  for (std::size_t a = 0; a < k; ++a)
    for (std::size_t c = a; c < k; ++c) {
      double v = 0.0;
      for (std::size_t l = c; l < k; ++l) v += Li[l * k + a] * Li[l * k + c];
      Ainv[a * k + c] = Ainv[c * k + a] = v * s[a] * s[c];
    }

  // Pass 3: residuals, SSR and the meat of the sandwich.
  std::vector<std::uint32_t> gid;
  std::size_t G = 0;
  if (mode == Mode::cluster) {
    gid = dense_cluster_ids(*clusters, Weighted ? w : nullptr, G);
    if (G < 2) fail(fn, "cluster-robust standard errors need at least 2 clusters, got " + std::to_string(G));
  }
  std::vector<double> meat(mode == Mode::classical ? 0 : k * k, 0.0);
  std::vector<double> scores(mode == Mode::cluster ? G * k : 0, 0.0);
  double ssr = 0.0;
  for (std::size_t i = 0; i < n_rows; ++i) {
    const double wi = Weighted ? w[i] : 1.0;
    if (Weighted && wi == 0.0) continue;
    double fitted = 0.0;
    for (std::size_t j = 0; j < kx; ++j) {
      xt[j + off] = cols[j][i] - m[j + off];
      fitted += xt[j + off] * bt[j + off];
    }
    if (add_intercept) fitted += bt[0];
    const double e = (yp[i] - ybar) - fitted;
    const double we = wi * e;
    ssr += we * e;
    if (mode == Mode::hc1) {
      for (std::size_t a = 0; a < k; ++a) {
        const double u = we * we * xt[a];
        double* Mrow = &meat[a * k];
        for (std::size_t c = a; c < k; ++c) Mrow[c] += u * xt[c];
      }
    } else if (mode == Mode::cluster) {
      double* sg = &scores[static_cast<std::size_t>(gid[i]) * k];
      for (std::size_t a = 0; a < k; ++a) sg[a] += we * xt[a];
    }
  }
  if (mode == Mode::cluster)
    for (std::size_t g = 0; g < G; ++g) {
      const double* sg = &scores[g * k];
      for (std::size_t a = 0; a < k; ++a)
        for (std::size_t c = a; c < k; ++c) meat[a * k + c] += sg[a] * sg[c];
    }
  if (mode != Mode::classical)
    for (std::size_t a = 0; a < k; ++a)
      for (std::size_t c = 0; c < a; ++c) meat[a * k + c] = meat[c * k + a];

  const double nd = static_cast<double>(n), kd = static_cast<double>(k);
  std::vector<double> Vt(k * k);
  if (mode == Mode::classical) {
    const double s2 = ssr / (nd - kd);
    for (std::size_t i = 0; i < k * k; ++i) Vt[i] = s2 * Ainv[i];
    r.vce = Vce::classical;
    r.dof = nd - kd;
  } else {
    double factor;
    if (mode == Mode::hc1) {
      factor = nd / (nd - kd);
      r.vce = Vce::hc1;
      r.dof = nd - kd;
    } else {
      const double Gd = static_cast<double>(G);
      factor = Gd / (Gd - 1.0) * (nd - 1.0) / (nd - kd);
      r.vce = Vce::cr1;
      r.dof = Gd - 1.0;
      r.clusters = G;
    }
    std::vector<double> tmp(k * k, 0.0);  // Ainv * meat
    for (std::size_t a = 0; a < k; ++a)
      for (std::size_t c = 0; c < k; ++c) {
        double v = 0.0;
        for (std::size_t l = 0; l < k; ++l) v += Ainv[a * k + l] * meat[l * k + c];
        tmp[a * k + c] = v;
      }
    for (std::size_t a = 0; a < k; ++a)
      for (std::size_t c = a; c < k; ++c) {
        double v = 0.0;
        for (std::size_t l = 0; l < k; ++l) v += tmp[a * k + l] * Ainv[l * k + c];
        Vt[a * k + c] = Vt[c * k + a] = factor * v;
      }
  }

  // Back to the original parametrisation.
  r.beta = bt;
  r.vcov = Vt;
  if (add_intercept) {
    double b0 = ybar + bt[0];
    for (std::size_t j = 1; j < k; ++j) b0 -= m[j] * bt[j];
    r.beta[0] = b0;
    // V = T Vt T' with row 0 of T = (1, -m_1, ..., -m_{k-1}).
    std::vector<double> row0(k);  // (T Vt) row 0
    for (std::size_t c = 0; c < k; ++c) {
      double v = Vt[c];
      for (std::size_t j = 1; j < k; ++j) v -= m[j] * Vt[j * k + c];
      row0[c] = v;
    }
    double v00 = row0[0];
    for (std::size_t j = 1; j < k; ++j) v00 -= m[j] * row0[j];
    r.vcov[0] = v00;
    for (std::size_t c = 1; c < k; ++c) r.vcov[c] = r.vcov[c * k] = row0[c];
  }
  r.se.resize(k);
  for (std::size_t a = 0; a < k; ++a) r.se[a] = std::sqrt(std::max(r.vcov[a * k + a], 0.0));
  r.n = n;
  r.r2 = syy > 0.0 ? 1.0 - ssr / syy : std::numeric_limits<double>::quiet_NaN();
  return r;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Moments

double mean(const std::vector<double>& v) {
  check_nonempty("mean", v.size());
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

double variance(const std::vector<double>& v) {
  if (v.size() < 2) fail("variance", "needs at least 2 values");
  const double mu = mean(v);
  double ss = 0.0, sd = 0.0;
  for (double x : v) {
    ss += (x - mu) * (x - mu);
    sd += x - mu;
  }
  const double n = static_cast<double>(v.size());
  return (ss - sd * sd / n) / (n - 1.0);  // corrected two-pass
}

double stddev(const std::vector<double>& v) { return std::sqrt(std::max(variance(v), 0.0)); }

double correlation(const std::vector<double>& x, const std::vector<double>& y) {
  if (x.size() != y.size()) fail("correlation", "x and y differ in length");
  if (x.size() < 2) fail("correlation", "needs at least 2 pairs");
  const double mx = mean(x), my = mean(y);
  double sxx = 0.0, syy = 0.0, sxy = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  if (!(sxx > 0.0) || !(syy > 0.0)) return std::numeric_limits<double>::quiet_NaN();
  return sxy / std::sqrt(sxx * syy);
}

double weighted_mean(const std::vector<double>& v, const std::vector<double>& w) {
  check_nonempty("weighted_mean", v.size());
  const double W = check_weights("weighted_mean", v.size(), w);
  double s = 0.0;
  for (std::size_t i = 0; i < v.size(); ++i) s += w[i] * v[i];
  return s / W;
}

// ---------------------------------------------------------------------------------------------------------
// Quantiles

double quantile(std::vector<double> v, double q) {
  check_nonempty("quantile", v.size());
  check_q("quantile", q);
  check_no_nan("quantile", v);
  const std::size_t n = v.size();
  const double h = static_cast<double>(n - 1) * q;
  const double lo = std::floor(h);
  const auto i = std::min(static_cast<std::size_t>(lo), n - 1);
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(i), v.end());
  const double xi = v[i];
  const double frac = h - lo;
  if (i + 1 >= n || frac == 0.0) return xi;
  const double xj = *std::min_element(v.begin() + static_cast<std::ptrdiff_t>(i) + 1, v.end());
  return std::lerp(xi, xj, frac);
}

std::vector<double> quantiles(std::vector<double> v, const std::vector<double>& qs) {
  check_nonempty("quantiles", v.size());
  for (double q : qs) check_q("quantiles", q);
  check_no_nan("quantiles", v);
  std::sort(v.begin(), v.end());
  std::vector<double> out;
  out.reserve(qs.size());
  for (double q : qs) out.push_back(sorted_quantile(v, q));
  return out;
}

double weighted_quantile(const std::vector<double>& values, const std::vector<double>& weights, double q) {
  check_q("weighted_quantile", q);
  return weighted_sorted_quantile(weighted_positions("weighted_quantile", values, weights), q);
}

std::vector<double> weighted_quantiles(const std::vector<double>& values, const std::vector<double>& weights,
                                       const std::vector<double>& qs) {
  for (double q : qs) check_q("weighted_quantiles", q);
  const auto s = weighted_positions("weighted_quantiles", values, weights);
  std::vector<double> out;
  out.reserve(qs.size());
  for (double q : qs) out.push_back(weighted_sorted_quantile(s, q));
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Inequality

double gini(std::vector<double> v) {
  check_nonempty("gini", v.size());
  check_no_nan("gini", v);
  std::sort(v.begin(), v.end());
  const double n = static_cast<double>(v.size());
  double total = 0.0, weighted = 0.0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    total += v[i];
    weighted += (2.0 * static_cast<double>(i + 1) - n - 1.0) * v[i];
  }
  if (!(total > 0.0)) fail("gini", "the values must have a positive total");
  return weighted / (n * total);
}

double weighted_gini(const std::vector<double>& values, const std::vector<double>& weights) {
  check_nonempty("weighted_gini", values.size());
  const double W = check_weights("weighted_gini", values.size(), weights);
  check_no_nan("weighted_gini", values);
  std::vector<std::size_t> idx(values.size());
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  std::sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  double cum = 0.0, total = 0.0, num = 0.0;
  for (std::size_t i : idx) {
    const double wi = weights[i], xi = values[i];
    cum += wi;
    total += wi * xi;
    num += wi * xi * (2.0 * cum - wi - W);
  }
  if (!(total > 0.0)) fail("weighted_gini", "the values must have a positive weighted total");
  return num / (W * total);
}

// ---------------------------------------------------------------------------------------------------------
// Student t

double student_t_cdf(double t, double dof) {
  if (!(dof > 0.0)) fail("student_t_cdf", "degrees of freedom must be positive");
  if (std::isnan(t)) fail("student_t_cdf", "t is NaN");
  if (std::isinf(t)) return t > 0 ? 1.0 : 0.0;
  if (std::isinf(dof)) return boost::math::cdf(boost::math::normal_distribution<double>(), t);
  // The smaller tail from the complement, as the larger one would lose its precision in 1 - cdf.
  const TDistribution d(dof);
  return t >= 0.0 ? 1.0 - boost::math::cdf(boost::math::complement(d, t)) : boost::math::cdf(boost::math::complement(d, -t));
}

double student_t_quantile(double p, double dof) {
  if (!(dof > 0.0)) fail("student_t_quantile", "degrees of freedom must be positive");
  if (!(p > 0.0 && p < 1.0)) fail("student_t_quantile", "p must be in (0, 1)");
  if (p == 0.5) return 0.0;
  return p > 0.5 ? t_upper_quantile(1.0 - p, dof) : -t_upper_quantile(p, dof);
}

double t_critical_95(double dof) {
  if (!(dof > 0.0)) fail("t_critical_95", "degrees of freedom must be positive");
  return t_upper_quantile(0.025, dof);
}

// ---------------------------------------------------------------------------------------------------------
// Regression

std::size_t OlsResult::index_of(std::string_view name) const {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return i;
  fail("OlsResult::index_of", "no coefficient named '" + std::string(name) + "'");
}

OlsResult wls(const std::vector<std::vector<double>>& X_columns, const std::vector<double>& y,
              const std::vector<double>& weights, const std::vector<int>* clusters, bool add_intercept,
              const std::vector<std::string>& names) {
  if (weights.size() != y.size())
    fail("wls", "weights have length " + std::to_string(weights.size()) + " but y has length " +
                    std::to_string(y.size()));
  return fit<true>("wls", X_columns, y, weights.data(), clusters, add_intercept, names,
                   clusters ? Mode::cluster : Mode::classical);
}

OlsResult ols(const std::vector<std::vector<double>>& X_columns, const std::vector<double>& y,
              const std::vector<int>* clusters, bool add_intercept, const std::vector<std::string>& names) {
  return fit<false>("ols", X_columns, y, nullptr, clusters, add_intercept, names,
                    clusters ? Mode::cluster : Mode::classical);
}

OlsResult wls_robust(const std::vector<std::vector<double>>& X_columns, const std::vector<double>& y,
                     const std::vector<double>& weights, bool add_intercept, const std::vector<std::string>& names) {
  if (weights.size() != y.size())
    fail("wls_robust", "weights have length " + std::to_string(weights.size()) + " but y has length " +
                           std::to_string(y.size()));
  return fit<true>("wls_robust", X_columns, y, weights.data(), nullptr, add_intercept, names, Mode::hc1);
}

OlsResult ols_robust(const std::vector<std::vector<double>>& X_columns, const std::vector<double>& y,
                     bool add_intercept, const std::vector<std::string>& names) {
  return fit<false>("ols_robust", X_columns, y, nullptr, nullptr, add_intercept, names, Mode::hc1);
}

RdResult local_linear_rd(const std::vector<double>& running, const std::vector<double>& y, double cutoff,
                         double bandwidth, const std::vector<int>* clusters) {
  const char* fn = "local_linear_rd";
  if (running.size() != y.size())
    fail(fn, "running has length " + std::to_string(running.size()) + " but y has length " +
                 std::to_string(y.size()));
  if (clusters && clusters->size() != y.size())
    fail(fn, "cluster ids have length " + std::to_string(clusters->size()) + " but y has length " +
                 std::to_string(y.size()));
  if (!(bandwidth > 0.0) || !std::isfinite(bandwidth)) fail(fn, "bandwidth must be positive and finite");
  if (!std::isfinite(cutoff)) fail(fn, "cutoff must be finite");
  std::vector<std::vector<double>> X(3);  // D, x-c, D*(x-c)
  std::vector<double> yy, w;
  std::vector<int> cl;
  RdResult r;
  r.bandwidth = bandwidth;
  for (std::size_t i = 0; i < y.size(); ++i) {
    const double xc = running[i] - cutoff;
    if (std::isnan(xc)) fail(fn, "NaN in the running variable");
    const double kw = 1.0 - std::fabs(xc) / bandwidth;
    if (!(kw > 0.0)) continue;
    const double d = xc >= 0.0 ? 1.0 : 0.0;
    X[0].push_back(d);
    X[1].push_back(xc);
    X[2].push_back(d * xc);
    yy.push_back(y[i]);
    w.push_back(kw);
    if (clusters) cl.push_back((*clusters)[i]);
    (d > 0.0 ? r.n_right : r.n_left) += 1;
  }
  if (r.n_left < 2 || r.n_right < 2)
    fail(fn, "needs at least 2 observations within the bandwidth on each side of the cutoff (got " +
                 std::to_string(r.n_left) + " left, " + std::to_string(r.n_right) + " right)");
  static const std::vector<std::string> names = {"D", "x_minus_c", "D_x_minus_c"};
  const OlsResult fitres = fit<true>(fn, X, yy, w.data(), clusters ? &cl : nullptr, true, names,
                                     clusters ? Mode::cluster : Mode::hc1);
  r.estimate = fitres.beta[1];
  r.se = fitres.se[1];
  r.dof = fitres.dof;
  return r;
}

QteResult quantile_treatment_effects(const std::vector<double>& y_treated, const std::vector<double>& y_control,
                                     const std::vector<double>& qs) {
  QteResult r;
  r.qs = qs;
  const auto qt = quantiles(y_treated, qs);
  const auto qc = quantiles(y_control, qs);
  r.effects.resize(qs.size());
  for (std::size_t j = 0; j < qs.size(); ++j) r.effects[j] = qt[j] - qc[j];
  return r;
}

Interval percentile_interval(std::vector<double> draws, double level) {
  if (!(level > 0.0 && level < 1.0)) fail("percentile_interval", "level must be in (0, 1)");
  check_nonempty("percentile_interval", draws.size());
  Interval r;
  r.mean = mean(draws);
  const auto q = quantiles(std::move(draws), {0.5 * (1.0 - level), 0.5 * (1.0 + level)});
  r.low = q[0];
  r.high = q[1];
  return r;
}

Interval mean_interval(const std::vector<double>& draws, double level) {
  if (!(level > 0.0 && level < 1.0)) fail("mean_interval", "level must be in (0, 1)");
  check_nonempty("mean_interval", draws.size());
  Interval r;
  if (std::all_of(draws.begin(), draws.end(), [&](double x) { return x == draws[0]; })) {
    r.mean = r.low = r.high = draws[0];  // n = 1 or identical draws: zero width
    return r;
  }
  r.mean = mean(draws);
  const double sd = stddev(draws);
  const double n = static_cast<double>(draws.size());
  const double half = student_t_quantile(0.5 * (1.0 + level), n - 1.0) * sd / std::sqrt(n);
  r.low = r.mean - half;
  r.high = r.mean + half;
  return r;
}

}  // namespace chacra::stats
