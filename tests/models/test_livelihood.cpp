// File: tests/models/test_livelihood.cpp
// Livelihoods: common random numbers with and without technology returns, zero variance without shocks,
// non-negative and finite flows, mean income against its analytic expectation, seasonality, transfers,
// district-wide climate shocks, heterogeneous returns, the liquidity constraint, and poverty status; the fast
// drivers of the income and consumption rules against the plain rules.
#include "tests/models/world_fixture.hpp"

#include "models/economy.hpp"
#include "models/livelihood_rules.hpp"

#include "sim/engine_params.hpp"
#include "sim/population.hpp"
#include "sim/rng.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>

namespace chacra::testing {
namespace {

using models::kTechCount;
using models::Livelihood;
using models::Tech;
using models::tech_index;
using models::TechState;
namespace col = models::col;

constexpr auto kAdopted = static_cast<std::uint8_t>(TechState::adopted);

const Col<float>* const kIncomeColumns[] = {&col::income_crops_pen,    &col::income_animals_pen,
                                            &col::income_wage_pen,     &col::income_business_pen,
                                            &col::income_transfers_pen, &col::income_monetary_pen,
                                            &col::own_production_pen};

// A varied population: land, water, capacity, locus, wealth and household composition differ.
HouseholdSpec varied_household(std::size_t i) {
  rng::Stream s(99, 0, 7, 0, i);
  HouseholdSpec h;
  h.land_ha = static_cast<float>(std::exp(s.normal(0.15, 0.8)));
  h.water_access = s.bernoulli(0.35) ? 1 : 0;
  h.productive_capacity = static_cast<float>(std::exp(s.normal(-0.1, 0.45)));
  h.locus_of_control = static_cast<float>(s.normal());
  h.wealth_index = static_cast<float>(s.normal());
  h.farm_labour_share = static_cast<float>(std::clamp(s.normal(0.75, 0.12), 0.0, 1.0));
  switch (i % 4) {
    case 0: h.member_age_years = {38, 35, 12, 8, 3}; h.member_female = {0, 1, 1, 0, 1}; break;
    case 1: h.member_age_years = {30, 27, 5}; h.member_female = {1, 0, 0}; break;
    case 2: h.member_age_years = {50, 48, 20, 16, 11, 9}; h.member_female = {0, 1, 0, 1, 0, 1}; break;
    default: h.member_age_years = {45}; h.member_female = {1}; break;
  }
  return h;
}

std::vector<float> snapshot(const World& w, const Col<float>& name) {
  const float* c = column(w, name);
  return std::vector<float>(c, c + w.household_count());
}

// With every technology return and labour share at zero, income is identical, draw for draw, to a world
// where nobody has any technology: technology states do not shift any random draw.
TEST(Livelihood, ZeroTechnologyReturnMatchesNoTechnologyWorld) {
  auto run = [](bool technologies) {
    Models m;
    m.set_all_techs("livelihood", "return_pen", 0.0);
    m.set_all_techs("livelihood", "labour_share", 0.0);
    if (!technologies) {
      m.set_all_techs("adoption", "baseline_share", 0.0);
      m.set_all_techs("adoption", "baseline_hazard", 0.0);
      m.set("adoption.peer_strength", 0.0);
    }
    World w = make_world({.districts = 3, .centres_per_district = 4, .households_per_centre = 30}, varied_household);
    m.setup(w);
    std::vector<std::vector<float>> out;
    for (int month = 0; month < 18; ++month) {
      m.step(w, month);
      for (const Col<float>* c : kIncomeColumns) out.push_back(snapshot(w, *c));
    }
    int adopters = 0;
    const auto* s = column<std::uint8_t>(w, col::tech_state);
    for (std::size_t k = 0; k < w.household_count() * kTechCount; ++k) adopters += s[k] == kAdopted;
    return std::make_pair(out, adopters);
  };
  const auto [with, adopters_with] = run(true);
  const auto [without, adopters_without] = run(false);
  EXPECT_GT(adopters_with, 100);
  EXPECT_EQ(adopters_without, 0);
  ASSERT_EQ(with.size(), without.size());
  for (std::size_t k = 0; k < with.size(); ++k) ASSERT_EQ(with[k], without[k]) << "snapshot " << k;
}

// Without idiosyncratic or covariate shocks, identical households have identical incomes every month;
// with shocks they do not.
TEST(Livelihood, NoShocksGivesZeroVarianceAmongIdenticalHouseholds) {
  for (bool shocks : {false, true}) {
    Models m;
    m.freeze_adoption();
    if (!shocks) m.no_shocks();
    m.set("adoption.vegetable_garden.baseline_share", 1.0);
    m.set("adoption.small_animal_shed.baseline_share", 1.0);
    m.set("adoption.baseline_dropped_ratio", 0.0);
    World w = make_world({.districts = 2, .centres_per_district = 2, .households_per_centre = 25},
                         HouseholdSpec{.member_age_years = {35, 32, 6}});
    // Identical households also need identical baseline business draws and technology states.
    m.set("livelihood.business_share", 0.0);
    for (const char* t : models::kTechNames) {
      const std::string name = std::string("adoption.") + t + ".baseline_share";
      if (m.params->real(name) < 1.0) m.set(name, 0.0);
    }
    m.setup(w);
    for (int month = 0; month < 12; ++month) {
      m.step(w, month);
      for (const Col<float>* c : kIncomeColumns) {
        const auto v = snapshot(w, *c);
        const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
        if (!shocks) {
          ASSERT_EQ(*lo, *hi) << c->name << " month " << month;
        } else if (c == &col::income_crops_pen || c == &col::income_wage_pen) {
          ASSERT_LT(*lo, *hi) << c->name << " month " << month;
        }
      }
    }
  }
}

// Flows are finite and non-negative, cash never negative, poverty gap in [0, 1], over three years of a
// varied population with transfers and an HW business profit for some households.
TEST(Livelihood, FlowsFiniteNonNegativeAndCashNonNegative) {
  Models m;
  World w = make_world({.districts = 4, .centres_per_district = 5, .households_per_centre = 40},
                       [](std::size_t i) {
                         HouseholdSpec h = varied_household(i);
                         if (i % 17 == 0) h.land_ha = 0.0f;
                         if (i % 19 == 0) h.productive_capacity = 0.0f;
                         if (i % 23 == 0) h.locus_of_control = -30.0f;
                         return h;
                       });
  m.setup(w);
  auto* transfer = column<float>(w, col::juntos_transfer_pen);
  auto* profit = column<float>(w, col::business_profit_pen);
  auto* boost = column<float>(w, col::saving_boost);
  for (int month = 0; month < 36; ++month) {
    for (std::size_t i = 0; i < w.household_count(); ++i) {
      transfer[i] = (i % 3 == 0 && month % 2 == 1) ? 200.0f : 0.0f;
      profit[i] = i % 11 == 0 ? 150.0f : 0.0f;
      boost[i] = i % 5 == 0 ? 0.1f : 0.0f;
    }
    m.step(w, month);
    for (const Col<float>* name : {&col::income_crops_pen, &col::income_animals_pen, &col::income_wage_pen,
                                   &col::income_business_pen, &col::income_transfers_pen,
                                   &col::income_monetary_pen, &col::own_production_pen, &col::consumption_pen,
                                   &col::cash_pen}) {
      const float* c = column(w, *name);
      for (std::size_t i = 0; i < w.household_count(); ++i) {
        ASSERT_TRUE(std::isfinite(c[i])) << name->name << " household " << i << " month " << month;
        ASSERT_GE(c[i], 0.0f) << name->name << " household " << i << " month " << month;
      }
    }
    const float* gap = column<float>(w, col::poverty_gap);
    const float* financed = column<float>(w, col::upkeep_financed_share);
    for (std::size_t i = 0; i < w.household_count(); ++i) {
      ASSERT_GE(gap[i], 0.0f);
      ASSERT_LE(gap[i], 1.0f);
      ASSERT_GE(financed[i], 0.0f);
      ASSERT_LE(financed[i], 1.0f);
    }
  }
  // Monetary income is the sum of its sources.
  for (std::size_t i = 0; i < w.household_count(); ++i) {
    const double sum = column<float>(w, col::income_crops_pen)[i] + column<float>(w, col::income_animals_pen)[i] +
                       column<float>(w, col::income_wage_pen)[i] + column<float>(w, col::income_business_pen)[i] +
                       column<float>(w, col::income_transfers_pen)[i];
    EXPECT_NEAR(column<float>(w, col::income_monetary_pen)[i], sum, 1e-3 * (1 + sum));
  }
}

// Mean simulated annual monetary income equals the mean of the analytic expectation (baseline_income_pen)
// within 4 standard errors, with climate shocks on (many districts) and adoption frozen.
TEST(Livelihood, MeanAnnualIncomeMatchesExpectation) {
  Models m;
  m.freeze_adoption();
  m.freeze_demography();
  m.set_all_techs("adoption", "upkeep_pen", 0.0);  // returns never lose their financing
  const int districts = 400, per_district = 10;
  World w = make_world({.districts = districts, .centres_per_district = 1, .households_per_centre = per_district,
                        .block_households = 500},
                       [](std::size_t i) {
                         HouseholdSpec h = varied_household(i);
                         // Ages that cross no working-age boundary within the year.
                         h.member_age_years = {36, 33, 11, 7};
                         h.member_female = {0, 1, 1, 0};
                         return h;
                       });
  m.setup(w);
  const std::size_t n = w.household_count();
  std::vector<double> annual(n, 0.0);
  for (int month = 0; month < 12; ++month) {
    m.step(w, month);
    const float* y = column<float>(w, col::income_monetary_pen);
    for (std::size_t i = 0; i < n; ++i) annual[i] += y[i];
  }
  const float* expected = column<float>(w, col::baseline_income_pen);
  // The district shock is common to a district's households: use district means as the independent units.
  std::vector<double> diff(districts, 0.0);
  double mean_expected = 0;
  for (std::size_t i = 0; i < n; ++i) {
    diff[i / per_district] += (annual[i] - expected[i]) / per_district;
    mean_expected += expected[i] / n;
  }
  const double mean = std::accumulate(diff.begin(), diff.end(), 0.0) / districts;
  double var = 0;
  for (double d : diff) var += (d - mean) * (d - mean);
  const double se = std::sqrt(var / (districts - 1) / districts);
  EXPECT_GT(mean_expected, 1000.0);
  EXPECT_NEAR(mean, 0.0, 4 * se) << "mean expected " << mean_expected << ", se " << se;
  EXPECT_LT(se, 0.05 * mean_expected) << "the check must have power";
}

TEST(Livelihood, CropSalesFollowTheHarvest) {
  Models m;
  m.no_shocks();
  m.freeze_adoption();
  World w = make_world({.households_per_centre = 5});
  m.setup(w);
  std::vector<float> crops, own;
  for (int month = 0; month < 12; ++month) {
    m.step(w, month);
    crops.push_back(column<float>(w, col::income_crops_pen)[0]);
    own.push_back(column<float>(w, col::own_production_pen)[0]);
  }
  const auto& profile = Livelihood::kHarvestProfile;
  EXPECT_NEAR(std::accumulate(profile.begin(), profile.end(), 0.0), 12.0, 1e-9);
  EXPECT_GT(crops[4], 3 * crops[0]) << "May sells far more than January";
  EXPECT_GT(crops[4] + crops[5] + crops[3] + crops[6], 0.6 * std::accumulate(crops.begin(), crops.end(), 0.0f))
      << "most sales in April-July";
  EXPECT_GT(own[4], own[0]);
  EXPECT_LT(own[4] / own[0], crops[4] / crops[0]) << "own consumption is smoother than sales";
}

TEST(Livelihood, TransfersAndBusinessProfitsEnterMonetaryIncome) {
  Models m;
  World w = make_world({.households_per_centre = 4});
  m.setup(w);
  column<float>(w, col::juntos_transfer_pen)[1] = 200.0f;
  column<float>(w, col::business_profit_pen)[2] = 75.0f;
  m.run(w, m.livelihood.income_phase(), 0);
  const float* tr = column<float>(w, col::income_transfers_pen);
  const float* bus = column<float>(w, col::income_business_pen);
  EXPECT_EQ(tr[0], 0.0f);
  EXPECT_EQ(tr[1], 200.0f);
  EXPECT_GE(bus[2], 75.0f);
  const float* y = column<float>(w, col::income_monetary_pen);
  EXPECT_NEAR(y[1], column<float>(w, col::income_crops_pen)[1] + column<float>(w, col::income_animals_pen)[1] +
                        column<float>(w, col::income_wage_pen)[1] + bus[1] + 200.0f,
              1e-3);
}

// The climate shock is the same for all households of a district in a year and varies across districts.
TEST(Livelihood, ClimateShockIsDistrictWide) {
  Models m;
  m.set("livelihood.covariate_shock_prob", 0.5);
  World w = make_world({.districts = 40, .centres_per_district = 2, .households_per_centre = 5});
  m.setup(w);
  m.run(w, m.livelihood.income_phase(), 3);
  const float* loss = column<float>(w, col::climate_shock_loss);
  int hit = 0;
  for (std::uint32_t d = 0; d < 40; ++d) {
    const double expected = Livelihood::climate_loss(m.seed, 2017, d, 0.5, m.params->real("livelihood.covariate_shock_loss"));
    for (std::size_t i = d * 10; i < (d + 1) * 10; ++i) ASSERT_FLOAT_EQ(loss[i], static_cast<float>(expected));
    hit += expected > 0;
  }
  EXPECT_GT(hit, 5);
  EXPECT_LT(hit, 35);
  // Another month of the same year: same shock.
  m.run(w, m.livelihood.income_phase(), 9);
  for (std::uint32_t d = 0; d < 40; ++d)
    EXPECT_FLOAT_EQ(loss[d * 10], static_cast<float>(Livelihood::climate_loss(
                                       m.seed, 2017, d, 0.5, m.params->real("livelihood.covariate_shock_loss"))));
}

// Technology returns rise with capacity^elasticity: the gain of a household of capacity 2 is 2^2 = 4 times
// that of capacity 1; and a higher locus of control raises farm income.
TEST(Livelihood, ReturnsAreHeterogeneousAndLocusRaisesIncome) {
  auto animal_income = [](float capacity, float locus, bool shed) {
    Models m;
    m.no_shocks();
    m.freeze_adoption();
    m.set_all_techs("adoption", "baseline_share", 0.0);
    m.set("adoption.baseline_dropped_ratio", 0.0);
    m.set("livelihood.business_share", 0.0);
    if (shed) m.set("adoption.small_animal_shed.baseline_share", 1.0);
    // Two households so the normalisation is fixed: household 0 has capacity 1, household 1 the test's.
    World w = make_world({.households_per_centre = 2}, [&](std::size_t i) {
      HouseholdSpec h;
      h.productive_capacity = i == 0 ? 1.0f : capacity;
      h.locus_of_control = i == 0 ? 0.0f : locus;
      return h;
    });
    m.setup(w);
    m.run(w, m.livelihood.income_phase(), 0);
    return std::make_pair(column<float>(w, col::income_animals_pen)[0], column<float>(w, col::income_animals_pen)[1]);
  };
  const auto [base0, base1] = animal_income(2.0f, 0.0f, false);
  const auto [shed0, shed1] = animal_income(2.0f, 0.0f, true);
  const double gain_low = shed0 - base0, gain_high = shed1 - base1;
  EXPECT_GT(gain_low, 0.0);
  EXPECT_NEAR(gain_high / gain_low, 4.0, 1e-3);
  const auto [a0, a1] = animal_income(1.0f, 1.0f, false);
  EXPECT_NEAR(a1 / a0, 1.0 + 0.06, 1e-4) << "locus_return 0.06 per SD";
}

// Cash cannot go negative, so a household with no cash and no income cannot finance upkeep, and its
// technology returns fall the next month; a cash transfer restores them.
TEST(Livelihood, UnfinancedUpkeepLowersTechnologyReturns) {
  Models m;
  m.no_shocks();
  m.freeze_adoption();
  m.set_all_techs("adoption", "baseline_share", 0.0);
  m.set("adoption.baseline_dropped_ratio", 0.0);
  m.set("adoption.small_animal_shed.baseline_share", 1.0);
  m.set("livelihood.business_share", 0.0);
  World w = make_world({.households_per_centre = 2});
  m.setup(w);
  auto* cash = column<float>(w, col::cash_pen);
  auto* perm = column<float>(w, col::permanent_income_pen);
  auto* income = column<float>(w, col::income_monetary_pen);
  const Phase consumption = m.livelihood.consumption_phase();
  m.run(w, m.livelihood.income_phase(), 0);
  // Household 0: nothing on hand this month. Household 1: a transfer covers everything.
  cash[0] = 0.0f;
  income[0] = 0.0f;
  perm[0] = 0.0f;
  cash[1] = 0.0f;
  income[1] = 1000.0f;
  m.run(w, consumption, 0);
  const float* financed = column<float>(w, col::upkeep_financed_share);
  EXPECT_EQ(financed[0], 0.0f);
  EXPECT_EQ(financed[1], 1.0f);
  EXPECT_EQ(cash[0], 0.0f);
  m.run(w, m.livelihood.income_phase(), 1);
  const float* animals = column<float>(w, col::income_animals_pen);
  EXPECT_LT(animals[0], animals[1]) << "the shed's return is lost without its upkeep";
}

// A saving boost (financial education) raises the cash buffer the household settles at.
TEST(Livelihood, SavingBoostRaisesCash) {
  Models m;
  m.no_shocks();
  m.freeze_adoption();
  m.freeze_demography();
  World w = make_world({.households_per_centre = 2});
  m.setup(w);
  column<float>(w, col::saving_boost)[1] = 0.2f;
  for (int month = 0; month < 48; ++month) m.step(w, month);
  const float* cash = column<float>(w, col::cash_pen);
  EXPECT_GT(cash[1], cash[0] * 1.3f);
}

TEST(Livelihood, PovertyStatusFollowsTheYearsLine) {
  Models m;
  World w = make_world({.households_per_centre = 30, .start_year = 2016}, varied_household);
  m.setup(w);
  const auto lp = models::LivelihoodParams::from(*m.params);
  EXPECT_EQ(lp.poverty_line(2015), 338.0);
  EXPECT_EQ(lp.poverty_line(2017), 338.0);
  EXPECT_EQ(lp.poverty_line(2018), 344.0);
  EXPECT_EQ(lp.poverty_line(2019), 352.0);
  EXPECT_EQ(lp.poverty_line(2024), 352.0);
  for (int month = 0; month < 48; ++month) {
    m.step(w, month);
    const double line = lp.poverty_line(w.calendar.year(month));
    const float* pc = column<float>(w, col::consumption_pc_12m_pen);
    const auto* poor = column<std::uint8_t>(w, col::poor);
    const auto* extreme = column<std::uint8_t>(w, col::extreme_poor);
    const float* gap = column<float>(w, col::poverty_gap);
    for (std::size_t i = 0; i < w.household_count(); ++i) {
      ASSERT_EQ(poor[i], pc[i] < static_cast<float>(line));
      ASSERT_EQ(extreme[i], pc[i] < 183.0f);
      if (poor[i])
        ASSERT_NEAR(gap[i], (line - pc[i]) / line, 1e-5);
      else
        ASSERT_EQ(gap[i], 0.0f);
    }
  }
}

// Setup order does not matter: Livelihood before Adoption gives the same baseline.
TEST(Livelihood, SetupOrderDoesNotMatter) {
  Models a, b;
  World wa = make_world({.centres_per_district = 3, .households_per_centre = 30}, varied_household);
  World wb = make_world({.centres_per_district = 3, .households_per_centre = 30}, varied_household);
  a.setup(wa);
  b.livelihood.setup(wb, *b.params, b.seed);
  b.adoption.setup(wb, *b.params, b.seed);
  b.demography.setup(wb, *b.params, b.seed);
  for (const Col<float>* c : {&col::baseline_income_pen, &col::cash_pen, &col::permanent_income_pen})
    EXPECT_EQ(snapshot(wa, *c), snapshot(wb, *c)) << c->name;
  const auto* sa = column<std::uint8_t>(wa, col::tech_state);
  const auto* sb = column<std::uint8_t>(wb, col::tech_state);
  EXPECT_TRUE(std::equal(sa, sa + wa.household_count() * kTechCount, sb));
}


// The shock table is a mean-one log-normal: mean exactly 1, the log-normal's variance up to the
// discretisation, its median, and all ones without dispersion.
TEST(Livelihood, ShockTableIsAMeanOneLogNormal) {
  for (double sigma : {0.2, 0.35, 0.8}) {
    const auto t = Livelihood::lognormal_table(sigma);
    ASSERT_EQ(static_cast<int>(t.size()), Livelihood::kShockBins);
    double mean = 0, sq = 0;
    for (float v : t) {
      ASSERT_GT(v, 0.0f);
      mean += v;
      sq += static_cast<double>(v) * v;
    }
    mean /= t.size();
    const double var = sq / t.size() - mean * mean;
    EXPECT_NEAR(mean, 1.0, 1e-6) << sigma;
    EXPECT_NEAR(var, std::exp(sigma * sigma) - 1.0, 0.03 * (std::exp(sigma * sigma) - 1.0)) << sigma;
    EXPECT_NEAR(t[Livelihood::kShockBins / 2], std::exp(-0.5 * sigma * sigma), 0.01) << "median";
    EXPECT_TRUE(std::is_sorted(t.begin(), t.end()));
  }
  for (float v : Livelihood::lognormal_table(0.0)) ASSERT_EQ(v, 1.0f);
  EXPECT_NEAR(Livelihood::inverse_normal(0.975), 1.959964, 1e-6);
  EXPECT_NEAR(Livelihood::inverse_normal(0.001), -3.090232, 1e-6);
  EXPECT_NEAR(Livelihood::inverse_normal(0.5), 0.0, 1e-12);
}


// Calibration regression on the engine's synthetic population without any programme (no Juntos
// transfers): poverty and extreme poverty of people in broad bands around the INEI rural highlands
// figures, adoption shares stationary around their baseline, and above-median locus of control with
// higher income. Bands are wide: this guards the calibration against accidents, it does not fit it.
TEST(LivelihoodCalibration, NoProgrammeWorldNearTargets) {
  Registry r;
  register_engine_params(r);
  models::EconomyParams::register_params(r);
  models::Demography::register_params(r);
  models::Adoption::register_params(r);
  models::Livelihood::register_params(r);
  models::BusinessParams::register_params(r);
  ParamSet ps(r);
  ps.set("population.households", ParamValue{std::int64_t{20000}});
  World w = generate_population(ps, 0);
  models::add_shared_columns(w);
  models::Demography demography;
  models::Adoption adoption;
  models::Livelihood livelihood;
  const rng::StreamSeed seed{7, 0};
  demography.setup(w, ps, seed);
  adoption.setup(w, ps, seed);
  livelihood.setup(w, ps, seed);
  const std::vector<Phase> month = {demography.step_phase(), adoption.update_phase(), livelihood.income_phase(),
                                    livelihood.consumption_phase(), livelihood.welfare_phase()};
  const std::size_t n = w.household_count();
  std::vector<double> income(n, 0.0);
  for (int m = 0; m < 36; ++m) {
    const StepContext ctx{ps, seed, m, w.calendar};
    for (const Phase& p : month)
      for (const Block& b : w.blocks) p.block(w, ctx, b);
    if (m >= 24) {
      const float* y = column<float>(w, col::income_monetary_pen);
      for (std::size_t i = 0; i < n; ++i) income[i] += y[i];
    }
  }
  const auto* poor = column<std::uint8_t>(w, col::poor);
  const auto* extreme = column<std::uint8_t>(w, col::extreme_poor);
  const auto* size = column<std::uint8_t>(w, col::household_size);
  double people = 0, poor_people = 0, extreme_people = 0, mean_income = 0;
  for (std::size_t i = 0; i < n; ++i) {
    people += size[i];
    poor_people += poor[i] * size[i];
    extreme_people += extreme[i] * size[i];
    mean_income += income[i] / n;
  }
  EXPECT_GT(poor_people / people, 0.40);
  EXPECT_LT(poor_people / people, 0.65);
  EXPECT_GT(extreme_people / people, 0.06);
  EXPECT_LT(extreme_people / people, 0.22);
  EXPECT_GT(mean_income, 3000.0);
  EXPECT_LT(mean_income, 5000.0);
  for (int t = 0; t < kTechCount; ++t) {
    int adopted = 0;
    const auto* s = column<std::uint8_t>(w, col::tech_state);
    for (std::size_t i = 0; i < n; ++i) adopted += s[i * kTechCount + t] == kAdopted;
    const double share = adoption.params().tech[t].baseline_share;
    EXPECT_NEAR(adopted / double(n), share, 0.05 + 0.2 * share) << models::kTechNames[t];
  }
  // Above-median baseline locus of control: higher income.
  const float* locus = column<float>(w, col::baseline_locus_of_control);
  std::vector<float> sorted(locus, locus + n);
  std::nth_element(sorted.begin(), sorted.begin() + n / 2, sorted.end());
  const float median = sorted[n / 2];
  double hi = 0, lo = 0, n_hi = 0, n_lo = 0;
  for (std::size_t i = 0; i < n; ++i) {
    (locus[i] > median ? hi : lo) += income[i];
    (locus[i] > median ? n_hi : n_lo) += 1;
  }
  EXPECT_GT(hi / n_hi, 1.1 * lo / n_lo);
}

// ---- The plain rules and their fast drivers (models/livelihood_rules.hpp) ----

std::uint32_t bits_of(float x) { return std::bit_cast<std::uint32_t>(x); }

// Parameters with every technology earning, upkeep due and shares away from their defaults, so that every
// term of the rules is exercised.
models::LivelihoodParams varied_params(rng::Stream& s) {
  models::LivelihoodParams p;
  for (auto& t : p.tech) {
    t.return_pen = s.uniform() < 0.2 ? 0.0 : 3000.0 * s.uniform();
    t.sold_share = s.uniform();
    t.labour_share = s.uniform() < 0.2 ? 0.0 : 0.1 * s.uniform();
    t.upkeep_pen = s.uniform() < 0.2 ? 0.0 : 20.0 * s.uniform();
  }
  p.harvest_seasonality = s.uniform();
  p.own_consumption_seasonality = s.uniform();
  p.saving_rate = 0.1 * s.uniform();
  p.buffer_months = 4.0 * s.uniform();
  p.excess_consumption_share = s.uniform();
  p.upkeep_return_dependence = s.uniform();
  return p;
}

TEST(LivelihoodRules, IncomeDriverMatchesThePlainRule) {
  namespace lanes = models::lanes;
  rng::Stream s(3, 0, rng::domain_id("test.income_rule"), 0, 0);
  for (int trial = 0; trial < 300; ++trial) {
    const models::LivelihoodParams p = varied_params(s);
    const models::IncomeConstants k(p, 1 + static_cast<int>(s.below(12)));
    models::HouseholdIncome h[lanes::kLanes];
    models::Shocks<float> e[lanes::kLanes];
    for (int j = 0; j < lanes::kLanes; ++j) {
      h[j].crop_potential = static_cast<float>(5000.0 * s.uniform());
      h[j].animal_potential = static_cast<float>(2000.0 * s.uniform());
      h[j].return_factor_land = static_cast<float>(3.0 * s.uniform());
      h[j].return_factor = static_cast<float>(3.0 * s.uniform());
      h[j].capacity = static_cast<float>(2.0 * s.uniform());
      h[j].locus = static_cast<float>(s.normal());
      h[j].market = static_cast<float>(s.uniform());
      h[j].farm_labour_share = static_cast<float>(s.uniform());
      h[j].adults = static_cast<float>(s.below(5));
      h[j].pasture_ha = static_cast<float>(s.uniform());
      h[j].financed = static_cast<float>(s.uniform() < 0.5 ? 1.0 : s.uniform());
      h[j].programme_time = static_cast<float>(s.uniform() < 0.5 ? 0.0 : 0.3 * s.uniform());
      h[j].business = s.bernoulli(0.3);
      h[j].adopted = static_cast<unsigned>(s.below(1u << kTechCount));
      h[j].asset = static_cast<unsigned>(s.below(1u << kTechCount));
      e[j] = {static_cast<float>(2.0 * s.uniform()), static_cast<float>(2.0 * s.uniform()),
              static_cast<float>(s.uniform() < 0.5 ? 1.0 : s.uniform())};
    }
    // Lanes, as the income phase runs them.
    float v[12][lanes::kLanes], shock[3][lanes::kLanes];
    std::int32_t business[lanes::kLanes], adopted[lanes::kLanes], asset[lanes::kLanes];
    unsigned present = 0;
    for (int j = 0; j < lanes::kLanes; ++j) {
      const float in[12] = {h[j].crop_potential, h[j].animal_potential, h[j].return_factor_land, h[j].return_factor,
                            h[j].capacity,       h[j].locus,            h[j].market,             h[j].farm_labour_share,
                            h[j].adults,         h[j].pasture_ha,       h[j].financed,           h[j].programme_time};
      for (int c = 0; c < 12; ++c) v[c][j] = in[c];
      shock[0][j] = e[j].farm;
      shock[1][j] = e[j].offfarm;
      shock[2][j] = e[j].crop_keep;
      business[j] = h[j].business ? -1 : 0;
      adopted[j] = static_cast<std::int32_t>(h[j].adopted);
      asset[j] = static_cast<std::int32_t>(h[j].asset);
      present |= h[j].adopted;
    }
    using T = lanes::Traits<lanes::vf>;
    const models::HouseholdInputs<lanes::vf, lanes::vi> lane_in{
        T::load(v[0]), T::load(v[1]), T::load(v[2]), T::load(v[3]), T::load(v[4]),  T::load(v[5]),
        T::load(v[6]), T::load(v[7]), T::load(v[8]), T::load(v[9]), T::load(v[10]), T::load(v[11]),
        T::load_mask(business), T::load_mask(adopted), T::load_mask(asset), present};
    const models::Income<lanes::vf> fast =
        models::income_of(k, lane_in, models::Shocks<lanes::vf>{T::load(shock[0]), T::load(shock[1]), T::load(shock[2])});
    const models::Income<lanes::vf> every_fast = models::income_of<true>(
        k, lane_in, models::Shocks<lanes::vf>{T::load(shock[0]), T::load(shock[1]), T::load(shock[2])});
    for (int j = 0; j < lanes::kLanes; ++j) {
      const models::Income<float> plain = models::income_by_source(k, h[j], e[j]);
      // One household at a time, as the phase runs the last households of a block.
      const models::HouseholdInputs<float, unsigned> one{
          h[j].crop_potential, h[j].animal_potential, h[j].return_factor_land, h[j].return_factor, h[j].capacity,
          h[j].locus,          h[j].market,           h[j].farm_labour_share,  h[j].adults,        h[j].pasture_ha,
          h[j].financed,       h[j].programme_time,     h[j].business ? 1u : 0u, h[j].adopted,      h[j].asset,
          h[j].adopted};
      const models::Income<float> scalar = models::income_of(k, one, e[j]);
      // And the household economy's form, every earning technology visited whoever adopted it.
      const models::Income<float> every = models::income_of<true>(k, one, e[j]);
      const float got[5][4] = {{fast.crops[j], scalar.crops, every_fast.crops[j], every.crops},
                               {fast.animals[j], scalar.animals, every_fast.animals[j], every.animals},
                               {fast.wage[j], scalar.wage, every_fast.wage[j], every.wage},
                               {fast.business[j], scalar.business, every_fast.business[j], every.business},
                               {fast.own[j], scalar.own, every_fast.own[j], every.own}};
      const float want[5] = {plain.crops, plain.animals, plain.wage, plain.business, plain.own};
      for (int c = 0; c < 5; ++c)
        for (int form = 0; form < 4; ++form)
          ASSERT_EQ(bits_of(got[c][form]), bits_of(want[c]))
              << "trial " << trial << " lane " << j << " source " << c << " form " << form;
    }
  }
}

TEST(LivelihoodRules, ConsumptionDriverMatchesThePlainRule) {
  namespace lanes = models::lanes;
  rng::Stream s(4, 0, rng::domain_id("test.consumption_rule"), 0, 0);
  for (int trial = 0; trial < 1000; ++trial) {
    const models::ConsumptionConstants k(varied_params(s));
    models::HouseholdBudget h[lanes::kLanes];
    float v[7][lanes::kLanes];
    std::int32_t masks[lanes::kLanes];
    unsigned present = 0;
    for (int j = 0; j < lanes::kLanes; ++j) {
      h[j].income = static_cast<float>(s.uniform() < 0.1 ? 0.0 : 1500.0 * s.uniform());
      h[j].own_production = static_cast<float>(300.0 * s.uniform());
      h[j].permanent_income = static_cast<float>(1500.0 * s.uniform() - 100.0);
      h[j].cash = static_cast<float>(s.uniform() < 0.2 ? 0.0 : 3000.0 * s.uniform());
      h[j].saving_boost = static_cast<float>(0.05 * s.uniform());
      h[j].persons = static_cast<float>(1 + s.below(9));
      h[j].other_factor = static_cast<float>(0.2 + 2.0 * s.uniform());
      h[j].adopted = static_cast<unsigned>(s.below(1u << kTechCount));
      const float in[7] = {h[j].income, h[j].own_production, h[j].permanent_income, h[j].cash,
                           h[j].saving_boost, h[j].persons, h[j].other_factor};
      for (int c = 0; c < 7; ++c) v[c][j] = in[c];
      masks[j] = static_cast<std::int32_t>(h[j].adopted);
      present |= h[j].adopted;
    }
    using T = lanes::Traits<lanes::vf>;
    const models::Budget<lanes::vf> fast =
        models::consumption_of(k, T::load(v[0]), T::load(v[1]), T::load(v[2]), T::load(v[3]), T::load(v[4]),
                               T::load(v[5]), T::load(v[6]), T::load_mask(masks), present);
    for (int j = 0; j < lanes::kLanes; ++j) {
      const models::Budget<float> plain = models::consume(k, h[j]);
      const models::Budget<float> scalar =
          models::consumption_of(k, h[j].income, h[j].own_production, h[j].permanent_income, h[j].cash,
                                 h[j].saving_boost, h[j].persons, h[j].other_factor, h[j].adopted, h[j].adopted);
      const float got[6][2] = {{fast.permanent_income[j], scalar.permanent_income},
                               {fast.financed_share[j], scalar.financed_share},
                               {fast.upkeep_paid[j], scalar.upkeep_paid},
                               {fast.cash[j], scalar.cash},
                               {fast.other_consumption[j], scalar.other_consumption},
                               {fast.consumption[j], scalar.consumption}};
      const float want[6] = {plain.permanent_income, plain.financed_share, plain.upkeep_paid,
                             plain.cash,             plain.other_consumption, plain.consumption};
      for (int c = 0; c < 6; ++c) {
        ASSERT_EQ(bits_of(got[c][0]), bits_of(want[c])) << "trial " << trial << " lane " << j << " output " << c;
        ASSERT_EQ(bits_of(got[c][1]), bits_of(want[c])) << "trial " << trial << " lane " << j << " output " << c;
      }
    }
  }
}

}  // namespace
}  // namespace chacra::testing
