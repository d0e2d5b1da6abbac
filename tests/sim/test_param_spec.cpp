// Parameters declared once (sim/param_spec.hpp): one describe() registers a struct's parameters with its
// initial values as defaults, reads a resolved set back into the struct (choices into enums, years into
// months), and turns typed checks into registry constraints that name the parameters they read.
#include "sim/param_spec.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace chacra {
namespace {

enum class Colour : std::uint8_t { red, green };
constexpr Choice<Colour> kColours[] = {{"red", Colour::red}, {"green", Colour::green}};

struct Example {
  double rate = 0.25;
  int count = 3;
  int age_months = 18 * 12;
  bool on = true;
  Colour colour = Colour::green;
  std::string mode = "fast";
  std::vector<std::string> tags = {"x"};
  double low = 1.0, high = 2.0;

  template <class V> void describe(V& v) {
    v.real("ex.rate", rate, {0, 1}, "share", "A rate", "Assumption");
    v.integer("ex.count", count, {0, 10}, "items", "A count", "Assumption");
    v.years_as_months("ex.age_years", age_months, {0, 30}, "An age", "Assumption");
    v.boolean("ex.on", on, "A switch", "Scenario choice");
    v.choice("ex.colour", colour, kColours, "A colour", "Scenario choice");
    v.choice("ex.mode", mode, {"fast", "slow"}, "A mode", "Scenario choice");
    v.text_list("ex.tags", tags, {}, "Some tags", "Scenario choice");
    v.real("ex.low", low, {0, 10}, "", "Lower", "Assumption");
    v.real("ex.high", high, {0, 10}, "", "Upper", "Assumption");
    v.constraint(
        "ex.low_below_high",
        [](const Example& e) -> std::optional<std::string> {
          if (e.low >= e.high) return "ex.low must be below ex.high";
          return std::nullopt;
        },
        low, high);
  }
};

TEST(ParamSpec, DeclaresEntriesWithTheStructsDefaults) {
  Registry r;
  declare_params<Example>(r);
  ASSERT_EQ(r.specs().size(), 9u);
  const ParamSpec* rate = r.find("ex.rate");
  ASSERT_NE(rate, nullptr);
  EXPECT_EQ(std::get<double>(rate->default_value), 0.25);
  EXPECT_EQ(rate->max, 1.0);
  EXPECT_EQ(rate->unit, "share");
  EXPECT_EQ(std::get<std::int64_t>(r.find("ex.age_years")->default_value), 18);
  EXPECT_EQ(r.find("ex.age_years")->unit, "years");
  EXPECT_EQ(std::get<std::string>(r.find("ex.colour")->default_value), "green");
  EXPECT_EQ(r.find("ex.colour")->choices, (std::vector<std::string>{"red", "green"}));
  EXPECT_EQ(r.find("ex.mode")->choices, (std::vector<std::string>{"fast", "slow"}));
  EXPECT_EQ(std::get<std::string>(r.find("ex.mode")->default_value), "fast");
  ASSERT_EQ(r.constraints().size(), 1u);
  EXPECT_EQ(r.constraints()[0].params, (std::vector<std::string>{"ex.low", "ex.high"}));
}

TEST(ParamSpec, ReadsChoicesIntoEnumsAndYearsIntoMonths) {
  Registry r;
  declare_params<Example>(r);
  ParamSet set(r);
  set.set("ex.colour", std::string("red"));
  set.set("ex.age_years", std::int64_t{5});
  set.set("ex.mode", std::string("slow"));
  set.set("ex.count", std::int64_t{7});
  const Example e = read_params<Example>(set);
  EXPECT_EQ(e.colour, Colour::red);
  EXPECT_EQ(e.age_months, 60);
  EXPECT_EQ(e.mode, "slow");
  EXPECT_EQ(e.count, 7);
  EXPECT_EQ(e.rate, 0.25);
  EXPECT_EQ(e.tags, (std::vector<std::string>{"x"}));
}

TEST(ParamSpec, ConstraintsCheckTheTypedStruct) {
  Registry r;
  declare_params<Example>(r);
  ParamSet set(r);
  EXPECT_TRUE(set.violations().empty());
  set.set("ex.low", 3.0);
  const auto v = set.violations();
  ASSERT_EQ(v.size(), 1u);
  EXPECT_NE(v[0].find("ex.low must be below ex.high"), std::string::npos);
}

struct NotWholeYears {
  int months = 13;
  template <class V> void describe(V& v) { v.years_as_months("bad.years", months, {0, 5}, "", ""); }
};
struct UnknownConstraintField {
  double a = 0, b = 0;
  template <class V> void describe(V& v) {
    v.real("bad.a", a, {0, 1}, "", "", "");
    v.constraint("bad.c", [](const UnknownConstraintField&) -> std::optional<std::string> { return std::nullopt; }, b);
  }
};
struct BorrowsUnknown {
  double a = 0;
  template <class V> void describe(V& v) { v.borrow("other.a", a); }
};

TEST(ParamSpec, DeclarationMistakesAreProgrammingErrors) {
  Registry r;
  EXPECT_THROW(declare_params<NotWholeYears>(r), std::logic_error);
  EXPECT_THROW(declare_params<UnknownConstraintField>(r), std::logic_error);
  EXPECT_THROW(declare_params<BorrowsUnknown>(r), std::logic_error);
}

}  // namespace
}  // namespace chacra
