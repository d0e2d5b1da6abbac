// Engine tests on a toy model: thread invariance, common random numbers across arms, independent
// replicates, HDF5 round trip and atomic output.
#include "fake_ranks.hpp"
#include "h5_compare.hpp"
#include "sim/output/checksum.hpp"
#include "sim/output/h5.hpp"
#include "sim/output/layout.hpp"
#include "sim/output/writer.hpp"
#include "sim/population.hpp"
#include "sim/runner.hpp"
#include "sim/interrupt.hpp"
#include "sim/engine.hpp"
#include "tests/scratch_dir.hpp"
#include "toy_model.hpp"

#include <oneapi/tbb/global_control.h>

#include <csignal>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace fs = std::filesystem;

namespace {

std::string temp_path(const std::string& name) { return chacra::test::scratch_path(name); }

chacra::RunResult run(const chacra::Scenario& s, const std::string& out, int threads) {
  chacra::RunOptions o;
  o.output_path = out;
  o.force = true;
  o.threads = threads;
  return chacra::run_scenario(s, toy::build, o);
}

}  // namespace

TEST(EngineThreads, OutputBitIdenticalFor1_2_8Threads) {
  const auto s = toy::scenario(3000, 2, 2, {{"none", -1}, {"programme", 2}});
  std::map<std::string, std::vector<unsigned char>> reference;
  for (int threads : {1, 2, 8}) {
    const std::string out = temp_path("threads_" + std::to_string(threads) + ".h5");
    run(s, out, threads);
    auto arms = h5test::read_all(out, "arms");
    auto pop = h5test::read_all(out, "population");
    arms.insert(pop.begin(), pop.end());
    ASSERT_GT(arms.size(), 10u);
    if (threads == 1) reference = arms;
    else EXPECT_TRUE(arms == reference) << "output differs at " << threads << " threads";
  }
}

TEST(EngineCommonRandomNumbers, ProgrammeInOneDistrictChangesNoOtherHousehold) {
  const auto s = toy::scenario(3000, 2, 1, {{"none", -1}, {"programme", 3}});
  const std::string out = temp_path("crn.h5");
  run(s, out, 2);
  chacra::h5::Handle f = chacra::h5::open_file_readonly(out);
  const auto district = chacra::h5::read_doubles(f, "population/replicate_0/households/district");
  std::size_t inside = 0, differ_inside = 0;
  for (const std::string var : {"toy_income", "toy_state", "toy_wealth"}) {
    std::vector<hsize_t> dims;
    const auto a = chacra::h5::read_doubles(f, "arms/none/replicate_0/panel/" + var, &dims);
    const auto b = chacra::h5::read_doubles(f, "arms/programme/replicate_0/panel/" + var);
    ASSERT_EQ(a.size(), b.size());
    const std::size_t n = dims[1];
    for (std::size_t k = 0; k < a.size(); ++k) {
      if (district[k % n] == 3) {
        ++inside;
        differ_inside += a[k] != b[k];
      } else {
        ASSERT_EQ(a[k], b[k]) << var << " differs outside district 3 at cell " << k;
      }
    }
  }
  EXPECT_GT(inside, 0u);
  EXPECT_GT(differ_inside, 0u);  // the programme did something where it ran
}

TEST(EngineReplicates, ReplicatesAreIndependentDraws) {
  const auto s = toy::scenario(2000, 1, 2, {{"none", -1}});
  const std::string out = temp_path("reps.h5");
  const auto r = run(s, out, 2);
  chacra::h5::Handle f = chacra::h5::open_file_readonly(out);
  const auto a = chacra::h5::read_doubles(f, "arms/none/replicate_0/panel/toy_income");
  const auto b = chacra::h5::read_doubles(f, "arms/none/replicate_1/panel/toy_income");
  std::size_t equal = 0;
  for (std::size_t k = 0; k < std::min(a.size(), b.size()); ++k) equal += a[k] == b[k];
  EXPECT_LT(equal, a.size() / 100);
  // Replicate means agree within sampling error (same model), but are not identical.
  const double m0 = r.units[0].mean("toy_income", 0), m1 = r.units[1].mean("toy_income", 0);
  EXPECT_NE(m0, m1);
  EXPECT_NEAR(m0, m1, 0.1 * m0);
}

TEST(EngineOutput, RoundTripThroughHdf5Api) {
  const auto s = toy::scenario(1500, 2, 1, {{"none", -1}});
  const std::string out = temp_path("roundtrip.h5");
  const auto r = run(s, out, 2);
  EXPECT_FALSE(fs::exists(out + ".partial"));
  chacra::h5::Handle f = chacra::h5::open_file_readonly(out);
  std::vector<hsize_t> dims;
  const auto income = chacra::h5::read_doubles(f, "arms/none/replicate_0/panel/toy_income", &dims);
  ASSERT_EQ(dims.size(), 2u);
  EXPECT_EQ(dims[0], 8u);  // 2 years, quarterly
  EXPECT_EQ(dims[1], r.households);
  // Aggregates are the household means of the panel, period by period.
  const auto agg = chacra::h5::read_doubles(f, "arms/none/replicate_0/aggregates/toy_income");
  for (std::size_t p = 0; p < dims[0]; ++p) {
    double sum = 0;
    for (std::size_t i = 0; i < dims[1]; ++i) sum += income[p * dims[1] + i];
    EXPECT_NEAR(agg[p], sum / static_cast<double>(dims[1]), 1e-3);
    EXPECT_DOUBLE_EQ(agg[p], r.units[0].mean("toy_income", p));
  }
  chacra::h5::Handle ds(H5Dopen2(f, "arms/none/replicate_0/panel/toy_income", H5P_DEFAULT));
  EXPECT_EQ(chacra::h5::read_attr_string(ds, "unit"), "PEN");
  chacra::h5::Handle prov = chacra::h5::open_group(f, "provenance");
  for (const char* a : {"chacra_version", "git_commit", "host", "start_time", "end_time", "scenario_name"})
    EXPECT_TRUE(chacra::h5::has_attr(prov, a)) << a;
  EXPECT_EQ(chacra::h5::read_strings(f, "periods").front(), "2017Q1");
  EXPECT_FALSE(chacra::h5::read_strings(prov, "scenario_yaml").front().empty());
}

// A unit's checksum folds in the CRCs the writer took of the panel's chunks as it wrote them (several chunks a
// period here); reading every chunk back gives the same value.
TEST(EngineOutput, UnitChecksumFromTheWrittenChunksEqualsAReadBack) {
  const auto s = toy::scenario(70000, 1, 1, {{"none", -1}});
  const std::string out = temp_path("checksum.h5");
  run(s, out, 2);
  chacra::h5::Handle f = chacra::h5::open_file_readonly(out);
  chacra::h5::Handle unit = chacra::h5::open_group(f, "arms/none/replicate_0");
  EXPECT_EQ(chacra::h5::read_attr_string(unit, chacra::output::layout::kChecksum),
            chacra::output::group_checksum(unit));
  EXPECT_EQ(chacra::output::check_seal(f, "arms/none/replicate_0"), chacra::output::SealState::valid);
}

// Arms whose panels are the same reuse the chunks of the first (ChunkCache): a unit's stored chunks, hence its
// checksum, are those of a run of that arm alone; the checksums still equal a read-back; only compressed chunks of
// the same replicate are reused (a second replicate's population differs).
TEST(EngineOutput, ArmsReuseTheSameChunksOfEarlierArmsAndStoreWhatTheyWouldAlone) {
  // District 99 does not exist: "elsewhere" runs exactly as "none".
  const auto s = toy::scenario(3000, 2, 2, {{"none", -1}, {"elsewhere", 99}, {"programme", 3}});
  const std::string out = temp_path("reuse.h5");
  const std::uint64_t reused0 = chacra::output::write_counters.reused;
  run(s, out, 2);
  const std::uint64_t reused = chacra::output::write_counters.reused - reused0;
  // toy_state (0/1 flags, compressed) of "elsewhere" at each of 8 quarters in each replicate at least.
  EXPECT_GE(reused, 16u);
  chacra::h5::Handle f = chacra::h5::open_file_readonly(out);
  std::map<std::string, std::string> together;
  for (const std::string arm : {"none", "elsewhere", "programme"})
    for (const std::string r : {"0", "1"}) {
      const std::string unit = "arms/" + arm + "/replicate_" + r;
      chacra::h5::Handle g = chacra::h5::open_group(f, unit);
      together[unit] = chacra::h5::read_attr_string(g, chacra::output::layout::kChecksum);
      EXPECT_EQ(together[unit], chacra::output::group_checksum(g)) << unit;
    }
  EXPECT_EQ(h5test::read_all(out, "arms/none"), h5test::read_all(out, "arms/elsewhere"));
  for (const auto& alone : {std::pair<std::string, std::int64_t>{"elsewhere", 99}, {"programme", 3}}) {
    const std::string one = temp_path("reuse_" + alone.first + ".h5");
    run(toy::scenario(3000, 2, 2, {alone}), one, 2);
    chacra::h5::Handle g = chacra::h5::open_file_readonly(one);
    for (const std::string r : {"0", "1"}) {
      const std::string unit = "arms/" + alone.first + "/replicate_" + r;
      EXPECT_EQ(chacra::h5::read_attr_string(chacra::h5::open_group(g, unit), chacra::output::layout::kChecksum),
                together[unit])
          << unit << " alone";
    }
  }
}

TEST(ChunkCache, FindsOnlyTheSameKeyAndFingerprintAndKeepsAtMostItsBytes) {
  using chacra::output::ChunkCache;
  std::vector<unsigned char> a(1000, 1), b(1000, 1), bytes;
  b[999] = 2;
  const auto fa = ChunkCache::fingerprint(a.data(), a.size()), fb = ChunkCache::fingerprint(b.data(), b.size());
  EXPECT_FALSE(fa == fb);
  EXPECT_TRUE(fa == ChunkCache::fingerprint(a.data(), a.size()));
  ChunkCache cache(100);
  const std::vector<unsigned char> encoded(60, 7), other(50, 8);
  cache.insert("panel x 0 0", fa, encoded.data(), encoded.size());
  EXPECT_EQ(cache.bytes(), 60u);
  EXPECT_FALSE(cache.find("panel x 0 0", fb, bytes));
  EXPECT_FALSE(cache.find("panel x 1 0", fa, bytes));
  ASSERT_TRUE(cache.find("panel x 0 0", fa, bytes));
  EXPECT_EQ(bytes, encoded);
  cache.insert("panel x 0 0", fb, other.data(), other.size());  // over the bound: not kept
  EXPECT_FALSE(cache.find("panel x 0 0", fb, bytes));
  EXPECT_EQ(cache.bytes(), 60u);
  EXPECT_EQ(cache.hits(), 1u);
  cache.clear();
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_FALSE(cache.find("panel x 0 0", fa, bytes));
}

// The toy model plus two centre columns recorded per output period (one of two sub-columns), changing every month.
class CentreTables : public chacra::Module {
 public:
  std::string name() const override { return "centre_tables"; }
  void setup(chacra::World& w, const chacra::ParamSet&, const chacra::rng::StreamSeed&) override {
    w.centres.add<float>("test_centre_income", "PEN", "Mean toy income of the centre", 1, true);
    w.centres.add<std::int32_t>("test_centre_counts", "households", "Households in states 0 and 1", 2, true);
    // Never set: every chunk all zero, so the writer skips it and the checksum marks it unwritten unlooked-up.
    w.centres.add<float>("test_centre_unused", "PEN", "A recorded centre column left at zero", 1, true);
  }
  static chacra::Phase phase() {
    return chacra::Phase::serial("centre_tables", [](chacra::World& w, const chacra::StepContext&) {
      auto* income = w.centres.get<float>("test_centre_income");
      auto* counts = w.centres.get<std::int32_t>("test_centre_counts");
      const auto* inc = w.households.get<float>("toy_income");
      const auto* state = w.households.get<std::uint8_t>("toy_state");
      for (std::size_t c = 0; c < w.centre_count(); ++c) {
        double sum = 0;
        counts[2 * c] = counts[2 * c + 1] = 0;
        for (std::uint32_t i = w.centre_first[c]; i < w.centre_first[c + 1]; ++i) {
          sum += inc[i];
          ++counts[2 * c + state[i]];
        }
        const auto n = w.centre_first[c + 1] - w.centre_first[c];
        income[c] = n > 0 ? static_cast<float>(sum / n) : 0.f;
      }
    });
  }
};

// The same with centre tables, whose chunks the writer also keeps, including one whose chunks it skipped.
TEST(EngineOutput, UnitChecksumWithCentreTablesFromTheWrittenChunksEqualsAReadBack) {
  const auto s = toy::scenario(20000, 1, 1, {{"none", -1}});
  const std::string out = temp_path("checksum_centres.h5");
  chacra::RunOptions o;
  o.output_path = out;
  o.force = true;
  o.threads = 2;
  chacra::run_scenario(s, [](const chacra::ParamSet& p) {
    chacra::Model m = toy::build(p);
    m.modules.push_back(std::make_unique<CentreTables>());
    m.month.push_back(CentreTables::phase());
    return m;
  }, o);
  chacra::h5::Handle f = chacra::h5::open_file_readonly(out);
  ASSERT_TRUE(chacra::h5::exists(f, "arms/none/replicate_0/centres/test_centre_counts"));
  const auto counts = chacra::h5::read_doubles(f, "arms/none/replicate_0/centres/test_centre_counts");
  EXPECT_GT(*std::max_element(counts.begin(), counts.end()), 0.0);
  {
    chacra::h5::Handle unused(H5Dopen2(f, "arms/none/replicate_0/centres/test_centre_unused", H5P_DEFAULT));
    chacra::h5::Handle space(H5Dget_space(unused));
    hsize_t stored = 1;
    ASSERT_GE(H5Dget_num_chunks(unused, space, &stored), 0);
    EXPECT_EQ(stored, 0u);  // the zero chunks were skipped, not written
  }
  chacra::h5::Handle unit = chacra::h5::open_group(f, "arms/none/replicate_0");
  EXPECT_EQ(chacra::h5::read_attr_string(unit, chacra::output::layout::kChecksum),
            chacra::output::group_checksum(unit));
  EXPECT_EQ(chacra::output::check_seal(f, "arms/none/replicate_0"), chacra::output::SealState::valid);
}

TEST(EngineOutput, QuarterlyFlowsSumTheMonths) {
  auto s = toy::scenario(500, 1, 1, {{"none", -1}});
  const std::string q = temp_path("q.h5"), m = temp_path("m.h5");
  run(s, q, 1);
  s.base.set("output.frequency", std::string("monthly"));
  run(s, m, 1);
  chacra::h5::Handle fq = chacra::h5::open_file_readonly(q), fm = chacra::h5::open_file_readonly(m);
  std::vector<hsize_t> dq, dm;
  const auto iq = chacra::h5::read_doubles(fq, "arms/none/replicate_0/panel/toy_income", &dq);
  const auto im = chacra::h5::read_doubles(fm, "arms/none/replicate_0/panel/toy_income", &dm);
  ASSERT_EQ(dm[0], 12u);
  ASSERT_EQ(dq[0], 4u);
  const std::size_t n = dq[1];
  for (std::size_t i = 0; i < n; i += 37)
    EXPECT_NEAR(iq[1 * n + i], im[3 * n + i] + im[4 * n + i] + im[5 * n + i], 1e-2);
  // Snapshot variables are the last month of the quarter.
  const auto sq = chacra::h5::read_doubles(fq, "arms/none/replicate_0/panel/toy_wealth");
  const auto sm = chacra::h5::read_doubles(fm, "arms/none/replicate_0/panel/toy_wealth");
  for (std::size_t i = 0; i < n; i += 37) EXPECT_EQ(sq[2 * n + i], sm[8 * n + i]);
}

TEST(EngineOutput, ExistingFileNeedsForceAndFailedRunLeavesNothing) {
  const auto s = toy::scenario(300, 1, 1, {{"none", -1}});
  const std::string out = temp_path("exists.h5");
  run(s, out, 1);
  const auto size = fs::file_size(out);
  chacra::RunOptions o;
  o.output_path = out;
  EXPECT_THROW(chacra::run_scenario(s, toy::build, o), chacra::OutputExists);
  EXPECT_EQ(fs::file_size(out), size);
  // A run that fails part-way leaves neither the final name nor the temporary one.
  const std::string failed = temp_path("failed.h5");
  o.output_path = failed;
  auto broken = [](const chacra::ParamSet& p) {
    chacra::Model m = toy::build(p);
    m.month.push_back(chacra::Phase::serial("fail", [](chacra::World&, const chacra::StepContext& c) {
      if (c.month == 5) throw std::runtime_error("boom");
    }));
    return m;
  };
  EXPECT_THROW(chacra::run_scenario(s, broken, o), std::runtime_error);
  EXPECT_FALSE(fs::exists(failed));
  EXPECT_FALSE(fs::exists(failed + ".partial"));
  // Unknown panel variables are refused before any file is created.
  auto bad = s;
  bad.base.set("output.variables", std::vector<std::string>{"toy_incme"});
  const std::string never = temp_path("never.h5");
  o.output_path = never;
  try {
    chacra::run_scenario(bad, toy::build, o);
    FAIL() << "expected ConfigError";
  } catch (const chacra::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("toy_income"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(never));
}

TEST(Population, DeterministicAndShapedForTheEvaluation) {
  chacra::ParamSet p(toy::registry());
  p.set("population.households", std::int64_t{20000});
  const chacra::World a = chacra::generate_population(p, 0);
  const chacra::World b = chacra::generate_population(p, 0);
  const chacra::World c = chacra::generate_population(p, 1);
  ASSERT_EQ(a.household_count(), 20000u);
  const auto* ua = a.households.get<float>("land_ha");
  const auto* ub = b.households.get<float>("land_ha");
  const auto* uc = c.households.get<float>("land_ha");
  std::size_t same_c = 0;
  for (std::size_t i = 0; i < a.household_count(); ++i) {
    ASSERT_EQ(ua[i], ub[i]);
    same_c += (i < c.household_count() && ua[i] == uc[i]);
  }
  EXPECT_LT(same_c, 100u);
  // Households sorted by centre; centres sorted by district; blocks cover everything once.
  const auto* centre = a.households.get<std::uint32_t>("centre");
  for (std::size_t cc = 0; cc < a.centre_count(); ++cc)
    for (auto i = a.centre_first[cc]; i < a.centre_first[cc + 1]; ++i) ASSERT_EQ(centre[i], cc);
  std::size_t covered = 0;
  for (const auto& blk : a.blocks) covered += blk.household_end - blk.household_begin;
  EXPECT_EQ(covered, a.household_count());
  // Centres on both sides of the 60% UBN threshold, and many small centres (the 40-household rule).
  const auto* ubn = a.centres.get<float>("ubn_share");
  const auto* size = a.centres.get<std::uint32_t>("households");
  std::size_t below = 0, above = 0, band_low = 0, band_high = 0, small = 0;
  for (std::size_t cc = 0; cc < a.centre_count(); ++cc) {
    below += ubn[cc] < 0.6f;
    above += ubn[cc] >= 0.6f;
    band_low += ubn[cc] >= 0.5f && ubn[cc] < 0.6f;
    band_high += ubn[cc] >= 0.6f && ubn[cc] < 0.7f;
    small += size[cc] < 40;
  }
  EXPECT_GT(band_low, a.centre_count() / 10);
  EXPECT_GT(band_high, a.centre_count() / 10);
  EXPECT_GT(below, 0u);
  EXPECT_GT(above, 0u);
  EXPECT_GT(small, a.centre_count() / 5);
  EXPECT_LT(small, a.centre_count() * 3 / 4);
  // Members: every household has a head with a plausible age.
  const auto* age = a.households.get<std::int16_t>("member_age_months");
  for (std::size_t i = 0; i < a.household_count(); ++i) ASSERT_GE(age[i * chacra::kMaxMembers], 16 * 12);
}

TEST(EngineInterrupt, InterruptKeepsOnlyPartialAndResumeMatchesUninterrupted) {
  const auto s = toy::scenario(1200, 2, 2, {{"none", -1}, {"programme", 1}});
  const std::string full = temp_path("full.h5"), cut = temp_path("cut.h5");
  run(s, full, 2);
  // Interrupt in the middle of the third unit (replicate 1, arm "none").
  int units_started = 0;
  auto interrupting = [&units_started](const chacra::ParamSet& p) {
    chacra::Model m = toy::build(p);
    const int unit = ++units_started;
    m.month.push_back(chacra::Phase::serial("interrupt", [unit](chacra::World&, const chacra::StepContext& c) {
      if (unit == 3 && c.month == 7) chacra::request_stop(SIGINT);
    }));
    return m;
  };
  chacra::RunOptions o;
  o.output_path = cut;
  o.force = true;
  try {
    chacra::run_scenario(s, interrupting, o);
    FAIL() << "expected Interrupted";
  } catch (const chacra::Interrupted& e) {
    EXPECT_EQ(e.signal(), SIGINT);
  }
  chacra::clear_stop();
  EXPECT_FALSE(fs::exists(cut)) << "an interrupted run must not leave a file that looks complete";
  ASSERT_TRUE(fs::exists(cut + ".partial"));
  o.resume = true;
  int resumed_units = 0;
  auto counting = [&resumed_units](const chacra::ParamSet& p) {
    ++resumed_units;
    return toy::build(p);
  };
  const auto r = chacra::run_scenario(s, counting, o);
  EXPECT_TRUE(fs::exists(cut));
  EXPECT_FALSE(fs::exists(cut + ".partial"));
  EXPECT_EQ(r.units.size(), 4u);
  EXPECT_EQ(h5test::read_all(cut, "arms"), h5test::read_all(full, "arms"));
  EXPECT_EQ(h5test::read_all(cut, "population"), h5test::read_all(full, "population"));
}

TEST(EngineInterrupt, ResumeRefusesADifferentScenario) {
  auto s = toy::scenario(600, 1, 2, {{"none", -1}});
  const std::string cut = temp_path("cut2.h5");
  int units = 0;
  auto interrupting = [&units](const chacra::ParamSet& p) {
    chacra::Model m = toy::build(p);
    const int unit = ++units;
    m.month.push_back(chacra::Phase::serial("interrupt", [unit](chacra::World&, const chacra::StepContext& c) {
      if (unit == 2 && c.month == 3) chacra::request_stop(SIGTERM);
    }));
    return m;
  };
  chacra::RunOptions o;
  o.output_path = cut;
  o.force = true;
  EXPECT_THROW(chacra::run_scenario(s, interrupting, o), chacra::Interrupted);
  chacra::clear_stop();
  ASSERT_TRUE(fs::exists(cut + ".partial"));
  s.base.set("run.seed", std::int64_t{99});
  o.resume = true;
  EXPECT_THROW(chacra::run_scenario(s, toy::build, o), chacra::ConfigError);
  EXPECT_TRUE(fs::exists(cut + ".partial"));
  EXPECT_FALSE(fs::exists(cut));
}

using chacra::test::FakeRanks;

// A population split by districts (docs/cluster.md): each rank's block is contiguous whole districts, the
// blocks tile the population in rank order, and every held household is bit for bit the household of the
// whole population (same global index), whatever the number of ranks, including more ranks than districts.
TEST(PopulationSplit, BlocksTileThePopulationWithTheSameHouseholds) {
  chacra::ParamSet p(toy::registry());
  p.set("population.households", std::int64_t{5000});
  p.set("population.districts", std::int64_t{11});
  p.set("population.block_households", std::int64_t{64});
  const chacra::World whole = chacra::generate_population(p, 0);
  for (int ranks : {1, 2, 3, 7, 13}) {
    std::uint32_t next_district = 0, next_household = 0;
    for (int rank = 0; rank < ranks; ++rank) {
      const FakeRanks comm(rank, ranks);
      const chacra::World part = chacra::generate_population(p, 0, comm);
      ASSERT_TRUE(part.split());
      EXPECT_EQ(part.total_households(), whole.household_count());
      EXPECT_EQ(part.district_begin(), next_district);
      EXPECT_EQ(part.household_begin(), next_household);
      EXPECT_EQ(part.centre_begin(), whole.district_first[part.district_begin()]);
      EXPECT_EQ(part.centre_end(), whole.district_first[part.district_end()]);
      EXPECT_EQ(part.household_end(), whole.centre_first[part.centre_end()]);
      next_district = part.district_end();
      next_household = static_cast<std::uint32_t>(part.household_end());
      // Every column of every held household, through the global-index pointers.
      for (std::size_t c = 0; c < whole.households.column_count(); ++c) {
        const auto& info = whole.households.info(c);
        for (std::size_t i = part.household_begin(); i < part.household_end(); ++i)
          for (int k = 0; k < info.width; ++k)
            ASSERT_EQ(part.households.value(c, i - part.household_begin(), k), whole.households.value(c, i, k))
                << info.name << " household " << i << " with " << ranks << " ranks";
      }
      const auto* land_part = part.households.get<float>("land_ha");
      const auto* land_whole = whole.households.get<float>("land_ha");
      for (std::size_t i = part.household_begin(); i < part.household_end(); ++i) ASSERT_EQ(land_part[i], land_whole[i]);
      // Held centres carry the household-derived centre columns; blocks cover exactly the held centres.
      const auto* ubn_part = part.centres.get<float>("ubn_share");
      const auto* ubn_whole = whole.centres.get<float>("ubn_share");
      for (std::size_t c = part.centre_begin(); c < part.centre_end(); ++c) ASSERT_EQ(ubn_part[c], ubn_whole[c]);
      std::size_t covered = 0;
      for (const auto& blk : part.blocks) {
        EXPECT_GE(blk.centre_begin, part.centre_begin());
        EXPECT_LE(blk.centre_end, part.centre_end());
        covered += blk.household_end - blk.household_begin;
      }
      EXPECT_EQ(covered, part.household_count());
    }
    EXPECT_EQ(next_district, whole.district_count());
    EXPECT_EQ(next_household, whole.household_count());
  }
}

namespace {

// The last rank of two, with the first rank's bytes known in advance: all_gather returns them, then its own.
class LastOfTwo : public chacra::Collective {
 public:
  explicit LastOfTwo(std::vector<char> first) : first_(std::move(first)) {}
  int size() const override { return 2; }
  int rank() const override { return 1; }
  std::vector<char> all_gather(const void* data, std::size_t bytes) const override {
    std::vector<char> out = first_;
    out.insert(out.end(), static_cast<const char*>(data), static_cast<const char*>(data) + bytes);
    return out;
  }

 private:
  std::vector<char> first_;
};

}  // namespace

// World::share_by_centre: every process fills its own centres' entries and receives every centre's, in centre
// order; a gather that does not tile the centres is a programming error. Identity in a world that is not split.
TEST(PopulationSplit, ShareByCentreGivesEveryProcessEveryCentre) {
  chacra::ParamSet p(toy::registry());
  p.set("population.households", std::int64_t{3000});
  p.set("population.districts", std::int64_t{6});
  const FakeRanks generator(1, 2);
  chacra::World w = chacra::generate_population(p, 0, generator);
  const std::size_t nc = w.centre_count();
  ASSERT_GT(w.centre_begin(), 0u);
  std::vector<std::uint32_t> first(w.centre_begin());
  for (std::uint32_t c = 0; c < first.size(); ++c) first[c] = 1000 + c;
  std::vector<char> bytes(first.size() * sizeof(std::uint32_t));
  std::memcpy(bytes.data(), first.data(), bytes.size());
  const LastOfTwo comm(bytes);
  w.collective = &comm;
  std::vector<std::uint32_t> values(nc, 0);
  for (std::size_t c = w.centre_begin(); c < w.centre_end(); ++c) values[c] = static_cast<std::uint32_t>(1000 + c);
  w.share_by_centre(values);
  for (std::size_t c = 0; c < nc; ++c) ASSERT_EQ(values[c], 1000 + c) << c;

  const LastOfTwo short_gather(std::vector<char>(sizeof(std::uint32_t)));
  w.collective = &short_gather;
  EXPECT_THROW(w.share_by_centre(values), std::logic_error);

  chacra::World whole = chacra::generate_population(p, 0);
  std::vector<double> mine(whole.centre_count(), 2.5);
  whole.share_by_centre(mine);
  EXPECT_EQ(mine, std::vector<double>(whole.centre_count(), 2.5));
}

// A global phase idle in a month is skipped and the block phases either side of it run as one pass: the same
// state as when the phase runs and does nothing, on any thread count, with fewer passes.
TEST(EngineIdlePhases, AnIdleGlobalPhaseDoesNotSplitTheMonth) {
  const auto s = toy::scenario(3000, 1, 1, {{"programme", 2}});
  const chacra::World population = chacra::generate_population(s.base, 0);
  const auto quarterly = [](const chacra::StepContext& ctx) { return ctx.month % 3 != 0; };
  auto run_months = [&](bool declare_idle, int threads, std::uint64_t& passes) {
    tbb::global_control gc(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
    chacra::World w = population;
    chacra::Model m = toy::build(s.arms[0].params);
    for (auto& mod : m.modules) mod->setup(w, s.arms[0].params, chacra::rng::StreamSeed{1, 0});
    const chacra::Phase sum = toy::ToyModule::district_sum();
    // The district sum every third month; in the other months it either does nothing or declares itself idle.
    chacra::Phase quarterly_sum = chacra::Phase::serial("toy.quarterly_sum", [sum, quarterly](chacra::World& world,
                                                                                                const chacra::StepContext& ctx) {
      if (!quarterly(ctx)) sum.global(world, ctx);
    });
    if (declare_idle) quarterly_sum = std::move(quarterly_sum).idle_when(quarterly);
    std::vector<chacra::Phase> month{m.month[0], quarterly_sum, m.month[0]};
    chacra::Stepper st(w, month, s.arms[0].params, chacra::rng::StreamSeed{1, 0});
    for (int k = 0; k < w.calendar.months; ++k) st.step(k);
    passes = st.passes();
    EXPECT_EQ(st.phase_active_months()[1], declare_idle ? 4 : 12);
    std::vector<float> out;
    for (const char* name : {"toy_income", "toy_wealth"}) {
      const float* v = w.households.get<float>(name);
      out.insert(out.end(), v, v + w.household_count());
    }
    return out;
  };
  std::uint64_t passes_always = 0, passes_idle = 0, passes_idle_4 = 0;
  const auto always = run_months(false, 1, passes_always);
  const auto idle = run_months(true, 1, passes_idle);
  const auto idle_4 = run_months(true, 4, passes_idle_4);
  EXPECT_EQ(passes_always, 24u);  // two passes a month
  EXPECT_EQ(passes_idle, 4u * 2 + 8u * 1);
  EXPECT_EQ(passes_idle_4, passes_idle);
  ASSERT_EQ(always.size(), idle.size());
  EXPECT_EQ(0, std::memcmp(always.data(), idle.data(), always.size() * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(always.data(), idle_4.data(), always.size() * sizeof(float)));
}
