// The synthetic population's geography (docs/population.md): the independent generator reproduces the
// populations it made before the correlated geography bit for bit; the correlated one has the correlations of
// its parameters on a large sample and keeps each variable's mean and spread and the regions' differences.
#include "sim/engine_params.hpp"
#include "sim/population.hpp"
#include "fake_ranks.hpp"
#include "toy_model.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace {

using chacra::ParamSet;
using chacra::World;

// FNV-1a over every column of the three tables, in column order.
std::uint64_t population_digest(const World& w) {
  std::uint64_t h = 1469598103934665603ull;
  auto eat = [&h](const void* data, std::size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 1099511628211ull;
  };
  for (const chacra::Table* t : {&w.districts, &w.centres, &w.households}) {
    for (std::size_t c = 0; c < t->column_count(); ++c) {
      const auto& info = t->info(c);
      eat(info.name.data(), info.name.size());
      eat(t->data(c), t->rows() * static_cast<std::size_t>(info.width) * chacra::column_type_size(info.type));
    }
  }
  eat(w.centre_first.data(), w.centre_first.size() * sizeof(std::uint32_t));
  return h;
}

ParamSet params(chacra::PopulationGeography geography) {
  ParamSet p(toy::registry());
  p.set("population.geography", std::string(geography == chacra::PopulationGeography::independent ? "independent"
                                                                                                  : "correlated"));
  return p;
}

}  // namespace

// The digests of populations made by the generator before the correlated geography (commit f2a9db5): the
// default population, and one with an Amazon share, other sizes and another replicate.
TEST(PopulationGeography, IndependentReproducesTheEarlierGeneratorBitForBit) {
  ParamSet p = params(chacra::PopulationGeography::independent);
  p.set("population.households", std::int64_t{20000});
  const std::uint64_t whole = population_digest(chacra::generate_population(p, 0));
  EXPECT_EQ(whole, 0x90c62bb4e505fa6eull) << std::hex << "0x" << whole;
  p.set("population.households", std::int64_t{7000});
  p.set("population.districts", std::int64_t{13});
  p.set("population.share_southern_highlands", 0.3);
  p.set("population.share_northern_highlands", 0.3);
  p.set("population.share_amazon", 0.4);
  p.set("population.mean_centre_households", 45.0);
  const std::uint64_t amazon = population_digest(chacra::generate_population(p, 3));
  EXPECT_EQ(amazon, 0xead8419e707ef460ull) << std::hex << "0x" << amazon;
}

// The registry's default is the independent generator: scenarios that do not name a geography keep their
// populations.
TEST(PopulationGeography, DefaultIsTheIndependentGenerator) {
  ParamSet p(toy::registry());
  p.set("population.households", std::int64_t{5000});
  const std::uint64_t plain = population_digest(chacra::generate_population(p, 1));
  p.set("population.geography", std::string("independent"));
  EXPECT_EQ(population_digest(chacra::generate_population(p, 1)), plain);
  p.set("population.geography", std::string("correlated"));
  EXPECT_NE(population_digest(chacra::generate_population(p, 1)), plain);
}

// Split by districts across ranks, the correlated geography gives every held district, centre and household
// the values of the whole population (its district and centre draws come from streams keyed by their index).
TEST(PopulationGeography, CorrelatedIsTheSameOnAnyNumberOfRanks) {
  ParamSet p = params(chacra::PopulationGeography::correlated);
  p.set("population.households", std::int64_t{6000});
  p.set("population.districts", std::int64_t{11});
  p.set("population.block_households", std::int64_t{64});
  const World whole = chacra::generate_population(p, 2);
  for (int ranks : {2, 3, 7}) {
    for (int rank = 0; rank < ranks; ++rank) {
      const chacra::test::FakeRanks comm(rank, ranks);
      const World part = chacra::generate_population(p, 2, comm);
      for (const chacra::Table* t : {&whole.districts, &whole.centres}) {
        const chacra::Table& mine = t == &whole.districts ? part.districts : part.centres;
        ASSERT_EQ(mine.column_count(), t->column_count());
        for (std::size_t c = 0; c < t->column_count(); ++c) {
          // Centre columns derived from households (the realised UBN share) exist only for held centres.
          const bool held_only = t == &whole.centres && t->info(c).name == "ubn_share";
          const std::size_t begin = held_only ? part.centre_begin() : 0;
          const std::size_t end = held_only ? part.centre_end() : t->rows();
          for (std::size_t r = begin; r < end; ++r)
            ASSERT_EQ(mine.value(c, r, 0), t->value(c, r, 0)) << t->info(c).name << " row " << r << ", rank " << rank;
        }
      }
      for (std::size_t c = 0; c < whole.households.column_count(); ++c)
        for (std::size_t i = part.household_begin(); i < part.household_end(); ++i)
          for (int k = 0; k < whole.households.info(c).width; ++k)
            ASSERT_EQ(part.households.value(c, i - part.household_begin(), k), whole.households.value(c, i, k))
                << whole.households.info(c).name << " household " << i << " with " << ranks << " ranks";
    }
  }
}

namespace {

double mean_of(const std::vector<double>& v) {
  double s = 0.0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const double mx = mean_of(x), my = mean_of(y);
  double sxx = 0.0, syy = 0.0, sxy = 0.0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
    sxy += (x[i] - mx) * (y[i] - my);
  }
  return sxy / std::sqrt(sxx * syy);
}

// Centre-level and district-level variables of a large population.
struct Sample {
  std::vector<double> district_poverty, ubn, market, altitude, water, poverty_of_centre;
  std::vector<double> poverty_by_region[3];
  double wealth_sd = 0.0, land_mean = 0.0, highland_market = 0.0, with_children = 0.0;
};

Sample sample(chacra::PopulationGeography geography) {
  ParamSet p = params(geography);
  p.set("population.households", std::int64_t{150000});
  p.set("population.districts", std::int64_t{600});
  const World w = chacra::generate_population(p, 0);
  Sample s;
  const auto* poverty = w.districts.get<float>("poverty_rate");
  const auto* region = w.districts.get<std::uint8_t>("region");
  for (std::size_t d = 0; d < w.district_count(); ++d) {
    s.district_poverty.push_back(poverty[d]);
    s.poverty_by_region[region[d]].push_back(poverty[d]);
  }
  const auto* district = w.centres.get<std::uint32_t>("district");
  const auto* ubn = w.centres.get<float>("ubn_share");
  const auto* market = w.centres.get<float>("market_access");
  const auto* altitude = w.centres.get<float>("altitude_m");
  const auto* water = w.centres.get<float>("water_share");
  std::vector<double> highland_market;
  for (std::size_t c = 0; c < w.centre_count(); ++c) {
    s.poverty_of_centre.push_back(poverty[district[c]]);
    s.ubn.push_back(ubn[c]);
    s.market.push_back(market[c]);
    s.altitude.push_back(altitude[c]);
    s.water.push_back(water[c]);
    if (region[district[c]] != static_cast<std::uint8_t>(chacra::Region::amazon)) highland_market.push_back(market[c]);
  }
  s.highland_market = mean_of(highland_market);
  const auto* wealth = w.households.get<float>("wealth_index");
  const auto* land = w.households.get<float>("land_ha");
  std::vector<double> wv(wealth, wealth + w.household_count()), lv(land, land + w.household_count());
  const double wm = mean_of(wv);
  double ss = 0.0;
  for (double x : wv) ss += (x - wm) * (x - wm);
  s.wealth_sd = std::sqrt(ss / static_cast<double>(wv.size() - 1));
  s.land_mean = mean_of(lv);
  // Households with a member under 19 (the head is never that young).
  const auto* age = w.households.get<std::int16_t>("member_age_months");
  std::size_t with_children = 0;
  for (std::size_t i = 0; i < w.household_count(); ++i) {
    bool any = false;
    for (int k = 1; k < chacra::kMaxMembers; ++k) {
      const std::int16_t a = age[i * chacra::kMaxMembers + static_cast<std::size_t>(k)];
      any = any || (a >= 0 && a < 19 * 12);
    }
    with_children += any ? 1u : 0u;
  }
  s.with_children = static_cast<double>(with_children) / static_cast<double>(w.household_count());
  return s;
}

}  // namespace

// The correlated geography keeps each variable's mean and spread (the targeting thresholds mean what they
// meant), puts the regions in the order of INEI's map (the Amazon least poor), and correlates deprivation
// with UBN, remoteness (market access) and altitude, which the independent generator does not.
TEST(PopulationGeography, CorrelatedKeepsMeansAndCorrelatesDeprivation) {
  const Sample ind = sample(chacra::PopulationGeography::independent);
  const Sample cor = sample(chacra::PopulationGeography::correlated);
  // Means and spreads.
  EXPECT_NEAR(mean_of(cor.district_poverty), mean_of(ind.district_poverty), 0.02);
  EXPECT_NEAR(mean_of(cor.ubn), mean_of(ind.ubn), 0.02);
  EXPECT_NEAR(mean_of(cor.water), mean_of(ind.water), 0.02);
  EXPECT_NEAR(cor.highland_market, ind.highland_market, 0.03);
  EXPECT_NEAR(cor.wealth_sd, ind.wealth_sd, 0.05 * ind.wealth_sd);
  EXPECT_NEAR(cor.land_mean, ind.land_mean, 0.05 * ind.land_mean);
  EXPECT_NEAR(cor.with_children, ind.with_children, 0.02);
  // Regions: the Amazon's districts are the least poor, by about the map's gap.
  const double south = mean_of(cor.poverty_by_region[0]), north = mean_of(cor.poverty_by_region[1]),
               amazon = mean_of(cor.poverty_by_region[2]);
  EXPECT_GT(north, south);
  EXPECT_LT(amazon, south - 0.04);
  // Correlations across centres.
  EXPECT_GT(pearson(cor.ubn, cor.poverty_of_centre), pearson(ind.ubn, ind.poverty_of_centre) + 0.05);
  EXPECT_LT(pearson(cor.market, cor.poverty_of_centre), -0.2);
  EXPECT_LT(pearson(cor.market, cor.ubn), -0.15);
  EXPECT_NEAR(pearson(ind.market, ind.poverty_of_centre), 0.0, 0.08);
  EXPECT_NEAR(pearson(ind.market, ind.ubn), 0.0, 0.08);
}
