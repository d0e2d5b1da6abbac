// `chacra population summary` (study/population_summary.hpp): the rankings' arithmetic on hand-made centres,
// the concentration the correlated geography produces (in the band docs/population.md states) against the
// independent generator, that ranking centres by Juntos share then reaches other centres, and the same
// numbers on any thread count.
#include "study/population_summary.hpp"

#include "study/registry.hpp"

#include <gtest/gtest.h>
#include <oneapi/tbb/global_control.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

namespace pop = chacra::study::population;
using chacra::ParamSet;

pop::CentreRow centre(std::uint32_t households, std::uint32_t juntos, double ubn, double market, bool eligible) {
  pop::CentreRow r;
  r.households = households;
  r.juntos_households = juntos;
  r.juntos_share = static_cast<double>(juntos) / households;
  r.ubn_share = ubn;
  r.market_access = market;
  r.eligible_2017 = eligible;
  return r;
}

const pop::Ranking& by(const std::vector<pop::Ranking>& rankings, const std::string& order) {
  for (const auto& r : rankings)
    if (r.order == order) return r;
  throw std::logic_error("no ranking " + order);
}

ParamSet params(const std::string& geography) {
  ParamSet p(chacra::study::registry());
  p.set("population.geography", geography);
  p.set("population.households", std::int64_t{40000});
  p.set("population.districts", std::int64_t{120});
  return p;
}

}  // namespace

// Four eligible centres of 100 households (Juntos 10, 50, 20, 40) and an ineligible one: a quarter of the
// eligible households is the first centre of each order.
TEST(PopulationSummary, RankingsTakeWholeCentresInOrderUntilTheQuota) {
  const std::vector<pop::CentreRow> rows = {centre(100, 10, 0.9, 0.8, true), centre(100, 50, 0.7, 0.2, true),
                                            centre(100, 20, 0.6, 0.6, true), centre(100, 40, 0.8, 0.4, true),
                                            centre(100, 90, 0.9, 0.1, false)};
  const auto rankings = pop::rank_eligible(rows, 0.25);
  const auto& juntos = by(rankings, "juntos_share");
  EXPECT_EQ(juntos.centres, 1u);
  EXPECT_EQ(juntos.juntos_households, 50u);
  EXPECT_DOUBLE_EQ(juntos.juntos_share, 0.5);
  EXPECT_DOUBLE_EQ(juntos.lift, 0.5 / 0.3);
  EXPECT_DOUBLE_EQ(juntos.juntos_coverage, 50.0 / 120.0);
  EXPECT_DOUBLE_EQ(juntos.market_access, 0.2);
  EXPECT_DOUBLE_EQ(juntos.eligible_market_access, 0.5);
  EXPECT_EQ(by(rankings, "ubn_share").juntos_households, 10u);
  EXPECT_EQ(by(rankings, "index").juntos_households, 10u);
  // Half the households: two centres, the quota reached exactly.
  const auto half = pop::rank_eligible(rows, 0.5);
  EXPECT_EQ(by(half, "juntos_share").juntos_households, 90u);
  EXPECT_EQ(by(half, "ubn_share").juntos_households, 50u);  // UBN 0.9 then 0.8
}

// The concentration band of docs/population.md: with the correlated geography the Juntos share varies more
// across the centres of Juntos districts and follows UBN and remoteness; the independent generator stays
// below the band and leaves remoteness unrelated.
TEST(PopulationSummary, CorrelatedGeographyConcentratesJuntosInTheBand) {
  const auto cor = pop::summarise("test", params("correlated"), 2);
  const auto ind = pop::summarise("test", params("independent"), 2);
  auto juntos_districts = [](const pop::Summary& s) {
    for (const auto& d : s.dispersion)
      if (d.variable == "juntos_share" && d.centres == "juntos_districts") return d;
    throw std::logic_error("no dispersion");
  };
  auto corr = [](const pop::Summary& s, const std::string& a, const std::string& b) {
    std::size_t i = 0, j = 0;
    for (std::size_t k = 0; k < pop::kCorrelationVariables.size(); ++k) {
      if (pop::kCorrelationVariables[k] == a) i = k;
      if (pop::kCorrelationVariables[k] == b) j = k;
    }
    return s.correlations[i][j];
  };
  const auto jc = juntos_districts(cor), ji = juntos_districts(ind);
  EXPECT_GE(jc.sd, 0.12);
  EXPECT_LE(jc.sd, 0.17);
  EXPECT_LT(ji.sd, 0.10);
  EXPECT_GE(jc.p90 - jc.p10, 0.3);
  EXPECT_LT(ji.p90 - ji.p10, 0.25);
  EXPECT_GE(corr(cor, "juntos_share", "ubn_share"), 0.5);
  EXPECT_LE(corr(cor, "juntos_share", "market_access"), -0.2);
  EXPECT_NEAR(corr(ind, "juntos_share", "market_access"), 0.0, 0.08);
  EXPECT_GE(corr(cor, "juntos_share", "district_poverty"), 0.65);
}

// Direction: ranking the eligible centres by Juntos share reaches more Juntos households than taking them
// unranked under both generators, more so with the correlated geography, and only there does it reach other
// places: the remoter centres (lower market access) where Juntos, UBN and poverty concentrate.
TEST(PopulationSummary, RankingByJuntosShareReachesRemoterCentresOnlyWithConcentration) {
  const auto cor = pop::summarise("test", params("correlated"), 4);
  const auto ind = pop::summarise("test", params("independent"), 4);
  const auto& jc = by(cor.rankings, "juntos_share");
  const auto& ji = by(ind.rankings, "juntos_share");
  EXPECT_GT(ji.lift, 1.1);
  EXPECT_GT(jc.lift, ji.lift + 0.05);
  EXPECT_LT(jc.market_access, jc.eligible_market_access - 0.045);
  EXPECT_NEAR(ji.market_access, ji.eligible_market_access, 0.035);
  EXPECT_GT(jc.juntos_share, ji.juntos_share + 0.02);
  // Unranked, neither reaches more Juntos households than the eligible centres hold on average.
  EXPECT_NEAR(by(cor.rankings, "index").lift, 1.0, 0.06);
  EXPECT_NEAR(by(ind.rankings, "index").lift, 1.0, 0.06);
}

// The first month's Juntos enrolment runs on worker threads; the summary is the same text on 1 and 3.
TEST(PopulationSummary, SameOnAnyThreadCount) {
  ParamSet p = params("correlated");
  p.set("population.households", std::int64_t{6000});
  p.set("population.districts", std::int64_t{12});
  p.set("population.block_households", std::int64_t{256});
  std::string one, three;
  {
    tbb::global_control c(tbb::global_control::max_allowed_parallelism, 1);
    one = pop::format_summary(pop::summarise("t", p, 2), "json");
  }
  {
    tbb::global_control c(tbb::global_control::max_allowed_parallelism, 3);
    three = pop::format_summary(pop::summarise("t", p, 2), "json");
  }
  EXPECT_EQ(one, three);
  EXPECT_NE(one.find("\"geography\": \"correlated\""), std::string::npos);
}
