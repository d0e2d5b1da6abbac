// File: tests/models/test_haku_winay.cpp
// Haku Winay: targeting rules on a population whose eligible sets are known, rollout (quotas, priority,
// nuclei, spill-in), take-up, the timing of the three programme years, the cost cap, coaching, and common
// random numbers across arms.
#include "models/haku_winay.hpp"
#include "test_haku_winay_world.hpp"

#include <gtest/gtest.h>

#include <string_view>

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

namespace chacra {
namespace {

using hw_testing::CentreSpec;
using hw_testing::DistrictSpec;
using hw_testing::HouseholdSpec;
using hw_testing::HwRun;
using hw_testing::make_world;
namespace col = models::col;

// Eight centres whose eligibility under each rule is known (see the comments), Juntos households first in
// each centre.
struct TargetingWorld {
  std::vector<DistrictSpec> districts{{0.5f}, {0.3f}};
  std::vector<CentreSpec> centres{
      {0, 50, 0.70f},       // c0: eligible under rule_2017; no Juntos household
      {0, 30, 0.70f},       // c1: too small (all Juntos)
      {0, 50, 0.55f},       // c2: UBN share below 60% (half Juntos)
      {0, 50, 0.80f},       // c3: eligible under every rule (half Juntos)
      {0, 50, 0.70f},       // c4: no subsistence farms (5 ha each)
      {0, 50, 0.70f},       // c5: eligible under rule_2017 and pre_2017 (10% Juntos)
      {0, 30, 0.50f, 1},    // c6: small, low UBN, border area, no Juntos
      {1, 50, 0.90f},       // c7: district poverty 30% (all Juntos)
  };
  std::vector<int> juntos_per_centre{0, 30, 25, 25, 0, 5, 0, 50};
  World make() const {
    return make_world(districts, centres, [this](std::uint32_t c, std::uint32_t k) {
      HouseholdSpec s;
      s.juntos = static_cast<int>(k) < juntos_per_centre[c] ? 1 : 0;
      if (c == 4) s.land_ha = 5.0f;
      return s;
    });
  }
};

std::vector<std::uint32_t> eligible_centres(const World& w, const models::TargetingRule& rule) {
  std::vector<std::uint32_t> out;
  const auto profiles = models::centre_profiles(w, rule);
  for (std::uint32_t c = 0; c < profiles.size(); ++c)
    if (models::centre_eligible(rule, profiles[c])) out.push_back(c);
  return out;
}

TEST(HakuWinayTargeting, EligibleSetsUnderEachPresetAreTheKnownOnes) {
  TargetingWorld tw;
  World w = tw.make();
  HwRun run;
  using P = models::HwTargetingPreset;
  const auto r2017 = models::TargetingRule::preset(P::rule_2017, *run.params);
  const auto pre = models::TargetingRule::preset(P::pre_2017, *run.params);
  const auto foc = models::TargetingRule::preset(P::juntos_focalised, *run.params);
  EXPECT_EQ(eligible_centres(w, r2017), (std::vector<std::uint32_t>{0, 3, 5}));
  EXPECT_EQ(eligible_centres(w, pre), (std::vector<std::uint32_t>{3, 5}));
  EXPECT_EQ(eligible_centres(w, foc), (std::vector<std::uint32_t>{3}));

  const auto reports = models::eligibility_reports(w, *run.params);
  ASSERT_EQ(reports.size(), 4u);
  EXPECT_EQ(reports[0].rule, "rule_2017");
  EXPECT_EQ(reports[0].centres, 8u);
  EXPECT_EQ(reports[0].eligible_centres, 3u);
  EXPECT_EQ(reports[0].eligible_households, 150u);
  EXPECT_EQ(reports[0].juntos_households, 135u);
  EXPECT_EQ(reports[0].eligible_juntos_households, 30u);
  EXPECT_DOUBLE_EQ(reports[0].juntos_share_of_eligible, 0.2);
  EXPECT_DOUBLE_EQ(reports[0].juntos_coverage, 30.0 / 135.0);
  EXPECT_EQ(reports[1].eligible_centres, 2u);
  EXPECT_DOUBLE_EQ(reports[1].juntos_share_of_eligible, 0.3);
  EXPECT_EQ(reports[2].eligible_centres, 1u);
  EXPECT_DOUBLE_EQ(reports[2].juntos_share_of_eligible, 0.5);
  EXPECT_EQ(reports[3].eligible_centres, 3u);  // configured = rule_2017 by default
  EXPECT_NE(models::format_eligibility_reports(reports).find("juntos_focalised"), std::string::npos);
}

TEST(HakuWinayTargeting, TogglesDropOrAddCriteria) {
  TargetingWorld tw;
  World w = tw.make();
  using P = models::HwTargetingPreset;
  {
    HwRun run;  // dropping the 40-household rule lets the small all-Juntos centre in
    run.set_int("haku_winay.min_households", 0);
    EXPECT_EQ(eligible_centres(w, models::TargetingRule::preset(P::rule_2017, *run.params)),
              (std::vector<std::uint32_t>{0, 1, 3, 5}));
    EXPECT_EQ(eligible_centres(w, models::TargetingRule::preset(P::juntos_focalised, *run.params)),
              (std::vector<std::uint32_t>{1, 3}));
  }
  {
    HwRun run;  // border exception: the small low-UBN border centre qualifies
    run.set_bool("haku_winay.border_exception", true);
    EXPECT_EQ(eligible_centres(w, models::TargetingRule::preset(P::rule_2017, *run.params)),
              (std::vector<std::uint32_t>{0, 3, 5, 6}));
  }
  {
    HwRun run;
    run.set_bool("haku_winay.require_malnutrition_priority", true);
    EXPECT_TRUE(eligible_centres(w, models::TargetingRule::preset(P::rule_2017, *run.params)).empty());
  }
  {
    HwRun run;  // no poverty or subsistence criterion: c4 and c7 join
    run.set("haku_winay.min_district_poverty", 0.0);
    run.set("haku_winay.subsistence_share", 0.0);
    EXPECT_EQ(eligible_centres(w, models::TargetingRule::preset(P::rule_2017, *run.params)),
              (std::vector<std::uint32_t>{0, 3, 4, 5, 7}));
  }
  {
    HwRun run;  // the rule toggle adds Juntos presence to rule_2017
    run.set_bool("haku_winay.require_juntos_presence", true);
    EXPECT_EQ(eligible_centres(w, models::TargetingRule::from(*run.params)), (std::vector<std::uint32_t>{3, 5}));
  }
}

TEST(HakuWinayTargeting, CentreColumnsFollowTheConfiguredRule) {
  TargetingWorld tw;
  World w = tw.make();
  HwRun run;
  run.set_choice("haku_winay.targeting", "pre_2017");
  run.setup(w);
  run.step(w, 0);
  const auto* eligible = w.centres.get(col::centre_hw_eligible);
  const auto* selected = w.centres.get(col::centre_hw_selected_year);
  for (std::uint32_t c = 0; c < 8; ++c) {
    const bool expect = c == 3 || c == 5;
    EXPECT_EQ(eligible[c], expect ? 1 : 0) << "centre " << c;
    EXPECT_EQ(selected[c], expect ? 2017 : -1) << "centre " << c;
  }
}

// ---------------------------------------------------------------------------------------------------------

std::vector<CentreSpec> uniform_centres(int n, int households, std::uint32_t district = 0, float ubn = 0.7f) {
  return std::vector<CentreSpec>(static_cast<std::size_t>(n), CentreSpec{district, households, ubn});
}

TEST(HakuWinayStages, StagesFollowTheCohortMonthsAndNobodyStaysOver36Months) {
  World w = make_world({{}}, uniform_centres(2, 60));
  HwRun run;
  run.setup(w);
  const std::size_t n = w.household_count();
  std::vector<int> support_months(n, 0);
  const auto* stage = w.households.get(col::hw_stage);
  const auto* support = w.households.get(col::support_active);
  const auto* participant = w.households.get(col::hw_participant);
  const auto* visits = w.households.get(col::hw_visits);
  const auto* group = w.households.get(col::hw_group);
  const auto* award = w.households.get(col::hw_award);
  const auto* boost = w.households.get(col::saving_boost);
  const auto* active = w.centres.get(col::centre_hw_active);
  bool any_group_before = false, any_award_before = false, any_boost_before = false;
  for (int m = 0; m < 60; ++m) {
    run.step(w, m);
    // Cohort 2017 starts in July 2017 (month 6): year 1 = months 6-17, year 2 = 18-29, year 3 = 30-41.
    const int expect_stage = m < 6 ? 0 : m < 18 ? 1 : m < 30 ? 2 : m < 42 ? 3 : 4;
    const int vmin = m < 6 ? 0 : m < 18 ? 2 : m < 30 ? 1 : 0;
    const int vmax = m < 6 ? 0 : m < 18 ? 4 : m < 30 ? 3 : m < 42 ? 2 : 0;
    for (std::uint32_t c = 0; c < 2; ++c) EXPECT_EQ(active[c], (m >= 6 && m < 42) ? 1 : 0) << "month " << m;
    for (std::size_t i = 0; i < n; ++i) {
      support_months[i] += support[i];
      if (!participant[i]) {
        EXPECT_EQ(stage[i], 0);
        EXPECT_EQ(support[i], 0);
        EXPECT_EQ(visits[i], 0.0f);
        continue;
      }
      ASSERT_EQ(stage[i], expect_stage) << "household " << i << " month " << m;
      EXPECT_EQ(support[i], (m >= 6 && m < 42) ? 1 : 0);
      EXPECT_GE(visits[i], vmin);
      EXPECT_LE(visits[i], vmax);
      if (m < 18) any_group_before |= group[i] >= 0;
      if (m < 29) any_award_before |= award[i] != 0;
      if (m < 30) any_boost_before |= boost[i] > 0.0f;
    }
  }
  EXPECT_FALSE(any_group_before);  // groups form in the first month of year 2
  EXPECT_FALSE(any_award_before);  // the CLAR meets in the last month of year 2
  EXPECT_FALSE(any_boost_before);  // financial education in year 3
  std::size_t participants = 0, grouped = 0, boosted = 0;
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_LE(support_months[i], 36);
    if (!participant[i]) continue;
    ++participants;
    EXPECT_EQ(support_months[i], 36);
    grouped += group[i] >= 0;
    boosted += boost[i] > 0.0f;
  }
  EXPECT_GT(participants, 0u);
  EXPECT_GT(grouped, 0u);
  EXPECT_GT(boosted, 0u);
  const auto* cohort = w.households.get(col::hw_cohort);
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(cohort[i], participant[i] ? 2017 : -1);
  // Without coaching, HW leaves psychological variables alone (IEP/UC Davis evaluation of the 2017 cohort).
  const auto* locus = w.households.get(col::locus_of_control);
  const auto* locus0 = w.households.get(col::baseline_locus_of_control);
  for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(locus[i], locus0[i]);
}

TEST(HakuWinayStages, LaterCohortsStartInTheirYear) {
  World w = make_world({{}}, uniform_centres(3, 60));
  HwRun run;
  run.set_choice("haku_winay.rollout_limit", "households");
  run.set("haku_winay.households_per_year", 60);
  run.set_int("haku_winay.start_month_of_year", 1);
  run.set_choice("haku_winay.priority", "ubn_share");  // equal UBN: centre index order
  run.setup(w);
  run.run(w, 40);
  const auto* selected = w.centres.get(col::centre_hw_selected_year);
  EXPECT_EQ(selected[0], 2017);
  EXPECT_EQ(selected[1], 2018);
  EXPECT_EQ(selected[2], 2019);
  // At month 39 (April 2020) the 2017 cohort has finished, 2018 is in year 3, 2019 in year 2.
  const auto* stage = w.households.get(col::hw_stage);
  const auto* participant = w.households.get(col::hw_participant);
  const auto* cohort = w.households.get(col::hw_cohort);
  for (std::size_t i = 0; i < w.household_count(); ++i) {
    if (!participant[i]) continue;
    const int expect = cohort[i] == 2017 ? 4 : cohort[i] == 2018 ? 3 : 2;
    EXPECT_EQ(stage[i], expect);
  }
}

TEST(HakuWinayRollout, TakeUpAveragesTheTargetAndFavoursJuntosHouseholds) {
  World w = make_world({{}}, uniform_centres(10, 200), [](std::uint32_t, std::uint32_t k) {
    HouseholdSpec s;
    s.juntos = k % 2;
    s.farm_labour_share = 0.6f + 0.3f * static_cast<float>(k % 7) / 6.0f;
    s.productive_capacity = 0.5f + static_cast<float>(k % 5) * 0.25f;
    return s;
  });
  HwRun run;
  run.setup(w);
  run.run(w, 7);
  const auto* participant = w.households.get(col::hw_participant);
  const auto* juntos = w.households.get(col::juntos_enrolled);
  double n = 0, p = 0, nj = 0, pj = 0;
  for (std::size_t i = 0; i < w.household_count(); ++i) {
    n += 1;
    p += participant[i];
    nj += juntos[i];
    pj += juntos[i] * participant[i];
  }
  // 2000 households: 4 standard errors of a 0.72 share are 0.04.
  EXPECT_NEAR(p / n, 0.72, 0.04);
  EXPECT_GT(pj / nj, (p - pj) / (n - nj));
}

TEST(HakuWinayRollout, QuotaPriorityAndLastCohortYear) {
  std::vector<CentreSpec> centres = uniform_centres(5, 60);
  for (int c = 0; c < 5; ++c) centres[static_cast<std::size_t>(c)].ubn_share = 0.61f + 0.05f * c;
  World w = make_world({{}}, centres);
  HwRun run;
  run.set_choice("haku_winay.rollout_limit", "households");
  run.set("haku_winay.households_per_year", 130);  // two centres a year
  run.set_choice("haku_winay.priority", "ubn_share");
  run.set_int("haku_winay.last_cohort_year", 2018);
  run.setup(w);
  run.run(w, 48);
  const auto* selected = w.centres.get(col::centre_hw_selected_year);
  EXPECT_EQ(selected[4], 2017);
  EXPECT_EQ(selected[3], 2017);
  EXPECT_EQ(selected[2], 2018);
  EXPECT_EQ(selected[1], 2018);
  EXPECT_EQ(selected[0], -1);  // no cohort after 2018
}

TEST(HakuWinayRollout, JuntosFocalisedStartsTheCentresWithMostJuntosFirst) {
  World w = make_world({{}}, uniform_centres(4, 60), [](std::uint32_t c, std::uint32_t k) {
    HouseholdSpec s;
    const int juntos[4] = {20, 50, 30, 40};
    s.juntos = static_cast<int>(k) < juntos[c] ? 1 : 0;
    return s;
  });
  HwRun run;
  run.set_choice("haku_winay.targeting", "juntos_focalised");
  run.set_choice("haku_winay.rollout_limit", "households");
  run.set("haku_winay.households_per_year", 120);
  run.setup(w);
  run.step(w, 0);
  const auto* selected = w.centres.get(col::centre_hw_selected_year);
  EXPECT_EQ(selected[1], 2017);
  EXPECT_EQ(selected[3], 2017);
  EXPECT_EQ(selected[0], -1);
  EXPECT_EQ(selected[2], -1);
}

TEST(HakuWinayRollout, BudgetLimitCountsExpectedCost) {
  World w = make_world({{}}, uniform_centres(4, 50));
  HwRun run;
  run.set_choice("haku_winay.rollout_limit", "budget");
  run.setup(w);
  const double per_centre = 50 * 0.72 * run.hw->params().expected_cost_per_participant_pen(2017);
  HwRun run2;
  run2.set_choice("haku_winay.rollout_limit", "budget");
  run2.set("haku_winay.budget_pen_per_year", 2.5 * per_centre);
  World w2 = make_world({{}}, uniform_centres(4, 50));
  run2.setup(w2);
  run2.step(w2, 0);
  const auto* selected = w2.centres.get(col::centre_hw_selected_year);
  int n = 0;
  for (int c = 0; c < 4; ++c) n += selected[c] == 2017;
  EXPECT_EQ(n, 2);
  EXPECT_GT(per_centre, 50 * 0.72 * 3000.0);
}

TEST(HakuWinayRollout, NucleiGatherNeighbouringCentresOfOneDistrict) {
  std::vector<CentreSpec> centres = uniform_centres(10, 40, 0);
  auto more = uniform_centres(7, 40, 1);
  centres.insert(centres.end(), more.begin(), more.end());
  World w = make_world({{}, {}}, centres);
  HwRun run;
  run.setup(w);
  run.step(w, 0);
  const auto& nuclei = run.hw->nuclei();
  ASSERT_FALSE(nuclei.empty());
  std::vector<int> seen(17, 0);
  const auto* c_district = w.centres.get(col::centre_district);
  for (std::size_t k = 0; k < nuclei.size(); ++k) {
    const auto& nu = nuclei[k];
    EXPECT_EQ(nu.cohort_year, 2017);
    EXPECT_EQ(nu.start_month, 6);
    for (std::uint32_t c : nu.centres) {
      EXPECT_EQ(c_district[c], nu.district);
      ++seen[c];
    }
    // 40 households x 0.72 = 28.8 expected participants per centre: three centres make 86.4.
    const bool last_of_district = k + 1 == nuclei.size() || nuclei[k + 1].district != nu.district;
    if (!last_of_district) {
      EXPECT_GE(nu.expected_participants, 80.0);
    }
    EXPECT_LE(nu.expected_participants, 110.0 + 1e-9);
    EXPECT_NE(nu.menu, 0);
  }
  for (int s : seen) EXPECT_EQ(s, 1);
}

TEST(HakuWinayRollout, ALargeCentreHostsSeveralNucleiOverItsNeighbourhoods) {
  World w = make_world({{}}, {{0, 50, 0.7f}, {0, 400, 0.7f}, {0, 50, 0.7f}});
  HwRun run;
  run.setup(w);
  run.run(w, 19);  // through the first month of year 2 (groups)
  const auto& nuclei = run.hw->nuclei();
  const auto* hh_nucleus = w.households.get(col::hw_nucleus);
  // 400 x 0.72 = 288 expected participants: three nuclei of 96 over contiguous household ranges.
  std::vector<int> hosted(nuclei.size(), 0);
  for (std::uint32_t i = w.centre_first[1]; i < w.centre_first[2]; ++i) {
    ASSERT_GE(hh_nucleus[i], 0);
    ++hosted[static_cast<std::size_t>(hh_nucleus[i])];
    if (i > w.centre_first[1]) {
      EXPECT_GE(hh_nucleus[i], hh_nucleus[i - 1]);
    }
  }
  int big = 0;
  for (std::size_t n = 0; n < nuclei.size(); ++n) {
    if (hosted[n] == 0) continue;
    ++big;
    EXPECT_EQ(nuclei[n].centres, std::vector<std::uint32_t>{1});
    EXPECT_NEAR(nuclei[n].expected_participants, 96.0, 1e-9);
    EXPECT_NEAR(hosted[n], 133, 1);
  }
  EXPECT_EQ(big, 3);
  // Every household of the programme's centres belongs to one nucleus; groups never cross nuclei.
  for (std::size_t i = 0; i < w.household_count(); ++i) EXPECT_GE(hh_nucleus[i], 0);
  const auto& members = run.hw->group_members();
  for (const auto& g : run.hw->groups())
    for (int j = 0; j < g.size; ++j)
      EXPECT_EQ(hh_nucleus[members[g.first_member + static_cast<std::uint32_t>(j)]], static_cast<std::int32_t>(g.nucleus));
  std::size_t participants = 0;
  for (const auto& c : run.hw->cohort_summary(w)) {
    EXPECT_EQ(c.cohort_year, 2017);
    EXPECT_EQ(c.selected_centres, 3u);
    EXPECT_EQ(c.households_in_centres, 500u);
    participants += c.participants;
  }
  EXPECT_GT(participants, 300u);
}

TEST(HakuWinayRollout, SpillInReachesCentresJustBelowTheThresholdWithoutSelectingThem) {
  std::vector<CentreSpec> centres = uniform_centres(4, 200, 0, 0.7f);
  for (int c : {1, 3}) centres[static_cast<std::size_t>(c)].ubn_share = 0.55f;
  centres.push_back({0, 200, 0.45f});  // below the band
  for (double share : {0.0, 0.24}) {
    World w = make_world({{}}, centres);
    HwRun run;
    run.set("haku_winay.spill_in_share", share);
    run.setup(w);
    run.run(w, 8);
    const auto* selected = w.centres.get(col::centre_hw_selected_year);
    const auto* reached = w.centres.get(col::centre_hw_reached_year);
    const auto* participant = w.households.get(col::hw_participant);
    for (int c : {1, 3, 4}) EXPECT_EQ(selected[c], -1);
    double reached_share = 0;
    for (int c : {1, 3})
      for (std::uint32_t i = w.centre_first[c]; i < w.centre_first[c + 1]; ++i) reached_share += participant[i] / 400.0;
    for (std::uint32_t i = w.centre_first[4]; i < w.centre_first[5]; ++i) EXPECT_EQ(participant[i], 0);
    if (share == 0.0) {
      EXPECT_EQ(reached[1], -1);
      EXPECT_EQ(reached_share, 0.0);
    } else {
      EXPECT_EQ(reached[1], 2017);
      EXPECT_EQ(reached[3], 2017);
      EXPECT_NEAR(reached_share, 0.24, 4 * std::sqrt(0.24 * 0.76 / 400));
    }
  }
}

TEST(HakuWinayRollout, JuntosExitingOffersHwOnlyToJuntosHouseholdsAgeingOut) {
  World w = make_world({{}}, uniform_centres(1, 90), [](std::uint32_t, std::uint32_t k) {
    HouseholdSpec s;
    s.juntos = k % 3 != 0;                                  // a third not in Juntos
    s.youngest_child_years = (k % 3 == 1) ? 17.0 : 6.0;     // k%3==1 ages out within 36 months
    return s;
  });
  HwRun run;
  run.set_choice("haku_winay.household_offer", "juntos_exiting");
  run.set("haku_winay.takeup_rate", 1.0);
  run.set("haku_winay.takeup_interest_sd", 0.0);
  run.setup(w);
  run.run(w, 7);
  const auto* participant = w.households.get(col::hw_participant);
  for (std::uint32_t k = 0; k < 90; ++k) EXPECT_EQ(participant[k], k % 3 == 1 ? 1 : 0) << k;
}

// The reach of an arm that offers HW to the Juntos households ageing out reaches every one of them: the funnel's
// offered and participant counts equal the households in the window, and each later stage is within the one
// before it.
TEST(HakuWinayReach, FunnelOfTheExitArmCountsEveryHouseholdInTheWindow) {
  World w = make_world({{}}, uniform_centres(2, 90), [](std::uint32_t, std::uint32_t k) {
    HouseholdSpec s;
    s.juntos = k % 3 != 0;
    s.youngest_child_years = (k % 3 == 1) ? 17.0 : 6.0;  // 30 of each centre's 90 age out within 36 months
    return s;
  });
  w.calendar.months = 12 * 7;
  HwRun run;
  run.set_choice("haku_winay.household_offer", "juntos_exiting");
  run.set("haku_winay.takeup_rate", 1.0);
  run.set("haku_winay.takeup_interest_sd", 0.0);
  run.setup(w);
  run.run(w, w.calendar.months);
  std::map<std::string, double> reach;
  for (const ReachItem& x : run.hw->reach(w)) reach[x.item] = x.value;
  EXPECT_EQ(reach.at("eligible_centres"), 2);
  EXPECT_EQ(reach.at("selected_centres"), 2);
  EXPECT_EQ(reach.at("offered_households"), 60);
  EXPECT_EQ(reach.at("participants"), 60);
  EXPECT_EQ(reach.at("nuclei"), static_cast<double>(run.hw->nuclei().size()));
  EXPECT_GT(reach.at("business_groups"), 0);
  EXPECT_EQ(reach.at("business_groups"), static_cast<double>(run.hw->groups().size()));
  EXPECT_LE(reach.at("awarded_groups"), reach.at("business_groups"));
  EXPECT_EQ(reach.at("businesses"), static_cast<double>(run.hw->businesses().size()));
  // Businesses start after the CLAR (month 24 of a cohort starting in month 6): all are observed a year later,
  // none five years later in a seven-year run.
  EXPECT_EQ(reach.at("businesses_observed_1y"), reach.at("businesses"));
  EXPECT_EQ(reach.at("businesses_observed_5y"), 0);
  for (const char* y : {"1y", "3y", "5y"})
    EXPECT_LE(reach.at(std::string("businesses_surviving_") + y), reach.at(std::string("businesses_observed_") + y));
  std::size_t active = 0;
  for (const auto& b : run.hw->businesses()) active += b.status == models::BusinessStatus::active ? 1 : 0;
  EXPECT_GE(reach.at("businesses_surviving_1y"), static_cast<double>(active));
}

// The graduation route offers HW to every household within the window around the end of Juntos, in any centre,
// and to no one else: households whose last child is expected to leave Juntos within 12 months, and households
// that left (here: lost the classification) within 24 months; the funnel's entitled, offered and participant
// counts are all of them. Children age a year between Januaries, so households that enter the window in 2018
// form a second cohort in the same centres (repeat cohorts), pooled across the two neighbouring centres of
// district 0.
TEST(HakuWinayReach, GraduationRouteReachesEveryHouseholdInTheWindow) {
  World w = make_world({{}, {}}, {{.district = 0, .households = 40}, {.district = 0, .households = 40},
                                  {.district = 1, .households = 40}},
                       [](std::uint32_t, std::uint32_t k) {
                         HouseholdSpec s;
                         s.juntos = k % 4 == 1 || k % 4 == 2;
                         // k%4==1: 6 months to the end of secondary school in 2017; k%4==2: 18 months (in the
                         // window in 2018); others: far from it
                         s.youngest_child_years = k % 4 == 1 ? 16.5 : k % 4 == 2 ? 15.5 : 6.0;
                         return s;
                       });
  w.calendar.months = 12 * 6;
  auto& h = w.households;
  auto* exit_month = h.add(col::juntos_exit_month);
  auto* exit_reason = h.add(col::juntos_exit_reason);
  h.add(col::member_secondary_done);  // nobody has finished school, nobody is pregnant
  h.add(col::pregnancy_month);
  for (std::uint32_t i = 0; i < h.rows(); ++i) {
    const std::uint32_t k = i - w.centre_first[h.get(col::centre)[i]];
    exit_month[i] = k % 4 == 3 ? 0 : -1;  // left in January 2017
    exit_reason[i] = static_cast<std::uint8_t>(k % 4 == 3 ? models::JuntosExitReason::lost_classification
                                                           : models::JuntosExitReason::none);
  }
  HwRun run;
  run.set_choice("haku_winay.selection", "juntos_exit");
  run.set("haku_winay.takeup_rate", 1.0);
  run.set("haku_winay.takeup_interest_sd", 0.0);
  run.set_int("haku_winay.last_cohort_year", 2030);
  run.setup(w);
  std::int16_t* age = h.get(col::member_age_months);
  for (int m = 0; m < w.calendar.months; ++m) {
    run.step(w, m);
    if (m % 12 == 11)
      for (std::uint32_t i = 0; i < h.rows(); ++i) age[static_cast<std::size_t>(i) * kMaxMembers + 2] += 12;
  }
  std::map<std::string, double> reach;
  for (const ReachItem& x : run.hw->reach(w)) reach[x.item] = x.value;
  EXPECT_EQ(reach.at("entitled_households"), 90);  // 30 per centre: k%4 = 1, 2, 3
  EXPECT_EQ(reach.at("offered_households"), 90);
  EXPECT_EQ(reach.at("participants"), 90);
  EXPECT_EQ(reach.at("selected_centres"), 3);
  // Each year: centres 0 and 1 pooled (20 expected participants each, below the 80 minimum), centre 2 alone.
  EXPECT_EQ(reach.at("nuclei"), 4);
  const auto* cohort = h.get(col::hw_cohort);
  const auto* offered = h.get(col::hw_offered);
  for (std::uint32_t i = 0; i < h.rows(); ++i) {
    const std::uint32_t k = i - w.centre_first[h.get(col::centre)[i]];
    EXPECT_EQ(offered[i], k % 4 != 0 ? 1 : 0) << i;
    EXPECT_EQ(cohort[i], k % 4 == 0 ? -1 : k % 4 == 2 ? 2018 : 2017) << i;
  }
  const auto* selected = w.centres.get(col::centre_hw_selected_year);
  for (int c = 0; c < 3; ++c) EXPECT_EQ(selected[c], 2018);  // the latest of the centre's two cohorts
  // Each cohort runs its own three programme years: by the last month (71) both have finished.
  const auto* stage = h.get(col::hw_stage);
  for (std::uint32_t i = 0; i < h.rows(); ++i)
    if (offered[i]) {
      EXPECT_EQ(stage[i], static_cast<std::uint8_t>(models::HwStage::finished)) << i;
    }
}

// Exits by ageing out only, and districts in yearly waves: households that lost the classification are not
// entitled, and with two waves the eight districts start their first cohorts in 2017 or 2018 (both occur),
// with one wave all in 2017.
TEST(HakuWinayRollout, GraduationRouteAdmittedExitsAndDistrictWaves) {
  for (const int waves : {1, 2}) {
    std::vector<CentreSpec> centres;
    for (std::uint32_t d = 0; d < 8; ++d) centres.push_back({.district = d, .households = 10});
    World w = make_world(std::vector<DistrictSpec>(8), centres, [](std::uint32_t, std::uint32_t k) {
      HouseholdSpec s;
      s.juntos = k % 2 == 1;
      s.youngest_child_years = k % 2 == 1 ? 16.5 : 6.0;
      return s;
    });
    auto& h = w.households;
    auto* exit_month = h.add(col::juntos_exit_month);
    auto* exit_reason = h.add(col::juntos_exit_reason);
    h.add(col::member_secondary_done);
    h.add(col::pregnancy_month);
  h.add(col::member_secondary_done);  // nobody has finished school, nobody is pregnant
  h.add(col::pregnancy_month);
    for (std::uint32_t i = 0; i < h.rows(); ++i) {
      exit_month[i] = i % 2 == 0 ? 0 : -1;
      exit_reason[i] = static_cast<std::uint8_t>(i % 2 == 0 ? models::JuntosExitReason::lost_classification
                                                             : models::JuntosExitReason::none);
    }
    HwRun run;
    run.set_choice("haku_winay.selection", "juntos_exit");
    run.set_choice("haku_winay.exit_reasons", "aged_out");
    run.set_int("haku_winay.district_waves", waves);
    run.set_int("haku_winay.last_cohort_year", 2030);
    run.setup(w);
    run.run(w, 36);
    std::map<std::string, double> reach;
    for (const ReachItem& x : run.hw->reach(w)) reach[x.item] = x.value;
    EXPECT_EQ(reach.at("entitled_households"), 40);  // the enrolled ones; those that lost the classification not
    const auto* selected = w.centres.get(col::centre_hw_selected_year);
    std::set<int> years(selected, selected + 8);
    EXPECT_EQ(years, (waves == 1 ? std::set<int>{2017} : std::set<int>{2017, 2018})) << waves;
  }
}

TEST(HakuWinayRollout, DisabledArmSelectsNobodyButKeepsTheColumns) {
  World w = make_world({{}}, uniform_centres(3, 60));
  HwRun run;
  run.set_bool("haku_winay.enabled", false);
  run.setup(w);
  run.run(w, 48);
  for (std::string_view name : {col::hw_cohort.name, col::hw_stage.name, col::hw_participant.name, col::hw_visits.name,
                                col::hw_group.name, col::hw_award.name, col::business_type.name,
                                col::business_status.name, col::coached.name, col::cost_hw_pen.name})
    EXPECT_TRUE(w.households.has(std::string(name))) << name;
  const auto* participant = w.households.get(col::hw_participant);
  const auto* cost = w.households.get(col::cost_hw_pen);
  for (std::size_t i = 0; i < w.household_count(); ++i) {
    EXPECT_EQ(participant[i], 0);
    EXPECT_EQ(cost[i], 0.0f);
  }
  const auto* selected = w.centres.get(col::centre_hw_selected_year);
  const auto* eligible = w.centres.get(col::centre_hw_eligible);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(selected[c], -1);
    EXPECT_EQ(eligible[c], 1);  // eligibility is still reported
  }
  EXPECT_TRUE(run.hw->nuclei().empty());
}

// Starsim-style common random numbers: making a second district eligible must leave every outcome of the
// first district's households identical.
TEST(HakuWinayRollout, SwitchingADistrictOnLeavesOtherDistrictsIdentical) {
  std::vector<CentreSpec> centres = uniform_centres(3, 60, 0);
  auto more = uniform_centres(3, 60, 1);
  centres.insert(centres.end(), more.begin(), more.end());
  std::vector<DistrictSpec> districts{{0.6f}, {0.45f}};
  auto capacity = [](std::uint32_t c, std::uint32_t k) {
    HouseholdSpec s;
    s.productive_capacity = 0.5f + 0.1f * static_cast<float>((k * 7 + c) % 11);
    s.juntos = k % 2;
    return s;
  };
  World a = make_world(districts, centres, capacity), b = make_world(districts, centres, capacity);
  HwRun ra, rb;
  rb.set("haku_winay.min_district_poverty", 0.5);  // district 1 drops out in arm b
  ra.setup(a);
  rb.setup(b);
  for (int m = 0; m < 48; ++m) {
    ra.step(a, m, false);
    rb.step(b, m, false);
    for (std::uint32_t i = 0; i < a.centre_first[3]; ++i) {
      ASSERT_EQ(a.households.get(col::hw_participant)[i],
                b.households.get(col::hw_participant)[i]);
      ASSERT_EQ(a.households.get(col::hw_visits)[i], b.households.get(col::hw_visits)[i]);
      ASSERT_EQ(a.households.get(col::cost_hw_pen)[i], b.households.get(col::cost_hw_pen)[i]);
      ASSERT_EQ(a.households.get(col::business_profit_pen)[i],
                b.households.get(col::business_profit_pen)[i]);
      for (int k = 0; k < models::kTechCount; ++k)
        ASSERT_EQ(a.households.get(col::adoption_push)[i * models::kTechCount + k],
                  b.households.get(col::adoption_push)[i * models::kTechCount + k]);
    }
    for (World* w : {&a, &b}) {
      float* push = w->households.get(col::adoption_push);
      std::fill(push, push + w->household_count() * models::kTechCount, 0.0f);
    }
  }
  EXPECT_GT(ra.hw->nuclei().size(), rb.hw->nuclei().size());
}

TEST(HakuWinayRollout, ResultsDoNotDependOnBlockSize) {
  auto spec = [](std::uint32_t c, std::uint32_t k) {
    HouseholdSpec s;
    s.productive_capacity = 0.5f + 0.1f * static_cast<float>((k * 3 + c) % 13);
    return s;
  };
  World a = make_world({{}}, uniform_centres(6, 50), spec, 50);
  World b = make_world({{}}, uniform_centres(6, 50), spec, 100000);
  HwRun ra, rb;
  ra.setup(a);
  rb.setup(b);
  ra.run(a, 40);
  rb.run(b, 40);
  for (const Col<float>* c : {&col::hw_capped_spend_pen, &col::business_profit_pen, &col::saving_boost})
    for (std::size_t i = 0; i < a.household_count(); ++i)
      ASSERT_EQ(a.households.get(*c)[i], b.households.get(*c)[i]) << c->name;
}

// ---------------------------------------------------------------------------------------------------------

TEST(HakuWinayAssets, AssetsGoToSuitedParticipantsAndPushAdoption) {
  World w = make_world({{}}, uniform_centres(2, 100, 0), [](std::uint32_t, std::uint32_t k) {
    HouseholdSpec s;
    s.water_access = k % 2;
    return s;
  });
  HwRun run;
  run.set_int("haku_winay.start_month_of_year", 1);
  run.setup(w);
  const auto* delivered = w.households.get(col::asset_delivered);
  const auto* participant = w.households.get(col::hw_participant);
  const auto* water = w.households.get(col::water_access);
  const auto* push = w.households.get(col::adoption_push);
  run.run(w, 12);
  run.step(w, 12, false);  // month 12: year 2, assets in place
  const int sprinkler = models::tech_index(models::Tech::sprinkler_irrigation);
  double with = 0, n_with = 0;
  for (std::size_t i = 0; i < w.household_count(); ++i) {
    const std::uint8_t* d = delivered + i * models::kTechCount;
    const float* p = push + i * models::kTechCount;
    if (!participant[i]) {
      for (int k = 0; k < models::kTechCount; ++k) {
        EXPECT_EQ(d[k], 0);
        EXPECT_EQ(p[k], 0.0f);
      }
      continue;
    }
    if (!water[i]) { EXPECT_EQ(d[sprinkler], 0); }
    if (water[i]) {
      n_with += 1;
      with += d[sprinkler];
    }
    for (int k = 0; k < models::kTechCount; ++k)
      if (d[k]) { EXPECT_GE(p[k], static_cast<float>(run.hw->params().asset_push) - 1e-6f); }
  }
  EXPECT_NEAR(with / n_with, run.hw->params().asset_take_share[sprinkler], 0.15);
}

TEST(HakuWinayAssets, ProgrammeWorksLessInTheAmazon) {
  World w = make_world({{0.5f, 0, 0}, {0.5f, 0, 2}}, {{0, 100, 0.7f}, {1, 100, 0.7f}});
  HwRun run;
  run.set_int("haku_winay.start_month_of_year", 1);
  run.setup(w);
  run.step(w, 0, false);
  const auto* push = w.households.get(col::adoption_push);
  const auto* participant = w.households.get(col::hw_participant);
  const auto* visits = w.households.get(col::hw_visits);
  const int garden = models::tech_index(models::Tech::vegetable_garden);
  for (std::uint32_t i = 0; i < 200; ++i) {
    if (!participant[i] || visits[i] == 0.0f) continue;
    const double per_visit = push[i * models::kTechCount + garden] / visits[i];
    EXPECT_NEAR(per_visit, run.hw->params().visit_push * (i < 100 ? 1.0 : 0.6), 1e-6);
  }
}

// ---------------------------------------------------------------------------------------------------------

TEST(HakuWinayCosts, SpendPerHouseholdNeverExceedsTheCapAndTotalsAddUp) {
  for (double cap : {1000.0, 5700.0}) {
    World w = make_world({{}}, uniform_centres(3, 80));
    HwRun run;
    run.set("haku_winay.budget_cap_per_household_pen", cap);
    if (cap < 2000) {  // make the cap bind: costly assets everyone takes, four visits every month
      for (const char* t : models::kTechNames) {
        run.set(std::string("haku_winay.asset_cost_pen.") + t, 400.0);
        run.set(std::string("haku_winay.asset_take_share.") + t, 1.0);
      }
      for (const char* y : {"year1", "year2", "year3"}) {
        run.set_int(std::string("haku_winay.visits_") + y + "_min", 4);
        run.set_int(std::string("haku_winay.visits_") + y + "_max", 4);
      }
      run.set("haku_winay.trainer_cost_per_visit_pen", 10.0);
    }
    run.set_bool("coaching.enabled", true);
    run.setup(w);
    const std::size_t n = w.household_count();
    std::vector<double> capped(n, 0.0), total(n, 0.0);
    auto& h = w.households;
    for (int m = 0; m < 60; ++m) {
      run.step(w, m);
      const float* a = h.get(col::cost_hw_assets_pen);
      const float* t = h.get(col::cost_hw_trainers_pen);
      const float* p = h.get(col::cost_hw_prizes_pen);
      const float* c = h.get(col::cost_hw_coaching_pen);
      const float* ad = h.get(col::cost_hw_admin_pen);
      const float* tot = h.get(col::cost_hw_pen);
      for (std::size_t i = 0; i < n; ++i) {
        const double sum = double{a[i]} + t[i] + p[i] + c[i] + ad[i];
        ASSERT_NEAR(tot[i], sum, 1e-3 * std::max(1.0, sum)) << "household " << i << " month " << m;
        EXPECT_NEAR(ad[i], run.hw->params().admin_share * (double{a[i]} + t[i] + p[i] + c[i]), 1e-2);
        capped[i] += double{a[i]} + t[i];
        total[i] += tot[i];
      }
    }
    const float* spend = h.get(col::hw_capped_spend_pen);
    const auto* participant = h.get(col::hw_participant);
    double max_capped = 0.0, participants = 0, mean_capped = 0;
    for (std::size_t i = 0; i < n; ++i) {
      EXPECT_LE(capped[i], cap + 1e-2);
      EXPECT_LE(spend[i], cap + 1e-2);
      EXPECT_NEAR(spend[i], capped[i], 1e-2);
      max_capped = std::max(max_capped, capped[i]);
      if (participant[i]) {
        participants += 1;
        mean_capped += capped[i];
      } else {
        EXPECT_EQ(total[i], 0.0);
      }
    }
    if (cap < 2000) {
      EXPECT_GT(max_capped, cap - 50.0);  // the cap binds
    } else {
      // Realised spend per household within the published range of PEN 3,500-6,200 (capped part only).
      EXPECT_GT(mean_capped / participants, 2500.0);
      EXPECT_LT(mean_capped / participants, 5700.0);
    }
  }
}

// Stages reset the month's flows only in centres where something was written since the last reset: a
// household outside the programme's months holds no visits, costs or support, and a household outside an
// active business earns no profit, every month, with businesses (which keep writing after the programme
// ends) and without them (no award, so nothing is written after month 41 of a cohort starting in month 6).
TEST(HakuWinayStages, MonthlyFlowsAndSupportHoldOnlyThisMonthsValues) {
  for (double award_share : {0.7, 0.0}) {
    World w = make_world({{}}, uniform_centres(3, 60));
    HwRun run;
    run.set("haku_winay.clar_award_share", award_share);
    run.setup(w);
    const std::size_t n = w.household_count();
    auto& h = w.households;
    const auto* support = h.get(col::support_active);
    const auto* participant = h.get(col::hw_participant);
    const auto* status = h.get(col::business_status);
    const float* profit = h.get(col::business_profit_pen);
    std::vector<const float*> programme_flows;
    for (const Col<float>* c : {&col::hw_visits, &col::cost_hw_assets_pen, &col::cost_hw_trainers_pen,
                                &col::cost_hw_prizes_pen, &col::cost_hw_coaching_pen, &col::cost_hw_admin_pen,
                                &col::cost_hw_pen})
      programme_flows.push_back(h.get(*c));
    std::size_t supported = 0, earning = 0;
    for (int m = 0; m < 60; ++m) {
      run.step(w, m);
      for (std::size_t i = 0; i < n; ++i) {
        const bool in_programme = participant[i] && m >= 6 && m < 42;
        ASSERT_EQ(support[i], in_programme ? 1 : 0) << "household " << i << " month " << m;
        supported += support[i];
        if (!in_programme) {
          for (const float* f : programme_flows) ASSERT_EQ(f[i], 0.0f) << "household " << i << " month " << m;
        }
        if (status[i] != static_cast<std::uint8_t>(models::BusinessStatus::active)) {
          ASSERT_EQ(profit[i], 0.0f) << "household " << i << " month " << m;
        }
        earning += profit[i] > 0.0f;
      }
    }
    EXPECT_GT(supported, 0u);
    if (award_share > 0) {
      EXPECT_GT(earning, 0u);
    } else {
      EXPECT_EQ(earning, 0u);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------

TEST(HakuWinayCoaching, OffersAttendanceGoalsAndLocus) {
  World w = make_world({{}}, uniform_centres(5, 200));
  HwRun run;
  run.set_bool("coaching.enabled", true);
  run.set("coaching.saturation", 0.5);
  run.set("haku_winay.visit_push", 0.0);  // isolate the coaching push
  run.set("haku_winay.asset_push", 0.0);
  run.set_int("haku_winay.start_month_of_year", 1);
  run.setup(w);
  run.run(w, 12);
  run.step(w, 12, false);  // first session month
  auto& h = w.households;
  const auto* participant = h.get(col::hw_participant);
  const auto* offered = h.get(col::coaching_offered);
  const auto* coached = h.get(col::coached);
  const auto* plan = h.get(col::coaching_plan);
  const auto* push = h.get(col::adoption_push);
  const int shed = models::tech_index(models::Tech::small_animal_shed);
  double np = 0, no = 0, nc = 0, guinea = 0;
  double push_guinea = 0, push_uncoached = 0, n_uncoached = 0;
  for (std::size_t i = 0; i < w.household_count(); ++i) {
    if (!participant[i]) {
      EXPECT_EQ(offered[i], 0);
      continue;
    }
    np += 1;
    no += offered[i];
    nc += coached[i];
    if (coached[i]) { EXPECT_TRUE(offered[i]); }
    if (coached[i] && plan[i] == static_cast<std::uint8_t>(models::CoachingPlan::guinea_pigs)) {
      guinea += 1;
      push_guinea += push[i * models::kTechCount + shed];
    }
    if (!coached[i]) {
      n_uncoached += 1;
      push_uncoached += push[i * models::kTechCount + shed];
    }
  }
  EXPECT_NEAR(no / np, 0.5, 0.06);
  EXPECT_NEAR(nc / no, 0.84, 0.06);
  EXPECT_NEAR(guinea / nc, 0.30, 0.08);
  EXPECT_GT(push_guinea / guinea, push_uncoached / n_uncoached + 0.04);

  // Locus of control rises by the gain for coached households at the end of the sessions, and only for them.
  for (int m = 13; m < 18; ++m) run.step(w, m);
  const auto* locus = h.get(col::locus_of_control);
  const auto* locus0 = h.get(col::baseline_locus_of_control);
  for (std::size_t i = 0; i < w.household_count(); ++i)
    EXPECT_NEAR(locus[i] - locus0[i], coached[i] ? 0.2 : 0.0, 1e-6);
}

TEST(HakuWinayCoaching, SpilloverReachesUncoachedNeighboursOnlyWhenSwitchedOn) {
  for (double spill : {0.0, 0.5}) {
    World w = make_world({{}}, uniform_centres(1, 200));
    HwRun run;
    run.set_bool("coaching.enabled", true);
    run.set("coaching.spillover", spill);
    run.set("haku_winay.visit_push", 0.0);
    run.set("haku_winay.asset_push", 0.0);
    run.set_int("haku_winay.start_month_of_year", 1);
    run.setup(w);
    run.run(w, 13);
    run.step(w, 13, false);
    const auto* coached = w.households.get(col::coached);
    const auto* push = w.households.get(col::adoption_push);
    double total = 0;
    for (std::size_t i = 0; i < w.household_count(); ++i)
      if (!coached[i])
        for (int k = 0; k < models::kTechCount; ++k) total += push[i * models::kTechCount + k];
    if (spill == 0.0)
      EXPECT_EQ(total, 0.0);
    else
      EXPECT_GT(total, 0.0);
  }
}

}  // namespace
}  // namespace chacra
