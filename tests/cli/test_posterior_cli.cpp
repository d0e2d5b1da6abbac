// chacra calibrate's refusals and hand-over to the calibration engine, and --posterior of run and evaluate with the
// shipped ensemble (configs/calibration/posterior_2017.h5): rows recorded, the parameter/sampling split printed,
// every published effect shown with its role, a damaged file refused with exit status 2; compare's split of every
// effect into parameter and sampling uncertainty, and its plain word when a run had no posterior.
#include "cli_helpers.hpp"
#include "sim/output/h5.hpp"
#include "study/comparison.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>

using namespace clitest;

namespace {
const std::string kPosterior = std::string(CHACRA_SOURCE_DIR) + "/configs/calibration/posterior_2017.h5";
const std::string kProblem = std::string(CHACRA_SOURCE_DIR) + "/configs/calibration/chacra_2017.yaml";
}  // namespace

TEST(CliCalibrate, BadInputExitsTwo) {
  auto r = run("calibrate");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("a problem file is required"), std::string::npos) << r.out;
  r = run("calibrate /nonexistent/problem.yaml -o x");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("no such file"), std::string::npos) << r.out;
  r = run("calibrate '" + kProblem + "'");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("-o DIR is required"), std::string::npos) << r.out;
  // A problem the engine refuses (as many parameters as targets would do; here an unknown key) comes back as 2.
  const std::string dir = temp_dir("calibrate_bad");
  const std::string bad = write_file(dir, "bad.yaml", "name: x\nsimulater: {kind: chacra}\n");
  r = run("calibrate '" + bad + "' --check");
  EXPECT_EQ(r.status, 2) << r.out;
}

TEST(CliCalibrate, ChecksTheShippedProblem) {
  const auto r = run("calibrate '" + kProblem + "' --check");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("5 fitted parameters, 7 calibration targets, 8 validation targets"), std::string::npos) << r.out;
}

TEST(CliPosterior, EvaluateReportsEveryPublishedEffectWithItsRoleAndTheSplit) {
  const auto r = run("evaluate --posterior '" + kPosterior + "' -r 4 -q");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("sd param"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("targets fitted by the calibration: poverty_highlands_2017"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("targets not fitted (validation): income_itt"), std::string::npos) << r.out;
  for (const char* row : {"income ", "sprinkler_irrigation", "pasture_ha ", "control_mean_income"})
    EXPECT_NE(r.out.find(row), std::string::npos) << row;
}

TEST(CliPosterior, RunDrawsRowsPerPairAndRecordsThem) {
  const std::string dir = temp_dir("run_posterior");
  const auto r = run("run '" + std::string(CHACRA_SOURCE_DIR) + "/configs/calibration/baseline_2017.yaml' -o '" + dir +
                     "/p.h5' -r 4 --set population.households=1500 --posterior '" + kPosterior + "'");
  ASSERT_EQ(r.status, 0) << r.out;
  // One arm only: no effects to split, but the table's header says where the parameters came from.
  EXPECT_NE(r.out.find("posterior draws shared by pairs of replicates"), std::string::npos) << r.out;
  const std::string cmd = "h5dump -a /provenance/posterior_rows '" + dir + "/p.h5' 2>/dev/null | grep -q ','";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << "the rows of each replicate are recorded";
}

TEST(CliPosterior, ADamagedFileIsRefusedWithExitTwo) {
  const std::string dir = temp_dir("posterior_bad");
  const std::string bad = write_file(dir, "bad.h5", "not hdf5");
  auto r = run("evaluate --posterior '" + bad + "' -r 2 -q");
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--posterior"), std::string::npos) << r.out;
  r = run("run -r 2 --set population.households=500 -o '" + dir + "/x.h5' --posterior '" + bad + "'");
  EXPECT_EQ(r.status, 2) << r.out;
}

namespace {
// A posterior whose one parameter, the Juntos transfer, changes Juntos's effect on income a great deal from draw to
// draw, so a run that draws from it must show a parameter part; a run without it must show none.
std::string spread_posterior(const std::string& dir) {
  const std::string path = dir + "/transfer_posterior.h5";
  const chacra::h5::Handle file = chacra::h5::create_file(path);
  chacra::h5::write_attr(file.id(), "format", std::string("chacra-posterior"));
  chacra::h5::write_attr(file.id(), "format_version", 1LL);
  chacra::h5::write_attr(file.id(), "problem_name", std::string("test_spread"));
  const chacra::h5::Handle g = chacra::h5::create_group(file.id(), "posterior");
  chacra::h5::write_strings(g.id(), "parameter", {"juntos.transfer_pen"});
  const std::vector<double> draws = {0, 200, 400, 600, 800, 1000, 1200, 1400};
  const std::vector<double> weight(draws.size(), 1.0 / static_cast<double>(draws.size()));
  const std::vector<double> central = {700};
  chacra::h5::write_dataset(g.id(), "draws", chacra::ColumnType::f64, {draws.size(), 1}, draws.data());
  chacra::h5::write_dataset(g.id(), "weight", chacra::ColumnType::f64, {weight.size()}, weight.data());
  chacra::h5::write_dataset(g.id(), "central", chacra::ColumnType::f64, {1}, central.data());
  return path;
}

const char* kTwoArms =
    "name: split_test\npopulation: {households: 1200, districts: 6}\nrun: {start_year: 2017, years: 2, replicates: 8, "
    "seed: 3, reference_arm: no_programme}\noutput: {frequency: yearly}\narms:\n"
    "  - {name: no_programme, set: {juntos.enabled: false, haku_winay.enabled: false}}\n"
    "  - {name: juntos_only, set: {haku_winay.enabled: false}}\n";

const nlohmann::json* income_row(const nlohmann::json& rows) {
  for (const auto& r : rows)
    if (r["arm"] == "juntos_only" && r["outcome"] == "income_monetary_pen" && r["subgroup"] == "all" &&
        r["statistic"] == "final_year")
      return &r;
  return nullptr;
}
}  // namespace

TEST(CliPosterior, CompareShowsBothSourcesOfUncertaintyAndSaysWhenARunHadNoPosterior) {
  const std::string dir = temp_dir("compare_split");
  const std::string scenario = write_file(dir, "two_arms.yaml", kTwoArms);
  const std::string posterior = spread_posterior(dir);
  auto r = run("run '" + scenario + "' -o '" + dir + "/with.h5' -q --posterior '" + posterior + "'");
  ASSERT_EQ(r.status, 0) << r.out;
  r = run("run '" + scenario + "' -o '" + dir + "/without.h5' -q");
  ASSERT_EQ(r.status, 0) << r.out;

  // With the posterior: the transfer drawn per pair moves the income effect, so its parameter part is nonzero,
  // in the JSON, the CSV, the table and the stored /comparison alike.
  r = run("compare '" + dir + "/with.h5' --format json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto with = nlohmann::json::parse(r.out);
  const nlohmann::json* row = income_row(with);
  ASSERT_NE(row, nullptr);
  ASSERT_TRUE((*row)["sd_parameter"].is_number()) << row->dump();
  EXPECT_GT((*row)["sd_parameter"].get<double>(), 0.0) << row->dump();
  EXPECT_GT((*row)["sd_sampling"].get<double>(), 0.0) << row->dump();
  EXPECT_GT((*row)["parameter_share"].get<double>(), 0.2) << "the transfer drawn per pair moves the effect: "
                                                          << row->dump();
  EXPECT_EQ((*row)["posterior"], posterior);
  r = run("compare '" + dir + "/with.h5'");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Parameters drawn from the posterior " + posterior), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("of the variance"), std::string::npos) << r.out;
  r = run("compare '" + dir + "/with.h5' --format csv");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("sd_parameter,sd_sampling,parameter_share,posterior"), std::string::npos) << r.out;
  {
    const chacra::h5::Handle f = chacra::h5::open_file_readonly(dir + "/with.h5");
    const auto stored = chacra::study::read_comparison(f.id());
    EXPECT_EQ(stored.posterior, posterior);
    bool found = false;
    for (const auto& c : stored.rows)
      if (c.arm == "juntos_only" && c.outcome == "income_monetary_pen" && c.subgroup == "all" &&
          c.statistic == "final_year") {
        found = true;
        EXPECT_EQ(c.sd_parameter, (*row)["sd_parameter"].get<double>());
        EXPECT_GT(chacra::study::parameter_share(c), 0.2);
      }
    EXPECT_TRUE(found);
  }

  // Without: no parameter part anywhere, and the output says so.
  r = run("compare '" + dir + "/without.h5' --format json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto without = nlohmann::json::parse(r.out);
  ASSERT_NE(income_row(without), nullptr);
  for (const auto& x : without) {
    EXPECT_TRUE(x["sd_parameter"].is_null()) << x.dump();
    EXPECT_TRUE(x["parameter_share"].is_null()) << x.dump();
    EXPECT_EQ(x["posterior"], "none") << x.dump();
  }
  r = run("compare '" + dir + "/without.h5'");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("No posterior: the parameters are fixed"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("of the variance"), std::string::npos) << r.out;
}
