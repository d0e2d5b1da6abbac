// Validation tier (ctest label "validation"): the default parameters reproduce the published 2017-cohort
// HW evaluation (IEP / UC Davis) in the built-in virtual evaluation, configs/evaluation_2017.yaml, on a fixed seed:
// for every calibration target the published value lies inside the model's 2.5-97.5% band over replicates and
// the model's mean is within 25% of it. About 1 minute on 2 cores (40 replicates of 60,000 households).
#include "study/evaluation.hpp"
#include "sim/scenario.hpp"

#include <gtest/gtest.h>

#include <oneapi/tbb/global_control.h>

namespace ev = chacra::study::evaluation;

TEST(EvaluationValidation, DefaultsReproduceThePublishedEffects) {
  const chacra::Scenario s =
      chacra::load_scenario_file(std::string(CHACRA_SOURCE_DIR) + "/configs/evaluation_2017.yaml", ev::registry());
  const auto results = ev::run_evaluation(s.base, static_cast<int>(s.base.integer("run.replicates")));
  const auto summary = ev::summarise(results);
  for (const auto& o : summary) {
    if (!o.spec.calibration_target) continue;
    SCOPED_TRACE(o.spec.name);
    EXPECT_TRUE(o.in_band()) << "published " << *o.spec.published << " outside [" << o.p2_5 << ", " << o.p97_5 << "]";
    EXPECT_TRUE(o.within_25pct()) << "model mean " << o.model_mean << " vs published " << *o.spec.published;
  }
  // Design checks: the imperfect assignment the study found.
  EXPECT_NEAR(summary[ev::outcome_index("hw_reach_itt")].model_mean, 0.72, 0.03);
  EXPECT_NEAR(summary[ev::outcome_index("hw_reach_control")].model_mean, 0.24, 0.03);
  // Qualitative facts: households above the median baseline locus of control earn more in both arms, and
  // the better-off do not take part more.
  EXPECT_GT(summary[ev::outcome_index("income_gap_locus_control")].model_mean, 0.0);
  EXPECT_GT(summary[ev::outcome_index("income_gap_locus_itt")].model_mean, 0.0);
  EXPECT_NEAR(summary[ev::outcome_index("reach_itt_by_capacity_top_minus_bottom")].model_mean, 0.0, 0.05);
}
