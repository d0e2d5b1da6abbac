// Statistics library tests: known answers (numpy/R type-7 quantiles, Gini, textbook regression, Student t
// quantiles from mpmath) and Monte Carlo checks of cluster-robust inference and RD.
#include "study/stats.hpp"

#include "sim/rng.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

namespace st = chacra::stats;
using chacra::rng::domain_id;
using chacra::rng::Stream;

namespace {

// Checks that fn throws std::invalid_argument whose message contains needle.
template <class Fn>
void expect_invalid(Fn&& fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "expected std::invalid_argument containing '" << needle << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Quantiles

TEST(StatsQuantile, Type7MatchesNumpy) {
  // numpy.quantile([1,2,3,4], q) with the default (linear) method.
  const std::vector<double> v = {4, 1, 3, 2};
  EXPECT_DOUBLE_EQ(st::quantile(v, 0.25), 1.75);
  EXPECT_DOUBLE_EQ(st::quantile(v, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(st::quantile(v, 0.9), 3.7);
  EXPECT_DOUBLE_EQ(st::quantile(v, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(st::quantile(v, 1.0), 4.0);
  // h = 4 * 0.33 = 1.32 -> 20 + 0.32 * 10.
  EXPECT_NEAR(st::quantile({50, 10, 40, 20, 30}, 0.33), 23.2, 1e-12);
  EXPECT_DOUBLE_EQ(st::quantile({7.5}, 0.3), 7.5);
  EXPECT_DOUBLE_EQ(st::quantile({3, 3, 1, 1}, 0.5), 2.0);
}

TEST(StatsQuantile, VectorVersionSortsOnceAndAgrees) {
  const std::vector<double> v = {9, 2, 7, 4, 5, 1, 8, 3, 6, 10};
  const std::vector<double> qs = {0.9, 0.1, 0.5, 0.0, 1.0, 0.25, 0.333};
  const auto out = st::quantiles(v, qs);
  ASSERT_EQ(out.size(), qs.size());
  for (std::size_t j = 0; j < qs.size(); ++j) EXPECT_DOUBLE_EQ(out[j], st::quantile(v, qs[j])) << qs[j];
  EXPECT_DOUBLE_EQ(out[0], 9.1);  // h = 9 * 0.9 = 8.1
  EXPECT_DOUBLE_EQ(out[5], 3.25);
}

TEST(StatsQuantile, InvalidInputThrows) {
  expect_invalid([] { st::quantile({}, 0.5); }, "empty");
  expect_invalid([] { st::quantile({1, 2}, 1.5); }, "outside [0, 1]");
  expect_invalid([] { st::quantile({1, 2}, -0.1); }, "outside [0, 1]");
  expect_invalid([] { st::quantile({1, std::nan("")}, 0.5); }, "NaN");
  expect_invalid([] { st::quantiles({1, 2}, {0.5, 2.0}); }, "outside [0, 1]");
}

TEST(StatsQuantile, WeightedEqualWeightsIsType7) {
  const std::vector<double> v = {9, 2, 7, 4, 5, 1, 8, 3, 6, 10};
  const std::vector<double> w(v.size(), 3.7);
  for (double q : {0.0, 0.05, 0.1, 0.25, 0.5, 0.77, 0.9, 1.0})
    EXPECT_NEAR(st::weighted_quantile(v, w, q), st::quantile(v, q), 1e-12) << q;
}

TEST(StatsQuantile, WeightedHandComputed) {
  // Positions (c_k - c_1)/(c_n - c_1) with centres c = cum - w/2.
  // weights {1,2,1}: c = {0.5, 2, 3.5} -> p = {0, 0.5, 1}.
  EXPECT_DOUBLE_EQ(st::weighted_quantile({1, 2, 3}, {1, 2, 1}, 0.5), 2.0);
  EXPECT_DOUBLE_EQ(st::weighted_quantile({1, 2, 3}, {1, 2, 1}, 0.25), 1.5);
  // weights {1,1,2}: c = {0.5, 1.5, 3} -> p = {0, 0.4, 1}; q = 0.5 -> 2 + (0.1/0.6).
  EXPECT_NEAR(st::weighted_quantile({3, 1, 2}, {2, 1, 1}, 0.5), 2.0 + 1.0 / 6.0, 1e-12);
  // Scale invariance and zero weights dropped.
  EXPECT_NEAR(st::weighted_quantile({3, 1, 2, 100}, {20, 10, 10, 0}, 0.5), 2.0 + 1.0 / 6.0, 1e-12);
  const auto qs = st::weighted_quantiles({3, 1, 2}, {2, 1, 1}, {0.0, 0.4, 1.0});
  EXPECT_DOUBLE_EQ(qs[0], 1.0);
  EXPECT_NEAR(qs[1], 2.0, 1e-12);
  EXPECT_DOUBLE_EQ(qs[2], 3.0);
  EXPECT_DOUBLE_EQ(st::weighted_quantile({5, 6}, {0, 1}, 0.3), 6.0);  // one positive weight
  expect_invalid([] { st::weighted_quantile({1, 2}, {1, -1}, 0.5); }, "non-negative");
  expect_invalid([] { st::weighted_quantile({1, 2}, {0, 0}, 0.5); }, "sum to zero");
  expect_invalid([] { st::weighted_quantile({1, 2}, {1}, 0.5); }, "length");
}

// ---------------------------------------------------------------------------------------------------------
// Moments

TEST(StatsMoments, MeanVarianceKnownValues) {
  const std::vector<double> v = {2, 4, 4, 4, 5, 5, 7, 9};
  EXPECT_DOUBLE_EQ(st::mean(v), 5.0);
  EXPECT_NEAR(st::variance(v), 32.0 / 7.0, 1e-12);
  EXPECT_NEAR(st::stddev(v), std::sqrt(32.0 / 7.0), 1e-12);
  // Large offset: the two-pass variance keeps full precision.
  std::vector<double> big;
  for (double x : v) big.push_back(1e9 + x);
  EXPECT_NEAR(st::variance(big), 32.0 / 7.0, 1e-6);
  EXPECT_DOUBLE_EQ(st::weighted_mean({1, 2, 3}, {1, 1, 2}), 2.25);
  expect_invalid([] { st::mean({}); }, "empty");
  expect_invalid([] { st::variance({1.0}); }, "at least 2");
}

TEST(StatsMoments, CorrelationKnownValues) {
  // numpy.corrcoef([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])[0, 1] = 0.8
  EXPECT_NEAR(st::correlation({1, 2, 3, 4, 5}, {2, 1, 4, 3, 5}), 0.8, 1e-12);
  EXPECT_NEAR(st::correlation({1, 2, 3}, {6, 4, 2}), -1.0, 1e-12);
  // Invariant to shifts and positive scaling, also at a large offset.
  EXPECT_NEAR(st::correlation({1e9 + 1, 1e9 + 2, 1e9 + 3, 1e9 + 4, 1e9 + 5}, {20, 10, 40, 30, 50}), 0.8, 1e-9);
  EXPECT_TRUE(std::isnan(st::correlation({1, 2, 3}, {5, 5, 5})));
  expect_invalid([] { st::correlation({1, 2}, {1, 2, 3}); }, "differ in length");
  expect_invalid([] { st::correlation({1}, {1}); }, "at least 2");
}

// ---------------------------------------------------------------------------------------------------------
// Gini

TEST(StatsGini, KnownValues) {
  EXPECT_NEAR(st::gini({1, 2, 3, 4, 5}), 40.0 / 150.0, 1e-12);  // sum|xi-xj| = 40, 2 n^2 mean = 150
  EXPECT_NEAR(st::gini({5, 5, 5, 5}), 0.0, 1e-15);
  EXPECT_NEAR(st::gini({0, 0, 0, 10}), 0.75, 1e-15);  // (n-1)/n
  EXPECT_NEAR(st::gini({0, 0, 0, 0, 0, 0, 0, 0, 0, 3}), 0.9, 1e-15);
  EXPECT_NEAR(st::gini({3, 1}), 0.25, 1e-15);  // |3-1|*2 / (2*4*2)
  EXPECT_NEAR(st::gini({7}), 0.0, 1e-15);
}

TEST(StatsGini, NegativeValuesUsedAsGiven) {
  // {-1, 0, 3}: sum_ij |xi-xj| = 2*(1+4+3) = 16, mean 2/3 -> 16 / (2*9*2/3) = 4/3 (> 1 is allowed).
  EXPECT_NEAR(st::gini({3, -1, 0}), 4.0 / 3.0, 1e-12);
  expect_invalid([] { st::gini({-1, 1}); }, "positive total");
  expect_invalid([] { st::gini({}); }, "empty");
}

TEST(StatsGini, WeightedEqualsReplicated) {
  const std::vector<double> x = {3.5, 0.0, 12.0, 7.25, 1.0};
  const std::vector<double> w = {2, 1, 3, 0, 4};
  std::vector<double> rep;
  for (std::size_t i = 0; i < x.size(); ++i)
    for (int c = 0; c < static_cast<int>(w[i]); ++c) rep.push_back(x[i]);
  EXPECT_NEAR(st::weighted_gini(x, w), st::gini(rep), 1e-12);
  // Scale invariance in the weights and equal weights reduce to gini().
  std::vector<double> w2;
  for (double v : w) w2.push_back(0.37 * v);
  EXPECT_NEAR(st::weighted_gini(x, w2), st::gini(rep), 1e-12);
  EXPECT_NEAR(st::weighted_gini(x, std::vector<double>(x.size(), 2.0)), st::gini(x), 1e-12);
}

// ---------------------------------------------------------------------------------------------------------
// Student t (reference values from mpmath, 30 digits)

TEST(StatsTDist, CriticalValues) {
  EXPECT_NEAR(st::t_critical_95(1), 12.7062047361747039, 1e-9);
  EXPECT_NEAR(st::t_critical_95(2), 4.30265272974946179, 1e-10);
  EXPECT_NEAR(st::t_critical_95(3), 3.18244630528370844, 1e-10);
  EXPECT_NEAR(st::t_critical_95(5), 2.57058183563631478, 1e-10);
  EXPECT_NEAR(st::t_critical_95(10), 2.22813885198627422, 1e-10);
  EXPECT_NEAR(st::t_critical_95(22), 2.07387306790402573, 1e-10);
  EXPECT_NEAR(st::t_critical_95(30), 2.04227245630123789, 1e-10);
  EXPECT_NEAR(st::t_critical_95(49), 2.00957523712923927, 1e-10);
  EXPECT_NEAR(st::t_critical_95(100), 1.98397151852355189, 1e-10);
  EXPECT_NEAR(st::t_critical_95(1000), 1.9623390808264081, 1e-10);
  // Either side of the switch to the Cornish-Fisher expansion at 1e5.
  EXPECT_NEAR(st::t_critical_95(99999), 1.9599877077718444, 1e-11);
  EXPECT_NEAR(st::t_critical_95(100001), 1.95998770729737886, 1e-11);
  EXPECT_NEAR(st::t_critical_95(1e6), 1.95996635681410666, 1e-11);
  EXPECT_NEAR(st::t_critical_95(INFINITY), 1.95996398454005424, 1e-12);
  EXPECT_NEAR(st::t_critical_95(1e12), 1.96, 1e-3);
  expect_invalid([] { st::t_critical_95(0); }, "positive");
}

TEST(StatsTDist, QuantileAndCdf) {
  EXPECT_NEAR(st::student_t_quantile(0.995, 7), 3.49948329735049326, 1e-10);
  EXPECT_NEAR(st::student_t_quantile(0.9, 3.5), 1.57657660513640527, 1e-10);  // fractional dof
  EXPECT_NEAR(st::student_t_quantile(0.999, 0.7), 3637.01463010573324, 1e-6);
  EXPECT_NEAR(st::student_t_quantile(0.1, 3.5), -1.57657660513640527, 1e-10);
  EXPECT_EQ(st::student_t_quantile(0.5, 4), 0.0);
  EXPECT_NEAR(st::student_t_cdf(1.3, 4), 0.868274201764387924, 1e-12);
  EXPECT_NEAR(st::student_t_cdf(2.5, 2.5), 0.947715018460922306, 1e-12);
  EXPECT_NEAR(st::student_t_cdf(-1.3, 4), 1.0 - 0.868274201764387924, 1e-12);
  EXPECT_NEAR(st::student_t_cdf(st::t_critical_95(22), 22), 0.975, 1e-13);
  EXPECT_NEAR(st::student_t_cdf(1.959963984540054, INFINITY), 0.975, 1e-13);
  // Large dof on both sides of the 1e5 switch (the tail differs from the normal's by ~1.4e-3 / dof).
  EXPECT_NEAR(st::student_t_cdf(2.1, 1000), 0.98201056284460901853, 1e-13);
  EXPECT_NEAR(st::student_t_cdf(1.3, 99999), 0.903198017213428018, 1e-13);
  EXPECT_NEAR(st::student_t_cdf(1.959963984540054, 1e5), 0.97499861351910687587, 1e-13);
  EXPECT_NEAR(st::student_t_cdf(1.959963984540054, 1e7), 0.97499998613524368943, 1e-13);
  EXPECT_NEAR(st::student_t_cdf(1.959963984540054, 1e10), 0.97499999998613523047, 1e-13);
  EXPECT_NEAR(st::student_t_cdf(-4.0, 3e6), 3.167200021085101e-05, 1e-15);
}

// ---------------------------------------------------------------------------------------------------------
// OLS / WLS

TEST(StatsOls, ExactLinearDataRecoversCoefficients) {
  Stream s(11, 0, domain_id("test.stats.ols_exact"), 0, 0);
  const std::size_t n = 500;
  std::vector<std::vector<double>> X(3, std::vector<double>(n));
  std::vector<double> y(n);
  std::vector<int> cl(n);
  for (std::size_t i = 0; i < n; ++i) {
    X[0][i] = 1e4 + 100.0 * s.normal();  // large offset: exercises the centring
    X[1][i] = s.uniform();
    X[2][i] = s.normal() * 0.01;
    y[i] = 1.5 - 2.0 * X[0][i] + 0.25 * X[1][i] + 3.0 * X[2][i];
    cl[i] = static_cast<int>(i % 17) * 1000;  // sparse ids
  }
  for (const std::vector<int>* c : {static_cast<const std::vector<int>*>(nullptr), static_cast<const std::vector<int>*>(&cl)}) {
    const auto r = st::ols(X, y, c, true, {"income", "u", "small"});
    ASSERT_EQ(r.beta.size(), 4u);
    EXPECT_EQ(r.names, (std::vector<std::string>{"intercept", "income", "u", "small"}));
    EXPECT_NEAR(r.beta[0], 1.5, 1e-10 * 2e4);  // intercept is 2e4 times the slope's scale away
    EXPECT_NEAR(r.beta[1], -2.0, 1e-10);
    EXPECT_NEAR(r.beta[2], 0.25, 1e-10);
    EXPECT_NEAR(r.beta[3], 3.0, 1e-10);
    EXPECT_NEAR(r.coef("u"), 0.25, 1e-10);
    EXPECT_NEAR(r.r2, 1.0, 1e-12);
    EXPECT_EQ(r.n, n);
    EXPECT_EQ(r.clusters, c ? 17u : 0u);
    for (double se : r.se) EXPECT_LT(se, 1e-8);
  }
  // Without intercept: the intercept is supplied as a column of ones.
  std::vector<std::vector<double>> X1 = X;
  X1.insert(X1.begin(), std::vector<double>(n, 1.0));
  const auto r = st::ols(X1, y, nullptr, false);
  EXPECT_EQ(r.names[0], "x0");
  EXPECT_NEAR(r.beta[0], 1.5, 1e-6);
  EXPECT_NEAR(r.beta[1], -2.0, 1e-9);
  EXPECT_NEAR(r.beta[2], 0.25, 1e-9);
  EXPECT_NEAR(r.beta[3], 3.0, 1e-9);
}

TEST(StatsOls, AnscombeMatchesClosedFormAndPublishedValues) {
  // Anscombe's quartet, set I: y = 3.0001 + 0.5001 x, se 1.1247 / 0.1179, R^2 0.6665.
  const std::vector<double> x = {10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5};
  const std::vector<double> y = {8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68};
  const double n = 11.0;
  double xb = 0, yb = 0;
  for (std::size_t i = 0; i < x.size(); ++i) xb += x[i] / n, yb += y[i] / n;
  double sxx = 0, sxy = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxx += (x[i] - xb) * (x[i] - xb);
    sxy += (x[i] - xb) * (y[i] - yb);
    syy += (y[i] - yb) * (y[i] - yb);
  }
  const double b = sxy / sxx, a = yb - b * xb;
  double ssr = 0;
  for (std::size_t i = 0; i < x.size(); ++i) ssr += (y[i] - a - b * x[i]) * (y[i] - a - b * x[i]);
  const double s2 = ssr / (n - 2.0);
  const double se_b = std::sqrt(s2 / sxx), se_a = std::sqrt(s2 * (1.0 / n + xb * xb / sxx));

  const auto r = st::ols({x}, y);
  EXPECT_EQ(r.vce, st::Vce::classical);
  EXPECT_DOUBLE_EQ(r.dof, 9.0);
  EXPECT_NEAR(r.beta[0], a, 1e-12);
  EXPECT_NEAR(r.beta[1], b, 1e-12);
  EXPECT_NEAR(r.se[0], se_a, 1e-12);
  EXPECT_NEAR(r.se[1], se_b, 1e-12);
  EXPECT_NEAR(r.r2, 1.0 - ssr / syy, 1e-12);
  EXPECT_NEAR(r.vcov[1], -xb * s2 / sxx, 1e-12);  // cov(a, b)
  EXPECT_NEAR(r.beta[0], 3.0001, 1e-4);
  EXPECT_NEAR(r.beta[1], 0.5001, 1e-4);
  EXPECT_NEAR(r.se[0], 1.1247, 1e-4);
  EXPECT_NEAR(r.se[1], 0.1179, 1e-4);
  EXPECT_NEAR(r.r2, 0.6665, 1e-4);
}

TEST(StatsOls, RobustAndClusteredMatchClosedFormSandwich) {
  // Simple regression: the slope's sandwich variance is factor * sum_g (sum_{i in g} (x_i - xbar) e_i)^2 / Sxx^2.
  Stream s(12, 0, domain_id("test.stats.sandwich"), 0, 0);
  const std::size_t n = 60;
  std::vector<double> x(n), y(n);
  std::vector<int> cl(n);
  for (std::size_t i = 0; i < n; ++i) {
    cl[i] = static_cast<int>(i / 7) - 3;  // 9 clusters, negative ids allowed
    x[i] = s.normal() + 0.3 * cl[i];
    y[i] = 1.0 + 0.5 * x[i] + (1.0 + std::fabs(x[i])) * s.normal();
  }
  const auto r = st::ols({x}, y);
  double xb = 0;
  for (double v : x) xb += v / static_cast<double>(n);
  double sxx = 0;
  for (double v : x) sxx += (v - xb) * (v - xb);
  std::vector<double> e(n), sg(9, 0.0);
  double hc = 0;
  for (std::size_t i = 0; i < n; ++i) {
    e[i] = y[i] - r.beta[0] - r.beta[1] * x[i];
    hc += (x[i] - xb) * (x[i] - xb) * e[i] * e[i];
    sg[static_cast<std::size_t>(cl[i] + 3)] += (x[i] - xb) * e[i];
  }
  double cr = 0;
  for (double v : sg) cr += v * v;
  const double nd = static_cast<double>(n), k = 2.0, G = 9.0;
  const double v_hc1 = nd / (nd - k) * hc / (sxx * sxx);
  const double v_cr1 = G / (G - 1.0) * (nd - 1.0) / (nd - k) * cr / (sxx * sxx);

  const auto rh = st::ols_robust({x}, y);
  EXPECT_EQ(rh.vce, st::Vce::hc1);
  EXPECT_NEAR(rh.beta[1], r.beta[1], 1e-12);
  EXPECT_NEAR(rh.se[1], std::sqrt(v_hc1), 1e-12);
  const auto rc = st::ols({x}, y, &cl);
  EXPECT_EQ(rc.vce, st::Vce::cr1);
  EXPECT_EQ(rc.clusters, 9u);
  EXPECT_DOUBLE_EQ(rc.dof, 8.0);
  EXPECT_NEAR(rc.se[1], std::sqrt(v_cr1), 1e-12);
  // Each observation its own cluster: CR1 = HC1 (G/(G-1) * (n-1)/(n-k) = n/(n-k)).
  std::vector<int> own(n);
  for (std::size_t i = 0; i < n; ++i) own[i] = static_cast<int>(i);
  const auto ro = st::ols({x}, y, &own);
  for (std::size_t a = 0; a < 4; ++a) EXPECT_NEAR(ro.vcov[a], rh.vcov[a], 1e-13);
}

TEST(StatsOls, WlsEqualsOlsOnRescaledRows) {
  // WLS with weights w equals OLS without intercept on rows multiplied by sqrt(w) (intercept column sqrt(w)):
  // identical coefficients and identical classical, HC1 and CR1 covariances.
  Stream s(13, 0, domain_id("test.stats.wls"), 0, 0);
  const std::size_t n = 300;
  std::vector<std::vector<double>> X(2, std::vector<double>(n)), Xs(3, std::vector<double>(n));
  std::vector<double> y(n), ys(n), w(n);
  std::vector<int> cl(n);
  for (std::size_t i = 0; i < n; ++i) {
    X[0][i] = s.normal();
    X[1][i] = s.uniform() * 10.0;
    w[i] = i % 10 == 0 ? 0.0 : 0.2 + 3.0 * s.uniform();
    y[i] = 2.0 - X[0][i] + 0.3 * X[1][i] + s.normal() / std::sqrt(w[i] + 0.1);
    cl[i] = static_cast<int>(i % 12);
    const double r = std::sqrt(w[i]);
    Xs[0][i] = r;
    Xs[1][i] = r * X[0][i];
    Xs[2][i] = r * X[1][i];
    ys[i] = r * y[i];
  }
  // Zero-weight rows are dropped by wls (they count in neither n nor G), so the reference uses the other rows.
  std::vector<std::vector<double>> Xp(3);
  std::vector<double> yp;
  std::vector<int> clp;
  for (std::size_t i = 0; i < n; ++i)
    if (w[i] > 0) {
      for (std::size_t j = 0; j < 3; ++j) Xp[j].push_back(Xs[j][i]);
      yp.push_back(ys[i]);
      clp.push_back(cl[i]);
    }
  const auto a = st::wls(X, y, w);
  const auto b = st::ols(Xp, yp, nullptr, false);
  EXPECT_EQ(a.n, n - n / 10);
  for (std::size_t j = 0; j < 3; ++j) {
    EXPECT_NEAR(a.beta[j], b.beta[j], 1e-11);
    EXPECT_NEAR(a.se[j], b.se[j], 1e-11);
  }
  // Keeping the zero-weight rows changes the coefficients of the rescaled OLS not at all.
  const auto b_all = st::ols(Xs, ys, nullptr, false);
  for (std::size_t j = 0; j < 3; ++j) EXPECT_NEAR(a.beta[j], b_all.beta[j], 1e-11);
  const auto ah = st::wls_robust(X, y, w), bh = st::ols_robust(Xp, yp, false);
  const auto ac = st::wls(X, y, w, &cl), bc = st::ols(Xp, yp, &clp, false);
  for (std::size_t j = 0; j < 9; ++j) {
    EXPECT_NEAR(ah.vcov[j], bh.vcov[j], 1e-12);
    EXPECT_NEAR(ac.vcov[j], bc.vcov[j], 1e-12);
  }
  // Rescaling the weights changes nothing.
  std::vector<double> w3;
  for (double v : w) w3.push_back(1000.0 * v);
  const auto a3 = st::wls(X, y, w3, &cl);
  for (std::size_t j = 0; j < 3; ++j) {
    EXPECT_NEAR(a3.beta[j], ac.beta[j], 1e-11);
    EXPECT_NEAR(a3.se[j], ac.se[j], 1e-11);
  }
  EXPECT_NEAR(a3.r2, ac.r2, 1e-12);
}

TEST(StatsOls, SingularDesignNamesTheColumn) {
  const std::vector<double> a = {1, 2, 3, 4, 5, 6}, b = {0, 1, 0, 1, 1, 0}, y = {1, 3, 2, 5, 4, 6};
  std::vector<double> c(a.size()), ones(a.size(), 1.0), d0(a.size()), d1(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    c[i] = 2.0 * a[i] - 3.0 * b[i] + 1.0;
    d1[i] = b[i];
    d0[i] = 1.0 - b[i];
  }
  expect_invalid([&] { st::ols({a, b, c}, y, nullptr, true, {"age", "female", "combo"}); },
                 "column 2 ('combo') is (numerically) a linear combination");
  expect_invalid([&] { st::ols({a, std::vector<double>(a.size(), 4.0)}, y); }, "column 1 ('x1') is constant");
  expect_invalid([&] { st::ols({d0, d1}, y, nullptr, true, {"male", "female"}); }, "('female')");  // dummy trap
  expect_invalid([&] { st::ols({a, std::vector<double>(a.size(), 0.0)}, y, nullptr, false); },
                 "identically zero");
  expect_invalid([&] { st::ols({a, b, c}, {1, 2, 3, 4}); }, "length");
  expect_invalid([&] { st::ols({{1, 2}}, {1, 2}); }, "more observations");
  std::vector<int> one(a.size(), 3);
  expect_invalid([&] { st::ols({a}, y, &one); }, "at least 2 clusters");
  expect_invalid([&] { st::ols({a}, {1, 2, 3, 4, 5, NAN}); }, "non-finite value in y");
  // Without an intercept a constant column is fine.
  EXPECT_NO_THROW(st::ols({ones, a}, y, nullptr, false));
}

// Correctness at the size of a large evaluation sample; its speed is BM_OlsClustered (benchmarks/).
TEST(StatsOls, MillionRowsTenColumnsClustered) {
  const std::size_t n = 1'000'000, k = 10;
  std::vector<std::vector<double>> X(k, std::vector<double>(n));
  std::vector<double> y(n);
  std::vector<int> cl(n);
  Stream s(14, 0, domain_id("test.stats.perf"), 0, 0);
  for (std::size_t i = 0; i < n; ++i) {
    double yi = 1.0;
    for (std::size_t j = 0; j < k; ++j) {
      X[j][i] = s.uniform() + 0.1 * static_cast<double>(j);
      yi += static_cast<double>(j + 1) * X[j][i];
    }
    y[i] = yi + (s.uniform() - 0.5);
    cl[i] = static_cast<int>(i / 500);
  }
  const auto r = st::ols(X, y, &cl);
  EXPECT_EQ(r.clusters, 2000u);
  for (std::size_t j = 0; j < k; ++j) EXPECT_NEAR(r.beta[j + 1], static_cast<double>(j + 1), 6.0 * r.se[j + 1]);
}

// ---------------------------------------------------------------------------------------------------------
// Cluster-robust inference: Monte Carlo with treatment at cluster level and cluster random effects.

TEST(StatsClusterSe, AncovaItTMonteCarloCoverage) {
  constexpr int kSims = 400, kClusters = 50, kSize = 20;
  constexpr double kTau = 0.3;
  const std::size_t n = kClusters * kSize;
  std::vector<double> est, se_cl, se_classic;
  int cover_cl = 0, cover_classic = 0;
  for (int sim = 0; sim < kSims; ++sim) {
    Stream s(2024, 0, domain_id("test.stats.cluster_mc"), static_cast<std::uint64_t>(sim), 0);
    std::vector<std::vector<double>> X(3, std::vector<double>(n));  // treated, baseline_y, covariate
    std::vector<double> y(n);
    std::vector<int> centre(n);
    for (int g = 0; g < kClusters; ++g) {
      const double treated = g % 2 == 0 ? 1.0 : 0.0;
      const double u = s.normal(), v = s.normal();  // persistent and follow-up centre effects
      for (int j = 0; j < kSize; ++j) {
        const std::size_t i = static_cast<std::size_t>(g * kSize + j);
        const double baseline = u + s.normal();
        const double z = s.normal();
        X[0][i] = treated;
        X[1][i] = baseline;
        X[2][i] = z;
        y[i] = 0.5 + kTau * treated + 0.6 * baseline + 0.2 * z + v + s.normal();
        centre[i] = 100 + g;
      }
    }
    const std::vector<std::string> names = {"treated", "baseline_y", "z"};
    const auto rc = st::ols(X, y, &centre, true, names);
    const auto r0 = st::ols(X, y, nullptr, true, names);
    ASSERT_EQ(rc.clusters, static_cast<std::size_t>(kClusters));
    const double b = rc.coef("treated");
    est.push_back(b);
    se_cl.push_back(rc.se_of("treated"));
    se_classic.push_back(r0.se_of("treated"));
    if (std::fabs(b - kTau) <= st::t_critical_95(rc.dof) * rc.se_of("treated")) ++cover_cl;
    if (std::fabs(b - kTau) <= st::t_critical_95(r0.dof) * r0.se_of("treated")) ++cover_classic;
  }
  const double sd = st::stddev(est);
  const double mean_se_cl = st::mean(se_cl), mean_se_classic = st::mean(se_classic);
  const double cov_cl = cover_cl / static_cast<double>(kSims);
  const double cov_classic = cover_classic / static_cast<double>(kSims);
  std::printf("ITT MC: mean %.4f (truth %.2f), sd %.4f, mean SE clustered %.4f classical %.4f, coverage %.3f / %.3f\n",
              st::mean(est), kTau, sd, mean_se_cl, mean_se_classic, cov_cl, cov_classic);
  EXPECT_NEAR(st::mean(est), kTau, 4.0 * sd / std::sqrt(static_cast<double>(kSims)));  // unbiased
  EXPECT_GE(cov_cl, 0.90);
  EXPECT_LE(cov_cl, 0.985);
  EXPECT_GT(mean_se_cl, 0.8 * sd);  // clustered SE tracks the true sampling sd
  EXPECT_LT(mean_se_cl, 1.2 * sd);
  EXPECT_LT(mean_se_classic, 0.5 * sd);  // classical SE ignores the intra-centre correlation
  EXPECT_LT(cov_classic, 0.8);
}

// ---------------------------------------------------------------------------------------------------------
// Regression discontinuity

TEST(StatsRd, NoiseFreeJumpRecoveredExactly) {
  Stream s(15, 0, domain_id("test.stats.rd_exact"), 0, 0);
  std::vector<double> x(2000), y(2000);
  std::size_t left = 0, right = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    x[i] = 2.0 + 2.0 * s.uniform() - 1.0;  // cutoff 2
    const double d = x[i] >= 2.0 ? 1.0 : 0.0, xc = x[i] - 2.0;
    y[i] = 1.0 + 0.8 * xc + 2.5 * d + 0.3 * d * xc;
    if (std::fabs(xc) < 0.5) (d > 0 ? right : left) += 1;
  }
  const auto r = st::local_linear_rd(x, y, 2.0, 0.5);
  EXPECT_NEAR(r.estimate, 2.5, 1e-10);
  EXPECT_LT(r.se, 1e-8);
  EXPECT_EQ(r.n_left, left);
  EXPECT_EQ(r.n_right, right);
  EXPECT_DOUBLE_EQ(r.bandwidth, 0.5);
  EXPECT_DOUBLE_EQ(r.dof, static_cast<double>(left + right) - 4.0);
}

TEST(StatsRd, MatchesTriangularKernelWls) {
  Stream s(16, 0, domain_id("test.stats.rd_wls"), 0, 0);
  const std::size_t n = 3000;
  std::vector<double> x(n), y(n);
  std::vector<int> cl(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = s.uniform() * 100.0;  // cutoff 40, bandwidth 15
    y[i] = 0.02 * x[i] + (x[i] >= 40.0 ? 1.0 : 0.0) + s.normal();
    cl[i] = static_cast<int>(x[i]);  // clusters of width 1 in the running variable
  }
  std::vector<std::vector<double>> X(3);
  std::vector<double> yy, w;
  std::vector<int> cc;
  for (std::size_t i = 0; i < n; ++i) {
    const double xc = x[i] - 40.0;
    if (std::fabs(xc) >= 15.0) continue;
    const double d = xc >= 0 ? 1.0 : 0.0;
    X[0].push_back(d);
    X[1].push_back(xc);
    X[2].push_back(d * xc);
    yy.push_back(y[i]);
    w.push_back(1.0 - std::fabs(xc) / 15.0);
    cc.push_back(cl[i]);
  }
  const auto ref_hc1 = st::wls_robust(X, yy, w);
  const auto ref_cr1 = st::wls(X, yy, w, &cc);
  const auto r = st::local_linear_rd(x, y, 40.0, 15.0);
  const auto rc = st::local_linear_rd(x, y, 40.0, 15.0, &cl);
  EXPECT_NEAR(r.estimate, ref_hc1.beta[1], 1e-12);
  EXPECT_NEAR(r.se, ref_hc1.se[1], 1e-12);
  EXPECT_NEAR(rc.estimate, ref_cr1.beta[1], 1e-12);
  EXPECT_NEAR(rc.se, ref_cr1.se[1], 1e-12);
  EXPECT_DOUBLE_EQ(rc.dof, 29.0);  // 30 unit-width clusters in (25, 55)
}

TEST(StatsRd, NoisyNonlinearJumpWithinFourSe) {
  Stream s(17, 0, domain_id("test.stats.rd_noisy"), 0, 0);
  const std::size_t n = 20000;
  std::vector<double> x(n), y(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = 2.0 * s.uniform() - 1.0;
    y[i] = std::sin(2.0 * x[i]) + 0.5 * x[i] * x[i] + (x[i] >= 0 ? 1.2 : 0.0) + 0.3 * s.normal();
  }
  const auto r = st::local_linear_rd(x, y, 0.0, 0.3);
  EXPECT_GT(r.se, 0.0);
  EXPECT_LT(r.se, 0.05);
  EXPECT_NEAR(r.estimate, 1.2, 4.0 * r.se);
  expect_invalid([&] { st::local_linear_rd(x, y, 1.2, 0.3); }, "left, 0 right)");
  expect_invalid([&] { st::local_linear_rd(x, y, 0.0, -1.0); }, "bandwidth");
}

// ---------------------------------------------------------------------------------------------------------
// Quantile treatment effects

TEST(StatsQte, LocationShiftGivesConstantEffects) {
  Stream s(18, 0, domain_id("test.stats.qte"), 0, 0);
  std::vector<double> control(999), treated;
  for (double& v : control) v = s.lognormal(5.0, 0.8);
  for (double v : control) treated.push_back(v + 40.0);
  const std::vector<double> qs = {0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95};
  const auto r = st::quantile_treatment_effects(treated, control, qs);
  EXPECT_EQ(r.qs, qs);
  ASSERT_EQ(r.effects.size(), qs.size());
  for (double e : r.effects) EXPECT_NEAR(e, 40.0, 1e-9);
}

TEST(StatsQte, ScaleChangeGivesGrowingEffects) {
  Stream s(19, 0, domain_id("test.stats.qte_scale"), 0, 0);
  std::vector<double> control(1001), treated;
  for (double& v : control) v = s.lognormal(5.0, 0.8);
  for (double v : control) treated.push_back(1.5 * v);  // effect at q = 0.5 * q_control(q)
  const std::vector<double> qs = {0.1, 0.25, 0.5, 0.75, 0.9};
  const auto r = st::quantile_treatment_effects(treated, control, qs);
  for (std::size_t j = 0; j < qs.size(); ++j) {
    EXPECT_NEAR(r.effects[j], 0.5 * st::quantile(control, qs[j]), 1e-9);
    if (j > 0) {
      EXPECT_GT(r.effects[j], r.effects[j - 1]);
    }
  }
}

TEST(StatsQte, IndependentSamplesRecoverNormalQuantiles) {
  // treated ~ N(1, 2^2), control ~ N(0, 1): effect(q) = 1 + z_q, within sampling error for n = 200000.
  Stream s(20, 0, domain_id("test.stats.qte_normal"), 0, 0);
  std::vector<double> t(200000), c(150000);
  for (double& v : t) v = s.normal(1.0, 2.0);
  for (double& v : c) v = s.normal();
  const std::vector<double> qs = {0.1, 0.5, 0.9};
  const std::vector<double> z = {-1.2815515655446004, 0.0, 1.2815515655446004};
  const auto r = st::quantile_treatment_effects(t, c, qs);
  for (std::size_t j = 0; j < qs.size(); ++j) EXPECT_NEAR(r.effects[j], 1.0 + z[j], 0.03) << qs[j];
}

// ---------------------------------------------------------------------------------------------------------
// Intervals

TEST(StatsInterval, PercentileInterval) {
  std::vector<double> d;
  for (int i = 100; i >= 0; --i) d.push_back(i);  // 0..100
  const auto r = st::percentile_interval(d);
  EXPECT_DOUBLE_EQ(r.mean, 50.0);
  EXPECT_NEAR(r.low, 2.5, 1e-12);
  EXPECT_NEAR(r.high, 97.5, 1e-12);
  const auto r90 = st::percentile_interval(d, 0.9);
  EXPECT_NEAR(r90.low, 5.0, 1e-12);
  EXPECT_NEAR(r90.high, 95.0, 1e-12);
  expect_invalid([] { st::percentile_interval({}); }, "empty");
  expect_invalid([] { st::percentile_interval({1, 2}, 1.0); }, "level");
}

TEST(StatsInterval, MeanInterval) {
  const auto r = st::mean_interval({1, 2, 3, 4, 5});
  // mean 3, sd sqrt(2.5), t_{4, 0.975} = 2.7764451051977987.
  const double half = 2.7764451051977987 * std::sqrt(2.5) / std::sqrt(5.0);
  EXPECT_DOUBLE_EQ(r.mean, 3.0);
  EXPECT_NEAR(r.low, 3.0 - half, 1e-10);
  EXPECT_NEAR(r.high, 3.0 + half, 1e-10);
  const auto one = st::mean_interval({4.2});
  EXPECT_EQ(one.low, 4.2);
  EXPECT_EQ(one.high, 4.2);
  const auto same = st::mean_interval({0.1, 0.1, 0.1});
  EXPECT_EQ(same.mean, 0.1);
  EXPECT_EQ(same.low, 0.1);
  EXPECT_EQ(same.high, 0.1);
}
