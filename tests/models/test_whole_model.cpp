// Whole-model tests on the generated population: degenerate parameters give known outcomes draw for draw,
// switching a programme on in one district leaves every other household identical, and the state is the
// same bits on any thread count.
#include "models/registry.hpp"
#include "tests/models/whole_model_run.hpp"
#include "sim/engine.hpp"
#include "sim/population.hpp"

#include <gtest/gtest.h>
#include <oneapi/tbb/global_control.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

using chacra::ParamSet;
using chacra::World;

using chacra::testing::run_model;

// Compares the bytes of household columns between two worlds.
void expect_same_columns(const World& a, const World& b, const std::vector<std::string>& columns) {
  for (const auto& name : columns) {
    const std::size_t ia = a.households.index(name), ib = b.households.index(name);
    const auto& info = a.households.info(ia);
    const std::size_t bytes = a.household_count() * static_cast<std::size_t>(info.width) *
                              chacra::column_type_size(info.type);
    EXPECT_EQ(std::memcmp(a.households.data(ia), b.households.data(ib), bytes), 0) << name << " differs";
  }
}

const std::vector<std::string> kLivelihoodOutcomes = {
    "income_crops_pen", "income_animals_pen", "income_wage_pen", "income_business_pen", "income_monetary_pen",
    "own_production_pen", "consumption_pen", "cash_pen", "poor", "extreme_poor", "poverty_gap", "tech_state",
    "pasture_ha", "household_size", "member_age_months"};

}  // namespace

TEST(WholeModel, ZeroJuntosTransferEqualsNoJuntosDrawForDraw) {
  // With HW off (so Juntos enrolment cannot steer HW take-up or coordination), a zero transfer must leave
  // every livelihood outcome identical to Juntos switched off.
  ParamSet off(chacra::models::registry());
  off.set("haku_winay.enabled", false);
  ParamSet zero = off;
  off.set("juntos.enabled", false);
  zero.set("juntos.transfer_pen", 0.0);
  const World a = run_model(off, 30), b = run_model(zero, 30);
  auto income_transfers = [](const World& w) {
    const auto* t = w.households.get<float>("income_transfers_pen");
    double s = 0;
    for (std::size_t i = 0; i < w.household_count(); ++i) s += t[i];
    return s;
  };
  EXPECT_EQ(income_transfers(b), 0.0);
  expect_same_columns(a, b, kLivelihoodOutcomes);
  // And the default transfer does change outcomes (the test can fail).
  ParamSet paid = off;
  paid.set("juntos.enabled", true);
  const World c = run_model(paid, 30);
  EXPECT_GT(income_transfers(c), 0.0);
}

TEST(WholeModel, NoProgrammesAndZeroAdoptionHazardsGiveNoNewAdopters) {
  ParamSet p(chacra::models::registry());
  p.set("haku_winay.enabled", false);
  p.set("juntos.enabled", false);
  // Every technology's baseline hazard and the peer effect to zero: the baseline states must not grow.
  for (const auto& spec : chacra::models::registry().specs())
    if (spec.name.rfind("adoption.", 0) == 0 && spec.name.find("baseline_hazard") != std::string::npos)
      p.set(spec.name, 0.0);
  p.set("adoption.peer_strength", 0.0);
  const World end = run_model(p, 24);
  // Count adopters (state 1) at the end; compared with a run of zero months (the baseline draw).
  const World base = run_model(p, 0);
  const auto* s0 = base.households.get<std::uint8_t>("tech_state");
  const auto* s1 = end.households.get<std::uint8_t>("tech_state");
  std::size_t new_adoptions = 0, baseline_adopters = 0;
  for (std::size_t i = 0; i < end.household_count() * 10; ++i) {
    baseline_adopters += s0[i] == 1;
    new_adoptions += s0[i] != 1 && s1[i] == 1;
  }
  EXPECT_GT(baseline_adopters, 0u);
  EXPECT_EQ(new_adoptions, 0u);
}

TEST(WholeModel, HakuWinayInOneDistrictLeavesOtherDistrictsIdentical) {
  ParamSet base(chacra::models::registry());
  base.set("juntos.enabled", true);
  base.set("haku_winay.enabled", false);
  ParamSet one = base;
  one.set("haku_winay.enabled", true);
  one.set("haku_winay.only_district", std::int64_t{2});
  const World a = run_model(base, 36), b = run_model(one, 36);
  const auto* district = a.households.get<std::uint32_t>("district");
  const auto* ia = a.households.get<float>("income_monetary_pen");
  const auto* ib = b.households.get<float>("income_monetary_pen");
  const auto* ta = a.households.get<std::uint8_t>("tech_state");
  const auto* tb = b.households.get<std::uint8_t>("tech_state");
  const auto* part = b.households.get<std::uint8_t>("hw_participant");
  std::size_t participants = 0, changed_inside = 0;
  for (std::size_t i = 0; i < a.household_count(); ++i) {
    if (district[i] == 2) {
      participants += part[i];
      changed_inside += ia[i] != ib[i];
      continue;
    }
    ASSERT_EQ(ia[i], ib[i]) << "household " << i << " outside the district changed income";
    for (int k = 0; k < 10; ++k) ASSERT_EQ(ta[i * 10 + k], tb[i * 10 + k]);
  }
  EXPECT_GT(participants, 0u) << "HW must reach someone in district 2 for the test to mean anything";
  EXPECT_GT(changed_inside, 0u);
}

namespace {

// FNV-1a over the name and bytes of every column of the world's household and district tables.
std::uint64_t state_digest(const World& w) {
  std::uint64_t hash = 14695981039346656037ull;
  const auto mix = [&hash](const void* p, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) hash = (hash ^ static_cast<const unsigned char*>(p)[k]) * 1099511628211ull;
  };
  for (const chacra::Table* t : {&w.households, &w.districts})
    for (std::size_t c = 0; c < t->column_count(); ++c) {
      const auto& info = t->info(c);
      mix(info.name.data(), info.name.size());
      mix(t->data(c), t->rows() * static_cast<std::size_t>(info.width) * chacra::column_type_size(info.type));
    }
  return hash;
}

// The same digest over the columns that the model had before the household economy's channels, in their order
// then (tests/models/data/golden_columns.txt): with every channel off these must be unchanged, while columns
// added since (the channels' state) are left out.
std::uint64_t legacy_state_digest(const World& w) {
  std::ifstream in(std::string(CHACRA_SOURCE_DIR) + "/tests/models/data/golden_columns.txt");
  EXPECT_TRUE(in.good()) << "tests/models/data/golden_columns.txt is missing";
  std::uint64_t hash = 14695981039346656037ull;
  const auto mix = [&hash](const void* p, std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) hash = (hash ^ static_cast<const unsigned char*>(p)[k]) * 1099511628211ull;
  };
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const chacra::Table& t = line[0] == 'd' ? w.districts : w.households;
    const std::string name = line.substr(2);
    if (!t.has(name)) {
      ADD_FAILURE() << "column " << name << " of the golden state no longer exists";
      continue;
    }
    const std::size_t c = t.index(name);
    const auto& info = t.info(c);
    mix(info.name.data(), info.name.size());
    mix(t.data(c), t.rows() * static_cast<std::size_t>(info.width) * chacra::column_type_size(info.type));
  }
  return hash;
}

// Both programmes, blocks of 300 households, and every channel of the household economy on or off.
ParamSet golden_params(bool channels) {
  ParamSet p(chacra::models::registry());
  for (const char* channel : {"welfare", "liquidity", "risk", "graduation", "persistence", "poverty_trap"})
    p.set(std::string("economy.") + channel + ".enabled", channels);
  p.set("juntos.enabled", true);
  p.set("haku_winay.enabled", true);
  p.set("population.block_households", std::int64_t{300});
  return p;
}

}  // namespace

// Optimisations must not change a single bit of the model (docs/performance.md). This pins the full state
// of a small world with both programmes after three years: every household and district column. Blocks of
// a few hundred households end at centre boundaries, so the phases' lane code and their one-household tails
// both run. A change of the model itself (not an optimisation) changes the digest: then update kGolden in
// the same commit and say why. The household economy's channels are switched off here: with them off the
// columns the model had before them must be the same bits (legacy_state_digest).
TEST(WholeModel, GoldenDigestOfTheWholeState) {
  const ParamSet p = golden_params(false);
  const World w = run_model(p, 36);
  constexpr std::uint64_t kGolden = 0xbc6f1dcb3312f051ull;
  EXPECT_EQ(legacy_state_digest(w), kGolden) << std::hex << "digest 0x" << legacy_state_digest(w);
}

// The same for the full model: every channel of the household economy on, the poverty trap included, with both
// programmes, on 1 and 4 threads. The optimisations of the channels' phases (docs/performance.md, "The full
// model's cost") are held to these bits; a change of a channel's behaviour changes them: then update kGoldenFull
// in the same commit and say why.
TEST(WholeModel, GoldenDigestOfTheFullEconomy) {
  const ParamSet p = golden_params(true);
  constexpr std::uint64_t kGoldenFull = 0xa48529fa786e6d37ull;
  for (const int threads : {1, 4}) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
    const std::uint64_t digest = state_digest(run_model(p, 36));
    EXPECT_EQ(digest, kGoldenFull) << std::hex << threads << " thread(s): digest 0x" << digest;
  }
}

// The month's serial phases (Haku Winay's rollout, competition and businesses) work in parallel inside:
// centre by centre, nucleus by nucleus (group formation and the CLAR) and business by business. Five years,
// so that groups have formed, the CLAR has funded businesses and several of them have run (and failed)
// under competition; the whole state must be the same bits on 1 and 4 threads.
TEST(WholeModel, WholeStateIsTheSameOnOneAndFourThreads) {
  ParamSet p(chacra::models::registry());
  p.set("juntos.enabled", true);
  p.set("haku_winay.enabled", true);
  p.set("population.block_households", std::int64_t{300});
  std::uint64_t digest[2] = {0, 0};
  std::size_t in_business = 0;
  for (int k = 0; k < 2; ++k) {
    tbb::global_control threads(tbb::global_control::max_allowed_parallelism, k == 0 ? 1 : 4);
    const World w = run_model(p, 60);
    digest[k] = state_digest(w);
    if (k == 0) {
      const auto* status = w.households.get<std::uint8_t>("business_status");
      for (std::size_t i = 0; i < w.household_count(); ++i) in_business += status[i] != 0;
    }
  }
  EXPECT_GT(in_business, 100u) << "the CLAR must have funded businesses for the test to mean anything";
  EXPECT_EQ(digest[0], digest[1]) << "the state differs between 1 and 4 threads";
}

// The graduation, risk and liquidity channels add work inside serial phases (the portfolio's planting, the
// business counterparts) and state that later months read (scores, time, orientation): the state must still be
// the same bits on 1 and 4 threads, and Haku Winay in one district must leave every other district identical.
TEST(WholeModel, GraduationRiskAndLiquidityChannelsKeepThreadsAndCommonRandomNumbers) {
  ParamSet p(chacra::models::registry());
  for (const char* channel : {"graduation", "risk", "liquidity"}) p.set(std::string("economy.") + channel + ".enabled", true);
  p.set("population.block_households", std::int64_t{300});
  std::uint64_t digest[2] = {0, 0};
  for (int k = 0; k < 2; ++k) {
    tbb::global_control threads(tbb::global_control::max_allowed_parallelism, k == 0 ? 1 : 4);
    digest[k] = state_digest(run_model(p, 60));
  }
  EXPECT_EQ(digest[0], digest[1]) << "the state differs between 1 and 4 threads";

  ParamSet base = p;
  base.set("haku_winay.enabled", false);
  ParamSet one = p;
  one.set("haku_winay.only_district", std::int64_t{2});
  const World a = run_model(base, 36), b = run_model(one, 36);
  const auto* district = a.households.get<std::uint32_t>("district");
  std::size_t changed_inside = 0;
  for (const char* column : {"income_monetary_pen", "market_orientation", "juntos_score", "time_burden", "cash_pen"}) {
    const auto* ca = a.households.get<float>(column);
    const auto* cb = b.households.get<float>(column);
    for (std::size_t i = 0; i < a.household_count(); ++i) {
      if (district[i] == 2) {
        changed_inside += ca[i] != cb[i];
        continue;
      }
      ASSERT_EQ(ca[i], cb[i]) << column << " of household " << i << " outside the district changed";
    }
  }
  EXPECT_GT(changed_inside, 0u);
}

// With persistence from profitability, the financing of adoption and the poverty trap on (herds, expected
// profits, pending intents, business survival and the disease draws shared by 16 households), the whole state
// is still the same bits on 1 and 4 threads.
TEST(WholeModel, PersistenceLiquidityAndTheTrapAreTheSameOnOneAndFourThreads) {
  ParamSet p(chacra::models::registry());
  p.set("juntos.enabled", true);
  p.set("haku_winay.enabled", true);
  p.set("economy.persistence.enabled", true);
  p.set("economy.liquidity.enabled", true);
  p.set("economy.poverty_trap.enabled", true);
  p.set("population.block_households", std::int64_t{300});
  std::uint64_t digest[2] = {0, 0};
  double herd = 0;
  for (int k = 0; k < 2; ++k) {
    tbb::global_control threads(tbb::global_control::max_allowed_parallelism, k == 0 ? 1 : 4);
    const World w = run_model(p, 48);
    digest[k] = state_digest(w);
    if (k == 0) {
      const auto* h = w.households.get<float>("herd");
      for (std::size_t i = 0; i < w.household_count() * 3; ++i) herd += h[i];
    }
  }
  EXPECT_GT(herd, 1000.0) << "the herds must exist for the test to mean anything";
  EXPECT_EQ(digest[0], digest[1]) << "the state differs between 1 and 4 threads";
}

// Haku Winay's businesses under survival from profit: with no outside option they close only at the background
// rate (2% a year instead of the fixed 12%), so more survive than without the channel; with an outside option
// no business can cover, every one closes.
TEST(WholeModel, HakuWinayBusinessesSurviveFromProfit) {
  ParamSet p(chacra::models::registry());
  p.set("juntos.enabled", false);
  p.set("haku_winay.enabled", true);
  const auto active_share = [](ParamSet q) {
    const World w = run_model(q, 72);
    const auto* status = w.households.get<std::uint8_t>("business_status");
    std::size_t active = 0, ever = 0;
    for (std::size_t i = 0; i < w.household_count(); ++i) {
      ever += status[i] != 0;
      active += status[i] == 1;
    }
    EXPECT_GT(ever, 100u) << "the CLAR must have funded businesses for the test to mean anything";
    return static_cast<double>(active) / static_cast<double>(std::max<std::size_t>(ever, 1));
  };
  const double fixed_rate = active_share(p);
  p.set("economy.persistence.enabled", true);
  p.set("business.time_share", 0.0);
  const double no_outside_option = active_share(p);
  p.set("business.time_share", 10.0);
  const double costly_owners = active_share(p);
  EXPECT_GT(no_outside_option, fixed_rate + 0.05);
  EXPECT_EQ(costly_owners, 0.0);
}
