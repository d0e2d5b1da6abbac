// Columns declared once (Col<T>): a table creates a column from its declaration, finds it in O(1) by key in
// the table and in every copy of it, checks its type and width, and refuses two names with one key.
#include "sim/table.hpp"

#include <gtest/gtest.h>

#include <array>
#include <stdexcept>
#include <string>

namespace chacra {
namespace {

constexpr std::array<const char*, 3> kLabels = {"a", "b", "c"};
constexpr Col<float> kIncome{.name = "income_pen", .unit = "PEN", .description = "Income", .panel = true,
                             .aggregation = PeriodAggregation::sum};
constexpr Col<std::uint8_t> kState{.name = "state", .unit = "0/1", .description = "State", .width = 3,
                                   .labels = kLabels};

TEST(TableColumns, DeclarationCreatesTheColumnWithItsMetadata) {
  Table t(4);
  float* income = t.add(kIncome);
  std::uint8_t* state = t.add(kState);
  const ColumnInfo& i = t.info("income_pen");
  EXPECT_EQ(i.type, ColumnType::f32);
  EXPECT_EQ(i.unit, "PEN");
  EXPECT_EQ(i.description, "Income");
  EXPECT_TRUE(i.panel);
  EXPECT_EQ(i.aggregation, PeriodAggregation::sum);
  const ColumnInfo& s = t.info("state");
  EXPECT_EQ(s.width, 3);
  EXPECT_EQ(s.labels, (std::vector<std::string>{"a", "b", "c"}));
  // The declaration and the name find the same storage; adding it again returns it.
  EXPECT_EQ(t.get(kIncome), income);
  EXPECT_EQ(t.get<float>("income_pen"), income);
  EXPECT_EQ(t.get(kState), state);
  EXPECT_EQ(t.add(kIncome), income);
  EXPECT_TRUE(t.has(kIncome));
}

TEST(TableColumns, LookupsFollowCopiesAndManyColumns) {
  Table t(8);
  std::vector<Col<double>> cols;
  std::vector<std::string> names;
  for (int k = 0; k < 40; ++k) names.push_back("column_" + std::to_string(k));  // more than the first index holds
  for (int k = 0; k < 40; ++k) cols.push_back(Col<double>{.name = names[static_cast<std::size_t>(k)]});
  for (int k = 0; k < 40; ++k) t.add(cols[static_cast<std::size_t>(k)])[3] = k;
  const Table copy = t;
  for (int k = 0; k < 40; ++k) {
    EXPECT_EQ(copy.get(cols[static_cast<std::size_t>(k)])[3], k);
    EXPECT_NE(copy.get(cols[static_cast<std::size_t>(k)]), t.get(cols[static_cast<std::size_t>(k)]));
  }
}

TEST(TableColumns, WrongTypeWidthOrMissingColumnIsAnError) {
  Table t(2);
  t.add(kIncome);
  const Col<double> as_double{.name = "income_pen"};
  const Col<float> wide{.name = "income_pen", .width = 2};
  const Col<float> absent{.name = "absent"};
  EXPECT_THROW(t.get(as_double), std::logic_error);
  EXPECT_THROW(t.get(wide), std::logic_error);
  EXPECT_THROW(t.get(absent), std::logic_error);
  EXPECT_FALSE(t.has(absent));
}

TEST(TableColumns, WindowedTableIsIndexedByTheWholeTablesRow) {
  Table t(3);
  t.set_first_row(10);
  float* income = t.add(kIncome);
  for (int r = 10; r < 13; ++r) income[r] = static_cast<float>(r);
  EXPECT_EQ(t.get(kIncome)[12], 12.0f);
  EXPECT_EQ(t.value(t.index("income_pen"), 0), 10.0);
}

}  // namespace
}  // namespace chacra
