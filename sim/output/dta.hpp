// Stata .dta files (format 118, Stata 14 and later) written row by row through ReadStat (Debian's
// libreadstat): typed variables with variable labels and value labels, for `chacra export --stata`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chacra::dta {

// Stata's limits: names of variables and value-label sets, variable labels, str# widths.
inline constexpr std::size_t kNameMax = 32;
inline constexpr std::size_t kLabelMax = 80;
inline constexpr std::size_t kStrMax = 2045;

// Storage types: int (16-bit), long (32-bit), float, double, str#.
enum class Type : std::uint8_t { int16, int32, float32, float64, text };

// Largest whole numbers the integer types hold (larger values are Stata's missing codes).
inline constexpr std::int64_t kInt16Max = 32740, kInt32Max = 2147483620;

// A named set of value labels ("juntos_status": 0 not_eligible, 1 eligible, ...).
struct LabelSet {
  std::string name;
  std::vector<std::pair<std::int32_t, std::string>> labels;
};

struct Variable {
  std::string name, label;
  Type type = Type::float64;
  std::size_t width = 1;  // characters of a text variable (1..kStrMax)
  std::string label_set;  // the LabelSet of its values, or empty
};

// One .dta file: variables and label sets first, then exactly `rows` rows of one value per variable, in order.
// Values an integer variable cannot hold, a wrong row count or a write failure throw std::runtime_error.
class Writer {
 public:
  Writer(const std::filesystem::path& path, const std::string& file_label, const std::vector<LabelSet>& label_sets,
         const std::vector<Variable>& variables, std::size_t rows);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void text(std::string_view s);
  void number(std::int64_t v);
  void number(double v);  // NaN is missing
  void missing();
  void end_row();
  void close();  // ends the file; throws when fewer rows than declared were written

  std::size_t rows() const { return rows_; }
  std::size_t columns() const { return types_.size(); }

 private:
  struct State;
  const void* next(Type& type);
  void check(int error, const char* what) const;
  std::unique_ptr<State> s_;
  std::vector<Type> types_;
  std::vector<std::string> names_;
  std::size_t rows_ = 0, field_ = 0;
  std::string path_;
};

// `s` cut to at most `max` bytes at a UTF-8 character boundary, with "..." when it was cut.
std::string fit(std::string_view s, std::size_t max);

}  // namespace chacra::dta
