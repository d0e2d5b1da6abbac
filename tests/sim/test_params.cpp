// Tests of the parameter registry: builders, lookup and suggestions, checking and parsing of values,
// the three listings (table, Markdown, JSON) and ParamSet.
#include "sim/engine_params.hpp"
#include "sim/params.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <set>
#include <sstream>

namespace chacra {
namespace {

Registry make_registry() {
  Registry r;
  register_engine_params(r);
  r.real("juntos.transfer_pen", 200, 0, 10000, "PEN per two months", "Juntos transfer per payment", "Test");
  r.boolean("juntos.enabled", true, "Whether Juntos runs", "Test");
  r.boolean("haku_winay.enabled", true, "Whether Haku Wiñay runs", "Test");
  r.choice("haku_winay.targeting", "ubn_share", {"ubn_share", "juntos_share", "district_poverty"},
           "Targeting rule of Haku Wiñay", "Test");
  r.integer("haku_winay.cohort_households", 100, 40, 200, "households", "Households per executing nucleus", "Test");
  return r;
}

template <typename T>
T parsed(const Registry& r, const std::string& name, const std::string& text) {
  auto res = r.parse(*r.find(name), text);
  if (auto* err = std::get_if<std::string>(&res)) {
    ADD_FAILURE() << "parse of '" << text << "' failed: " << *err;
    return T{};
  }
  return std::get<T>(std::get<ParamValue>(res));
}

std::string parse_error(const Registry& r, const std::string& name, const std::string& text) {
  auto res = r.parse(*r.find(name), text);
  if (auto* err = std::get_if<std::string>(&res)) return *err;
  ADD_FAILURE() << "parse of '" << text << "' for " << name << " unexpectedly succeeded";
  return "";
}

TEST(ParamsRegistry, BuildersRejectProgrammingErrors) {
  Registry r = make_registry();
  EXPECT_THROW(r.real("juntos.transfer_pen", 1, 0, 2, "", "", ""), std::logic_error);
  EXPECT_THROW(r.boolean("juntos.enabled", false, "", ""), std::logic_error);
  EXPECT_THROW(r.real("juntos", 1, 0, 2, "", "", ""), std::logic_error);           // is a section
  EXPECT_THROW(r.real("juntos.enabled.x", 1, 0, 2, "", "", ""), std::logic_error);  // under a parameter
  EXPECT_THROW(r.real("bad name", 1, 0, 2, "", "", ""), std::logic_error);
  EXPECT_THROW(r.real("a..b", 1, 0, 2, "", "", ""), std::logic_error);
  EXPECT_THROW(r.real("arms.x", 1, 0, 2, "", "", ""), std::logic_error);            // reserved by scenarios
  EXPECT_THROW(r.real("x.y", 5, 0, 2, "", "", ""), std::logic_error);               // default out of range
  EXPECT_THROW(r.choice("x.z", "c", {"a", "b"}, "", ""), std::logic_error);         // default not a choice
  EXPECT_THROW(r.constraint({"c", {"no.such"}, [](const ParamSet&) { return std::optional<std::string>(); }}),
               std::logic_error);
  try {
    r.integer("run.years", 1, 1, 2, "", "", "");
    FAIL() << "duplicate accepted";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("run.years"), std::string::npos);
  }
  EXPECT_EQ(r.find("x.y"), nullptr);  // failed registrations leave nothing behind
}

TEST(ParamsRegistry, FindSectionsAndChildren) {
  Registry r = make_registry();
  ASSERT_NE(r.find("juntos.transfer_pen"), nullptr);
  EXPECT_EQ(r.find("juntos.transfer_pen")->type, ParamType::real);
  EXPECT_EQ(r.find("juntos.transfer"), nullptr);
  EXPECT_TRUE(r.is_section("juntos"));
  EXPECT_TRUE(r.is_section("population"));
  EXPECT_FALSE(r.is_section("junt"));
  EXPECT_FALSE(r.is_section("juntos.transfer_pen"));
  auto sections = r.sections();
  EXPECT_EQ(sections, (std::vector<std::string>{"population", "run", "output", "juntos", "haku_winay"}));
  EXPECT_EQ(r.children("juntos"), (std::vector<std::string>{"transfer_pen", "enabled"}));
  auto top = r.children("");
  EXPECT_EQ(top, sections);
}

TEST(ParamsRegistry, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("enabled", "enabeld"), 2u);
}

TEST(ParamsRegistry, NearestSuggestsLikelyMisspellings) {
  Registry r = make_registry();
  auto first = [&](const std::string& name) {
    auto n = r.nearest(name);
    return n.empty() ? std::string("<none>") : n.front();
  };
  EXPECT_EQ(first("juntos.transfer"), "juntos.transfer_pen");
  EXPECT_EQ(first("juntos.enabeld"), "juntos.enabled");
  EXPECT_EQ(first("haku_winay.enabeld"), "haku_winay.enabled");
  EXPECT_EQ(first("transfer_pen"), "juntos.transfer_pen");  // section left out
  EXPECT_EQ(first("run.seeds"), "run.seed");
  EXPECT_EQ(first("population.housholds"), "population.households");
  EXPECT_EQ(first("haku_winay.transfer_pen"), "juntos.transfer_pen");  // wrong section
  EXPECT_TRUE(r.nearest("completely.unrelated_thing").empty());
  EXPECT_TRUE(r.nearest("zz").empty());
  EXPECT_LE(r.nearest("population.share", 3).size(), 3u);
  EXPECT_TRUE(r.nearest(std::string(100000, 'x')).empty());  // no quadratic work on hostile keys
}

TEST(ParamsCheck, RangeTypeAndChoiceMessages) {
  Registry r = make_registry();
  const ParamSpec& share = *r.find("population.mean_ubn_share");
  EXPECT_FALSE(r.check(share, 0.5));
  EXPECT_FALSE(r.check(share, 0.0));
  EXPECT_FALSE(r.check(share, 1.0));
  EXPECT_EQ(r.check(share, 1.5).value_or(""), "expected a number in [0, 1] (unit: share), got 1.5");
  EXPECT_EQ(r.check(share, std::string("x")).value_or(""), "expected a number in [0, 1] (unit: share), got a text");
  EXPECT_NE(r.check(share, std::numeric_limits<double>::quiet_NaN()).value_or("").find("got .nan"),
            std::string::npos);
  EXPECT_NE(r.check(share, std::numeric_limits<double>::infinity()).value_or("").find("got .inf"),
            std::string::npos);

  const ParamSpec& years = *r.find("run.years");
  EXPECT_EQ(r.check(years, std::int64_t{500}).value_or(""), "expected an integer in [1, 200] (unit: years), got 500");
  EXPECT_TRUE(r.check(years, 8.0).has_value());  // a real is not an integer

  const ParamSpec& freq = *r.find("output.frequency");
  EXPECT_FALSE(r.check(freq, std::string("monthly")));
  EXPECT_EQ(r.check(freq, std::string("weekly")).value_or(""),
            "expected one of 'monthly', 'quarterly', 'yearly', got 'weekly'");
  EXPECT_FALSE(r.check(*r.find("run.reference_arm"), std::string("anything")));  // no choices: any text

  const ParamSpec& flag = *r.find("juntos.enabled");
  EXPECT_EQ(r.check(flag, 1.0).value_or(""), "expected true or false, got a number");

  const ParamSpec& vars = *r.find("output.variables");
  EXPECT_FALSE(r.check(vars, std::vector<std::string>{"income", "assets"}));
  EXPECT_NE(r.check(vars, std::vector<std::string>{"income", "income"}).value_or("").find("twice"), std::string::npos);
}

TEST(ParamsParse, RealsAcceptIntegersAndRejectJunk) {
  Registry r = make_registry();
  EXPECT_EQ(parsed<double>(r, "juntos.transfer_pen", "200"), 200.0);
  EXPECT_EQ(parsed<double>(r, "juntos.transfer_pen", " 250.5 "), 250.5);
  EXPECT_EQ(parsed<double>(r, "juntos.transfer_pen", "1e3"), 1000.0);
  EXPECT_EQ(parsed<double>(r, "juntos.transfer_pen", "+7"), 7.0);
  EXPECT_EQ(parse_error(r, "juntos.transfer_pen", "abc"),
            "expected a number in [0, 10000] (unit: PEN per two months), got 'abc'");
  EXPECT_EQ(parse_error(r, "juntos.transfer_pen", "20000"),
            "expected a number in [0, 10000] (unit: PEN per two months), got 20000");
  EXPECT_NE(parse_error(r, "juntos.transfer_pen", ".nan").find("not a number"), std::string::npos);
  EXPECT_NE(parse_error(r, "juntos.transfer_pen", ".inf").find("infinite"), std::string::npos);
  EXPECT_NE(parse_error(r, "juntos.transfer_pen", "inf").find("infinite"), std::string::npos);
  parse_error(r, "juntos.transfer_pen", "200 PEN");
  parse_error(r, "juntos.transfer_pen", "");
  parse_error(r, "juntos.transfer_pen", "1e999");
}

TEST(ParamsParse, IntegersAreExact) {
  Registry r = make_registry();
  EXPECT_EQ(parsed<std::int64_t>(r, "population.households", "20000"), 20000);
  EXPECT_EQ(parsed<std::int64_t>(r, "population.households", "2e4"), 20000);
  EXPECT_EQ(parsed<std::int64_t>(r, "population.seed", "9007199254740991"), 9007199254740991);
  EXPECT_EQ(parse_error(r, "run.years", "1.5"), "expected an integer in [1, 200] (unit: years), got '1.5'");
  EXPECT_NE(parse_error(r, "population.seed", "99999999999999999999").find("64-bit"), std::string::npos);
  parse_error(r, "run.years", "0");
  parse_error(r, "run.years", "eight");
}

TEST(ParamsParse, BooleansChoicesAndLists) {
  Registry r = make_registry();
  for (const char* t : {"true", "True", "yes", "on", "1", "TRUE"}) EXPECT_TRUE(parsed<bool>(r, "juntos.enabled", t));
  for (const char* t : {"false", "no", "off", "0", "Off"}) EXPECT_FALSE(parsed<bool>(r, "juntos.enabled", t));
  EXPECT_EQ(parse_error(r, "juntos.enabled", "maybe"), "expected true or false, got 'maybe'");
  EXPECT_EQ(parsed<std::string>(r, "output.frequency", "monthly"), "monthly");
  parse_error(r, "output.frequency", "weekly");
  EXPECT_EQ(parsed<std::string>(r, "run.reference_arm", "any_arm"), "any_arm");
  using List = std::vector<std::string>;
  EXPECT_EQ(parsed<List>(r, "output.variables", "a,b,c"), (List{"a", "b", "c"}));
  EXPECT_EQ(parsed<List>(r, "output.variables", "[a, b]"), (List{"a", "b"}));
  EXPECT_EQ(parsed<List>(r, "output.variables", "[]"), List{});
  EXPECT_EQ(parsed<List>(r, "output.variables", ""), List{});
  parse_error(r, "output.variables", "[a, b");
}

TEST(ParamsFormat, ShortestRoundTrip) {
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(200.0), "200");
  EXPECT_EQ(format_value(std::int64_t{-3}), "-3");
  EXPECT_EQ(format_value(true), "true");
  EXPECT_EQ(format_value(std::string("x")), "x");
  EXPECT_EQ(format_value(std::vector<std::string>{"a", "b"}), "[a, b]");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), ".inf");
  for (double d : {1.0 / 3.0, 0.1 + 0.2, 1e-300, 6.02214076e23, -2.5e-7}) {
    std::string s = format_value(d);
    EXPECT_EQ(std::stod(s), d) << s;
  }
}

TEST(ParamsSet, DefaultsGettersAndTypeErrors) {
  Registry r = make_registry();
  ParamSet p(r);
  EXPECT_EQ(p.integer("population.households"), 20000);
  EXPECT_EQ(p.real("juntos.transfer_pen"), 200.0);
  EXPECT_TRUE(p.boolean("juntos.enabled"));
  EXPECT_EQ(p.choice("haku_winay.targeting"), "ubn_share");
  EXPECT_TRUE(p.text_list("output.variables").empty());
  EXPECT_TRUE(p.is_default("juntos.transfer_pen"));
  EXPECT_EQ(p.values().size(), r.specs().size());
  try {
    (void)p.real("population.households");
    FAIL() << "wrong type accepted";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("population.households"), std::string::npos);
  }
  try {
    (void)p.boolean("no.such");
    FAIL() << "unknown name accepted";
  } catch (const std::logic_error& e) {
    EXPECT_NE(std::string(e.what()).find("no.such"), std::string::npos);
  }
  EXPECT_THROW(p.set("no.such", 1.0), std::out_of_range);
  EXPECT_THROW(p.set("juntos.enabled", std::string("yes")), std::logic_error);
  p.set("juntos.transfer_pen", 300.0);
  EXPECT_EQ(p.real("juntos.transfer_pen"), 300.0);
  EXPECT_FALSE(p.is_default("juntos.transfer_pen"));
  p.set("juntos.transfer_pen", std::int64_t{250});  // an integral value for a real is stored as a real
  EXPECT_EQ(p.real("juntos.transfer_pen"), 250.0);
}

TEST(ParamsSet, ViolationsRunConstraints) {
  Registry r = make_registry();
  ParamSet p(r);
  EXPECT_TRUE(p.violations().empty());
  p.set("population.share_amazon", 0.5);
  auto v = p.violations();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].find("population.region_shares_sum_to_one"), std::string::npos);
  EXPECT_NE(v[0].find("sum to 1.35"), std::string::npos);
  p.set("population.districts", std::int64_t{30000});
  EXPECT_EQ(p.violations().size(), 2u);
}

TEST(ParamsListing, TableIsAligned) {
  Registry r = make_registry();
  std::istringstream in(r.to_table());
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), r.specs().size() + 1);
  EXPECT_EQ(lines[0].rfind("name", 0), 0u);
  const auto type_col = lines[0].find("type");
  const auto default_col = lines[0].find("default");
  ASSERT_NE(type_col, std::string::npos);
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const ParamSpec& s = r.specs()[i - 1];
    EXPECT_EQ(lines[i].rfind(s.name, 0), 0u);
    EXPECT_EQ(lines[i].substr(type_col, std::string(to_string(s.type)).size()), to_string(s.type)) << lines[i];
    EXPECT_NE(lines[i][default_col], ' ') << lines[i];
    EXPECT_EQ(lines[i][default_col - 1], ' ') << lines[i];
  }
  EXPECT_NE(r.to_table().find("[0, 10000]"), std::string::npos);
}

TEST(ParamsListing, MarkdownHasEverySectionAndParameter) {
  Registry r = make_registry();
  const std::string md = r.to_markdown();
  for (const auto& s : r.specs()) EXPECT_NE(md.find("`" + s.name + "`"), std::string::npos) << s.name;
  for (const char* sec : {"## `population`", "## `run`", "## `output`", "## `juntos`", "## `haku_winay`"})
    EXPECT_NE(md.find(sec), std::string::npos) << sec;
  EXPECT_LT(md.find("## `population`"), md.find("## `juntos`"));
  // One table row per parameter.
  std::size_t rows = 0;
  std::istringstream in(md);
  for (std::string line; std::getline(in, line);)
    if (line.rfind("| `", 0) == 0) ++rows;
  EXPECT_EQ(rows, r.specs().size());
}

TEST(ParamsListing, JsonParsesWithEveryField) {
  Registry r = make_registry();
  r.real("test.tricky", -1, -std::numeric_limits<double>::infinity(), 0, "",
         "quote \" backslash \\ newline \n tab \t end", "Test");
  const std::string json = r.to_json();
  nlohmann::json tree;
  ASSERT_NO_THROW(tree = nlohmann::json::parse(json)) << json;
  ASSERT_TRUE(tree.is_array());
  ASSERT_EQ(tree.size(), r.specs().size());
  std::size_t i = 0;
  for (const auto& obj : tree) {
    const ParamSpec& s = r.specs()[i++];
    EXPECT_EQ(obj.at("name"), s.name);
    EXPECT_EQ(obj.at("type"), to_string(s.type));
    for (const char* field : {"default", "min", "max", "choices", "unit", "description", "source"})
      EXPECT_TRUE(obj.contains(field)) << s.name << " lacks " << field;
    EXPECT_EQ(obj.at("description"), s.description);
  }
  const auto& tricky = tree.back();
  EXPECT_TRUE(tricky.at("min").is_null());  // -inf is written as null
  EXPECT_EQ(tricky.at("max"), 0.0);
  const auto& households = tree.front();
  EXPECT_EQ(households.at("default"), 20000);
  EXPECT_TRUE(households.at("max").is_number_integer());
  EXPECT_EQ(households.at("max"), 100000000);
  bool frequency = false;
  for (const auto& obj : tree)
    if (obj.at("choices") == nlohmann::json::array({"monthly", "quarterly", "yearly"})) frequency = true;
  EXPECT_TRUE(frequency) << json;
}

}  // namespace
}  // namespace chacra
