// The parameter registry: declaration, checking and parsing of parameters, the three listings of
// `chacra params` (table, Markdown, JSON), and ParamSet, the resolved values that models read.
#include "sim/params.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <tuple>

namespace chacra {

namespace {

bool is_real(const ParamValue& v) { return std::holds_alternative<double>(v); }

std::string trim(const std::string& s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string last_component(const std::string& name) {
  auto dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

std::string section_of(const std::string& name) {
  auto dot = name.rfind('.');
  return dot == std::string::npos ? std::string() : name.substr(0, dot);
}

std::string top_section(const std::string& name) {
  auto dot = name.find('.');
  return dot == std::string::npos ? std::string() : name.substr(0, dot);
}

// A bound of an integer parameter is printed as an integer, of a real one in shortest form.
std::string format_bound(const ParamSpec& spec, double b) {
  if (spec.type == ParamType::integer && std::isfinite(b) && std::abs(b) < 9.2e18)
    return std::to_string(static_cast<std::int64_t>(b));
  return format_value(b);
}

std::string quoted_list(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    out += "'" + items[i] + "'";
  }
  return out;
}

// "[0, 1]", ">= 0", "<= 5" or "" for a numeric spec.
std::string range_text(const ParamSpec& spec) {
  bool lo = std::isfinite(spec.min);
  bool hi = std::isfinite(spec.max);
  if (lo && hi) return "[" + format_bound(spec, spec.min) + ", " + format_bound(spec, spec.max) + "]";
  if (lo) return ">= " + format_bound(spec, spec.min);
  if (hi) return "<= " + format_bound(spec, spec.max);
  return "";
}

// What the value is, for "got ..." in messages.
std::string describe_value(const ParamValue& v) {
  struct Visitor {
    std::string operator()(double d) const {
      if (std::isnan(d)) return ".nan (not a number)";
      if (std::isinf(d)) return format_value(d) + " (infinite values are not allowed)";
      return format_value(d);
    }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(const std::string& s) const { return "'" + s + "'"; }
    std::string operator()(const std::vector<std::string>& l) const { return "the list " + format_value(l); }
  };
  return std::visit(Visitor{}, v);
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.front() == '.' || name.back() == '.') return false;
  char prev = '.';
  for (char c : name) {
    if (c == '.') {
      if (prev == '.') return false;
    } else if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) {
      return false;
    }
    prev = c;
  }
  return true;
}

// Plain-text column values shared by the table and the Markdown listing.
struct Row {
  std::string name, type, def, range, unit, description, source;
};

Row row_of(const ParamSpec& s) {
  Row r;
  r.name = s.name;
  r.type = to_string(s.type);
  if (s.type == ParamType::choice || s.type == ParamType::text) {
    const auto& d = std::get<std::string>(s.default_value);
    r.def = d.empty() ? "\"\"" : d;
  } else {
    r.def = format_value(s.default_value);
  }
  switch (s.type) {
    case ParamType::real:
    case ParamType::integer:
      r.range = range_text(s);
      break;
    case ParamType::choice:
    case ParamType::text_list: {
      for (std::size_t i = 0; i < s.choices.size(); ++i) r.range += (i ? ", " : "") + s.choices[i];
      break;
    }
    case ParamType::boolean:
      r.range = "true, false";
      break;
    case ParamType::text:
      break;
  }
  if (r.range.empty()) r.range = "any";
  r.unit = s.unit;
  r.description = s.description;
  r.source = s.source;
  return r;
}

// A bound of a numeric parameter: a whole number for integers, null when infinite.
nlohmann::ordered_json json_bound(double d, bool integer) {
  if (!std::isfinite(d)) return nullptr;
  if (integer && std::abs(d) < 9.2e18) return static_cast<std::int64_t>(d);
  return d;
}

nlohmann::ordered_json json_value(const ParamValue& v) {
  return std::visit([](const auto& x) { return nlohmann::ordered_json(x); }, v);
}

std::string markdown_cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

}  // namespace

const char* to_string(ParamType t) {
  switch (t) {
    case ParamType::real: return "real";
    case ParamType::integer: return "integer";
    case ParamType::boolean: return "boolean";
    case ParamType::choice: return "choice";
    case ParamType::text: return "text";
    case ParamType::text_list: return "text_list";
  }
  return "unknown";
}

std::string format_value(const ParamValue& v) {
  struct Visitor {
    std::string operator()(double d) const {
      if (std::isnan(d)) return ".nan";
      if (std::isinf(d)) return d > 0 ? ".inf" : "-.inf";
      char buf[64];
      auto res = std::to_chars(buf, buf + sizeof buf, d);  // shortest form that reads back exactly
      return std::string(buf, res.ptr);
    }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(const std::vector<std::string>& l) const {
      std::string out = "[";
      for (std::size_t i = 0; i < l.size(); ++i) out += (i ? ", " : "") + l[i];
      return out + "]";
    }
  };
  return std::visit(Visitor{}, v);
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

std::string describe_expected(const ParamSpec& spec) {
  std::string out;
  switch (spec.type) {
    case ParamType::real:
    case ParamType::integer: {
      out = spec.type == ParamType::real ? "a number" : "an integer";
      std::string range = range_text(spec);
      if (std::isfinite(spec.min) && std::isfinite(spec.max)) out += " in " + range;
      else if (!range.empty()) out += " " + range;
      if (!spec.unit.empty()) out += " (unit: " + spec.unit + ")";
      break;
    }
    case ParamType::boolean:
      out = "true or false";
      break;
    case ParamType::choice:
      out = spec.choices.empty() ? "a text" : "one of " + quoted_list(spec.choices);
      break;
    case ParamType::text:
      out = "a text";
      break;
    case ParamType::text_list:
      out = spec.choices.empty() ? "a list of texts" : "a list of " + quoted_list(spec.choices);
      break;
  }
  return out;
}

std::vector<std::string> nearest_names(const std::string& name, const std::vector<std::string>& candidates,
                                       std::size_t k) {
  // Hostile input (a megabyte-long key) must not cost quadratic time; nobody misspells at that length.
  if (name.empty() || name.size() > 200 || k == 0) return {};
  const std::string last = last_component(name);
  const std::string section = section_of(name);
  const std::size_t threshold = std::max<std::size_t>(1, std::min<std::size_t>(last.size(), 12) / 3);
  std::vector<std::tuple<std::size_t, std::size_t, std::string>> scored;
  std::set<std::string> seen;
  for (const auto& cand : candidates) {
    if (cand == name || !seen.insert(cand).second) continue;
    const std::string cand_last = last_component(cand);
    // Putting a parameter under the wrong section, or leaving its section out, is a cheap mistake.
    const std::size_t penalty = (section.empty() || section == section_of(cand)) ? 0 : 2;
    const std::size_t full = edit_distance(name, cand);
    std::size_t score = std::min(full, edit_distance(last, cand_last) + penalty);
    // A truncated or extended last component ("transfer" for "transfer_pen").
    const std::size_t shorter = std::min(last.size(), cand_last.size());
    if (shorter >= 3 && shorter * 2 >= std::max(last.size(), cand_last.size()) / 2 &&
        (cand_last.compare(0, last.size(), last) == 0 || last.compare(0, cand_last.size(), cand_last) == 0))
      score = std::min(score, 1 + penalty);
    if (score <= threshold && score < cand_last.size()) scored.emplace_back(score, full, cand);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> out;
  for (const auto& s : scored) {
    if (out.size() == k) break;
    out.push_back(std::get<2>(s));
  }
  return out;
}

// ---- Registry ----

void Registry::add(ParamSpec spec) {
  const std::string& name = spec.name;
  if (!valid_name(name))
    throw std::logic_error("parameter name '" + name + "' is malformed (dot-separated [A-Za-z0-9_] components)");
  const std::string top = name.substr(0, name.find('.'));
  if (top == "name" || top == "description" || top == "arms")
    throw std::logic_error("parameter name '" + name + "' uses a key reserved by scenario files");
  if (index_.count(name)) throw std::logic_error("parameter '" + name + "' is registered twice");
  if (is_section(name))
    throw std::logic_error("parameter '" + name + "' would also be a section of other parameters");
  for (auto dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1))
    if (index_.count(name.substr(0, dot)))
      throw std::logic_error("parameter '" + name + "' sits under parameter '" + name.substr(0, dot) + "'");
  if (std::isnan(spec.min) || std::isnan(spec.max) || spec.min > spec.max)
    throw std::logic_error("parameter '" + name + "' has an invalid range");
  // Let an integral literal stand for a real default.
  if (spec.type == ParamType::real && std::holds_alternative<std::int64_t>(spec.default_value))
    spec.default_value = static_cast<double>(std::get<std::int64_t>(spec.default_value));
  if (auto err = check(spec, spec.default_value))
    throw std::logic_error("default of parameter '" + name + "' is invalid: " + *err);
  index_.emplace(name, specs_.size());
  specs_.push_back(std::move(spec));
}

void Registry::real(const std::string& name, double def, double min, double max, const std::string& unit,
                    const std::string& description, const std::string& source) {
  ParamSpec s;
  s.name = name;
  s.type = ParamType::real;
  s.default_value = def;
  s.min = min;
  s.max = max;
  s.unit = unit;
  s.description = description;
  s.source = source;
  add(std::move(s));
}

void Registry::integer(const std::string& name, std::int64_t def, std::int64_t min, std::int64_t max,
                       const std::string& unit, const std::string& description, const std::string& source) {
  ParamSpec s;
  s.name = name;
  s.type = ParamType::integer;
  s.default_value = def;
  s.min = static_cast<double>(min);
  s.max = static_cast<double>(max);
  s.unit = unit;
  s.description = description;
  s.source = source;
  add(std::move(s));
}

void Registry::boolean(const std::string& name, bool def, const std::string& description,
                       const std::string& source) {
  ParamSpec s;
  s.name = name;
  s.type = ParamType::boolean;
  s.default_value = def;
  s.description = description;
  s.source = source;
  add(std::move(s));
}

void Registry::choice(const std::string& name, const std::string& def, std::vector<std::string> choices,
                      const std::string& description, const std::string& source) {
  ParamSpec s;
  s.name = name;
  s.type = ParamType::choice;
  s.default_value = def;
  s.choices = std::move(choices);
  s.description = description;
  s.source = source;
  add(std::move(s));
}

void Registry::text_list(const std::string& name, std::vector<std::string> def, std::vector<std::string> allowed,
                         const std::string& description, const std::string& source) {
  ParamSpec s;
  s.name = name;
  s.type = ParamType::text_list;
  s.default_value = std::move(def);
  s.choices = std::move(allowed);
  s.description = description;
  s.source = source;
  add(std::move(s));
}

void Registry::text(const std::string& name, const std::string& def, const std::string& description,
                    const std::string& source) {
  ParamSpec s;
  s.name = name;
  s.type = ParamType::text;
  s.default_value = def;
  s.description = description;
  s.source = source;
  add(std::move(s));
}

void Registry::constraint(ParamConstraint c) {
  for (const auto& p : c.params)
    if (!find(p)) throw std::logic_error("constraint '" + c.name + "' names unknown parameter '" + p + "'");
  for (const auto& existing : constraints_)
    if (existing.name == c.name) throw std::logic_error("constraint '" + c.name + "' is registered twice");
  if (!c.check) throw std::logic_error("constraint '" + c.name + "' has no check");
  constraints_.push_back(std::move(c));
}

const ParamSpec* Registry::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &specs_[it->second];
}

std::vector<std::string> Registry::nearest(const std::string& name, std::size_t k) const {
  std::vector<std::string> names;
  names.reserve(specs_.size());
  for (const auto& s : specs_) names.push_back(s.name);
  return nearest_names(name, names, k);
}

bool Registry::is_section(const std::string& prefix) const {
  if (prefix.empty()) return !specs_.empty();
  const std::string p = prefix + ".";
  auto it = index_.lower_bound(p);
  return it != index_.end() && it->first.compare(0, p.size(), p) == 0;
}

std::vector<std::string> Registry::sections() const {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& s : specs_)
    for (auto dot = s.name.find('.'); dot != std::string::npos; dot = s.name.find('.', dot + 1))
      if (seen.insert(s.name.substr(0, dot)).second) out.push_back(s.name.substr(0, dot));
  return out;
}

std::vector<std::string> Registry::children(const std::string& section) const {
  const std::string p = section.empty() ? std::string() : section + ".";
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& s : specs_) {
    if (s.name.compare(0, p.size(), p) != 0 || s.name.size() == p.size()) continue;
    std::string rest = s.name.substr(p.size());
    std::string key = rest.substr(0, rest.find('.'));
    if (seen.insert(key).second) out.push_back(key);
  }
  return out;
}

std::optional<std::string> Registry::check(const ParamSpec& spec, const ParamValue& v) const {
  const std::string expected = "expected " + describe_expected(spec);
  auto wrong_type = [&]() -> std::optional<std::string> {
    static const char* const kinds[] = {"a number", "an integer", "a boolean", "a text", "a list"};
    return expected + ", got " + kinds[v.index()];
  };
  switch (spec.type) {
    case ParamType::real: {
      double d;
      if (is_real(v)) d = std::get<double>(v);
      else if (std::holds_alternative<std::int64_t>(v)) d = static_cast<double>(std::get<std::int64_t>(v));
      else return wrong_type();
      if (!std::isfinite(d) || d < spec.min || d > spec.max) return expected + ", got " + describe_value(d);
      return std::nullopt;
    }
    case ParamType::integer: {
      if (!std::holds_alternative<std::int64_t>(v)) return wrong_type();
      auto i = std::get<std::int64_t>(v);
      if (static_cast<double>(i) < spec.min || static_cast<double>(i) > spec.max)
        return expected + ", got " + describe_value(v);
      return std::nullopt;
    }
    case ParamType::boolean:
      if (!std::holds_alternative<bool>(v)) return wrong_type();
      return std::nullopt;
    case ParamType::choice:
    case ParamType::text: {
      if (!std::holds_alternative<std::string>(v)) return wrong_type();
      const auto& s = std::get<std::string>(v);
      if (spec.type == ParamType::choice && !spec.choices.empty() &&
          std::find(spec.choices.begin(), spec.choices.end(), s) == spec.choices.end())
        return expected + ", got " + describe_value(v);
      return std::nullopt;
    }
    case ParamType::text_list: {
      if (!std::holds_alternative<std::vector<std::string>>(v)) return wrong_type();
      const auto& l = std::get<std::vector<std::string>>(v);
      std::set<std::string> seen;
      for (const auto& item : l) {
        if (!spec.choices.empty() && std::find(spec.choices.begin(), spec.choices.end(), item) == spec.choices.end())
          return expected + ", got '" + item + "' in the list";
        if (item.empty()) return expected + ", got an empty text in the list";
        if (!seen.insert(item).second) return expected + ", got '" + item + "' twice in the list";
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::variant<ParamValue, std::string> Registry::parse(const ParamSpec& spec, const std::string& raw) const {
  const std::string text = trim(raw);
  const std::string expected = "expected " + describe_expected(spec);
  auto fail = [&](const std::string& why = "") -> std::variant<ParamValue, std::string> {
    return expected + ", got " + (text.empty() ? std::string("nothing") : "'" + text + "'") + why;
  };
  // std::from_chars takes no leading '+'.
  auto unsigned_part = [&](const std::string& t) {
    return (t.size() > 1 && t[0] == '+' && t[1] != '-') ? t.substr(1) : t;
  };
  auto parse_double = [&](const std::string& t, double& out) -> std::errc {
    // YAML spells the special values .inf, -.inf and .nan; check() rejects them with a clear message.
    const std::string l = lower(t);
    if (l == ".inf" || l == "+.inf") { out = std::numeric_limits<double>::infinity(); return std::errc(); }
    if (l == "-.inf") { out = -std::numeric_limits<double>::infinity(); return std::errc(); }
    if (l == ".nan") { out = std::numeric_limits<double>::quiet_NaN(); return std::errc(); }
    const std::string u = unsigned_part(t);
    if (u.empty()) return std::errc::invalid_argument;
    auto res = std::from_chars(u.data(), u.data() + u.size(), out, std::chars_format::general);
    if (res.ec != std::errc()) return res.ec;
    if (res.ptr != u.data() + u.size()) return std::errc::invalid_argument;
    return std::errc();
  };
  switch (spec.type) {
    case ParamType::real: {
      double d = 0;
      auto ec = parse_double(text, d);
      if (ec == std::errc::result_out_of_range) return fail(" (out of the range of a double)");
      if (ec != std::errc()) return fail();
      if (auto err = check(spec, d)) return *err;
      return ParamValue(d);
    }
    case ParamType::integer: {
      const std::string u = unsigned_part(text);
      std::int64_t i = 0;
      auto res = std::from_chars(u.data(), u.data() + u.size(), i);
      if (!u.empty() && res.ec == std::errc() && res.ptr == u.data() + u.size()) {
        if (auto err = check(spec, i)) return *err;
        return ParamValue(i);
      }
      if (!u.empty() && res.ec == std::errc::result_out_of_range && res.ptr == u.data() + u.size())
        return fail(" (out of the range of a 64-bit integer)");
      // "2e4" or "20000.0" name an integer exactly; "1.5" does not.
      double d = 0;
      if (parse_double(text, d) == std::errc() && std::isfinite(d) && std::floor(d) == d &&
          std::abs(d) <= 9007199254740992.0) {
        i = static_cast<std::int64_t>(d);
        if (auto err = check(spec, i)) return *err;
        return ParamValue(i);
      }
      return fail();
    }
    case ParamType::boolean: {
      const std::string l = lower(text);
      if (l == "true" || l == "yes" || l == "on" || l == "1") return ParamValue(true);
      if (l == "false" || l == "no" || l == "off" || l == "0") return ParamValue(false);
      return fail();
    }
    case ParamType::choice:
    case ParamType::text: {
      ParamValue v = text;
      if (auto err = check(spec, v)) return *err;
      return v;
    }
    case ParamType::text_list: {
      std::string body = text;
      if (!body.empty() && body.front() == '[') {
        if (body.back() != ']') return fail(" (unclosed '[')");
        body = trim(body.substr(1, body.size() - 2));
      }
      std::vector<std::string> items;
      if (!body.empty()) {
        std::size_t start = 0;
        while (true) {
          auto comma = body.find(',', start);
          std::string item = trim(body.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
          if (item.size() >= 2 && ((item.front() == '"' && item.back() == '"') ||
                                   (item.front() == '\'' && item.back() == '\'')))
            item = item.substr(1, item.size() - 2);
          items.push_back(item);
          if (comma == std::string::npos) break;
          start = comma + 1;
        }
      }
      ParamValue v = items;
      if (auto err = check(spec, v)) return *err;
      return v;
    }
  }
  return fail();
}

std::vector<const ParamSpec*> Registry::select(const std::string& pattern, bool search) const {
  std::vector<const ParamSpec*> out;
  if (!search) {
    for (const auto& s : specs_)
      if (s.name.rfind(pattern, 0) == 0) out.push_back(&s);
    if (!out.empty() || pattern.empty()) return out;
  }
  auto lower = [](std::string t) {
    for (char& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return t;
  };
  const std::string needle = lower(pattern);
  for (const auto& s : specs_)
    for (const std::string* field : {&s.name, &s.description, &s.unit, &s.source})
      if (lower(*field).find(needle) != std::string::npos) {
        out.push_back(&s);
        break;
      }
  return out;
}

namespace {

// `text` wrapped at blanks into lines of at most `width` columns after `indent` (a longer word stands alone).
void wrap(std::ostringstream& out, const std::string& text, std::size_t indent, std::size_t width) {
  const std::size_t room = width > indent + 20 ? width - indent : 20;
  std::istringstream words(text);
  std::string word, line;
  auto flush = [&] {
    if (!line.empty()) out << std::string(indent, ' ') << line << '\n';
    line.clear();
  };
  while (words >> word) {
    if (!line.empty() && line.size() + 1 + word.size() > room) flush();
    line += (line.empty() ? "" : " ") + word;
  }
  flush();
}

}  // namespace

std::string Registry::to_text(const std::vector<const ParamSpec*>& only, std::size_t width) const {
  std::ostringstream out;
  for (const ParamSpec* s : only) {
    const Row r = row_of(*s);
    std::string head = r.name + " = " + r.def + "  (" + r.type;
    if (!r.unit.empty()) head += ", " + r.unit;
    if (r.range != "any" && s->type != ParamType::boolean)
      head += (s->type == ParamType::choice || s->type == ParamType::text_list ? ", one of " : ", in ") + r.range;
    head += ")";
    wrap(out, head, 0, width);
    wrap(out, r.description, 4, width);
    if (!r.source.empty()) wrap(out, "Source: " + r.source, 4, width);
    out << '\n';
  }
  return out.str();
}

std::string Registry::to_table() const {
  std::vector<const ParamSpec*> all;
  for (const auto& s : specs_) all.push_back(&s);
  return to_table(all);
}

std::string Registry::to_json() const {
  std::vector<const ParamSpec*> all;
  for (const auto& s : specs_) all.push_back(&s);
  return to_json(all);
}

std::string Registry::to_table(const std::vector<const ParamSpec*>& only) const {
  std::vector<Row> rows;
  rows.push_back({"name", "type", "default", "range/choices", "unit", "description", "source"});
  for (const ParamSpec* s : only) rows.push_back(row_of(*s));
  std::size_t w[6] = {0, 0, 0, 0, 0, 0};
  for (const auto& r : rows) {
    const std::string* cols[6] = {&r.name, &r.type, &r.def, &r.range, &r.unit, &r.description};
    for (int c = 0; c < 6; ++c) w[c] = std::max(w[c], cols[c]->size());
  }
  std::ostringstream out;
  for (const auto& r : rows) {
    const std::string* cols[7] = {&r.name, &r.type, &r.def, &r.range, &r.unit, &r.description, &r.source};
    std::string line;
    for (int c = 0; c < 6; ++c) line += *cols[c] + std::string(w[c] - cols[c]->size() + 2, ' ');
    line += *cols[6];
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << '\n';
  }
  return out.str();
}

std::string Registry::to_markdown() const {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const ParamSpec*>> by_section;
  for (const auto& s : specs_) {
    std::string sec = top_section(s.name);
    if (!by_section.count(sec)) order.push_back(sec);
    by_section[sec].push_back(&s);
  }
  std::ostringstream out;
  out << "# Parameters\n\n"
      << "Generated from the parameter registry by `chacra params --format markdown`; do not edit by hand.\n"
      << "Every parameter can be set in a scenario file (nested by section or as a dotted key) or with\n"
      << "`--set name=value`; see docs/scenarios.md.\n";
  for (const auto& sec : order) {
    out << "\n## " << (sec.empty() ? std::string("Top level") : "`" + sec + "`") << "\n\n";
    out << "| Name | Type | Default | Range / choices | Unit | Description | Source |\n";
    out << "|---|---|---|---|---|---|---|\n";
    for (const ParamSpec* s : by_section[sec]) {
      Row r = row_of(*s);
      out << "| `" << markdown_cell(r.name) << "` | " << r.type << " | `" << markdown_cell(r.def) << "` | "
          << markdown_cell(r.range) << " | " << markdown_cell(r.unit) << " | " << markdown_cell(r.description)
          << " | " << markdown_cell(r.source) << " |\n";
    }
  }
  return out.str();
}

std::string Registry::to_json(const std::vector<const ParamSpec*>& only) const {
  auto out = nlohmann::ordered_json::array();
  for (const ParamSpec* spec : only) {
    const ParamSpec& s = *spec;
    const bool numeric = s.type == ParamType::real || s.type == ParamType::integer;
    const bool integer = s.type == ParamType::integer;
    out.push_back({{"name", s.name},
                   {"type", to_string(s.type)},
                   {"default", json_value(s.default_value)},
                   {"min", numeric ? json_bound(s.min, integer) : nullptr},
                   {"max", numeric ? json_bound(s.max, integer) : nullptr},
                   {"choices", s.choices},
                   {"unit", s.unit},
                   {"description", s.description},
                   {"source", s.source}});
  }
  return out.dump(2) + "\n";
}

// ---- ParamSet ----

ParamSet::ParamSet(const Registry& reg) : reg_(&reg) {
  for (const auto& s : reg.specs()) values_.emplace(s.name, s.default_value);
}

const ParamValue& ParamSet::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) throw std::logic_error("unknown parameter '" + name + "'");
  return it->second;
}

namespace {
template <typename T>
const T& typed(const ParamValue& v, const std::string& name, const char* wanted) {
  if (const T* p = std::get_if<T>(&v)) return *p;
  throw std::logic_error("parameter '" + name + "' is not " + wanted);
}
}  // namespace

double ParamSet::real(const std::string& name) const { return typed<double>(get(name), name, "a real"); }
std::int64_t ParamSet::integer(const std::string& name) const {
  return typed<std::int64_t>(get(name), name, "an integer");
}
bool ParamSet::boolean(const std::string& name) const { return typed<bool>(get(name), name, "a boolean"); }
const std::string& ParamSet::choice(const std::string& name) const {
  return typed<std::string>(get(name), name, "a choice or text");
}
const std::vector<std::string>& ParamSet::text_list(const std::string& name) const {
  return typed<std::vector<std::string>>(get(name), name, "a text list");
}

void ParamSet::set(const std::string& name, ParamValue v) {
  auto it = values_.find(name);
  if (it == values_.end()) throw std::out_of_range("unknown parameter '" + name + "'");
  // Keep every value of the type its spec declares, so that the typed getters cannot fail later.
  if (std::holds_alternative<double>(it->second) && std::holds_alternative<std::int64_t>(v))
    v = static_cast<double>(std::get<std::int64_t>(v));
  if (v.index() != it->second.index())
    throw std::logic_error("parameter '" + name + "' set with a value of the wrong type");
  it->second = std::move(v);
}

bool ParamSet::is_default(const std::string& name) const {
  const ParamSpec* spec = reg_->find(name);
  if (!spec) throw std::logic_error("unknown parameter '" + name + "'");
  return get(name) == spec->default_value;
}

std::vector<std::string> ParamSet::violations() const {
  std::vector<std::string> out;
  for (const auto& c : reg_->constraints())
    if (auto err = c.check(*this)) out.push_back(c.name + ": " + *err);
  return out;
}

}  // namespace chacra
