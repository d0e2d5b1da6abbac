// Slow tier (labels slow, validation): the built-in virtual evaluation at ten seeds, 40 replicates each, never
// aborts, and each published effect's model mean at one seed lies inside the 2.5-97.5% band of every other seed
// (the estimates agree across seeds within their intervals). About 5 minutes on 2 cores.
#include "study/evaluation.hpp"
#include "sim/scenario.hpp"

#include <gtest/gtest.h>

namespace ev = chacra::study::evaluation;

TEST(EvaluationTenSeeds, EstimatesAgreeAcrossSeeds) {
  std::vector<std::vector<ev::OutcomeSummary>> by_seed;
  for (int seed = 1; seed <= 10; ++seed) {
    const auto s = chacra::load_scenario_file(std::string(CHACRA_SOURCE_DIR) + "/configs/evaluation_2017.yaml",
                                              ev::registry(), {"run.seed=" + std::to_string(seed)});
    std::vector<ev::ReplicateResult> results;
    ASSERT_NO_THROW(results = ev::run_evaluation(s.base, static_cast<int>(s.base.integer("run.replicates"))))
        << "seed " << seed;
    by_seed.push_back(ev::summarise(results));
  }
  for (std::size_t o = 0; o < by_seed[0].size(); ++o) {
    if (!by_seed[0][o].spec.published) continue;
    for (std::size_t a = 0; a < by_seed.size(); ++a)
      for (std::size_t b = 0; b < by_seed.size(); ++b) {
        const auto& x = by_seed[a][o];
        const auto& y = by_seed[b][o];
        EXPECT_GE(x.model_mean, y.p2_5) << x.spec.name << ": seed " << a + 1 << " vs seed " << b + 1;
        EXPECT_LE(x.model_mean, y.p97_5) << x.spec.name << ": seed " << a + 1 << " vs seed " << b + 1;
      }
  }
}
