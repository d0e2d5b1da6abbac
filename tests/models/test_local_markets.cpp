// File: tests/models/test_local_markets.cpp
// The local markets wired into the month (economy.markets.enabled, models/local_markets.hpp): the three LEWIE
// outcomes on a small generated economy through the whole model, money conserved in every local economy every
// period, the same bits on 1 and 4 threads, and nothing at all when the switch is off.
#include "models/local_markets.hpp"
#include "models/registry.hpp"
#include "models/row_ops.hpp"
#include "sim/engine.hpp"
#include "sim/population.hpp"
#include "sim/rng.hpp"
#include "tests/models/world_fixture.hpp"

#include <gtest/gtest.h>
#include <oneapi/tbb/global_control.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace chacra;
namespace mk = chacra::models::markets;

// The economy of the tests: the welfare channel and the markets, no programme (the injection below is the only
// difference between arms), remittances that do not respond to income.
ParamSet economy_params() {
  ParamSet p(models::registry());
  p.set("juntos.enabled", false);
  p.set("haku_winay.enabled", false);
  p.set("economy.welfare.enabled", true);
  p.set("economy.markets.enabled", true);
  p.set("remittances.insurance_share", 0.0);
  // Technologies whose adoption and returns do not depend on cash: the transfer changes nothing but money.
  p.set("livelihood.upkeep_return_dependence", 0.0);
  p.set("adoption.liquidity_cover_months", 0.0);
  p.set("population.households", std::int64_t{1200});
  p.set("population.districts", std::int64_t{3});
  p.set("population.block_households", std::int64_t{128});
  return p;
}

void set_shares(ParamSet& p, const std::vector<std::pair<const char*, double>>& shares) {
  for (const char* g : mk::kGoodNames) p.set(std::string("markets.") + g + ".budget_share", 0.0);
  for (const auto& [g, s] : shares) p.set(std::string("markets.") + g + ".budget_share", s);
}

void set_elasticity(ParamSet& p, double eps) {
  for (const char* g : mk::kGoodNames) p.set(std::string("markets.") + g + ".elasticity", eps);
}

constexpr int kMonths = 36;
constexpr int kStart = 12;            // the injection starts in this month
constexpr float kInjectionPen = 60;   // a month, to every third household

// The model's local-markets module (set up), or null when the switch left it out.
const models::LocalMarkets* local_markets_of(const Model& m) {
  for (const auto& mod : m.modules)
    if (const auto* lm = dynamic_cast<const models::LocalMarkets*>(mod.get())) return lm;
  return nullptr;
}

struct MarketRun {
  // Per economy, each month's market outcome (the tests clear monthly).
  std::vector<std::vector<mk::PeriodOutcome>> outcomes;
  std::vector<double> max_imbalance;  // per month, the largest |imbalance| over economies
  std::uint64_t digest = 0;
  std::size_t economies = 0;
  double spending_gap = 0;            // largest |sum of market_spending_pen - demand - leakage| over periods
};

// Runs the model; with `inject`, a programme pays every third household kInjectionPen a month from kStart (a phase
// before the budget, as Juntos' payment is received before households spend).
MarketRun run(const ParamSet& p, bool inject, double land_factor = 1.0) {
  World w = generate_population(p, 0);
  Model m = models::build_model(p);
  if (inject) {
    auto at = m.month.begin();
    while (at != m.month.end() && at->name != "finance.budget") ++at;
    EXPECT_NE(at, m.month.end());
    m.month.insert(at, Phase::per_block("test.injection", [](World& world, const StepContext& ctx, const Block& b) {
      if (ctx.month < kStart) return;
      auto* transfers = world.households.get<float>("income_transfers_pen");
      auto* monetary = world.households.get<float>("income_monetary_pen");
      for (std::uint32_t i = b.household_begin; i < b.household_end; ++i)
        if (i % 3 == 0) {
          transfers[i] += kInjectionPen;
          monetary[i] += kInjectionPen;
        }
    }));
  }
  const rng::StreamSeed seed{11, 0};
  for (auto& mod : m.modules) mod->setup(w, p, seed);
  // Less land after set-up: the same output at farm-gate prices, a tighter limit on what the land can add.
  auto* land = w.households.get<float>("land_ha");
  for (std::uint32_t i = w.household_begin(); i < w.household_end(); ++i) land[i] = static_cast<float>(land[i] * land_factor);
  const models::LocalMarkets* markets = local_markets_of(m);
  MarketRun r;
  r.economies = markets->economies().size();
  r.outcomes.resize(r.economies);
  Stepper stepper(w, m.month, p, seed);
  for (int month = 0; month < kMonths; ++month) {
    stepper.step(month);
    double worst = 0;
    for (std::size_t e = 0; e < r.economies; ++e) {
      const auto& period = markets->last_periods()[e];
      EXPECT_EQ(period.month, month);
      EXPECT_TRUE(period.conservation.holds) << "economy " << e << " month " << month;
      worst = std::max(worst, std::abs(period.conservation.imbalance_pen));
      r.outcomes[e].push_back(period.outcome);
      // Independently of the phase's own sums: what households hold as this month's spending is what the
      // markets and the leakage received.
      const auto& eco = markets->economies()[e];
      const auto* spending = w.households.get<float>("market_spending_pen");
      double sum = 0;
      for (std::uint32_t i = w.centre_first[eco.centre_begin]; i < w.centre_first[eco.centre_end]; ++i) sum += spending[i];
      double spent = period.outcome.accounts.leakage_pen;
      for (const auto& g : period.outcome.goods) spent += g.demand_pen;
      r.spending_gap = std::max(r.spending_gap, std::abs(sum - spent) / std::max(1.0, spent));
      // Every household carries its economy's prices from this clearing (the settlement rewrites its copies only
      // when a price changed, so this checks that the rows it skips already hold them).
      const auto* lpi = w.households.get<float>("local_price_index");
      const auto* wage_index = w.households.get<float>("local_wage_index");
      const auto* prices = w.households.get<float>("local_prices");
      std::size_t stale = 0;
      for (std::uint32_t i = w.centre_first[eco.centre_begin]; i < w.centre_first[eco.centre_end]; ++i) {
        stale += lpi[i] != static_cast<float>(period.outcome.cpi);
        stale += wage_index[i] != static_cast<float>(period.outcome.labour.price_pen);
        for (std::size_t g = 0; g < period.outcome.goods.size(); ++g)
          stale += prices[static_cast<std::size_t>(i) * mk::kGoodCount + g] != static_cast<float>(period.outcome.goods[g].price_pen);
      }
      EXPECT_EQ(stale, 0u) << "economy " << e << " month " << month;
    }
    r.max_imbalance.push_back(worst);
  }
  r.digest = chacra::testing::household_digest(w);
  return r;
}

struct Effects {
  mk::Multipliers total;  // summed over economies (injection-weighted)
  double max_price_change = 0, max_cpi_change = 0;
  bool prices_identical = true;
  int interior = 0;       // economy-months where local food cleared inside its band (programme arm)
};

Effects effects(const MarketRun& a, const MarketRun& ref) {
  Effects out;
  double injection = 0, income = 0, real = 0, real_injection = 0;
  for (std::size_t e = 0; e < a.economies; ++e) {
    const mk::Multipliers m = mk::local_multipliers(a.outcomes[e], ref.outcomes[e]);
    injection += m.injection_pen;
    income += m.income_change_pen;
    real += m.real_income_change_pen;
    for (double dp : m.price_change) out.max_price_change = std::max(out.max_price_change, std::abs(dp));
    out.max_cpi_change = std::max(out.max_cpi_change, std::abs(m.cpi_change));
    for (std::size_t t = 0; t < a.outcomes[e].size(); ++t) {
      for (std::size_t g = 0; g < a.outcomes[e][t].goods.size(); ++g)
        out.prices_identical &= a.outcomes[e][t].goods[g].price_pen == ref.outcomes[e][t].goods[g].price_pen;
      out.interior += a.outcomes[e][t].goods[0].regime == mk::Regime::local;
      // The real injection: each period's change in transfers deflated by the reference arm's CPI.
      real_injection += (a.outcomes[e][t].accounts.transfers_pen - ref.outcomes[e][t].accounts.transfers_pen) /
                        ref.outcomes[e][t].cpi;
    }
  }
  out.total.injection_pen = injection;
  out.total.income_change_pen = income;
  out.total.real_income_change_pen = real;
  out.total.nominal = income / injection;
  out.total.real = real / real_injection;
  return out;
}

// The flows count four households' working-age members in one pass (rows::members_aged_of4): the same counts as
// members_aged row by row, on random rows with empty slots and ages at the bounds.
TEST(LocalMarketsRows, FourRowsMemberCountsMatchTheOneRowKernel) {
  rng::Stream s(31, 0, rng::domain_id("test.members_aged_of4"), 0, 0);
  const std::int16_t bounds[] = {179, 180, 181, 779, 780, 781};
  for (int trial = 0; trial < 5000; ++trial) {
    std::int16_t age[4 * kMaxMembers];
    for (auto& a : age)
      a = s.bernoulli(0.3)   ? std::int16_t{-1}
          : s.bernoulli(0.2) ? bounds[s.below(std::size(bounds))]
                             : static_cast<std::int16_t>(s.below(1100));
    const auto lo = static_cast<std::int16_t>(trial % 2 == 0 ? 180 : s.below(900));
    const auto hi = static_cast<std::int16_t>(trial % 2 == 0 ? 780 : lo + s.below(1000));
    const std::array<int, 4> n = models::rows::members_aged_of4(age, lo, hi);
    for (int j = 0; j < 4; ++j) {
      int plain = 0;
      for (int k = 0; k < kMaxMembers; ++k) plain += age[kMaxMembers * j + k] >= lo && age[kMaxMembers * j + k] < hi;
      ASSERT_EQ(n[static_cast<std::size_t>(j)], plain) << "trial " << trial << " row " << j;
      ASSERT_EQ(n[static_cast<std::size_t>(j)], models::rows::members_aged(age + kMaxMembers * j, lo, hi));
    }
  }
}

// LEWIE, no local supply: households spend only on goods nobody in the economy produces, so every sol of the
// transfer buys imports: the local income rises by the transfer and not a cent more, and no price moves.
TEST(LocalMarketsWired, NoLocalSupplyGivesAMultiplierOfExactlyOneAndNoPriceChange) {
  ParamSet p = economy_params();
  set_shares(p, {{"fish_farming", 0.3}, {"textiles_crafts", 0.2}});
  const MarketRun with = run(p, true), without = run(p, false);
  const Effects fx = effects(with, without);
  EXPECT_GT(fx.total.injection_pen, 0.0);
  EXPECT_NEAR(fx.total.nominal, 1.0, 1e-9);
  EXPECT_NEAR(fx.total.real, 1.0, 1e-9);
  EXPECT_TRUE(fx.prices_identical) << "a price moved although nothing is supplied locally";
  EXPECT_EQ(fx.max_cpi_change, 0.0);
}

// LEWIE, elastic and fixed local supply: households spend on local food and animals; with elastic supply the
// transfer's demand is met by more output (multiplier above 1, small price rise); with fixed supply prices rise
// instead: the same nominal multiplier (Cobb-Douglas demand inside the band) and a lower real one.
TEST(LocalMarketsWired, ElasticSupplyMultipliesAndFixedSupplyRaisesPrices) {
  ParamSet p = economy_params();
  set_shares(p, {{"local_food", 0.6}});
  for (const char* g : {"local_food", "livestock"}) {
    p.set(std::string("markets.") + g + ".margin_base", 0.35);
    p.set(std::string("markets.") + g + ".margin_remote", 0.2);
  }
  ParamSet elastic = p, fixed = p;
  set_elasticity(elastic, 3.0);
  set_elasticity(fixed, 0.0);
  const Effects fe = effects(run(elastic, true), run(elastic, false));
  const Effects ff = effects(run(fixed, true), run(fixed, false));
  ASSERT_GT(fe.interior, 0) << "local food never cleared inside its band: the test economy does not test anything";
  EXPECT_GT(fe.total.nominal, 1.1);
  EXPECT_GT(fe.total.real, 1.05);
  // Fixed supply raises prices more. Not by the 1/(1 + elasticity) of an unconstrained supply curve: in this small
  // economy the elastic supply meets its holdings' capacity in many months (tests here once asked for 1.5 times;
  // with the seven-target calibration's crop value the food price rises 0.46% against 0.61%). The LEWIE contrast
  // shows in the multipliers instead: elastic supply turns the same injection into more local income.
  EXPECT_GT(ff.max_price_change, fe.max_price_change) << "fixed supply must raise prices more";
  EXPECT_GT(fe.total.nominal, ff.total.nominal + 0.1) << "elastic supply must multiply the injection more";
  EXPECT_GT(ff.max_cpi_change, fe.max_cpi_change);
  EXPECT_LT(ff.total.real, fe.total.real) << "the real multiplier falls when supply cannot respond";
  EXPECT_LT(ff.total.real, ff.total.nominal - 0.02);
  std::printf("elastic: nominal %.3f real %.3f max price change %.4f cpi %.4f\n", fe.total.nominal, fe.total.real,
              fe.max_price_change, fe.max_cpi_change);
  std::printf("fixed:   nominal %.3f real %.3f max price change %.4f cpi %.4f\n", ff.total.nominal, ff.total.real,
              ff.max_price_change, ff.max_cpi_change);
}

// Supply within the limits of what households hold: with a quarter of the land, local food's supply hits the
// land's output sooner, so the same transfer raises the food price and the price index more and the real
// multiplier falls (LEWIE's fixed-supply outcome arising from holdings, not from a parameter).
TEST(LocalMarketsWired, LessLandRaisesPricesMoreAndLowersTheRealMultiplier) {
  ParamSet p = economy_params();
  set_shares(p, {{"local_food", 0.6}});
  for (const char* g : {"local_food", "livestock"}) {
    p.set(std::string("markets.") + g + ".margin_base", 0.35);
    p.set(std::string("markets.") + g + ".margin_remote", 0.2);
  }
  set_elasticity(p, 3.0);
  const Effects ample = effects(run(p, true), run(p, false));
  const Effects scarce = effects(run(p, true, 0.25), run(p, false, 0.25));
  std::printf("land x1:    nominal %.3f real %.3f max price change %.4f cpi %.4f\n", ample.total.nominal,
              ample.total.real, ample.max_price_change, ample.max_cpi_change);
  std::printf("land x0.25: nominal %.3f real %.3f max price change %.4f cpi %.4f\n", scarce.total.nominal,
              scarce.total.real, scarce.max_price_change, scarce.max_cpi_change);
  ASSERT_GT(ample.interior, 0) << "local food never cleared inside its band: the test economy does not test anything";
  EXPECT_GT(scarce.max_price_change, 1.5 * ample.max_price_change);
  EXPECT_GT(scarce.max_cpi_change, ample.max_cpi_change);
  EXPECT_LT(scarce.total.real, ample.total.real - 0.02);
}

// Money in = money out of every local economy, every period, to the cent, with both programmes, their businesses
// and the default parameters (district and cluster economies, monthly and quarterly clearing).
TEST(LocalMarketsWired, MoneyIsConservedInEveryEconomyEveryPeriod) {
  for (const char* scope : {"district", "cluster"}) {
    ParamSet p = economy_params();
    p.set("markets.scope", std::string(scope));
    const MarketRun r = run(p, true);
    ASSERT_EQ(r.max_imbalance.size(), static_cast<std::size_t>(kMonths));
    for (int m = 0; m < kMonths; ++m) EXPECT_LT(r.max_imbalance[static_cast<std::size_t>(m)], 0.005) << scope << " month " << m;
    EXPECT_LT(r.spending_gap, 1e-6) << scope;
    if (std::string(scope) == "cluster") EXPECT_GT(r.economies, 3u);
    else EXPECT_EQ(r.economies, 3u);
  }
}

// The whole state is the same bits on 1 and 4 threads (economies clear in parallel), for months and quarters.
TEST(LocalMarketsWired, SameBitsOnOneAndFourThreads) {
  for (const char* period : {"month", "quarter"}) {
    ParamSet p = economy_params();
    p.set("juntos.enabled", true);
    p.set("haku_winay.enabled", true);
    p.set("markets.scope", std::string("cluster"));
    p.set("markets.period", std::string(period));
    std::uint64_t digest[2] = {0, 0};
    for (int k = 0; k < 2; ++k) {
      tbb::global_control threads(tbb::global_control::max_allowed_parallelism, k == 0 ? 1 : 4);
      World w = generate_population(p, 0);
      Model m = models::build_model(p);
      const rng::StreamSeed seed{3, 0};
      for (auto& mod : m.modules) mod->setup(w, p, seed);
      Stepper stepper(w, m.month, p, seed);
      for (int month = 0; month < 40; ++month) stepper.step(month);
      digest[k] = chacra::testing::household_digest(w);
    }
    EXPECT_EQ(digest[0], digest[1]) << period;
  }
}

// Economies no larger than a block: the blocks are cut between economies and each block clears its own economies in
// its pass (markets.clear); otherwise the serial markets.clear_all clears them all. Both give the same bits, for
// districts and clusters, months and quarters.
TEST(LocalMarketsWired, ClearingPerBlockGivesTheSerialClearingsBits) {
  for (const char* scope : {"district", "cluster"})
    for (const char* period : {"month", "quarter"}) {
      std::uint64_t digest[2] = {0, 0};
      std::vector<double> history[2];
      for (int k = 0; k < 2; ++k) {
        ParamSet p = economy_params();
        p.set("juntos.enabled", true);
        p.set("haku_winay.enabled", true);
        p.set("markets.scope", std::string(scope));
        p.set("markets.period", std::string(period));
        // 3 districts of 400 households, clusters of about 130: 96 is smaller than every economy, 600 larger.
        p.set("population.block_households", std::int64_t{k == 0 ? 96 : 600});
        tbb::global_control threads(tbb::global_control::max_allowed_parallelism, 2);
        World w = generate_population(p, 0);
        Model m = models::build_model(p);
        const rng::StreamSeed seed{5, 0};
        for (auto& mod : m.modules) mod->setup(w, p, seed);
        const models::LocalMarkets* markets = local_markets_of(m);
        ASSERT_NE(markets, nullptr);
        EXPECT_EQ(markets->clears_per_block(), k == 1) << scope << " " << period;
        if (k == 1) {  // every economy lies in one block, and blocks tile the households
          ASSERT_GT(w.blocks.size(), 1u);
          for (const auto& econ : markets->economies()) {
            int holding = 0;
            for (const Block& b : w.blocks) holding += b.centre_begin <= econ.centre_begin && econ.centre_end <= b.centre_end;
            EXPECT_EQ(holding, 1);
          }
          EXPECT_EQ(w.blocks.back().household_end, w.household_end());
        }
        Stepper stepper(w, m.month, p, seed);
        for (int month = 0; month < 26; ++month) stepper.step(month);
        digest[k] = chacra::testing::household_digest(w);
        for (const auto& t : markets->unit_tables(w)) history[k] = t.values;
      }
      EXPECT_EQ(digest[0], digest[1]) << scope << " " << period;
      EXPECT_FALSE(history[0].empty());
      EXPECT_EQ(history[0], history[1]) << scope << " " << period;
    }
}

// Switched off, the channel is absent: no phase, no column (the golden digest and the bit check guard the bits).
TEST(LocalMarketsWired, OffAddsNoPhaseAndNoColumn) {
  ParamSet p = economy_params();
  p.set("economy.markets.enabled", false);
  World w = generate_population(p, 0);
  Model m = models::build_model(p);
  for (const auto& phase : m.month) EXPECT_NE(phase.name.rfind("markets.", 0), 0u) << phase.name;
  for (auto& mod : m.modules) mod->setup(w, p, rng::StreamSeed{1, 0});
  EXPECT_FALSE(w.households.has("market_spending_pen"));
  EXPECT_FALSE(w.households.has("local_price_index"));
}

// The channel needs the welfare channel's budget: a clear error names both switches.
TEST(LocalMarketsWired, NeedsTheWelfareChannel) {
  ParamSet p = economy_params();
  p.set("economy.welfare.enabled", false);
  const auto problems = p.violations();
  bool found = false;
  for (const auto& s : problems) found |= s.find("economy.welfare.enabled") != std::string::npos;
  EXPECT_TRUE(found);
}

}  // namespace

namespace {

// The welfare channel's identity still holds for every household every month with the markets, the monetary part
// of consumption being the cash spent at local prices (market_spending_pen): monetary income (with the markets'
// gains) + own production + in-kind + dissaving + borrowing = own production + in-kind + cash spending +
// investment + upkeep + interest + repayment, to the cent; cash is never negative; and consumption counts the cash
// spending at the local price index.
TEST(LocalMarketsWired, HouseholdAccountsHoldEveryMonth) {
  ParamSet p = economy_params();
  p.set("juntos.enabled", true);
  p.set("haku_winay.enabled", true);
  World w = generate_population(p, 0);
  Model m = models::build_model(p);
  const rng::StreamSeed seed{5, 0};
  for (auto& mod : m.modules) mod->setup(w, p, seed);
  Stepper stepper(w, m.month, p, seed);
  const auto get = [&w](const char* name) {
    const float* v = w.households.get<float>(name);
    return std::vector<float>(v + w.household_begin(), v + w.household_end());
  };
  std::size_t checked = 0, gaining = 0;
  for (int month = 0; month < 36; ++month) {
    const auto cash0 = get("cash_pen");
    stepper.step(month);
    const auto y = get("income_monetary_pen"), own = get("own_production_pen"), in_kind = get("in_kind_pen"),
               cash = get("cash_pen"), borrowed = get("borrowed_pen"), spent = get("market_spending_pen"),
               investment = get("investment_pen"), upkeep = get("upkeep_paid_pen"), interest = get("interest_pen"),
               repaid = get("repaid_pen"), c = get("consumption_pen"), lpi = get("local_price_index"),
               gain = get("market_gain_pen");
    for (std::size_t i = 0; i < y.size(); ++i) {
      const double sources = double{y[i]} + own[i] + in_kind[i] + (double{cash0[i]} - cash[i]) + borrowed[i];
      const double uses = double{own[i]} + in_kind[i] + spent[i] + investment[i] + upkeep[i] + interest[i] + repaid[i];
      ASSERT_NEAR(sources, uses, 0.01) << "household " << i << " month " << month;
      ASSERT_GE(cash[i], 0.0f);
      ASSERT_GE(gain[i], -0.001f) << "selling at local prices never pays less than at farm-gate prices";
      ASSERT_NEAR(c[i], double{own[i]} + in_kind[i] + spent[i] / double{lpi[i]}, 0.01 + 1e-6 * c[i]);
      gaining += gain[i] > 0.0f;
      ++checked;
    }
  }
  EXPECT_EQ(checked, w.household_count() * 36);
  EXPECT_GT(gaining, checked / 20) << "local prices above farm-gate prices must pay some households";
}

// Quarterly clearing over a run of 40 months (not a multiple of the quarter): the run's last month (April of the
// fourth year) settles its partial quarter, so every sol households spent over the run reached a market or leaked,
// no flow is left pending, and money is conserved in every period.
TEST(LocalMarketsWired, QuarterlyClearingSettlesTheLastPartialQuarter) {
  ParamSet p = economy_params();
  p.set("juntos.enabled", true);
  p.set("haku_winay.enabled", true);
  p.set("markets.period", std::string("quarter"));
  World w = generate_population(p, 0);
  constexpr int kRunMonths = 40;
  w.calendar.months = kRunMonths;
  Model m = models::build_model(p);
  const rng::StreamSeed seed{7, 0};
  for (auto& mod : m.modules) mod->setup(w, p, seed);
  const models::LocalMarkets* markets = local_markets_of(m);
  ASSERT_NE(markets, nullptr);
  const std::size_t economies = markets->economies().size();
  Stepper stepper(w, m.month, p, seed);
  double spent = 0, cleared = 0, net_inflow = 0, money_change = 0;
  int settlements = 0;
  for (int month = 0; month < kRunMonths; ++month) {
    stepper.step(month);
    const auto* spending = w.households.get<float>("market_spending_pen");
    for (std::uint32_t i = w.household_begin(); i < w.household_end(); ++i) spent += spending[i];
    for (std::size_t e = 0; e < economies; ++e) {
      const auto& period = markets->last_periods()[e];
      if (period.month != month) continue;
      ++settlements;
      EXPECT_TRUE(period.conservation.holds) << "economy " << e << " month " << month;
      cleared += period.outcome.accounts.leakage_pen;
      for (const auto& g : period.outcome.goods) cleared += g.demand_pen;
      net_inflow += period.conservation.net_inflow_pen;
      money_change += period.conservation.money_change_pen;
    }
  }
  // Quarters end in months 2, 5, ..., 35, then the partial quarter (months 36-39) settles in month 39.
  EXPECT_EQ(settlements, static_cast<int>(economies) * (kRunMonths / 3 + 1));
  for (std::size_t e = 0; e < economies; ++e) EXPECT_EQ(markets->last_periods()[e].month, kRunMonths - 1);
  EXPECT_NEAR(cleared, spent, 1e-6 * spent) << "spending left unsettled at the end of the run";
  EXPECT_NEAR(net_inflow, money_change, 0.005 * settlements);
  const auto* pending = w.households.get<double>("market_pending_pen");
  for (std::size_t k = w.household_begin() * models::col::kPendingWidth; k < w.household_end() * models::col::kPendingWidth; ++k)
    ASSERT_EQ(pending[k], 0.0) << "a flow left pending at the end of the run";
}

}  // namespace
