// End-to-end tests of the chacra command line: exit statuses, messages, and what is (not) written.
#include "cli_helpers.hpp"

#include "app/progress.hpp"

#include <gtest/gtest.h>

#include <algorithm>

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

TEST(Cli, ParamsFilterAndWrap) {
  // Every line of the default listing fits 100 columns (--width sets another).
  auto r = run("params");
  ASSERT_EQ(r.status, 0);
  std::istringstream lines(r.out);
  std::size_t widest = 0;
  for (std::string line; std::getline(lines, line);) widest = std::max(widest, line.size());
  EXPECT_LE(widest, 100u);
  r = run("params --width 60");
  std::istringstream narrow(r.out);
  for (std::string line; std::getline(narrow, line);) {
    const auto text = line.find_first_not_of(' ');
    // A line of several words fits; a single word longer than the width stands alone.
    if (text != std::string::npos && line.find(' ', text) != std::string::npos) {
      EXPECT_LE(line.size(), 60u) << line;
    }
  }
  // A section selects its parameters and nothing else.
  r = run("params juntos --format json");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("\"juntos.transfer_pen\""), std::string::npos);
  EXPECT_EQ(r.out.find("\"population.households\""), std::string::npos);
  // The start of a name.
  r = run("params juntos.transfer");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("juntos.transfer_pen = 200"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.rfind("juntos.transfer", 0), 0u) << r.out;
  EXPECT_EQ(r.out.find("\njuntos.base"), std::string::npos) << r.out;
  // Other text searches descriptions and sources, in any case.
  r = run("params --search MIDIS --format table");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("juntos.transfer_pen"), std::string::npos);
  r = run("params yachachiq --format table");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_GT(std::count(r.out.begin(), r.out.end(), '\n'), 1);
  // Nothing matches, a filter on the Markdown, both forms at once: usage errors.
  r = run("params juntos.transfr_pen");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("did you mean 'juntos.transfer_pen'"), std::string::npos) << r.out;
  EXPECT_EQ(run("params juntos --format markdown").status, 2);
  EXPECT_EQ(run("params juntos --search transfer").status, 2);
  EXPECT_EQ(run("params --width 5").status, 2);
}

TEST(Cli, ThreadCountDoesNotChangeOutput) {
  const auto dir = clitest::temp_dir("threads");
  ASSERT_EQ(run(std::string("run --quiet -o t1.h5 --threads 1 ") + clitest::kSmallSet, dir).status, 0);
  ASSERT_EQ(run(std::string("run --quiet -o t3.h5 --threads 3 ") + clitest::kSmallSet, dir).status, 0);
  // h5diff from hdf5-tools compares every dataset; provenance attributes (threads, times) are not data.
  const std::string cmd = "h5diff '" + dir + "/t1.h5' '" + dir + "/t3.h5' /arms /arms > /dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0);
}

TEST(Cli, EvaluateProgressOffATerminalOnlyWhenAsked) {
  // Tests run without a terminal: no progress unless --progress, which logs lines with the count and the ETA.
  auto r = run("evaluate --replicates 2 --format json");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.find("progress"), std::string::npos) << r.out.substr(0, 300);
  EXPECT_EQ(r.out.find('\r'), std::string::npos);
  r = run("evaluate --replicates 2 --format json --progress");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("progress: 100.0% (2 of 2 replicates"), std::string::npos) << r.out.substr(0, 300);
  EXPECT_NE(r.out.find("ETA"), std::string::npos);
  EXPECT_EQ(r.out.find('\r'), std::string::npos) << "no carriage returns in a log";
}

TEST(Cli, PopulationSummaryProgressOffATerminalOnlyWhenAsked) {
  auto r = run("population summary -r 2 --format json --set population.households=2000");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.find("progress"), std::string::npos) << r.out.substr(0, 300);
  EXPECT_EQ(r.out.find('\r'), std::string::npos);
  r = run("population summary -r 2 --format json --set population.households=2000 --progress");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto line = r.out.find("progress: 100.0% (2 of 2 populations, ");
  ASSERT_NE(line, std::string::npos) << r.out.substr(0, 300);
  EXPECT_NE(r.out.find("ETA", line), std::string::npos);
  EXPECT_EQ(r.out.find('\r'), std::string::npos) << "no carriage returns in a log";
  r = run("population summary -r 2 --format json --set population.households=2000 --progress --quiet");
  EXPECT_EQ(r.out.find("progress"), std::string::npos) << "--quiet wins";
}

TEST(Cli, DurationsForPeople) {
  EXPECT_EQ(chacra::cli::format_duration(44.6), "45s");
  EXPECT_EQ(chacra::cli::format_duration(725), "12m05s");
  EXPECT_EQ(chacra::cli::format_duration(11220), "3h07m");
  EXPECT_EQ(chacra::cli::format_duration(-1), "?");
}

// chacra population summary: the tables, JSON, both geographies, and usage errors of a subcommand (exit 2,
// the nearest option named), including a bad parameter value and a missing subcommand.
TEST(Cli, PopulationSummary) {
  auto r = run("population summary --threads 2");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("independent geography"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Juntos share across centres"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Ranking the centres eligible under rule_2017"), std::string::npos) << r.out;
  r = run("population summary --format json --set population.geography=correlated -r 2");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("\"geography\": \"correlated\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"replicates\": 2"), std::string::npos) << r.out;
  r = run("population summary --replicate 2");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("did you mean '--replicates'"), std::string::npos) << r.out;
  r = run("population summary --set population.geography=clustered");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("population.geography"), std::string::npos) << r.out;
  EXPECT_EQ(run("population summary --format xml").status, 2);
  r = run("population");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("population summary"), std::string::npos) << r.out;
  EXPECT_EQ(run("population summary no_such_file.yaml").status, 2);
}
