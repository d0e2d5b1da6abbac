// File: tests/models/test_economy_graduation.cpp
// The graduation channel (economy.graduation.enabled) and Haku Winay's side of the liquidity channel: the plain
// rules (proxy-means score, compliance, programme time, expected transfers, take-up, attendance), and on small
// worlds the directions theory predicts: gains above the cut-off take a household out of Juntos at its next
// re-certification and shocks bring households in; more programme time lowers compliance and wage income;
// take-up falls with remoteness, missing labour and missing cash, and Juntos's bonus is no longer rescaled away;
// other duties cut the visits received; a group that cannot pay its counterpart starts its business late. With
// the switch off each result is the model without the channel.
#include "models/haku_winay.hpp"
#include "models/haku_winay_rules.hpp"
#include "models/juntos.hpp"
#include "models/juntos_rules.hpp"
#include "models/livelihood.hpp"
#include "test_haku_winay_world.hpp"
#include "test_juntos_world.hpp"
#include "tests/models/whole_model_run.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

namespace chacra::models {
namespace {

// ---- The plain rules ----

TEST(GraduationRules, ScoreStartsAtTheStaticScoreAndMovesWithConsumptionAssetsAndDwelling) {
  AssetValues v;
  v.animal_pen = {20.0f, 180.0f, 1800.0f};
  for (int t = 0; t < kTechCount; ++t) v.tech_pen[static_cast<std::size_t>(t)] = 100.0f * static_cast<float>(t + 1);
  const float herd[kSpeciesCount] = {10.0f, 2.0f, 1.0f};
  const unsigned stove = 1u << tech_index(Tech::improved_stove), shed = 1u << tech_index(Tech::small_animal_shed);
  // Herd 200 + 360 + 1800, the shed (600) and the stove (800), less the debt.
  EXPECT_FLOAT_EQ(net_assets_pen(v, herd, stove | shed, 500.0f), 2360.0f + 600.0f + 800.0f - 500.0f);
  const PmtWeights w;  // 0.8 per log point, 0.1 per PEN 1,000, 0.1 per dwelling improvement
  const float base = pmt_moving_part(w, 200.0f, 1000.0f, shed);
  const double s0 = pmt_static_score(-0.4f, 1, 0.8f, 0.3, 0.2);
  EXPECT_EQ(pmt_score(s0, base, base), s0);  // targeting at baseline is the static score's, bit for bit
  EXPECT_EQ(s0, -0.4f - 0.3 + 0.2 * std::log(0.8f / 1.3));
  EXPECT_NEAR(pmt_score(s0, pmt_moving_part(w, 400.0f, 1000.0f, shed), base) - s0, 0.8 * std::log(2.0), 1e-6);
  EXPECT_NEAR(pmt_score(s0, pmt_moving_part(w, 200.0f, 3000.0f, shed), base) - s0, 0.2, 1e-6);
  // Only the visible dwelling improvements count, one weight each.
  EXPECT_NEAR(pmt_score(s0, pmt_moving_part(w, 200.0f, 1000.0f, shed | stove), base) - s0, 0.1, 1e-6);
  EXPECT_EQ(pmt_moving_part(w, 200.0f, 1000.0f, shed | (1u << tech_index(Tech::vegetable_garden))), base);
  EXPECT_EQ(std::popcount(kDwellingTechs), 3);
  // No consumption is floored at PEN 1 a person-month rather than minus infinity.
  EXPECT_TRUE(std::isfinite(pmt_moving_part(w, 0.0f, 0.0f, 0)));
}

TEST(GraduationRules, ComplianceFallsWithProgrammeTimeAndWithoutCashForTheTravel) {
  const ComplianceResponse r;  // 2 per share of adult time, PEN 15 of travel, 0.5 for no cash
  const float propensity = 2.0f;
  const double base = 1.0 / (1.0 + std::exp(-2.0));
  EXPECT_NEAR(compliance_probability(propensity, 0.0f, 15.0f, r), base, 1e-6);
  EXPECT_NEAR(compliance_probability(propensity, 0.0f, 100.0f, r), base, 1e-6);
  EXPECT_NEAR(compliance_probability(propensity, 0.25f, 100.0f, r), 1.0 / (1.0 + std::exp(-1.5)), 1e-6);
  EXPECT_NEAR(compliance_probability(propensity, 0.0f, 0.0f, r), 1.0 / (1.0 + std::exp(-1.5)), 1e-6);
  EXPECT_NEAR(compliance_probability(propensity, 0.0f, 7.5f, r), 1.0 / (1.0 + std::exp(-1.75)), 1e-6);
  for (float t = 0.0f; t < 0.5f; t += 0.05f)
    EXPECT_GT(compliance_probability(propensity, t, 50.0f, r), compliance_probability(propensity, t + 0.05f, 50.0f, r));
  EXPECT_FLOAT_EQ(time_share(6.0, 160.0, 2), 6.0f / 320.0f);
  EXPECT_FLOAT_EQ(time_share(6.0, 160.0, 0), 6.0f / 160.0f);  // at least one adult
}

TEST(GraduationRules, ExpectedTransfersCountThePaymentsStillDueTimesCompliance) {
  // From September (month 8): payments in months 9, 11, ..., 19.
  EXPECT_DOUBLE_EQ(expected_transfers_next_year(true, 8, 100, 200.0, 1.0), 1200.0);
  EXPECT_DOUBLE_EQ(expected_transfers_next_year(true, 8, 100, 200.0, 0.5), 600.0);
  // Eligible through month 12 (ages out at 13): payments 9 and 11.
  EXPECT_DOUBLE_EQ(expected_transfers_next_year(true, 8, 5, 200.0, 1.0), 400.0);
  EXPECT_DOUBLE_EQ(expected_transfers_next_year(true, 7, 2, 200.0, 1.0), 0.0);  // month 8 is no payment month
  EXPECT_DOUBLE_EQ(expected_transfers_next_year(true, 8, 2, 200.0, 1.0), 200.0);
  EXPECT_DOUBLE_EQ(expected_transfers_next_year(false, 8, 100, 200.0, 1.0), 0.0);
  // Months left from the members: the youngest child still in school; a pregnancy counts a whole childhood.
  const std::int16_t ages[kMaxMembers] = {400, 380, 200, 60, -1, -1, -1, -1, -1, -1};
  const std::uint8_t done[kMaxMembers] = {1, 1, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(months_of_eligibility_left(ages, done, 0, 228), 228 - 60);
  const std::uint8_t youngest_done[kMaxMembers] = {1, 1, 0, 1, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(months_of_eligibility_left(ages, youngest_done, 0, 228), 228 - 200);
  EXPECT_EQ(months_of_eligibility_left(ages, youngest_done, 3, 228), 228);
  const std::uint8_t all_done[kMaxMembers] = {1, 1, 1, 1, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(months_of_eligibility_left(ages, all_done, 0, 228), 0);
}

TEST(GraduationRules, TakeUpFallsWithRemotenessMissingLabourAndMissingCash) {
  TakeupResponse r;
  r.intercept = 0.7;
  r.farm_labour = 1.0;
  r.juntos = 0.1;
  r.labour = 0.5;
  r.distance = 1.0;
  r.liquidity = 0.5;
  r.interest_sd = 1.0;
  TakeupHousehold h;
  h.farm_labour_share = 0.8f;
  h.adults = 2;
  h.market_access = 1.0f;
  h.cash_pen = 500.0f;
  h.complement_pen = 100.0;
  const double p = takeup_probability(r, h, 0.0);
  EXPECT_NEAR(p, 1.0 / (1.0 + std::exp(-(0.7 + 0.8))), 1e-7);
  TakeupHousehold remote = h, one_adult = h, no_cash = h, no_complement = h, juntos = h;
  remote.market_access = 0.2f;
  one_adult.adults = 1;
  no_cash.cash_pen = 0.0f;
  no_complement.cash_pen = 0.0f;
  no_complement.complement_pen = 0.0;
  juntos.juntos = true;
  EXPECT_LT(takeup_probability(r, remote, 0.0), p);
  EXPECT_LT(takeup_probability(r, one_adult, 0.0), p);
  EXPECT_LT(takeup_probability(r, no_cash, 0.0), p);
  EXPECT_DOUBLE_EQ(takeup_probability(r, no_complement, 0.0), p);  // nothing to pay: cash does not matter
  EXPECT_GT(takeup_probability(r, juntos, 0.0), p);
  EXPECT_GT(takeup_probability(r, h, 1.0), p);  // interest
  EXPECT_FLOAT_EQ(visits_received(4, 0.25f, 1.0), 3.0f);
  EXPECT_FLOAT_EQ(visits_received(4, 0.0f, 1.0), 4.0f);
  EXPECT_FLOAT_EQ(visits_received(4, 2.0f, 1.0), 0.0f);
}

// ---- Juntos on hand-made worlds ----

using juntos_testing::exact_targeting;
using juntos_testing::kEnrolled;
using juntos_testing::kExited;
using juntos_testing::make_registry;

// The columns the re-certification reads from other modules, with every household's 12-month consumption per
// person at `c12`.
void add_economy_columns(World& w, float c12) {
  auto& h = w.households;
  float* c = h.add(col::consumption_pc_12m_pen);
  h.add(col::tech_state);
  for (std::size_t i = 0; i < w.household_count(); ++i) c[i] = c12;
}

// Households of one covered district whose static score is `score0` (land 0.5 ha and an unmet need), with a
// young child: eligible whenever classified.
float wealth_scoring(double score0) { return static_cast<float>(score0 + 0.3 - 0.2 * std::log(0.5 / 1.3)); }
std::vector<juntos_testing::HouseholdSpec> households_scoring(double score0, std::size_t n) {
  std::vector<juntos_testing::HouseholdSpec> hh(n);
  for (auto& s : hh) s.wealth = wealth_scoring(score0);
  return hh;
}

// Every household meets every check, with the channel (its probability recomputed from the propensity) or
// without it.
void always_comply(World& w) {
  juntos_testing::always_comply(w);
  float* propensity = w.households.get(col::juntos_compliance_logit);
  for (std::size_t i = 0; i < w.household_count(); ++i) propensity[i] = 50.0f;
}

struct JuntosMonths {
  std::vector<std::vector<std::uint8_t>> status, reason, eligible;
  std::vector<std::vector<float>> score;
};

// Runs Juntos for `months` months (members age), calling `before(m)` first; records status, exit reason, score.
JuntosMonths run_juntos(World& w, ParamSet& ps, int months, const std::function<void(int)>& before = {},
                        bool comply = true) {
  Juntos juntos;
  juntos.setup(w, ps, rng::StreamSeed{5, 0});
  if (comply) always_comply(w);
  JuntosMonths out;
  const auto n = w.household_count();
  juntos_testing::run(
      w, juntos, ps, months,
      [&](int m) {
        if (m > 0) juntos_testing::age_members(w);
        if (before) before(m);
      },
      [&](int) {
        const auto* st = w.households.get(col::juntos_status);
        const auto* re = w.households.get(col::juntos_exit_reason);
        const auto* sc = w.households.get(col::juntos_score);
        const auto* el = w.households.get(col::juntos_eligible);
        out.status.emplace_back(st, st + n);
        out.reason.emplace_back(re, re + n);
        out.eligible.emplace_back(el, el + n);
        out.score.emplace_back(sc, sc + n);
      });
  return out;
}

TEST(GraduationJuntos, GainsAboveTheCutOffLeaveJuntosAtTheNextRecertificationOnlyWithTheChannel) {
  const Registry reg = make_registry();
  for (const bool graduation : {false, true}) {
    ParamSet ps(reg);
    exact_targeting(ps);
    ps.set("economy.graduation.enabled", graduation);
    ps.set("juntos.recertification_months", std::int64_t{12});
    // Score 0.3 below the cut-off (-0.2): enrolled from the start.
    World w = juntos_testing::make_world({0.6f}, {{0, 0.5f}}, households_scoring(-0.5, 40));
    add_economy_columns(w, 150.0f);
    float* c12 = w.households.get(col::consumption_pc_12m_pen);
    // From month 3 the first 20 households consume twice as much: +0.8 ln 2 = +0.55 lifts their score to about
    // +0.05, above the cut-off.
    const JuntosMonths t = run_juntos(w, ps, 24, [&](int m) {
      if (m == 3)
        for (std::size_t i = 0; i < 20; ++i) c12[i] = 300.0f;
    });
    const auto* offset = w.households.get(col::juntos_recert_offset);
    for (std::size_t i = 0; i < 40; ++i) {
      ASSERT_EQ(t.status[0][i], kEnrolled);
      const bool gained = i < 20;
      // The first re-certification from month 3.
      int recert = offset[i];
      while (recert < 3) recert += 12;
      for (int m = 0; m < 24; ++m) {
        const bool out = graduation && gained && m >= recert;
        EXPECT_EQ(t.status[static_cast<std::size_t>(m)][i], out ? kExited : kEnrolled)
            << "household " << i << " month " << m << " graduation " << graduation;
        if (out) {
          EXPECT_EQ(t.reason[static_cast<std::size_t>(m)][i],
                    static_cast<std::uint8_t>(JuntosExitReason::lost_classification));
          EXPECT_NEAR(t.score[static_cast<std::size_t>(m)][i], -0.5 + 0.8 * std::log(2.0), 1e-5);
        }
      }
    }
  }
}

TEST(GraduationJuntos, ConsumptionFallsAndDebtBringHouseholdsIntoJuntos) {
  const Registry reg = make_registry();
  for (const bool graduation : {false, true}) {
    ParamSet ps(reg);
    exact_targeting(ps);
    ps.set("economy.graduation.enabled", graduation);
    ps.set("juntos.recertification_months", std::int64_t{12});
    // Score 0.2 above the cut-off: not the PMT's target at baseline.
    World w = juntos_testing::make_world({0.6f}, {{0, 0.5f}}, households_scoring(0.0, 30));
    add_economy_columns(w, 300.0f);
    float* c12 = w.households.get(col::consumption_pc_12m_pen);
    float* debt = w.households.get(col::debt_pen);
    // A bad year halves the consumption of households 0-9 (-0.55); households 10-19 borrow PEN 4,000 (-0.4).
    const JuntosMonths t = run_juntos(w, ps, 24, [&](int m) {
      if (m != 2) return;
      for (std::size_t i = 0; i < 10; ++i) c12[i] = 150.0f;
      for (std::size_t i = 10; i < 20; ++i) debt[i] = 4000.0f;
    });
    const auto* offset = w.households.get(col::juntos_recert_offset);
    for (std::size_t i = 0; i < 30; ++i) {
      int recert = offset[i];
      while (recert < 2) recert += 12;
      for (int m = 0; m < 24; ++m) {
        const bool in = graduation && i < 20 && m >= recert;
        EXPECT_EQ(t.status[static_cast<std::size_t>(m)][i] == kEnrolled, in)
            << "household " << i << " month " << m << " graduation " << graduation;
      }
    }
  }
}

TEST(GraduationJuntos, UnchangedWelfareAndAssetsLeaveEveryClassificationAsWithoutTheChannel) {
  const Registry reg = make_registry();
  JuntosMonths t[2];
  for (const bool graduation : {false, true}) {
    ParamSet ps(reg);
    ps.set("economy.graduation.enabled", graduation);
    ps.set("juntos.recertification_months", std::int64_t{12});
    World w = juntos_testing::random_world(2000);
    add_economy_columns(w, 250.0f);
    t[graduation] = run_juntos(w, ps, 30, {}, false);
  }
  // Eligibility (the classification) and the score are the same; compliance differs (the channel's duties).
  EXPECT_EQ(t[0].eligible, t[1].eligible);
  EXPECT_EQ(t[0].score, t[1].score);
}

TEST(GraduationJuntos, AffiliatedHouseholdsDutiesOpenTheMonthsProgrammeTime) {
  const Registry reg = make_registry();
  for (const bool graduation : {false, true}) {
    ParamSet ps(reg);
    exact_targeting(ps);
    ps.set("economy.graduation.enabled", graduation);
    // Household 0 enrols (two adults); household 1 is not poor (no duties); household 2 has one adult.
    std::vector<juntos_testing::HouseholdSpec> hh = households_scoring(-0.5, 3);
    hh[1].wealth = wealth_scoring(1.0);
    hh[2].ages_months = {35 * 12, 5 * 12};
    hh[2].secondary_done = {1, 0};
    World w = juntos_testing::make_world({0.6f}, {{0, 0.5f}}, hh);
    add_economy_columns(w, 200.0f);
    run_juntos(w, ps, 2);
    const float* tb = w.households.get(col::time_burden);
    EXPECT_FLOAT_EQ(tb[0], graduation ? 6.0f / 320.0f : 0.0f);
    EXPECT_FLOAT_EQ(tb[1], 0.0f);
    EXPECT_FLOAT_EQ(tb[2], graduation ? 6.0f / 160.0f : 0.0f);
  }
}

// Share of the co-responsibility checks of affiliated households that were met over `months`, on 3,000 random
// households, with these settings.
double met_share(const std::function<void(ParamSet&)>& settings, float cash, double* checks_out = nullptr) {
  const Registry reg = make_registry();
  ParamSet ps(reg);
  ps.set("juntos.recertification_months", std::int64_t{0});
  settings(ps);
  World w = juntos_testing::random_world(3000);
  add_economy_columns(w, 200.0f);
  float* c = w.households.get(col::cash_pen);
  for (std::size_t i = 0; i < w.household_count(); ++i) c[i] = cash;
  Juntos juntos;
  juntos.setup(w, ps, rng::StreamSeed{9, 0});
  double met = 0, checks = 0;
  juntos_testing::run(w, juntos, ps, 36, {}, [&](int m) {
    if (m % 2 == 0) return;
    const auto* st = w.households.get(col::juntos_status);
    const auto* co = w.households.get(col::juntos_compliant);
    for (std::size_t i = 0; i < w.household_count(); ++i) {
      if (!juntos_testing::affiliated(st[i])) continue;
      checks += 1;
      met += co[i];
    }
  });
  if (checks_out != nullptr) *checks_out = checks;
  return met / checks;
}

TEST(GraduationJuntos, MoreProgrammeTimeAndNoCashForTheTravelLowerCompliance) {
  const auto duties = [](double hours, bool graduation) {
    return [=](ParamSet& ps) {
      ps.set("economy.graduation.enabled", graduation);
      ps.set("juntos.duty_hours_per_month", hours);
    };
  };
  double n = 0;
  const double light = met_share(duties(6.0, true), 100.0f, &n), heavy = met_share(duties(60.0, true), 100.0f);
  const double poor = met_share(duties(6.0, true), 0.0f);
  // Without the channel neither time nor cash matters: the same checks, bit for bit.
  EXPECT_EQ(met_share(duties(6.0, false), 100.0f), met_share(duties(60.0, false), 0.0f));
  const double se = std::sqrt(2.0 * light * (1.0 - light) / n);
  EXPECT_GT(light - heavy, 4.0 * se) << light << " " << heavy;
  EXPECT_GT(light - poor, 4.0 * se) << light << " " << poor;
}

// ---- The whole model ----

// Affiliated households' mean compliance (last check) and wage income in the third year.
struct AffiliatedOutcomes {
  double compliance = 0, wage = 0, households = 0;
};
AffiliatedOutcomes affiliated_outcomes(bool graduation, double duty_hours) {
  ParamSet p(registry());
  p.set("economy.graduation.enabled", graduation);
  p.set("juntos.duty_hours_per_month", duty_hours);
  p.set("haku_winay.enabled", false);
  AffiliatedOutcomes o;
  double checks = 0;
  testing::run_model(p, 36, [&](const World& w, int m) {
    if (m < 24) return;
    const auto* st = w.households.get(col::juntos_status);
    const auto* co = w.households.get(col::juntos_compliant);
    const auto* wage = w.households.get(col::income_wage_pen);
    for (std::size_t i = 0; i < w.household_count(); ++i) {
      if (!juntos_testing::affiliated(st[i])) continue;
      o.wage += wage[i];
      o.households += 1;
      if (m % 2 == 1) {
        o.compliance += co[i];
        checks += 1;
      }
    }
  });
  o.compliance /= checks;
  o.wage /= o.households;
  return o;
}

TEST(GraduationWholeModel, MoreProgrammeTimeLowersComplianceAndWageIncome) {
  const AffiliatedOutcomes light = affiliated_outcomes(true, 6.0), heavy = affiliated_outcomes(true, 48.0);
  // 48 hours a month are about 15% of two adults' time: wage work falls by about that share of its time and the
  // log-odds of compliance by about 0.3.
  EXPECT_LT(heavy.wage, 0.95 * light.wage) << light.wage << " " << heavy.wage;
  EXPECT_GT(light.compliance - heavy.compliance, 0.01) << light.compliance << " " << heavy.compliance;
  // Without the channel the duties take no time.
  const AffiliatedOutcomes off_light = affiliated_outcomes(false, 6.0), off_heavy = affiliated_outcomes(false, 48.0);
  EXPECT_EQ(off_light.wage, off_heavy.wage);
  EXPECT_EQ(off_light.compliance, off_heavy.compliance);
}

// ---- Haku Winay on hand-made worlds ----

using hw_testing::CentreSpec;
using hw_testing::HwRun;

struct TakeUp {
  double share(std::size_t from, std::size_t to) const {
    double p = 0;
    for (std::size_t i = from; i < to; ++i) p += participant[i];
    return p / static_cast<double>(to - from);
  }
  std::vector<std::uint8_t> participant;
};

// Take-up in a cohort offered to `centres`, after `prepare` has set the world up.
TakeUp take_up(const std::vector<CentreSpec>& centres, const hw_testing::HouseholdFn& household, bool graduation,
               const std::function<void(World&)>& prepare = {}, bool liquidity = false,
               const std::function<void(HwRun&)>& settings = {}) {
  World w = hw_testing::make_world({{}}, centres, household);
  if (prepare) prepare(w);
  HwRun run;
  run.set_bool("economy.graduation.enabled", graduation);
  run.set_bool("economy.liquidity.enabled", liquidity);
  if (settings) settings(run);
  run.setup(w);
  run.run(w, 7);
  const auto* p = w.households.get(col::hw_participant);
  return {std::vector<std::uint8_t>(p, p + w.household_count())};
}

TEST(GraduationHakuWinay, TakeUpFallsInRemoteCentresAndJuntosCentresKeepTheirBonus) {
  // Five remote centres (market access 0.1) and five close ones (0.9), 200 households each.
  std::vector<CentreSpec> centres(10, CentreSpec{0, 200, 0.7f});
  for (int c = 0; c < 10; ++c) centres[static_cast<std::size_t>(c)].market_access = c < 5 ? 0.1f : 0.9f;
  const auto plain = [](std::uint32_t, std::uint32_t) { return hw_testing::HouseholdSpec{}; };
  const TakeUp on = take_up(centres, plain, true), off = take_up(centres, plain, false);
  const double se = std::sqrt(0.25 / 1000.0);
  EXPECT_GT(on.share(1000, 2000) - on.share(0, 1000), 4.0 * se);
  // Without the channel every centre is centred on 72%.
  EXPECT_NEAR(off.share(0, 1000), 0.72, 4.0 * std::sqrt(0.72 * 0.28 / 1000.0));
  EXPECT_NEAR(off.share(1000, 2000), 0.72, 4.0 * std::sqrt(0.72 * 0.28 / 1000.0));

  // Centres of Juntos households against centres without: with the channel the bonus (0.1 log-odds, and more
  // with a larger setting) raises the Juntos centres' take-up instead of being rescaled away.
  std::vector<CentreSpec> same(10, CentreSpec{0, 200, 0.7f});
  const auto juntos_half = [](std::uint32_t c, std::uint32_t) {
    hw_testing::HouseholdSpec s;
    s.juntos = c < 5 ? 1 : 0;
    return s;
  };
  World w = hw_testing::make_world({{}}, same, juntos_half);
  HwRun run;
  run.set_bool("economy.graduation.enabled", true);
  run.set("haku_winay.takeup_juntos_logit", 0.6);
  run.setup(w);
  run.run(w, 7);
  const auto* p = w.households.get(col::hw_participant);
  double juntos = 0, others = 0;
  for (std::size_t i = 0; i < 1000; ++i) juntos += p[i];
  for (std::size_t i = 1000; i < 2000; ++i) others += p[i];
  EXPECT_GT((juntos - others) / 1000.0, 4.0 * se);
}

TEST(GraduationHakuWinay, TakeUpFallsWithMissingLabourAndMissingCashForTheComplement) {
  std::vector<CentreSpec> centres(10, CentreSpec{0, 200, 0.7f});
  const auto plain = [](std::uint32_t, std::uint32_t) { return hw_testing::HouseholdSpec{}; };
  // The first half of each centre has one adult (the second adult's slot emptied) and no cash; the second
  // half two adults and PEN 2,000.
  const auto prepare = [](World& w) {
    auto* age = w.households.get(col::member_age_months);
    auto* cash = w.households.get(col::cash_pen);
    for (std::size_t i = 0; i < w.household_count(); ++i) {
      const bool first_half = i % 200 < 100;
      if (first_half) age[i * kMaxMembers + 1] = -1;
      cash[i] = first_half ? 0.0f : 2000.0f;
    }
  };
  const auto halves = [](const TakeUp& t) {
    double a = 0, b = 0;
    for (std::size_t i = 0; i < t.participant.size(); ++i) (i % 200 < 100 ? a : b) += t.participant[i];
    return std::pair<double, double>{a / 1000.0, b / 1000.0};
  };
  const double se = std::sqrt(0.25 / 1000.0);
  // Larger responses than the defaults, so that 2,000 households show them clearly.
  const auto stronger = [](HwRun& run) {
    run.set("haku_winay.takeup_labour_logit", 1.5);
    run.set("haku_winay.takeup_liquidity_logit", 1.0);
  };
  const auto [short_no_liq, full_no_liq] = halves(take_up(centres, plain, true, prepare, false, stronger));
  const auto [short_liq, full_liq] = halves(take_up(centres, plain, true, prepare, true, stronger));
  // Missing labour alone (nothing to pay without the liquidity channel), then labour and cash together.
  EXPECT_GT(full_no_liq - short_no_liq, 4.0 * se);
  EXPECT_GT((full_liq - short_liq) - (full_no_liq - short_no_liq), 2.0 * se);
  EXPECT_LT(short_liq, short_no_liq);
}

TEST(GraduationHakuWinay, OtherProgrammeTimeCutsTheVisitsReceivedWhichAddToProgrammeTime) {
  World w = hw_testing::make_world({{}}, std::vector<CentreSpec>(2, CentreSpec{0, 100, 0.7f}));
  HwRun run;
  run.set_bool("economy.graduation.enabled", true);
  run.setup(w);
  float* tb = w.households.get(col::time_burden);
  const auto* visits = w.households.get(col::hw_visits);
  const auto* trainers = w.households.get(col::cost_hw_trainers_pen);
  const auto* participant = w.households.get(col::hw_participant);
  double participants = 0;
  for (int m = 0; m < 12; ++m) {
    // What Juntos's payment phase leaves before the stages: a quarter of the time of even households.
    for (std::size_t i = 0; i < w.household_count(); ++i) tb[i] = i % 2 == 0 ? 0.25f : 0.0f;
    run.step(w, m);
    if (m < 7) continue;  // the cohort starts in July (month 6)
    for (std::size_t i = 0; i < w.household_count(); ++i) {
      if (!participant[i]) continue;
      participants += 1;
      const float offered = trainers[i] / 20.0f;  // PEN 20 a visit offered, in year 1
      const float other = i % 2 == 0 ? 0.25f : 0.0f;
      EXPECT_FLOAT_EQ(visits[i], visits_received(static_cast<int>(std::lround(offered)), other, 1.0));
      EXPECT_FLOAT_EQ(tb[i], other + time_share(3.0 * visits[i], 160.0, 2));
    }
  }
  EXPECT_GT(participants, 100.0);
}

// A world that reaches the CLAR (June 2019, month 29) with households of varied capacity, for the counterpart.
World clar_world() {
  World w = hw_testing::make_world({{}}, std::vector<CentreSpec>(4, CentreSpec{0, 100, 0.7f}),
                                   [](std::uint32_t c, std::uint32_t k) {
                                     hw_testing::HouseholdSpec s;
                                     s.productive_capacity = 0.3f + 0.05f * static_cast<float>((k * 37 + c * 11) % 41);
                                     return s;
                                   });
  w.households.add(col::permanent_income_pen);
  return w;
}

TEST(GraduationHakuWinay, GroupsThatCannotPayTheirCounterpartStartTheirBusinessLate) {
  for (const bool liquidity : {false, true}) {
    World w = clar_world();
    HwRun run;
    run.set_bool("economy.liquidity.enabled", liquidity);
    run.set("haku_winay.plan_noise_sd", 0.0);
    run.set("haku_winay.business_failure_rate_year", 0.0);
    run.setup(w);
    // Nobody has cash or income to borrow against until month 33.
    float* cash = w.households.get(col::cash_pen);
    float* permanent = w.households.get(col::permanent_income_pen);
    run.run(w, 30);
    const auto& businesses = run.hw->businesses();
    ASSERT_FALSE(businesses.empty());
    const auto* status = w.households.get(col::business_status);
    const auto* investment = w.households.get(col::investment_pen);
    for (int m = 30; m < 36; ++m) {
      if (m == 33)
        for (std::size_t i = 0; i < w.household_count(); ++i) {
          cash[i] = 3000.0f;
          permanent[i] = 400.0f;
        }
      run.step(w, m);
      for (const auto& b : businesses) {
        const auto& g = run.hw->groups()[b.group];
        const std::uint32_t first = run.hw->group_members()[g.first_member];
        // Without the channel the business starts the month after the CLAR (30); with it, once its members can
        // pay (month 33): from 34.
        const int start = liquidity ? 34 : 30;
        EXPECT_EQ(b.start_month, m >= 33 || !liquidity ? start : models::kAwaitingCounterpart) << m;
        EXPECT_EQ(status[first], (m >= 33 || !liquidity) ? 1 : 0) << m;
      }
    }
    // Each member paid 10% of the prize split among its group, from cash above the reserve of one month of
    // permanent income.
    for (const auto& b : businesses) {
      const auto& g = run.hw->groups()[b.group];
      for (int j = 0; j < g.size; ++j) {
        const std::uint32_t i = run.hw->group_members()[g.first_member + static_cast<std::uint32_t>(j)];
        const float owed = liquidity ? static_cast<float>(0.1 * 19500.0 / g.size) : 0.0f;
        EXPECT_FLOAT_EQ(investment[i], owed);
        EXPECT_FLOAT_EQ(cash[i], 3000.0f - owed);
      }
    }
  }
}

}  // namespace
}  // namespace chacra::models
