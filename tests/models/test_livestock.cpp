// File: tests/models/test_livestock.cpp
// Livestock herds (economy.persistence.enabled) and the poverty trap (economy.poverty_trap.enabled): the plain
// rules one at a time (capacity, a herd's month, disease, distress sales, the trap's share), the phase on small
// worlds (idle when off, baseline herds, no negative stock, disease frequency, the same draws whatever the
// blocking, breeding stock bought through finance::pay), and the trap's signature: a big push lasts, a small one
// decays, and with the switch off both decay alike.
#include "tests/models/economy_fixture.hpp"

#include "models/livestock_rules.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <numeric>

namespace chacra::testing {
namespace {

using models::kCattle;
using models::kGuineaPigs;
using models::kSheep;
using models::kSpeciesCount;
using models::LivestockConstants;
using models::LivestockParams;
namespace col = models::col;

LivestockConstants constants(bool trap = false) { return LivestockConstants(LivestockParams{}, trap); }

TEST(LivestockRules, CapacityFollowsLandPastureAndShed) {
  const auto k = constants();
  EXPECT_FLOAT_EQ(models::capacity(k, kGuineaPigs, 2.0f, 0.0f, false, 1.0f), 15.0f);
  EXPECT_FLOAT_EQ(models::capacity(k, kGuineaPigs, 2.0f, 0.0f, true, 1.0f), 60.0f);
  EXPECT_FLOAT_EQ(models::capacity(k, kSheep, 2.0f, 0.5f, false, 1.0f), 8.0f + 4.0f);
  EXPECT_FLOAT_EQ(models::capacity(k, kCattle, 2.0f, 0.5f, false, 1.0f), 1.0f + 1.5f);
  EXPECT_FLOAT_EQ(models::capacity(k, kSheep, 2.0f, 0.0f, false, 0.5f), 4.0f);
  EXPECT_FLOAT_EQ(models::stocking_rate(k, 0.0f, true), 0.4f);
  EXPECT_GT(models::stocking_rate(k, 1.0f, false), models::stocking_rate(k, -1.0f, false));
}

models::HerdInputs at_capacity(const LivestockConstants& k, float land = 2.0f) {
  models::HerdInputs in;
  in.land_ha = land;
  for (int s = 0; s < kSpeciesCount; ++s) in.herd[s] = models::capacity(k, s, land, 0.0f, false, 1.0f);
  in.cash = 1e6f;
  return in;
}

// A herd at capacity stays there: its whole increase is eaten (up to the ration) or sold.
TEST(LivestockRules, HerdAtCapacityIsStationaryAndItsIncreaseIsEatenOrSold) {
  const auto k = constants();
  const models::HerdInputs in = at_capacity(k);
  const models::HerdMonth m = models::herd_month(k, in);
  float increase_value = 0.0f;
  for (int s = 0; s < kSpeciesCount; ++s) {
    EXPECT_FLOAT_EQ(m.herd[s], in.herd[s]) << s;
    increase_value += k.birth[s] * in.herd[s] * k.price[s];
  }
  EXPECT_NEAR(m.own_pen + m.sales_pen, increase_value, 1e-3f);
  // Guinea pigs: 1.8 born, all eaten (the ration is 2); a twentieth of a sheep eaten, the rest sold.
  EXPECT_NEAR(m.own_pen, 1.8f * 20.0f + 0.05f * 180.0f, 1e-3f);
  EXPECT_EQ(m.distress_pen, 0.0f);
  EXPECT_NEAR(m.products_pen, 8.0f * 2.0f + 1.0f * 25.0f, 1e-4f);
}

// Below capacity the increase is kept (nothing eaten) until the herd is full.
TEST(LivestockRules, HerdBelowCapacityKeepsItsIncrease) {
  const auto k = constants();
  models::HerdInputs in = at_capacity(k);
  in.herd = {5.0f, 2.0f, 0.5f};
  const models::HerdMonth m = models::herd_month(k, in);
  for (int s = 0; s < kSpeciesCount; ++s) EXPECT_NEAR(m.herd[s], in.herd[s] * (1.0f + k.birth[s]), 1e-5f) << s;
  EXPECT_EQ(m.own_pen, 0.0f);
  EXPECT_EQ(m.sales_pen, 0.0f);
  // A herd above capacity (a gift of animals) is sold down to it at once.
  in.herd = {30.0f, 20.0f, 1.0f};
  const models::HerdMonth over = models::herd_month(k, in);
  EXPECT_FLOAT_EQ(over.herd[kSheep], 8.0f);
  EXPECT_FLOAT_EQ(over.herd[kGuineaPigs], 15.0f);
  EXPECT_GT(over.sales_pen, 12.0f * 180.0f);
}

TEST(LivestockRules, DiseaseKillsAShareOfTheGuineaPigsOnly) {
  const auto k = constants();
  models::HerdInputs in = at_capacity(k);
  in.disease_u = 0.5f * k.disease_prob;
  const models::HerdMonth sick = models::herd_month(k, in);
  in.disease_u = 2.0f * k.disease_prob;
  const models::HerdMonth well = models::herd_month(k, in);
  EXPECT_NEAR(sick.herd[kGuineaPigs], 15.0f * 0.7f * 1.12f, 1e-4f);  // lost 30%, then the month's births kept
  EXPECT_FLOAT_EQ(well.herd[kGuineaPigs], 15.0f);
  EXPECT_EQ(sick.herd[kSheep], well.herd[kSheep]);
}

// Short of cash, a household sells small stock first, at the discounted price, just enough to reach the floor.
TEST(LivestockRules, DistressSalesAtADiscountSmallStockFirst) {
  const auto k = constants();
  models::HerdInputs in = at_capacity(k);
  in.cash = 0.0f;
  in.distress_need = 160.0f;  // 10 guinea pigs at PEN 20 less 20%
  const models::HerdMonth m = models::herd_month(k, in);
  const models::HerdMonth calm = models::herd_month(k, at_capacity(k));
  EXPECT_NEAR(m.distress_pen, 160.0f, 1e-3f);
  EXPECT_NEAR(m.herd[kGuineaPigs], calm.herd[kGuineaPigs] - 10.0f, 1e-4f);
  EXPECT_EQ(m.herd[kSheep], calm.herd[kSheep]);
  EXPECT_NEAR(m.sales_pen, calm.sales_pen + 160.0f, 1e-3f);
  // A larger need sells every guinea pig, then sheep; never more than the herd.
  in.distress_need = 1e7f;
  const models::HerdMonth all = models::herd_month(k, in);
  for (int s = 0; s < kSpeciesCount; ++s) EXPECT_GE(all.herd[s], 0.0f);
  EXPECT_NEAR(all.herd[kCattle], 0.0f, 1e-6f);
}

TEST(LivestockRules, TrapShareIsZeroWhenOffAndFallsAcrossTheThreshold) {
  const auto off = constants(false), on = constants(true);
  EXPECT_EQ(models::trap_share(off, 0.0f), 0.0f);
  EXPECT_FLOAT_EQ(models::trap_share(on, 3000.0f), 0.5f);
  EXPECT_GT(models::trap_share(on, 1000.0f), 0.98f);
  EXPECT_LT(models::trap_share(on, 5000.0f), 0.02f);
  const float herd[kSpeciesCount] = {10.0f, 2.0f, 1.0f};
  const unsigned shed_and_stove = (1u << models::tech_index(models::Tech::small_animal_shed)) |
                                  (1u << models::tech_index(models::Tech::improved_stove));
  LivestockParams p;
  p.upfront_pen.fill(100.0);
  const LivestockConstants k(p, true);
  // The stove is not a productive asset.
  EXPECT_FLOAT_EQ(models::productive_assets(k, herd, shed_and_stove), 200.0f + 360.0f + 1800.0f + 100.0f);
}

// The phase's driver (herd_month_of, four households in lanes and one at a time) gives the plain rules' bits:
// the trap's share of productive_assets, herd_month, the asset return factor and the breeding stock a shed
// adopter buys, on random households with and without the trap, disease, distress sales, sheds and pasture.
TEST(LivestockRules, LanesMatchThePlainRules) {
  namespace lanes = models::lanes;
  using T = lanes::Traits<lanes::vf>;
  constexpr int n = lanes::kLanes;
  rng::Stream s(23, 0, rng::domain_id("test.herd_month_of"), 0, 0);
  const auto uf = [&](double lo, double hi) { return static_cast<float>(lo + (hi - lo) * s.uniform()); };
  const auto bits = [](float x) { return std::bit_cast<std::uint32_t>(x); };
  for (int trial = 0; trial < 4000; ++trial) {
    LivestockParams p;
    for (auto& u : p.upfront_pen) u = s.bernoulli(0.3) ? 0.0 : 2000.0 * s.uniform();
    p.trap.asset_threshold_pen = 500.0 + 5000.0 * s.uniform();
    p.disease_prob = 0.3 * s.uniform();
    const LivestockConstants k(p, s.bernoulli(0.5));
    models::HerdInputs one[n];
    models::HerdLanes<float, unsigned> single[n];
    float herd[kSpeciesCount][n], land[n], pasture[n], stocking[n], keep[n], disease[n], cash[n], need[n];
    std::int32_t shed[n], adopted[n];
    unsigned masks[n];
    for (int j = 0; j < n; ++j) {
      models::HerdInputs& h = one[j];
      h.land_ha = uf(0, 5);
      h.pasture_ha = s.bernoulli(0.5) ? 0.0f : uf(0, 2);
      h.shed = s.bernoulli(0.4);
      h.stocking = models::stocking_rate(k, uf(-3, 3), s.bernoulli(0.2));
      for (int sp = 0; sp < kSpeciesCount; ++sp)
        h.herd[sp] = s.bernoulli(0.1) ? 0.0f : models::capacity(k, sp, h.land_ha, h.pasture_ha, h.shed, h.stocking) *
                                                  uf(0, 1.6);
      h.climate_keep = s.bernoulli(0.3) ? uf(0.5, 1) : 1.0f;
      h.disease_u = uf(0, 1);
      h.cash = s.bernoulli(0.3) ? uf(-500, 100) : uf(0, 5000);
      h.distress_need = uf(0, 900);
      masks[j] = static_cast<unsigned>(s.below(1u << models::kTechCount));
      if (k.trap) h.trap = models::trap_share(k, models::productive_assets(k, h.herd.data(), masks[j]));
      single[j] = {h.herd, h.land_ha, h.pasture_ha, h.stocking, h.climate_keep, h.disease_u, h.cash, h.distress_need,
                   h.shed ? 1u : 0u, masks[j]};
      for (int sp = 0; sp < kSpeciesCount; ++sp) herd[sp][j] = h.herd[sp];
      land[j] = h.land_ha;
      pasture[j] = h.pasture_ha;
      stocking[j] = h.stocking;
      keep[j] = h.climate_keep;
      disease[j] = h.disease_u;
      cash[j] = h.cash;
      need[j] = h.distress_need;
      shed[j] = h.shed ? -1 : 0;
      adopted[j] = static_cast<std::int32_t>(masks[j]);
    }
    models::HerdLanes<lanes::vf, lanes::vi> in;
    for (int sp = 0; sp < kSpeciesCount; ++sp) in.herd[sp] = T::load(herd[sp]);
    in.land_ha = T::load(land);
    in.pasture_ha = T::load(pasture);
    in.stocking = T::load(stocking);
    in.climate_keep = T::load(keep);
    in.disease_u = T::load(disease);
    in.cash = T::load(cash);
    in.distress_need = T::load(need);
    in.shed = T::load_mask(shed);
    in.adopted = T::load_mask(adopted);
    const models::HerdLanesMonth<lanes::vf> fast = models::herd_month_of(k, in);
    for (int j = 0; j < n; ++j) {
      const models::HerdMonth want = models::herd_month(k, one[j]);
      const float factor = 1.0f - (1.0f - k.low_return) * one[j].trap;
      const float buy = want.distress_pen > 0.0f ? 0.0f
                                                 : models::breeding_stock_to_buy(k, want.herd[kGuineaPigs], one[j].shed);
      const models::HerdLanesMonth<float> slow = models::herd_month_of(k, single[j]);
      const float wants[] = {want.herd[0],  want.herd[1],   want.herd[2],       want.sales_pen, want.own_pen,
                             want.products_pen, want.distress_pen, one[j].trap, factor,        buy};
      const float got_lanes[] = {fast.herd[0][j],      fast.herd[1][j],      fast.herd[2][j], fast.sales_pen[j],
                                 fast.own_pen[j],      fast.products_pen[j], fast.distress_pen[j], fast.trap[j],
                                 fast.return_factor[j], fast.buy[j]};
      const float got_one[] = {slow.herd[0],  slow.herd[1],         slow.herd[2],       slow.sales_pen, slow.own_pen,
                               slow.products_pen, slow.distress_pen, slow.trap,          slow.return_factor, slow.buy};
      for (std::size_t c = 0; c < std::size(wants); ++c) {
        ASSERT_EQ(bits(got_lanes[c]), bits(wants[c])) << "trial " << trial << " lane " << j << " output " << c;
        ASSERT_EQ(bits(got_one[c]), bits(wants[c])) << "trial " << trial << " lane " << j << " output " << c;
      }
    }
  }
}

// The phase reads four households' herds (rows of three floats) as one vector per species and writes them back
// with shuffles, and their persons from the byte column in lanes: the same values as household by household.
TEST(LivestockRules, HerdRowsAndPersonsInLanesMatchTheRows) {
  namespace lanes = models::lanes;
  const auto bits = [](float x) { return std::bit_cast<std::uint32_t>(x); };
  rng::Stream s(29, 0, rng::domain_id("test.herd_columns"), 0, 0);
  for (int trial = 0; trial < 200; ++trial) {
    float rows[4 * kSpeciesCount];
    for (float& x : rows) x = s.bernoulli(0.1) ? -0.0f : static_cast<float>(100.0 * s.uniform());
    const std::array<lanes::vf, kSpeciesCount> v = models::herd_columns(rows, lanes::vf{});
    for (int j = 0; j < lanes::kLanes; ++j) {
      const std::array<float, kSpeciesCount> one = models::herd_columns(rows + kSpeciesCount * j, 0.0f);
      for (int sp = 0; sp < kSpeciesCount; ++sp) {
        ASSERT_EQ(bits(v[static_cast<std::size_t>(sp)][j]), bits(rows[kSpeciesCount * j + sp]));
        ASSERT_EQ(bits(one[static_cast<std::size_t>(sp)]), bits(rows[kSpeciesCount * j + sp]));
      }
    }
    float back[4 * kSpeciesCount] = {};
    models::store_herd_columns(back, v);
    for (int m = 0; m < 4 * kSpeciesCount; ++m) ASSERT_EQ(bits(back[m]), bits(rows[m])) << "slot " << m;
  }
  for (int b = 0; b < 256; ++b) {  // every byte value, in each lane
    const std::uint8_t size[4] = {static_cast<std::uint8_t>(b), static_cast<std::uint8_t>(255 - b),
                                  static_cast<std::uint8_t>(b / 2), static_cast<std::uint8_t>(b % 3)};
    const lanes::vf p = lanes::persons(size, lanes::vf{});
    for (int j = 0; j < lanes::kLanes; ++j)
      ASSERT_EQ(bits(p[j]), bits(static_cast<float>(std::max<int>(1, size[j])))) << "byte " << int{size[j]};
    ASSERT_EQ(bits(lanes::persons(size, 0.0f)), bits(static_cast<float>(std::max<int>(1, size[0]))));
  }
}

// What the herd owes to the shed and to sown pasture: nothing without them, the extra animals' increase and
// products with them, plus the milk premium of pasture.
TEST(LivestockRules, HerdValueOwedToTheShedAndToPasture) {
  const auto k = constants();
  const float herd[kSpeciesCount] = {60.0f, 12.0f, 2.5f};
  const models::HerdTechValue none = models::herd_tech_value(k, herd, 2.0f, 0.0f, false, 1.0f);
  EXPECT_EQ(none.shed_pen, 0.0f);
  EXPECT_EQ(none.pasture_pen, 0.0f);
  const models::HerdTechValue both = models::herd_tech_value(k, herd, 2.0f, 0.5f, true, 1.0f);
  EXPECT_FLOAT_EQ(both.shed_pen, 45.0f * 0.12f * 20.0f);
  // Land carries 8 sheep and 1 cow; pasture the other 4 sheep and 1.5 cattle, and the milk premium on 2.5 cows.
  EXPECT_NEAR(both.pasture_pen, 4.0f * (0.025f * 180.0f + 2.0f) + 1.5f * (0.012f * 1800.0f + 25.0f) + 2.5f * 35.0f,
              1e-3f);
}

// ---- The phase ----

World herd_world(int households_per_centre = 40, int centres = 10, std::size_t block = 64) {
  WorldSpec spec;
  spec.districts = 2;
  spec.centres_per_district = centres / 2;
  spec.households_per_centre = households_per_centre;
  spec.block_households = block;
  return make_world(spec, [](std::size_t i) {
    HouseholdSpec h;
    h.land_ha = 0.5f + static_cast<float>(i % 7) * 0.5f;
    h.wealth_index = static_cast<float>(static_cast<int>(i % 5) - 2) * 0.5f;
    return h;
  });
}

std::vector<float> herds(const World& w) {
  const float* herd = column<float>(w, col::herd);
  return {herd, herd + w.household_count() * kSpeciesCount};
}

TEST(Livestock, OffIsIdleAndDrawsNoHerd) {
  World w = herd_world();
  EconomyModels m;
  m.setup(w);
  for (int month = 0; month < 12; ++month) m.run(w, m.livestock.step_phase(), month);
  for (float x : herds(w)) ASSERT_EQ(x, 0.0f);
  const float* sales = column<float>(w, col::livestock_sales_pen);
  for (std::size_t i = 0; i < w.household_count(); ++i) ASSERT_EQ(sales[i], 0.0f);
}

TEST(Livestock, BaselineHerdsFollowLandAndNoStockTurnsNegative) {
  World w = herd_world();
  EconomyModels m;
  m.channel("persistence", true);
  m.setup(w);
  const float* herd = column<float>(w, col::herd);
  const float* land = column<float>(w, col::land_ha);
  double small = 0, large = 0;
  int n_small = 0, n_large = 0;
  for (std::size_t i = 0; i < w.household_count(); ++i) {
    (land[i] < 1.5f ? small : large) += herd[i * kSpeciesCount + kSheep];
    (land[i] < 1.5f ? n_small : n_large) += 1;
  }
  EXPECT_GT(large / n_large, 2.0 * small / n_small);
  for (int month = 0; month < 60; ++month) m.step(w, month);
  for (float x : herds(w)) ASSERT_GE(x, 0.0f);
  const float* own = column<float>(w, col::livestock_own_pen);
  const float* products = column<float>(w, col::livestock_products_pen);
  double eaten = 0;
  for (std::size_t i = 0; i < w.household_count(); ++i) {
    ASSERT_GE(own[i], 0.0f);
    ASSERT_GE(products[i], 0.0f);
    eaten += own[i];
  }
  EXPECT_GT(eaten, 0.0);
}

// The disease strikes about disease_prob of the households a month, and the draws do not depend on how the
// world is cut into blocks.
TEST(Livestock, DiseaseFrequencyAndTheSameDrawsWhateverTheBlocks) {
  std::vector<float> final_herds[2];
  for (int b = 0; b < 2; ++b) {
    World w = herd_world(100, 20, b == 0 ? 64 : 1000);
    EconomyModels m;
    m.channel("persistence", true);
    m.set("livestock.distress_floor_pc_pen", 0.0);
    m.set("livelihood.covariate_shock_prob", 0.0);
    m.setup(w);
    const float* herd = column<float>(w, col::herd);
    const std::size_t n = w.household_count();
    int outbreaks = 0, household_months = 0;
    for (int month = 0; month < 24; ++month) {
      std::vector<float> before(n);
      for (std::size_t i = 0; i < n; ++i) before[i] = herd[i * kSpeciesCount + kGuineaPigs];
      m.run(w, m.livestock.step_phase(), month);
      for (std::size_t i = 0; i < n; ++i) {
        // Without disease a herd never shrinks (no distress, no shed purchases matter here).
        outbreaks += herd[i * kSpeciesCount + kGuineaPigs] < before[i] * 0.99f ? 1 : 0;
        household_months += 1;
      }
    }
    const double p = 0.01, se = std::sqrt(p * (1 - p) / household_months);
    EXPECT_NEAR(static_cast<double>(outbreaks) / household_months, p, 4 * se);
    final_herds[b] = herds(w);
  }
  EXPECT_EQ(final_herds[0], final_herds[1]);
}

// A household with a shed and too few guinea pigs buys breeding stock when it can pay (through finance::pay,
// booked as investment), and waits when it cannot.
TEST(Livestock, BreedingStockForAShedIsBoughtWhenItCanBePaid) {
  World w = herd_world(10, 2);
  EconomyModels m;
  m.channel("persistence", true);
  m.set("livestock.distress_floor_pc_pen", 0.0);
  m.set_bool("liquidity.credit_for_investment", false);
  m.setup(w);
  const std::size_t n = w.household_count();
  auto* state = column<std::uint8_t>(w, col::tech_state);
  auto* herd = column<float>(w, col::herd);
  auto* cash = column<float>(w, col::cash_pen);
  const float* perm = column<float>(w, col::permanent_income_pen);
  const int shed = models::tech_index(models::Tech::small_animal_shed);
  std::vector<float> cash0(n);
  for (std::size_t i = 0; i < n; ++i) {
    state[i * models::kTechCount + shed] = static_cast<std::uint8_t>(models::TechState::adopted);
    herd[i * kSpeciesCount + kGuineaPigs] = 4.0f;
    // Half the households hold plenty above their reserve; the other half none.
    cash[i] = i % 2 == 0 ? perm[i] + 1000.0f : 0.0f;
    cash0[i] = cash[i];
  }
  m.run(w, m.livestock.step_phase(), 0);
  const float* investment = column<float>(w, col::investment_pen);
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 2 == 0) {
      EXPECT_NEAR(herd[i * kSpeciesCount + kGuineaPigs], 20.0f, 1e-3f) << i;
      EXPECT_NEAR(investment[i], cash0[i] - cash[i], 1e-2f) << i;
      EXPECT_GT(investment[i], 300.0f) << i;
    } else {
      EXPECT_LT(herd[i * kSpeciesCount + kGuineaPigs], 5.0f) << i;
      EXPECT_EQ(investment[i], 0.0f) << i;
    }
  }
}

// ---- The poverty trap (economy.poverty_trap.enabled) ----

// Mean herd value of three groups of households that start at 20% (control), 45% (small push) and 75% (big
// push) of their capacity (productive assets about 1,000, 2,300 and 3,900 PEN against the threshold of 3,000),
// after `months` months.
std::array<double, 3> herd_values_after(bool trap, int months, std::array<double, 3>* start = nullptr) {
  World w = herd_world(30, 12);
  EconomyModels m;
  m.channel("persistence", true);
  m.channel("poverty_trap", trap);
  m.set_all_techs("adoption", "baseline_share", 0.0);
  m.set("livestock.distress_floor_pc_pen", 0.0);
  m.setup(w);
  const std::size_t n = w.household_count();
  auto* herd = column<float>(w, col::herd);
  auto* land = column<float>(w, col::land_ha);
  auto* wealth = column<float>(w, col::wealth_index);
  const LivestockConstants k(LivestockParams{}, trap);
  constexpr std::array<float, 3> kFill = {0.2f, 0.45f, 0.75f};
  for (std::size_t i = 0; i < n; ++i) {
    land[i] = 3.0f;  // the same capacity for everyone: herd value 5,160 PEN when full
    wealth[i] = 0.0f;
    for (int s = 0; s < kSpeciesCount; ++s)
      herd[i * kSpeciesCount + s] = kFill[i % 3] * models::capacity(k, s, 3.0f, 0.0f, false, 1.0f);
  }
  const auto value = [&] {
    std::array<double, 3> v{};
    for (std::size_t i = 0; i < n; ++i)
      for (int s = 0; s < kSpeciesCount; ++s) v[i % 3] += herd[i * kSpeciesCount + s] * k.price[s] / (n / 3.0);
    return v;
  };
  if (start != nullptr) *start = value();
  for (int month = 0; month < months; ++month) m.run(w, m.livestock.step_phase(), month);
  return value();
}

TEST(PovertyTrap, ABigPushLastsASmallOneDecaysAndWithoutTheTrapBothDecay) {
  std::array<double, 3> start{};
  const auto on = herd_values_after(true, 240, &start);
  const auto off = herd_values_after(false, 240);
  const double small0 = start[1] - start[0], big0 = start[2] - start[0];
  ASSERT_GT(small0, 500.0);
  ASSERT_GT(big0, 1500.0);
  // With the trap: the big push's effect lasts (the pushed herds grew to capacity, the others ran down), the
  // small push's decays.
  const double small_on = on[1] - on[0], big_on = on[2] - on[0];
  EXPECT_GT(big_on, big0) << "the big push must last";
  EXPECT_LT(small_on, 0.5 * small0) << "the small push must decay";
  // Without it every herd grows to capacity, so both effects fade alike.
  const double small_off = off[1] - off[0], big_off = off[2] - off[0];
  EXPECT_LT(small_off, 0.2 * small0);
  EXPECT_LT(big_off, 0.2 * big0);
  EXPECT_NEAR(small_off / small0, big_off / big0, 0.15);
}

}  // namespace
}  // namespace chacra::testing
