// End-to-end tests of `chacra compare` and of the comparison printed by `chacra run`: the stored comparison
// equals the one recomputed from the file, and bad files and options give clear errors and exit statuses.
#include "cli_helpers.hpp"

#include "sim/output/h5.hpp"
#include "sim/output/reader.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
using clitest::run;

namespace {

const char* kScenario = R"(name: cmp
population: {households: 1500, districts: 6, seed: 11}
run: {start_year: 2017, years: 3, replicates: 2, seed: 5, reference_arm: none}
output: {frequency: yearly}
arms:
  - name: none
    set: {juntos.enabled: false, haku_winay.enabled: false}
  - name: juntos
    set: {haku_winay.enabled: false}
  - name: both
)";

std::size_t widest_line(const std::string& text) {
  std::size_t widest = 0, start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (const auto cr = line.rfind('\r'); cr != std::string::npos) line = line.substr(cr + 1);  // a progress bar
    widest = std::max(widest, line.size());
    start = end + 1;
  }
  return widest;
}

// One finished run shared by the tests of this file.
const std::string& finished_run() {
  static const std::string dir = [] {
    const auto d = clitest::temp_dir("compare");
    clitest::write_file(d, "cmp.yaml", kScenario);
    const auto r = run("run cmp.yaml -o out.h5 --threads 2", d);
    EXPECT_EQ(r.status, 0) << r.out;
    // The run prints the comparison at its end.
    EXPECT_NE(r.out.find("Comparison against 'none'"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("Monetary income, final year"), std::string::npos) << r.out;
    EXPECT_LE(widest_line(r.out), 100u) << "the run's summary fits 100 columns:\n" << r.out;
    EXPECT_EQ(r.out.find("e+0"), std::string::npos) << "fixed notation:\n" << r.out;
    return d;
  }();
  return dir;
}

}  // namespace

TEST(CliCompare, StoredComparisonEqualsRecomputed) {
  const auto& dir = finished_run();
  auto stored = run("compare out.h5 --format json", dir);
  ASSERT_EQ(stored.status, 0) << stored.out;
  auto recomputed = run("compare out.h5 --format json --recompute", dir);
  ASSERT_EQ(recomputed.status, 0) << recomputed.out;
  EXPECT_EQ(stored.out, recomputed.out);
  EXPECT_EQ(stored.out.front(), '[');
  for (const char* key : {"\"arm\": \"juntos\"", "\"reference\": \"none\"", "\"outcome\": \"income_monetary_pen\"",
                          "\"mean_effect\"", "\"ci_low\"", "\"ci_high\"", "\"subgroup\"", "\"n_replicates\": 2"})
    EXPECT_NE(stored.out.find(key), std::string::npos) << key;
  // The same with an explicit reference equal to the stored one, and as CSV.
  auto explicit_ref = run("compare out.h5 --format json --reference none", dir);
  EXPECT_EQ(explicit_ref.out, stored.out);
  auto csv = run("compare out.h5 --format csv", dir);
  ASSERT_EQ(csv.status, 0);
  EXPECT_EQ(csv.out.rfind("arm,reference,outcome,subgroup,statistic,mean_effect,ci_low,ci_high,n_replicates,unit", 0), 0u)
      << csv.out.substr(0, 200);
  // Another reference is computed from the panel.
  auto other = run("compare out.h5 --reference juntos", dir);
  ASSERT_EQ(other.status, 0) << other.out;
  EXPECT_NE(other.out.find("Comparison against 'juntos'"), std::string::npos) << other.out;
  auto table = run("compare out.h5", dir);
  ASSERT_EQ(table.status, 0);
  EXPECT_NE(table.out.find("Poverty headcount"), std::string::npos) << table.out;
}

// Each unit stores its own centre table (the arm's selection years, nuclei and activity at the end of each
// period) and its reach; codes get no household mean; run and compare print the reach.
TEST(CliCompare, ReachAndEachArmsCentreTableAreStoredAndPrinted) {
  const auto& dir = finished_run();
  chacra::output::Reader file(dir + "/out.h5");
  for (const std::string arm : {"none", "juntos", "both"})
    for (std::uint32_t r = 0; r < 2; ++r) {
      ASSERT_TRUE(file.has_reach(arm, r)) << arm;
      ASSERT_TRUE(file.has_centre_table(arm, r)) << arm;
      EXPECT_FALSE(file.has_aggregate(arm, r, "hw_cohort")) << "a code is never averaged";
      EXPECT_FALSE(file.has_aggregate(arm, r, "juntos_status"));
      EXPECT_TRUE(file.has_aggregate(arm, r, "hw_participant"));
      EXPECT_TRUE(file.panel(arm, r, "hw_cohort").variable().category);
    }
  const auto selected = [&](const std::string& arm) {
    const auto v = file.centre_table(arm, 0, "hw_selected_year").read_all();
    return static_cast<std::size_t>(std::count_if(v.begin(), v.end(), [](double y) { return y >= 2017; }));
  };
  EXPECT_EQ(selected("none"), 0u);
  EXPECT_GT(selected("both"), 0u) << "the arm's own selection, not a month-0 snapshot";
  const auto rows = chacra::output::reach_rows(file.reach("both", 0));
  double participants = -1, enrolled = -1;
  for (const auto& x : rows) {
    if (x.module == "haku_winay" && x.item == "participants") participants = x.value;
    if (x.module == "juntos" && x.item == "enrolled_households") enrolled = x.value;
  }
  EXPECT_GT(participants, 0);
  EXPECT_GT(enrolled, 0);
  const auto table = run("compare out.h5", dir);
  ASSERT_EQ(table.status, 0);
  EXPECT_NE(table.out.find("reach at the end of the run"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("haku_winay.participants"), std::string::npos) << table.out;
}

// A budget-neutral arm whose spend cannot be matched fails the run (exit status 1, nothing written) and says
// by how much it missed.
TEST(CliCompare, BudgetNeutralArmThatMissesItsToleranceFailsTheRun) {
  const auto dir = clitest::temp_dir("budget_miss");
  clitest::write_file(dir, "bn.yaml", R"(name: bn
population: {households: 800, districts: 4, seed: 11}
run: {start_year: 2017, years: 2, replicates: 1, seed: 5}
arms:
  - name: juntos
    set: {haku_winay.enabled: false}
  - name: hw_bn
    set: {juntos.enabled: false, haku_winay.last_cohort_year: 2017,
          budget.match_arm: juntos, budget.scale_parameter: haku_winay.eligible_share_per_year}
)");
  const auto r = run("run bn.yaml -o bn.h5 --threads 2", dir);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("arm 'hw_bn' does not match the spend of 'juntos'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("gap"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("could not be matched within budget.tolerance_households"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir + "/bn.h5"));
}

TEST(CliCompare, ByPeriodPrintsEachPeriodsEffect) {
  const auto& dir = finished_run();
  const auto table = run("compare out.h5 --by period", dir);
  ASSERT_EQ(table.status, 0) << table.out;
  EXPECT_NE(table.out.find("Monetary income by period"), std::string::npos) << table.out;
  for (const char* period : {" 2017 ", " 2018 ", " 2019 "}) EXPECT_NE(table.out.find(period), std::string::npos);
  const auto csv = run("compare out.h5 --by period --format csv", dir);
  ASSERT_EQ(csv.status, 0);
  EXPECT_EQ(csv.out.rfind("arm,reference,outcome,subgroup,statistic,period,mean_effect", 0), 0u) << csv.out.substr(0, 200);
  EXPECT_EQ(run("compare out.h5 --by period --format json", dir).out,
            run("compare out.h5 --by period --format json --recompute", dir).out);
  EXPECT_EQ(run("compare out.h5 --by year", dir).status, 2);
}

// The four arms of the interaction, small; the channels are switched by --set.
const char* kFourArms = R"(name: four
population: {households: 1200, districts: 6, seed: 13}
run: {start_year: 2017, years: 3, replicates: 3, seed: 5, reference_arm: no_programme}
output: {frequency: yearly}
arms:
  - name: no_programme
    set: {juntos.enabled: false, haku_winay.enabled: false}
  - name: juntos_only
    set: {haku_winay.enabled: false}
  - name: hw_only
    set: {juntos.enabled: false}
  - name: both
)";

// The interaction row of `outcome` (final year) in `chacra compare --format json`, or null.
nlohmann::json interaction_row(const std::string& json, const std::string& outcome) {
  for (const auto& r : nlohmann::json::parse(json))
    if (r["arm"] == "interaction" && r["outcome"] == outcome && r["statistic"] == "final_year") return r;
  return nullptr;
}

TEST(CliCompare, InteractionWithItsChannelsAndTheirAttribution) {
  const auto dir = clitest::temp_dir("interaction");
  clitest::write_file(dir, "four.yaml", kFourArms);
  auto r = run("run four.yaml -o on.h5 --threads 2 --set economy.liquidity.enabled=true", dir);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Interaction of the programmes"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Household-economy channels on: liquidity"), std::string::npos) << r.out;
  // The interaction section keeps the summary within 100 columns, like the rest of it.
  auto wide = run("compare on.h5", dir);
  ASSERT_EQ(wide.status, 0) << wide.out;
  std::istringstream lines(wide.out);
  for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 100u) << line;
  auto on = run("compare on.h5 --format json", dir);
  ASSERT_EQ(on.status, 0) << on.out;
  const auto income = interaction_row(on.out, "income_monetary_pen");
  ASSERT_FALSE(income.is_null()) << on.out.substr(0, 400);
  EXPECT_EQ(income["channels"], "liquidity");
  EXPECT_EQ(income["interval"], "t");
  EXPECT_EQ(income["n_replicates"], 3);
  EXPECT_FALSE(interaction_row(on.out, "debt_pen").is_null()) << "assets with the liquidity channel on";
  // The same scenario run with the channel off, on the same seeds: its interaction is what --by-channel finds
  // without the channel, to the bit (common random numbers, whichever arms run).
  r = run("run four.yaml -o off.h5 --threads 1 --quiet", dir);
  ASSERT_EQ(r.status, 0) << r.out;
  auto off = run("compare off.h5 --format json", dir);
  ASSERT_EQ(off.status, 0) << off.out;
  EXPECT_EQ(interaction_row(off.out, "income_monetary_pen")["channels"], "none (every economy.* channel off)");
  auto by = run("compare on.h5 --by-channel --format json --threads 2 --quiet", dir);
  ASSERT_EQ(by.status, 0) << by.out;
  bool seen = false;
  for (const auto& row : nlohmann::json::parse(by.out)) {
    if (row["outcome"] != "income_monetary_pen" && row["outcome"] != "consumption_pen") continue;
    if (row["statistic"] != "final_year") continue;
    seen = true;
    EXPECT_EQ(row["channel"], "liquidity");
    const std::string outcome = row["outcome"];
    EXPECT_EQ(row["without"].get<double>(), interaction_row(off.out, outcome)["mean_effect"].get<double>()) << outcome;
    EXPECT_EQ(row["interaction"].get<double>(), interaction_row(on.out, outcome)["mean_effect"].get<double>()) << outcome;
    EXPECT_NEAR(row["removed"].get<double>(), row["interaction"].get<double>() - row["without"].get<double>(), 1e-9);
    EXPECT_LE(row["ci_low"].get<double>(), row["removed"].get<double>());
    EXPECT_GE(row["ci_high"].get<double>(), row["removed"].get<double>());
  }
  EXPECT_TRUE(seen) << by.out.substr(0, 400);
  auto table = run("compare on.h5 --by-channel --quiet", dir);
  ASSERT_EQ(table.status, 0) << table.out;
  EXPECT_NE(table.out.find("Without liquidity (economy.liquidity.enabled=false)"), std::string::npos) << table.out;
  // Nothing to attribute with every channel off: a clear error, exit 2, nothing left behind.
  r = run("compare off.h5 --by-channel", dir);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("no household-economy channel was on"), std::string::npos) << r.out;
}

TEST(CliCompare, RecomputeProgressOffATerminalOnlyWhenAsked) {
  // Tests run without a terminal: recomputing prints no progress unless --progress, which logs lines with the
  // count (2 replicates x 3 arms read) and the ETA on stderr; a stored comparison reads no panel and has none.
  const auto& dir = finished_run();
  const auto stored = run("compare out.h5 --format json", dir);
  ASSERT_EQ(stored.status, 0) << stored.out;
  auto r = run("compare out.h5 --format json --recompute", dir);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.find("progress"), std::string::npos) << r.out.substr(0, 300);
  EXPECT_EQ(r.out.find('\r'), std::string::npos);
  r = run("compare out.h5 --format json --recompute --progress", dir);
  ASSERT_EQ(r.status, 0) << r.out;
  const auto line = r.out.find("progress: 100.0% (6 of 6 arm panels read, ");
  ASSERT_NE(line, std::string::npos) << r.out.substr(0, 300);
  EXPECT_NE(r.out.find("ETA", line), std::string::npos) << r.out.substr(0, 300);
  EXPECT_EQ(r.out.find('\r'), std::string::npos) << "no carriage returns in a log";
  // The lines go to stderr (together with stdout here): without them the output is the stored table's.
  std::string rest;
  std::size_t start = 0;
  while (start < r.out.size()) {
    auto end = r.out.find('\n', start);
    end = end == std::string::npos ? r.out.size() : end + 1;
    if (r.out.compare(start, 10, "progress: ") != 0) rest += r.out.substr(start, end - start);
    start = end;
  }
  EXPECT_EQ(rest, stored.out);
  r = run("compare out.h5 --format json --progress", dir);
  EXPECT_EQ(r.out, stored.out) << "the stored comparison reads no panel: no progress";
  r = run("compare out.h5 --format json --recompute --progress --quiet", dir);
  EXPECT_EQ(r.out, stored.out) << "--quiet wins";
}

TEST(CliCompare, BadOptionsExitTwo) {
  const auto& dir = finished_run();
  auto r = run("compare out.h5 --reference nope", dir);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("nope"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("none juntos both"), std::string::npos) << "the arms are listed: " << r.out;
  EXPECT_EQ(run("compare out.h5 --format xml", dir).status, 2);
  EXPECT_EQ(run("compare", dir).status, 2);
  EXPECT_EQ(run("compare out.h5 --refrence none", dir).status, 2);
  // --by-channel needs the four arms of the interaction; the file has none, juntos and both.
  r = run("compare out.h5 --by-channel", dir);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("no arm 'juntos_only': --by-channel needs the arms both, juntos_only, hw_only and no_programme"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(run("compare out.h5 --by-channel --reference none", dir).status, 2);
  EXPECT_EQ(run("compare out.h5 --threads 2", dir).status, 2);
  EXPECT_EQ(run("compare --help").status, 0);
  EXPECT_EQ(run("compare out.h5 --summary everything", dir).status, 2);
  EXPECT_EQ(run("compare out.h5 --format csv --summary full", dir).status, 2);
}

TEST(CliCompare, BriefAndFullTables) {
  // The default table holds the key outcomes within 100 columns; --summary full adds the others. Costs carry no
  // "+", effects do.
  const auto& dir = finished_run();
  auto brief = run("compare out.h5", dir);
  ASSERT_EQ(brief.status, 0) << brief.out;
  EXPECT_LE(widest_line(brief.out), 100u) << brief.out;
  EXPECT_NE(brief.out.find("Programme cost per household"), std::string::npos) << brief.out;
  EXPECT_EQ(brief.out.find("Income net of transfers"), std::string::npos) << brief.out;
  EXPECT_NE(brief.out.find("--summary full"), std::string::npos) << brief.out;
  auto full = run("compare out.h5 --summary full", dir);
  ASSERT_EQ(full.status, 0) << full.out;
  EXPECT_LE(widest_line(full.out), 100u) << full.out;
  EXPECT_NE(full.out.find("Income net of transfers"), std::string::npos) << full.out;
  const auto cost = brief.out.find("Programme cost per household");
  const auto block = brief.out.substr(cost, brief.out.find("\n\n", cost) - cost);
  EXPECT_EQ(block.find('+'), std::string::npos) << block;
  auto r = run("run cmp.yaml -o full.h5 --threads 2 --summary full --force", dir);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Income net of transfers"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("in HW"), std::string::npos) << r.out;
  EXPECT_LE(widest_line(r.out), 100u) << r.out;
  EXPECT_EQ(run("run cmp.yaml -o never.h5 --summary long", dir).status, 2);
  EXPECT_FALSE(fs::exists(dir + "/never.h5"));
}

TEST(CliCompare, MissingForeignAndTruncatedFilesExitOne) {
  const auto& dir = finished_run();
  auto r = run("compare no_such_file.h5", dir);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("cannot compare no_such_file.h5"), std::string::npos) << r.out;
  // Not HDF5 at all.
  clitest::write_file(dir, "text.h5", "this is not an HDF5 file\n");
  r = run("compare text.h5", dir);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("cannot compare text.h5"), std::string::npos) << r.out;
  // HDF5, but not a chacra output.
  {
    chacra::h5::quiet_errors();
    chacra::h5::Handle f = chacra::h5::create_file(dir + "/foreign.h5");
    chacra::h5::create_group(f, "data");
  }
  r = run("compare foreign.h5", dir);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("not a chacra output file"), std::string::npos) << r.out;
  // The first half of a real output.
  {
    std::ifstream in(dir + "/out.h5", std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(dir + "/truncated.h5", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  r = run("compare truncated.h5", dir);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("cannot compare truncated.h5"), std::string::npos) << r.out;
  r = run("compare truncated.h5 --recompute --format json", dir);
  EXPECT_EQ(r.status, 1) << r.out;
}

TEST(CliCompare, RunWithoutPanelSaysSoAndCompareExitsOne) {
  const auto dir = clitest::temp_dir("compare_nopanel");
  clitest::write_file(dir, "cmp.yaml", kScenario);
  auto r = run("run cmp.yaml -o nopanel.h5 --set output.panel=false --set run.replicates=1", dir);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("output.panel"), std::string::npos) << r.out;
  r = run("compare nopanel.h5", dir);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("output.panel: true"), std::string::npos) << r.out;
}

TEST(CliOutput, AllZeroChunksAreNotStoredAndReadAsZero) {
  // Chunks whose bytes are all zero (a programme's flows in an arm without it) are not written; the
  // datasets' fill value, zero, is what any reader gets (sim/runner.cpp, docs/performance.md).
  const auto& dir = finished_run();
  chacra::h5::Handle f = chacra::h5::open_file_readonly(dir + "/out.h5");
  const auto stored_chunks = [&](const std::string& path) {
    chacra::h5::Handle ds(H5Dopen2(f, path.c_str(), H5P_DEFAULT));
    chacra::h5::Handle space(H5Dget_space(ds));
    hsize_t n = 0;
    EXPECT_GE(H5Dget_num_chunks(ds, space, &n), 0) << path;
    return n;
  };
  const std::string off = "arms/none/replicate_0/panel/income_transfers_pen";
  const std::string on = "arms/juntos/replicate_0/panel/income_transfers_pen";
  EXPECT_EQ(stored_chunks(off), 0u);
  EXPECT_GT(stored_chunks(on), 0u);
  std::vector<hsize_t> dims;
  const auto zeros = chacra::h5::read_doubles(f, off, &dims);
  ASSERT_EQ(dims.size(), 2u);
  ASSERT_EQ(zeros.size(), dims[0] * dims[1]);
  EXPECT_TRUE(std::all_of(zeros.begin(), zeros.end(), [](double v) { return v == 0.0; }));
  const auto paid = chacra::h5::read_doubles(f, on);
  EXPECT_TRUE(std::any_of(paid.begin(), paid.end(), [](double v) { return v > 0.0; }));
}

// With the local markets on (economy.markets.enabled), the run stores and compare prints each arm's local income
// multiplier (nominal and real), the price and wage effects and the income of non-participants; the rows are in
// /comparison (the stored comparison equals the recomputed one) and the terminal table fits 100 columns.
TEST(CliCompare, LocalMarketsGiveMultipliersAndSpillovers) {
  const auto d = clitest::temp_dir("compare_markets");
  std::string scenario = kScenario;
  scenario.replace(scenario.find("arms:"), 5,
                   "economy: {welfare: {enabled: true}, markets: {enabled: true}}\narms:");
  clitest::write_file(d, "mk.yaml", scenario);
  const auto r = run("run mk.yaml -o mk.h5 --threads 2", d);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("Local income multiplier of programme spending, nominal"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Income of non-participants in programme centres"), std::string::npos) << r.out;
  EXPECT_LE(widest_line(r.out), 100u) << r.out;
  const auto stored = run("compare mk.h5 --format json", d);
  ASSERT_EQ(stored.status, 0) << stored.out;
  EXPECT_EQ(stored.out, run("compare mk.h5 --format json --recompute", d).out);
  const auto rows = nlohmann::json::parse(stored.out);
  double juntos_nominal = -1, juntos_real = -1;
  for (const auto& row : rows) {
    if (row["arm"] != "juntos" || row["outcome"] != "local_income_multiplier") continue;
    (row["statistic"] == "nominal" ? juntos_nominal : juntos_real) = row["mean_effect"].get<double>();
  }
  // Every sol transferred is local income at least once, and no LEWIE economy returns ten.
  EXPECT_GE(juntos_nominal, 0.95);
  EXPECT_LT(juntos_nominal, 10.0);
  EXPECT_GT(juntos_real, 0.5);
  // Without the markets there is no such row (a run without the channel is unchanged).
  const auto plain = run("compare out.h5 --format json", finished_run());
  EXPECT_EQ(plain.out.find("local_income_multiplier"), std::string::npos);

  // Each unit's local economies table (6 district economies, 36 monthly clearings, 3 arms, 2 replicates), exported
  // as economies.csv: money conserved in every row, no price below its farm-gate price, every period present.
  const auto ex = run("export mk.h5 --csv mk_csv --no-panel", d);
  ASSERT_EQ(ex.status, 0) << ex.out;
  std::ifstream csv(d + "/mk_csv/economies.csv");
  ASSERT_TRUE(csv.good()) << ex.out;
  std::string line;
  std::getline(csv, line);
  const auto split = [](const std::string& text) {
    std::vector<std::string> cells;
    std::stringstream ss(text);
    for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
    return cells;
  };
  const auto header = split(line);
  const auto at = [&header](const std::string& name) {
    const auto it = std::find(header.begin(), header.end(), name);
    EXPECT_NE(it, header.end()) << name;
    return static_cast<std::size_t>(it - header.begin());
  };
  const std::size_t arm = at("arm"), month = at("month"), imbalance = at("imbalance_pen"),
                    food = at("price_local_food"), wage = at("wage_index"), leakage = at("leakage_pen");
  std::size_t economy_rows = 0, juntos_rows = 0;
  std::set<int> months;
  for (; std::getline(csv, line); ++economy_rows) {
    const auto cells = split(line);
    ASSERT_EQ(cells.size(), header.size()) << line;
    EXPECT_LE(std::abs(std::stod(cells[imbalance])), 0.005) << line;
    EXPECT_GE(std::stod(cells[food]), 1.0 - 1e-12) << line;
    EXPECT_GE(std::stod(cells[wage]), 1.0 - 1e-12) << line;
    EXPECT_GT(std::stod(cells[leakage]), 0.0) << line;
    months.insert(std::stoi(cells[month]));
    juntos_rows += cells[arm] == "juntos";
  }
  EXPECT_EQ(economy_rows, 3u * 2u * 6u * 36u);
  EXPECT_EQ(juntos_rows, 2u * 6u * 36u);
  EXPECT_EQ(months.size(), 36u);
  // A run without the channel has no economies table, so no economies.csv.
  const auto plain_export = run("export out.h5 --csv plain_economies_csv --no-panel", finished_run());
  ASSERT_EQ(plain_export.status, 0) << plain_export.out;
  EXPECT_FALSE(std::filesystem::exists(finished_run() + "/plain_economies_csv/economies.csv"));
}
