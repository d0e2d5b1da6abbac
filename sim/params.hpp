// The parameter registry: the single source of truth for every parameter's name, type, default, range,
// unit, description and source; validation, `chacra params` and docs/parameters.md all come from it.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace chacra {

enum class ParamType { real, integer, boolean, choice, text, text_list };

const char* to_string(ParamType t);

using ParamValue = std::variant<double, std::int64_t, bool, std::string, std::vector<std::string>>;

std::string format_value(const ParamValue& v);

struct ParamSpec {
  std::string name;  // dotted path, e.g. "juntos.transfer_pen"
  ParamType type = ParamType::real;
  ParamValue default_value = 0.0;
  double min = -std::numeric_limits<double>::infinity();  // inclusive bounds for real/integer
  double max = std::numeric_limits<double>::infinity();
  std::vector<std::string> choices;  // for choice and text_list (empty: any text)
  std::string unit;
  std::string description;
  std::string source;
};

class ParamSet;

// A rule that involves several parameters ("shares must sum to 1"). Returns an error text when violated.
struct ParamConstraint {
  std::string name;
  std::vector<std::string> params;  // the parameters involved, for the error message
  std::function<std::optional<std::string>(const ParamSet&)> check;
};

class Registry {
 public:
  // Builders. Each throws std::logic_error for a programming error: a duplicate or malformed name
  // (components of [A-Za-z0-9_], dot-separated; not `name`, `description` or `arms` at the top, which
  // scenarios reserve), a name that would also be a section or sit under a parameter, or a default
  // that fails its own spec.
  void add(ParamSpec spec);
  void real(const std::string& name, double def, double min, double max, const std::string& unit,
            const std::string& description, const std::string& source);
  void integer(const std::string& name, std::int64_t def, std::int64_t min, std::int64_t max,
               const std::string& unit, const std::string& description, const std::string& source);
  void boolean(const std::string& name, bool def, const std::string& description, const std::string& source);
  void choice(const std::string& name, const std::string& def, std::vector<std::string> choices,
              const std::string& description, const std::string& source);
  void text_list(const std::string& name, std::vector<std::string> def, std::vector<std::string> allowed,
                 const std::string& description, const std::string& source);
  void text(const std::string& name, const std::string& def, const std::string& description,
            const std::string& source);
  void constraint(ParamConstraint c);

  const ParamSpec* find(const std::string& name) const;
  const std::vector<ParamSpec>& specs() const { return specs_; }
  const std::vector<ParamConstraint>& constraints() const { return constraints_; }
  // Valid names closest to `name` (edit distance on the dotted path), best first.
  std::vector<std::string> nearest(const std::string& name, std::size_t k = 3) const;
  // True if `prefix` is a proper prefix of some parameter path ("juntos" for "juntos.transfer_pen").
  bool is_section(const std::string& prefix) const;
  // Every section (proper prefix of a parameter path: "juntos", "a", "a.b"), in registration order.
  std::vector<std::string> sections() const;
  // The keys directly under `section` (parameter leaves and subsections), in registration order;
  // "" gives the top-level keys.
  std::vector<std::string> children(const std::string& section) const;

  // Checks a value against the spec; returns an error text ("expected a number in [0, 1]") or nothing.
  std::optional<std::string> check(const ParamSpec& spec, const ParamValue& v) const;
  // Parses text (from --set or a YAML scalar) into the spec's type; error text on failure.
  std::variant<ParamValue, std::string> parse(const ParamSpec& spec, const std::string& text) const;

  // The parameters `pattern` selects, in registration order: a parameter's name, a section ("juntos",
  // "haku_winay.coaching") or the start of a name ("juntos.transfer") selects by name; any other text (or any
  // text, with `search`) selects the parameters whose name, description, unit or source holds it, in any case.
  std::vector<const ParamSpec*> select(const std::string& pattern, bool search = false) const;

  // Output in the formats of `chacra params`, of every parameter or of `only`: text (a block per parameter,
  // wrapped to `width` columns), table (one aligned line per parameter), Markdown (docs/parameters.md), JSON.
  std::string to_text(const std::vector<const ParamSpec*>& only, std::size_t width = 100) const;
  std::string to_table() const;
  std::string to_table(const std::vector<const ParamSpec*>& only) const;
  std::string to_markdown() const;
  std::string to_json() const;
  std::string to_json(const std::vector<const ParamSpec*>& only) const;

 private:
  std::vector<ParamSpec> specs_;
  std::map<std::string, std::size_t> index_;
  std::vector<ParamConstraint> constraints_;
};

// A resolved set of parameter values (registry defaults plus overrides). Models read their
// parameters once at setup, never in the hot loop.
class ParamSet {
 public:
  explicit ParamSet(const Registry& reg);
  const Registry& registry() const { return *reg_; }

  double real(const std::string& name) const;
  std::int64_t integer(const std::string& name) const;
  bool boolean(const std::string& name) const;
  const std::string& choice(const std::string& name) const;
  const std::vector<std::string>& text_list(const std::string& name) const;
  const ParamValue& get(const std::string& name) const;

  // Unchecked set (validation is the config loader's job); throws std::out_of_range on unknown name.
  void set(const std::string& name, ParamValue v);
  bool is_default(const std::string& name) const;
  // Runs every registered constraint; returns the violations.
  std::vector<std::string> violations() const;
  const std::map<std::string, ParamValue>& values() const { return values_; }

 private:
  const Registry* reg_;
  std::map<std::string, ParamValue> values_;
};

std::size_t edit_distance(const std::string& a, const std::string& b);

// What a parameter accepts, in words: "a number in [0, 1] (unit: share)", "one of 'a', 'b'".
std::string describe_expected(const ParamSpec& spec);

// The candidates closest to `name` (edit distance on the whole dotted path and on its last component,
// with credit for a truncated last component), best first, only plausible matches, at most k.
std::vector<std::string> nearest_names(const std::string& name, const std::vector<std::string>& candidates,
                                       std::size_t k = 3);

}  // namespace chacra
