// File: tests/models/test_haku_winay_business.cpp
// Haku Winay component 3: group formation (3-5 members), the CLAR competition (budget, ranking), and
// businesses in their local market (crowding lowers each one's profit; failures).
#include "models/haku_winay.hpp"
#include "models/hw_business.hpp"
#include "test_haku_winay_world.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <numeric>

namespace chacra {
namespace {

using hw_testing::CentreSpec;
using hw_testing::HouseholdSpec;
using hw_testing::HwRun;
using hw_testing::make_world;
namespace col = models::col;

TEST(HakuWinayGroups, PartitionGivesGroupsOfThreeToFiveAveragingTheTarget) {
  for (int n = 0; n < 3; ++n) EXPECT_TRUE(models::partition_group_sizes(n, 3.9).empty());
  for (int n = 3; n <= 400; ++n) {
    const auto sizes = models::partition_group_sizes(n, 3.9);
    ASSERT_FALSE(sizes.empty());
    EXPECT_EQ(std::accumulate(sizes.begin(), sizes.end(), 0), n);
    for (int s : sizes) {
      EXPECT_GE(s, 3) << n;
      EXPECT_LE(s, 5) << n;
    }
    if (n >= 40) {
      EXPECT_NEAR(static_cast<double>(n) / static_cast<double>(sizes.size()), 3.9, 0.25) << n;
    }
  }
}

TEST(HakuWinayClar, FundsTheBestPlansWithinTheBudget) {
  const std::vector<double> scores{3, 1, 2, 5};
  const std::vector<double> prizes(4, 10.0);
  EXPECT_EQ(models::clar_select(scores, prizes, 25, -1e9), (std::vector<std::uint8_t>{1, 0, 0, 1}));
  EXPECT_EQ(models::clar_select(scores, prizes, 30, -1e9), (std::vector<std::uint8_t>{1, 0, 1, 1}));
  EXPECT_EQ(models::clar_select(scores, prizes, 100, 2.5), (std::vector<std::uint8_t>{1, 0, 0, 1}));
  EXPECT_EQ(models::clar_select(scores, prizes, 5, -1e9), (std::vector<std::uint8_t>{0, 0, 0, 0}));
  // A plan that does not fit stops the funding: a cheaper, worse plan is not funded over it.
  EXPECT_EQ(models::clar_select(std::vector<double>{5, 4, 3}, std::vector<double>{10, 30, 5}, 20, -1e9),
            (std::vector<std::uint8_t>{1, 0, 0}));
}

TEST(HakuWinayClar, ABetterPlanNeverLosesToAWorseOneAndTheBudgetHolds) {
  std::uint64_t x = 88172645463325252ull;  // xorshift: reproducible random cases
  auto next = [&]() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return static_cast<double>(x % 1000000) / 1e6;
  };
  for (int trial = 0; trial < 500; ++trial) {
    const std::size_t n = 1 + static_cast<std::size_t>(next() * 30);
    std::vector<double> scores(n), prizes(n);
    double total = 0;
    for (std::size_t g = 0; g < n; ++g) {
      scores[g] = std::round(next() * 20) / 4;  // ties happen
      prizes[g] = 5000 + 15000 * next();
      total += prizes[g];
    }
    const double budget = total * next();
    const auto funded = models::clar_select(scores, prizes, budget, -1e9);
    double spent = 0;
    for (std::size_t g = 0; g < n; ++g) spent += funded[g] * prizes[g];
    EXPECT_LE(spent, budget + 1e-6);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j)
        if (funded[j] && !funded[i]) { EXPECT_LE(scores[i], scores[j]); }
  }
}

TEST(HakuWinayMarket, MoreBusinessesOfATypeInAMarketEachEarnLessAndFailMore) {
  EXPECT_DOUBLE_EQ(models::market_competition_factor(1, 0.3), 1.0);
  for (int n = 1; n < 20; ++n) {
    EXPECT_LT(models::market_competition_factor(n + 1, 0.3), models::market_competition_factor(n, 0.3));
    EXPECT_GT(models::monthly_failure_hazard(0.12, n + 1, 0.3, false, 0.5),
              models::monthly_failure_hazard(0.12, n, 0.3, false, 0.5));
    EXPECT_DOUBLE_EQ(models::market_competition_factor(n, 0.0), 1.0);
  }
  EXPECT_NEAR(1 - std::pow(1 - models::monthly_failure_hazard(0.12, 1, 0.3, false, 0.5), 12), 0.12, 1e-12);
  EXPECT_LT(models::monthly_failure_hazard(0.12, 3, 0.3, true, 0.5),
            models::monthly_failure_hazard(0.12, 3, 0.3, false, 0.5));
}

// Households of varied productive capacity in four centres of one district.
World competition_world() {
  return make_world({{}}, std::vector<CentreSpec>(4, CentreSpec{0, 100, 0.7f}), [](std::uint32_t c, std::uint32_t k) {
    HouseholdSpec s;
    s.productive_capacity = 0.3f + 0.05f * static_cast<float>((k * 37 + c * 11) % 41);
    return s;
  });
}

TEST(HakuWinayCompetition, GroupsAwardsAndBudgetsUnderZeroNoise) {
  World w = competition_world();
  HwRun run;
  run.set("haku_winay.plan_noise_sd", 0.0);
  run.setup(w);
  run.run(w, 29);
  const auto& h = w.households;
  const auto* prizes_before = h.get(col::cost_hw_prizes_pen);
  for (std::size_t i = 0; i < w.household_count(); ++i) EXPECT_EQ(prizes_before[i], 0.0f);
  run.step(w, 29);  // the CLAR (last month of year 2 of the July 2017 cohort)

  const auto& groups = run.hw->groups();
  const auto& members = run.hw->group_members();
  const auto& nuclei = run.hw->nuclei();
  ASSERT_FALSE(groups.empty());
  const auto* participant = h.get(col::hw_participant);
  const auto* group_col = h.get(col::hw_group);
  const auto* award = h.get(col::hw_award);
  const auto* btype = h.get(col::business_type);
  const auto* bstatus = h.get(col::business_status);
  const auto* capacity = h.get(col::productive_capacity);
  const auto* centre = h.get(col::centre);
  const auto* prizes = h.get(col::cost_hw_prizes_pen);

  double members_total = 0, awards = 0;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const auto& grp = groups[g];
    EXPECT_GE(grp.size, 3);
    EXPECT_LE(grp.size, 5);
    members_total += grp.size;
    double log_cap = 0;
    const auto& nu = nuclei[grp.nucleus];
    for (int j = 0; j < grp.size; ++j) {
      const std::uint32_t i = members[grp.first_member + static_cast<std::uint32_t>(j)];
      EXPECT_EQ(participant[i], 1);
      EXPECT_EQ(group_col[i], static_cast<std::int32_t>(g));
      EXPECT_TRUE(std::find(nu.centres.begin(), nu.centres.end(), centre[i]) != nu.centres.end());
      EXPECT_EQ(award[i], grp.awarded ? 1 : 0);
      EXPECT_EQ(bstatus[i], grp.awarded ? 1 : 0);
      if (grp.awarded) {
        EXPECT_GE(btype[i], 1);
        EXPECT_LE(btype[i], 7);
      }
      log_cap += std::log(capacity[i]);
    }
    // With no technologies adopted, no coaching and zero noise the score is the mean log capacity.
    EXPECT_NEAR(grp.score, log_cap / grp.size, 1e-6);
    awards += grp.awarded;
  }
  const double mean_size = members_total / static_cast<double>(groups.size());
  EXPECT_GE(mean_size, 3.5);
  EXPECT_LE(mean_size, 4.3);
  const double share = awards / static_cast<double>(groups.size());
  EXPECT_GE(share, 0.56);
  EXPECT_LE(share, 0.89);

  double prize_total = 0;
  for (std::size_t i = 0; i < w.household_count(); ++i) prize_total += prizes[i];
  EXPECT_NEAR(prize_total, awards * 19500.0, 1e-2 * awards);

  for (const auto& nu : nuclei) {
    double awarded = 0, min_awarded = 1e9, max_lost = -1e9;
    for (std::uint32_t g = nu.first_group; g < nu.first_group + nu.group_count; ++g) {
      EXPECT_EQ(groups[g].nucleus, static_cast<std::uint32_t>(&nu - nuclei.data()));
      if (groups[g].awarded) {
        awarded += 1;
        min_awarded = std::min(min_awarded, groups[g].score);
      } else {
        max_lost = std::max(max_lost, groups[g].score);
      }
    }
    EXPECT_LE(awarded * 19500.0, nu.clar_budget_pen + 1e-6);
    EXPECT_EQ(awarded, std::round(0.7 * nu.group_count));
    EXPECT_GE(min_awarded, max_lost);  // a better plan never loses under zero noise
  }
}

TEST(HakuWinayCompetition, NobodyWinsWithoutBudget) {
  World w = competition_world();
  HwRun run;
  run.set("haku_winay.clar_award_share", 0.0);
  run.setup(w);
  run.run(w, 40);
  EXPECT_FALSE(run.hw->groups().empty());
  EXPECT_TRUE(run.hw->businesses().empty());
  const auto* profit = w.households.get(col::business_profit_pen);
  for (std::size_t i = 0; i < w.household_count(); ++i) EXPECT_EQ(profit[i], 0.0f);
}

// Same world, same groups and plans; only the number of funded guinea-pig businesses in the district differs.
struct MarketRun {
  World w = competition_world();
  HwRun run;
  MarketRun(double award_share, double crowding) {
    run.set("haku_winay.plan_noise_sd", 0.0);
    run.set("haku_winay.clar_award_share", award_share);
    run.set("haku_winay.business_market_crowding", crowding);
    for (const char* t : models::kBusinessTypeNames)
      run.set(std::string("haku_winay.business_share.") + t, std::string(t) == "guinea_pigs" ? 1.0 : 0.0);
    run.set("haku_winay.business_productivity_sd", 0.0);
    run.set("haku_winay.business_profit_sd_month", 0.0);
    run.set("haku_winay.business_failure_rate_year", 0.0);
    run.setup(w);
    run.run(w, 31);  // businesses earn from month 30
  }
  // Monthly profit per member of the business of the group led by each first member.
  std::map<std::uint32_t, double> profit_by_first_member() const {
    std::map<std::uint32_t, double> out;
    const auto* profit = w.households.get(col::business_profit_pen);
    for (const auto& b : run.hw->businesses()) {
      const auto& g = run.hw->groups()[b.group];
      out[run.hw->group_members()[g.first_member]] = profit[run.hw->group_members()[g.first_member]];
    }
    return out;
  }
};

TEST(HakuWinayMarket, EachBusinessEarnsLessWhenMoreOfItsTypeSellInTheDistrict) {
  MarketRun few(0.3, 0.3), many(1.0, 0.3), many_no_crowding(1.0, 0.0);
  const auto& bf = few.run.hw->businesses();
  const auto& bm = many.run.hw->businesses();
  ASSERT_FALSE(bf.empty());
  ASSERT_GT(bm.size(), bf.size());
  for (const auto& b : bm) EXPECT_EQ(b.type, models::BusinessType::guinea_pigs);
  const auto pf = few.profit_by_first_member();
  const auto pm = many.profit_by_first_member();
  const auto pn = many_no_crowding.profit_by_first_member();
  for (const auto& [first, profit] : pf) {
    ASSERT_TRUE(pm.count(first));
    EXPECT_GT(profit, 0.0);
    EXPECT_LT(pm.at(first), profit);      // more competitors, less profit each
    EXPECT_GT(pn.at(first), pm.at(first));  // and no fall without crowding
  }
  // Exactly the market rule: annual / 12 x 1 / (1 + c (n - 1)) per business, split among members.
  for (const auto& b : bm) {
    const auto& g = many.run.hw->groups()[b.group];
    const std::uint32_t first = many.run.hw->group_members()[g.first_member];
    const double expect = b.annual_profit_pen / 12.0 * models::market_competition_factor(static_cast<int>(bm.size()), 0.3) /
                          g.size;
    EXPECT_NEAR(pm.at(first), expect, 1e-3 * expect);
  }
}

TEST(HakuWinayMarket, FailedBusinessesStopEarning) {
  World w = competition_world();
  HwRun run;
  run.set("haku_winay.business_failure_rate_year", 0.9);
  run.setup(w);
  run.run(w, 72);
  const auto& businesses = run.hw->businesses();
  ASSERT_FALSE(businesses.empty());
  std::size_t failed = 0;
  const auto* profit = w.households.get(col::business_profit_pen);
  const auto* status = w.households.get(col::business_status);
  for (const auto& b : businesses) {
    const auto& g = run.hw->groups()[b.group];
    for (int j = 0; j < g.size; ++j) {
      const std::uint32_t i = run.hw->group_members()[g.first_member + static_cast<std::uint32_t>(j)];
      EXPECT_EQ(status[i], static_cast<std::uint8_t>(b.status));
      if (b.status == models::BusinessStatus::failed) { EXPECT_EQ(profit[i], 0.0f); }
    }
    failed += b.status == models::BusinessStatus::failed;
  }
  EXPECT_GT(failed, businesses.size() / 2);

  World w0 = competition_world();
  HwRun run0;
  run0.set("haku_winay.business_failure_rate_year", 0.0);
  run0.setup(w0);
  run0.run(w0, 72);
  for (const auto& b : run0.hw->businesses()) EXPECT_EQ(b.status, models::BusinessStatus::active);
}

}  // namespace
}  // namespace chacra
