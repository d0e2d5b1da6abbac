// File: tests/study/test_comparison.cpp
// Policy comparison and budget-neutral arms: identical arms give exact zeros, a programme confined to one
// district changes no household elsewhere, budget-matched arms spend the same within one household's cost,
// the comparison stored in the file equals the one computed from it, and hand-made panels give the exact
// effects, Gini and quantiles expected.
#include "study/budget.hpp"
#include "study/comparison.hpp"
#include "models/hw_targeting.hpp"
#include "models/registry.hpp"
#include "study/registry.hpp"
#include "models/shared_state.hpp"
#include "sim/output/h5.hpp"
#include "sim/population.hpp"
#include "sim/runner.hpp"
#include "sim/scenario.hpp"
#include "study/stats.hpp"
#include "tests/scratch_dir.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <set>

namespace chacra {
namespace {

namespace fs = std::filesystem;
using study::ComparisonRow;
using study::ComparisonTable;

// The full registry, with the budget.* and comparison.* parameters.
const Registry& reg() { return study::registry(); }

ModelBuilder builder() {
  return [](const ParamSet& p) { return models::build_model(p); };
}

std::string temp_path(const std::string& name) { return chacra::test::scratch_path(name); }

// Runs a scenario to `path` with the comparison written at the end, as `chacra run` does.
study::RunComparison run_to_file(const Scenario& s, const std::string& path) {
  RunOptions opts;
  opts.output_path = path;
  opts.force = true;
  opts.threads = 2;
  study::RunComparison cmp;
  opts.finalize = [&](hid_t file, RunResult&) { study::finalize_run_comparison(file, cmp); };
  run_scenario(s, builder(), opts);
  return cmp;
}

const ComparisonRow* find_row(const ComparisonTable& t, const std::string& arm, const std::string& outcome,
                              const std::string& subgroup, const std::string& statistic) {
  for (const auto& r : t.rows)
    if (r.arm == arm && r.outcome == outcome && r.subgroup == subgroup && r.statistic == statistic) return &r;
  return nullptr;
}

// compare_file on `file` must throw ComparisonError whose message contains `needle`.
void expect_comparison_error(hid_t file, const std::string& needle) {
  try {
    study::compare_file(file, "");
    ADD_FAILURE() << "expected ComparisonError containing '" << needle << "'";
  } catch (const study::ComparisonError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

const char* kSmall = R"(
population: {households: 2000, districts: 4, seed: 7}
run: {start_year: 2017, years: 3, replicates: 2, seed: 3}
output: {frequency: yearly}
)";

TEST(Comparison, IdenticalArmsGiveExactZeroEffects) {
  const std::string yaml = std::string("name: same\n") + kSmall + R"(
arms:
  - name: a
  - name: b
    description: the same parameters as a
)";
  const Scenario s = load_scenario_text(yaml, "<test>", reg());
  const std::string path = temp_path("identical.h5");
  const auto cmp = run_to_file(s, path);
  ASSERT_TRUE(cmp.available) << cmp.note;
  const ComparisonTable& t = cmp.table;
  EXPECT_EQ(t.reference, "a");  // run.reference_arm empty: the first arm
  EXPECT_EQ(t.replicates, 2);
  ASSERT_FALSE(t.rows.empty());
  std::set<std::string> outcomes;
  for (const auto& r : t.rows) {
    EXPECT_EQ(r.arm, "b");
    outcomes.insert(r.outcome);
    if (r.n_replicates == 0) {
      // Only ratios over a spending difference are undefined when nothing differs.
      EXPECT_TRUE(r.outcome == "income_gain_per_pen" || r.outcome == "earned_income_gain_per_pen" ||
                  r.outcome.rfind("cost_per_", 0) == 0 || r.outcome == "business_survival")
          << r.outcome << " " << r.statistic;
      continue;
    }
    EXPECT_EQ(r.mean_effect, 0.0) << r.outcome << " " << r.subgroup << " " << r.statistic;
    EXPECT_EQ(r.ci_low, 0.0) << r.outcome << " " << r.subgroup << " " << r.statistic;
    EXPECT_EQ(r.ci_high, 0.0) << r.outcome << " " << r.subgroup << " " << r.statistic;
    if (std::isfinite(r.arm_value)) {
      EXPECT_EQ(r.arm_value, r.reference_value) << r.outcome;
    }
  }
  for (const char* o : {"income_monetary_pen", "consumption_pen", "poverty_headcount", "poverty_headcount_households",
                        "extreme_poverty_headcount", "poverty_gap", "technologies_adopted", "gini_pc_income",
                        "total_cost_pen", "adopted_vegetable_garden", "persistence_all_technologies"})
    EXPECT_TRUE(outcomes.count(o)) << o;
  const ComparisonRow* q = find_row(t, "b", "income_monetary_pen", "all", "paired_difference_q90");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->mean_effect, 0.0);
  EXPECT_NE(find_row(t, "b", "income_monetary_pen", "baseline_income_q5", "final_year"), nullptr);
  EXPECT_NE(find_row(t, "b", "poverty_headcount", "water_access", "horizon_mean"), nullptr);
  fs::remove(path);
}

TEST(Comparison, ProgrammeInOneDistrictChangesNoHouseholdElsewhere) {
  // Find a district with centres eligible for HW under the 2017 rule.
  const std::string base_yaml = std::string("name: one_district\n") + kSmall;
  Scenario probe = load_scenario_text(base_yaml, "<test>", reg());
  const World world = generate_population(probe.base, 0);
  const models::TargetingRule rule = models::TargetingRule::from(probe.base);
  const auto profiles = models::centre_profiles(world, rule);
  const auto* c_district = world.centres.get(models::col::centre_district);
  std::map<std::uint32_t, int> eligible;
  for (std::size_t c = 0; c < profiles.size(); ++c)
    if (models::centre_eligible(rule, profiles[c])) ++eligible[c_district[c]];
  ASSERT_FALSE(eligible.empty());
  std::uint32_t d = eligible.begin()->first;
  for (const auto& [district, count] : eligible)
    if (count > eligible[d]) d = district;

  const std::string yaml = base_yaml + "haku_winay.eligible_share_per_year: 1.0\narms:\n"
                                       "  - name: no_hw\n    set: {haku_winay.enabled: false}\n"
                                       "  - name: hw_one_district\n    set: {haku_winay.only_district: " +
                           std::to_string(d) + "}\n";
  const Scenario s = load_scenario_text(yaml, "<test>", reg());
  const std::string path = temp_path("one_district.h5");
  run_to_file(s, path);

  h5::Handle f = h5::open_file_readonly(path);
  for (int r = 0; r < 2; ++r) {
    const std::string rep = "replicate_" + std::to_string(r);
    const auto district = h5::read_doubles(f, "population/" + rep + "/households/district");
    const std::size_t n = district.size();
    h5::Handle panel = h5::open_group(f, "arms/no_hw/" + rep + "/panel");
    std::size_t changed_inside = 0, variables = 0;
    for (const auto& var : h5::list(panel)) {
      std::vector<hsize_t> dims;
      const auto a = h5::read_doubles(f, "arms/no_hw/" + rep + "/panel/" + var, &dims);
      const auto b = h5::read_doubles(f, "arms/hw_one_district/" + rep + "/panel/" + var);
      ASSERT_EQ(a.size(), b.size());
      ASSERT_EQ(dims[1], n);
      const std::size_t width = dims.size() > 2 ? dims[2] : 1;
      ++variables;
      for (std::size_t p = 0; p < dims[0]; ++p)
        for (std::size_t i = 0; i < n; ++i)
          for (std::size_t k = 0; k < width; ++k) {
            const std::size_t at = (p * n + i) * width + k;
            const bool same = a[at] == b[at] || (std::isnan(a[at]) && std::isnan(b[at]));
            if (static_cast<std::uint32_t>(district[i]) != d) {
              ASSERT_TRUE(same) << var << " of household " << i << " (district " << district[i]
                                << ") changed in period " << p << ": " << a[at] << " vs " << b[at];
            } else if (!same) {
              ++changed_inside;
            }
          }
    }
    EXPECT_GT(variables, 10u);
    // The district was chosen for its eligible centres in replicate 0's population.
    if (r == 0) {
      EXPECT_GT(changed_inside, 0u) << "the programme should change households of district " << d;
    }
  }
  // The comparison sees the programme's cost.
  const ComparisonTable t = study::compare_file(f, "no_hw");
  const ComparisonRow* cost = find_row(t, "hw_one_district", "hw_cost_per_household_pen", "all", "horizon_total");
  ASSERT_NE(cost, nullptr);
  EXPECT_GT(cost->mean_effect, 0.0);
  f.close();
  fs::remove(path);
}

TEST(Comparison, StoredComparisonEqualsComputedAndFormats) {
  const std::string yaml = std::string("name: stored\n") + kSmall + R"(
run.reference_arm: none
arms:
  - name: juntos
    set: {haku_winay.enabled: false}
  - name: none
    set: {juntos.enabled: false, haku_winay.enabled: false}
  - name: both
)";
  const Scenario s = load_scenario_text(yaml, "<test>", reg());
  const std::string path = temp_path("stored.h5");
  const auto cmp = run_to_file(s, path);
  ASSERT_TRUE(cmp.available);
  EXPECT_EQ(cmp.table.reference, "none");
  h5::Handle f = h5::open_file_readonly(path);
  ASSERT_TRUE(study::has_comparison(f));
  const ComparisonTable stored = study::read_comparison(f);
  const ComparisonTable computed = study::compare_file(f, "");
  EXPECT_TRUE(stored == cmp.table);
  EXPECT_TRUE(computed == stored);
  for (const char* fmt : {"table", "csv", "json"})
    EXPECT_EQ(study::format_comparison(stored, fmt), study::format_comparison(cmp.table, fmt)) << fmt;
  // Juntos transfers raise income and cost; the JSON form names every field.
  const ComparisonRow* inc = find_row(stored, "juntos", "income_monetary_pen", "all", "final_year");
  ASSERT_NE(inc, nullptr);
  EXPECT_GT(inc->mean_effect, 0.0);
  EXPECT_EQ(inc->interval, "t");
  EXPECT_LE(inc->ci_low, inc->mean_effect);
  EXPECT_GE(inc->ci_high, inc->mean_effect);
  const std::string json = study::format_comparison(stored, "json");
  for (const char* key : {"\"arm\"", "\"reference\"", "\"outcome\"", "\"subgroup\"", "\"statistic\"", "\"mean_effect\"",
                          "\"ci_low\"", "\"ci_high\"", "\"n_replicates\"", "\"unit\""})
    EXPECT_NE(json.find(key), std::string::npos) << key;
  EXPECT_NE(study::format_comparison(stored, "table").find("Comparison against 'none'"), std::string::npos);
  EXPECT_GT(study::format_comparison(stored, "table", true).size(), study::format_comparison(stored, "table").size());
  EXPECT_THROW(study::format_comparison(stored, "xml"), std::invalid_argument);
  // Another reference, and one that is not an arm.
  const ComparisonTable vs_juntos = study::compare_file(f, "juntos");
  EXPECT_EQ(vs_juntos.reference, "juntos");
  EXPECT_NE(find_row(vs_juntos, "none", "income_monetary_pen", "all", "final_year"), nullptr);
  try {
    study::compare_file(f, "nope");
    ADD_FAILURE() << "expected UnknownArmError";
  } catch (const study::UnknownArmError& e) {
    EXPECT_EQ(e.arms(), (std::vector<std::string>{"juntos", "none", "both"}));
  }
  f.close();
  fs::remove(path);
}

// The effects per period: one row per arm, outcome and period; a household mean's horizon_mean effect is the
// mean of its period effects (flows as yearly rates, states as levels), a person-weighted one lies within them,
// and with yearly output the last period's level of a flow is its final-year level.
TEST(Comparison, EffectsByPeriodAverageToTheHorizon) {
  const std::string yaml = R"(name: periods
population: {households: 2000, districts: 4, seed: 7}
run: {start_year: 2017, years: 4, replicates: 2, seed: 3, reference_arm: none}
output: {frequency: yearly}
arms:
  - name: none
    set: {juntos.enabled: false, haku_winay.enabled: false}
  - name: both
)";
  const Scenario s = load_scenario_text(yaml, "<test>", reg());
  const std::string path = temp_path("periods.h5");
  const auto cmp = run_to_file(s, path);
  ASSERT_TRUE(cmp.available);
  const ComparisonTable& t = cmp.table;
  const std::vector<std::string> periods = {"2017", "2018", "2019", "2020"};
  std::size_t household_means = 0, person_weighted = 0;
  for (const auto& h : t.rows) {
    if (h.subgroup != "all" || h.statistic != "horizon_mean" || !std::isfinite(h.mean_effect)) continue;
    std::vector<const ComparisonRow*> by;
    for (const auto& r : t.period_rows)
      if (r.arm == h.arm && r.outcome == h.outcome) by.push_back(&r);
    if (h.outcome == "gini_pc_income") continue;  // not a sum over households
    ASSERT_EQ(by.size(), periods.size()) << h.outcome;
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    for (std::size_t p = 0; p < by.size(); ++p) {
      EXPECT_EQ(by[p]->period, periods[p]);
      EXPECT_EQ(by[p]->statistic, "period");
      EXPECT_EQ(by[p]->unit, h.unit);
      EXPECT_EQ(by[p]->n_replicates, 2);
      sum += by[p]->mean_effect, lo = std::min(lo, by[p]->mean_effect), hi = std::max(hi, by[p]->mean_effect);
    }
    if (h.unit.find("persons") != std::string::npos) {
      ++person_weighted;
      EXPECT_GE(h.mean_effect, lo - 1e-12) << h.outcome;
      EXPECT_LE(h.mean_effect, hi + 1e-12) << h.outcome;
    } else {
      ++household_means;
      EXPECT_NEAR(sum / 4.0, h.mean_effect, 1e-9 * std::max(1.0, std::abs(h.mean_effect))) << h.outcome;
    }
  }
  EXPECT_GT(household_means, 5u);
  EXPECT_GT(person_weighted, 1u);
  const ComparisonRow* fin = find_row(t, "both", "income_monetary_pen", "all", "final_year");
  ASSERT_NE(fin, nullptr);
  for (const auto& r : t.period_rows)
    if (r.arm == "both" && r.outcome == "income_monetary_pen" && r.period == "2020") {
      EXPECT_NEAR(r.mean_effect, fin->mean_effect, 1e-9 * std::abs(fin->mean_effect));
      EXPECT_LE(r.ci_low, r.mean_effect);
      EXPECT_GE(r.ci_high, r.mean_effect);
    }
  // Stored apart and read back bit for bit; the forms.
  h5::Handle f = h5::open_file_readonly(path);
  EXPECT_TRUE(study::has_period_comparison(f));
  EXPECT_TRUE(study::read_comparison(f).period_rows == t.period_rows);
  EXPECT_NE(study::format_comparison_by_period(t, "table").find("Monetary income by period"), std::string::npos);
  EXPECT_EQ(study::format_comparison_by_period(t, "csv").rfind("arm,reference,outcome,subgroup,statistic,period,", 0), 0u);
  EXPECT_NE(study::format_comparison_by_period(t, "json").find("\"period\": \"2019\""), std::string::npos);
  f.close();
  fs::remove(path);
}

TEST(Comparison, NoPanelIsReportedNotFatal) {
  const std::string yaml = std::string("name: nopanel\n") + R"(
population: {households: 500, districts: 2, seed: 7}
run: {start_year: 2017, years: 1, replicates: 1, seed: 3}
output: {frequency: yearly, panel: false}
arms:
  - name: a
  - name: b
)";
  const Scenario s = load_scenario_text(yaml, "<test>", reg());
  const std::string path = temp_path("nopanel.h5");
  const auto cmp = run_to_file(s, path);
  EXPECT_FALSE(cmp.available);
  EXPECT_NE(cmp.note.find("output.panel"), std::string::npos) << cmp.note;
  h5::Handle f = h5::open_file_readonly(path);
  EXPECT_FALSE(study::has_comparison(f));
  expect_comparison_error(f, "output.panel");
  f.close();
  fs::remove(path);
}

// ---------------------------------------------------------------------------------------------------------
// Budget-neutral arms.

// Total programme spend of an arm's replicate 0 and its households with any spending, from the file.
std::pair<double, std::size_t> file_spend(hid_t f, const std::string& arm) {
  std::vector<hsize_t> dims;
  const auto cj = h5::read_doubles(f, "arms/" + arm + "/replicate_0/panel/cost_juntos_pen", &dims);
  const auto ch = h5::read_doubles(f, "arms/" + arm + "/replicate_0/panel/cost_hw_pen");
  const std::size_t n = dims[1];
  std::vector<double> per(n, 0.0);
  double total = 0;
  for (std::size_t p = 0; p < dims[0]; ++p)
    for (std::size_t i = 0; i < n; ++i) per[i] += cj[p * n + i] + ch[p * n + i], total += cj[p * n + i] + ch[p * n + i];
  std::size_t reached = 0;
  for (double v : per) reached += v > 0 ? 1 : 0;
  return {total, reached};
}

TEST(Budget, MatchedArmsSpendTheSameWithinOneHousehold) {
  const std::string yaml = std::string("name: budget\n") + R"(
population: {households: 2000, districts: 4, seed: 7}
run: {start_year: 2017, years: 3, replicates: 1, seed: 3}
output: {frequency: yearly, variables: [income_monetary_pen, poor, household_size, cost_juntos_pen, cost_hw_pen]}
haku_winay.eligible_share_per_year: 0.5
arms:
  - name: hw_only
    set: {juntos.enabled: false}
  - name: cash_benchmark
    description: Juntos alone, with take-up scaled to cost what HW costs
    set: {haku_winay.enabled: false, budget.match_arm: hw_only, budget.scale_parameter: juntos.take_up}
  - name: hw_coached_same_cost
    set: {juntos.enabled: false, coaching.enabled: true, coaching.saturation: 1.0,
          budget.match_arm: hw_only, budget.scale_parameter: haku_winay.takeup_rate}
)";
  const Scenario s = load_scenario_text(yaml, "<test>", reg());
  std::vector<study::BudgetSolution> solutions;
  const Scenario solved = study::solve_budget_neutrality(s, builder(), 2, &solutions, nullptr);
  ASSERT_EQ(solutions.size(), 2u);
  for (const auto& sol : solutions) {
    EXPECT_TRUE(sol.within_tolerance) << sol.message;
    EXPECT_GT(sol.target_spend_pen, 0.0);
    EXPECT_LE(std::abs(sol.spend_pen - sol.target_spend_pen), sol.tolerance_pen) << sol.message;
  }
  EXPECT_EQ(solutions[0].parameter, "juntos.take_up");
  EXPECT_LT(solutions[0].value, 0.9);  // Juntos costs more than HW at full take-up
  EXPECT_EQ(solved.find_arm("cash_benchmark")->params.real("juntos.take_up"), solutions[0].value);
  // The provenance records the solved value (the resolved YAML is computed after solving).
  EXPECT_NE(solved.resolved_yaml().find("juntos.take_up: " + format_value(solutions[0].value)), std::string::npos);

  const std::string path = temp_path("budget.h5");
  run_to_file(solved, path);
  h5::Handle f = h5::open_file_readonly(path);
  const auto [target, reached] = file_spend(f, "hw_only");
  ASSERT_GT(reached, 0u);
  const double one_household = target / static_cast<double>(reached);
  for (const char* arm : {"cash_benchmark", "hw_coached_same_cost"}) {
    const auto [spend, r] = file_spend(f, arm);
    EXPECT_LE(std::abs(spend - target), one_household) << arm << ": " << spend << " vs " << target;
  }
  const auto yaml_stored = h5::read_strings(h5::open_group(f, "provenance"), "scenario_yaml");
  EXPECT_NE(yaml_stored.front().find("juntos.take_up: " + format_value(solutions[0].value)), std::string::npos);
  f.close();
  fs::remove(path);

  // Solving the solved scenario again keeps every value (the provenance YAML reproduces the run).
  std::vector<study::BudgetSolution> again;
  const Scenario resolved = study::solve_budget_neutrality(solved, builder(), 2, &again, nullptr);
  ASSERT_EQ(again.size(), 2u);
  for (std::size_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].value, solutions[i].value);
    EXPECT_EQ(again[i].simulations, 1);
  }
  EXPECT_EQ(resolved.resolved_yaml(), solved.resolved_yaml());
}

TEST(Budget, InconsistentSettingsAreConfigErrors) {
  auto load = [](const std::string& arms) {
    return load_scenario_text(std::string("name: bad\n") + kSmall + "arms:\n" + arms, "<test>", reg());
  };
  auto expect_error = [](const Scenario& s, const std::string& needle) {
    try {
      study::check_budget_neutrality(s);
      ADD_FAILURE() << "expected ConfigError containing " << needle;
    } catch (const ConfigError& e) {
      std::string all;
      for (const auto& i : e.issues()) all += i.format() + "\n";
      EXPECT_NE(all.find(needle), std::string::npos) << all;
    }
  };
  expect_error(load("  - name: hw_only\n  - name: b\n    set: {budget.match_arm: hw_onyl}\n"), "did you mean 'hw_only'");
  expect_error(load("  - name: a\n    set: {budget.match_arm: a}\n"), "its own spend");
  expect_error(load("  - name: a\n  - name: b\n    set: {budget.match_arm: a}\n"
                    "  - name: c\n    set: {budget.match_arm: b}\n"),
               "itself budget-matched");
  expect_error(load("  - name: a\n  - name: b\n    set: {juntos.enabled: false, budget.match_arm: a, "
                    "budget.scale_parameter: juntos.take_up}\n"),
               "Juntos, which is disabled");
  expect_error(load("  - name: a\n  - name: b\n    set: {budget.match_arm: a, "
                    "budget.scale_parameter: coaching.saturation}\n"),
               "coaching.enabled: false");
  expect_error(load("  - name: a\n  - name: b\n    set: {budget.match_arm: a, "
                    "budget.scale_parameter: haku_winay.households_per_year}\n"),
               "rollout_limit: households");
  // No budget-matched arm: nothing to solve, the scenario comes back unchanged.
  const Scenario plain = load("  - name: a\n  - name: b\n");
  EXPECT_NO_THROW(study::check_budget_neutrality(plain));
  EXPECT_EQ(study::solve_budget_neutrality(plain, builder(), 2).resolved_yaml(), plain.resolved_yaml());
}

// ---------------------------------------------------------------------------------------------------------
// Hand-made panels with known answers.

void write_f64(hid_t g, const std::string& name, const std::vector<hsize_t>& dims, const std::vector<double>& v,
               const std::string& aggregation = "") {
  h5::write_dataset(g, name, ColumnType::f64, dims, v.data());
  if (!aggregation.empty()) {
    h5::Handle ds(H5Dopen2(g, name.c_str(), H5P_DEFAULT));
    h5::write_attr(ds, "aggregation", aggregation);
  }
}

const std::string kFlow = "sum over the period", kState = "end of period";

// Two yearly periods, four households of 1, 2, 3 and 4 members, arms "ref" and "arm".
std::string write_tiny_file() {
  const std::string path = temp_path("tiny.h5");
  h5::quiet_errors();
  h5::Handle f = h5::create_file(path);
  h5::write_strings(f, "arm_names", {"ref", "arm"});
  h5::write_strings(f, "periods", {"2017", "2018"});
  h5::Handle prov = h5::create_group(f, "provenance");
  h5::write_attr(prov, "output_frequency", std::string("yearly"));
  h5::write_attr(prov, "replicates", 1LL);
  h5::write_strings(prov, "scenario_yaml", {"name: tiny\nrun:\n  reference_arm: \"ref\"\ncomparison:\n  discount_rate: 0.1\n"});
  h5::Handle hh = h5::create_group(f, "population/replicate_0/households");
  write_f64(hh, "baseline_income_pen", {4}, {10, 40, 30, 20});
  write_f64(hh, "district", {4}, {0, 0, 1, 1});
  write_f64(hh, "water_access", {4}, {1, 0, 1, 0});
  write_f64(hh, "household_size", {4}, {1, 2, 3, 4});
  h5::Handle dist = h5::create_group(f, "population/replicate_0/districts");
  write_f64(dist, "region", {2}, {0, 2});
  struct ArmPanel {
    std::vector<double> income, poor, cost_juntos, cost_hw, tech, business, enrolled;
  };
  const ArmPanel ref{{100, 200, 300, 400, 100, 200, 300, 400},
                     {1, 1, 0, 0, 1, 1, 0, 0},
                     {0, 0, 0, 0, 0, 0, 0, 0},
                     {0, 0, 0, 0, 0, 0, 0, 0},
                     {0, 0, 0, 0, 0, 0, 0, 0, /* period 1 */ 1, 0, 2, 0, 0, 0, 1, 1},
                     {0, 0, 0, 0, 0, 0, 0, 0},
                     {0, 0, 0, 0, 0, 0, 0, 0}};
  const ArmPanel arm{{100, 200, 300, 400, 150, 200, 400, 400},
                     {1, 1, 0, 0, 0, 1, 0, 0},
                     {100, 0, 0, 0, 100, 0, 0, 0},
                     {0, 0, 0, 0, 0, 0, 200, 0},
                     {0, 0, 0, 0, 0, 0, 0, 0, /* period 1 */ 1, 1, 1, 0, 2, 0, 1, 1},
                     {0, 0, 0, 0, 1, 2, 0, 1},
                     {0, 1, 0, 0, 0, 0, 0, 0}};
  for (const auto& [name, a] : {std::pair{std::string("ref"), ref}, std::pair{std::string("arm"), arm}}) {
    h5::Handle g = h5::create_group(f, "arms/" + name + "/replicate_0/panel");
    write_f64(g, "income_monetary_pen", {2, 4}, a.income, kFlow);
    write_f64(g, "poor", {2, 4}, a.poor, kState);
    write_f64(g, "household_size", {2, 4}, {1, 2, 3, 4, 1, 2, 3, 4}, kState);
    write_f64(g, "cost_juntos_pen", {2, 4}, a.cost_juntos, kFlow);
    write_f64(g, "cost_hw_pen", {2, 4}, a.cost_hw, kFlow);
    write_f64(g, "tech_state", {2, 4, 2}, a.tech, kState);
    write_f64(g, "business_status", {2, 4}, a.business, kState);
    write_f64(g, "juntos_enrolled", {2, 4}, a.enrolled, kState);
  }
  return path;
}

TEST(ComparisonHandMade, KnownEffectsGiniAndQuantiles) {
  const std::string path = write_tiny_file();
  h5::Handle f = h5::open_file_readonly(path);
  const ComparisonTable t = study::compare_file(f, "");
  EXPECT_EQ(t.reference, "ref");
  EXPECT_EQ(t.discount_rate, 0.1);
  EXPECT_EQ(t.final_year, "2018");
  EXPECT_EQ(t.horizon, "2017-2018");
  auto row = [&](const std::string& outcome, const std::string& statistic, const std::string& subgroup = "all") {
    const ComparisonRow* r = find_row(t, "arm", outcome, subgroup, statistic);
    EXPECT_NE(r, nullptr) << outcome << " " << statistic << " " << subgroup;
    static const ComparisonRow none{};
    return r ? *r : none;
  };
  auto effect = [&](const std::string& outcome, const std::string& statistic, const std::string& subgroup = "all") {
    const ComparisonRow r = row(outcome, statistic, subgroup);
    EXPECT_EQ(r.interval, "single") << outcome;
    EXPECT_EQ(r.ci_low, r.mean_effect) << outcome;  // one replicate: zero width
    EXPECT_EQ(r.ci_high, r.mean_effect) << outcome;
    return r.mean_effect;
  };
  // Income: final year 2018 (arm 150, 200, 400, 400 against 100, 200, 300, 400), horizon annualised.
  EXPECT_DOUBLE_EQ(effect("income_monetary_pen", "final_year"), 37.5);
  EXPECT_DOUBLE_EQ(row("income_monetary_pen", "final_year").reference_value, 250.0);
  EXPECT_DOUBLE_EQ(row("income_monetary_pen", "final_year").arm_value, 287.5);
  EXPECT_DOUBLE_EQ(effect("income_monetary_pen", "horizon_mean"), 18.75);
  // Paired differences {50, 0, 100, 0}: type-7 quantiles 0, 0, 25, 62.5, 85.
  EXPECT_DOUBLE_EQ(effect("income_monetary_pen", "paired_difference_q10"), 0.0);
  EXPECT_DOUBLE_EQ(effect("income_monetary_pen", "paired_difference_q25"), 0.0);
  EXPECT_DOUBLE_EQ(effect("income_monetary_pen", "paired_difference_q50"), 25.0);
  EXPECT_DOUBLE_EQ(effect("income_monetary_pen", "paired_difference_q75"), 62.5);
  EXPECT_DOUBLE_EQ(effect("income_monetary_pen", "paired_difference_q90"), 85.0);
  // Distributions {150, 200, 400, 400} and {100, 200, 300, 400}.
  EXPECT_DOUBLE_EQ(effect("income_monetary_pen", "distribution_q10"), 165.0 - 130.0);
  EXPECT_DOUBLE_EQ(effect("income_monetary_pen", "distribution_q50"), 300.0 - 250.0);
  EXPECT_DOUBLE_EQ(effect("income_monetary_pen", "distribution_q90"), 400.0 - 370.0);
  // Gini of per-capita income over persons: the reference is perfectly equal (100 each); the arm's
  // per-capita incomes 150, 100, 133.3, 100 with weights 1..4: sum_ij w_i w_j |x_i - x_j| = 1900,
  // 2 W^2 mean = 2 * 100 * 115.
  EXPECT_NEAR(row("gini_pc_income", "final_year").reference_value, 0.0, 1e-15);
  EXPECT_NEAR(effect("gini_pc_income", "final_year"), 1900.0 / 23000.0, 1e-12);
  // Poverty: persons (3/10 -> 2/10), households (2/4 -> 1/4), horizon persons (6/20 -> 5/20).
  EXPECT_DOUBLE_EQ(effect("poverty_headcount", "final_year"), 0.2 - 0.3);
  EXPECT_DOUBLE_EQ(effect("poverty_headcount_households", "final_year"), -0.25);
  EXPECT_DOUBLE_EQ(effect("poverty_headcount", "horizon_mean"), 0.25 - 0.3);
  // Technologies: counts 0.75 -> 1.25; vegetable gardens 2/4 -> 3/4; persistence 3/4 -> 5/6.
  EXPECT_DOUBLE_EQ(effect("technologies_adopted", "final_year"), 0.5);
  EXPECT_DOUBLE_EQ(effect("adopted_vegetable_garden", "final_year"), 0.25);
  EXPECT_DOUBLE_EQ(effect("adopted_organic_fertiliser_prep", "final_year"), 0.25);
  EXPECT_NEAR(effect("persistence_all_technologies", "final_year"), 5.0 / 6.0 - 0.75, 1e-15);
  EXPECT_NEAR(effect("persistence_vegetable_garden", "final_year"), 0.75 - 2.0 / 3.0, 1e-15);
  // Business survival: undefined in the reference (no business), 2 of 3 active in the arm.
  const ComparisonRow biz = row("business_survival", "final_year");
  EXPECT_EQ(biz.n_replicates, 0);
  EXPECT_TRUE(std::isnan(biz.mean_effect));
  EXPECT_EQ(biz.interval, "none");
  EXPECT_DOUBLE_EQ(biz.arm_value, 2.0 / 3.0);
  // Costs: 400 PEN in all (200 on each of two households); discount 10% a year from mid-period.
  EXPECT_DOUBLE_EQ(effect("total_cost_pen", "horizon_total"), 400.0);
  EXPECT_DOUBLE_EQ(effect("cost_per_household_pen", "horizon_total"), 100.0);
  EXPECT_DOUBLE_EQ(effect("juntos_cost_per_household_pen", "horizon_total"), 50.0);
  EXPECT_DOUBLE_EQ(effect("hw_cost_per_household_pen", "horizon_total"), 50.0);
  EXPECT_DOUBLE_EQ(row("cost_per_reached_household_pen", "horizon_total").arm_value, 200.0);
  const double d0 = std::pow(1.1, -0.5), d1 = std::pow(1.1, -1.5);
  const double dcost = 100 * d0 + 300 * d1;
  EXPECT_NEAR(effect("discounted_cost_per_household_pen", "horizon_discounted"), dcost / 4, 1e-12);
  EXPECT_NEAR(effect("income_gain_per_pen", "horizon_discounted"), 150 * d1 / dcost, 1e-12);
  EXPECT_NEAR(effect("cost_per_household_lifted_out_of_poverty", "final_year"), dcost, 1e-9);
  EXPECT_NEAR(effect("cost_per_poverty_year_averted", "horizon_discounted"), dcost, 1e-9);
  // Subgroups: quintiles by baseline income (10, 40, 30, 20 -> households 0, 3, 2, 1 in q1..q4), water, region,
  // Juntos (household 1 enrolled in the arm).
  EXPECT_DOUBLE_EQ(effect("income_monetary_pen", "final_year", "baseline_income_q1"), 50.0);
  EXPECT_DOUBLE_EQ(effect("income_monetary_pen", "final_year", "baseline_income_q3"), 100.0);
  EXPECT_DOUBLE_EQ(effect("income_monetary_pen", "final_year", "baseline_income_q4"), 0.0);
  EXPECT_EQ(find_row(t, "arm", "income_monetary_pen", "baseline_income_q5", "final_year"), nullptr);  // empty
  EXPECT_DOUBLE_EQ(effect("income_monetary_pen", "final_year", "water_access"), 75.0);
  EXPECT_DOUBLE_EQ(effect("income_monetary_pen", "final_year", "no_water_access"), 0.0);
  EXPECT_DOUBLE_EQ(effect("income_monetary_pen", "final_year", "region_southern_highlands"), 25.0);
  EXPECT_DOUBLE_EQ(effect("income_monetary_pen", "final_year", "region_amazon"), 50.0);
  EXPECT_DOUBLE_EQ(effect("income_monetary_pen", "final_year", "juntos_ever_enrolled"), 0.0);
  EXPECT_DOUBLE_EQ(effect("income_monetary_pen", "final_year", "juntos_never_enrolled"), 50.0);
  EXPECT_DOUBLE_EQ(effect("poverty_headcount", "final_year", "baseline_income_q1"), -1.0);
  // What could not be measured is said.
  bool consumption_note = false;
  for (const auto& n : t.notes) consumption_note = consumption_note || n.find("consumption_pen") != std::string::npos;
  EXPECT_TRUE(consumption_note);
  // The reference's own rows are not listed; the other arm against "arm" mirrors the effects.
  for (const auto& r : t.rows) EXPECT_EQ(r.arm, "arm");
  const ComparisonTable mirrored = study::compare_file(f, "arm");
  const ComparisonRow* m = find_row(mirrored, "ref", "income_monetary_pen", "all", "final_year");
  ASSERT_NE(m, nullptr);
  EXPECT_DOUBLE_EQ(m->mean_effect, -37.5);
  f.close();
  fs::remove(path);
}

TEST(ComparisonHandMade, SustainedExitAndMonthlyFinalYear) {
  // Monthly panel of 30 periods and two households that left Juntos in months 2 and 3: two years later
  // (months 26 and 27) household 0 is not poor in the arm, household 1 is; both are poor in the reference.
  const std::string path = temp_path("exit.h5");
  {
    h5::Handle f = h5::create_file(path);
    h5::write_strings(f, "arm_names", {"ref", "arm"});
    std::vector<std::string> periods;
    for (int m = 0; m < 30; ++m) periods.push_back((m < 12 ? "2017-" : m < 24 ? "2018-" : "2019-") + std::to_string(m % 12 + 1));
    h5::write_strings(f, "periods", periods);
    h5::Handle prov = h5::create_group(f, "provenance");
    h5::write_attr(prov, "output_frequency", std::string("monthly"));
    h5::write_attr(prov, "replicates", 1LL);
    for (const std::string arm : {"ref", "arm"}) {
      h5::Handle g = h5::create_group(f, "arms/" + arm + "/replicate_0/panel");
      std::vector<double> poor(60, 1.0), exit(60, -1.0), income(60, 10.0);
      if (arm == "arm") {
        poor[26 * 2 + 0] = 0.0;
        for (int p = 0; p < 30; ++p) exit[p * 2 + 0] = 2, exit[p * 2 + 1] = 3, income[p * 2 + 1] = 20.0;
      }
      write_f64(g, "poor", {30, 2}, poor, kState);
      write_f64(g, "juntos_exit_month", {30, 2}, exit, kState);
      write_f64(g, "income_monetary_pen", {30, 2}, income, kFlow);
    }
  }
  h5::Handle f = h5::open_file_readonly(path);
  const ComparisonTable t = study::compare_file(f, "");
  EXPECT_EQ(t.reference, "ref");  // no scenario text: the first arm
  EXPECT_EQ(t.final_year, "2018-7 to 2019-6");
  EXPECT_EQ(t.horizon, "2017-1 to 2019-6");
  const ComparisonRow* s2 = find_row(t, "arm", "sustained_exit_2y", "all", "juntos_leavers");
  ASSERT_NE(s2, nullptr);
  EXPECT_DOUBLE_EQ(s2->mean_effect, 0.5);
  EXPECT_DOUBLE_EQ(s2->arm_value, 0.5);
  EXPECT_DOUBLE_EQ(s2->reference_value, 0.0);
  EXPECT_EQ(find_row(t, "arm", "sustained_exit_5y", "all", "juntos_leavers"), nullptr);  // beyond the horizon
  // Final year of a monthly panel: the last 12 months summed (household 1: 12 x 10 more).
  const ComparisonRow* inc = find_row(t, "arm", "income_monetary_pen", "all", "final_year");
  ASSERT_NE(inc, nullptr);
  EXPECT_DOUBLE_EQ(inc->mean_effect, 60.0);
  // Horizon mean, annualised: 30 months x 10 more for household 1 = 120 a year, 60 per household.
  EXPECT_DOUBLE_EQ(find_row(t, "arm", "income_monetary_pen", "all", "horizon_mean")->mean_effect, 60.0);
  f.close();
  fs::remove(path);
}

// The interaction term: four arms (plus one it ignores), three replicates, two households, one yearly period.
// Income in arm a, replicate r, household i is chosen so that the per-replicate interaction varies; the table
// must equal the combination of the arms' effects against no_programme, with the t interval of the replicate
// draws, and name the channels the stored scenario switched on.
TEST(ComparisonHandMade, InteractionIsTheCombinationOfTheArmsEffects) {
  const std::string path = temp_path("interaction.h5");
  const std::vector<std::string> arms = {"no_programme", "juntos_only", "hw_only", "both", "extra"};
  auto income = [](std::size_t a, int r, int i) { return 100.0 + 40.0 * a + 7.0 * r * r * (a == 3) + 3.0 * i * (a + r); };
  {
    h5::quiet_errors();
    h5::Handle f = h5::create_file(path);
    h5::write_strings(f, "arm_names", arms);
    h5::write_strings(f, "periods", {"2017"});
    h5::Handle prov = h5::create_group(f, "provenance");
    h5::write_attr(prov, "output_frequency", std::string("yearly"));
    h5::write_attr(prov, "replicates", 3LL);
    h5::write_strings(prov, "scenario_yaml",
                      {"name: x\nrun:\n  reference_arm: \"no_programme\"\neconomy:\n  welfare:\n    enabled: false\n"
                       "  liquidity:\n    enabled: true\n  graduation:\n    enabled: true\nlivestock:\n  sheep:\n"
                       "    price_pen: 100\narms:\n  - name: hw_only\n    set:\n      economy.risk.enabled: true\n"
                       "  - name: extra\n    set:\n      economy.welfare.enabled: true\n"});
    for (int r = 0; r < 3; ++r)
      for (std::size_t a = 0; a < arms.size(); ++a) {
        h5::Handle g = h5::create_group(f, "arms/" + arms[a] + "/replicate_" + std::to_string(r) + "/panel");
        write_f64(g, "income_monetary_pen", {1, 2}, {income(a, r, 0), income(a, r, 1)}, kFlow);
        write_f64(g, "poor", {1, 2}, {a == 0 ? 1.0 : 0.0, r == 1 && a == 3 ? 1.0 : 0.0}, kState);
        write_f64(g, "household_size", {1, 2}, {1, 3}, kState);
        write_f64(g, "cash_pen", {1, 2}, {10.0 * a, 5.0 * r}, kState);
        // Herds [1, 2, 3]: sheep only, valued at the scenario's 100 PEN a head.
        write_f64(g, "herd", {1, 2, 3}, {0, 1.0 + (a == 3), 0, 0, 2, 0}, kState);
      }
  }
  h5::Handle f = h5::open_file_readonly(path);
  const ComparisonTable t = study::compare_file(f, "");
  ASSERT_EQ(t.reference, "no_programme");
  auto interaction = [&](const std::string& outcome) -> const study::InteractionRow& {
    for (const auto& r : t.interaction.rows)
      if (r.outcome == outcome && r.statistic == "final_year") return r;
    ADD_FAILURE() << "no interaction row for " << outcome;
    static const study::InteractionRow none{};
    return none;
  };
  // The arms' mean effects against no_programme combine into the interaction's mean.
  auto eff = [&](const std::string& arm, const std::string& outcome) {
    const ComparisonRow* r = find_row(t, arm, outcome, "all", "final_year");
    EXPECT_NE(r, nullptr) << arm << " " << outcome;
    return r ? r->mean_effect : std::nan("");
  };
  for (const std::string outcome : {"income_monetary_pen", "poverty_headcount"}) {
    const auto& row = interaction(outcome);
    EXPECT_NEAR(row.mean, eff("both", outcome) - eff("juntos_only", outcome) - eff("hw_only", outcome), 1e-9)
        << outcome;
    EXPECT_EQ(row.n_replicates, 3);
    EXPECT_EQ(row.interval, "t");
  }
  // By hand: the household mean of income(a, r, i) over i = 0, 1 is 100 + 40a + 7r^2[a=3] + 1.5(a + r); the
  // combination cancels everything but 7r^2, so the draws are 0, 7, 28.
  const std::vector<double> draws = {0.0, 7.0, 28.0};
  const stats::Interval iv = stats::mean_interval(draws, 0.95);
  const auto& inc = interaction("income_monetary_pen");
  EXPECT_NEAR(inc.mean, 35.0 / 3.0, 1e-12);
  EXPECT_NEAR(inc.ci_low, iv.low, 1e-9);
  EXPECT_NEAR(inc.ci_high, iv.high, 1e-9);
  EXPECT_GT(inc.ci_high - inc.ci_low, 0.0);
  ASSERT_EQ(inc.levels.size(), 4u);
  EXPECT_NEAR(inc.levels[0], 100.0 + 120.0 + 7.0 * 5.0 / 3.0 + 1.5 * 4.0, 1e-9);  // both, mean over replicates
  EXPECT_NEAR(inc.levels[3], 100.0 + 1.5, 1e-9);                                  // no_programme: 1.5 r, r = 0..2
  // Poverty (persons, sizes 1 and 3): household 0 is poor only in no_programme (+1/4 in the combination), household
  // 1 only in both in replicate 1 (+3/4): draws 1/4, 1, 1/4.
  EXPECT_NEAR(interaction("poverty_headcount").mean, 0.5, 1e-12);
  // Savings: 10a for household 0 cancels (10 (3 - 1 - 2 + 0) = 0); herd value 100 more sheep-heads in both only
  // for household 0: 50 PEN per household.
  EXPECT_NEAR(interaction("cash_pen").mean, 0.0, 1e-12);
  EXPECT_NEAR(interaction("herd_value_pen").mean, 50.0, 1e-12);
  EXPECT_NEAR(interaction("herd_value_pen").levels[3], 150.0, 1e-12);  // (1 + 2) x 100 / 2 households
  // Outcomes the file does not measure are absent (no consumption, no debt).
  for (const auto& r : t.interaction.rows) {
    EXPECT_NE(r.outcome, "consumption_pen");
    EXPECT_NE(r.outcome, "debt_pen");
  }
  // The channels: those on in the base scenario, and the interaction arms' own switches (not the extra arm's).
  EXPECT_EQ(t.interaction.channels, (std::vector<std::string>{"liquidity", "graduation"}));
  EXPECT_EQ(t.interaction.arm_channel_sets, (std::vector<std::string>{"hw_only: economy.risk.enabled=true"}));
  EXPECT_EQ(t.interaction.channels_text(), "liquidity, graduation; hw_only: economy.risk.enabled=true");
  // Formats: the table names the channels; CSV and JSON carry the rows as the pseudo-arm "interaction".
  const std::string table = study::format_comparison(t, "table");
  EXPECT_NE(table.find("Household-economy channels on: liquidity, graduation"), std::string::npos) << table;
  const std::string json = study::format_comparison(t, "json");
  EXPECT_NE(json.find("\"arm\": \"interaction\""), std::string::npos);
  EXPECT_NE(json.find("\"channels\": \"liquidity, graduation; hw_only: economy.risk.enabled=true\""), std::string::npos);
  EXPECT_NE(study::format_comparison(t, "csv").find("interaction,both-juntos_only-hw_only+no_programme,income"),
            std::string::npos);
  f.close();
  // Stored and read back bit for bit, beside the comparison.
  {
    const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(id, 0);
    h5::Handle rw(id);
    study::write_comparison(rw, t);
  }
  h5::Handle g = h5::open_file_readonly(path);
  EXPECT_TRUE(study::read_comparison(g) == t);
  g.close();
  fs::remove(path);
}

// Without the four arms there is no interaction table, and the stored comparison has no interaction group.
TEST(ComparisonHandMade, NoInteractionWithoutTheFourArms) {
  const std::string path = write_tiny_file();
  h5::Handle f = h5::open_file_readonly(path);
  const ComparisonTable t = study::compare_file(f, "");
  EXPECT_TRUE(t.interaction.rows.empty());
  EXPECT_EQ(study::format_comparison(t, "table").find("Interaction"), std::string::npos);
  f.close();
  fs::remove(path);
}

// The default scenario's population and horizon, its four interaction arms, 8 replicates, with the channels of the
// household economy set explicitly (the scenario switches five of them on). With every channel off the programmes
// add up: the interaction's interval for income contains 0. With only the liquidity and graduation channels on, a
// transfer helps finance what Haku Winay asks households to invest, so income net of transfers gains more from both
// than from the sum of each alone: measured +5.7 PEN a year [+3.5, +7.9] over the horizon (docs/policy_arms.md);
// the test asserts the sign and that the interval excludes 0.
study::InteractionTable default_interaction(const std::vector<std::string>& sets) {
  std::vector<std::string> all = {"run.replicates=8"};
  all.insert(all.end(), sets.begin(), sets.end());
  Scenario s = load_scenario_file(std::string(CHACRA_SOURCE_DIR) + "/configs/default.yaml", reg(), all);
  std::erase_if(s.arms, [](const Arm& a) {
    return std::find(study::kInteractionArms.begin(), study::kInteractionArms.end(), a.name) ==
           study::kInteractionArms.end();
  });
  const std::string path = temp_path("default_interaction.h5");
  const study::RunComparison cmp = run_to_file(s, path);
  fs::remove(path);
  EXPECT_TRUE(cmp.available) << cmp.note;
  return cmp.table.interaction;
}

const study::InteractionRow* find_interaction(const study::InteractionTable& t, const std::string& outcome,
                                              const std::string& statistic) {
  for (const auto& r : t.rows)
    if (r.outcome == outcome && r.statistic == statistic) return &r;
  return nullptr;
}

// economy.<channel>.enabled for the five channels the default scenario switches on, each on or off.
std::vector<std::string> channels_on(const std::vector<std::string>& on) {
  std::vector<std::string> sets;
  for (const char* c : {"welfare", "liquidity", "risk", "graduation", "persistence"})
    sets.push_back(std::string("economy.") + c + ".enabled=" +
                   (std::find(on.begin(), on.end(), c) != on.end() ? "true" : "false"));
  return sets;
}

TEST(ComparisonInteraction, ProgrammesAddUpWithEveryChannelOffAndComplementWithLiquidity) {
  const study::InteractionTable off = default_interaction(channels_on({}));
  EXPECT_TRUE(off.channels.empty());
  for (const char* stat : {"final_year", "horizon_mean"})
    for (const char* outcome : {"income_monetary_pen", "earned_income_pen"}) {
      const study::InteractionRow* r = find_interaction(off, outcome, stat);
      ASSERT_NE(r, nullptr) << outcome << " " << stat;
      EXPECT_EQ(r->n_replicates, 8);
      EXPECT_LE(r->ci_low, 0.0) << outcome << " " << stat << ": " << r->mean;
      EXPECT_GE(r->ci_high, 0.0) << outcome << " " << stat << ": " << r->mean;
    }
  const study::InteractionTable on =
      default_interaction(channels_on({"liquidity", "graduation"}));
  EXPECT_EQ(on.channels, (std::vector<std::string>{"liquidity", "graduation"}));
  const study::InteractionRow* earned = find_interaction(on, "earned_income_pen", "horizon_mean");
  ASSERT_NE(earned, nullptr);
  EXPECT_GT(earned->ci_low, 0.0) << earned->mean << " [" << earned->ci_low << ", " << earned->ci_high << "]";
}

TEST(ComparisonHandMade, ForeignAndTruncatedFilesAreClearErrors) {
  const std::string path = temp_path("foreign.h5");
  {
    h5::Handle f = h5::create_file(path);
    h5::create_group(f, "something_else");
  }
  h5::Handle f = h5::open_file_readonly(path);
  expect_comparison_error(f, "not a chacra output file");
  EXPECT_THROW(study::read_comparison(f), study::ComparisonError);
  f.close();
  // A file whose units are missing (an interrupted run's partial file, say).
  const std::string tiny = write_tiny_file();
  {
    const hid_t id = H5Fopen(tiny.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(id, 0);
    h5::Handle rw(id);
    H5Ldelete(rw, "arms/arm", H5P_DEFAULT);
  }
  h5::Handle g = h5::open_file_readonly(tiny);
  expect_comparison_error(g, "missing");
  g.close();
  fs::remove(path);
  fs::remove(tiny);
}

}  // namespace
}  // namespace chacra

TEST(ComparisonText, FixedNotationWithThousandsSeparators) {
  EXPECT_EQ(chacra::study::format_fixed(24648.3, 0), "24,648");
  EXPECT_EQ(chacra::study::format_fixed(1234567.891, 2), "1,234,567.89");
  EXPECT_EQ(chacra::study::format_fixed(-1234.4, 0), "-1,234");
  EXPECT_EQ(chacra::study::format_fixed(354.2, 0, true), "+354");
  EXPECT_EQ(chacra::study::format_fixed(999.6, 0, true), "+1,000");
  EXPECT_EQ(chacra::study::format_fixed(-0.0163, 3, true), "-0.016");
  EXPECT_EQ(chacra::study::format_fixed(-0.0001, 3, true), "0.000") << "no signed zero";
  EXPECT_EQ(chacra::study::format_fixed(0.0, 2, true), "0.00");
  EXPECT_EQ(chacra::study::format_fixed(std::nan(""), 2), "n/a");
  EXPECT_EQ(chacra::study::decimals_for(3612), 0);
  EXPECT_EQ(chacra::study::decimals_for(12.5), 1);
  EXPECT_EQ(chacra::study::decimals_for(1.89), 2);
  EXPECT_EQ(chacra::study::decimals_for(0.51), 3);
  EXPECT_EQ(chacra::study::decimals_for(0), 0);
}
