// File: tests/models/test_economy_persistence.cpp
// Channel 5, persistence from profitability (economy.persistence.enabled), on small worlds: technologies are kept
// while they pay and dropped when they do not; neighbours' results scale the peer term; baseline businesses
// survive while profit covers the owners' outside option; with the switch off none of it happens. Profits are
// written by hand here (a test phase in place of the income phase, which computes tech_profit_pen).
#include "tests/models/economy_fixture.hpp"

#include "models/adoption_rules.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace chacra::testing {
namespace {

using models::kTechCount;
using models::Tech;
using models::tech_index;
using models::TechState;
namespace col = models::col;

constexpr auto kAdopted = static_cast<std::uint8_t>(TechState::adopted);
constexpr int kGarden = tech_index(Tech::vegetable_garden);

// Adoption with only the garden moving: every household adopted it at baseline, no new adoption.
void garden_only(EconomyModels& m) {
  m.freeze_adoption();
  m.set_all_techs("adoption", "baseline_share", 0.0);
  m.set("adoption.vegetable_garden.baseline_share", 1.0);
  m.set("adoption.vegetable_garden.drop_hazard_after", 0.012);
}

double share_adopted(const World& w, int tech, std::size_t begin, std::size_t end) {
  const auto* s = column<std::uint8_t>(w, col::tech_state);
  int n = 0;
  for (std::size_t i = begin; i < end; ++i) n += s[i * kTechCount + tech] == kAdopted;
  return static_cast<double>(n) / static_cast<double>(end - begin);
}

// Runs `months` of [profit writer, adoption.update]: the first half of the households earn +100 a month from
// the garden, the second half lose 50. Returns the share still using it in each half.
std::array<double, 2> garden_kept(bool persistence, int months) {
  World w = economy_world();
  EconomyModels m;
  m.channel("persistence", persistence);
  garden_only(m);
  m.setup(w);
  const std::size_t n = w.household_count();
  const Phase profits = household_phase("test.profit", [n](World& world, const StepContext&, std::uint32_t i) {
    world.households.get(col::tech_profit_pen)[static_cast<std::size_t>(i) * kTechCount + kGarden] =
        i < n / 2 ? 100.0f : -50.0f;
  });
  for (int month = 0; month < months; ++month) {
    m.run(w, profits, month);
    m.run(w, m.adoption.update_phase(), month);
  }
  return {share_adopted(w, kGarden, 0, n / 2), share_adopted(w, kGarden, n / 2, n)};
}

TEST(EconomyPersistence, UnprofitableTechnologiesAreDroppedProfitableOnesKept) {
  const auto on = garden_kept(true, 36);
  const auto off = garden_kept(false, 36);
  const double n_half = 500.0;
  const auto se = [n_half](double p) { return std::sqrt(std::max(p * (1 - p), 0.01) / n_half); };
  // Off: profit plays no part; both halves drop at the same fixed hazard (about 1 - exp(-0.012 * 36) = 35%).
  EXPECT_NEAR(off[0], off[1], 4 * std::hypot(se(off[0]), se(off[1])));
  EXPECT_NEAR(off[0], std::exp(-0.012 * 36), 4 * se(off[0]));
  // On: losers drop it (their expected profit turns negative after about eight months, then the hazard is 0.15),
  // winners keep it more than without the channel (only the background hazard).
  EXPECT_LT(on[1], 0.1);
  EXPECT_GT(on[0], off[0] + 4 * se(off[0]));
  EXPECT_GT(on[0], 0.8);
}

// Non-adopters in centres whose adopters earn twice the reference profit adopt; where adopters earn nothing
// the peer term fades away. Off: both kinds of centre alike.
std::array<double, 2> peer_adoption(bool persistence) {
  World w = economy_world(40, 30);
  EconomyModels m;
  m.channel("persistence", persistence);
  m.freeze_adoption();
  m.set_all_techs("adoption", "baseline_share", 0.0);
  m.set("adoption.vegetable_garden.baseline_share", 0.3);
  m.set("adoption.peer_strength", 0.03);
  m.setup(w);
  const std::size_t n = w.household_count();
  const float reference = static_cast<float>(m.adoption.params().tech[kGarden].reference_profit_pen);
  const Phase profits = household_phase("test.profit", [&](World& world, const StepContext&, std::uint32_t i) {
    const auto centre = world.households.get(col::centre)[i];
    world.households.get(col::tech_profit_pen)[static_cast<std::size_t>(i) * kTechCount + kGarden] =
        centre % 2 == 0 ? 2.0f * reference : 0.0f;
  });
  const auto* state = column<std::uint8_t>(w, col::tech_state);
  std::vector<std::uint8_t> before(state + 0, state + n * kTechCount);
  for (int month = 0; month < 24; ++month) {
    m.run(w, profits, month);
    m.run(w, m.adoption.update_phase(), month);
  }
  // Share of baseline non-adopters who adopted, by kind of centre.
  std::array<int, 2> adopted{}, at_risk{};
  const auto* centre = column<std::uint32_t>(w, col::centre);
  for (std::size_t i = 0; i < n; ++i) {
    if (before[i * kTechCount + kGarden] == kAdopted) continue;
    const int kind = centre[i] % 2 == 0 ? 0 : 1;
    at_risk[kind] += 1;
    adopted[kind] += state[i * kTechCount + kGarden] == kAdopted;
  }
  return {static_cast<double>(adopted[0]) / at_risk[0], static_cast<double>(adopted[1]) / at_risk[1]};
}

TEST(EconomyPersistence, NeighboursResultsScaleThePeerTerm) {
  const auto on = peer_adoption(true);
  const auto off = peer_adoption(false);
  const auto se = [](double p) { return std::sqrt(std::max(p * (1 - p), 0.01) / 400.0); };
  EXPECT_NEAR(off[0], off[1], 4 * std::hypot(se(off[0]), se(off[1])));
  EXPECT_GT(off[0], 0.2) << "the peer term must matter for the test to mean anything";
  EXPECT_GT(on[0], off[0] + 4 * se(off[0])) << "where it pays, neighbours show it and it spreads faster";
  EXPECT_LT(on[1], off[1] - 4 * se(off[1])) << "where it does not, it spreads slower";
}

// Every household has a baseline business; half earn 200 a month, half 10 (below the outside option, about
// 0.3 * 550 * 0.24 = 40). Returns the share still in business in each half after `months`.
std::array<double, 2> businesses_left(bool persistence, int months) {
  World w = economy_world();
  EconomyModels m;
  m.channel("persistence", persistence);
  m.freeze_adoption();
  m.set("livelihood.business_share", 1.0);
  m.set("livelihood.business_wealth_slope", 0.0);
  m.set("business.start_hazard", 0.0);
  m.setup(w);
  const std::size_t n = w.household_count();
  const Phase profits = household_phase("test.business", [n](World& world, const StepContext&, std::uint32_t i) {
    world.households.get(col::income_business_pen)[i] = i < n / 2 ? 200.0f : 10.0f;
  });
  for (int month = 0; month < months; ++month) {
    m.run(w, profits, month);
    m.run(w, m.adoption.update_phase(), month);
  }
  const auto* has = column<std::uint8_t>(w, col::has_business);
  std::array<int, 2> left{};
  for (std::size_t i = 0; i < n; ++i) left[i < n / 2 ? 0 : 1] += has[i];
  return {left[0] / (n / 2.0), left[1] / (n / 2.0)};
}

TEST(EconomyPersistence, BusinessesSurviveWhileProfitCoversTheOutsideOption) {
  const auto on = businesses_left(true, 36);
  const auto off = businesses_left(false, 36);
  EXPECT_EQ(off[0], 1.0);
  EXPECT_EQ(off[1], 1.0);
  // The losers' expected profit falls below 40 after about twenty months; six months later they close.
  EXPECT_EQ(on[1], 0.0);
  // The winners close only with the background hazard (2% a year).
  const double kept = std::pow(0.98, 3.0), se = std::sqrt(kept * (1 - kept) / 500.0);
  EXPECT_NEAR(on[0], kept, 4 * se + 0.005);
}

TEST(EconomyPersistence, ExpectedProfitIsAnExponentialAverage) {
  models::AdoptionParams p;
  p.profit_memory = 0.25;
  const models::AdoptionConstants k(p);
  std::array<std::uint8_t, kTechCount> state{};
  state[0] = kAdopted;
  std::array<float, kTechCount> profit{}, expected{};
  profit.fill(100.0f);
  models::update_expected_profit(k.memory, state.data(), profit.data(), expected.data());
  EXPECT_FLOAT_EQ(expected[0], 25.0f);
  EXPECT_EQ(expected[1], 0.0f) << "technologies not in use keep their expectation";
  // The branch-free driver the phase runs gives the same bits on random rows, and the centre's sums.
  rng::Stream s(9, 0, rng::domain_id("test.expected_profit"), 0, 0);
  for (int trial = 0; trial < 1000; ++trial) {
    std::array<std::uint8_t, kTechCount> st{};
    std::array<float, kTechCount> pr{}, plain{}, fast{};
    for (int t = 0; t < kTechCount; ++t) {
      st[t] = static_cast<std::uint8_t>(s.below(3));
      pr[t] = static_cast<float>(400.0 * s.uniform() - 200.0);
      plain[t] = fast[t] = static_cast<float>(300.0 * s.uniform() - 100.0);
    }
    std::array<float, kTechCount> sum{};
    models::update_expected_profit(0.1f, st.data(), pr.data(), plain.data());
    const unsigned losing = models::update_expected_profit_and_sum(0.1f, st.data(), pr.data(), fast.data(), sum);
    ASSERT_EQ(plain, fast);
    for (int t = 0; t < models::kEarningCount; ++t) {
      ASSERT_EQ(sum[t], st[t] == kAdopted ? fast[t] : 0.0f);
      ASSERT_EQ(((losing >> t) & 1u) != 0, st[t] == kAdopted && fast[t] < 0.0f);
    }
  }
  models::BusinessBook b{100.0f, 0};
  EXPECT_FALSE(models::business_month(b, 0.0f, 0.5f, 60.0f, 2));
  EXPECT_EQ(b.loss_months, 1);
  EXPECT_TRUE(models::business_month(b, 0.0f, 0.5f, 60.0f, 2));
  models::BusinessBook c{50.0f, 1};
  EXPECT_FALSE(models::business_month(c, 200.0f, 0.5f, 60.0f, 2));
  EXPECT_EQ(c.loss_months, 0) << "a good month resets the count";
}

TEST(EconomyPersistence, DropHazardsFollowExpectedProfit) {
  models::AdoptionParams p;
  p.persistence = true;
  p.tech[kGarden].drop_hazard_after = 0.02;
  p.unprofitable_drop_hazard = 0.15;
  p.background_drop_factor = 0.25;
  p.liquidity_drop_factor = 1.0;
  const models::AdoptionConstants k(p);
  EXPECT_FLOAT_EQ(models::drop_hazard(k, kGarden, false, false, 1.0f, -1.0f), 0.15f);
  EXPECT_FLOAT_EQ(models::drop_hazard(k, kGarden, false, false, 1.0f, 10.0f), 0.005f);
  const int stove = tech_index(Tech::improved_stove);
  p.tech[stove].drop_hazard_after = 0.02;
  const models::AdoptionConstants k2(p);
  EXPECT_FLOAT_EQ(models::drop_hazard(k2, stove, false, false, 1.0f, -1.0f), 0.02f) << "no income: today's hazard";
  EXPECT_FLOAT_EQ(models::peer_profit_factor(k, kGarden, 6.0f * static_cast<float>(p.tech[kGarden].reference_profit_pen), 2), 2.0f);
  EXPECT_FLOAT_EQ(models::peer_profit_factor(k, kGarden, -100.0f, 2), 0.0f);
  EXPECT_FLOAT_EQ(models::peer_profit_factor(k, stove, 100.0f, 2), 1.0f);
}

}  // namespace
}  // namespace chacra::testing
