// File: tests/models/test_economy_risk.cpp
// The risk channel (economy.risk.enabled): the safety-first rule as plain code (the largest commercial share
// whose income stays above the need net of secure income with the chosen probability), the district price
// process it is exposed to, and on small worlds the directions theory predicts: a predictable Juntos transfer
// raises market orientation and the mean and variance of the income it brings; when the transfer stops,
// orientation falls at the next planting; the commercial land's inputs are paid through finance::pay. With the
// switch off nothing moves and nothing is drawn.
#include "models/juntos.hpp"
#include "models/livelihood.hpp"
#include "models/portfolio.hpp"
#include "models/portfolio_rules.hpp"
#include "models/registry.hpp"
#include "test_juntos_world.hpp"
#include "tests/models/whole_model_run.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

namespace chacra::models {
namespace {

// A planner with the defaults' yield risk and a riskier commercial price than theirs, so that most choices are
// interior (with the defaults a household that can afford any commercial land often affords all of it).
PortfolioRisk planner() {
  PortfolioRisk k;
  k.yield_cv = 0.19;
  k.ordinary_price_sd = 0.13;
  k.commercial_price_sd = 0.45;
  return k;
}

PortfolioHousehold household(double resources, double secure) {
  PortfolioHousehold h;
  h.crop_value_pen = 2800.0;
  h.land_ha = 1.0;
  h.resources_pen = resources;
  h.secure_pen = secure;
  h.need_pen = 12000.0;
  return h;
}

// E - z SD - (need - secure) at share m.
double slack(const PortfolioRisk& k, const PortfolioHousehold& h, double m) {
  const PortfolioMoments mo = portfolio_moments(k, h, m);
  return mo.mean - k.safety_z * mo.sd - (h.need_pen - h.secure_pen);
}

TEST(RiskRules, SafetyFirstTakesTheLargestShareThatKeepsTheBound) {
  const PortfolioRisk k = planner();
  rng::Stream s(11, 0, rng::domain_id("test.safety_first"), 0, 0);
  int interior = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    PortfolioHousehold h = household(10000.0 + 4000.0 * s.uniform(), 1500.0 * s.uniform());
    h.crop_value_pen = 500.0 + 4000.0 * s.uniform();
    h.land_ha = 0.2 + 2.0 * s.uniform();
    const double m = safety_first_share(k, h);
    ASSERT_GE(m, 0.0);
    ASSERT_LE(m, 1.0);
    const double scale = h.need_pen;
    if (commercial_gain_pen(k, h) <= 0.0 || slack(k, h, 0.0) < 0.0) {
      EXPECT_EQ(m, 0.0) << trial;  // the line does not pay, or even subsistence fails the bound
      continue;
    }
    EXPECT_GE(slack(k, h, m), -1e-9 * scale) << trial;  // the bound holds at the choice
    if (m < 1.0) {
      ++interior;
      EXPECT_NEAR(slack(k, h, m), 0.0, 1e-9 * scale) << trial;  // on the boundary
      EXPECT_LT(slack(k, h, std::min(1.0, m + 1e-3)), 0.0) << trial;  // and no larger share keeps it
    } else {
      EXPECT_GE(slack(k, h, 1.0), 0.0);
    }
  }
  EXPECT_GT(interior, 200);
}

TEST(RiskRules, APredictableTransferRaisesOrientationAndTheMeanAndVarianceOfIncome) {
  const PortfolioRisk k = planner();
  const PortfolioHousehold without = household(12600.0, 100.0), with = household(12600.0, 500.0);
  const double m0 = safety_first_share(k, without), m1 = safety_first_share(k, with);
  ASSERT_GT(m0, 0.0);
  ASSERT_LT(m1, 1.0);
  EXPECT_GT(m1, m0);
  const PortfolioMoments a = portfolio_moments(k, without, m0), b = portfolio_moments(k, with, m1);
  EXPECT_GT(b.mean, a.mean);
  EXPECT_GT(b.sd, a.sd);
  // And orientation rises monotonically with secure income until the household is fully commercial.
  double last = 0.0;
  for (double secure = 0.0; secure < 5000.0; secure += 100.0) {
    const double m = safety_first_share(k, household(12600.0, secure));
    EXPECT_GE(m, last);
    last = m;
  }
  EXPECT_EQ(last, 1.0);
  // Riskier prices or a stricter bound lower it.
  PortfolioRisk risky = k, strict = k;
  risky.commercial_price_sd = 0.6;
  strict.safety_z = 2.0;
  EXPECT_LT(safety_first_share(risky, with), m1);
  EXPECT_LT(safety_first_share(strict, with), m1);
}

TEST(RiskRules, AnnualPriceSpreadMatchesTheMonthlyProcess) {
  // A year's sales-weighted mean of the monthly multipliers, simulated, against the planner's closed form.
  const std::array<double, 12> w = {0.3, 0.3, 0.6, 1.8, 2.6, 2.4, 1.6, 0.6, 0.4, 0.4, 0.5, 0.5};
  const double sd = 0.3, rho = 0.8;
  rng::Stream s(12, 0, rng::domain_id("test.price_process"), 0, 0);
  double x = s.normal(), sum = 0.0, sum_sq = 0.0, total = 0.0;
  for (double v : w) total += v;
  const int years = 40000;
  for (int y = 0; y < years; ++y) {
    double mean = 0.0;
    for (double v : w) {
      x = price_state_step(x, s.normal(), rho);
      mean += v * price_factor(x, sd) / total;
    }
    sum += mean;
    sum_sq += mean * mean;
  }
  const double mean = sum / years, spread = std::sqrt(sum_sq / years - mean * mean);
  EXPECT_NEAR(mean, 1.0, 0.01);
  EXPECT_NEAR(spread / annual_price_sd(w, sd, rho), 1.0, 0.03);
  // Independent months average out: the spread is smaller without persistence.
  EXPECT_LT(annual_price_sd(w, sd, 0.0), 0.5 * annual_price_sd(w, sd, 0.9));
}

// ---- The portfolio phase on hand-made worlds ----

constexpr double kExpectedKeep = 1.0 - 0.15 * 0.35;  // the default climate shock's expected loss

// Crop value of household i of the test worlds: pairs of households (2k, 2k+1) alike, from PEN 1,200 to 4,000
// a year on 1 ha, so that the commercial line pays little to much.
double crop_value(std::size_t i) { return 1200.0 + 140.0 * static_cast<double>((i / 2) % 21); }

// A world of `n` households of one district for Juntos and the portfolio choice: three members, 1 ha with crops
// worth crop_value(i) a year, `base_c12(i)` of consumption per person a month, cash PEN 200, permanent income
// PEN 400. The columns of the livelihood module that the choice reads are created by hand.
World portfolio_world(std::size_t n, const std::function<double(std::size_t)>& base_c12,
                      const std::function<std::int16_t(std::size_t)>& child_age_months, std::uint32_t districts = 1) {
  std::vector<juntos_testing::HouseholdSpec> hh(n);
  std::vector<juntos_testing::CentreSpec> centres(districts);
  for (std::uint32_t d = 0; d < districts; ++d) centres[d] = {d, 0.5f};
  for (std::size_t i = 0; i < n; ++i) {
    hh[i].centre = static_cast<std::uint32_t>(i * districts / n);
    hh[i].land_ha = 1.0f;
    hh[i].ages_months = {35 * 12, 33 * 12, child_age_months(i)};
  }
  World w = juntos_testing::make_world(std::vector<float>(districts, 0.6f), centres, hh);
  auto& h = w.households;
  float* c12 = h.add(col::consumption_pc_12m_pen);
  float* crop = h.add(col::crop_potential_pen);
  float* permanent = h.add(col::permanent_income_pen);
  float* cash = h.get(col::cash_pen);
  for (std::size_t i = 0; i < n; ++i) {
    c12[i] = static_cast<float>(base_c12(i));
    crop[i] = static_cast<float>(crop_value(i));
    permanent[i] = 400.0f;
    cash[i] = 200.0f;
  }
  return w;
}

// Runs Juntos and the portfolio phase for `months` months. Each month the household's consumption is its base
// plus what the transfer and its commercial line bring (as the income and budget phases would make it), so the
// choice's resources stay at the base; `before(m)` runs first. Records market orientation after each month.
std::vector<std::vector<float>> run_portfolio(World& w, ParamSet& ps, int months, const std::vector<double>& base,
                                              const std::function<void(int)>& before = {},
                                              PortfolioRisk* planner_out = nullptr) {
  Juntos juntos;
  Portfolio portfolio;
  juntos.setup(w, ps, rng::StreamSeed{3, 0});
  portfolio.setup(w, ps, rng::StreamSeed{3, 0});
  juntos_testing::always_comply(w);
  auto& h = w.households;
  float* c12 = h.get(col::consumption_pc_12m_pen);
  const float* average = h.get(col::juntos_transfer_avg_pen);
  const float* orientation = h.get(col::market_orientation);
  const PortfolioRisk& k = portfolio.planner();
  if (planner_out != nullptr) *planner_out = k;
  const Phase plan = portfolio.plan_phase();
  std::vector<std::vector<float>> out;
  juntos_testing::run(
      w, juntos, ps, months,
      [&](int m) {
        if (m > 0) juntos_testing::age_members(w);
        for (std::size_t i = 0; i < w.household_count(); ++i) {
          PortfolioHousehold hh;
          hh.crop_value_pen = crop_value(i) * kExpectedKeep;
          hh.land_ha = 1.0;
          const double gain = commercial_gain_pen(k, hh) * orientation[i] / 12.0;
          c12[i] = static_cast<float>(base[i] + (average[i] + gain) / 3.0);
        }
        if (before) before(m);
      },
      [&](int m) {
        plan.global(w, StepContext{ps, rng::StreamSeed{3, 0}, m, w.calendar});
        out.emplace_back(orientation, orientation + w.household_count());
      });
  return out;
}

// The channel on, exact Juntos targeting, and a riskier commercial price than the default's, so that many
// households choose a share strictly between 0 and 1 (with the default a household that can afford some
// commercial land can often afford all of it, and the directions show only at the edges).
ParamSet risk_on() {
  ParamSet ps(registry());
  juntos_testing::exact_targeting(ps);
  ps.set("economy.risk.enabled", true);
  ps.set("risk.commercial_price_sd", 0.45);
  return ps;
}

// Consumption per person a month from PEN 330 to 390 (pairs alike, crossed with the crop values): households
// near the poverty line (338) choose from nothing to everything commercial.
std::vector<double> consumption_grid(std::size_t n) {
  std::vector<double> base(n);
  for (std::size_t i = 0; i < n; ++i) base[i] = 330.0 + 3.0 * static_cast<double>((i / 2) / 21 % 21);
  return base;
}

TEST(RiskPortfolio, APredictableTransferRaisesOrientationAndTheIncomeItsMeanAndSpread) {
  const std::size_t n = 2 * 21 * 21;
  const std::vector<double> base = consumption_grid(n);
  World w = portfolio_world(n, [&](std::size_t i) { return base[i]; }, [](std::size_t) { return std::int16_t{60}; });
  ParamSet ps = risk_on();
  // Even households enrol in Juntos; odd ones of the same consumption decline (a fixed household trait).
  PortfolioRisk k;
  const auto t = run_portfolio(
      w, ps, 9, base,
      [&](int m) {
        if (m != 0) return;
        auto* takes_up = w.households.get(col::juntos_takes_up);
        for (std::size_t i = 0; i < n; ++i) takes_up[i] = i % 2 == 0 ? 1 : 0;
      },
      &k);
  const auto* status = w.households.get(col::juntos_status);
  const std::vector<float>& m = t[8];  // September: planting
  int higher = 0, interior = 0;
  for (std::size_t i = 0; i < n; i += 2) {
    PortfolioHousehold hh;
    hh.crop_value_pen = crop_value(i) * kExpectedKeep;
    hh.land_ha = 1.0;
    ASSERT_EQ(status[i], juntos_testing::kEnrolled);
    ASSERT_NE(status[i + 1], juntos_testing::kEnrolled);
    EXPECT_GE(m[i], m[i + 1]) << i;
    interior += m[i + 1] > 0.0f && m[i + 1] < 1.0f;
    if (m[i] > m[i + 1]) {
      ++higher;
      // More commercial land: a higher mean and a larger spread of the year's income.
      const PortfolioMoments with = portfolio_moments(k, hh, m[i]), without = portfolio_moments(k, hh, m[i + 1]);
      EXPECT_GT(with.mean, without.mean);
      EXPECT_GT(with.sd, without.sd);
    }
  }
  EXPECT_GT(interior, 40);
  EXPECT_GT(higher, 100);
  // Before the planting nobody changes orientation (set at the start by the rule, without transfers).
  for (int month = 0; month < 8; ++month) EXPECT_EQ(t[static_cast<std::size_t>(month)], t[0]);
}

TEST(RiskPortfolio, WhenTheTransferStopsOrientationFallsAtTheNextPlanting) {
  const std::size_t n = 2 * 21 * 21;
  const std::vector<double> base = consumption_grid(n);
  // Even households' youngest child turns 19 in month 26 (March 2019): at the September 2018 planting (month 20)
  // three payments are left, at September 2019 (month 32) none. Odd households have a young child.
  World w = portfolio_world(n, [&](std::size_t i) { return base[i]; },
                            [](std::size_t i) { return static_cast<std::int16_t>(i % 2 == 0 ? 228 - 26 : 60); });
  ParamSet ps = risk_on();
  const auto t = run_portfolio(w, ps, 33, base);
  const auto* status = w.households.get(col::juntos_status);
  int fell = 0;
  for (std::size_t i = 0; i < n; i += 2) {
    ASSERT_EQ(status[i], juntos_testing::kExited);
    ASSERT_EQ(status[i + 1], juntos_testing::kEnrolled);
    // The same choice while both expect a full year of payments, then the exiting household retreats.
    EXPECT_EQ(t[8][i], t[8][i + 1]) << i;
    EXPECT_LE(t[20][i], t[20][i + 1]) << i;
    EXPECT_LE(t[32][i], t[20][i]) << i;
    EXPECT_LE(t[32][i], t[32][i + 1]) << i;
    fell += t[32][i] < t[20][i] && t[20][i] < t[8][i];
  }
  EXPECT_GT(fell, 40);
}

TEST(RiskPortfolio, CommercialInputsArePaidThroughFinanceAndLimitTheChoice) {
  const std::size_t n = 40;
  const std::vector<double> base(n, 450.0);  // well off: fully commercial by the rule
  World w = portfolio_world(n, [&](std::size_t i) { return base[i]; }, [](std::size_t) { return std::int16_t{60}; });
  auto& h = w.households;
  float* cash = h.get(col::cash_pen);
  float* permanent = h.get(col::permanent_income_pen);
  // The first half has PEN 1,000 in cash; the second half none and no income to borrow against.
  for (std::size_t i = 0; i < n; ++i) {
    cash[i] = i < n / 2 ? 1000.0f : 0.0f;
    permanent[i] = i < n / 2 ? 400.0f : 0.0f;
  }
  ParamSet ps = risk_on();
  ps.set("juntos.enabled", false);
  const auto t = run_portfolio(w, ps, 9, base);
  const auto* investment = h.get(col::investment_pen);
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(t[0][i], 1.0f);  // the rule's choice at the start (inputs sunk)
    if (i < n / 2) {
      // PEN 300 of inputs for 1 ha, paid from the cash above the reserve (one month of permanent income).
      EXPECT_EQ(t[8][i], 1.0f);
      EXPECT_FLOAT_EQ(investment[i], 300.0f);
      EXPECT_FLOAT_EQ(cash[i], 700.0f);
    } else {
      EXPECT_EQ(t[8][i], 0.0f);  // without cash or credit nothing can be planted commercially
      EXPECT_FLOAT_EQ(investment[i], 0.0f);
    }
  }
}

TEST(RiskPortfolio, DistrictPricesFollowTheirProcessWithOneBlockPerDistrictMonth) {
  ParamSet ps = risk_on();
  World w = portfolio_world(40, [](std::size_t) { return 350.0; }, [](std::size_t) { return std::int16_t{60}; }, 40);
  Juntos juntos;
  juntos.setup(w, ps, rng::StreamSeed{4, 0});
  Portfolio portfolio;
  portfolio.setup(w, ps, rng::StreamSeed{4, 0});
  const Phase plan = portfolio.plan_phase();
  const float* state = w.districts.get(col::district_price_state);
  const float* commercial = w.districts.get(col::district_commercial_price_factor);
  const float* market = w.districts.get(col::district_market_price_factor);
  double n = 0, sum = 0, sum_sq = 0, lag = 0, factor = 0, log_sq = 0;
  std::vector<float> last(state, state + 40);
  for (int m = 0; m < 600; ++m) {
    if (m % 12 == 8) continue;  // plantings choose orientations too (no draws, but the count would include them)
    const std::uint64_t before = rng::philox_blocks;
    plan.global(w, StepContext{ps, rng::StreamSeed{4, 0}, m, w.calendar});
    EXPECT_EQ(rng::philox_blocks - before, 40u);
    for (std::size_t d = 0; d < 40; ++d) {
      n += 1;
      sum += state[d];
      sum_sq += state[d] * state[d];
      lag += state[d] * last[d];
      factor += commercial[d];
      log_sq += std::pow(std::log(market[d]) + 0.5 * 0.15 * 0.15, 2);
      last[d] = state[d];
    }
  }
  EXPECT_NEAR(sum / n, 0.0, 0.1);
  EXPECT_NEAR(sum_sq / n, 1.0, 0.1);
  EXPECT_NEAR(lag / n, 0.9, 0.05);                   // risk.price_persistence
  EXPECT_NEAR(factor / n, 1.0, 0.03);                // mean-one multipliers
  EXPECT_NEAR(std::sqrt(log_sq / n), 0.15, 0.015);  // risk.price_shock_sd
}

TEST(RiskPortfolio, WithTheChannelOffNothingMovesAndNothingIsDrawn) {
  ParamSet ps(registry());
  juntos_testing::exact_targeting(ps);
  const std::vector<double> base = consumption_grid(20);
  World w = portfolio_world(20, [&](std::size_t i) { return base[i]; }, [](std::size_t) { return std::int16_t{60}; });
  Juntos juntos;
  juntos.setup(w, ps, rng::StreamSeed{4, 0});
  const std::uint64_t before = rng::philox_blocks;
  Portfolio portfolio;
  portfolio.setup(w, ps, rng::StreamSeed{4, 0});
  const Phase plan = portfolio.plan_phase();
  for (int m = 0; m < 24; ++m) plan.global(w, StepContext{ps, rng::StreamSeed{4, 0}, m, w.calendar});
  EXPECT_EQ(rng::philox_blocks, before);
  const float* orientation = w.households.get(col::market_orientation);
  for (std::size_t i = 0; i < 20; ++i) EXPECT_EQ(orientation[i], 0.0f);
  EXPECT_EQ(w.districts.get(col::district_commercial_price_factor)[0], 1.0f);
  EXPECT_EQ(w.districts.get(col::district_market_price_factor)[0], 1.0f);
}

// ---- The whole model ----

TEST(RiskWholeModel, JuntosHouseholdsPlantMoreCommercialLandThanWithoutJuntos) {
  // The same households and random numbers with and without Juntos; orientation at the first planting.
  std::vector<float> orientation[2];
  std::vector<std::uint8_t> enrolled;
  for (const bool juntos : {false, true}) {
    ParamSet p(registry());
    p.set("economy.risk.enabled", true);
    p.set("haku_winay.enabled", false);
    p.set("juntos.enabled", juntos);
    const World w = testing::run_model(p, 9);
    const auto* m = w.households.get(col::market_orientation);
    orientation[juntos].assign(m, m + w.household_count());
    if (juntos) {
      const auto* e = w.households.get(col::juntos_enrolled);
      enrolled.assign(e, e + w.household_count());
    }
  }
  double diff = 0, diff_sq = 0, n = 0, others = 0;
  for (std::size_t i = 0; i < enrolled.size(); ++i) {
    const double d = orientation[1][i] - orientation[0][i];
    if (!enrolled[i]) {
      others += std::abs(d);
      continue;
    }
    n += 1;
    diff += d;
    diff_sq += d * d;
  }
  ASSERT_GT(n, 500);
  const double mean = diff / n, se = std::sqrt((diff_sq / n - mean * mean) / n);
  EXPECT_GT(mean, 4.0 * se) << mean << " +- " << se;
}

}  // namespace
}  // namespace chacra::models
