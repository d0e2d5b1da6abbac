// File: tests/models/test_markets.cpp
// Local markets (models/markets.hpp): clearing inside the price band and trade at its bounds, the closed forms
// against the bracketing solver, money conservation, comparative statics, determinism, and the three LEWIE
// outcomes on a small economy of 36 households simulated over ten years of months with and without a
// transfer: no local supply (multiplier exactly 1), elastic supply (above 1, small price change) and fixed
// supply (prices rise, the real multiplier falls below the nominal one).
#include "models/markets.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

namespace chacra {
namespace {

namespace mk = models::markets;

// xorshift64: reproducible random cases.
struct Rand {
  std::uint64_t x;
  double uniform() {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return static_cast<double>(x >> 11) * 0x1.0p-53;
  }
};

mk::Seller seller(double ref, double elasticity, double capacity = mk::kUnlimited) {
  mk::Seller s;
  s.supply_ref = ref;
  s.elasticity = elasticity;
  s.capacity = capacity;
  return s;
}

mk::MarketInput market(double p_star, double margin, double final_spending, std::vector<mk::Seller> sellers) {
  mk::MarketInput m;
  m.outside_price_pen = p_star;
  m.margin = margin;
  m.final_spending_pen = final_spending;
  m.sellers = std::move(sellers);
  return m;
}

mk::MarketOutcome clear(const mk::MarketInput& m) {
  mk::MarketOutcome o;
  mk::clear_market(m, m.final_spending_pen + m.intermediate_spending_pen, o);
  return o;
}

// ---------------------------------------------------------------------------------------------------------
// One market.

TEST(MarketsBand, TransportMarginWidensAsMarketAccessWorsens) {
  EXPECT_DOUBLE_EQ(mk::transport_margin(0.1, 0.25, 1.0), 0.1);
  EXPECT_DOUBLE_EQ(mk::transport_margin(0.1, 0.25, 0.0), 0.35);
  double previous = 1e9;
  for (int i = 0; i <= 10; ++i) {
    const double tau = mk::transport_margin(0.1, 0.25, i / 10.0);
    EXPECT_LT(tau, previous);
    previous = tau;
  }
}

TEST(MarketsClearing, NoLocalSupplyBuysEverythingOutsideAtImportParity) {
  const auto o = clear(market(2.0, 0.25, 500, {}));
  EXPECT_EQ(o.regime, mk::Regime::imports);
  EXPECT_DOUBLE_EQ(o.price_pen, 2.5);
  EXPECT_DOUBLE_EQ(o.imports, 200);
  EXPECT_DOUBLE_EQ(o.import_value_pen, 500);
  EXPECT_EQ(o.revenue_pen, 0);
  EXPECT_EQ(o.local_sales, 0);
}

TEST(MarketsClearing, NoMarketWithoutSupplyOrDemandKeepsTheOutsidePrice) {
  const auto o = clear(market(3.0, 0.25, 0, {seller(0, 1)}));
  EXPECT_EQ(o.regime, mk::Regime::local);
  EXPECT_EQ(o.price_pen, 3.0);
  EXPECT_EQ(o.revenue_pen, 0);
}

TEST(MarketsClearing, SurplusIsExportedAtExportParityUpToTheLimit) {
  auto m = market(1.0, 0.2, 40, {seller(100, 1), seller(50, 0)});
  auto o = clear(m);
  EXPECT_EQ(o.regime, mk::Regime::exports);
  EXPECT_DOUBLE_EQ(o.price_pen, 0.8);
  const double supply = 100 * 0.8 + 50;
  EXPECT_DOUBLE_EQ(o.supplied, supply);
  EXPECT_DOUBLE_EQ(o.local_sales, 40 / 0.8);
  EXPECT_DOUBLE_EQ(o.exports, supply - 50);
  EXPECT_DOUBLE_EQ(o.revenue_pen, 0.8 * supply);
  EXPECT_EQ(o.unsold, 0);

  m.export_limit = 30;  // the outside takes 30; the rest stays unsold (labour: idle)
  o = clear(m);
  EXPECT_DOUBLE_EQ(o.exports, 30);
  EXPECT_DOUBLE_EQ(o.unsold, supply - 50 - 30);
  EXPECT_DOUBLE_EQ(o.revenue_pen, 40 + 0.8 * 30);
  // Every seller sells the same fraction of what it offers.
  EXPECT_NEAR(o.sellers[0].quantity / 80.0, o.sellers[1].quantity / 50.0, 1e-15);
}

TEST(MarketsClearing, InsideTheBandTheClosedFormClearsASingleSeller) {
  for (double eps : {0.0, 0.3, 1.0, 2.5}) {
    const double p_star = 4.0, s0 = 100, demand = 430;  // demand at p*: 107.5 units against 100 offered
    const auto o = clear(market(p_star, 0.3, demand, {seller(s0, eps)}));
    ASSERT_EQ(o.regime, mk::Regime::local) << eps;
    const double expected = p_star * std::pow(demand / (p_star * s0), 1.0 / (1.0 + eps));
    EXPECT_NEAR(o.price_pen, expected, 1e-14 * expected) << eps;
    EXPECT_EQ(o.revenue_pen, demand) << "inside the band every sol spent goes to local sellers";
    EXPECT_NEAR(o.supplied, o.bought, 1e-12 * o.bought);
  }
}

TEST(MarketsClearing, ClosedFormsAgreeWithTheBracketingSolver) {
  Rand rng{0x9E3779B97F4A7C15ull};
  int closed = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<mk::Seller> sellers;
    const int n = 1 + static_cast<int>(rng.uniform() * 6);
    const bool fixed = rng.uniform() < 0.3;
    const double eps = fixed ? 0.0 : 0.1 + 3 * rng.uniform();
    for (int i = 0; i < n; ++i) sellers.push_back(seller(1 + 100 * rng.uniform(), eps));
    const double p_star = 0.5 + 5 * rng.uniform();
    const double margin = 0.05 + 0.5 * rng.uniform();
    const double lo = 1 - margin, hi = 1 + margin;
    double supply_ref = 0;
    for (const auto& s : sellers) supply_ref += s.supply_ref;
    const double demand = p_star * supply_ref * (lo + (hi - lo) * rng.uniform());
    double supply_lo = 0, supply_hi = 0;
    for (const auto& s : sellers) {
      supply_lo += mk::seller_supply(s, lo);
      supply_hi += mk::seller_supply(s, hi);
    }
    if (!(demand > p_star * lo * supply_lo && demand < p_star * hi * supply_hi)) continue;
    ++closed;
    const double x = mk::clearing_relative_price(sellers, p_star, demand, lo, hi);
    const double y = mk::clearing_relative_price_bracketed(sellers, p_star, demand, lo, hi);
    EXPECT_NEAR(x, y, 4e-15 * x) << trial;
    EXPECT_GE(x, lo);
    EXPECT_LE(x, hi);
  }
  EXPECT_GT(closed, 1000);
}

TEST(MarketsClearing, CapacityAndMixedElasticitiesClearByBracketing) {
  Rand rng{12345};
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<mk::Seller> sellers;
    const int n = 1 + static_cast<int>(rng.uniform() * 8);
    for (int i = 0; i < n; ++i) {
      const double ref = 100 * rng.uniform();
      const double eps = rng.uniform() < 0.3 ? 0.0 : 4 * rng.uniform();
      const double cap = rng.uniform() < 0.5 ? ref * (0.7 + 0.6 * rng.uniform()) : mk::kUnlimited;
      sellers.push_back(seller(ref, eps, cap));
    }
    auto m = market(0.5 + 3 * rng.uniform(), 0.6 * rng.uniform(), 0, sellers);
    double ref = 0;
    for (const auto& s : sellers) ref += s.supply_ref;
    m.final_spending_pen = m.outside_price_pen * ref * (0.3 + 1.4 * rng.uniform());
    const auto o = clear(m);
    EXPECT_GE(o.price_pen, o.lower_price_pen);
    EXPECT_LE(o.price_pen, o.upper_price_pen);
    double offered = 0, revenue = 0, share = 0;
    for (std::size_t i = 0; i < sellers.size(); ++i) {
      const double q = mk::seller_supply(sellers[i], o.price_pen / m.outside_price_pen);
      EXPECT_LE(q, sellers[i].capacity);
      offered += q;
      revenue += o.sellers[i].revenue_pen;
      share += o.sellers[i].share;
    }
    EXPECT_NEAR(offered, o.supplied, 1e-12 * (1 + offered));
    EXPECT_NEAR(revenue, o.revenue_pen, 1e-12 * (1 + revenue));
    if (o.supplied > 0) {
      EXPECT_NEAR(share, 1.0, 1e-12);
    }
    if (o.regime == mk::Regime::local && o.price_pen > o.lower_price_pen && o.price_pen < o.upper_price_pen) {
      // Money clears: what buyers spend is what the offered quantity is worth at the price.
      EXPECT_NEAR(o.price_pen * o.supplied, m.final_spending_pen, 1e-12 * m.final_spending_pen) << trial;
    }
  }
}

TEST(MarketsClearing, ACappedSellerBehavesLikeAFixedOneAbovePStar) {
  // Elastic but at capacity already at the outside price: when demand pushes the price up, nothing more comes.
  const auto capped = clear(market(1.0, 0.3, 115, {seller(100, 1.5, 100)}));
  const auto fixed = clear(market(1.0, 0.3, 115, {seller(100, 0.0)}));
  EXPECT_DOUBLE_EQ(capped.price_pen, 1.15);
  EXPECT_NEAR(capped.price_pen, fixed.price_pen, 1e-15);
  EXPECT_DOUBLE_EQ(capped.supplied, 100);
}

TEST(MarketsClearing, SellersKeepRevenueNetOfWagesAndOutsideInputs) {
  auto b = seller(50, 1);
  b.labour_share = 0.3;
  b.outside_input_share = 0.4;
  const auto o = clear(market(1.0, 0.2, 60, {b, seller(30, 1)}));
  const auto& s = o.sellers[0];
  EXPECT_NEAR(s.wages_pen, 0.3 * s.revenue_pen, 1e-13);
  EXPECT_NEAR(s.outside_inputs_pen, 0.4 * s.revenue_pen, 1e-13);
  EXPECT_NEAR(s.net_income_pen, 0.3 * s.revenue_pen, 1e-13);
  EXPECT_NEAR(s.share, 50.0 / 80.0, 1e-15) << "one elasticity: shares are the reference supplies' shares";
}

TEST(MarketsPriceIndex, IsOneAtOutsidePricesAndWeighsLocalPricesByBudgetShares) {
  std::vector<mk::MarketInput> goods(2);
  goods[0].outside_price_pen = 2;
  goods[0].cpi_weight = 0.3;
  goods[1].outside_price_pen = 5;
  goods[1].cpi_weight = 0.1;
  std::vector<mk::MarketOutcome> out(2);
  out[0].price_pen = 2;
  out[1].price_pen = 5;
  EXPECT_EQ(mk::consumer_price_index(goods, out), 1.0);
  out[0].price_pen = 2.5;  // +25% on a 30% share
  out[1].price_pen = 4;    // -20% on a 10% share
  EXPECT_DOUBLE_EQ(mk::consumer_price_index(goods, out), 1 + 0.3 * 0.25 - 0.1 * 0.2);
}

TEST(MarketsInput, EveryProblemIsListedAtOnce) {
  mk::PeriodInput in;
  in.goods.resize(mk::kGoodCount);
  in.goods[0].margin = 1.2;
  in.goods[1].sellers.push_back(seller(10, -1));
  in.goods[2].cpi_weight = 0.7;
  in.goods[3].cpi_weight = 0.6;
  in.labour.sellers.push_back(seller(5, 0.5));
  in.labour.sellers[0].labour_share = 0.1;
  in.leakage_pen = -3;
  const auto problems = mk::input_problems(in);
  ASSERT_EQ(problems.size(), 5u);
  EXPECT_NE(problems[0].find("goods[0] (local_food).margin"), std::string::npos) << problems[0];
  EXPECT_NE(problems[1].find("goods[1] (livestock).sellers[0].elasticity"), std::string::npos) << problems[1];
  EXPECT_NE(problems[2].find("goods.cpi_weight: 1.3 is the sum of the CPI weights"), std::string::npos) << problems[2];
  EXPECT_NE(problems[3].find("labour.sellers[0]"), std::string::npos) << problems[3];
  EXPECT_NE(problems[4].find("leakage_pen"), std::string::npos) << problems[4];
  try {
    mk::clear_period(in);
    ADD_FAILURE() << "clear_period accepted an invalid input";
  } catch (const std::invalid_argument& e) {
    for (const auto& p : problems) EXPECT_NE(std::string(e.what()).find(p), std::string::npos);
  }
  mk::PeriodInput good;
  good.goods.resize(3);
  EXPECT_TRUE(mk::input_problems(good).empty());
}

// ---------------------------------------------------------------------------------------------------------
// A small local economy simulated over periods: 36 households in 3 centres. Each period a household receives
// its remittance (and, in the programme arm, a transfer), the markets clear the spending it committed the
// period before, it is paid for what it sold and for its work, and it commits half its cash to next period's
// spending, by fixed budget shares (the rest buys outside goods).

enum class LocalSupply { none, elastic, fixed };

constexpr int kHouseholds = 36;
constexpr int kCentres = 3;
constexpr int kPeriods = 120;        // ten years of months
constexpr int kTransferStart = 24;   // the reference and programme arms are identical before
constexpr double kTransferPen = 30;  // per eligible household and period (a third of households)
constexpr double kSpendShare = 0.5;  // share of cash committed to next period's spending
constexpr double kFoodShare = 0.25, kLivestockShare = 0.10, kBakeryShare = 0.05;

struct Household {
  int centre = 0;
  double food_ref = 0, livestock_ref = 0, labour_days = 0, remittance = 0;
  double cash = 0, committed = 0;
  bool eligible = false;
};

std::vector<Household> make_households() {
  Rand rng{0xC0FFEEull};
  std::vector<Household> hs(kHouseholds);
  for (int h = 0; h < kHouseholds; ++h) {
    Household& x = hs[h];
    x.centre = h / (kHouseholds / kCentres);
    x.food_ref = 20 + 40 * rng.uniform();
    x.livestock_ref = 7 + 14 * rng.uniform();
    x.labour_days = 4 + 8 * rng.uniform();
    x.remittance = rng.uniform() < 0.3 ? 80 + 100 * rng.uniform() : 0;
    x.cash = 150 + 200 * rng.uniform();
    x.committed = kSpendShare * x.cash;
    x.cash -= x.committed;
    x.eligible = h % 3 == 0;
  }
  return hs;
}

// Owners of the bakery (centre 0) and of the rural-tourism business (centre 2) share their profits equally.
bool bakery_owner(int h) { return h < 4; }
bool tourism_owner(int h) { return h >= 24 && h < 28; }

struct ArmRun {
  std::vector<mk::PeriodOutcome> periods;
  std::vector<mk::Conservation> conservation;
  std::vector<double> household_income;  // summed over households each period
};

// Supply elasticities of the elastic case (the fixed case has 0 everywhere).
constexpr double kFarmElasticity = 3.0, kBusinessElasticity = 2.0;
double elasticity_of(mk::Good g) { return g == mk::Good::bakery_food ? kBusinessElasticity : kFarmElasticity; }

// `labour_scale` scales the days households offer for hire (1: far more than local employers want).
ArmRun simulate(LocalSupply supply, bool programme, double labour_scale = 1.0) {
  std::vector<Household> hs = make_households();
  const double food_eps = supply == LocalSupply::elastic ? kFarmElasticity : 0.0;
  const double business_eps = supply == LocalSupply::elastic ? kBusinessElasticity : 0.0;
  const bool any = supply != LocalSupply::none;

  mk::PeriodInput in;
  in.goods.resize(mk::kGoodCount);
  for (auto& g : in.goods) g.margin = 0.25;
  auto& food = in.goods[mk::good_index(mk::Good::local_food)];
  auto& livestock = in.goods[mk::good_index(mk::Good::livestock)];
  auto& bakery = in.goods[mk::good_index(mk::Good::bakery_food)];
  auto& tourism = in.goods[mk::good_index(mk::Good::rural_tourism)];
  food.cpi_weight = kFoodShare;
  livestock.cpi_weight = kLivestockShare;
  bakery.cpi_weight = kBakeryShare;
  livestock.margin = 0.2;
  bakery.margin = tourism.margin = 0.3;
  // Food: every household sells its own; livestock: one group per centre; one bakery; one tourism business
  // selling to visitors from outside (no local demand: it exports).
  for (const Household& h : hs) {
    food.sellers.push_back(seller(any ? h.food_ref : 0, food_eps, 2 * h.food_ref));
    food.sellers.back().labour_share = 0.15;  // help hired at harvest
  }
  std::vector<double> centre_livestock(kCentres, 0.0);
  for (const Household& h : hs) centre_livestock[h.centre] += h.livestock_ref;
  for (int c = 0; c < kCentres; ++c)
    livestock.sellers.push_back(seller(any ? centre_livestock[c] : 0, food_eps, mk::kUnlimited));
  mk::Seller bakery_seller = seller(any ? 220 : 0, business_eps, 450);
  bakery_seller.labour_share = 0.3;
  bakery_seller.outside_input_share = 0.4;
  bakery.sellers.push_back(bakery_seller);
  mk::Seller tourism_seller = seller(any ? 60 : 0, business_eps, 150);
  tourism_seller.labour_share = 0.2;
  tourism_seller.outside_input_share = 0.2;
  tourism.sellers.push_back(tourism_seller);
  // Hired labour: days at the outside wage of PEN 35, a wide migration-cost band, outside work for a quarter
  // of the days offered at the reference wage.
  in.labour.outside_price_pen = 35;
  in.labour.margin = 0.3;
  double days = 0;
  for (const Household& h : hs) {
    in.labour.sellers.push_back(seller(labour_scale * h.labour_days, 0.5, 2 * labour_scale * h.labour_days));
    days += labour_scale * h.labour_days;
  }
  in.labour.export_limit = 0.25 * days;

  ArmRun run;
  mk::PeriodOutcome out;
  for (int t = 0; t < kPeriods; ++t) {
    double money_before = 0;
    for (const Household& h : hs) money_before += h.cash + h.committed;
    // Income from outside.
    std::vector<double> income(kHouseholds, 0.0);
    in.transfers_pen = in.remittances_pen = 0;
    for (int i = 0; i < kHouseholds; ++i) {
      Household& h = hs[i];
      const double transfer = programme && h.eligible && t >= kTransferStart ? kTransferPen : 0.0;
      h.cash += h.remittance + transfer;
      income[i] += h.remittance + transfer;
      in.transfers_pen += transfer;
      in.remittances_pen += h.remittance;
    }
    // Last period's committed spending, by budget share; the remainder buys outside goods.
    food.final_spending_pen = livestock.final_spending_pen = bakery.final_spending_pen = in.leakage_pen = 0;
    for (const Household& h : hs) {
      const double f = h.committed * kFoodShare, l = h.committed * kLivestockShare, b = h.committed * kBakeryShare;
      food.final_spending_pen += f;
      livestock.final_spending_pen += l;
      bakery.final_spending_pen += b;
      in.leakage_pen += h.committed - f - l - b;
    }
    mk::clear_period(in, out);
    // Pay sellers and workers.
    const auto& fo = out.goods[mk::good_index(mk::Good::local_food)];
    const auto& lo = out.goods[mk::good_index(mk::Good::livestock)];
    const double bakery_net = out.goods[mk::good_index(mk::Good::bakery_food)].sellers[0].net_income_pen;
    const double tourism_net = out.goods[mk::good_index(mk::Good::rural_tourism)].sellers[0].net_income_pen;
    for (int i = 0; i < kHouseholds; ++i) {
      Household& h = hs[i];
      h.committed = 0;
      double earned = fo.sellers[i].net_income_pen + out.labour.sellers[i].net_income_pen;
      if (centre_livestock[h.centre] > 0)
        earned += lo.sellers[h.centre].net_income_pen * (h.livestock_ref / centre_livestock[h.centre]);
      if (bakery_owner(i)) earned += bakery_net / 4;
      if (tourism_owner(i)) earned += tourism_net / 4;
      h.cash += earned;
      income[i] += earned;
    }
    // Budget: commit spending for next period.
    for (Household& h : hs) {
      h.committed = kSpendShare * h.cash;
      h.cash -= h.committed;
    }
    double money_after = 0;
    for (const Household& h : hs) money_after += h.cash + h.committed;
    out.accounts.money_change_pen = money_after - money_before;
    run.periods.push_back(out);
    run.conservation.push_back(mk::check_conservation(out.accounts));
    run.household_income.push_back(std::accumulate(income.begin(), income.end(), 0.0));
  }
  return run;
}

struct Case {
  ArmRun reference, programme;
  mk::Multipliers m;
};

Case run_case(LocalSupply supply) {
  Case c{simulate(supply, false), simulate(supply, true), {}};
  c.m = mk::local_multipliers(c.programme.periods, c.reference.periods);
  return c;
}

const Case& case_of(LocalSupply supply) {
  static const Case none = run_case(LocalSupply::none);
  static const Case elastic = run_case(LocalSupply::elastic);
  static const Case fixed = run_case(LocalSupply::fixed);
  return supply == LocalSupply::none ? none : supply == LocalSupply::elastic ? elastic : fixed;
}

void print(const char* name, const mk::Multipliers& m) {
  std::printf("[ markets  ] %-8s nominal %.3f real %.3f | food %+.2f%% livestock %+.2f%% bakery %+.2f%% "
              "wage %+.2f%% CPI %+.2f%% employment %+.2f%%\n",
              name, m.nominal, m.real, 100 * m.price_change[mk::good_index(mk::Good::local_food)],
              100 * m.price_change[mk::good_index(mk::Good::livestock)],
              100 * m.price_change[mk::good_index(mk::Good::bakery_food)], 100 * m.wage_change,
              100 * m.cpi_change, 100 * m.employment_change);
}

const std::vector<mk::Good> kLocalGoods = {mk::Good::local_food, mk::Good::livestock, mk::Good::bakery_food};

// Every good households buy locally ends the run in `regime`.
void expect_final_regime(const ArmRun& run, mk::Regime regime) {
  for (mk::Good g : kLocalGoods)
    EXPECT_EQ(run.periods.back().goods[mk::good_index(g)].regime, regime) << mk::kGoodNames[mk::good_index(g)];
}

TEST(MarketsLewie, NoLocalSupplyGivesAMultiplierOfExactlyOneAndNoPriceChange) {
  const Case& c = case_of(LocalSupply::none);
  print("none", c.m);
  EXPECT_DOUBLE_EQ(c.m.injection_pen, kTransferPen * (kHouseholds / 3) * (kPeriods - kTransferStart));
  EXPECT_NEAR(c.m.nominal, 1.0, 1e-12);
  EXPECT_NEAR(c.m.real, 1.0, 1e-12);
  for (int t = 0; t < kPeriods; ++t) {
    for (int g = 0; g < mk::kGoodCount; ++g)
      EXPECT_EQ(c.programme.periods[t].goods[g].price_pen, c.reference.periods[t].goods[g].price_pen);
    EXPECT_EQ(c.programme.periods[t].labour.price_pen, c.reference.periods[t].labour.price_pen);
    EXPECT_EQ(c.programme.periods[t].cpi, c.reference.periods[t].cpi);
  }
  for (double p : c.m.price_change) EXPECT_EQ(p, 0.0);
  EXPECT_EQ(c.m.wage_change, 0.0);
  // Everything households buy locally comes from outside, at import parity.
  expect_final_regime(c.programme, mk::Regime::imports);
}

TEST(MarketsLewie, ElasticLocalSupplyGivesAMultiplierAboveOneWithASmallPriceChange) {
  const Case& c = case_of(LocalSupply::elastic);
  const Case& fixed = case_of(LocalSupply::fixed);
  print("elastic", c.m);
  EXPECT_GT(c.m.nominal, 1.2);
  EXPECT_GT(c.m.real, 1.2);
  EXPECT_LT(c.m.real, c.m.nominal);
  // Inside the band p is proportional to M^(1/(1+e)): the price moves by less than 1/(1+e) of what it moves
  // when supply is fixed (p proportional to M).
  for (mk::Good g : kLocalGoods) {
    const int i = mk::good_index(g);
    const double e = elasticity_of(g);
    EXPECT_GT(c.m.price_change[i], 0.0) << mk::kGoodNames[i];
    EXPECT_LT(c.m.price_change[i], fixed.m.price_change[i] / (1 + e)) << mk::kGoodNames[i];
  }
  EXPECT_LT(c.m.cpi_change, fixed.m.cpi_change / 3);
  // Local producers supply the extra demand: the markets clear locally rather than at import parity.
  expect_final_regime(c.programme, mk::Regime::local);
}

TEST(MarketsLewie, FixedLocalSupplyRaisesPricesAndTheRealMultiplierFallsBelowTheNominal) {
  const Case& fixed = case_of(LocalSupply::fixed);
  const Case& elastic = case_of(LocalSupply::elastic);
  print("fixed", fixed.m);
  for (mk::Good g : kLocalGoods) {
    const int i = mk::good_index(g);
    EXPECT_GT(fixed.m.price_change[i], 2 * elastic.m.price_change[i]) << mk::kGoodNames[i];
  }
  EXPECT_GT(fixed.m.cpi_change, 2 * elastic.m.cpi_change);
  EXPECT_LT(fixed.m.real, fixed.m.nominal - 0.02);
  EXPECT_GT(fixed.m.nominal - fixed.m.real, 2 * (elastic.m.nominal - elastic.m.real));
  EXPECT_LT(fixed.m.real, elastic.m.real);
  // Quantities cannot respond: the whole demand response is a price response.
  const auto& food = fixed.programme.periods.back().goods[mk::good_index(mk::Good::local_food)];
  const auto& food_ref = fixed.reference.periods.back().goods[mk::good_index(mk::Good::local_food)];
  EXPECT_EQ(food.supplied, food_ref.supplied);
}

TEST(MarketsLewie, WhenLabourIsScarceTheWageRisesWithTheTransfer) {
  // Households offer an eightieth of the days of the other cases: local employers' wage bill clears inside
  // the band, so part of the demand response goes to workers through the wage.
  const ArmRun reference = simulate(LocalSupply::elastic, false, 1.0 / 80);
  const ArmRun programme = simulate(LocalSupply::elastic, true, 1.0 / 80);
  const auto m = mk::local_multipliers(programme.periods, reference.periods);
  print("scarce", m);
  EXPECT_EQ(reference.periods.back().labour.regime, mk::Regime::local);
  EXPECT_GT(m.wage_change, 0.01);
  EXPECT_GT(m.employment_change, 0.0);
  EXPECT_GT(m.nominal, 1.2);
  for (const auto& k : programme.conservation) EXPECT_TRUE(k.holds) << k.imbalance_pen;
}

TEST(MarketsLewie, MoneyIsConservedEveryPeriodToTheCent) {
  for (LocalSupply s : {LocalSupply::none, LocalSupply::elastic, LocalSupply::fixed}) {
    const Case& c = case_of(s);
    for (const ArmRun* run : {&c.reference, &c.programme})
      for (int t = 0; t < kPeriods; ++t) {
        const auto& k = run->conservation[t];
        EXPECT_TRUE(k.holds) << "period " << t << " imbalance " << k.imbalance_pen;
        EXPECT_LT(std::abs(k.imbalance_pen), 1e-9);
        // The local income the market reports is what the households received.
        EXPECT_NEAR(run->periods[t].local_income_pen, run->household_income[t], 1e-9);
      }
  }
  // A household paid twice is caught.
  mk::MoneyAccounts a = case_of(LocalSupply::elastic).programme.periods[50].accounts;
  a.money_change_pen += 0.01;
  EXPECT_FALSE(mk::check_conservation(a).holds);
}

TEST(MarketsLewie, PricesStayInsideTheirBandsEveryPeriod) {
  for (LocalSupply s : {LocalSupply::none, LocalSupply::elastic, LocalSupply::fixed}) {
    const Case& c = case_of(s);
    for (const ArmRun* run : {&c.reference, &c.programme})
      for (const auto& p : run->periods) {
        for (const auto& g : p.goods) {
          EXPECT_GE(g.price_pen, g.lower_price_pen);
          EXPECT_LE(g.price_pen, g.upper_price_pen);
        }
        EXPECT_GE(p.labour.price_pen, p.labour.lower_price_pen);
        EXPECT_LE(p.labour.price_pen, p.labour.upper_price_pen);
      }
  }
}

// Every double of a period's outcome, in a fixed order, as bits.
void append_bits(std::vector<std::uint64_t>& bits, const mk::MarketOutcome& m) {
  for (double v : {m.price_pen, m.lower_price_pen, m.upper_price_pen, m.demand_pen, m.bought, m.supplied,
                   m.local_sales, m.imports, m.exports, m.unsold, m.revenue_pen, m.import_value_pen,
                   m.export_value_pen})
    bits.push_back(std::bit_cast<std::uint64_t>(v));
  bits.push_back(static_cast<std::uint64_t>(m.regime));
  for (const auto& s : m.sellers)
    for (double v : {s.quantity, s.revenue_pen, s.share, s.wages_pen, s.outside_inputs_pen, s.net_income_pen})
      bits.push_back(std::bit_cast<std::uint64_t>(v));
}

std::vector<std::uint64_t> bits_of(const ArmRun& run) {
  std::vector<std::uint64_t> bits;
  for (const auto& p : run.periods) {
    for (const auto& g : p.goods) append_bits(bits, g);
    append_bits(bits, p.labour);
    const auto& a = p.accounts;
    for (double v : {p.cpi, p.local_income_pen, a.transfers_pen, a.remittances_pen, a.exports_pen,
                     a.outside_wages_pen, a.other_inflows_pen, a.imports_pen, a.leakage_pen, a.outside_inputs_pen,
                     a.outside_labour_pen, a.other_outflows_pen, a.money_change_pen})
      bits.push_back(std::bit_cast<std::uint64_t>(v));
  }
  return bits;
}

TEST(MarketsDeterminism, SameInputsGiveTheSameBits) {
  for (LocalSupply s : {LocalSupply::none, LocalSupply::elastic, LocalSupply::fixed}) {
    const ArmRun again = simulate(s, true);
    EXPECT_EQ(bits_of(again), bits_of(case_of(s).programme));
  }
  // Before the transfer starts the two arms are the same economy: identical bits.
  const Case& c = case_of(LocalSupply::elastic);
  for (int t = 0; t < kTransferStart; ++t) {
    ArmRun a, b;
    a.periods = {c.reference.periods[t]};
    b.periods = {c.programme.periods[t]};
    EXPECT_EQ(bits_of(a), bits_of(b)) << t;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Comparative statics on random economies.

mk::PeriodInput random_economy(Rand& rng) {
  mk::PeriodInput in;
  const int goods = 1 + static_cast<int>(rng.uniform() * mk::kGoodCount);
  in.goods.resize(goods);
  for (auto& g : in.goods) {
    g.outside_price_pen = 0.5 + 4 * rng.uniform();
    g.margin = 0.4 * rng.uniform();
    g.final_spending_pen = rng.uniform() < 0.1 ? 0.0 : 200 * rng.uniform();
    g.intermediate_spending_pen = rng.uniform() < 0.5 ? 0.0 : 50 * rng.uniform();
    g.cpi_weight = 0.9 / goods * rng.uniform();
    if (rng.uniform() < 0.3) g.export_limit = 30 * rng.uniform();
    const int n = static_cast<int>(rng.uniform() * 5);
    const double eps = rng.uniform() < 0.3 ? 0.0 : 3 * rng.uniform();
    for (int i = 0; i < n; ++i) {
      const bool mixed = rng.uniform() < 0.3;
      mk::Seller s = seller(60 * rng.uniform(), mixed ? 3 * rng.uniform() : eps,
                            rng.uniform() < 0.4 ? 60 * rng.uniform() : mk::kUnlimited);
      s.labour_share = 0.4 * rng.uniform();
      s.outside_input_share = 0.4 * rng.uniform();
      g.sellers.push_back(s);
    }
  }
  in.labour.outside_price_pen = 20 + 20 * rng.uniform();
  in.labour.margin = 0.4 * rng.uniform();
  in.labour.export_limit = rng.uniform() < 0.5 ? mk::kUnlimited : 10 * rng.uniform();
  in.labour.intermediate_spending_pen = 100 * rng.uniform();
  for (int i = 0; i < 4; ++i) in.labour.sellers.push_back(seller(5 * rng.uniform(), rng.uniform(), 8));
  return in;
}

TEST(MarketsComparativeStatics, MoreSpendingNeverLowersAPriceOrTheWage) {
  Rand rng{77};
  for (int trial = 0; trial < 3000; ++trial) {
    const mk::PeriodInput in = random_economy(rng);
    mk::PeriodInput more = in;
    const double factor = 1.0 + 2 * rng.uniform();
    for (auto& g : more.goods) g.final_spending_pen *= factor;
    const auto a = mk::clear_period(in);
    const auto b = mk::clear_period(more);
    for (std::size_t g = 0; g < in.goods.size(); ++g) {
      EXPECT_GE(b.goods[g].price_pen, a.goods[g].price_pen) << trial << " good " << g;
      EXPECT_GE(b.goods[g].revenue_pen, a.goods[g].revenue_pen * (1 - 1e-14)) << trial << " good " << g;
    }
    EXPECT_GE(b.labour.price_pen, a.labour.price_pen * (1 - 1e-14)) << trial;
    EXPECT_GE(b.cpi, a.cpi * (1 - 1e-14)) << trial;
  }
}

TEST(MarketsComparativeStatics, AHigherMarginWidensTheBandAndMovesOnlyPricesAtItsBounds) {
  Rand rng{4242};
  for (int trial = 0; trial < 3000; ++trial) {
    const mk::PeriodInput in = random_economy(rng);
    mk::PeriodInput wider = in;
    for (auto& g : wider.goods) g.margin = std::min(0.95, g.margin + 0.3 * rng.uniform());
    const auto a = mk::clear_period(in);
    const auto b = mk::clear_period(wider);
    for (std::size_t g = 0; g < in.goods.size(); ++g) {
      const auto& x = a.goods[g];
      const auto& y = b.goods[g];
      EXPECT_LE(y.lower_price_pen, x.lower_price_pen);
      EXPECT_GE(y.upper_price_pen, x.upper_price_pen);
      if (x.regime == mk::Regime::imports) {
        EXPECT_GE(y.price_pen, x.price_pen) << trial;
      }
      if (x.regime == mk::Regime::exports) {
        EXPECT_LE(y.price_pen, x.price_pen) << trial;
      }
      if (x.price_pen > x.lower_price_pen && x.price_pen < x.upper_price_pen) {
        EXPECT_NEAR(y.price_pen, x.price_pen, 1e-13 * x.price_pen) << trial << " an interior price stays";
      }
    }
  }
}

TEST(MarketsAccounts, RandomEconomiesBalanceWhenEveryoneIsPaid) {
  // Pay every seller group and worker its net income and debit every buyer: the money stock changes by the
  // net inflow the accounts report.
  Rand rng{99};
  for (int trial = 0; trial < 2000; ++trial) {
    mk::PeriodInput in = random_economy(rng);
    in.transfers_pen = 100 * rng.uniform();
    in.remittances_pen = 50 * rng.uniform();
    in.leakage_pen = 80 * rng.uniform();
    in.other_inflows_pen = 10 * rng.uniform();
    in.other_outflows_pen = 10 * rng.uniform();
    auto out = mk::clear_period(in);
    double change = in.transfers_pen + in.remittances_pen + in.other_inflows_pen - in.other_outflows_pen -
                    in.leakage_pen;
    for (std::size_t g = 0; g < in.goods.size(); ++g) {
      change -= in.goods[g].final_spending_pen + in.goods[g].intermediate_spending_pen;
      for (const auto& s : out.goods[g].sellers) change += s.net_income_pen;
    }
    change -= in.labour.final_spending_pen + in.labour.intermediate_spending_pen;
    for (const auto& s : out.labour.sellers) change += s.net_income_pen;
    out.accounts.money_change_pen = change;
    const auto c = mk::check_conservation(out.accounts);
    EXPECT_TRUE(c.holds) << trial << " imbalance " << c.imbalance_pen;
    EXPECT_LT(std::abs(c.imbalance_pen), 1e-9) << trial;
  }
}

TEST(MarketsMultipliers, DeflateByEachArmsCpiAndRejectMismatchedRuns) {
  std::vector<mk::PeriodOutcome> ref(2), prog(2);
  for (int t = 0; t < 2; ++t) {
    ref[t].goods.resize(1);
    prog[t].goods.resize(1);
    ref[t].goods[0].price_pen = 1.0;
    ref[t].labour.price_pen = 30;
    ref[t].labour.local_sales = 100;
    ref[t].local_income_pen = 1000;
    ref[t].cpi = 1.0;
    prog[t] = ref[t];
    prog[t].accounts.transfers_pen = 100;
    prog[t].local_income_pen = 1150;
  }
  prog[1].goods[0].price_pen = 1.1;
  prog[1].labour.price_pen = 33;
  prog[1].labour.local_sales = 110;
  prog[1].cpi = 1.05;
  const auto m = mk::local_multipliers(prog, ref);
  EXPECT_DOUBLE_EQ(m.injection_pen, 200);
  EXPECT_DOUBLE_EQ(m.nominal, 1.5);
  EXPECT_DOUBLE_EQ(m.real, (150 + (1150 / 1.05 - 1000)) / 200);
  EXPECT_NEAR(m.price_change[0], 0.05, 1e-15);
  EXPECT_NEAR(m.wage_change, 0.05, 1e-15);
  EXPECT_NEAR(m.cpi_change, 0.025, 1e-15);
  EXPECT_NEAR(m.employment_change, 0.05, 1e-15);
  EXPECT_TRUE(std::isnan(mk::local_multipliers(ref, ref).nominal)) << "no injection, no multiplier";
  EXPECT_THROW(mk::local_multipliers(std::span(prog).first(1), ref), std::invalid_argument);
}

}  // namespace
}  // namespace chacra
