// chacra calibrate's refusals and hand-over to the calibration engine, and --posterior of run and evaluate with the
// shipped ensemble (configs/calibration/posterior_2017.h5): rows recorded, the parameter/sampling split printed,
// every published effect shown with its role, a damaged file refused with exit status 2.
#include "cli_helpers.hpp"

#include <gtest/gtest.h>

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
  EXPECT_NE(r.out.find("5 fitted parameters, 6 calibration targets, 8 validation targets"), std::string::npos) << r.out;
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
