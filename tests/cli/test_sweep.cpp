// End-to-end tests of `chacra sweep`: a design point gives the same bits as the standalone run with its values
// (common random numbers across points, thread counts and commands), a parameter an arm does not use gets
// exactly zero Sobol indices, --resume keeps finished points, and bad designs are refused with exit status 2.
#include "cli_helpers.hpp"

#include "sim/output/reader.hpp"
#include "sim/output/sweep.hpp"
#include "study/sweep.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;
using clitest::run;

namespace {

const char* kScenario = R"(name: sw
population: {households: 400, districts: 4, seed: 3}
run: {start_year: 2017, years: 3, replicates: 2, seed: 9, reference_arm: none}
output: {frequency: yearly}
arms:
  - name: none
    set: {juntos.enabled: false, haku_winay.enabled: false}
  - name: juntos
    set: {haku_winay.enabled: false}
  - name: both
)";

std::string scenario_dir(const std::string& name) {
  const auto d = clitest::temp_dir(name);
  clitest::write_file(d, "sw.yaml", kScenario);
  return d;
}

// Every aggregate of every arm and replicate of a run file equals the sweep's at point `point`, bit for bit.
void expect_point_equals_run(const std::string& sweep_path, std::size_t point, const std::string& run_path) {
  chacra::h5::quiet_errors();
  const chacra::output::Reader sweep(sweep_path), single(run_path);
  ASSERT_EQ(chacra::output::read_sweep_design(sweep.id()).arms, single.arms());
  const auto names = chacra::output::sweep_aggregate_variables(sweep.id());
  ASSERT_FALSE(names.empty());
  const auto& arms = single.arms();
  const auto reps = single.replicates(arms.front());
  for (const auto& name : names) {
    const auto all = chacra::output::sweep_aggregate(sweep.id(), name).read_all();
    for (std::size_t a = 0; a < arms.size(); ++a)
      for (std::size_t r = 0; r < reps.size(); ++r) {
        const auto one = single.aggregate(arms[a], reps[r], name).read_all();
        const std::size_t block = one.size();
        const std::size_t at = ((point * arms.size() + a) * reps.size() + r) * block;
        ASSERT_LE(at + block, all.size()) << name;
        for (std::size_t i = 0; i < block; ++i) {
          const double x = all[at + i], y = one[i];
          ASSERT_TRUE((std::isnan(x) && std::isnan(y)) || x == y)
              << name << " arm " << arms[a] << " replicate " << r << " value " << i << ": " << x << " vs " << y;
        }
      }
  }
}

}  // namespace

// A point of a sweep is the run with that point's values: the same bits whatever the thread count, the other
// points of the design, or whether it ran inside a sweep (common random numbers: differences along a sweep are
// effects, not noise).
TEST(CliSweep, APointIsTheStandaloneRunWithItsValues) {
  const auto dir = scenario_dir("sweep_point");
  auto a = run("sweep sw.yaml --vary juntos.transfer_pen=100:300:3 -o a.h5 -t 2", dir);
  ASSERT_EQ(a.status, 0) << a.out;
  EXPECT_NE(a.out.find("Effect on poverty_headcount (final_year) against 'none'"), std::string::npos) << a.out;
  EXPECT_FALSE(fs::exists(dir + "/a.h5.points")) << "the points' directory is removed once gathered";
  auto b = run("sweep sw.yaml --vary juntos.transfer_pen=200:300:2 --vary haku_winay.takeup_rate=0.72:0.72:1 -o b.h5 -t 1 -q", dir);
  ASSERT_EQ(b.status, 0) << b.out;
  auto single = run("run sw.yaml --set juntos.transfer_pen=200 -o single.h5 -t 1 -q", dir);
  ASSERT_EQ(single.status, 0) << single.out;
  // transfer 200 is point 1 of a (2 threads) and point 0 of b (1 thread; takeup at its default 0.72).
  expect_point_equals_run(dir + "/a.h5", 1, dir + "/single.h5");
  expect_point_equals_run(dir + "/b.h5", 0, dir + "/single.h5");
  // The design and every point's comparison read back; the effect grows with the transfer.
  chacra::h5::quiet_errors();
  chacra::h5::Handle f = chacra::h5::open_file_readonly(dir + "/a.h5");
  const auto s = chacra::study::read_sweep(f);
  ASSERT_EQ(s.design.size(), 3u);
  EXPECT_EQ(s.design.value(2, 0), 300.0);
  ASSERT_EQ(s.comparisons.size(), 3u);
  auto cost = [&](std::size_t p) {
    for (const auto& r : s.comparisons[p].rows)
      if (r.arm == "juntos" && r.outcome == "cost_per_household_pen" && r.subgroup == "all") return r.mean_effect;
    return std::nan("");
  };
  EXPECT_LT(cost(0), cost(1));
  EXPECT_LT(cost(1), cost(2));
}

// Sobol indices of a Saltelli sweep: with common random numbers, the Juntos-only arm's effects do not depend on
// Haku Wiñay's take-up at all, so its indices are exactly zero, while the transfer explains the Juntos effect.
TEST(CliSweep, SaltelliIndicesAreZeroForAParameterTheArmDoesNotUse) {
  const auto dir = scenario_dir("sweep_saltelli");
  clitest::write_file(dir, "design.yaml", R"(design: saltelli
parameters:
  juntos.transfer_pen: [100, 300]
  haku_winay.takeup_rate: [0.4, 0.9]
base_rows: 4
scramble: digital_shift
seed: 3
)");
  auto r = run("sweep sw.yaml --design design.yaml -r 1 -o s.h5 -t 2 --bootstrap 200 --outcome income_monetary_pen", dir);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Sobol indices of the effect on income_monetary_pen (final_year) against 'none'"),
            std::string::npos)
      << r.out;
  chacra::h5::quiet_errors();
  chacra::h5::Handle f = chacra::h5::open_file_readonly(dir + "/s.h5");
  const auto s = chacra::study::read_sweep(f);
  ASSERT_EQ(s.design.size(), 16u);  // N (k + 2)
  EXPECT_EQ(s.design.kind, chacra::study::DesignKind::saltelli);
  int takeup_rows = 0, transfer_rows = 0;
  for (const auto& row : s.sensitivity) {
    EXPECT_EQ(row.method, "sobol");
    EXPECT_EQ(row.reference, "none");
    if (row.arm == "juntos" && row.parameter == "haku_winay.takeup_rate") {
      ++takeup_rows;
      EXPECT_EQ(row.first, 0.0) << row.outcome << " " << row.statistic;
      EXPECT_EQ(row.total, 0.0) << row.outcome << " " << row.statistic;
    }
    if (row.arm == "juntos" && row.parameter == "juntos.transfer_pen" && row.outcome == "cost_per_household_pen" &&
        row.statistic == "horizon_total") {
      ++transfer_rows;
      EXPECT_GT(row.total, 0.5);
      EXPECT_LE(row.total_low, row.total);
      EXPECT_GE(row.total_high, row.total);
    }
  }
  EXPECT_GT(takeup_rows, 5);
  EXPECT_EQ(transfer_rows, 1);
  // The same rows as CSV: a header and one line per row.
  auto csv = run("sweep sw.yaml --design design.yaml -r 1 -o s2.h5 -t 2 --bootstrap 200 --format csv -q", dir);
  ASSERT_EQ(csv.status, 0) << csv.out;
  EXPECT_EQ(csv.out.rfind("arm,reference,outcome,subgroup,statistic,unit,parameter,method,first,first_low", 0), 0u);
  EXPECT_EQ(static_cast<std::size_t>(std::count(csv.out.begin(), csv.out.end(), '\n')), s.sensitivity.size() + 1);
}

// An interrupted sweep keeps its finished points in OUT.points/: --resume keeps those the same scenario made and
// gives the file an uninterrupted sweep gives; without --resume the command says what to do.
TEST(CliSweep, ResumeKeepsFinishedPoints) {
  const auto dir = scenario_dir("sweep_resume");
  const std::string vary = "--vary juntos.transfer_pen=100:300:3 -r 1";
  auto whole = run("sweep sw.yaml " + vary + " -o whole.h5 -q", dir);
  ASSERT_EQ(whole.status, 0) << whole.out;
  // A finished point 0 as an interrupted sweep leaves it: the run with point 0's values.
  fs::create_directories(dir + "/resumed.h5.points");
  auto p0 = run("run sw.yaml -r 1 --set juntos.transfer_pen=100 -o resumed.h5.points/point_000000.h5 -q", dir);
  ASSERT_EQ(p0.status, 0) << p0.out;
  auto refused = run("sweep sw.yaml " + vary + " -o resumed.h5", dir);
  EXPECT_EQ(refused.status, 2) << refused.out;
  EXPECT_NE(refused.out.find("--resume"), std::string::npos) << refused.out;
  auto resumed = run("sweep sw.yaml " + vary + " -o resumed.h5 --resume", dir);
  ASSERT_EQ(resumed.status, 0) << resumed.out;
  EXPECT_NE(resumed.out.find("(1 of 3 points kept from an earlier run)"), std::string::npos) << resumed.out;
  for (std::size_t p = 0; p < 3; ++p) {
    const auto single = "single" + std::to_string(p) + ".h5";
    auto r = run("run sw.yaml -r 1 --set juntos.transfer_pen=" + std::to_string(100 + 100 * p) + " -o " + single + " -q", dir);
    ASSERT_EQ(r.status, 0) << r.out;
    expect_point_equals_run(dir + "/resumed.h5", p, dir + "/" + single);
    expect_point_equals_run(dir + "/whole.h5", p, dir + "/" + single);
  }
  // A kept point from another scenario is refused.
  fs::create_directories(dir + "/other.h5.points");
  auto wrong = run("run sw.yaml -r 1 --set juntos.transfer_pen=150 -o other.h5.points/point_000000.h5 -q", dir);
  ASSERT_EQ(wrong.status, 0) << wrong.out;
  auto mismatch = run("sweep sw.yaml " + vary + " -o other.h5 --resume", dir);
  EXPECT_EQ(mismatch.status, 2) << mismatch.out;
  EXPECT_NE(mismatch.out.find("different scenario, design or settings"), std::string::npos) << mismatch.out;
  EXPECT_FALSE(fs::exists(dir + "/other.h5"));
}

TEST(CliSweep, BadDesignsExitTwoAndWriteNothing) {
  const auto dir = scenario_dir("sweep_bad");
  struct Case {
    std::string args, expected;
  };
  const Case cases[] = {
      {"sweep sw.yaml", "sweep needs a design"},
      {"sweep sw.yaml --vary juntos.transfer_pn=100:300:3", "did you mean 'juntos.transfer_pen'?"},
      {"sweep sw.yaml --vary juntos.transfer_pen=100:300000:3", "leaves the parameter's own [0, 100000]"},
      {"sweep sw.yaml --vary juntos.transfer_pen=300:100:3", "juntos.transfer_pen=100:300:3"},
      {"sweep sw.yaml --vary juntos.enabled=0:1:2", "a sweep varies numbers only"},
      {"sweep sw.yaml --vary run.years=2:4:3", "the same at every point"},
      {"sweep sw.yaml --vary juntos.transfer_pen=100:300:3 --vary juntos.transfer_pen=1:2:2", "varied twice"},
      {"sweep sw.yaml --vary juntos.transfer_pen=100:300:3 --design d.yaml", "not both"},
      {"sweep sw.yaml --vary juntos.transfer_pen=100:300:3 --reference nobody", "no arm named 'nobody'"},
      {"sweep sw.yaml --vary arms.nobody.juntos.transfer_pen=100:300:3", "design point 0"},
      {"sweep sw.yaml --vary juntos.transfer_pen=100:300:3 --format xml", "--format expects table, csv or json"},
      {"sweep sw.yaml --design missing.yaml", "cannot read the design file"},
  };
  for (const auto& c : cases) {
    const auto r = run(c.args + " -o out.h5", dir);
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.expected), std::string::npos) << c.args << "\n" << r.out;
  }
  // A design file's problems all at once, with line and column.
  clitest::write_file(dir, "bad.yaml", R"(design: saltelli
parameters:
  juntos.transfer_pn: [100, 300]
  haku_winay.takeup_rate: [0.5, 1.9]
base_row: 4
points: 3
)");
  const auto r = run("sweep sw.yaml --design bad.yaml -o out.h5", dir);
  EXPECT_EQ(r.status, 2) << r.out;
  for (const char* s : {"invalid design file bad.yaml", "bad.yaml:3:3: parameters.juntos.transfer_pn",
                        "bad.yaml:4:27: parameters.haku_winay.takeup_rate: the range [0.5, 1.9]",
                        "bad.yaml:5:1: base_row: unknown key (did you mean 'base_rows'?)",
                        "bad.yaml:6:1: points: does not apply to a saltelli design", "base_rows: missing"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << "\n" << r.out;
  // An existing output is not overwritten.
  clitest::write_file(dir, "taken.h5", "not ours");
  const auto taken = run("sweep sw.yaml --vary juntos.transfer_pen=100:300:2 -o taken.h5", dir);
  EXPECT_EQ(taken.status, 2) << taken.out;
  EXPECT_NE(taken.out.find("already exists"), std::string::npos) << taken.out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    EXPECT_TRUE(name == "sw.yaml" || name == "bad.yaml" || name == "taken.h5") << name << " was written";
  }
}
