// Sensitivity estimators against functions with known indices: Ishigami, Sobol's G function and linear
// functions for Sobol indices (within their bootstrap intervals, whose coverage is checked too), and Morris
// effects that rank known parameters in order.
#include "study/sensitivity.hpp"

#include "sim/rng.hpp"

#include "tests/study/parameters.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <numbers>

namespace {

using namespace chacra::study;
using Function = std::function<double(std::span<const double>)>;

constexpr double kPi = std::numbers::pi;

std::vector<double> evaluate(const Design& d, const Function& f) {
  std::vector<double> y(d.size());
  for (std::size_t p = 0; p < d.size(); ++p) y[p] = f(d.point(p));
  return y;
}

// Ishigami and Homma (1990): f = sin x1 + a sin^2 x2 + b x3^4 sin x1 on [-pi, pi]^3.
constexpr double kIshigamiA = 7.0, kIshigamiB = 0.1;
double ishigami(std::span<const double> x) {
  return std::sin(x[0]) + kIshigamiA * std::pow(std::sin(x[1]), 2) + kIshigamiB * std::pow(x[2], 4) * std::sin(x[0]);
}
std::vector<Parameter> ishigami_parameters() {
  return {{"x1", -kPi, kPi, ParameterKind::real}, {"x2", -kPi, kPi, ParameterKind::real},
          {"x3", -kPi, kPi, ParameterKind::real}};
}
struct Analytic {
  std::vector<double> first, total;
};
// The Ishigami function's indices from its variance (ANOVA) decomposition:
// V1 = (1 + b pi^4/5)^2 / 2, V2 = a^2/8, V13 = b^2 pi^8 (1/18 - 1/50), V = V1 + V2 + V13.
Analytic ishigami_indices() {
  const double a = kIshigamiA, b = kIshigamiB, pi4 = std::pow(kPi, 4), pi8 = pi4 * pi4;
  const double v1 = 0.5 * std::pow(1.0 + b * pi4 / 5.0, 2), v2 = a * a / 8.0, v13 = b * b * pi8 * (1.0 / 18 - 1.0 / 50);
  const double v = v1 + v2 + v13;
  return {{v1 / v, v2 / v, 0.0}, {(v1 + v13) / v, v2 / v, v13 / v}};
}

// Sobol's G function on [0,1]^k: prod (|4 x_i - 2| + a_i) / (1 + a_i). V_i = 1 / (3 (1 + a_i)^2),
// V = prod (1 + V_i) - 1, S_i = V_i / V, S_Ti = V_i prod_{j != i} (1 + V_j) / V.
const std::vector<double> kGWeights = {0.0, 1.0, 4.5, 9.0, 99.0, 99.0};
double g_function(std::span<const double> x) {
  double g = 1.0;
  for (std::size_t i = 0; i < x.size(); ++i) g *= (std::abs(4.0 * x[i] - 2.0) + kGWeights[i]) / (1.0 + kGWeights[i]);
  return g;
}
Analytic g_indices() {
  std::vector<double> vi;
  double prod = 1.0;
  for (double a : kGWeights) {
    vi.push_back(1.0 / (3.0 * (1.0 + a) * (1.0 + a)));
    prod *= 1.0 + vi.back();
  }
  Analytic r;
  for (double v : vi) {
    r.first.push_back(v / (prod - 1.0));
    r.total.push_back(v * prod / (1.0 + v) / (prod - 1.0));
  }
  return r;
}
using test::unit_cube;

TEST(SobolIndices, IshigamiAnalyticValues) {
  // The values usually quoted for a = 7, b = 0.1.
  const Analytic truth = ishigami_indices();
  EXPECT_NEAR(truth.first[0], 0.3139, 5e-5);
  EXPECT_NEAR(truth.first[1], 0.4424, 5e-5);
  EXPECT_NEAR(truth.total[0], 0.5576, 5e-5);
  EXPECT_NEAR(truth.total[1], 0.4424, 5e-5);
  EXPECT_NEAR(truth.total[2], 0.2437, 5e-5);
}

TEST(SobolIndices, IshigamiWithinIntervalsAndTolerance) {
  // N = 4096 base rows, 20480 evaluations.
  const Design d = saltelli(ishigami_parameters(), 4096);
  const SobolResult r = sobol_indices(d, evaluate(d, ishigami), {1000, 0.95, 11});
  const Analytic truth = ishigami_indices();
  ASSERT_EQ(r.indices.size(), 3u);
  EXPECT_EQ(r.base_rows, 4096u);
  EXPECT_EQ(r.resamples_used, 1000u);
  const char* const names[] = {"x1", "x2", "x3"};
  for (std::size_t i = 0; i < 3; ++i) {
    const SobolIndex& s = r.indices[i];
    EXPECT_EQ(s.parameter, names[i]);
    EXPECT_TRUE(s.first_interval.contains(truth.first[i]))
        << s.parameter << " S1 " << s.first << " [" << s.first_interval.low << ", " << s.first_interval.high << "]";
    EXPECT_TRUE(s.total_interval.contains(truth.total[i]))
        << s.parameter << " ST " << s.total << " [" << s.total_interval.low << ", " << s.total_interval.high << "]";
    EXPECT_NEAR(s.first, truth.first[i], 0.02) << s.parameter;
    EXPECT_NEAR(s.total, truth.total[i], 0.02) << s.parameter;
    EXPECT_TRUE(s.first_interval.contains(s.first));
    EXPECT_LT(s.first_interval.high - s.first_interval.low, 0.1);
  }
  // V = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2 = 13.8446.
  EXPECT_NEAR(r.variance, 13.8446, 0.3);
  EXPECT_NEAR(r.mean, 3.5, 0.1);  // a/2
}

TEST(SobolIndices, IshigamiAcrossShiftedDesigns) {
  // Five randomly shifted designs at N = 1024: every index within 0.05 and within its interval.
  const Analytic truth = ishigami_indices();
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const Design d = saltelli(ishigami_parameters(), 1024, seed, SobolScramble::digital_shift);
    const SobolResult r = sobol_indices(d, evaluate(d, ishigami), {500, 0.95, seed});
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_NEAR(r.indices[i].first, truth.first[i], 0.05) << seed << " " << i;
      EXPECT_NEAR(r.indices[i].total, truth.total[i], 0.05) << seed << " " << i;
      EXPECT_TRUE(r.indices[i].first_interval.contains(truth.first[i])) << seed << " " << i;
      EXPECT_TRUE(r.indices[i].total_interval.contains(truth.total[i])) << seed << " " << i;
    }
  }
}

TEST(SobolIndices, GFunctionKnownIndices) {
  const Design d = saltelli(unit_cube(6), 8192);
  const SobolResult r = sobol_indices(d, evaluate(d, g_function), {1000, 0.95, 3});
  const Analytic truth = g_indices();
  // The a = (0, 1, 4.5, 9, 99, 99) case: S1 = 0.7163, 0.1791, 0.0237, 0.0072, 0.0001, 0.0001.
  EXPECT_NEAR(truth.first[0], 0.7163, 1e-4);
  EXPECT_NEAR(truth.first[1], 0.1791, 1e-4);
  EXPECT_NEAR(truth.first[2], 0.0237, 1e-4);
  for (std::size_t i = 0; i < 6; ++i) {
    EXPECT_TRUE(r.indices[i].first_interval.contains(truth.first[i]))
        << i << " S1 " << r.indices[i].first << " truth " << truth.first[i];
    EXPECT_TRUE(r.indices[i].total_interval.contains(truth.total[i]))
        << i << " ST " << r.indices[i].total << " truth " << truth.total[i];
    EXPECT_NEAR(r.indices[i].first, truth.first[i], 0.02) << i;
    EXPECT_NEAR(r.indices[i].total, truth.total[i], 0.02) << i;
  }
  // Interactions make the total exceed the first-order index for the important parameters.
  EXPECT_GT(r.indices[0].total - r.indices[0].first, 0.05);
}

TEST(SobolIndices, LinearAdditiveFunctionHasEqualFirstAndTotal) {
  // f = 1 x1 + 2 x2 + 3 x3 on [0,1]^3 plus a large constant: S_i = S_Ti = c_i^2 / sum c^2, no interactions.
  const std::vector<double> c = {1.0, 2.0, 3.0};
  const Design d = saltelli(unit_cube(3), 2048);
  const SobolResult r = sobol_indices(
      d, evaluate(d, [&](std::span<const double> x) { return 1000.0 + c[0] * x[0] + c[1] * x[1] + c[2] * x[2]; }),
      {200, 0.95, 1});
  double sum_first = 0.0;
  for (std::size_t i = 0; i < 3; ++i) {
    const double truth = c[i] * c[i] / 14.0;
    EXPECT_NEAR(r.indices[i].first, truth, 0.01) << i;
    EXPECT_NEAR(r.indices[i].total, truth, 0.01) << i;
    EXPECT_NEAR(r.indices[i].first, r.indices[i].total, 0.01) << i;
    sum_first += r.indices[i].first;
  }
  EXPECT_NEAR(sum_first, 1.0, 0.01);
}

TEST(SobolIndices, ParameterWithoutEffectGetsExactlyZero) {
  // f(A_B^(i)) = f(A) exactly when f ignores x_i: both estimators and their intervals are 0.
  const Design d = saltelli(unit_cube(3), 64);
  const SobolResult r = sobol_indices(
      d, evaluate(d, [](std::span<const double> x) { return std::exp(x[0]) * x[2]; }), {100, 0.9, 5});
  EXPECT_EQ(r.indices[1].first, 0.0);
  EXPECT_EQ(r.indices[1].total, 0.0);
  EXPECT_EQ(r.indices[1].first_interval.low, 0.0);
  EXPECT_EQ(r.indices[1].total_interval.high, 0.0);
  EXPECT_GT(r.indices[0].total, 0.1);
}

TEST(SobolIndices, BootstrapIntervalsCoverAtTheirLevel) {
  // Plain Monte Carlo A and B (independent rows, where the bootstrap's assumption holds exactly): over 40
  // replications the 95% intervals of the 6 Ishigami indices cover the truth about 95% of the time.
  const Analytic truth = ishigami_indices();
  const std::size_t n = 1000, reps = 40;
  std::size_t covered = 0, total = 0;
  for (std::size_t rep = 0; rep < reps; ++rep) {
    chacra::rng::Stream s(rep, 0, chacra::rng::domain_id("test.coverage"), 0, 0);
    std::vector<double> fa(n), fb(n);
    std::vector<std::vector<double>> fab(3, std::vector<double>(n));
    for (std::size_t j = 0; j < n; ++j) {
      std::array<double, 3> a{}, b{};
      for (double& v : a) v = -kPi + 2 * kPi * s.uniform();
      for (double& v : b) v = -kPi + 2 * kPi * s.uniform();
      fa[j] = ishigami(a);
      fb[j] = ishigami(b);
      for (std::size_t i = 0; i < 3; ++i) {
        std::array<double, 3> ab = a;
        ab[i] = b[i];
        fab[i][j] = ishigami(ab);
      }
    }
    const SobolResult r = sobol_indices(fa, fb, fab, {"x1", "x2", "x3"}, {400, 0.95, rep});
    for (std::size_t i = 0; i < 3; ++i) {
      covered += r.indices[i].first_interval.contains(truth.first[i]);
      covered += r.indices[i].total_interval.contains(truth.total[i]);
      total += 2;
    }
  }
  const double coverage = static_cast<double>(covered) / static_cast<double>(total);
  RecordProperty("coverage", std::to_string(coverage));
  EXPECT_GT(coverage, 0.88) << covered << " of " << total;
  EXPECT_LT(coverage, 0.995) << covered << " of " << total;  // intervals that always cover would be too wide
}

TEST(SobolIndices, SameSeedSameIntervals) {
  const Design d = saltelli(ishigami_parameters(), 256);
  const std::vector<double> y = evaluate(d, ishigami);
  const SobolResult a = sobol_indices(d, y, {300, 0.95, 1}), b = sobol_indices(d, y, {300, 0.95, 1}),
                    c = sobol_indices(d, y, {300, 0.95, 2});
  EXPECT_EQ(a.indices[0].first, c.indices[0].first);  // the estimate does not depend on the bootstrap
  EXPECT_EQ(a.indices[0].first_interval.low, b.indices[0].first_interval.low);
  EXPECT_EQ(a.indices[2].total_interval.high, b.indices[2].total_interval.high);
  EXPECT_NE(a.indices[0].first_interval.low, c.indices[0].first_interval.low);
  // A narrower level gives a narrower interval.
  const SobolResult narrow = sobol_indices(d, y, {300, 0.5, 1});
  EXPECT_GT(narrow.indices[0].first_interval.low, a.indices[0].first_interval.low);
  EXPECT_LT(narrow.indices[0].first_interval.high, a.indices[0].first_interval.high);
}

template <class F>
std::string invalid(F f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(SobolIndices, RejectsMismatchedOrDegenerateInput) {
  const Design d = saltelli(unit_cube(2), 8);
  std::vector<double> y = evaluate(d, [](std::span<const double> x) { return x[0] + x[1]; });
  EXPECT_NE(invalid([&] { sobol_indices(d, std::vector<double>(y.begin(), y.end() - 1)); })
                .find("31 outputs for a design of 32 points"),
            std::string::npos);
  std::vector<double> bad = y;
  bad[5] = std::nan("");
  EXPECT_NE(invalid([&] { sobol_indices(d, bad); }).find("output of point 5 is not finite"), std::string::npos);
  EXPECT_NE(invalid([&] { sobol_indices(d, std::vector<double>(y.size(), 2.0)); }).find("zero variance"),
            std::string::npos);
  EXPECT_NE(invalid([&] { sobol_indices(d, y, {1, 0.95, 0}); }).find("at least 2 bootstrap resamples"),
            std::string::npos);
  EXPECT_NE(invalid([&] { sobol_indices(d, y, {100, 1.0, 0}); }).find("level must be in (0, 1)"),
            std::string::npos);
  const Design lhs = latin_hypercube(unit_cube(2), 32, 1);
  EXPECT_NE(invalid([&] { sobol_indices(lhs, y); }).find("need a saltelli design"), std::string::npos);
  Design holed = d;
  holed.tags[3].role = PointRole::saltelli_a;  // row 0 loses its B point
  EXPECT_NE(invalid([&] { sobol_indices(holed, y); }).find("base row 0 has no point of B"), std::string::npos);
  EXPECT_NE(invalid([&] { sobol_indices({1.0, 2.0}, {1.0}, {{1.0, 2.0}}, {"x"}); }).find("2 outputs of A but 1 of B"),
            std::string::npos);
}

TEST(Morris, LinearFunctionEffectsAreExact) {
  // f = 10 a - 5 b + 0 c on ranges of width 1, 2 and 3: every elementary effect is c_i (max_i - min_i) per unit
  // step, so mu = c_i w_i, mu* = |mu| and sigma = 0.
  const std::vector<Parameter> ps = {{"a", 0.0, 1.0, ParameterKind::real},
                                     {"b", -1.0, 1.0, ParameterKind::real},
                                     {"c", 5.0, 8.0, ParameterKind::real}};
  const Design d = morris(ps, 12, 4, 9);
  const MorrisResult r =
      morris_effects(d, evaluate(d, [](std::span<const double> x) { return 10 * x[0] - 5 * x[1] + 0 * x[2]; }));
  ASSERT_EQ(r.effects.size(), 3u);
  EXPECT_EQ(r.trajectories, 12u);
  const double mu[] = {10.0, -10.0, 0.0};
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_NEAR(r.effects[i].mu, mu[i], 1e-9) << i;
    EXPECT_NEAR(r.effects[i].mu_star, std::abs(mu[i]), 1e-9) << i;
    EXPECT_NEAR(r.effects[i].sigma, 0.0, 1e-9) << i;
    EXPECT_NEAR(r.effects[i].mu_star_interval.low, std::abs(mu[i]), 1e-9) << i;
  }
}

TEST(Morris, RanksTheGFunctionsParameters) {
  // The smaller a_i, the more important x_i: mu* must order x1 > x2 > x3 > x4 > x5, x6.
  for (std::size_t candidates : {std::size_t{0}, std::size_t{200}}) {
    const Design d = morris(unit_cube(6), 40, 4, 17, candidates);
    const MorrisResult r = morris_effects(d, evaluate(d, g_function), {500, 0.95, 1});
    for (std::size_t i = 0; i + 1 < 4; ++i)
      EXPECT_GT(r.effects[i].mu_star, r.effects[i + 1].mu_star) << i << " candidates " << candidates;
    EXPECT_GT(r.effects[3].mu_star, r.effects[4].mu_star);
    EXPECT_GT(r.effects[3].mu_star, r.effects[5].mu_star);
    // |4x - 2| is symmetric: effects of x1 take both signs, so mu is far below mu* and sigma is large.
    EXPECT_LT(std::abs(r.effects[0].mu), 0.5 * r.effects[0].mu_star);
    EXPECT_GT(r.effects[0].sigma, 0.5 * r.effects[0].mu_star);
    for (const MorrisEffect& e : r.effects) {
      EXPECT_TRUE(e.mu_star_interval.contains(e.mu_star)) << e.parameter;
      EXPECT_GE(e.mu_star, std::abs(e.mu));
    }
  }
}

TEST(Morris, InteractionsShowInSigma) {
  // x1 x2 has non-constant effects (sigma > 0); x3 enters additively (sigma = 0).
  const Design d = morris(unit_cube(3), 20, 4, 5);
  const MorrisResult r = morris_effects(d, evaluate(d, [](std::span<const double> x) { return x[0] * x[1] + x[2]; }));
  EXPECT_GT(r.effects[0].sigma, 0.1);
  EXPECT_GT(r.effects[1].sigma, 0.1);
  EXPECT_NEAR(r.effects[2].sigma, 0.0, 1e-12);
  EXPECT_NEAR(r.effects[2].mu, 1.0, 1e-12);
}

TEST(Morris, ElementaryEffectsMatchTheDesign) {
  const Design d = morris(unit_cube(2), 3, 4, 1);
  const std::vector<double> y = evaluate(d, [](std::span<const double> x) { return x[0] * x[0] + 3 * x[1]; });
  const std::vector<std::vector<double>> ee = elementary_effects(d, y);
  ASSERT_EQ(ee.size(), 2u);
  ASSERT_EQ(ee[0].size(), 3u);
  for (std::size_t t = 0; t < 3; ++t)
    for (std::size_t s = 1; s <= 2; ++s) {
      const std::size_t p = t * 3 + s, i = d.tags[p].parameter;
      EXPECT_DOUBLE_EQ(ee[i][t], (y[p] - y[p - 1]) / (d.unit_point(p)[i] - d.unit_point(p - 1)[i]));
    }
  EXPECT_NE(invalid([&] { elementary_effects(saltelli(unit_cube(2), 4), std::vector<double>(16, 0.0)); })
                .find("need a morris design"),
            std::string::npos);
  Design broken = d;
  broken.tags[2].parameter = broken.tags[1].parameter;  // one parameter moved twice in trajectory 0
  EXPECT_NE(invalid([&] { elementary_effects(broken, y); }).find("step 2 of trajectory 0"), std::string::npos);
  Design short_design = d;
  short_design.tags.pop_back();
  short_design.unit.resize(short_design.unit.size() - 2);
  short_design.values.resize(short_design.values.size() - 2);
  EXPECT_NE(invalid([&] { elementary_effects(short_design, std::vector<double>(8, 0.0)); }).find("incomplete"),
            std::string::npos);
}

}  // namespace
