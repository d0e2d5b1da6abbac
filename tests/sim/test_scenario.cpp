// Tests of strict scenario loading: the accepted format, every kind of bad input with its specific
// message and position, all problems reported at once, --set overrides and the resolved-YAML round trip.
#include "sim/engine_params.hpp"
#include "sim/scenario.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace chacra {
namespace {

const Registry& registry() {
  static const Registry reg = [] {
    Registry r;
    register_engine_params(r);
    r.real("juntos.transfer_pen", 200, 0, 10000, "PEN per two months", "Juntos transfer per payment", "Test");
    r.boolean("juntos.enabled", true, "Whether Juntos runs", "Test");
    r.boolean("haku_winay.enabled", true, "Whether Haku Wiñay runs", "Test");
    r.choice("haku_winay.targeting", "ubn_share", {"ubn_share", "juntos_share", "district_poverty"},
             "Targeting rule", "Test");
    r.real("haku_winay.business.grant_pen", 15000, 0, 1e6, "PEN", "Business competition grant", "Test");
    r.real("haku_winay.min_share", 0.2, 0, 1, "share", "Lower bound", "Test");
    r.real("haku_winay.max_share", 0.8, 0, 1, "share", "Upper bound", "Test");
    r.constraint({"haku_winay.min_not_above_max",
                  {"haku_winay.min_share", "haku_winay.max_share"},
                  [](const ParamSet& p) -> std::optional<std::string> {
                    if (p.real("haku_winay.min_share") > p.real("haku_winay.max_share"))
                      return "haku_winay.min_share cannot exceed haku_winay.max_share";
                    return std::nullopt;
                  }});
    return r;
  }();
  return reg;
}

Scenario load(const std::string& text, const std::vector<std::string>& sets = {}) {
  return load_scenario_text(text, "test.yaml", registry(), sets);
}

// The issues of a scenario that must fail.
std::vector<ConfigIssue> issues_of(const std::string& text, const std::vector<std::string>& sets = {}) {
  try {
    load(text, sets);
  } catch (const ConfigError& e) {
    EXPECT_FALSE(e.issues().empty());
    return e.issues();
  }
  ADD_FAILURE() << "scenario was accepted:\n" << text;
  return {};
}

// The single issue of a scenario with one problem.
ConfigIssue issue_of(const std::string& text, const std::vector<std::string>& sets = {}) {
  auto issues = issues_of(text, sets);
  if (issues.size() != 1u) {
    std::string all;
    for (const auto& i : issues) all += i.format() + "\n";
    ADD_FAILURE() << "expected one problem, got " << issues.size() << ":\n" << all;
  }
  return issues.empty() ? ConfigIssue{} : issues.front();
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

const char* const kExample = R"(name: sequencing
description: "Which order of the programmes works best"
population: {households: 3000, districts: 12}
run: {years: 8, replicates: 4, seed: 42, reference_arm: no_programme}
juntos.transfer_pen: 150
haku_winay:
  targeting: juntos_share
  business.grant_pen: 12000.5
arms:
  - name: no_programme
    description: "Neither programme"
    set: {juntos.enabled: false, haku_winay: {enabled: false}}
  - name: juntos_only
    set: {haku_winay.enabled: false}
  - name: both
  - name: richer_transfer
    set:
      juntos:
        transfer_pen: 300
)";

TEST(ScenarioLoad, AcceptsTheDocumentedFormat) {
  Scenario s = load(kExample);
  EXPECT_EQ(s.path, "test.yaml");
  EXPECT_EQ(s.name, "sequencing");
  EXPECT_EQ(s.description, "Which order of the programmes works best");
  EXPECT_EQ(s.base.integer("population.households"), 3000);
  EXPECT_EQ(s.base.integer("population.districts"), 12);
  EXPECT_EQ(s.base.integer("run.seed"), 42);
  EXPECT_EQ(s.base.real("juntos.transfer_pen"), 150.0);
  EXPECT_EQ(s.base.choice("haku_winay.targeting"), "juntos_share");
  EXPECT_EQ(s.base.real("haku_winay.business.grant_pen"), 12000.5);
  EXPECT_TRUE(s.base.boolean("juntos.enabled"));
  ASSERT_EQ(s.arms.size(), 4u);
  EXPECT_EQ(s.arms[0].name, "no_programme");
  EXPECT_EQ(s.arms[0].description, "Neither programme");
  EXPECT_FALSE(s.arms[0].params.boolean("juntos.enabled"));
  EXPECT_FALSE(s.arms[0].params.boolean("haku_winay.enabled"));
  EXPECT_EQ(s.arms[0].params.real("juntos.transfer_pen"), 150.0);  // inherited from the base
  ASSERT_EQ(s.arms[0].overrides.size(), 2u);
  EXPECT_EQ(s.arms[0].overrides[0].first, "juntos.enabled");
  EXPECT_EQ(s.arms[0].overrides[1].first, "haku_winay.enabled");
  EXPECT_TRUE(s.arms[1].params.boolean("juntos.enabled"));
  EXPECT_FALSE(s.arms[1].params.boolean("haku_winay.enabled"));
  EXPECT_TRUE(s.arms[2].overrides.empty());
  EXPECT_EQ(s.arms[2].params.values(), s.base.values());
  EXPECT_EQ(s.arms[3].params.real("juntos.transfer_pen"), 300.0);
  EXPECT_EQ(s.find_arm("both"), &s.arms[2]);
  EXPECT_EQ(s.find_arm("nothing"), nullptr);
}

TEST(ScenarioLoad, WithoutArmsThereIsOneBaselineArm) {
  Scenario s = load("population.households: 500\n");
  ASSERT_EQ(s.arms.size(), 1u);
  EXPECT_EQ(s.arms[0].name, "baseline");
  EXPECT_EQ(s.arms[0].params.integer("population.households"), 500);
  EXPECT_EQ(s.base.real("juntos.transfer_pen"), 200.0);  // defaults elsewhere
}

TEST(ScenarioLoad, NestedAndDottedFormsMix) {
  Scenario s = load("haku_winay:\n  business:\n    grant_pen: 1\nhaku_winay.business: {}\njuntos: {enabled: no}\n");
  EXPECT_EQ(s.base.real("haku_winay.business.grant_pen"), 1.0);
  EXPECT_FALSE(s.base.boolean("juntos.enabled"));
}

TEST(ScenarioErrors, UnknownKeySuggestsTheNearest) {
  auto i = issue_of("run: {years: 3}\njuntos.transfer: 200\n");
  EXPECT_EQ(i.file, "test.yaml");
  EXPECT_EQ(i.line, 2);
  EXPECT_EQ(i.column, 1);
  EXPECT_EQ(i.key, "juntos.transfer");
  EXPECT_EQ(i.message, "unknown key 'juntos.transfer'");
  EXPECT_EQ(i.hint, "did you mean 'juntos.transfer_pen'?");
  EXPECT_EQ(i.format(),
            "test.yaml:2:1: juntos.transfer: unknown key 'juntos.transfer' (did you mean 'juntos.transfer_pen'?)");

  auto nested = issue_of("juntos:\n  enabeld: true\n");
  EXPECT_EQ(nested.line, 2);
  EXPECT_EQ(nested.column, 3);
  EXPECT_EQ(nested.key, "juntos.enabeld");
  EXPECT_EQ(nested.hint, "did you mean 'juntos.enabled'?");

  auto section = issue_of("juntso: {enabled: true}\n");
  EXPECT_EQ(section.message, "unknown key 'juntso'");
  EXPECT_EQ(section.hint, "did you mean 'juntos'?");
}

TEST(ScenarioErrors, UnknownKeyWithoutNearListsValidKeys) {
  auto i = issue_of("juntos:\n  qqqqqqqqqqqq: 1\n");
  EXPECT_EQ(i.message, "unknown key 'juntos.qqqqqqqqqqqq'");
  EXPECT_EQ(i.hint, "valid keys in 'juntos' are: transfer_pen, enabled");
  auto top = issue_of("qqqqqqqqqqqq: 1\n");
  EXPECT_TRUE(contains(top.hint, "valid keys are: name, description, arms, population, run")) << top.hint;
}

TEST(ScenarioErrors, WrongTypes) {
  auto map_for_scalar = issue_of("juntos:\n  transfer_pen: {a: 1}\n");
  EXPECT_EQ(map_for_scalar.message, "expected a number in [0, 10000] (unit: PEN per two months), got a map");
  EXPECT_EQ(map_for_scalar.line, 2);
  EXPECT_EQ(map_for_scalar.column, 17);

  auto quoted = issue_of("juntos.transfer_pen: \"200\"\n");
  EXPECT_TRUE(contains(quoted.message, "got the quoted text '200'")) << quoted.message;
  EXPECT_EQ(quoted.hint, "remove the quotes");
  EXPECT_EQ(quoted.column, 22);

  auto word = issue_of("juntos.transfer_pen: lots\n");
  EXPECT_EQ(word.message, "expected a number in [0, 10000] (unit: PEN per two months), got 'lots'");

  auto list = issue_of("run:\n  years: [1, 2]\n");
  EXPECT_EQ(list.message, "expected an integer in [1, 200] (unit: years), got a list");
  EXPECT_EQ(list.key, "run.years");
  EXPECT_EQ(list.line, 2);
  EXPECT_EQ(list.column, 10);

  auto scalar_section = issue_of("juntos: 5\n");
  EXPECT_EQ(scalar_section.message, "'juntos' is a section; expected a map of its parameters, got '5'");
  EXPECT_EQ(scalar_section.hint, "its keys are: transfer_pen, enabled");

  auto nothing = issue_of("juntos.enabled:\n");
  EXPECT_EQ(nothing.message, "expected true or false, got nothing");
  EXPECT_EQ(nothing.line, 1);

  auto boolean = issue_of("juntos.enabled: maybe\n");
  EXPECT_EQ(boolean.message, "expected true or false, got 'maybe'");

  auto choice = issue_of("haku_winay.targeting: ubn_shares\n");
  EXPECT_EQ(choice.message, "expected one of 'ubn_share', 'juntos_share', 'district_poverty', got 'ubn_shares'");
  EXPECT_EQ(choice.hint, "did you mean 'ubn_share'?");

  auto list_of_maps = issue_of("output.variables: [income, {a: 1}]\n");
  EXPECT_TRUE(contains(list_of_maps.message, "got a map in the list")) << list_of_maps.message;

  auto non_text_key = issue_of("? [a, b]\n: 1\n");
  EXPECT_EQ(non_text_key.message, "expected a text key, got a list");
}

TEST(ScenarioErrors, RangesAndNonFiniteNumbers) {
  auto range = issue_of("population:\n  mean_ubn_share: 1.5\n");
  EXPECT_EQ(range.message, "expected a number in [0, 1] (unit: share), got 1.5");
  EXPECT_EQ(range.key, "population.mean_ubn_share");
  EXPECT_EQ(range.line, 2);
  EXPECT_EQ(range.column, 19);
  EXPECT_TRUE(contains(issue_of("juntos.transfer_pen: .nan\n").message, "not a number"));
  EXPECT_TRUE(contains(issue_of("juntos.transfer_pen: .inf\n").message, "infinite"));
  EXPECT_TRUE(contains(issue_of("juntos.transfer_pen: -.inf\n").message, "infinite"));
  EXPECT_EQ(issue_of("run.years: 1.5\n").message, "expected an integer in [1, 200] (unit: years), got '1.5'");
  EXPECT_TRUE(contains(issue_of("run.seed: 123456789012345678901234\n").message, "64-bit"));
}

TEST(ScenarioErrors, DuplicateKeys) {
  auto dup = issue_of("run:\n  years: 3\n  years: 4\n");
  EXPECT_EQ(dup.line, 3);
  EXPECT_EQ(dup.column, 3);
  EXPECT_EQ(dup.message, "duplicate key 'years' (first at line 2, column 3)");

  auto twice = issue_of("juntos:\n  transfer_pen: 1\njuntos.transfer_pen: 2\n");
  EXPECT_EQ(twice.line, 3);
  EXPECT_EQ(twice.message, "'juntos.transfer_pen' is set twice (first at line 2, column 3)");

  auto in_arm = issue_of("arms:\n  - name: a\n    set: {juntos.enabled: false, juntos: {enabled: true}}\n");
  EXPECT_EQ(in_arm.key, "arms[0].set.juntos.enabled");
  EXPECT_TRUE(contains(in_arm.message, "set twice"));
}

TEST(ScenarioErrors, ArmsListProblems) {
  EXPECT_EQ(issue_of("arms: []\n").message, "the arms list is empty");
  EXPECT_EQ(issue_of("arms:\n").message, "the arms list is empty");
  EXPECT_EQ(issue_of("arms: {name: a}\n").message, "expected a list of arms, got a map");
  EXPECT_EQ(issue_of("arms: [a]\n").message,
            "expected an arm (a map with name, description and set), got 'a'");

  auto dup = issue_of("arms:\n  - name: a\n  - name: a\n");
  EXPECT_EQ(dup.line, 3);
  EXPECT_EQ(dup.column, 11);
  EXPECT_EQ(dup.key, "arms[1].name");
  EXPECT_EQ(dup.message, "duplicate arm name 'a' (first at arms[0], line 2, column 11)");

  auto bad_name = issue_of("arms:\n  - name: two words\n");
  EXPECT_EQ(bad_name.message, "arm name 'two words' may only hold letters, digits and '_'");
  EXPECT_EQ(issue_of("arms:\n  - name: a-b\n").key, "arms[0].name");

  auto no_name = issue_of("arms:\n  - description: x\n");
  EXPECT_EQ(no_name.message, "the arm has no name");
  EXPECT_EQ(no_name.line, 2);

  auto outside_set = issue_of("arms:\n  - name: a\n    juntos.enabled: false\n");
  EXPECT_EQ(outside_set.message, "unknown key 'juntos.enabled' in an arm");
  EXPECT_EQ(outside_set.hint, "put parameter overrides under 'set:'");

  auto misspelt = issue_of("arms:\n  - name: a\n    sett: {juntos.enabled: false}\n");
  EXPECT_EQ(misspelt.hint, "did you mean 'set'?");

  auto set_list = issue_of("arms:\n  - name: a\n    set: [1]\n");
  EXPECT_EQ(set_list.message, "expected a map of parameter overrides, got a list");

  auto unknown_in_set = issue_of("arms:\n  - name: a\n  - name: b\n    set: {juntos.transfer: 5}\n");
  EXPECT_EQ(unknown_in_set.key, "arms[1].set.juntos.transfer");
  EXPECT_EQ(unknown_in_set.line, 4);
  EXPECT_EQ(unknown_in_set.column, 11);
  EXPECT_EQ(unknown_in_set.hint, "did you mean 'juntos.transfer_pen'?");
}

TEST(ScenarioErrors, ArmsCannotChangeWhatAllArmsShare) {
  auto pop = issue_of("arms:\n  - name: a\n    set:\n      population.households: 10\n");
  EXPECT_EQ(pop.key, "arms[0].set.population.households");
  EXPECT_EQ(pop.message, "arms share one population; set population.households at the top level");
  EXPECT_EQ(pop.line, 4);
  EXPECT_EQ(pop.column, 7);
  EXPECT_TRUE(contains(issue_of("arms: [{name: a, set: {run: {years: 2}}}]\n").message, "arms share one calendar"));
  EXPECT_TRUE(contains(issue_of("arms: [{name: a, set: {output.panel: false}}]\n").message, "arms share one output"));
  EXPECT_TRUE(is_shared_across_arms("population.households"));
  EXPECT_TRUE(is_shared_across_arms("run.seed"));
  EXPECT_TRUE(is_shared_across_arms("output.frequency"));
  EXPECT_FALSE(is_shared_across_arms("juntos.transfer_pen"));
  EXPECT_FALSE(is_shared_across_arms("populations.x"));
}

TEST(ScenarioErrors, ReferenceArmMustExist) {
  auto i = issue_of("run:\n  reference_arm: juntos_onyl\narms:\n  - name: juntos_only\n  - name: none\n");
  EXPECT_EQ(i.key, "run.reference_arm");
  EXPECT_EQ(i.message, "no arm is named 'juntos_onyl'");
  EXPECT_EQ(i.hint, "did you mean 'juntos_only'?");
  EXPECT_EQ(i.line, 2);
  Scenario ok = load("run.reference_arm: none\narms: [{name: juntos_only}, {name: none}]\n");
  EXPECT_EQ(ok.base.choice("run.reference_arm"), "none");
  EXPECT_EQ(load("run.reference_arm: baseline\n").arms.at(0).name, "baseline");
}

TEST(ScenarioErrors, ConstraintsOnBaseAndArms) {
  auto base = issue_of("population:\n  share_amazon: 0.5\n");
  EXPECT_EQ(base.key, "population.share_amazon");
  EXPECT_EQ(base.line, 2);
  EXPECT_TRUE(contains(base.message, "region shares must sum to 1")) << base.message;
  EXPECT_TRUE(contains(base.hint, "population.region_shares_sum_to_one"));

  auto arm = issue_of("arms:\n  - name: ok\n  - name: bad\n    set: {haku_winay.min_share: 0.9}\n");
  EXPECT_EQ(arm.key, "arms[1].set.haku_winay.min_share");
  EXPECT_EQ(arm.line, 4);
  EXPECT_EQ(arm.message, "haku_winay.min_share cannot exceed haku_winay.max_share");

  // A base violation is reported once, not again for every arm that inherits it.
  auto once = issues_of("haku_winay.max_share: 0.1\narms: [{name: a}, {name: b}]\n");
  EXPECT_EQ(once.size(), 1u);
  // An arm can repair a base value only if the base itself is valid: both are reported.
  auto fixed = issues_of("haku_winay.max_share: 0.1\narms: [{name: a, set: {haku_winay.max_share: 0.15}}]\n");
  EXPECT_EQ(fixed.size(), 2u);
}

TEST(ScenarioErrors, DocumentShape) {
  EXPECT_EQ(issue_of("").message, "the scenario is empty");
  EXPECT_EQ(issue_of("# only a comment\n\n").message, "the scenario is empty");
  EXPECT_EQ(issue_of("~\n").message, "the scenario is empty");
  auto list = issue_of("- a\n- b\n");
  EXPECT_TRUE(contains(list.message, "expected a map")) << list.message;
  EXPECT_TRUE(contains(list.message, "got a list"));
  EXPECT_TRUE(contains(issue_of("just text\n").message, "got 'just text'"));
  auto docs = issue_of("run.years: 3\n---\nrun.years: 4\n");
  EXPECT_TRUE(contains(docs.message, "more than one YAML document"));
  EXPECT_EQ(docs.line, 2);  // the '---' that starts the second document
}

TEST(ScenarioErrors, SyntaxErrorHasOneBasedPosition) {
  auto i = issue_of("run:\n  years: [1, 2\njuntos: {}\n");
  EXPECT_TRUE(contains(i.message, "YAML syntax error")) << i.message;
  EXPECT_GE(i.line, 2);
  EXPECT_GE(i.column, 1);
  auto tab = issue_of("run:\n\tyears: 3\n");
  EXPECT_TRUE(contains(tab.message, "YAML")) << tab.message;
  EXPECT_GE(tab.line, 1);
  auto unclosed = issue_of("name: x\njuntos: {enabled: true\n");
  EXPECT_TRUE(contains(unclosed.message, "YAML syntax error")) << unclosed.message;
  EXPECT_GE(unclosed.line, 2);
  EXPECT_GE(unclosed.column, 1);
  auto indent = issue_of("run:\n  years: 3\n bad: 1\n");
  EXPECT_TRUE(contains(indent.message, "YAML syntax error")) << indent.message;
  EXPECT_EQ(indent.line, 3);
}

TEST(ScenarioErrors, EncodingAndBinaryJunk) {
  auto utf8 = issue_of(std::string("name: ok\ndescription: caf\xc3\xa9 \xff\xfe\n"));
  EXPECT_TRUE(contains(utf8.message, "invalid UTF-8 (byte 0xFF)")) << utf8.message;
  EXPECT_EQ(utf8.line, 2);
  EXPECT_EQ(utf8.column, 19);  // characters, not bytes: "description: café " is 18
  auto nul = issue_of(std::string("name: a\0b\n", 10));
  EXPECT_TRUE(contains(nul.message, "NUL byte"));
  EXPECT_EQ(nul.column, 8);
  EXPECT_TRUE(contains(issue_of("name: a\x07\n").message, "control character U+0007"));
  EXPECT_TRUE(contains(issue_of("name: \xed\xa0\x80\n").message, "invalid UTF-8"));  // a surrogate
  EXPECT_TRUE(contains(issue_of("name: \xc0\xaf\n").message, "invalid UTF-8"));      // overlong
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 7919 + 13) & 0xff);
  EXPECT_FALSE(issues_of(junk).empty());
  // Non-ASCII text is fine.
  EXPECT_EQ(load("description: \"Haku Wiñay — Noa Jayatai\"\n").description, "Haku Wiñay — Noa Jayatai");
}

TEST(ScenarioErrors, HostileInputIsRefusedCheaply) {
  std::string deep = "a: ";
  for (int i = 0; i < 5000; ++i) deep += "[";
  for (int i = 0; i < 5000; ++i) deep += "]";
  EXPECT_TRUE(contains(issue_of(deep).message, "nesting deeper than 64 levels"));

  std::string block_deep;
  for (int i = 0; i < 100; ++i) block_deep.append(2 * i, ' ').append("k").append(std::to_string(i)).append(":\n");
  EXPECT_TRUE(contains(issue_of(block_deep).message, "nesting deeper"));

  // "Billion laughs": nine levels of ten aliases each expand to 10^9 nodes.
  std::string bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i <= 9; ++i) {
    const std::string n = std::to_string(i);
    const std::string prev = std::string("*a") + std::to_string(i - 1);
    bomb.append("a").append(n).append(": &a").append(n).append(" [");
    for (int j = 0; j < 10; ++j) bomb.append(j ? ", " : "").append(prev);
    bomb += "]\n";
  }
  auto i = issue_of(bomb);
  EXPECT_TRUE(contains(i.message, "expands to more than")) << i.message;

  std::string big(17u << 20, '#');
  EXPECT_TRUE(contains(issue_of(big).message, "too large"));

  // So many problems that collecting them all would be a denial of service: stop after 100.
  std::string many;
  for (int k = 0; k < 1000; ++k) many.append("unknown_").append(std::to_string(k)).append(": 1\n");
  auto all = issues_of(many);
  ASSERT_EQ(all.size(), 101u);
  EXPECT_TRUE(contains(all.back().message, "too many problems"));
}

TEST(ScenarioLoad, BenignAliasesAreAllowed) {
  Scenario s = load(
      "arms:\n  - name: a\n    set: &off {juntos.enabled: false, haku_winay.enabled: false}\n"
      "  - name: b\n    set: *off\n");
  ASSERT_EQ(s.arms.size(), 2u);
  EXPECT_FALSE(s.arms[1].params.boolean("juntos.enabled"));
  EXPECT_FALSE(s.arms[1].params.boolean("haku_winay.enabled"));
}

TEST(ScenarioErrors, AllProblemsAreReportedTogether) {
  const std::string text =
      "run:\n"
      "  years: 0\n"
      "juntos.transfer: 200\n"
      "arms:\n"
      "  - name: a\n"
      "    set: {population.households: 5}\n";
  try {
    load(text);
    FAIL() << "accepted";
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.issues().size(), 3u);
    EXPECT_EQ(e.issues()[0].line, 2);
    EXPECT_EQ(e.issues()[1].line, 3);
    EXPECT_EQ(e.issues()[2].line, 6);
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("invalid scenario test.yaml: 3 problems\n", 0), 0u) << what;
    EXPECT_TRUE(contains(what, "\ntest.yaml:2:10: run.years: expected an integer in [1, 200] (unit: years), got 0\n"))
        << what;
    EXPECT_TRUE(contains(what, "\ntest.yaml:3:1: juntos.transfer: unknown key 'juntos.transfer' (did you mean "
                               "'juntos.transfer_pen'?)\n"))
        << what;
    EXPECT_TRUE(contains(what, "test.yaml:6:11: arms[0].set.population.households: arms share one population"))
        << what;
  }
}

TEST(ScenarioErrors, CrossChecksJoinOtherProblems) {
  auto all = issues_of(
      "juntos.transfer: 1\n"
      "population.share_amazon: 0.5\n"
      "run.reference_arm: nobody\n"
      "arms: [{name: a}]\n");
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].message, "unknown key 'juntos.transfer'");
  EXPECT_TRUE(contains(all[1].message, "region shares must sum to 1"));
  EXPECT_EQ(all[2].message, "no arm is named 'nobody'");
  // A broken arms list does not also produce a misleading reference-arm problem.
  auto broken = issues_of("run.reference_arm: a\narms: [{name: a b}]\n");
  ASSERT_EQ(broken.size(), 1u);
  EXPECT_EQ(broken[0].key, "arms[0].name");
}

TEST(ScenarioIssue, FormatAndErrorText) {
  ConfigIssue full{"f.yaml", 3, 7, "a.b", "bad", "try c"};
  EXPECT_EQ(full.format(), "f.yaml:3:7: a.b: bad (try c)");
  ConfigIssue bare{"--set", 0, 0, "a.b", "bad", ""};
  EXPECT_EQ(bare.format(), "--set: a.b: bad");
  ConfigIssue nokey{"f.yaml", 1, 1, "", "empty", ""};
  EXPECT_EQ(nokey.format(), "f.yaml:1:1: empty");
  ConfigError one({full});
  EXPECT_EQ(std::string(one.what()), "invalid scenario f.yaml: 1 problem\nf.yaml:3:7: a.b: bad (try c)");
}

TEST(ScenarioSet, OverridesBaseAndArms) {
  Scenario s = load(kExample, {"juntos.transfer_pen=175", "arms.both.haku_winay.targeting=district_poverty",
                               "run.years=3", "output.variables=[income, assets]", "name=renamed",
                               "arms.richer_transfer.juntos.transfer_pen=400"});
  EXPECT_EQ(s.name, "renamed");
  EXPECT_EQ(s.base.real("juntos.transfer_pen"), 175.0);
  EXPECT_EQ(s.base.integer("run.years"), 3);
  EXPECT_EQ(s.base.text_list("output.variables"), (std::vector<std::string>{"income", "assets"}));
  // The base override reaches every arm that does not set the parameter itself.
  EXPECT_EQ(s.find_arm("no_programme")->params.real("juntos.transfer_pen"), 175.0);
  EXPECT_EQ(s.find_arm("both")->params.real("juntos.transfer_pen"), 175.0);
  EXPECT_EQ(s.find_arm("both")->params.choice("haku_winay.targeting"), "district_poverty");
  EXPECT_EQ(s.find_arm("juntos_only")->params.choice("haku_winay.targeting"), "juntos_share");
  const Arm* richer = s.find_arm("richer_transfer");
  EXPECT_EQ(richer->params.real("juntos.transfer_pen"), 400.0);
  ASSERT_EQ(richer->overrides.size(), 1u);  // replaced in place, not appended
  EXPECT_EQ(std::get<double>(richer->overrides[0].second), 400.0);

  Scenario plain = load("juntos.enabled: true\n", {"juntos.enabled=off", "output.variables=a,b",
                                                   "run.reference_arm=", "haku_winay.targeting=\"juntos_share\""});
  EXPECT_FALSE(plain.base.boolean("juntos.enabled"));
  EXPECT_EQ(plain.base.text_list("output.variables"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(plain.base.choice("haku_winay.targeting"), "juntos_share");
}

TEST(ScenarioSet, FailuresAreReportedWithTheSetLabel) {
  auto unknown = issue_of("run.years: 2\n", {"juntos.transfer=5"});
  EXPECT_EQ(unknown.file, "--set");
  EXPECT_EQ(unknown.line, 0);
  EXPECT_EQ(unknown.key, "juntos.transfer");
  EXPECT_EQ(unknown.hint, "did you mean 'juntos.transfer_pen'?");
  EXPECT_EQ(unknown.format(),
            "--set: juntos.transfer: unknown key 'juntos.transfer' (did you mean 'juntos.transfer_pen'?)");

  EXPECT_EQ(issue_of("run.years: 2\n", {"run.years=abc"}).message,
            "expected an integer in [1, 200] (unit: years), got 'abc'");
  EXPECT_EQ(issue_of("run.years: 2\n", {"run.years=[1]"}).message,
            "expected an integer in [1, 200] (unit: years), got a list");
  EXPECT_EQ(issue_of("run.years: 2\n", {"run.years"}).message, "expected 'dotted.path=value'");
  EXPECT_EQ(issue_of("run.years: 2\n", {"juntos=1"}).message, "'juntos' is a section, not a parameter");
  EXPECT_TRUE(contains(issue_of("run.years: 2\n", {"juntos.transfer_pen=.nan"}).message, "not a number"));
  auto arm = issue_of(kExample, {"arms.bothh.juntos.enabled=false"});
  EXPECT_EQ(arm.message, "no arm is named 'bothh'");
  EXPECT_EQ(arm.hint, "did you mean 'both'?");
  EXPECT_EQ(issue_of(kExample, {"arms.both.run.years=2"}).message,
            "arms share one calendar and run settings; set run.years at the top level");
  EXPECT_EQ(issue_of(kExample, {"arms.both=1"}).message, "expected 'arms.NAME.dotted.path=value'");
  auto choice = issue_of("run.years: 2\n", {"output.frequency=yearli"});
  EXPECT_EQ(choice.hint, "did you mean 'yearly'?");
  // A --set constraint violation points at the --set.
  auto constraint = issue_of("run.years: 2\n", {"haku_winay.min_share=0.95"});
  EXPECT_EQ(constraint.file, "--set");
  EXPECT_EQ(constraint.key, "haku_winay.min_share");
  // File problems and --set problems come together, the file's first.
  EXPECT_EQ(issue_of("run.years: 2\n", {"=5"}).message, "expected 'dotted.path=value'");
  auto both = issues_of("run.years: 0\n", {"juntos.enabled=perhaps"});
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].file, "test.yaml");
  EXPECT_EQ(both[1].file, "--set");
}

void expect_same(const Scenario& a, const Scenario& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.base.values(), b.base.values());
  ASSERT_EQ(a.arms.size(), b.arms.size());
  for (std::size_t i = 0; i < a.arms.size(); ++i) {
    EXPECT_EQ(a.arms[i].name, b.arms[i].name);
    EXPECT_EQ(a.arms[i].description, b.arms[i].description);
    EXPECT_EQ(a.arms[i].params.values(), b.arms[i].params.values()) << a.arms[i].name;
    EXPECT_EQ(a.arms[i].overrides, b.arms[i].overrides) << a.arms[i].name;
  }
}

TEST(ScenarioResolved, RoundTripsExactly) {
  Scenario s = load(kExample, {"juntos.transfer_pen=0.30000000000000004", "population.mean_ubn_share=0.1",
                               "output.variables=[income, \"odd, name\"]", "description=quote \" and\nnewline",
                               "arms.both.juntos.transfer_pen=333.3333333333333"});
  const std::string yaml = s.resolved_yaml();
  Scenario back = load_scenario_text(yaml, "resolved.yaml", registry());
  expect_same(s, back);
  EXPECT_EQ(back.base.real("juntos.transfer_pen"), 0.1 + 0.2);
  // Every parameter is written out, nested by section.
  for (const char* key : {"population:", "  households: 3000", "haku_winay:", "  business:", "    grant_pen: 12000.5",
                          "reference_arm: \"no_programme\"", "arms:"})
    EXPECT_TRUE(contains(yaml, key)) << key << "\n" << yaml;
  // Resolving again gives the same text.
  EXPECT_EQ(back.resolved_yaml(), yaml);

  Scenario defaults = load("name: x\n");
  expect_same(defaults, load_scenario_text(defaults.resolved_yaml(), "r.yaml", registry()));
}

class ScenarioFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("chacra_scenario_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  static ConfigIssue file_issue(const std::string& path) {
    try {
      load_scenario_file(path, registry());
    } catch (const ConfigError& e) {
      EXPECT_EQ(e.issues().size(), 1u);
      return e.issues().front();
    }
    ADD_FAILURE() << path << " accepted";
    return {};
  }
  std::filesystem::path dir_;
};

TEST_F(ScenarioFiles, ReadsAFileAndNamesItInErrors) {
  const std::string good = write("good.yaml", kExample);
  Scenario s = load_scenario_file(good, registry(), {"run.years=5"});
  EXPECT_EQ(s.path, good);
  EXPECT_EQ(s.base.integer("run.years"), 5);
  auto i = file_issue(write("bad.yaml", "run.years: 0\n"));
  EXPECT_EQ(i.file, (dir_ / "bad.yaml").string());
  EXPECT_EQ(i.line, 1);
}

TEST_F(ScenarioFiles, UnreadableFiles) {
  auto missing = file_issue((dir_ / "missing.yaml").string());
  EXPECT_TRUE(contains(missing.message, "no such file"));
  auto dir = file_issue(dir_.string());
  EXPECT_TRUE(contains(dir.message, "directory"));
  const auto big = dir_ / "big.yaml";
  { std::ofstream(big) << "x"; }
  std::filesystem::resize_file(big, 17u << 20);  // sparse: cheap to make
  EXPECT_TRUE(contains(file_issue(big.string()).message, "too large"));
  try {
    load_scenario_file((dir_ / "missing.yaml").string(), registry());
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("invalid scenario " + (dir_ / "missing.yaml").string() + ": 1 problem", 0),
              0u);
  }
}

// docs/scenarios.md's full example uses the real programme parameters (rule_2017, income_monetary_pen), which
// the test registry here does not have: the docs test (tests/docs, label docs) validates it and runs it with the
// chacra executable. kExample above is the same format with this registry's names.

// Each file of tests/sim/data/bad must fail, and its message must contain every "# expect: ..." line.
TEST(ScenarioBadCorpus, EveryFileFailsWithItsMessage) {
  const std::filesystem::path dir = std::filesystem::path(CHACRA_SOURCE_DIR) / "tests/sim/data/bad";
  ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    std::vector<std::string> expected;
    std::istringstream lines(buf.str());
    for (std::string line; std::getline(lines, line);)
      if (line.rfind("# expect: ", 0) == 0) expected.push_back(line.substr(10));
    EXPECT_FALSE(expected.empty()) << entry.path() << " has no '# expect: ' line";
    try {
      load_scenario_file(entry.path().string(), registry());
      ADD_FAILURE() << entry.path() << " was accepted";
    } catch (const ConfigError& e) {
      for (const auto& x : expected) EXPECT_TRUE(contains(e.what(), x)) << entry.path() << "\nwanted: " << x
                                                                     << "\ngot: " << e.what();
    }
  }
  EXPECT_GE(files, 5u);
}

}  // namespace
}  // namespace chacra
