// The virtual evaluation's estimators on synthetic data with known effects, and the study sampler.
#include "study/evaluation.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <set>

namespace ev = chacra::study::evaluation;
using chacra::rng::Stream;

namespace {

// Clustered data: G centres, n households each, a centre effect, baseline y0 and y1 = y0*0.5 + tau*itt + e.
struct Synthetic {
  std::vector<double> y, itt, y0, size;
  std::vector<int> clusters;
};

Synthetic make_data(int centres, int per_centre, double tau, std::uint64_t seed) {
  Synthetic d;
  Stream s(seed, 0, 1, 0, 0);
  for (int c = 0; c < centres; ++c) {
    const double treated = c % 2;
    const double centre_effect = s.normal(0, 300);
    for (int i = 0; i < per_centre; ++i) {
      const double base = 4000 + centre_effect + s.normal(0, 800);
      const double hh = 3 + static_cast<double>(s.below(5));
      d.y0.push_back(base);
      d.size.push_back(hh);
      d.itt.push_back(treated);
      d.y.push_back(1000 + 0.7 * base + 50 * hh + tau * treated + centre_effect * 0.5 + s.normal(0, 600));
      d.clusters.push_back(c);
    }
  }
  return d;
}

}  // namespace

TEST(EvaluationEstimator, AncovaRecoversKnownEffectWithClusteredCi) {
  int covered = 0;
  const int reps = 40;
  for (int r = 0; r < reps; ++r) {
    const auto d = make_data(50, 20, 1400, 100 + static_cast<std::uint64_t>(r));
    const ev::Effect e = ev::itt_ancova(d.y, d.itt, {d.y0, d.size}, d.clusters);
    ASSERT_TRUE(e.has_ci());
    EXPECT_DOUBLE_EQ(e.dof, 49.0);  // CR1: G - 1
    EXPECT_NEAR(e.estimate, 1400, 6 * e.se);
    covered += e.covers(1400) ? 1 : 0;
  }
  EXPECT_GE(covered, 33);  // nominal 95% of 40 = 38
}

TEST(EvaluationEstimator, AncovaDropsConstantCovariates) {
  const auto d = make_data(20, 10, 500, 7);
  const std::vector<double> zeros(d.y.size(), 0.0);
  const ev::Effect a = ev::itt_ancova(d.y, d.itt, {d.y0, zeros}, d.clusters);
  const ev::Effect b = ev::itt_ancova(d.y, d.itt, {d.y0}, d.clusters);
  EXPECT_DOUBLE_EQ(a.estimate, b.estimate);
  EXPECT_DOUBLE_EQ(a.se, b.se);
}

TEST(EvaluationEstimator, QuantileEffectsRecoverShifts) {
  // Treated = control shifted by +100 and scaled by 1.5: quantile q moves by 100 + 0.5 x_q.
  std::vector<double> y, itt;
  for (int i = 0; i < 1001; ++i) {
    const double x = 1000.0 + i;
    y.push_back(x);
    itt.push_back(0);
    y.push_back(100 + 1.5 * x);
    itt.push_back(1);
  }
  const std::vector<double> qs = {0.1, 0.25, 0.5, 0.75, 0.9};
  const auto q = ev::quantile_effects(y, itt, qs);
  for (std::size_t j = 0; j < qs.size(); ++j) {
    const double xq = 1000 + 1000 * qs[j];
    EXPECT_NEAR(q[j], 100 + 0.5 * xq, 1e-9) << qs[j];
  }
}

TEST(EvaluationEstimator, QuantileEffectsHaveClusterBootstrapIntervals) {
  // 30 centres an arm of 20 households; treated centres are shifted by +500 on top of centre effects of sd 300.
  Stream centre_noise(7, 0, 1, 0, 0);
  std::vector<double> y, itt;
  std::vector<int> clusters;
  for (int c = 0; c < 60; ++c) {
    const double centre = 300.0 * (centre_noise.uniform() - 0.5) * 3.46;
    for (int i = 0; i < 20; ++i) {
      y.push_back(2000.0 + centre + 40.0 * i + (c < 30 ? 500.0 : 0.0));
      itt.push_back(c < 30 ? 1 : 0);
      clusters.push_back(c);
    }
  }
  const std::vector<double> qs = {0.25, 0.5, 0.75};
  Stream a(11, 0, 2, 0, 0), b(11, 0, 2, 0, 0);
  const auto q = ev::quantile_effects_clustered(y, itt, clusters, qs, 199, a);
  const auto plain = ev::quantile_effects(y, itt, qs);
  for (std::size_t j = 0; j < qs.size(); ++j) {
    EXPECT_DOUBLE_EQ(q[j].estimate, plain[j]);
    ASSERT_TRUE(q[j].has_ci()) << qs[j];
    EXPECT_DOUBLE_EQ(q[j].dof, 58.0);
    // The centre effects dominate: the SE is of the order of 300 / sqrt(30) * sqrt(2), not of the household spread.
    EXPECT_GT(q[j].se, 30.0);
    EXPECT_LT(q[j].se, 250.0);
    EXPECT_TRUE(q[j].covers(500.0)) << qs[j] << ": " << q[j].low() << " - " << q[j].high();
  }
  EXPECT_DOUBLE_EQ(ev::quantile_effects_clustered(y, itt, clusters, qs, 199, b)[1].se, q[1].se);  // deterministic
  Stream c(11, 0, 2, 0, 0);
  EXPECT_FALSE(ev::quantile_effects_clustered(y, itt, clusters, qs, 0, c)[0].has_ci());
}

TEST(EvaluationEstimator, ClusterMeanHasClusteredSe) {
  const auto d = make_data(30, 10, 0, 3);
  const ev::Effect m = ev::cluster_mean(d.y, d.clusters);
  EXPECT_NEAR(m.estimate, std::accumulate(d.y.begin(), d.y.end(), 0.0) / static_cast<double>(d.y.size()), 1e-9);
  EXPECT_DOUBLE_EQ(m.dof, 29.0);
  EXPECT_GT(m.se, 0.0);
}

namespace {

ev::Frame make_frame(int itt_centres, int control_centres, int households_each) {
  ev::Frame f;
  std::uint32_t next = 0;
  for (int c = 0; c < itt_centres + control_centres; ++c) {
    ev::FrameCentre fc;
    fc.centre = static_cast<std::uint32_t>(c);
    fc.ubn_share = c < itt_centres ? 0.65 : 0.55;
    for (int i = 0; i < households_each + 4 * (c % 7); ++i) fc.households.push_back(next++);
    (c < itt_centres ? f.itt : f.control).push_back(fc);
  }
  return f;
}

}  // namespace

TEST(EvaluationSampler, DrawsTheStudyDesignExactly) {
  const ev::Design d;  // 26 / 661 and 23 / 338
  const ev::Frame f = make_frame(40, 35, 20);
  Stream s(1, 0, ev::kSampleDomain, 0, 0);
  const ev::Sample sample = ev::draw_sample(f, d, s);
  EXPECT_EQ(sample.itt_centres.size(), 26u);
  EXPECT_EQ(sample.control_centres.size(), 23u);
  const auto n_itt = std::count(sample.itt.begin(), sample.itt.end(), 1);
  EXPECT_EQ(n_itt, 661);
  EXPECT_EQ(static_cast<long>(sample.households.size()) - n_itt, 338);
  // No household twice; every household from a chosen centre of its own band.
  std::set<std::uint32_t> unique(sample.households.begin(), sample.households.end());
  EXPECT_EQ(unique.size(), sample.households.size());
  std::set<std::uint32_t> itt_c(sample.itt_centres.begin(), sample.itt_centres.end());
  std::set<std::uint32_t> ctl_c(sample.control_centres.begin(), sample.control_centres.end());
  for (std::size_t k = 0; k < sample.households.size(); ++k) {
    const std::uint32_t c = sample.centre[k];
    if (sample.itt[k]) {
      EXPECT_TRUE(itt_c.count(c));
      EXPECT_GE(f.itt[c].ubn_share, 0.6);
    } else {
      EXPECT_TRUE(ctl_c.count(c));
    }
    const auto& fc = sample.itt[k] ? f.itt[c] : f.control[c - f.itt.size()];
    EXPECT_TRUE(std::find(fc.households.begin(), fc.households.end(), sample.households[k]) != fc.households.end());
  }
  // Every chosen centre is visited (equal takes).
  std::set<std::uint32_t> visited(sample.centre.begin(), sample.centre.end());
  EXPECT_EQ(visited.size(), 49u);
}

TEST(EvaluationSampler, DeterministicForAStream) {
  const ev::Design d;
  const ev::Frame f = make_frame(30, 30, 30);
  Stream a(5, 0, ev::kSampleDomain, 0, 0), b(5, 0, ev::kSampleDomain, 0, 0);
  EXPECT_EQ(ev::draw_sample(f, d, a).households, ev::draw_sample(f, d, b).households);
}

TEST(EvaluationSampler, TooFewCentresOrHouseholdsIsAClearError) {
  const ev::Design d;
  Stream s(1, 0, ev::kSampleDomain, 0, 0);
  const ev::Frame few_centres = make_frame(20, 30, 40);
  try {
    ev::draw_sample(few_centres, d, s);
    FAIL() << "expected SampleError";
  } catch (const ev::SampleError& e) {
    EXPECT_NE(std::string(e.what()).find("20 ITT centres"), std::string::npos) << e.what();
  }
  const ev::Frame few_households = make_frame(26, 23, 5);  // 26 centres hold about 440 < 661
  EXPECT_THROW(ev::draw_sample(few_households, d, s), ev::SampleError);
}

TEST(EvaluationOutcomes, PublishedTargetsAreListed) {
  EXPECT_DOUBLE_EQ(*ev::outcomes()[ev::outcome_index("income")].published, 1400.0);
  EXPECT_DOUBLE_EQ(*ev::outcomes()[ev::outcome_index("organic_fertiliser_use")].published, 0.33);
  // The study's own definition: every effect is an ITT over all sampled households, pasture area included.
  EXPECT_DOUBLE_EQ(*ev::outcomes()[ev::outcome_index("pasture_ha")].published, 0.3);
  EXPECT_FALSE(ev::outcomes()[ev::outcome_index("pasture_ha_per_adopter")].published.has_value());
  // Published effects are validation targets, never fitted; control-group levels and coverage may be.
  EXPECT_FALSE(ev::outcomes()[ev::outcome_index("income")].calibration_target);
  EXPECT_FALSE(ev::outcomes()[ev::outcome_index("sprinkler_irrigation")].calibration_target);
  EXPECT_TRUE(ev::outcomes()[ev::outcome_index("control_mean_income")].calibration_target);
  EXPECT_THROW(ev::outcome_index("nope"), std::invalid_argument);
}
