// End-to-end tests of the chacra command line: exit statuses, messages, and what is (not) written.
#include "cli_helpers.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace fs = std::filesystem;
using clitest::run;

TEST(Cli, HelpAndVersion) {
  auto r = run("--help");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("run [SCENARIO.yaml]"), std::string::npos);
  r = run("--version");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("commit"), std::string::npos);
  r = run("run --help");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("--threads"), std::string::npos);
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(run("frobnicate").status, 2);
  auto r = run("run --thread 4");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("did you mean '--threads'"), std::string::npos) << r.out;
  EXPECT_EQ(run("run --threads zero").status, 2);
  EXPECT_EQ(run("params --format yaml").status, 2);
}

TEST(Cli, DefaultRunWritesFileAndSummary) {
  const auto dir = clitest::temp_dir("default");
  auto r = run(std::string("run --quiet -o out.h5 ") + clitest::kSmallSet, dir);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(fs::exists(dir + "/out.h5"));
  EXPECT_FALSE(fs::exists(dir + "/out.h5.partial"));
  r = run(std::string("run -o out.h5 ") + clitest::kSmallSet, dir);
  EXPECT_EQ(r.status, 2) << "an existing output must not be overwritten without --force";
  EXPECT_NE(r.out.find("--force"), std::string::npos);
  r = run(std::string("run -o out.h5 --force ") + clitest::kSmallSet, dir);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("household-months"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no_programme"), std::string::npos) << r.out;
}

TEST(Cli, BadScenarioExitsTwoAndWritesNothing) {
  const auto dir = clitest::temp_dir("bad");
  const auto path = clitest::write_file(dir, "bad.yaml",
                                        "population:\n  housholds: 100\nrun:\n  years: -3\n");
  auto r = run("run bad.yaml -o bad.h5", dir);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("bad.yaml:2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("population.households"), std::string::npos) << r.out;  // the suggestion
  EXPECT_NE(r.out.find("run.years"), std::string::npos) << r.out;              // reported together
  EXPECT_FALSE(fs::exists(dir + "/bad.h5"));
  EXPECT_FALSE(fs::exists(dir + "/bad.h5.partial"));
  r = run("validate bad.yaml", dir);
  EXPECT_EQ(r.status, 2);
  r = run("run --set run.years=abc -o x.h5", dir);
  EXPECT_EQ(r.status, 2);
  EXPECT_FALSE(fs::exists(dir + "/x.h5"));
  r = run("run --set output.variables=[income_monetry_pen] -o y.h5 --quiet", dir);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("income_monetary_pen"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir + "/y.h5"));
}

TEST(Cli, ValidateShippedConfigs) {
  for (const auto& entry : fs::directory_iterator(std::string(CHACRA_SOURCE_DIR) + "/configs")) {
    if (entry.path().extension() != ".yaml") continue;
    auto r = run("validate '" + entry.path().string() + "'");
    EXPECT_EQ(r.status, 0) << entry.path() << "\n" << r.out;
  }
}

// A missing directory is bad input, found before any work (docs/reliability.md, "Files").
TEST(Cli, OutputInAMissingDirectoryIsRefusedBeforeRunning) {
  const auto dir = clitest::temp_dir("unwritable");
  auto r = run(std::string("run --quiet -o /nonexistent_dir/x.h5 ") + clitest::kSmallSet, dir);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("the directory /nonexistent_dir does not exist"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/nonexistent_dir/x.h5"), std::string::npos) << r.out;
}

TEST(Cli, ParamsFormatsAndGeneratedDocsAreCurrent) {
  auto r = run("params --format json");
  ASSERT_EQ(r.status, 0);
  EXPECT_EQ(r.out.front(), '[');
  EXPECT_NE(r.out.find("\"juntos.transfer_pen\""), std::string::npos);
  r = run("params --format markdown");
  ASSERT_EQ(r.status, 0);
  std::ifstream f(std::string(CHACRA_SOURCE_DIR) + "/docs/parameters.md");
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str(), r.out) << "docs/parameters.md is generated: run build/chacra params --format markdown > "
                                "docs/parameters.md";
  r = run("params");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("population.households"), std::string::npos);
}

TEST(Cli, ThreadCountDoesNotChangeOutput) {
  const auto dir = clitest::temp_dir("threads");
  ASSERT_EQ(run(std::string("run --quiet -o t1.h5 --threads 1 ") + clitest::kSmallSet, dir).status, 0);
  ASSERT_EQ(run(std::string("run --quiet -o t3.h5 --threads 3 ") + clitest::kSmallSet, dir).status, 0);
  // h5diff from hdf5-tools compares every dataset; provenance attributes (threads, times) are not data.
  const std::string cmd = "h5diff '" + dir + "/t1.h5' '" + dir + "/t3.h5' /arms /arms > /dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}
