// File: tests/models/test_adoption.cpp
// Technology adoption: degenerate hazards, the peer function (threshold and inverse-U), hard constraints,
// the liquidity channel, push reset, common random numbers, adoption/drop rates against their hazards, and
// the phase's screened driver against the plain rule.
#include "tests/models/world_fixture.hpp"

#include "models/adoption_rules.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace chacra::testing {
namespace {

using models::Adoption;
using models::kTechCount;
using models::Tech;
using models::tech_index;
using models::TechState;
namespace col = models::col;

constexpr auto kAdopted = static_cast<std::uint8_t>(TechState::adopted);
constexpr auto kDropped = static_cast<std::uint8_t>(TechState::dropped);
constexpr auto kNever = static_cast<std::uint8_t>(TechState::never);

int count_state(const World& w, int tech, std::uint8_t state) {
  const auto* s = column<std::uint8_t>(w, col::tech_state);
  int n = 0;
  for (std::size_t i = 0; i < w.household_count(); ++i) n += s[i * kTechCount + tech] == state;
  return n;
}

void set_state(World& w, std::size_t household, int tech, std::uint8_t state) {
  column<std::uint8_t>(w, col::tech_state)[household * kTechCount + tech] = state;
}

void push_all(World& w, int tech, float value) {
  auto* push = column<float>(w, col::adoption_push);
  for (std::size_t i = 0; i < w.household_count(); ++i) push[i * kTechCount + tech] = value;
}

// Nobody ever adopts when baseline shares, baseline hazards, pushes and the peer strength are all zero.
TEST(Adoption, ZeroHazardGivesNoAdopters) {
  Models m;
  m.set_all_techs("adoption", "baseline_share", 0.0);
  m.set_all_techs("adoption", "baseline_hazard", 0.0);
  m.set("adoption.peer_strength", 0.0);
  World w = make_world({.centres_per_district = 4, .households_per_centre = 50});
  m.setup(w);
  for (int month = 0; month < 36; ++month) m.step(w, month);
  for (int t = 0; t < kTechCount; ++t) EXPECT_EQ(count_state(w, t, kNever), static_cast<int>(w.household_count()));
}

// With zero hazards but baseline adopters, the households that never adopted stay non-adopters (the peer
// term is off) and nobody drops when drop hazards are zero: the states are frozen.
TEST(Adoption, FrozenDynamicsKeepBaselineStates) {
  Models m;
  m.freeze_adoption();
  World w = make_world({.centres_per_district = 4, .households_per_centre = 50});
  m.setup(w);
  const auto* s = column<std::uint8_t>(w, col::tech_state);
  const std::vector<std::uint8_t> before(s, s + w.household_count() * kTechCount);
  for (int month = 0; month < 24; ++month) m.step(w, month);
  EXPECT_EQ(std::vector<std::uint8_t>(s, s + w.household_count() * kTechCount), before);
  EXPECT_GT(count_state(w, tech_index(Tech::vegetable_garden), kAdopted), 0);
}

TEST(Adoption, PeerFunctionHasThresholdAndInverseU) {
  const double threshold = 2, strength = 0.01, scale = 6;
  EXPECT_EQ(Adoption::peer_hazard(0, threshold, strength, scale), 0.0);
  EXPECT_EQ(Adoption::peer_hazard(1.999, threshold, strength, scale), 0.0);
  EXPECT_DOUBLE_EQ(Adoption::peer_hazard(scale, threshold, strength, scale), strength) << "peak at k = scale";
  EXPECT_DOUBLE_EQ(Adoption::peer_hazard(3, threshold, strength, scale), strength * 0.5 * std::exp(0.5));
  EXPECT_DOUBLE_EQ(Adoption::peer_hazard(12, threshold, strength, scale), strength * 2 * std::exp(-1.0));
  double prev = 0;
  for (double k = 2; k <= scale; k += 0.5) {
    const double v = Adoption::peer_hazard(k, threshold, strength, scale);
    EXPECT_GT(v, prev) << "rises up to the peak, k = " << k;
    prev = v;
  }
  for (double k = scale + 0.5; k < 60; k += 0.5) {
    const double v = Adoption::peer_hazard(k, threshold, strength, scale);
    EXPECT_LT(v, prev) << "falls after the peak, k = " << k;
    prev = v;
  }
  EXPECT_EQ(Adoption::peer_hazard(5, threshold, 0.0, scale), 0.0);
  // Adopters known: everyone in a centre smaller than the contact circle, a share of them in larger ones.
  EXPECT_DOUBLE_EQ(Adoption::known_adopters(3, 10, 20), 3.0);
  EXPECT_DOUBLE_EQ(Adoption::known_adopters(30, 201, 20), 3.0);
  EXPECT_EQ(Adoption::known_adopters(1, 1, 20), 0.0);
}

// In a centre with fewer adopters than the threshold nobody learns from neighbours, even with a huge peer
// strength; at the threshold, neighbours adopt at the peer hazard.
TEST(Adoption, PeerTermNeedsThresholdAdoptersInTheCentre) {
  const int veg = tech_index(Tech::vegetable_garden);
  Models m;
  m.set_all_techs("adoption", "baseline_share", 0.0);
  m.set_all_techs("adoption", "baseline_hazard", 0.0);
  m.set_all_techs("adoption", "drop_hazard_after", 0.0);
  m.set("adoption.peer_strength", 1.0);
  m.set("adoption.peer_scale", 2.0);  // peer(2) = 1: certain adoption at the threshold
  m.set("adoption.peer_threshold", 2.0);
  // Two centres of 10: centre 0 gets one adopter, centre 1 two.
  World w = make_world({.centres_per_district = 2, .households_per_centre = 10});
  m.setup(w);
  set_state(w, 0, veg, kAdopted);
  set_state(w, 10, veg, kAdopted);
  set_state(w, 11, veg, kAdopted);
  m.run(w, m.adoption.update_phase(), 0);
  const auto* s = column<std::uint8_t>(w, col::tech_state);
  for (int i = 1; i < 10; ++i) EXPECT_EQ(s[i * kTechCount + veg], kNever) << "household " << i;
  for (int i = 12; i < 20; ++i) EXPECT_EQ(s[i * kTechCount + veg], kAdopted) << "household " << i;
  for (int month = 1; month < 24; ++month) m.run(w, m.adoption.update_phase(), month);
  for (int i = 1; i < 10; ++i) EXPECT_EQ(s[i * kTechCount + veg], kNever) << "household " << i;
}

// The peer term's household order inside a centre does not matter: counts come from last month's states.
TEST(Adoption, PeerCountsUseLastMonthsStates) {
  const int veg = tech_index(Tech::vegetable_garden);
  Models m;
  m.set_all_techs("adoption", "baseline_share", 0.0);
  m.set_all_techs("adoption", "baseline_hazard", 0.0);
  m.set("adoption.peer_strength", 1.0);
  m.set("adoption.peer_scale", 3.0);
  m.set("adoption.peer_threshold", 3.0);  // 2 adopters: no learning this month, whoever adopts first
  m.set_all_techs("adoption", "drop_hazard_after", 0.0);
  World w = make_world({.households_per_centre = 10});
  m.setup(w);
  set_state(w, 0, veg, kAdopted);
  set_state(w, 1, veg, kAdopted);
  push_all(w, veg, 0.0f);
  // Household 2 adopts this month through a programme push; households after it must not see it yet.
  column<float>(w, col::adoption_push)[2 * kTechCount + veg] = 1.0f;
  m.run(w, m.adoption.update_phase(), 0);
  EXPECT_EQ(count_state(w, veg, kAdopted), 3);
  m.run(w, m.adoption.update_phase(), 1);
  EXPECT_EQ(count_state(w, veg, kAdopted), 10) << "three adopters reach the threshold next month";
}

// Sprinkler irrigation never happens without year-round water, whatever the push; with water a certain
// push adopts at once. Pasture likewise needs land.
TEST(Adoption, SprinklerNeedsWaterAndPastureNeedsLand) {
  const int spr = tech_index(Tech::sprinkler_irrigation), pas = tech_index(Tech::cultivated_pasture);
  Models m;
  m.set("adoption.sprinkler_irrigation.baseline_share", 0.5);
  m.set("adoption.sprinkler_irrigation.baseline_hazard", 0.5);
  m.set("adoption.cultivated_pasture.baseline_hazard", 0.5);
  m.set("adoption.cultivated_pasture_min_land_ha", 0.5);
  m.set("adoption.peer_strength", 1.0);
  World w = make_world({.centres_per_district = 2, .households_per_centre = 100}, [](std::size_t i) {
    HouseholdSpec s;
    s.water_access = i % 2 == 0 ? 1 : 0;
    s.land_ha = i % 4 < 2 ? 2.0f : 0.3f;
    return s;
  });
  m.setup(w);
  for (int month = 0; month < 60; ++month) {
    push_all(w, spr, 1.0f);
    push_all(w, pas, 1.0f);
    m.step(w, month);
    const auto* s = column<std::uint8_t>(w, col::tech_state);
    const auto* pasture = column<float>(w, col::pasture_ha);
    for (std::size_t i = 0; i < w.household_count(); ++i) {
      if (i % 2 == 1) {
        ASSERT_EQ(s[i * kTechCount + spr], kNever) << "household " << i << " month " << month;
      }
      if (i % 4 >= 2) {
        ASSERT_EQ(s[i * kTechCount + pas], kNever) << "household " << i << " month " << month;
        ASSERT_EQ(pasture[i], 0.0f);
      }
      if (s[i * kTechCount + pas] == kAdopted) {
        ASSERT_GT(pasture[i], 0.0f);
        ASSERT_LE(pasture[i], 0.4f * 2.0f + 1e-6f);
      } else {
        ASSERT_EQ(pasture[i], 0.0f);
      }
    }
  }
  EXPECT_GT(count_state(w, spr, kAdopted) + count_state(w, spr, kDropped), 90);
}

TEST(Adoption, PushIsResetAfterUse) {
  Models m;
  World w = make_world({.households_per_centre = 20});
  m.setup(w);
  for (int t = 0; t < kTechCount; ++t) push_all(w, t, 0.3f);
  m.run(w, m.adoption.update_phase(), 0);
  const auto* push = column<float>(w, col::adoption_push);
  for (std::size_t k = 0; k < w.household_count() * kTechCount; ++k) EXPECT_EQ(push[k], 0.0f);
}

// The liquidity channel: with a zero floor, a household without cash cannot take up a technology with an
// upkeep cost, and one with enough cash can.
TEST(Adoption, CashBelowUpkeepBlocksAdoptionWithZeroFloor) {
  const int shed = tech_index(Tech::small_animal_shed);
  Models m;
  m.set_all_techs("adoption", "baseline_share", 0.0);
  m.set("adoption.small_animal_shed.baseline_hazard", 1.0);
  m.set("adoption.small_animal_shed.upkeep_pen", 20.0);
  m.set("adoption.liquidity_adopt_floor", 0.0);
  World w = make_world({.households_per_centre = 20});
  m.setup(w);
  auto* cash = column<float>(w, col::cash_pen);
  for (std::size_t i = 0; i < w.household_count(); ++i) cash[i] = i < 10 ? 0.0f : 1000.0f;
  m.run(w, m.adoption.update_phase(), 0);
  const auto* s = column<std::uint8_t>(w, col::tech_state);
  for (std::size_t i = 0; i < w.household_count(); ++i)
    EXPECT_EQ(s[i * kTechCount + shed], i < 10 ? kNever : kAdopted) << "household " << i;
}

// Switching on a push for one technology leaves every other technology's path unchanged, draw for draw
// (its return, labour and upkeep are zero here so it cannot act through cash or income).
TEST(Adoption, PushForOneTechnologyLeavesOthersUnchanged) {
  const int veg = tech_index(Tech::vegetable_garden);
  auto run = [&](bool push) {
    Models m;
    m.set("livelihood.vegetable_garden.return_pen", 0.0);
    m.set("livelihood.vegetable_garden.labour_share", 0.0);
    m.set("adoption.vegetable_garden.upkeep_pen", 0.0);
    World w = make_world({.centres_per_district = 5, .households_per_centre = 40});
    m.setup(w);
    for (int month = 0; month < 24; ++month) {
      if (push) push_all(w, veg, 0.2f);
      m.step(w, month);
    }
    const auto* s = column<std::uint8_t>(w, col::tech_state);
    return std::vector<std::uint8_t>(s, s + w.household_count() * kTechCount);
  };
  const auto a = run(false), b = run(true);
  int veg_diff = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (static_cast<int>(k % kTechCount) == veg)
      veg_diff += a[k] != b[k];
    else
      ASSERT_EQ(a[k], b[k]) << "entry " << k;
  }
  EXPECT_GT(veg_diff, 20);
}

// Adoption and drop rates over a year against the analytic expectation, within 4 standard errors.
TEST(Adoption, YearlyRatesMatchHazards) {
  const double h = 0.02, d = 0.05;
  const int veg = tech_index(Tech::vegetable_garden), stove = tech_index(Tech::improved_stove);
  Models m;
  m.freeze_adoption();
  m.set_all_techs("adoption", "baseline_share", 0.0);
  m.set_all_techs("adoption", "upkeep_pen", 0.0);
  m.set("adoption.vegetable_garden.baseline_hazard", h);
  m.set("adoption.improved_stove.baseline_share", 1.0);
  m.set("adoption.improved_stove.drop_hazard_after", d);
  m.set("adoption.readopt_factor", 0.0);
  m.freeze_demography();
  const int n = 5000;
  World w = make_world({.centres_per_district = 50, .households_per_centre = n / 50, .block_households = 500});
  m.setup(w);
  for (int month = 0; month < 12; ++month) m.step(w, month);
  const double p_adopt = 1 - std::pow(1 - h, 12), p_drop = 1 - std::pow(1 - d, 12);
  EXPECT_NEAR(count_state(w, veg, kAdopted) / double(n), p_adopt, 4 * std::sqrt(p_adopt * (1 - p_adopt) / n));
  EXPECT_NEAR(count_state(w, stove, kDropped) / double(n), p_drop, 4 * std::sqrt(p_drop * (1 - p_drop) / n));
}

// The baseline states: adopters among eligible households at baseline_share / eligible share, and the
// dropped at baseline_dropped_ratio per adopter.
TEST(Adoption, BaselineSharesWithinStatisticalError) {
  Models m;
  const int n = 6000;
  World w = make_world({.centres_per_district = 30, .households_per_centre = n / 30},
                       [](std::size_t i) {
                         HouseholdSpec s;
                         s.water_access = i % 2;
                         return s;
                       });
  m.setup(w);
  const auto& p = m.adoption.params();
  for (int t = 0; t < kTechCount; ++t) {
    const double share = p.tech[t].baseline_share;
    const double se = std::sqrt(share * (1 - share) / n);
    EXPECT_NEAR(count_state(w, t, kAdopted) / double(n), share, 4 * se) << models::kTechNames[t];
    const double dropped = share * p.baseline_dropped_ratio;
    EXPECT_NEAR(count_state(w, t, kDropped) / double(n), dropped, 4 * std::sqrt(dropped * (1 - dropped) / n))
        << models::kTechNames[t];
  }
}

// Programme support keeps adopters: the drop hazard while supported is the supported one.
TEST(Adoption, SupportLowersDropping) {
  const int shed = tech_index(Tech::small_animal_shed);
  Models m;
  m.freeze_adoption();
  m.set("adoption.small_animal_shed.baseline_share", 1.0);
  m.set("adoption.small_animal_shed.drop_hazard_supported", 0.0);
  m.set("adoption.small_animal_shed.drop_hazard_after", 0.5);
  World w = make_world({.households_per_centre = 100});
  m.setup(w);
  auto* support = column<std::uint8_t>(w, col::support_active);
  for (std::size_t i = 0; i < w.household_count(); ++i) support[i] = i < 50;
  for (int month = 0; month < 12; ++month) m.run(w, m.adoption.update_phase(), month);
  const auto* s = column<std::uint8_t>(w, col::tech_state);
  int kept_supported = 0, kept_unsupported = 0;
  for (std::size_t i = 0; i < w.household_count(); ++i)
    (i < 50 ? kept_supported : kept_unsupported) += s[i * kTechCount + shed] == kAdopted;
  EXPECT_EQ(kept_supported, 50);
  EXPECT_LT(kept_unsupported, 3);
}

// The screened driver (a bound per technology, exact hazards only under it) leaves every household in the
// state the plain rule gives it, on random households with hazards large enough for many events.
TEST(AdoptionRules, ScreenedDriverMatchesThePlainRule) {
  rng::Stream s(6, 0, rng::domain_id("test.adoption_rule"), 0, 0);
  int events = 0, screened_out = 0;
  for (int trial = 0; trial < 400; ++trial) {
    models::AdoptionParams p;
    const double scale = trial % 2 == 0 ? 1.0 : 0.02;  // odd trials: hazards of the defaults' order
    for (auto& t : p.tech) {
      t.baseline_hazard = scale * 0.3 * s.uniform();
      t.drop_hazard_supported = scale * 0.2 * s.uniform();
      t.drop_hazard_after = scale * 0.3 * s.uniform();
      t.upkeep_pen = s.uniform() < 0.3 ? 0.0 : 20.0 * s.uniform();
    }
    p.asset_drop_factor = 0.3 + 2.0 * s.uniform();
    p.liquidity_cover_months = 3.0 * s.uniform();
    p.liquidity_adopt_floor = s.uniform();
    p.liquidity_drop_factor = 1.0 + 3.0 * s.uniform();
    p.labour_shortfall_factor = s.uniform();
    p.readopt_factor = 0.5 + 2.0 * s.uniform();
    const models::AdoptionConstants k(p);
    std::array<float, kTechCount> peer{};
    for (int t = 0; t < kTechCount; ++t) peer[t] = static_cast<float>(s.uniform() < 0.5 ? 0.0 : scale * 0.2 * s.uniform());
    const models::ScreenBounds bounds = models::screen_bounds(k, peer);
    for (int hh = 0; hh < 50; ++hh) {
      std::uint64_t w[4];
      for (auto& x : w) x = s();
      std::array<std::uint8_t, kTechCount> fast_state, plain_state, asset;
      std::array<float, kTechCount> push;
      for (int t = 0; t < kTechCount; ++t) {
        fast_state[t] = plain_state[t] = static_cast<std::uint8_t>(s.below(3));
        asset[t] = s.bernoulli(0.3) ? 1 : 0;
        push[t] = static_cast<float>(s.uniform() < 0.7 ? 0.0 : scale * 0.5 * s.uniform());
      }
      const std::array<std::uint8_t, kTechCount> before = fast_state;
      float fast_pasture = 0.2f, plain_pasture = 0.2f;
      const int adults = static_cast<int>(s.below(4));
      const auto cash = static_cast<float>(s.uniform() < 0.3 ? 0.0 : 100.0 * s.uniform());
      const bool supported = s.bernoulli(0.3), water = s.bernoulli(0.5);
      const auto land = static_cast<float>(2.0 * s.uniform());
      models::adopt_or_drop_screened(
          k, peer, bounds, w,
          {fast_state.data(), push.data(), asset.data(), &fast_pasture, adults, cash, supported, water, land});
      models::adopt_or_drop(
          k, peer, w, {plain_state.data(), push.data(), asset.data(), &plain_pasture, adults, cash, supported, water, land});
      ASSERT_EQ(fast_state, plain_state) << "trial " << trial << " household " << hh;
      ASSERT_EQ(fast_pasture, plain_pasture) << "trial " << trial << " household " << hh;
      events += fast_state != before ? 1 : 0;
      screened_out += models::screen(w, push.data(), models::adopted_mask(before.data()), bounds, k.readopt_max).candidates == 0 ? 1 : 0;
    }
  }
  // Both paths were exercised: many households changed state, and the screen ruled others out.
  EXPECT_GT(events, 1000);
  EXPECT_GT(screened_out, 1000);
}

// The phase's baseline business: owner_month is the rule (baseline_business_month) for an owner, and for a
// household without a business it changes nothing and returns whether the rule would start one. The phase relies
// on both: it runs owner_month for owners only, and for the others only compares u11 with the start hazard.
TEST(AdoptionRules, OwnerMonthIsTheRuleForOwnersAndLeavesOthersUnchanged) {
  rng::Stream s(8, 0, rng::domain_id("test.owner_month"), 0, 0);
  models::BusinessParams b;
  b.start_hazard = 0.3;  // starts and exits are rare with the defaults: large hazards exercise every branch
  b.background_exit_rate_year = 0.9;
  b.loss_months = 3;
  const models::BusinessConstants k(b);
  // Accounts the rule would pay a start from with economy.liquidity.enabled (off here: never touched).
  float cash = 0, debt = 0, investment = 0, borrowed = 0;
  const models::AdoptionFinance finance{models::finance::Accounts{&cash, &debt, &investment, &borrowed}};
  int owners = 0, exits = 0, starts = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    const std::uint8_t has = s.bernoulli(0.4) ? 1 : 0;
    const auto expected = static_cast<float>(400.0 * s.uniform() - 100.0);
    const auto loss = static_cast<std::uint8_t>(s.below(5));
    const auto profit = static_cast<float>(500.0 * s.uniform() - 150.0);
    const auto outside = static_cast<float>(200.0 * s.uniform());
    const auto u = static_cast<float>(s.uniform());
    const bool observed = s.bernoulli(0.9);
    std::uint8_t fast_has = has, fast_loss = loss, plain_has = has, plain_loss = loss;
    float fast_e = expected, plain_e = expected;
    const bool start = models::owner_month(k, u, &fast_has, &fast_e, &fast_loss, profit, outside, observed);
    models::baseline_business_month(k, u, {&plain_has, &plain_e, &plain_loss, profit, outside, observed}, &finance);
    if (has != 0) {
      ASSERT_FALSE(start) << "trial " << trial;
      ASSERT_EQ(fast_has, plain_has) << "trial " << trial;
      ASSERT_EQ(fast_e, plain_e) << "trial " << trial;
      ASSERT_EQ(fast_loss, plain_loss) << "trial " << trial;
      ++owners;
      exits += plain_has == 0 ? 1 : 0;
    } else {
      ASSERT_EQ(fast_has, has) << "trial " << trial;
      ASSERT_EQ(fast_e, expected) << "trial " << trial;
      ASSERT_EQ(fast_loss, loss) << "trial " << trial;
      ASSERT_EQ(start, u < k.start_hazard) << "trial " << trial;
      ASSERT_EQ(start, plain_has != 0) << "trial " << trial;  // the rule starts one exactly then
      starts += start ? 1 : 0;
    }
  }
  EXPECT_GT(owners, 5000);
  EXPECT_GT(exits, 500);
  EXPECT_GT(starts, 1000);
}

// The hazards' factors, one at a time.
TEST(AdoptionRules, PlainHazards) {
  models::AdoptionParams p;
  p.tech[0].baseline_hazard = 0.1;
  p.tech[0].upkeep_pen = 10.0;
  p.liquidity_cover_months = 2.0;
  p.liquidity_adopt_floor = 0.5;
  p.readopt_factor = 2.0;
  p.liquidity_drop_factor = 3.0;
  p.asset_drop_factor = 0.5;
  p.tech[0].drop_hazard_after = 0.02;
  p.tech[0].drop_hazard_supported = 0.01;
  const models::AdoptionConstants k(p);
  const auto never = static_cast<std::uint8_t>(TechState::never), dropped = static_cast<std::uint8_t>(TechState::dropped);
  EXPECT_FLOAT_EQ(models::liquidity_cover(k, 0, 10.0f), 0.5f);  // half of 2 months x PEN 10
  EXPECT_FLOAT_EQ(models::liquidity_cover(k, 0, 100.0f), 1.0f);
  EXPECT_FLOAT_EQ(models::adoption_hazard(k, 0, never, 0.1f, 0.0f, 1.0f, 1.0f, true), 0.2f);
  EXPECT_FLOAT_EQ(models::adoption_hazard(k, 0, never, 0.0f, 0.0f, 1.0f, 0.0f, true), 0.05f);  // the floor
  EXPECT_FLOAT_EQ(models::adoption_hazard(k, 0, dropped, 0.0f, 0.0f, 1.0f, 1.0f, true), 0.2f);
  EXPECT_EQ(models::adoption_hazard(k, 0, never, 0.5f, 0.1f, 1.0f, 1.0f, false), 0.0f);
  EXPECT_FLOAT_EQ(models::drop_hazard(k, 0, true, false, 1.0f), 0.01f);
  EXPECT_FLOAT_EQ(models::drop_hazard(k, 0, false, true, 1.0f), 0.01f);
  EXPECT_FLOAT_EQ(models::drop_hazard(k, 0, false, false, 0.0f), 0.06f);
}

}  // namespace
}  // namespace chacra::testing
