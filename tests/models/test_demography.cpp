// File: tests/models/test_demography.cpp
// Demography: aging, pregnancy and birth timing, secondary completion, young adults leaving, deaths, and
// the monthly conception rate against its hazard.
#include "tests/models/world_fixture.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace chacra::testing {
namespace {

using models::col::household_size;
using models::col::member_age_months;
using models::col::member_female;
using models::col::member_secondary_done;
using models::col::pregnancy_month;
using models::col::school_children;

TEST(Demography, MembersAgeOneMonthPerStep) {
  Models m;
  m.freeze_demography();
  World w = make_world({.households_per_centre = 20}, HouseholdSpec{.member_age_years = {40, 38, 12, 2, 0.5}});
  m.setup(w);
  std::vector<std::int16_t> before(column<std::int16_t>(w, member_age_months),
                                   column<std::int16_t>(w, member_age_months) + w.household_count() * kMaxMembers);
  for (int month = 0; month < 7; ++month) m.run(w, m.demography.step_phase(), month);
  const auto* age = column<std::int16_t>(w, member_age_months);
  for (std::size_t k = 0; k < before.size(); ++k) {
    if (before[k] < 0)
      EXPECT_EQ(age[k], -1) << "an empty slot stays empty without births";
    else
      EXPECT_EQ(age[k], before[k] + 7);
  }
  EXPECT_EQ(column<std::uint8_t>(w, household_size)[0], 5);
}

TEST(Demography, PregnancyEndsInABirthNineMonthsAfterConception) {
  Models m;
  m.set("demography.conception_hazard", 1.0);  // conceives in the first month without a pregnancy
  m.set("demography.leave_hazard", 0.0);
  m.set("demography.old_age_mortality", 0.0);
  World w = make_world({.households_per_centre = 3},
                       HouseholdSpec{.member_age_years = {30, 27, 4}, .member_female = {0, 1, 0}});
  m.setup(w);
  auto* preg = column<std::uint8_t>(w, pregnancy_month);
  for (std::size_t i = 0; i < w.household_count(); ++i) preg[i] = 0;
  const Phase step = m.demography.step_phase();
  m.run(w, step, 0);  // conception
  for (std::size_t i = 0; i < w.household_count(); ++i) EXPECT_EQ(preg[i], 1);
  for (int month = 1; month <= 8; ++month) {
    m.run(w, step, month);
    for (std::size_t i = 0; i < w.household_count(); ++i) {
      EXPECT_EQ(preg[i], month + 1);
      EXPECT_EQ(column<std::uint8_t>(w, household_size)[i], 3) << "no birth before nine months";
    }
  }
  m.run(w, step, 9);  // the ninth month after conception: birth
  const auto* age = column<std::int16_t>(w, member_age_months);
  for (std::size_t i = 0; i < w.household_count(); ++i) {
    EXPECT_EQ(preg[i], 0) << "no new conception in the month of a birth";
    EXPECT_EQ(column<std::uint8_t>(w, household_size)[i], 4);
    EXPECT_EQ(age[i * kMaxMembers + 3], 0) << "the newborn takes the first empty slot";
    EXPECT_EQ(age[i * kMaxMembers + 2], 4 * 12 + 10);
  }
  m.run(w, step, 10);
  for (std::size_t i = 0; i < w.household_count(); ++i) {
    EXPECT_EQ(preg[i], 1);
    EXPECT_EQ(age[i * kMaxMembers + 3], 1);
  }
}

TEST(Demography, FullHouseholdRecordsNoNewbornButEndsThePregnancy) {
  Models m;
  m.freeze_demography();
  HouseholdSpec full;
  full.member_age_years = {40, 30, 16, 14, 12, 10, 8, 6, 4, 2};
  full.member_female = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
  World w = make_world({.households_per_centre = 1}, full);
  m.setup(w);
  column<std::uint8_t>(w, pregnancy_month)[0] = 9;
  m.run(w, m.demography.step_phase(), 0);
  EXPECT_EQ(column<std::uint8_t>(w, pregnancy_month)[0], 0);
  EXPECT_EQ(column<std::uint8_t>(w, household_size)[0], 10);
}

TEST(Demography, SecondaryCompletionAtSeventeen) {
  for (double prob : {0.0, 1.0}) {
    Models m;
    m.freeze_demography();
    m.set("demography.secondary_completion_prob", prob);
    World w = make_world({.households_per_centre = 5},
                         HouseholdSpec{.member_age_years = {45, 44, 17.0 - 1.0 / 12.0, 10}});
    m.setup(w);
    const auto* done = column<std::uint8_t>(w, member_secondary_done);
    EXPECT_EQ(done[2], 0);
    EXPECT_EQ(column<std::uint8_t>(w, school_children)[0], 2);
    m.run(w, m.demography.step_phase(), 0);
    for (std::size_t i = 0; i < w.household_count(); ++i) {
      EXPECT_EQ(done[i * kMaxMembers + 2], prob > 0 ? 1 : 0);
      EXPECT_EQ(done[i * kMaxMembers + 3], 0);
      EXPECT_EQ(column<std::uint8_t>(w, school_children)[i], prob > 0 ? 1 : 2)
          << "a child who finished secondary no longer attends school";
    }
  }
}

TEST(Demography, OnlyChildrenOfTheHouseholdLeave) {
  Models m;
  m.freeze_demography();
  m.set("demography.leave_hazard", 1.0);
  World w = make_world({.households_per_centre = 2}, [](std::size_t i) {
    // Household 0: parents 50 and 47 with children 22 and 20. Household 1: a young couple, 22 and 20.
    return i == 0 ? HouseholdSpec{.member_age_years = {50, 47, 22, 20}, .member_female = {0, 1, 0, 1}}
                  : HouseholdSpec{.member_age_years = {22, 20, 1}, .member_female = {0, 1, 0}};
  });
  m.setup(w);
  const Phase step = m.demography.step_phase();
  m.run(w, step, 0);
  const auto* age = column<std::int16_t>(w, member_age_months);
  const auto* size = column<std::uint8_t>(w, household_size);
  EXPECT_EQ(size[0], 3) << "one young adult leaves per month, the oldest first";
  EXPECT_EQ(age[2], -1);
  EXPECT_EQ(size[1], 3) << "a couple without an older member stays";
  m.run(w, step, 1);
  EXPECT_EQ(size[0], 2);
  EXPECT_EQ(age[3], -1);
}

TEST(Demography, TheLastMemberNeverDies) {
  Models m;
  m.freeze_demography();
  m.set("demography.old_age_mortality", 1.0);
  World w = make_world({.households_per_centre = 1}, HouseholdSpec{.member_age_years = {80, 75}});
  m.setup(w);
  const Phase step = m.demography.step_phase();
  m.run(w, step, 0);
  EXPECT_EQ(column<std::uint8_t>(w, household_size)[0], 1);
  EXPECT_EQ(column<std::int16_t>(w, member_age_months)[0], -1) << "the oldest dies first";
  for (int month = 1; month < 12; ++month) m.run(w, step, month);
  EXPECT_EQ(column<std::uint8_t>(w, household_size)[0], 1);
}

// The share of non-pregnant households with one fertile woman that conceive in a month is the hazard
// (within 4 standard errors), and women outside the fertile ages never conceive.
TEST(Demography, ConceptionRateMatchesHazard) {
  const double h = 0.05;
  Models m;
  m.freeze_demography();
  m.set("demography.conception_hazard", h);
  const int n = 8000;
  World w = make_world({.centres_per_district = 20, .households_per_centre = n / 20, .block_households = 512},
                       [](std::size_t i) {
                         return i % 2 == 0 ? HouseholdSpec{.member_age_years = {30, 28}, .member_female = {0, 1}}
                                           : HouseholdSpec{.member_age_years = {60, 50}, .member_female = {0, 1}};
                       });
  m.setup(w);
  auto* preg = column<std::uint8_t>(w, pregnancy_month);
  int pregnant_at_setup = 0;
  for (int i = 0; i < n; i += 2) pregnant_at_setup += preg[i] > 0;
  // Stationary share pregnant: 9h / (9h + 1).
  const double p0 = 9 * h / (9 * h + 1), se0 = std::sqrt(p0 * (1 - p0) / (n / 2));
  EXPECT_NEAR(pregnant_at_setup / (n / 2.0), p0, 4 * se0);
  for (int i = 0; i < n; ++i) preg[i] = 0;
  m.run(w, m.demography.step_phase(), 0);
  int conceived = 0, older = 0;
  for (int i = 0; i < n; ++i) (i % 2 == 0 ? conceived : older) += preg[i] == 1;
  const double se = std::sqrt(h * (1 - h) / (n / 2));
  EXPECT_NEAR(conceived / (n / 2.0), h, 4 * se);
  EXPECT_EQ(older, 0);
}

// Draws are keyed by (month, household): the same month gives the same events whatever ran before.
TEST(Demography, EventsDependOnlyOnMonthAndHousehold) {
  auto run = [](int first_month) {
    Models m;
    m.set("demography.conception_hazard", 0.2);
    World w = make_world({.households_per_centre = 200}, HouseholdSpec{});
    m.setup(w);
    auto* preg = column<std::uint8_t>(w, pregnancy_month);
    for (std::size_t i = 0; i < w.household_count(); ++i) preg[i] = 0;
    m.run(w, m.demography.step_phase(), first_month);
    return std::vector<std::uint8_t>(preg, preg + w.household_count());
  };
  EXPECT_EQ(run(5), run(5));
  EXPECT_NE(run(5), run(6));
}

}  // namespace
}  // namespace chacra::testing
