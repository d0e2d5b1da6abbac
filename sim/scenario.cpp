// Strict loading of scenario YAML and --set overrides into base parameters and policy arms. Every problem
// is collected (file, line, column, dotted key, message, hint) and reported together in one ConfigError;
// hostile input (binary junk, deep nesting, alias bombs, huge files) is refused before it costs much.
#include "sim/scenario.hpp"

#include "sim/output/layout.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

namespace chacra {

namespace {

constexpr std::size_t kMaxBytes = 16u << 20;      // a scenario is a few kilobytes; refuse anything huge
constexpr std::size_t kMaxDepth = 64;             // nesting levels of YAML collections
constexpr std::size_t kMaxNodes = 1'000'000;      // YAML nodes after expanding aliases
constexpr std::size_t kMaxIssues = 100;           // stop collecting after this many problems
constexpr std::size_t kMaxArms = 10'000;
constexpr std::size_t kMaxSetValueBytes = 1u << 16;
const char* const kSetLabel = "--set";

std::string multiple_documents_message() {
  return "the value holds more than one YAML document (a '---' line); a --set value is a single value";
}

// A name or description is stored as an attribute of the output, which HDF5 limits to 64 KiB.
std::string text_too_long(std::size_t bytes) {
  return "the text is too long (" + std::to_string(bytes) + " bytes; at most " +
         std::to_string(output::layout::kMaxAttributeText) + ", the most the output file can store as an attribute)";
}

struct Loc {
  std::string file;
  int line = 0;
  int column = 0;
};

struct TooManyIssues {};

class Issues {
 public:
  void add(const Loc& loc, std::string key, std::string message, std::string hint = "") {
    if (list_.size() >= kMaxIssues) {
      overflow_ = true;
      throw TooManyIssues{};
    }
    list_.push_back({loc.file, loc.line, loc.column, std::move(key), std::move(message), std::move(hint)});
  }
  bool empty() const { return list_.empty(); }
  std::size_t size() const { return list_.size(); }
  // Problems in file order (file first, then --set), the overflow note last.
  std::vector<ConfigIssue> take(const std::string& file) {
    std::stable_sort(list_.begin(), list_.end(), [](const ConfigIssue& a, const ConfigIssue& b) {
      auto rank = [](const ConfigIssue& i) {
        return std::make_tuple(i.file == kSetLabel ? 1 : 0, i.line == 0 ? INT_MAX : i.line, i.column);
      };
      return rank(a) < rank(b);
    });
    if (overflow_)
      list_.push_back({file, 0, 0, "", "too many problems; stopped after " + std::to_string(kMaxIssues), ""});
    return std::move(list_);
  }

 private:
  std::vector<ConfigIssue> list_;
  bool overflow_ = false;
};

Loc loc_of(const std::string& file, const YAML::Mark& m) {
  Loc l{file, 0, 0};
  if (!m.is_null() && m.line >= 0) {
    l.line = m.line + 1;
    l.column = m.column >= 0 ? m.column + 1 : 0;
  }
  return l;
}

std::string where(const Loc& l) {
  if (l.line == 0) return l.file;
  return "line " + std::to_string(l.line) + ", column " + std::to_string(l.column);
}

std::string join(const std::vector<std::string>& items, std::size_t limit = 12) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < limit; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > limit) out += ", ... (" + std::to_string(items.size() - limit) + " more)";
  return out;
}

std::string describe_node(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "'" + n.Scalar() + "'";
    default: return "nothing";
  }
}

bool is_quoted(const YAML::Node& n) { return n.Tag() == "!" || n.Tag() == "tag:yaml.org,2002:str"; }

bool valid_arm_name(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!(std::isalnum(c) || c == '_')) return false;
  return true;
}

// ---- Input hygiene: encoding, nesting, aliases ----

// The first encoding problem: invalid UTF-8, NUL bytes, control characters. Line and column are 1-based,
// the column counted in characters.
std::optional<std::pair<Loc, std::string>> check_text(const std::string& text, const std::string& file) {
  int line = 1;
  int column = 1;
  std::size_t i = 0;
  const std::size_t n = text.size();
  auto problem = [&](const std::string& what) { return std::make_pair(Loc{file, line, column}, what); };
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      if (c == 0) return problem("the file contains a NUL byte; it is binary, not YAML text (or UTF-16)");
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "control character U+%04X is not allowed in YAML", c);
        return problem(buf);
      }
      if (c == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
      ++i;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      cp = c & 0x07;
    }
    bool ok = len > 0 && i + len <= n;
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xc0) != 0x80) ok = false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8 either.
    if (ok && ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
               (cp >= 0xd800 && cp <= 0xdfff)))
      ok = false;
    if (!ok) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "invalid UTF-8 (byte 0x%02X); a scenario must be UTF-8 text", c);
      return problem(buf);
    }
    i += len;
    ++column;
  }
  return std::nullopt;
}

struct Hostile {
  YAML::Mark mark;
  std::string message;
};

// Walks the parser's events before any node tree is built: caps nesting depth and the number of nodes
// that aliases expand to (a "billion laughs" document is a few hundred bytes), and counts documents.
class GuardHandler : public YAML::EventHandler {
 public:
  int documents = 0;
  YAML::Mark second_document;

  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents == 2) second_document = mark;
    stack_.clear();
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string&) override {
    leaf(mark, anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) return;  // the parser reports undefined aliases itself
    count(mark, it->second.size);
    reach(mark, stack_.size() + it->second.height);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    YAML::anchor_t anchor;
    std::size_t start;  // nodes counted before this one
    std::size_t depth;  // absolute depth of this collection
    std::size_t deepest;
  };
  struct Anchored {
    std::size_t size;
    std::size_t height;
  };

  void count(const YAML::Mark& mark, std::size_t k) {
    nodes_ += k;
    if (nodes_ > kMaxNodes)
      throw Hostile{mark, "the document expands to more than " + std::to_string(kMaxNodes) +
                              " nodes (through aliases?); refusing it"};
  }
  void reach(const YAML::Mark& mark, std::size_t depth) {
    if (depth > kMaxDepth)
      throw Hostile{mark, "nesting deeper than " + std::to_string(kMaxDepth) + " levels; refusing it"};
    if (!stack_.empty()) stack_.back().deepest = std::max(stack_.back().deepest, depth);
  }
  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    count(mark, 1);
    reach(mark, stack_.size() + 1);
    if (anchor) anchors_[anchor] = {1, 1};
  }
  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    const std::size_t start = nodes_;
    count(mark, 1);
    reach(mark, stack_.size() + 1);
    stack_.push_back({anchor, start, stack_.size() + 1, stack_.size() + 1});
  }
  void close() {
    if (stack_.empty()) return;
    Frame f = stack_.back();
    stack_.pop_back();
    if (f.anchor) anchors_[f.anchor] = {nodes_ - f.start, f.deepest - f.depth + 1};
    if (!stack_.empty()) stack_.back().deepest = std::max(stack_.back().deepest, f.deepest);
  }

  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, Anchored> anchors_;
  std::size_t nodes_ = 0;
};

// Parses `text` after the guard pass. Reports the problem and returns nothing when the text is not a
// usable YAML document.
std::optional<YAML::Node> parse_guarded(const std::string& text, const std::string& file, Issues& issues,
                                        int* documents = nullptr) {
  GuardHandler guard;
  try {
    std::istringstream in(text);
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(guard)) {
    }
  } catch (const Hostile& h) {
    issues.add(loc_of(file, h.mark), "", h.message);
    return std::nullopt;
  } catch (const YAML::ParserException& e) {
    issues.add(loc_of(file, e.mark), "", "YAML syntax error: " + e.msg);
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    issues.add(loc_of(file, e.mark), "", "YAML error: " + e.msg);
    return std::nullopt;
  }
  // yaml-cpp 0.7 accepts a quoted scalar left open when line breaks follow it (the rest of the file becomes
  // its text); parsing the text without its trailing blanks exposes it as an end-of-file-in-scalar error.
  if (const auto end = text.find_last_not_of(" \t\r\n"); end != std::string::npos && end + 1 < text.size()) {
    try {
      std::istringstream trimmed(text.substr(0, end + 1));
      YAML::Parser parser(trimmed);
      GuardHandler again;
      while (parser.HandleNextDocument(again)) {
      }
    } catch (const YAML::ParserException& e) {
      if (e.msg == YAML::ErrorMsg::EOF_IN_SCALAR) {
        issues.add(loc_of(file, e.mark), "", "YAML syntax error: a quoted text is not closed before the end of the file",
                   "add the closing quote");
        return std::nullopt;
      }
    } catch (...) {
    }
  }
  if (documents) *documents = guard.documents;
  if (guard.documents > 1)
    issues.add(loc_of(file, guard.second_document), "",
               "the file holds more than one YAML document; a scenario is a single document",
               "remove the '---' separator");
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception& e) {
    issues.add(loc_of(file, e.mark), "", "YAML error: " + e.msg);
    return std::nullopt;
  }
}

// ---- The loader ----

struct Assignment {
  std::string param;
  ParamValue value;
};

// The parameters set in one place: the base, or one arm.
struct Context {
  bool is_arm = false;
  std::vector<Assignment> assignments;  // in order; later ones win
  std::map<std::string, Loc> set_at;    // where each parameter was (last) set
  std::map<std::string, std::string> key_of;  // the key path under which it was set, for messages
  std::set<std::string> bad;            // parameters whose value was rejected
};

struct ArmDraft {
  std::string name;
  std::string description;
  bool named = false;
  Loc loc;
  std::string key;  // "arms[2]"
  Context ctx;
};

std::string shared_message(const std::string& param) {
  std::string what = "one population";
  if (param.rfind("run.", 0) == 0) what = "one calendar and run settings";
  if (param.rfind("output.", 0) == 0) what = "one output";
  return "arms share " + what + "; set " + param + " at the top level";
}

class Loader {
 public:
  Loader(const Registry& reg, std::string file) : reg_(reg), file_(std::move(file)) {}

  Scenario load(const std::string& text, const std::vector<std::string>& sets) {
    Scenario sc{file_, "", "", ParamSet(reg_), {}};
    try {
      read_document(text, sc);
      for (const auto& s : sets) apply_set(s, sc);
      // Rejected values were never recorded, so the cross-checks run on valid values even when other
      // problems were found, and their findings join the report.
      assemble(sc);
    } catch (const TooManyIssues&) {
    }
    if (!issues_.empty()) throw ConfigError(file_, issues_.take(file_));
    return sc;
  }

 private:
  Loc loc(const YAML::Node& n) const { return loc_of(file_, n.Mark()); }
  // A null value's mark is unreliable in yaml-cpp (it points past the key's line); use the key's.
  Loc value_loc(const YAML::Node& value, const YAML::Node& key) const {
    return value.IsNull() || value.Mark().is_null() ? loc(key) : loc(value);
  }

  // Calls f(key text, key node, value node) for each entry; reports non-text and duplicate keys.
  template <typename F>
  void for_each_entry(const YAML::Node& map, const std::string& key_prefix, F&& f) {
    std::map<std::string, Loc> seen;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      if (!key.IsScalar()) {
        issues_.add(loc(key), key_prefix, "expected a text key, got " + describe_node(key));
        continue;
      }
      const std::string k = key.Scalar();
      auto [pos, fresh] = seen.emplace(k, loc(key));
      if (!fresh) {
        issues_.add(loc(key), key_prefix + k, "duplicate key '" + k + "' (first at " + where(pos->second) + ")");
        continue;
      }
      f(k, key, value);
    }
  }

  void read_document(const std::string& text, Scenario& sc) {
    if (text.size() > kMaxBytes) {
      issues_.add({file_, 0, 0}, "", "the scenario is too large (" + std::to_string(text.size()) +
                                         " bytes; at most " + std::to_string(kMaxBytes) + ")");
      return;
    }
    if (auto bad = check_text(text, file_)) {
      issues_.add(bad->first, "", bad->second);
      return;
    }
    int documents = 0;
    auto doc = parse_guarded(text, file_, issues_, &documents);
    if (!doc) return;
    const YAML::Node& root = *doc;
    if (root.IsNull() || !root.IsDefined()) {
      issues_.add({file_, documents ? 1 : 0, documents ? 1 : 0}, "", "the scenario is empty",
                  "expected a map of parameters and arms; see docs/scenarios.md");
      return;
    }
    if (!root.IsMap()) {
      issues_.add(loc(root), "", "expected a map (name, description, arms and parameters) at the top level, got " +
                                     describe_node(root));
      return;
    }
    bool has_arms = false;
    for_each_entry(root, "", [&](const std::string& k, const YAML::Node& key, const YAML::Node& value) {
      if (k == "name" || k == "description") {
        if (auto s = text_value(value, key, k)) (k == "name" ? sc.name : sc.description) = *s;
      } else if (k == "arms") {
        has_arms = true;
        read_arms(value, key);
      } else {
        entry(k, "", key, value, base_, "");
      }
    });
    if (!has_arms) {
      ArmDraft a;
      a.name = "baseline";
      a.named = true;
      a.key = "arms[0]";
      a.ctx.is_arm = true;
      arms_.push_back(std::move(a));
    }
  }

  std::optional<std::string> text_value(const YAML::Node& value, const YAML::Node& key, const std::string& path) {
    if (value.IsNull()) return std::string();
    if (!value.IsScalar()) {
      issues_.add(value_loc(value, key), path, "expected a text, got " + describe_node(value));
      return std::nullopt;
    }
    if (value.Scalar().size() > output::layout::kMaxAttributeText) {
      issues_.add(value_loc(value, key), path, text_too_long(value.Scalar().size()));
      return std::nullopt;
    }
    return value.Scalar();
  }

  // One key of a parameter map: a parameter, a section (recursed into) or an error.
  // `section` is the path so far ("juntos." or ""), `key_prefix` what is shown before it ("arms[1].set.").
  void entry(const std::string& k, const std::string& section, const YAML::Node& key, const YAML::Node& value,
             Context& ctx, const std::string& key_prefix) {
    const std::string path = section + k;
    const std::string shown = key_prefix + path;
    if (const ParamSpec* spec = reg_.find(path)) {
      if (ctx.is_arm && is_shared_across_arms(path)) {
        issues_.add(loc(key), shown, shared_message(path));
        ctx.bad.insert(path);
        return;
      }
      if (auto it = ctx.set_at.find(path); it != ctx.set_at.end()) {
        issues_.add(loc(key), shown, "'" + path + "' is set twice (first at " + where(it->second) + ")",
                    "a parameter may be given nested or as a dotted key, not both");
        return;
      }
      ctx.set_at[path] = loc(key);
      ctx.key_of[path] = shown;
      if (auto v = convert(*spec, value, key, shown)) ctx.assignments.push_back({path, std::move(*v)});
      else ctx.bad.insert(path);
      return;
    }
    if (!k.empty() && reg_.is_section(path)) {
      if (value.IsNull()) return;  // an empty section (every entry commented out)
      if (!value.IsMap()) {
        issues_.add(value_loc(value, key), shown,
                    "'" + path + "' is a section; expected a map of its parameters, got " + describe_node(value),
                    "its keys are: " + join(reg_.children(path)));
        return;
      }
      for_each_entry(value, shown + ".", [&](const std::string& k2, const YAML::Node& key2, const YAML::Node& v2) {
        entry(k2, path + ".", key2, v2, ctx, key_prefix);
      });
      return;
    }
    issues_.add(loc(key), shown, "unknown key '" + path + "'", unknown_hint(path, section, ctx.is_arm));
  }

  std::string unknown_hint(const std::string& path, const std::string& section, bool in_arm) const {
    std::vector<std::string> candidates;
    for (const auto& s : reg_.specs()) candidates.push_back(s.name);
    for (const auto& s : reg_.sections()) candidates.push_back(s);
    auto near = nearest_names(path, candidates, 1);
    if (!near.empty()) {
      std::string hint = "did you mean '" + near.front() + "'?";
      if (in_arm && is_shared_across_arms(near.front())) hint += " (it cannot be set per arm)";
      return hint;
    }
    const std::string sec = section.empty() ? "" : section.substr(0, section.size() - 1);
    std::vector<std::string> keys = reg_.children(sec);
    if (sec.empty() && !in_arm) keys.insert(keys.begin(), {"name", "description", "arms"});
    return (sec.empty() ? "valid keys are: " : "valid keys in '" + sec + "' are: ") + join(keys);
  }

  // A YAML value to the spec's type, or a reported problem.
  // `at_override` replaces the YAML position (for --set values, which have no line in a file).
  std::optional<ParamValue> convert(const ParamSpec& spec, const YAML::Node& value, const YAML::Node& key,
                                    const std::string& shown, const Loc* at_override = nullptr) {
    const Loc at = at_override ? *at_override : value_loc(value, key);
    const std::string expected = "expected " + describe_expected(spec);
    if (value.IsNull()) {
      issues_.add(at, shown, expected + ", got nothing");
      return std::nullopt;
    }
    if (value.IsMap()) {
      issues_.add(at, shown, expected + ", got a map", "'" + spec.name + "' is a parameter, not a section");
      return std::nullopt;
    }
    std::variant<ParamValue, std::string> parsed;
    if (value.IsSequence()) {
      if (spec.type != ParamType::text_list) {
        issues_.add(at, shown, expected + ", got a list");
        return std::nullopt;
      }
      std::vector<std::string> items;
      for (const auto& item : value) {
        if (!item.IsScalar()) {
          issues_.add(!at_override && loc(item).line ? loc(item) : at, shown, expected + ", got " + describe_node(item) + " in the list");
          return std::nullopt;
        }
        items.push_back(item.Scalar());
      }
      ParamValue v = std::move(items);
      if (auto err = reg_.check(spec, v)) parsed = *err;
      else parsed = std::move(v);
    } else if (spec.type == ParamType::choice || spec.type == ParamType::text) {
      ParamValue v = value.Scalar();  // YAML has already stripped what a plain scalar would not keep
      if (auto err = reg_.check(spec, v)) parsed = *err;
      else parsed = std::move(v);
    } else if (is_quoted(value) && spec.type != ParamType::text_list) {
      issues_.add(at, shown, expected + ", got the quoted text '" + value.Scalar() + "'",
                  "remove the quotes");
      return std::nullopt;
    } else {
      parsed = reg_.parse(spec, value.Scalar());
    }
    if (auto* err = std::get_if<std::string>(&parsed)) {
      std::string hint;
      if (spec.type == ParamType::choice && value.IsScalar()) {
        auto near = nearest_names(value.Scalar(), spec.choices, 1);
        if (!near.empty()) hint = "did you mean '" + near.front() + "'?";
      }
      issues_.add(at, shown, *err, hint);
      return std::nullopt;
    }
    return std::get<ParamValue>(std::move(parsed));
  }

  void read_arms(const YAML::Node& value, const YAML::Node& key) {
    if (value.IsNull() || (value.IsSequence() && value.size() == 0)) {
      arms_well_formed_ = false;
      issues_.add(value_loc(value, key), "arms", "the arms list is empty",
                  "give at least one arm, or leave 'arms' out for a single arm named 'baseline'");
      return;
    }
    if (!value.IsSequence()) {
      arms_well_formed_ = false;
      issues_.add(value_loc(value, key), "arms", "expected a list of arms, got " + describe_node(value),
                  "write each arm as '- name: ...'");
      return;
    }
    if (value.size() > kMaxArms) {
      arms_well_formed_ = false;
      issues_.add(loc(value), "arms", "too many arms (" + std::to_string(value.size()) + "; at most " +
                                          std::to_string(kMaxArms) + ")");
      return;
    }
    std::map<std::string, std::string> names;  // name -> where first seen
    std::size_t i = 0;
    for (const auto& item : value) {
      ArmDraft a;
      a.key = "arms[" + std::to_string(i++) + "]";
      a.loc = loc(item).line ? loc(item) : loc(key);
      a.ctx.is_arm = true;
      if (!item.IsMap()) {
        arms_well_formed_ = false;
        issues_.add(a.loc, a.key, "expected an arm (a map with name, description and set), got " +
                                      describe_node(item));
        continue;
      }
      bool name_given = false;
      for_each_entry(item, a.key + ".", [&](const std::string& k, const YAML::Node& kn, const YAML::Node& v) {
        const std::string shown = a.key + "." + k;
        if (k == "name") {
          name_given = true;
          if (v.IsNull() || !v.IsScalar()) {
            arms_well_formed_ = false;
            issues_.add(value_loc(v, kn), shown, "expected an arm name, got " + describe_node(v));
          } else if (!valid_arm_name(v.Scalar())) {
            arms_well_formed_ = false;
            issues_.add(loc(v), shown, "arm name '" + v.Scalar() + "' may only hold letters, digits and '_'");
          } else if (auto [it, fresh] = names.emplace(v.Scalar(), a.key + ", " + where(loc(v))); !fresh) {
            arms_well_formed_ = false;
            issues_.add(loc(v), shown, "duplicate arm name '" + v.Scalar() + "' (first at " + it->second + ")");
          } else {
            a.name = v.Scalar();
            a.named = true;
          }
        } else if (k == "description") {
          if (auto s = text_value(v, kn, shown)) a.description = *s;
        } else if (k == "set") {
          if (v.IsNull()) return;
          if (!v.IsMap()) {
            issues_.add(value_loc(v, kn), shown, "expected a map of parameter overrides, got " + describe_node(v));
            return;
          }
          for_each_entry(v, shown + ".", [&](const std::string& k2, const YAML::Node& kn2, const YAML::Node& v2) {
            entry(k2, "", kn2, v2, a.ctx, a.key + ".set.");
          });
        } else {
          std::string hint;
          if (reg_.find(k) || reg_.is_section(k)) {
            hint = "put parameter overrides under 'set:'";
          } else {
            auto near = nearest_names(k, {"name", "description", "set"}, 1);
            hint = near.empty() ? "an arm has the keys name, description and set"
                                : "did you mean '" + near.front() + "'?";
          }
          issues_.add(loc(kn), shown, "unknown key '" + k + "' in an arm", hint);
        }
      });
      if (!name_given) {
        arms_well_formed_ = false;
        issues_.add(a.loc, a.key, "the arm has no name", "add 'name: ...'");
      }
      arms_.push_back(std::move(a));
    }
  }

  // "dotted.path=value" or "arms.NAME.dotted.path=value".
  void apply_set(const std::string& s, Scenario& sc) {
    const Loc at{kSetLabel, 0, 0};
    const auto eq = s.find('=');
    if (eq == std::string::npos || s.find_first_not_of(" \t") == eq) {
      issues_.add(at, s, "expected 'dotted.path=value'");
      return;
    }
    std::string key = s.substr(0, eq);
    while (!key.empty() && std::isspace(static_cast<unsigned char>(key.back()))) key.pop_back();
    while (!key.empty() && std::isspace(static_cast<unsigned char>(key.front()))) key.erase(0, 1);
    const std::string text = s.substr(eq + 1);
    if (text.size() > kMaxSetValueBytes) {
      issues_.add(at, key, "the value is too long");
      return;
    }
    if (auto bad = check_text(text, kSetLabel)) {
      issues_.add(at, key, bad->second);
      return;
    }
    if (key == "name" || key == "description") {
      if (text.size() > output::layout::kMaxAttributeText) {
        issues_.add(at, key, text_too_long(text.size()));
        return;
      }
      // The file's rules: a list or a second document is not a text, quotes are removed; text YAML would
      // read as something else (a map, a syntax error) is taken as it stands.
      Issues scratch;
      int documents = 0;
      std::optional<YAML::Node> node;
      try {
        node = parse_guarded(text, kSetLabel, scratch, &documents);
      } catch (const TooManyIssues&) {
      }
      if (documents > 1) {
        issues_.add(at, key, multiple_documents_message());
        return;
      }
      if (node && node->IsSequence()) {
        issues_.add(at, key, "expected a text, got " + describe_node(*node),
                    "quote it to mean the text itself: --set '" + key + "=\"" + text + "\"'");
        return;
      }
      (key == "name" ? sc.name : sc.description) = node && node->IsScalar() ? node->Scalar() : text;
      return;
    }
    Context* ctx = &base_;
    std::string path = key;
    if (key == "arms" || key.rfind("arms.", 0) == 0) {
      const std::string rest = key.size() > 5 ? key.substr(5) : "";
      const auto dot = rest.find('.');
      if (dot == std::string::npos || dot == 0) {
        issues_.add(at, key, "expected 'arms.NAME.dotted.path=value'");
        return;
      }
      const std::string arm = rest.substr(0, dot);
      path = rest.substr(dot + 1);
      ArmDraft* found = nullptr;
      std::vector<std::string> names;
      for (auto& a : arms_) {
        if (a.named) names.push_back(a.name);
        if (a.named && a.name == arm) found = &a;
      }
      if (!found) {
        auto near = nearest_names(arm, names, 1);
        issues_.add(at, key, "no arm is named '" + arm + "'",
                    near.empty() ? "the arms are: " + join(names) : "did you mean '" + near.front() + "'?");
        return;
      }
      ctx = &found->ctx;
    }
    const ParamSpec* spec = reg_.find(path);
    if (!spec) {
      if (reg_.is_section(path))
        issues_.add(at, key, "'" + path + "' is a section, not a parameter",
                    "its keys are: " + join(reg_.children(path)));
      else
        issues_.add(at, key, "unknown key '" + path + "'", unknown_hint(path, "", ctx->is_arm));
      return;
    }
    if (ctx->is_arm && is_shared_across_arms(path)) {
      issues_.add(at, key, shared_message(path));
      return;
    }
    std::optional<ParamValue> value;
    const bool textual = spec->type == ParamType::choice || spec->type == ParamType::text;
    const std::string trimmed = [&] {
      auto b = text.find_first_not_of(" \t");
      auto e = text.find_last_not_of(" \t");
      return b == std::string::npos ? std::string() : text.substr(b, e - b + 1);
    }();
    // YAML scalar rules ("[a, b]" is a list, quotes are removed), except that plain text that YAML
    // would read as something else (a map, a syntax error) is taken as it stands.
    Issues scratch;
    std::optional<YAML::Node> node;
    if (!trimmed.empty()) {
      int documents = 0;
      try {
        node = parse_guarded(trimmed, kSetLabel, scratch, &documents);
      } catch (const TooManyIssues&) {
      }
      if (documents > 1) {
        issues_.add(at, key, multiple_documents_message());
        return;
      }
    }
    if (node && node->IsScalar() && textual) {
      ParamValue v = node->Scalar();
      if (auto err = reg_.check(*spec, v)) report_set_error(at, key, *spec, *err, node->Scalar());
      else value = std::move(v);
    } else if (node && (node->IsScalar() || node->IsSequence() || (node->IsMap() && !textual))) {
      value = convert(*spec, *node, *node, key, &at);
    } else {
      auto parsed = reg_.parse(*spec, trimmed);
      if (auto* err = std::get_if<std::string>(&parsed)) report_set_error(at, key, *spec, *err, trimmed);
      else value = std::get<ParamValue>(std::move(parsed));
    }
    if (!value) return;
    ctx->set_at[path] = at;
    ctx->key_of[path] = key;
    ctx->bad.erase(path);
    if (ctx->is_arm) {
      // One override per parameter in an arm, so that resolved_yaml() has no duplicate keys.
      auto it = std::find_if(ctx->assignments.begin(), ctx->assignments.end(),
                             [&](const Assignment& a) { return a.param == path; });
      if (it != ctx->assignments.end()) {
        it->value = std::move(*value);
        return;
      }
    }
    ctx->assignments.push_back({path, std::move(*value)});
  }

  void report_set_error(const Loc& at, const std::string& key, const ParamSpec& spec, const std::string& err,
                        const std::string& text) {
    std::string hint;
    if (spec.type == ParamType::choice) {
      auto near = nearest_names(text, spec.choices, 1);
      if (!near.empty()) hint = "did you mean '" + near.front() + "'?";
    }
    issues_.add(at, key, err, hint);
  }

  // Builds the ParamSets and checks what involves several places: the reference arm and constraints.
  void assemble(Scenario& sc) {
    for (const auto& a : base_.assignments) sc.base.set(a.param, a.value);
    for (const auto& d : arms_) {
      Arm arm{d.name, d.description, sc.base, {}};
      for (const auto& a : d.ctx.assignments) {
        arm.params.set(a.param, a.value);
        arm.overrides.emplace_back(a.param, a.value);
      }
      sc.arms.push_back(std::move(arm));
    }
    if (reg_.find("run.reference_arm") && arms_well_formed_ && !base_.bad.count("run.reference_arm")) {
      const std::string& ref = sc.base.choice("run.reference_arm");
      if (!ref.empty() && !sc.find_arm(ref)) {
        std::vector<std::string> names;
        for (const auto& a : sc.arms) names.push_back(a.name);
        auto near = nearest_names(ref, names, 1);
        auto it = base_.set_at.find("run.reference_arm");
        issues_.add(it != base_.set_at.end() ? it->second : Loc{file_, 0, 0}, "run.reference_arm",
                    "no arm is named '" + ref + "'",
                    near.empty() ? "the arms are: " + join(names) : "did you mean '" + near.front() + "'?");
      }
    }
    std::set<std::string> base_violated;
    for (const auto& c : reg_.constraints()) {
      if (involves(c, base_.bad)) continue;
      if (auto err = c.check(sc.base)) {
        base_violated.insert(c.name);
        report_constraint(c, *err, base_, nullptr);
      }
    }
    for (std::size_t i = 0; i < sc.arms.size(); ++i) {
      const Context& ctx = arms_[i].ctx;
      for (const auto& c : reg_.constraints()) {
        if (involves(c, base_.bad) || involves(c, ctx.bad)) continue;
        bool overrides = false;
        for (const auto& p : c.params) overrides = overrides || ctx.set_at.count(p);
        if (base_violated.count(c.name) && !overrides) continue;  // already reported on the base
        if (auto err = c.check(sc.arms[i].params)) report_constraint(c, *err, ctx, &arms_[i]);
      }
    }
  }

  static bool involves(const ParamConstraint& c, const std::set<std::string>& names) {
    for (const auto& p : c.params)
      if (names.count(p)) return true;
    return false;
  }

  void report_constraint(const ParamConstraint& c, const std::string& err, const Context& ctx,
                         const ArmDraft* arm) {
    // Point at the first involved parameter that was set explicitly, in the arm or else in the base.
    for (const Context* where_set : {&ctx, static_cast<const Context*>(&base_)}) {
      for (const auto& p : c.params) {
        auto it = where_set->set_at.find(p);
        if (it == where_set->set_at.end()) continue;
        std::string key = where_set->key_of.at(p);
        if (arm && where_set == &base_) key = arm->key + " (" + arm->name + "): " + key;
        issues_.add(it->second, key, err, "constraint '" + c.name + "'");
        return;
      }
    }
    issues_.add(arm ? arm->loc : Loc{file_, 0, 0}, arm ? arm->key : c.name, err,
                "constraint '" + c.name + "' on " + join(c.params));  // nothing involved was set explicitly
  }

  const Registry& reg_;
  std::string file_;
  Issues issues_;
  Context base_;
  std::vector<ArmDraft> arms_;
  bool arms_well_formed_ = true;  // false once the arms list or an arm's name was rejected
};

// ---- resolved_yaml ----

void emit_value(YAML::Emitter& out, const ParamSpec& spec, const ParamValue& v) {
  switch (spec.type) {
    case ParamType::real:
    case ParamType::integer:
      out << format_value(v);  // shortest text that reads back to the same double
      break;
    case ParamType::boolean:
      out << std::get<bool>(v);
      break;
    case ParamType::choice:
    case ParamType::text:
      out << YAML::DoubleQuoted << std::get<std::string>(v);
      break;
    case ParamType::text_list:
      out << YAML::Flow << YAML::BeginSeq;
      for (const auto& s : std::get<std::vector<std::string>>(v)) out << YAML::DoubleQuoted << s;
      out << YAML::EndSeq;
      break;
  }
}

void emit_section(YAML::Emitter& out, const Registry& reg, const ParamSet& params, const std::string& section) {
  const std::string prefix = section.empty() ? "" : section + ".";
  for (const auto& k : reg.children(section)) {
    const std::string path = prefix + k;
    out << YAML::Key << k << YAML::Value;
    if (const ParamSpec* spec = reg.find(path)) {
      emit_value(out, *spec, params.get(path));
    } else {
      out << YAML::BeginMap;
      emit_section(out, reg, params, path);
      out << YAML::EndMap;
    }
  }
}

}  // namespace

std::string ConfigIssue::format() const {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  out += ": ";
  if (!key.empty()) out += key + ": ";
  out += message;
  if (!hint.empty()) out += " (" + hint + ")";
  return out;
}

namespace {
std::string error_text(const std::string& file, const std::vector<ConfigIssue>& issues) {
  std::string out = "invalid scenario " + file + ": " + std::to_string(issues.size()) +
                    (issues.size() == 1 ? " problem" : " problems");
  for (const auto& i : issues) {
    out += '\n';
    out += i.format();
  }
  return out;
}
}  // namespace

ConfigError::ConfigError(std::vector<ConfigIssue> issues)
    : BadInput(error_text(issues.empty() ? std::string("<unknown>") : issues.front().file, issues)),
      issues_(std::move(issues)) {}

ConfigError::ConfigError(const std::string& file, std::vector<ConfigIssue> issues)
    : BadInput(error_text(file, issues)), issues_(std::move(issues)) {}

bool is_shared_across_arms(const std::string& param_name) {
  for (const char* p : {"population.", "run.", "output."})
    if (param_name.rfind(p, 0) == 0) return true;
  return false;
}

const Arm* Scenario::find_arm(const std::string& arm_name) const {
  for (const auto& a : arms)
    if (a.name == arm_name) return &a;
  return nullptr;
}

std::string Scenario::resolved_yaml() const {
  const Registry& reg = base.registry();
  YAML::Emitter out;
  out << YAML::BeginMap;
  out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << name;
  out << YAML::Key << "description" << YAML::Value << YAML::DoubleQuoted << description;
  emit_section(out, reg, base, "");
  out << YAML::Key << "arms" << YAML::Value << YAML::BeginSeq;
  for (const auto& arm : arms) {
    out << YAML::BeginMap;
    out << YAML::Key << "name" << YAML::Value << YAML::DoubleQuoted << arm.name;
    out << YAML::Key << "description" << YAML::Value << YAML::DoubleQuoted << arm.description;
    if (!arm.overrides.empty()) {
      out << YAML::Key << "set" << YAML::Value << YAML::BeginMap;
      for (const auto& [param, value] : arm.overrides) {
        out << YAML::Key << param << YAML::Value;
        emit_value(out, *reg.find(param), value);
      }
      out << YAML::EndMap;
    }
    out << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

Scenario load_scenario_text(const std::string& yaml_text, const std::string& file_label, const Registry& registry,
                            const std::vector<std::string>& sets) {
  return Loader(registry, file_label).load(yaml_text, sets);
}

Scenario load_scenario_file(const std::string& path, const Registry& registry, const std::vector<std::string>& sets) {
  namespace fs = std::filesystem;
  auto fail = [&](const std::string& message) -> Scenario {
    throw ConfigError(path, {ConfigIssue{path, 0, 0, "", message, ""}});
  };
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) return fail("cannot read the scenario: no such file");
  if (fs::is_directory(st)) return fail("cannot read the scenario: it is a directory");
  if (fs::is_regular_file(st)) {
    const auto size = fs::file_size(path, ec);
    if (!ec && size > kMaxBytes)
      return fail("the scenario is too large (" + std::to_string(size) + " bytes; at most " +
                  std::to_string(kMaxBytes) + ")");
  }
  // Opened without blocking, so that a FIFO nobody writes to reads as empty instead of waiting for ever (a
  // FIFO or pipe with a writer is then read normally, blocking).
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return fail(std::string("cannot read the scenario: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  // Read at most one byte past the cap, so that a pipe or device cannot make us read forever; the buffer is on
  // the heap, so that a small stack limit (ulimit -s) is enough.
  std::string text;
  std::vector<char> buf(1 << 16);
  while (text.size() <= kMaxBytes) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(std::string("cannot read the scenario: ") + std::strerror(errno));
    if (n == 0) break;
    text.append(buf.data(), static_cast<std::size_t>(n));
  }
  if (text.size() > kMaxBytes)
    return fail("the scenario is too large (more than " + std::to_string(kMaxBytes) + " bytes)");
  return load_scenario_text(text, path, registry, sets);
}

}  // namespace chacra
