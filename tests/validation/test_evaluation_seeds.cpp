// The virtual evaluation runs at any seed: a population whose sampling frame cannot hold the design's centres is
// drawn again instead of aborting (fast: ten seeds, one replicate each, a population small enough that frames
// fall short and are redrawn).
#include "study/evaluation.hpp"
#include "sim/scenario.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace ev = chacra::study::evaluation;

namespace {

chacra::Scenario evaluation_scenario(std::vector<std::string> sets) {
  return chacra::load_scenario_file(std::string(CHACRA_SOURCE_DIR) + "/configs/evaluation_2017.yaml", ev::registry(),
                                    sets);
}

}  // namespace

TEST(EvaluationSeeds, TenSeedsRunWithoutAbortingAndRedrawShortFrames) {
  std::uint32_t redraws = 0;
  for (int seed = 1; seed <= 10; ++seed) {
    // 40,000 households hold about two thirds of the centres of the built-in 60,000: many first draws fall short.
    const auto s = evaluation_scenario({"population.households=40000", "run.seed=" + std::to_string(seed),
                                        "population.seed=" + std::to_string(100 + seed)});
    ev::ReplicateResult r;
    ASSERT_NO_THROW(r = ev::run_replicate(s.base, 0)) << "seed " << seed;
    EXPECT_GE(r.frame_itt_centres, 26u);
    EXPECT_GE(r.frame_control_centres, 23u);
    EXPECT_TRUE(std::isfinite(r.effects[ev::outcome_index("income")].estimate));
    EXPECT_TRUE(r.effects[ev::outcome_index("income_q50")].has_ci()) << "quantile effects carry an interval";
    redraws += r.frame_draws - 1;
  }
  EXPECT_GT(redraws, 0u) << "the test's population is meant to need redraws";
}

TEST(EvaluationSeeds, AFrameThatCanNeverHoldTheDesignIsAClearError) {
  const auto s = evaluation_scenario({"population.households=3000", "evaluation.max_frame_draws=2"});
  try {
    ev::run_replicate(s.base, 0);
    FAIL() << "expected a SampleError";
  } catch (const ev::SampleError& e) {
    EXPECT_NE(std::string(e.what()).find("2 draws of the population"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("population.households"), std::string::npos) << e.what();
  }
}
