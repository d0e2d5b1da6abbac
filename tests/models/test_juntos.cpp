// File: tests/models/test_juntos.cpp
// Juntos on small hand-made worlds: exact payment schedules under forced co-responsibility checks, aging out, degenerate
// parameters (zero transfer, disabled), statistical checks of the paid share and enrolment against their
// parameters, phased rollout, re-certification, top-ups, the coordination lever, and the sequencing variants
// (the tapering transfer during HW after the exit, enrolment only in areas new to both programmes).
#include "models/juntos.hpp"
#include "models/juntos_rules.hpp"
#include "models/row_ops.hpp"

#include "models/haku_winay.hpp"
#include "models/shared_state.hpp"
#include "sim/engine.hpp"
#include "sim/params.hpp"
#include "sim/rng.hpp"
#include "sim/world.hpp"
#include "test_juntos_world.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <vector>

namespace chacra::models {
namespace {

using namespace juntos_testing;

TEST(Juntos, RegistersParametersWithDefaults) {
  const Registry reg = make_registry();
  const ParamSet ps(reg);
  EXPECT_EQ(ps.real("juntos.transfer_pen"), 200.0);
  EXPECT_EQ(ps.choice("juntos.coordination"), "informal");
  EXPECT_EQ(ps.choice("juntos.rollout"), "all_at_start");
  EXPECT_FALSE(ps.boolean("juntos.top_ups"));
  EXPECT_TRUE(ps.violations().empty());
  const JuntosParams p = JuntosParams::from(ps);
  EXPECT_EQ(p.max_child_age_months, 228);
  EXPECT_GT(p.coordination_push(), 0.0);
}

TEST(Juntos, ForcedChecksGiveExactPaymentSchedule) {
  const Registry reg = make_registry();
  ParamSet ps(reg);
  exact_targeting(ps);
  ps.set("juntos.coordination", std::string("none"));
  World w = make_world({0.6f}, {{0, 0.5f}}, std::vector<HouseholdSpec>(3));
  // Household 0 always complies; household 1 fails the check of month 5; household 2 fails those of
  // months 5 and 7 (also while suspended).
  Juntos juntos;
  juntos.setup(w, ps, rng::StreamSeed{1, 0});
  const Trace t = run_trace(w, juntos, ps, 14, true, [&](int m) {
    for (std::uint32_t h = 0; h < 3; ++h) {
      const bool fail = (h == 1 && m == 5) || (h == 2 && (m == 5 || m == 7));
      set_compliance(w, h, fail ? 0.0f : 1.0f);
    }
  });
  const double admin = ps.real("juntos.admin_cost_pen_per_month");
  for (int m = 0; m < 14; ++m) {
    const bool pay = m % 2 == 1;
    // Household 0: enrolled throughout, paid every odd month.
    EXPECT_EQ(t.status[m][0], kEnrolled) << m;
    EXPECT_FLOAT_EQ(t.transfer[m][0], pay ? 200.0f : 0.0f) << m;
    EXPECT_FLOAT_EQ(t.cost[m][0], static_cast<float>(admin + (pay ? 200.0 : 0.0))) << m;
    // Household 1: suspended in months 6-7, so the payment of month 7 (only) is withheld.
    const bool s1 = m == 6 || m == 7;
    EXPECT_EQ(t.status[m][1], s1 ? kSuspended : kEnrolled) << m;
    EXPECT_FLOAT_EQ(t.transfer[m][1], pay && !s1 ? 200.0f : 0.0f) << m;
    EXPECT_FLOAT_EQ(t.cost[m][1], static_cast<float>(admin + (pay && !s1 ? 200.0 : 0.0))) << m;
    // Household 2: two failed checks withhold the payments of months 7 and 9.
    const bool s2 = m >= 6 && m <= 9;
    EXPECT_EQ(t.status[m][2], s2 ? kSuspended : kEnrolled) << m;
    EXPECT_FLOAT_EQ(t.transfer[m][2], pay && !s2 ? 200.0f : 0.0f) << m;
  }
  EXPECT_EQ(t.compliant[5][1], 0);
  EXPECT_EQ(t.compliant[7][1], 1);
  const auto* enrolled = w.households.get(col::juntos_enrolled);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(enrolled[i], 1);
}

TEST(Juntos, NonCompliantHouseholdIsNeverPaidAfterItsFirstRound) {
  const Registry reg = make_registry();
  ParamSet ps(reg);
  exact_targeting(ps);
  World w = make_world({0.6f}, {{0, 0.5f}}, std::vector<HouseholdSpec>(1));
  Juntos juntos;
  juntos.setup(w, ps, rng::StreamSeed{1, 0});
  set_compliance(w, 0, 0.0f);
  const Trace t = run_trace(w, juntos, ps, 12);
  // First round paid (a new affiliate starts in good standing), then every check fails.
  EXPECT_FLOAT_EQ(t.transfer[1][0], 200.0f);
  for (int m = 2; m < 12; ++m) {
    EXPECT_EQ(t.status[m][0], kSuspended) << m;
    EXPECT_FLOAT_EQ(t.transfer[m][0], 0.0f) << m;
  }
}

TEST(Juntos, AgesOutInTheMonthTheLastChildStopsQualifying) {
  const Registry reg = make_registry();
  ParamSet ps(reg);
  exact_targeting(ps);
  std::vector<HouseholdSpec> hh(4);
  // 0: the only child turns 19 (228 months) in month 3.
  hh[0].ages_months = {40 * 12, 38 * 12, 228 - 3};
  // 1: the only child (16) finishes secondary school in month 4.
  hh[1].ages_months = {40 * 12, 38 * 12, 16 * 12};
  // 2: two children; the elder turns 19 in month 2 but the younger keeps the household in.
  hh[2].ages_months = {40 * 12, 38 * 12, 228 - 2, 10 * 12};
  hh[2].secondary_done = {1, 1, 0, 0};
  // 3: no child, a pregnant woman until month 5 (then, in this test, no baby).
  hh[3].ages_months = {25 * 12, 24 * 12};
  hh[3].secondary_done = {1, 1};
  hh[3].pregnancy_month = 4;
  World w = make_world({0.6f}, {{0, 0.5f}}, hh);
  Juntos juntos;
  juntos.setup(w, ps, rng::StreamSeed{1, 0});
  always_comply(w);
  auto* secondary = w.households.get(col::member_secondary_done);
  auto* pregnancy = w.households.get(col::pregnancy_month);
  std::vector<std::vector<std::uint8_t>> status;
  run(
      w, juntos, ps, 10,
      [&](int m) {
        if (m > 0) age_members(w);
        if (m == 4) secondary[1 * kMaxMembers + 2] = 1;  // the child's slot
        if (m == 5) pregnancy[3] = 0;
      },
      [&](int) {
        const auto* st = w.households.get(col::juntos_status);
        status.emplace_back(st, st + 4);
      });
  const int exit_at[4] = {3, 4, -1, 5};
  for (int i = 0; i < 4; ++i)
    for (int m = 0; m < 10; ++m) {
      const bool out = exit_at[i] >= 0 && m >= exit_at[i];
      EXPECT_EQ(status[m][i], out ? kExited : kEnrolled) << "household " << i << " month " << m;
    }
  const auto* exit_month = w.households.get(col::juntos_exit_month);
  const auto* reason = w.households.get(col::juntos_exit_reason);
  const auto* enrolled = w.households.get(col::juntos_enrolled);
  const auto* transfer = w.households.get(col::juntos_transfer_pen);
  const auto* cost = w.households.get(col::cost_juntos_pen);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(exit_month[i], exit_at[i]) << i;
    EXPECT_EQ(reason[i], static_cast<std::uint8_t>(exit_at[i] >= 0 ? JuntosExitReason::aged_out
                                                                      : JuntosExitReason::none))
        << i;
    EXPECT_EQ(enrolled[i], exit_at[i] >= 0 ? 0 : 1) << i;
    if (exit_at[i] >= 0) {
      EXPECT_EQ(transfer[i], 0.0f);  // month 9 is a payment month
      EXPECT_EQ(cost[i], 0.0f);
    }
  }
}

TEST(Juntos, ZeroTransferChangesNoDrawAndDisabledNeverEnrols) {
  const Registry reg = make_registry();
  ParamSet base(reg);
  base.set("juntos.recertification_months", std::int64_t{12});  // exercise re-certification draws too
  World w0 = random_world(2000);
  Juntos j0;
  j0.setup(w0, base, rng::StreamSeed{3, 0});
  const Trace t0 = run_trace(w0, j0, base, 36);

  ParamSet zero(reg);
  zero.set("juntos.recertification_months", std::int64_t{12});
  zero.set("juntos.transfer_pen", 0.0);
  World w1 = random_world(2000);
  Juntos j1;
  j1.setup(w1, zero, rng::StreamSeed{3, 0});
  const Trace t1 = run_trace(w1, j1, zero, 36);

  ParamSet off(reg);
  off.set("juntos.recertification_months", std::int64_t{12});
  off.set("juntos.enabled", false);
  World w2 = random_world(2000);
  Juntos j2;
  j2.setup(w2, off, rng::StreamSeed{3, 0});
  const Trace t2 = run_trace(w2, j2, off, 36);

  const double admin = base.real("juntos.admin_cost_pen_per_month");
  std::size_t ever_paid = 0, ever_suspended = 0, ever_exited = 0;
  for (int m = 0; m < 36; ++m) {
    EXPECT_EQ(t0.status[m], t1.status[m]) << m;
    EXPECT_EQ(t0.compliant[m], t1.compliant[m]) << m;
    EXPECT_EQ(t0.eligible[m], t1.eligible[m]) << m;
    EXPECT_EQ(t0.eligible[m], t2.eligible[m]) << m;  // eligibility is still computed when disabled
    for (std::size_t i = 0; i < 2000; ++i) {
      EXPECT_EQ(t1.transfer[m][i], 0.0f);
      EXPECT_FLOAT_EQ(t1.cost[m][i], affiliated(t1.status[m][i]) ? static_cast<float>(admin) : 0.0f);
      EXPECT_FALSE(affiliated(t2.status[m][i]));
      EXPECT_NE(t2.status[m][i], kExited);
      EXPECT_EQ(t2.transfer[m][i], 0.0f);
      EXPECT_EQ(t2.cost[m][i], 0.0f);
      ever_paid += t0.transfer[m][i] > 0.0f;
      ever_suspended += t0.status[m][i] == kSuspended;
      ever_exited += t0.status[m][i] == kExited;
    }
  }
  // The default run exercised payments, suspensions and exits (lost classifications).
  EXPECT_GT(ever_paid, 0u);
  EXPECT_GT(ever_suspended, 0u);
  EXPECT_GT(ever_exited, 0u);
}

TEST(Juntos, ResultsDoNotDependOnTheBlockPartition) {
  const Registry reg = make_registry();
  const ParamSet ps(reg);
  World a = random_world(1500);
  World b = random_world(1500);
  b.make_blocks(1'000'000);
  ASSERT_GT(a.blocks.size(), 1u);
  ASSERT_EQ(b.blocks.size(), 1u);
  Juntos ja, jb;
  ja.setup(a, ps, rng::StreamSeed{5, 0});
  jb.setup(b, ps, rng::StreamSeed{5, 0});
  const Trace ta = run_trace(a, ja, ps, 24);
  const Trace tb = run_trace(b, jb, ps, 24);
  EXPECT_EQ(ta.status, tb.status);
  EXPECT_EQ(ta.transfer, tb.transfer);
}

TEST(Juntos, PaidShareMatchesComplianceProbabilities) {
  const Registry reg = make_registry();
  ParamSet ps(reg);  // default compliance parameters
  ps.set("juntos.recertification_months", std::int64_t{0});  // a fixed affiliated population
  const std::uint32_t n = 4000;
  World w = random_world(n);
  Juntos juntos;
  juntos.setup(w, ps, rng::StreamSeed{9, 0});
  const Trace t = run_trace(w, juntos, ps, 25);
  const auto* prob = w.households.get(col::juntos_compliance_prob);
  double share_sum = 0.0;
  int rounds = 0;
  for (int m = 3; m < 25; m += 2) {  // rounds after the first check
    double affiliated_n = 0, paid = 0, expected = 0, var = 0;
    for (std::uint32_t i = 0; i < n; ++i) {
      if (!affiliated(t.status[m][i])) continue;
      affiliated_n += 1;
      paid += t.transfer[m][i] > 0.0f;
      expected += prob[i];
      var += prob[i] * (1.0 - prob[i]);
    }
    ASSERT_GT(affiliated_n, 1000);
    EXPECT_NEAR(paid, expected, 4.0 * std::sqrt(var)) << "round in month " << m;
    share_sum += paid / affiliated_n;
    ++rounds;
  }
  // Calibration target: 85-95% of affiliated households paid in a typical round (93.8% in one region).
  const double share = share_sum / rounds;
  EXPECT_GT(share, 0.85);
  EXPECT_LT(share, 0.95);
}

TEST(Juntos, EnrolmentMatchesTargetingErrorsAndTakeUp) {
  const Registry reg = make_registry();
  ParamSet ps(reg);
  ps.set("juntos.take_up", 0.8);
  ps.set("juntos.pmt_exclusion_error", 0.2);
  ps.set("juntos.pmt_inclusion_error", 0.1);
  const std::uint32_t n = 5000;
  World w = random_world(n);
  Juntos juntos;
  juntos.setup(w, ps, rng::StreamSeed{13, 0});
  run(w, juntos, ps, 1, nullptr, nullptr);
  const auto& h = w.households;
  const auto* target = h.get(col::juntos_pmt_target);
  const auto* classified = h.get(col::juntos_classified_poor);
  const auto* status = h.get(col::juntos_status);
  const auto* eligible = h.get(col::juntos_eligible);
  const auto* age = h.get(col::member_age_months);
  double targets = 0, targets_classified = 0, others = 0, others_classified = 0;
  double enrolled = 0, expected = 0, var = 0, eligible_n = 0, enrolled_of_eligible = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    bool child = false;
    for (int k = 0; k < kMaxMembers; ++k) child |= age[i * kMaxMembers + k] >= 0 && age[i * kMaxMembers + k] < 228;
    if (target[i]) {
      targets += 1;
      targets_classified += classified[i];
    } else {
      others += 1;
      others_classified += classified[i];
    }
    const double q = child ? (target[i] ? 0.8 : 0.1) * 0.8 : 0.0;
    expected += q;
    var += q * (1 - q);
    enrolled += status[i] == kEnrolled;
    eligible_n += eligible[i];
    enrolled_of_eligible += eligible[i] && status[i] == kEnrolled;
  }
  ASSERT_GT(targets, 500);
  ASSERT_GT(others, 500);
  EXPECT_NEAR(targets_classified / targets, 0.8, 4 * std::sqrt(0.8 * 0.2 / targets));
  EXPECT_NEAR(others_classified / others, 0.1, 4 * std::sqrt(0.1 * 0.9 / others));
  EXPECT_NEAR(enrolled, expected, 4 * std::sqrt(var));
  EXPECT_NEAR(enrolled_of_eligible / eligible_n, 0.8, 4 * std::sqrt(0.8 * 0.2 / eligible_n));
}

TEST(Juntos, ReCertificationIsStaggeredOverTheCycle) {
  const Registry reg = make_registry();
  ParamSet ps(reg);
  exact_targeting(ps);
  ps.set("juntos.recertification_months", std::int64_t{12});
  const std::uint32_t n = 3600;
  World w = random_world(n);
  Juntos juntos;
  juntos.setup(w, ps, rng::StreamSeed{17, 0});
  const auto* offset = w.households.get(col::juntos_recert_offset);
  const auto* classified = w.households.get(col::juntos_classified_poor);
  const auto* target = w.households.get(col::juntos_pmt_target);
  std::vector<int> count(12, 0);
  for (std::uint32_t i = 0; i < n; ++i) {
    ASSERT_GE(offset[i], 0);
    ASSERT_LT(offset[i], 12);
    ++count[offset[i]];
    EXPECT_EQ(classified[i], target[i]);  // no errors: the classification is the PMT's target
  }
  for (int k = 0; k < 12; ++k) EXPECT_NEAR(count[k], n / 12.0, 4 * std::sqrt(n / 12.0 * 11.0 / 12.0)) << k;
}

TEST(Juntos, ReCertificationExitsHouseholdsThatLoseTheClassification) {
  const Registry reg = make_registry();
  ParamSet ps(reg);
  ps.set("juntos.take_up", 1.0);
  ps.set("juntos.pmt_exclusion_error", 0.0);
  ps.set("juntos.pmt_inclusion_error", 0.0);
  ps.set("juntos.recertification_months", std::int64_t{12});
  ps.set("juntos.coordination", std::string("none"));
  const std::uint32_t n = 1200;
  World w = random_world(n);
  Juntos juntos;
  juntos.setup(w, ps, rng::StreamSeed{19, 0});
  // After the first classification every household stops being the PMT's target (as if its welfare had
  // risen): without inclusion errors, every re-certified household loses the classification.
  std::uint8_t* target = w.households.get(col::juntos_pmt_target);
  std::fill(target, target + n, std::uint8_t{0});
  const auto* offset = w.households.get(col::juntos_recert_offset);
  const Trace t = run_trace(w, juntos, ps, 14, false);
  const auto* exit_month = w.households.get(col::juntos_exit_month);
  const auto* reason = w.households.get(col::juntos_exit_reason);
  std::size_t exits = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    // Households enrolled before their re-certification month leave exactly then (offset 0: re-certified
    // in month 0, before they could enrol).
    if (offset[i] > 0 && affiliated(t.status[0][i])) {
      ++exits;
      EXPECT_EQ(exit_month[i], offset[i]) << i;
      EXPECT_EQ(reason[i], static_cast<std::uint8_t>(JuntosExitReason::lost_classification));
      EXPECT_EQ(t.status[13][i], kExited);
    }
    if (offset[i] == 0) {
      EXPECT_FALSE(affiliated(t.status[0][i])) << i;
    }
    EXPECT_FALSE(affiliated(t.status[13][i]));
  }
  EXPECT_GT(exits, 100u);
}

// The reach counts what the month-by-month trace shows: households ever eligible and ever affiliated, payments
// per round, exits (by either reason) and re-entries after an exit.
TEST(Juntos, ReachAddsUpTheMonthlyTrace) {
  const Registry reg = make_registry();
  ParamSet ps(reg);
  ps.set("juntos.recertification_months", std::int64_t{12});
  ps.set("juntos.pmt_exclusion_error", 0.3);
  ps.set("juntos.pmt_inclusion_error", 0.3);
  const std::uint32_t n = 1200;
  World w = random_world(n);
  w.calendar.months = 60;
  Juntos juntos;
  juntos.setup(w, ps, rng::StreamSeed{19, 0});
  const Trace t = run_trace(w, juntos, ps, w.calendar.months);
  std::size_t ever_eligible = 0, ever_affiliated = 0, payments = 0, exits = 0, reentries = 0;
  for (std::uint32_t i = 0; i < n; ++i) {
    bool eligible = false, was = false, left = false;
    for (int m = 0; m < w.calendar.months; ++m) {
      eligible = eligible || t.eligible[static_cast<std::size_t>(m)][i];
      const bool now = affiliated(t.status[static_cast<std::size_t>(m)][i]);
      payments += t.transfer[static_cast<std::size_t>(m)][i] > 0.0f ? 1 : 0;
      if (was && !now) ++exits, left = true;
      if (!was && now && left) ++reentries;
      ever_affiliated += now && !was && !left ? 1 : 0;
      was = now;
    }
    ever_eligible += eligible ? 1 : 0;
  }
  std::map<std::string, double> reach;
  for (const ReachItem& x : juntos.reach(w)) reach[x.item] = x.value;
  EXPECT_EQ(reach.at("eligible_households"), static_cast<double>(ever_eligible));
  EXPECT_EQ(reach.at("enrolled_households"), static_cast<double>(ever_affiliated));
  EXPECT_EQ(reach.at("payment_rounds"), 30);
  EXPECT_DOUBLE_EQ(reach.at("paid_per_round"), static_cast<double>(payments) / 30.0);
  EXPECT_EQ(reach.at("exits_aged_out") + reach.at("exits_lost_classification"), static_cast<double>(exits));
  EXPECT_EQ(reach.at("reentries"), static_cast<double>(reentries));
  EXPECT_GT(reach.at("exits_lost_classification"), 0);
  EXPECT_GT(reach.at("reentries"), 0);
}

TEST(Juntos, PhasedRolloutCoversThePoorestDistrictsFirst) {
  const Registry reg = make_registry();
  ParamSet ps(reg);
  exact_targeting(ps);
  ps.set("juntos.rollout", std::string("phased"));
  ps.set("juntos.phased_initial_share", 0.2);
  ps.set("juntos.phased_share_per_year", 0.2);
  ps.set("juntos.start_month", std::int64_t{6});
  // Ten districts, poverty 0.31 .. 0.76: districts 0 and 1 are not eligible (<= 0.40).
  std::vector<float> poverty;
  std::vector<CentreSpec> centres;
  std::vector<HouseholdSpec> hh;
  for (std::uint32_t d = 0; d < 10; ++d) {
    poverty.push_back(0.31f + 0.05f * d);
    centres.push_back({d, 0.5f});
    for (int k = 0; k < 3; ++k) {
      HouseholdSpec s;
      s.centre = d;
      s.ages_months = {30 * 12, 30 * 12, 12};
      hh.push_back(s);
    }
  }
  World w = make_world(poverty, centres, hh);
  Juntos juntos;
  juntos.setup(w, ps, rng::StreamSeed{1, 0});
  always_comply(w);
  const auto* entry = w.districts.get(col::district_juntos_entry_month);
  // Eight eligible districts (0.41 .. 0.76): floor(0.2 * 8) = 1 covered at start, then 3, 4, 6 and 8
  // after one to four years, poorest first.
  const int expected[10] = {-1, -1, 6 + 48, 6 + 48, 6 + 36, 6 + 36, 6 + 24, 6 + 12, 6 + 12, 6};
  for (int d = 0; d < 10; ++d) EXPECT_EQ(entry[d], expected[d]) << d;
  const Trace t = run_trace(w, juntos, ps, 60, false);
  for (std::size_t i = 0; i < hh.size(); ++i) {
    const int e = expected[hh[i].centre];
    for (int m = 0; m < 60; ++m) EXPECT_EQ(affiliated(t.status[m][i]), e >= 0 && m >= e) << i << " " << m;
  }
  EXPECT_EQ(Juntos::district_entry_month(JuntosParams::from(ps), 0, 8), 6);
}

TEST(Juntos, TopUpsForPregnancyInfantsAndUpperSecondaryStudents) {
  const Registry reg = make_registry();
  ParamSet ps(reg);
  exact_targeting(ps);
  std::vector<HouseholdSpec> hh(3);
  hh[0].pregnancy_month = 2;                                          // early-childhood top-up
  hh[0].ages_months = {30 * 12, 30 * 12, 5 * 12};
  hh[1].ages_months = {45 * 12, 44 * 12, 15 * 12, 16 * 12, 6};       // two students and an infant
  hh[1].secondary_done = {1, 1, 0, 0, 0};
  hh[2].ages_months = {45 * 12, 44 * 12, 17 * 12, 8 * 12};           // the 17-year-old is done
  hh[2].secondary_done = {1, 1, 1, 0};
  for (bool top_ups : {false, true}) {
    ps.set("juntos.top_ups", top_ups);
    World w = make_world({0.6f}, {{0, 0.5f}}, hh);
    Juntos juntos;
    juntos.setup(w, ps, rng::StreamSeed{1, 0});
    always_comply(w);
    const Trace t = run_trace(w, juntos, ps, 2, false);
    EXPECT_FLOAT_EQ(t.transfer[1][0], top_ups ? 300.0f : 200.0f);
    EXPECT_FLOAT_EQ(t.transfer[1][1], top_ups ? 200.0f + 100.0f + 160.0f : 200.0f);
    EXPECT_FLOAT_EQ(t.transfer[1][2], 200.0f);
  }
}

TEST(Juntos, CoordinationPushesGardensWastePitsAndSavingsOnlyWhereHwOperates) {
  const Registry reg = make_registry();
  // Centre 0 has HW, centre 1 has not; in each, household 0 is affiliated and household 1 is not (rich).
  std::vector<HouseholdSpec> hh(4);
  hh[0].centre = hh[1].centre = 0;
  hh[2].centre = hh[3].centre = 1;
  hh[1].wealth = hh[3].wealth = 3.0f;
  hh[1].ubn = hh[3].ubn = 0;
  constexpr int garden = tech_index(Tech::vegetable_garden);
  constexpr int waste = tech_index(Tech::waste_pit);
  constexpr float hw_stock = 0.03f;  // saving_boost already given by HW's financial education
  std::vector<float> garden_push, boost;
  for (const char* level : {"none", "informal", "formal"}) {
    ParamSet ps(reg);
    exact_targeting(ps);
    ps.set("juntos.coordination", std::string(level));
    World w = make_world({0.6f}, {{0, 0.5f}, {0, 0.5f}}, hh);
    auto* hw_active = w.centres.get(col::centre_hw_active);
    hw_active[0] = 1;
    Juntos juntos;
    juntos.setup(w, ps, rng::StreamSeed{1, 0});
    always_comply(w);
    float* push = w.households.get(col::adoption_push);
    float* saving = w.households.get(col::saving_boost);
    for (int i = 0; i < 4; ++i) saving[i] = hw_stock;
    // Adoption consumes and resets the push every month; saving_boost is a persistent stock.
    const auto reset_push = [&](int) { std::fill(push, push + 4 * kTechCount, 0.0f); };
    run(w, juntos, ps, 3, reset_push, nullptr);
    const auto* status = w.households.get(col::juntos_status);
    ASSERT_EQ(status[0], kEnrolled);
    ASSERT_EQ(status[2], kEnrolled);
    ASSERT_FALSE(affiliated(status[1]));
    for (int i = 0; i < 4; ++i)
      for (int k = 0; k < kTechCount; ++k) {
        const bool pushed = i == 0 && (k == garden || k == waste);
        if (!pushed) {
          EXPECT_EQ(push[i * kTechCount + k], 0.0f) << level << " " << i << " " << k;
        }
      }
    for (int i = 1; i < 4; ++i) EXPECT_EQ(saving[i], hw_stock) << level << " " << i;
    EXPECT_EQ(push[garden], push[waste]);
    const JuntosParams p = JuntosParams::from(ps);
    // One month's push; the saving boost is held (not accumulated) while HW operates.
    EXPECT_FLOAT_EQ(push[garden], static_cast<float>(p.coordination_push()));
    EXPECT_FLOAT_EQ(saving[0], hw_stock + static_cast<float>(p.coordination_saving_boost()));
    garden_push.push_back(push[garden]);
    boost.push_back(saving[0] - hw_stock);
    // HW leaves the centre: no more push, and Juntos withdraws its share of the saving boost.
    hw_active[0] = 0;
    run(w, juntos, ps, 1, reset_push, nullptr);
    EXPECT_EQ(push[garden], 0.0f);
    EXPECT_NEAR(saving[0], hw_stock, 1e-7);
  }
  EXPECT_EQ(garden_push[0], 0.0f);
  EXPECT_EQ(boost[0], 0.0f);
  EXPECT_GT(garden_push[1], 0.0f);
  EXPECT_GT(garden_push[2], garden_push[1]);
  EXPECT_GT(boost[1], 0.0f);
  EXPECT_GT(boost[2], boost[1]);
}

// HW as the exit with a tapering transfer: after ageing out (month 3), a household in its HW programme years
// is paid juntos.exit_taper_share of the transfer, with the administration cost, for exit_taper_months; one
// that is not in HW, or whose HW years are over, is paid nothing; with the share at 0 nobody is.
TEST(Juntos, ExitTaperPaysAShareOnlyDuringHwYearsAfterTheExit) {
  const Registry reg = make_registry();
  // 0: in HW (year 1); 1: not in HW; 2: HW finished; 3: in HW (year 2). All age out in month 3.
  std::vector<HouseholdSpec> hh(4);
  for (auto& x : hh) x.ages_months = {40 * 12, 38 * 12, 228 - 3};
  const std::uint8_t stages[4] = {static_cast<std::uint8_t>(HwStage::year1), 0,
                                  static_cast<std::uint8_t>(HwStage::finished),
                                  static_cast<std::uint8_t>(HwStage::year2)};
  for (const double share : {0.0, 0.5}) {
    ParamSet ps(reg);
    exact_targeting(ps);
    ps.set("juntos.exit_taper_share", share);
    ps.set("juntos.exit_taper_months", std::int64_t{6});
    World w = make_world({0.6f}, {{0, 0.5f}}, hh);
    auto* stage = w.households.add(col::hw_stage);
    auto* participant = w.households.add(col::hw_participant);
    for (int i = 0; i < 4; ++i) stage[i] = stages[i], participant[i] = stages[i] != 0 ? 1 : 0;
    Juntos juntos;
    juntos.setup(w, ps, rng::StreamSeed{1, 0});
    always_comply(w);
    const Trace t = run_trace(w, juntos, ps, 14);
    const double admin = ps.real("juntos.admin_cost_pen_per_month");
    for (int i = 0; i < 4; ++i)
      for (int m = 0; m < 14; ++m) {
        const bool pay = m % 2 == 1;
        const bool tapering = share > 0 && m >= 3 && m < 3 + 6 && (i == 0 || i == 3);
        const float paid = m < 3 ? (pay ? 200.0f : 0.0f) : tapering && pay ? static_cast<float>(200.0 * share) : 0.0f;
        EXPECT_EQ(t.status[m][i], m < 3 ? kEnrolled : kExited) << i << " " << m;
        EXPECT_FLOAT_EQ(t.transfer[m][i], paid) << "household " << i << " month " << m << " share " << share;
        EXPECT_FLOAT_EQ(t.cost[m][i], m < 3 || tapering ? static_cast<float>(admin + paid) : 0.0f)
            << "household " << i << " month " << m << " share " << share;
      }
    // The reach counts the households paid the tapering transfer: 0 and 3, none with the share at 0.
    std::map<std::string, double> reach;
    for (const ReachItem& x : juntos.reach(w)) reach[x.item] = x.value;
    EXPECT_EQ(reach.at("taper_recipients"), share > 0 ? 2.0 : 0.0) << "share " << share;
  }
}

// HW first, then Juntos only in areas new to both: from juntos.start_month Juntos enrols in the centres HW had
// not reached before it entered the district (never, or later), and never in one HW reached first.
TEST(Juntos, NewToBothEnrolsOnlyWhereHwHadNotArrivedFirst) {
  const Registry reg = make_registry();
  std::vector<HouseholdSpec> hh(3);
  for (std::uint32_t c = 0; c < 3; ++c) hh[c].centre = c;
  for (const char* areas : {"all", "new_to_both"}) {
    ParamSet ps(reg);
    exact_targeting(ps);
    ps.set("juntos.start_month", std::int64_t{24});  // January 2019
    ps.set("juntos.areas", std::string(areas));
    World w = make_world({0.6f}, {{0, 0.5f}, {0, 0.5f}, {0, 0.5f}}, hh);
    auto* reached = w.centres.add(col::centre_hw_reached_year);
    reached[0] = 2017, reached[1] = -1, reached[2] = -1;
    Juntos juntos;
    juntos.setup(w, ps, rng::StreamSeed{1, 0});
    always_comply(w);
    // HW reaches centre 2 in January 2020, after Juntos entered the district.
    const Trace t = run_trace(w, juntos, ps, 40, false, [&](int m) {
      if (m == 36) reached[2] = 2020;
    });
    const bool skip_first = std::string(areas) == "new_to_both";
    for (int m = 0; m < 40; ++m)
      for (int i = 0; i < 3; ++i) {
        const bool in = m >= 24 && !(skip_first && i == 0);
        EXPECT_EQ(affiliated(t.status[m][i]), in) << areas << " household " << i << " month " << m;
      }
  }
}

}  // namespace
}  // namespace chacra::models

namespace chacra::models {
namespace {

// The byte-lane driver of the eligibility phase gives, household by household, what the plain status rule
// gives, on random states and inputs, for whole and partial chunks.
TEST(JuntosRules, LaneDriverMatchesThePlainRule) {
  rng::Stream s(5, 0, rng::domain_id("test.juntos_rules"), 0, 0);
  for (int trial = 0; trial < 4000; ++trial) {
    const int n = trial % 2 == 0 ? bytes::kLanes : 1 + static_cast<int>(s.below(bytes::kLanes));
    std::uint8_t status[bytes::kLanes], compliant[bytes::kLanes], enrolled[bytes::kLanes], eligible[bytes::kLanes];
    std::uint8_t classified[bytes::kLanes], takes_up[bytes::kLanes];
    alignas(16) std::uint8_t member_ok[bytes::kLanes] = {}, district_ok[bytes::kLanes] = {}, covered[bytes::kLanes] = {};
    JuntosMonthInputs in[bytes::kLanes];
    for (int j = 0; j < n; ++j) {
      in[j].status = static_cast<JuntosStatus>(s.below(5));
      in[j].was_compliant = s.bernoulli(0.7);
      in[j].enrolled = s.bernoulli(0.5);
      in[j].member_ok = s.bernoulli(0.7);
      in[j].classified = s.bernoulli(0.7);
      in[j].district_ok = s.bernoulli(0.8);
      in[j].covered = s.bernoulli(0.7);
      in[j].takes_up = s.bernoulli(0.8);
      status[j] = status_u8(in[j].status);
      compliant[j] = in[j].was_compliant;
      enrolled[j] = in[j].enrolled;
      eligible[j] = 7;
      classified[j] = in[j].classified;
      takes_up[j] = in[j].takes_up;
      member_ok[j] = in[j].member_ok;
      district_ok[j] = in[j].district_ok;
      covered[j] = in[j].covered;
    }
    const unsigned leaves = juntos_month_lanes(status, compliant, enrolled, eligible, classified, takes_up, member_ok,
                                               district_ok, covered, n);
    for (int j = 0; j < n; ++j) {
      const JuntosMonthOutcome out = juntos_month(in[j]);
      ASSERT_EQ(status[j], status_u8(out.status)) << "trial " << trial << " lane " << j;
      ASSERT_EQ(eligible[j], out.eligible ? 1 : 0) << "trial " << trial << " lane " << j;
      ASSERT_EQ(enrolled[j], out.enrolled ? 1 : 0) << "trial " << trial << " lane " << j;
      ASSERT_EQ(compliant[j], out.compliant ? 1 : 0) << "trial " << trial << " lane " << j;
      ASSERT_EQ(((leaves >> j) & 1u) != 0, out.exit != JuntosExitReason::none) << "trial " << trial << " lane " << j;
    }
    ASSERT_EQ(leaves >> n, 0u);
  }
}

// The eligibility and payment phases' lists give the households rows::list_households lists, on random columns and
// ranges (whole and partial groups).
TEST(JuntosRules, ListsMatchThePlainListing) {
  rng::Stream s(9, 0, rng::domain_id("test.juntos_lists"), 0, 0);
  for (int trial = 0; trial < 2000; ++trial) {
    const auto begin = static_cast<std::uint32_t>(s.below(20));
    const auto end = begin + static_cast<std::uint32_t>(s.below(120));
    const int cycle = 1 + static_cast<int>(s.below(40));
    const int cycle_month = s.bernoulli(0.1) ? -2 : static_cast<int>(s.below(static_cast<std::uint64_t>(cycle)));
    std::vector<std::int16_t> offset(end + 16);
    std::vector<std::uint8_t> status(end + 16);
    for (std::uint32_t i = 0; i < end + 16; ++i) {
      offset[i] = s.bernoulli(0.05) ? std::int16_t{-1} : static_cast<std::int16_t>(s.below(static_cast<std::uint64_t>(cycle)));
      status[i] = static_cast<std::uint8_t>(s.below(5));
    }
    std::vector<std::uint32_t> fast(end - begin + 1), plain(end - begin + 1);
    auto n_fast = models::list_due(offset.data(), begin, end, cycle_month, fast.data());
    auto n_plain = rows::list_households(begin, end, plain.data(), [&](std::uint32_t i) { return offset[i] == cycle_month; });
    ASSERT_EQ(n_fast, n_plain) << "trial " << trial;
    for (std::uint32_t k = 0; k < n_plain; ++k) ASSERT_EQ(fast[k], plain[k]) << "trial " << trial;
    n_fast = models::list_affiliated(status.data(), begin, end, fast.data());
    n_plain = rows::list_households(begin, end, plain.data(), [&](std::uint32_t i) { return is_affiliated(status[i]) != 0; });
    ASSERT_EQ(n_fast, n_plain) << "trial " << trial;
    for (std::uint32_t k = 0; k < n_plain; ++k) ASSERT_EQ(fast[k], plain[k]) << "trial " << trial;
  }
}

// The plain rule's branches, each forced directly.
TEST(JuntosRules, PlainRuleBranches) {
  JuntosMonthInputs in;
  in.member_ok = in.classified = in.district_ok = in.covered = in.takes_up = true;
  EXPECT_EQ(juntos_month(in).status, JuntosStatus::enrolled);  // enters in good standing
  EXPECT_TRUE(juntos_month(in).enrolled);
  in.takes_up = false;
  EXPECT_EQ(juntos_month(in).status, JuntosStatus::eligible);
  in.status = JuntosStatus::enrolled;
  in.was_compliant = false;
  EXPECT_EQ(juntos_month(in).status, JuntosStatus::suspended);  // a failed check withholds the next payment
  in.classified = false;
  EXPECT_EQ(juntos_month(in).status, JuntosStatus::exited);
  EXPECT_EQ(juntos_month(in).exit, JuntosExitReason::lost_classification);
  in.member_ok = false;
  EXPECT_EQ(juntos_month(in).exit, JuntosExitReason::aged_out);
  in.status = JuntosStatus::exited;
  EXPECT_EQ(juntos_month(in).status, JuntosStatus::exited);
  EXPECT_EQ(juntos_month(in).exit, JuntosExitReason::none);
}

}  // namespace
}  // namespace chacra::models
