// File: tests/models/test_economy_liquidity.cpp
// Channel 2 on the technology side (economy.liquidity.enabled), on small worlds: adoption needs its up-front
// cost financed (without cash a technology waits; credit within the limit pays it), a delivered Haku Winay asset
// costs only the complementary share, a waiting intent lapses at its decay rate and is taken up once cash
// arrives, a baseline business needs its start-up cost; every payment is booked as investment from cash and
// credit; and the screened driver gives the plain rule's states, cash and debt with both channels on.
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
constexpr int kSprinklers = tech_index(Tech::sprinkler_irrigation);

// Only sprinklers can be adopted (hazard 0.05 a month, no peers, no drops); no credit unless asked.
void sprinklers_only(EconomyModels& m, bool credit = false) {
  m.freeze_adoption();
  m.set_all_techs("adoption", "baseline_share", 0.0);
  m.set("adoption.sprinkler_irrigation.baseline_hazard", 0.05);
  m.set_bool("liquidity.credit_for_investment", credit);
}

// A phase that holds each household's cash at `cash_of(i)` (as if income and spending left it there).
Phase hold_cash(std::function<float(std::uint32_t)> cash_of) {
  return household_phase("test.cash", [cash_of](World& w, const StepContext&, std::uint32_t i) {
    w.households.get(col::cash_pen)[i] = cash_of(i);
  });
}

struct Outcome {
  double adopted_poor = 0, adopted_rich = 0;
  double pending_poor = 0;
};

// Half the households hold no cash, half hold plenty (5,000 above any reserve).
Outcome poor_and_rich(bool liquidity, int months) {
  World w = economy_world();
  EconomyModels m;
  m.channel("liquidity", liquidity);
  sprinklers_only(m);
  m.setup(w);
  const std::size_t n = w.household_count();
  const float* perm = column<float>(w, col::permanent_income_pen);
  const Phase cash = hold_cash([n, perm](std::uint32_t i) { return i < n / 2 ? 0.0f : perm[i] + 5000.0f; });
  for (int month = 0; month < months; ++month) {
    m.run(w, cash, month);
    m.run(w, m.adoption.update_phase(), month);
  }
  const auto* state = column<std::uint8_t>(w, col::tech_state);
  const auto* pending = column<std::int16_t>(w, col::tech_pending);
  Outcome o;
  for (std::size_t i = 0; i < n; ++i) {
    const bool adopted = state[i * kTechCount + kSprinklers] == kAdopted;
    (i < n / 2 ? o.adopted_poor : o.adopted_rich) += adopted ? 2.0 / n : 0.0;
    if (i < n / 2) o.pending_poor += (pending[i] >> kSprinklers & 1) != 0 ? 2.0 / n : 0.0;
  }
  return o;
}

TEST(EconomyLiquidity, WithoutCashATechnologyWaits) {
  const Outcome on = poor_and_rich(true, 12), off = poor_and_rich(false, 12);
  const double expected = 1.0 - std::pow(0.95, 12.0), se = std::sqrt(expected * (1 - expected) / 500.0);
  // Off: the poor adopt too (at the soft floor's 40% of the hazard); on: none of them can pay.
  EXPECT_GT(off.adopted_poor, 0.1);
  EXPECT_EQ(on.adopted_poor, 0.0);
  EXPECT_GT(on.pending_poor, 0.2) << "their wish waits";
  // The rich adopt at the hazard either way.
  EXPECT_NEAR(on.adopted_rich, expected, 4 * se);
  EXPECT_NEAR(off.adopted_rich, expected, 4 * se);
}

// With credit, a household without cash borrows the up-front cost within its limit; every payment is booked
// as investment, from cash and new debt.
TEST(EconomyLiquidity, CreditPaysWithinTheLimitAndEveryPaymentIsBooked) {
  World w = economy_world(4, 50);
  EconomyModels m;
  m.channel("liquidity", true);
  sprinklers_only(m, true);
  m.set("adoption.sprinkler_irrigation.baseline_hazard", 1.0);
  m.set("credit.max_pen", 1e6);
  m.set("liquidity.reserve_months", 0.0);
  m.setup(w);
  const std::size_t n = w.household_count();
  auto* cash = column<float>(w, col::cash_pen);
  auto* perm = column<float>(w, col::permanent_income_pen);
  // Limits of 2 x permanent income: half the households can borrow the remaining 1,100, half cannot.
  for (std::size_t i = 0; i < n; ++i) {
    cash[i] = 100.0f;
    perm[i] = i % 2 == 0 ? 1000.0f : 400.0f;
  }
  m.run(w, m.adoption.update_phase(), 0);
  const auto* state = column<std::uint8_t>(w, col::tech_state);
  const auto* debt = column<float>(w, col::debt_pen);
  const auto* investment = column<float>(w, col::investment_pen);
  const auto* borrowed = column<float>(w, col::borrowed_pen);
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 2 == 0) {
      ASSERT_EQ(state[i * kTechCount + kSprinklers], kAdopted) << i;
      EXPECT_FLOAT_EQ(investment[i], 1200.0f);
      EXPECT_FLOAT_EQ(borrowed[i], 1100.0f);
      EXPECT_FLOAT_EQ(debt[i], 1100.0f);
      EXPECT_FLOAT_EQ(cash[i], 0.0f);
    } else {
      EXPECT_NE(state[i * kTechCount + kSprinklers], kAdopted) << i;
      EXPECT_EQ(investment[i], 0.0f);
      EXPECT_EQ(debt[i], 0.0f);
      EXPECT_FLOAT_EQ(cash[i], 100.0f);
    }
    EXPECT_FLOAT_EQ(investment[i], (100.0f - cash[i]) + borrowed[i]) << "investment = dissaving + new credit";
  }
}

// A delivered asset pays all but the complementary share: households with the asset and 200 in spare cash
// adopt (15% of 1,200 is 180), those without the asset cannot.
TEST(EconomyLiquidity, DeliveredAssetsPayAllButTheComplement) {
  World w = economy_world(4, 50);
  EconomyModels m;
  m.channel("liquidity", true);
  sprinklers_only(m);
  m.set("adoption.sprinkler_irrigation.baseline_hazard", 1.0);
  m.set("liquidity.reserve_months", 0.0);
  m.setup(w);
  const std::size_t n = w.household_count();
  auto* cash = column<float>(w, col::cash_pen);
  auto* asset = column<std::uint8_t>(w, col::asset_delivered);
  for (std::size_t i = 0; i < n; ++i) {
    cash[i] = 200.0f;
    asset[i * kTechCount + kSprinklers] = i % 2 == 0 ? 1 : 0;
  }
  m.run(w, m.adoption.update_phase(), 0);
  const auto* state = column<std::uint8_t>(w, col::tech_state);
  const auto* investment = column<float>(w, col::investment_pen);
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(state[i * kTechCount + kSprinklers] == kAdopted, i % 2 == 0) << i;
    EXPECT_FLOAT_EQ(investment[i], i % 2 == 0 ? 0.15f * 1200.0f : 0.0f) << i;
  }
}

// A wish that cannot be paid waits and lapses at liquidity.intent_decay a month; when cash arrives the
// remaining wishes are taken up at once.
TEST(EconomyLiquidity, PendingIntentsDecayAndAreTakenUpWhenCashArrives) {
  World w = economy_world(20, 50);
  EconomyModels m;
  m.channel("liquidity", true);
  sprinklers_only(m);
  m.set("adoption.sprinkler_irrigation.baseline_hazard", 0.0);
  m.setup(w);
  const std::size_t n = w.household_count();
  auto* pending = column<std::int16_t>(w, col::tech_pending);
  const float* perm = column<float>(w, col::permanent_income_pen);
  for (std::size_t i = 0; i < n; ++i) pending[i] = static_cast<std::int16_t>(1 << kSprinklers);
  const Phase broke = hold_cash([](std::uint32_t) { return 0.0f; });
  for (int month = 0; month < 6; ++month) {
    m.run(w, broke, month);
    m.run(w, m.adoption.update_phase(), month);
  }
  int waiting = 0;
  for (std::size_t i = 0; i < n; ++i) waiting += pending[i] != 0;
  const double expected = std::pow(0.9, 6.0), se = std::sqrt(expected * (1 - expected) / static_cast<double>(n));
  EXPECT_NEAR(static_cast<double>(waiting) / n, expected, 4 * se);
  const Phase paid = hold_cash([perm](std::uint32_t i) { return perm[i] + 5000.0f; });
  m.run(w, paid, 6);
  m.run(w, m.adoption.update_phase(), 6);
  const auto* state = column<std::uint8_t>(w, col::tech_state);
  int adopted = 0, still_waiting = 0;
  for (std::size_t i = 0; i < n; ++i) {
    adopted += state[i * kTechCount + kSprinklers] == kAdopted;
    still_waiting += pending[i] != 0;
  }
  // All who still wished it adopt, less those whose wish lapsed this month.
  EXPECT_NEAR(adopted, waiting * 0.9, 4 * std::sqrt(waiting * 0.09));
  EXPECT_EQ(still_waiting, 0);
}

// A baseline business needs its start-up cost: with the financing of adoption, only households with the cash
// start one; without it, everyone starts at the same rate.
std::array<double, 2> business_starts(bool liquidity) {
  World w = economy_world();
  EconomyModels m;
  m.channel("persistence", true);
  m.channel("liquidity", liquidity);
  m.freeze_adoption();
  m.set_all_techs("adoption", "baseline_share", 0.0);
  m.set("livelihood.business_share", 0.0);
  m.set("business.start_hazard", 0.05);
  m.set("business.background_exit_rate_year", 0.0);
  m.set_bool("liquidity.credit_for_investment", false);
  m.setup(w);
  const std::size_t n = w.household_count();
  const float* perm = column<float>(w, col::permanent_income_pen);
  const Phase cash = hold_cash([n, perm](std::uint32_t i) { return i < n / 2 ? 100.0f : perm[i] + 3000.0f; });
  const Phase profit = household_phase("test.business", [](World& world, const StepContext&, std::uint32_t i) {
    world.households.get(col::income_business_pen)[i] = 300.0f;
  });
  for (int month = 0; month < 12; ++month) {
    m.run(w, cash, month);
    m.run(w, profit, month);
    m.run(w, m.adoption.update_phase(), month);
  }
  const auto* has = column<std::uint8_t>(w, col::has_business);
  std::array<double, 2> share{};
  for (std::size_t i = 0; i < n; ++i) share[i < n / 2 ? 0 : 1] += has[i] * 2.0 / n;
  return share;
}

TEST(EconomyLiquidity, ABusinessNeedsItsStartUpCost) {
  const auto on = business_starts(true), off = business_starts(false);
  const double expected = 1.0 - std::pow(0.95, 12.0), se = std::sqrt(expected * (1 - expected) / 500.0);
  EXPECT_NEAR(off[0], expected, 4 * se);
  EXPECT_NEAR(off[1], expected, 4 * se);
  EXPECT_EQ(on[0], 0.0);
  EXPECT_NEAR(on[1], expected, 4 * se);
}

// The screened driver (with pending intents tried every month) gives the plain rule's states, expected profits,
// pending bits, cash, debt and investment, with persistence and the financing of adoption on.
TEST(AdoptionRules, ScreenedDriverMatchesThePlainRuleWithTheEconomyOn) {
  rng::Stream s(8, 0, rng::domain_id("test.adoption_rule_economy"), 0, 0);
  int events = 0, payments = 0, waits = 0;
  for (int trial = 0; trial < 300; ++trial) {
    models::AdoptionParams p;
    p.persistence = true;
    p.liquidity = true;
    const double scale = trial % 2 == 0 ? 1.0 : 0.05;
    for (auto& t : p.tech) {
      t.baseline_hazard = scale * 0.3 * s.uniform();
      t.drop_hazard_supported = scale * 0.2 * s.uniform();
      t.drop_hazard_after = scale * 0.3 * s.uniform();
      t.upkeep_pen = 20.0 * s.uniform();
      t.upfront_pen = 1000.0 * s.uniform();
      t.reference_profit_pen = 100.0 * s.uniform() - 20.0;
    }
    p.unprofitable_drop_hazard = scale * 0.5 * s.uniform();
    p.background_drop_factor = s.uniform();
    p.intent_decay = s.uniform() * 0.5;
    p.liquidity_drop_factor = 1.0 + 2.0 * s.uniform();
    const models::AdoptionConstants k(p, s.uniform());
    std::array<float, kTechCount> peer{};
    const unsigned unprofitable = static_cast<unsigned>(s.below(1u << kTechCount));
    for (int t = 0; t < kTechCount; ++t) peer[t] = static_cast<float>(s.uniform() < 0.5 ? 0.0 : scale * 0.2 * s.uniform());
    const models::ScreenBounds bounds = models::screen_bounds(k, peer, unprofitable);
    for (int hh = 0; hh < 40; ++hh) {
      std::uint64_t w[4];
      for (auto& x : w) x = s();
      std::array<std::uint8_t, kTechCount> fast_state, plain_state, asset;
      std::array<float, kTechCount> push, fast_expected, plain_expected;
      for (int t = 0; t < kTechCount; ++t) {
        fast_state[t] = plain_state[t] = static_cast<std::uint8_t>(s.below(3));
        asset[t] = s.bernoulli(0.3) ? 1 : 0;
        push[t] = static_cast<float>(s.uniform() < 0.7 ? 0.0 : scale * 0.5 * s.uniform());
        // Only technologies flagged unprofitable in the centre may expect a loss (the bound covers them).
        const float e = static_cast<float>(100.0 * s.uniform());
        fast_expected[t] = plain_expected[t] = ((unprofitable >> t) & 1u) != 0 && s.bernoulli(0.5) ? -e : e;
      }
      std::uint16_t fast_pending = static_cast<std::uint16_t>(s.below(1u << kTechCount)), plain_pending = fast_pending;
      float cash[2], debt[2], investment[2] = {0, 0}, borrowed[2] = {0, 0};
      cash[0] = cash[1] = static_cast<float>(s.uniform() < 0.4 ? 0.0 : 2000.0 * s.uniform());
      debt[0] = debt[1] = static_cast<float>(500.0 * s.uniform());
      const models::finance::Accounts accounts{cash, debt, investment, borrowed};
      const auto limit = static_cast<float>(1500.0 * s.uniform()), reserve = static_cast<float>(300.0 * s.uniform());
      const bool credit = s.bernoulli(0.5);
      const models::AdoptionFinance fast_fin{accounts, 0, limit, reserve, credit}, plain_fin{accounts, 1, limit, reserve, credit};
      float fast_pasture = 0.2f, plain_pasture = 0.2f;
      const int adults = static_cast<int>(s.below(4));
      const bool supported = s.bernoulli(0.3), water = s.bernoulli(0.5);
      const auto land = static_cast<float>(2.0 * s.uniform());
      const std::array<std::uint8_t, kTechCount> before = fast_state;
      const std::uint16_t pending_before = fast_pending;
      models::adopt_or_drop_screened(k, peer, bounds, w,
                                     {fast_state.data(), push.data(), asset.data(), &fast_pasture, adults, cash[0],
                                      supported, water, land, fast_expected.data(), &fast_pending, &fast_fin});
      models::adopt_or_drop(k, peer, w,
                            {plain_state.data(), push.data(), asset.data(), &plain_pasture, adults, cash[1], supported,
                             water, land, plain_expected.data(), &plain_pending, &plain_fin});
      ASSERT_EQ(fast_state, plain_state) << "trial " << trial << " household " << hh;
      ASSERT_EQ(fast_expected, plain_expected) << "trial " << trial;
      ASSERT_EQ(fast_pending, plain_pending) << "trial " << trial;
      ASSERT_EQ(fast_pasture, plain_pasture);
      ASSERT_EQ(cash[0], cash[1]);
      ASSERT_EQ(debt[0], debt[1]);
      ASSERT_EQ(investment[0], investment[1]);
      ASSERT_EQ(borrowed[0], borrowed[1]);
      ASSERT_GE(cash[0], 0.0f);
      ASSERT_LE(debt[0], std::max(limit, static_cast<float>(500.0)));
      events += fast_state != before ? 1 : 0;
      payments += investment[0] > 0.0f ? 1 : 0;
      waits += (fast_pending & ~pending_before) != 0 ? 1 : 0;
    }
  }
  EXPECT_GT(events, 1000);
  EXPECT_GT(payments, 300);
  EXPECT_GT(waits, 100);
}

}  // namespace
}  // namespace chacra::testing
