// Parameter sweeps: designs checked against the registry, the points run on common random numbers and gathered
// into one file with a design dimension, and the sensitivity of the comparison's effects (see study/sweep.hpp).
#include "study/sweep.hpp"

#include "sim/output/csv.hpp"
#include "sim/output/layout.hpp"
#include "sim/output/sweep.hpp"
#include "sim/output/writer.hpp"
#include "sim/runner.hpp"
#include "study/budget.hpp"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace chacra::study {

namespace {

namespace fs = std::filesystem;
namespace layout = output::layout;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string join(const std::vector<std::string>& v, const std::string& sep) {
  std::string s;
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

// The registry's spec of a varied name (NAME or arms.ARM.NAME), or the reason it cannot be varied.
struct Resolved {
  const ParamSpec* spec = nullptr;
  std::string problem, hint;
};
Resolved resolve_parameter(const std::string& name, const Registry& registry) {
  static const std::regex arm_prefix(R"(^arms\.[^.]+\.)");
  const std::string bare = std::regex_replace(name, arm_prefix, "", std::regex_constants::format_first_only);
  Resolved r;
  r.spec = registry.find(bare);
  if (!r.spec) {
    r.problem = "'" + bare + "' is not a parameter";
    const auto near = registry.nearest(bare);
    if (!near.empty()) r.hint = "did you mean '" + near.front() + "'? (every name: chacra params)";
    return r;
  }
  if (r.spec->type != ParamType::real && r.spec->type != ParamType::integer) {
    r.problem = "'" + bare + "' is a " + to_string(r.spec->type) + " parameter; a sweep varies numbers only";
    r.hint = "run one scenario per value, or give each value its own arm";
    r.spec = nullptr;
    return r;
  }
  if (bare.rfind("run.", 0) == 0 || bare.rfind("output.", 0) == 0) {
    r.problem = "'" + bare + "' is a setting of the run, the same at every point of a sweep";
    r.hint = "set it with --set; vary model parameters";
    r.spec = nullptr;
  }
  return r;
}

// The problem with a range [lo, hi] for the spec, or "".
std::string range_problem(const ParamSpec& spec, double lo, double hi) {
  if (lo < spec.min || hi > spec.max)
    return "the range [" + number(lo) + ", " + number(hi) + "] leaves the parameter's own [" + number(spec.min) + ", " +
           number(spec.max) + "]" + (spec.unit.empty() ? "" : " (" + spec.unit + ")");
  if (spec.type == ParamType::integer && (lo != std::floor(lo) || hi != std::floor(hi)))
    return "an integer parameter needs whole-number bounds, got [" + number(lo) + ", " + number(hi) + "]";
  return "";
}

ParameterKind kind_of(const ParamSpec& spec) {
  return spec.type == ParamType::integer ? ParameterKind::integer : ParameterKind::real;
}

// ---- Design files ----

struct DesignFileReader {
  std::string path;
  const Registry& registry;
  std::vector<ConfigIssue> issues;

  void issue(const YAML::Node& n, const std::string& key, const std::string& message, const std::string& hint = "") {
    const YAML::Mark m = n.Mark();
    issues.push_back({path, m.is_null() ? 0 : m.line + 1, m.is_null() ? 0 : m.column + 1, key, message, hint});
  }
  std::optional<double> real(const YAML::Node& n, const std::string& key) {
    double v = 0;
    if (n.IsScalar() && YAML::convert<double>::decode(n, v) && std::isfinite(v)) return v;
    issue(n, key, "expected a finite number, got " + (n.IsScalar() ? "'" + n.Scalar() + "'" : std::string("a list or map")));
    return std::nullopt;
  }
  // Every issue at once, in file order, worded for a design file.
  [[noreturn]] void fail() {
    std::stable_sort(issues.begin(), issues.end(), [](const ConfigIssue& a, const ConfigIssue& b) {
      return std::make_pair(a.line, a.column) < std::make_pair(b.line, b.column);
    });
    try {
      throw ConfigError(path, issues);
    } catch (const ConfigError& e) {
      std::string text = e.what();
      if (const auto at = text.find("invalid scenario"); at != std::string::npos)
        text.replace(at, 16, "invalid design file");
      rethrow_as(text);
    }
  }
  std::optional<std::size_t> whole(const YAML::Node& n, const std::string& key, std::size_t min) {
    const auto v = real(n, key);
    if (!v) return std::nullopt;
    if (*v != std::floor(*v) || *v < static_cast<double>(min) || *v > static_cast<double>(kMaxDesignPoints)) {
      issue(n, key, "expected a whole number in [" + std::to_string(min) + ", " + std::to_string(kMaxDesignPoints) +
                        "], got '" + n.Scalar() + "'");
      return std::nullopt;
    }
    return static_cast<std::size_t>(*v);
  }
};

const std::map<std::string, DesignKind> kDesignNames = {{"grid", DesignKind::grid},
                                                        {"latin_hypercube", DesignKind::latin_hypercube},
                                                        {"sobol", DesignKind::sobol_sequence},
                                                        {"sobol_sequence", DesignKind::sobol_sequence},
                                                        {"saltelli", DesignKind::saltelli},
                                                        {"morris", DesignKind::morris}};

// The keys each design takes besides `design`, `parameters` and `description`.
std::set<std::string> keys_of(DesignKind kind) {
  switch (kind) {
    case DesignKind::grid: return {};
    case DesignKind::latin_hypercube: return {"points", "seed"};
    case DesignKind::sobol_sequence: return {"points", "seed", "scramble", "skip"};
    case DesignKind::saltelli: return {"base_rows", "seed", "scramble", "skip"};
    case DesignKind::morris: return {"trajectories", "levels", "seed", "candidates"};
  }
  return {};
}

// ---- Sweep files ----

output::Records design_roles(const Design& d) {
  output::Records r;
  r.description = "Each point's role in its design (one row per point): a grid node, a sample, row `row` of "
                  "Saltelli's A, B or A_B^(parameter), or step `step` of Morris trajectory `row`";
  output::RecordColumn role{"role", "grid, sample, A, B, AB (Saltelli's matrices) or morris", true, {}, {},
                            ColumnType::f64};
  output::RecordColumn row{"row", "Saltelli base row, Morris trajectory, or the point's index", false, {}, {},
                           ColumnType::i32};
  output::RecordColumn step{"step", "Morris: the step along the trajectory (0: its base point)", false, {}, {},
                            ColumnType::i32};
  output::RecordColumn parameter{"parameter", "Saltelli A_B^(i) and Morris steps: the parameter moved (-1: none)",
                                 false, {}, {}, ColumnType::i32};
  for (const auto& t : d.tags) {
    role.strings.push_back(to_string(t.role));
    row.numbers.push_back(static_cast<double>(t.row));
    step.numbers.push_back(static_cast<double>(t.step));
    parameter.numbers.push_back(t.parameter == PointTag::none ? -1.0 : static_cast<double>(t.parameter));
  }
  r.columns = {role, row, step, parameter};
  return r;
}

output::Records design_ranges(const Design& d) {
  output::Records r;
  r.description = "The varied parameters' ranges (one row per parameter, in the design's order)";
  output::RecordColumn name{"parameter", "Parameter name (docs/parameters.md)", true, {}, {}, ColumnType::f64};
  output::RecordColumn kind{"kind", "real or integer", true, {}, {}, ColumnType::f64};
  output::RecordColumn lo{"minimum", "Lower end of the range", false, {}, {}, ColumnType::f64};
  output::RecordColumn hi{"maximum", "Upper end of the range", false, {}, {}, ColumnType::f64};
  for (const auto& p : d.parameters) {
    name.strings.push_back(p.name);
    kind.strings.push_back(p.kind == ParameterKind::integer ? "integer" : "real");
    lo.numbers.push_back(p.min);
    hi.numbers.push_back(p.max);
  }
  r.columns = {name, kind, lo, hi};
  return r;
}

struct SensitivityColumn {
  const char* name;
  double SensitivityRow::*field;
  const char* description;
};
const SensitivityColumn kSensitivityNumbers[] = {
    {"first", &SensitivityRow::first, "Sobol first-order index S_i (Saltelli et al. 2010)"},
    {"first_low", &SensitivityRow::first_low, "Lower end of S_i's bootstrap interval"},
    {"first_high", &SensitivityRow::first_high, "Upper end of S_i's bootstrap interval"},
    {"total", &SensitivityRow::total, "Sobol total-order index S_Ti (Jansen 1999)"},
    {"total_low", &SensitivityRow::total_low, "Lower end of S_Ti's bootstrap interval"},
    {"total_high", &SensitivityRow::total_high, "Upper end of S_Ti's bootstrap interval"},
    {"mu", &SensitivityRow::mu, "Morris mean elementary effect, per unit of the parameter's range"},
    {"mu_star", &SensitivityRow::mu_star, "Morris mean absolute elementary effect (Campolongo et al. 2007)"},
    {"mu_star_low", &SensitivityRow::mu_star_low, "Lower end of mu*'s bootstrap interval"},
    {"mu_star_high", &SensitivityRow::mu_star_high, "Upper end of mu*'s bootstrap interval"},
    {"sigma", &SensitivityRow::sigma, "Standard deviation of the elementary effects"},
};
struct SensitivityText {
  const char* name;
  std::string SensitivityRow::*field;
  const char* description;
};
const SensitivityText kSensitivityTexts[] = {
    {"arm", &SensitivityRow::arm, "Arm whose effect is analysed"},
    {"reference", &SensitivityRow::reference, "Reference arm of the effect"},
    {"outcome", &SensitivityRow::outcome, "Outcome of the comparison (docs/policy_arms.md)"},
    {"subgroup", &SensitivityRow::subgroup, "Subgroup of the comparison"},
    {"statistic", &SensitivityRow::statistic, "Statistic of the comparison"},
    {"unit", &SensitivityRow::unit, "Unit of the effect"},
    {"parameter", &SensitivityRow::parameter, "Varied parameter"},
    {"method", &SensitivityRow::method, "sobol or morris"},
};

output::Records sensitivity_records(const std::vector<SensitivityRow>& rows, const std::vector<std::string>& notes,
                                    const BootstrapOptions& b) {
  output::Records r;
  r.description = "Sensitivity of each effect of the comparison (arm minus reference, mean over replicates) to the "
                  "varied parameters: Sobol indices or Morris elementary effects; docs/sensitivity.md";
  r.attributes = {{"bootstrap_resamples", static_cast<long long>(b.resamples)},
                  {"bootstrap_level", b.level},
                  {"bootstrap_seed", static_cast<long long>(b.seed)}};
  r.notes = notes;
  for (const auto& c : kSensitivityTexts) {
    output::RecordColumn col{c.name, c.description, true, {}, {}, ColumnType::f64};
    for (const auto& row : rows) col.strings.push_back(row.*(c.field));
    r.columns.push_back(std::move(col));
  }
  for (const auto& c : kSensitivityNumbers) {
    output::RecordColumn col{c.name, c.description, false, {}, {}, ColumnType::f64};
    for (const auto& row : rows) col.numbers.push_back(row.*(c.field));
    r.columns.push_back(std::move(col));
  }
  return r;
}

std::string points_dir(const std::string& output) { return output + ".points"; }
std::string point_file(const std::string& dir, std::size_t p) {
  char name[32];
  std::snprintf(name, sizeof name, "point_%06zu.h5", p);
  return (fs::path(dir) / name).string();
}

// Removes the point files a sweep left in `dir`, and `dir`; refuses a directory holding anything else.
void remove_points_dir(const std::string& dir) {
  static const std::regex ours(R"(point_\d{6}\.h5(\.partial)?)");
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (!e.is_regular_file() || !std::regex_match(e.path().filename().string(), ours))
      throw OutputExists(dir + " holds " + e.path().filename().string() +
                         ", which chacra sweep did not write; move it away or choose another -o");
    files.push_back(e.path());
  }
  for (const auto& f : files) fs::remove(f);
  fs::remove(dir);
}

}  // namespace

Design grid_from_vary(const std::vector<std::string>& vary, const Registry& registry) {
  if (vary.empty())
    throw UsageError("sweep needs a design: --vary NAME=FROM:TO:POINTS (repeatable) or --design FILE.yaml");
  std::vector<GridAxis> axes;
  std::set<std::string> seen;
  for (const auto& text : vary) {
    GridAxis axis;
    try {
      axis = parse_vary(text);
    } catch (const DesignError& e) {
      throw UsageError(std::string("--vary: ") + e.what());
    }
    const Resolved r = resolve_parameter(axis.name, registry);
    if (!r.spec) throw UsageError("--vary " + text + ": " + r.problem + (r.hint.empty() ? "" : "; " + r.hint));
    if (const auto problem = range_problem(*r.spec, axis.from, axis.to); !problem.empty())
      throw UsageError("--vary " + text + ": " + problem);
    if (!seen.insert(axis.name).second)
      throw UsageError("--vary " + text + ": '" + axis.name + "' is varied twice; give each parameter one --vary");
    axis.kind = kind_of(*r.spec);
    axes.push_back(axis);
  }
  try {
    return full_grid(axes);
  } catch (const DesignError& e) {
    throw UsageError(std::string("--vary: ") + e.what());
  }
}

Design load_design_file(const std::string& path, const Registry& registry) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    DesignFileReader{path, registry, {{path, 0, 0, "", "cannot read the design file", "check the path"}}}.fail();
  } catch (const YAML::Exception& e) {
    DesignFileReader{path, registry, {{path, e.mark.is_null() ? 0 : e.mark.line + 1,
                                       e.mark.is_null() ? 0 : e.mark.column + 1, "", "not valid YAML: " + e.msg, ""}}}
        .fail();
  }
  DesignFileReader in{path, registry, {}};
  if (!root.IsMap()) {
    in.issue(root, "", "a design file is a map of design, parameters and the design's sizes",
             "see docs/sensitivity.md, \"Design files\"");
    in.fail();
  }
  std::optional<DesignKind> kind;
  const YAML::Node kind_node = root["design"];
  if (!kind_node) {
    in.issue(root, "design", "missing", "design: grid, latin_hypercube, sobol, saltelli or morris");
  } else if (auto it = kDesignNames.find(kind_node.IsScalar() ? kind_node.Scalar() : ""); it == kDesignNames.end()) {
    in.issue(kind_node, "design", "expected grid, latin_hypercube, sobol, saltelli or morris");
  } else {
    kind = it->second;
  }
  // Keys: the design's own, or a clear refusal naming the design they belong to.
  std::set<std::string> allowed{"design", "parameters", "description"};
  if (kind) allowed.merge(keys_of(*kind));
  const std::vector<std::string> all_keys{"design", "parameters", "description", "points", "base_rows",
                                          "trajectories", "levels", "seed", "scramble", "candidates", "skip"};
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>("");
    if (allowed.count(key)) continue;
    if (std::find(all_keys.begin(), all_keys.end(), key) != all_keys.end()) {
      in.issue(kv.first, key, "does not apply to a " + (kind_node ? kind_node.as<std::string>("") : std::string("?")) +
                                  " design", "it takes: " + join({allowed.begin(), allowed.end()}, ", "));
    } else {
      const auto near = nearest_names(key, all_keys, 1);
      in.issue(kv.first, key, "unknown key", near.empty() ? "" : "did you mean '" + near.front() + "'?");
    }
  }
  // Parameters and their ranges ([FROM, TO, POINTS] for a grid).
  std::vector<Parameter> parameters;
  std::vector<GridAxis> axes;
  const YAML::Node params = root["parameters"];
  if (!params || !params.IsMap() || params.size() == 0) {
    in.issue(params ? params : root, "parameters", "expected a map of parameter names to ranges",
             kind == DesignKind::grid ? "parameters: {juntos.transfer_pen: [100, 400, 7]}"
                                      : "parameters: {juntos.transfer_pen: [100, 400]}");
  } else {
    for (const auto& kv : params) {
      const std::string name = kv.first.as<std::string>("");
      const std::string key = "parameters." + name;
      const Resolved r = resolve_parameter(name, registry);
      if (!r.spec) {
        in.issue(kv.first, key, r.problem, r.hint);
        continue;
      }
      const std::size_t want = kind == DesignKind::grid ? 3 : 2;
      if (!kv.second.IsSequence() || kv.second.size() != want) {
        in.issue(kv.second, key, want == 3 ? "expected [FROM, TO, POINTS]" : "expected [MIN, MAX]",
                 want == 3 ? "e.g. [100, 400, 7]" : "e.g. [100, 400]");
        continue;
      }
      const auto lo = in.real(kv.second[0], key), hi = in.real(kv.second[1], key);
      if (!lo || !hi) continue;
      if (*lo > *hi || (*lo == *hi && kind != DesignKind::grid)) {
        in.issue(kv.second, key, "the range must go from a smaller to a larger number, got [" + number(*lo) + ", " +
                                     number(*hi) + "]");
        continue;
      }
      if (const auto problem = range_problem(*r.spec, *lo, *hi); !problem.empty()) {
        in.issue(kv.second, key, problem);
        continue;
      }
      if (kind == DesignKind::grid) {
        const auto n = in.whole(kv.second[2], key, 1);
        if (!n) continue;
        axes.push_back({name, *lo, *hi, *n, kind_of(*r.spec)});
      } else {
        parameters.push_back({name, *lo, *hi, kind_of(*r.spec)});
      }
    }
  }
  auto size = [&](const char* key, std::size_t min) -> std::size_t {
    const YAML::Node n = root[key];
    if (!n) {
      in.issue(root, key, "missing: a " + (kind_node ? kind_node.as<std::string>("") : std::string()) +
                              " design needs it");
      return 0;
    }
    return in.whole(n, key, min).value_or(0);
  };
  std::uint64_t seed = 0;
  if (const YAML::Node n = root["seed"]) {
    if (const auto v = in.real(n, "seed"); v && (*v < 0 || *v != std::floor(*v) || *v > 9.007199254740991e15))
      in.issue(n, "seed", "expected a whole number >= 0");
    else if (v)
      seed = static_cast<std::uint64_t>(*v);
  }
  SobolScramble scramble = SobolScramble::none;
  if (const YAML::Node n = root["scramble"]) {
    const std::string s = n.as<std::string>("");
    if (s == "digital_shift") scramble = SobolScramble::digital_shift;
    else if (s != "none") in.issue(n, "scramble", "expected none or digital_shift");
  }
  if (!kind) in.fail();
  std::size_t points = 0, base_rows = 0, trajectories = 0, levels = 4, candidates = 0, skip = 0;
  if (root["skip"]) skip = in.whole(root["skip"], "skip", 0).value_or(0);
  switch (*kind) {
    case DesignKind::latin_hypercube:
    case DesignKind::sobol_sequence: points = size("points", 1); break;
    case DesignKind::saltelli: base_rows = size("base_rows", 2); break;
    case DesignKind::morris:
      trajectories = size("trajectories", 2);
      if (root["levels"]) levels = size("levels", 2);
      if (root["candidates"]) candidates = size("candidates", 1);
      break;
    case DesignKind::grid: break;
  }
  if (!in.issues.empty()) in.fail();
  try {
    switch (*kind) {
      case DesignKind::grid: return full_grid(axes);
      case DesignKind::latin_hypercube: return latin_hypercube(parameters, points, seed);
      case DesignKind::sobol_sequence: return sobol_sequence(parameters, points, seed, scramble, skip);
      case DesignKind::saltelli: return saltelli(parameters, base_rows, seed, scramble, skip);
      case DesignKind::morris: return morris(parameters, trajectories, levels, seed, candidates);
    }
  } catch (const DesignError& e) {
    in.issues.push_back({path, 0, 0, "design", e.what(), ""});
    in.fail();
  }
  return {};
}

std::string point_setting(const Design& design, std::size_t point, std::size_t parameter) {
  const Parameter& p = design.parameters[parameter];
  const double v = design.value(point, parameter);
  char buf[64];
  if (p.kind == ParameterKind::integer) std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v));
  else std::snprintf(buf, sizeof buf, "%.17g", v);
  return p.name + "=" + buf;
}

std::vector<SensitivityRow> sensitivity_of_effects(const Design& design, const std::vector<ComparisonTable>& points,
                                                   const BootstrapOptions& bootstrap,
                                                   std::vector<std::string>& notes) {
  std::vector<SensitivityRow> out;
  if (design.kind != DesignKind::saltelli && design.kind != DesignKind::morris) {
    notes.push_back(std::string("a ") + to_string(design.kind) +
                    " design gives effects at each point but no sensitivity indices: use a saltelli or morris design "
                    "file for them");
    return out;
  }
  if (points.size() != design.size() || points.empty()) {
    notes.push_back("no comparison at every point (a scenario without a panel?): no sensitivity indices");
    return out;
  }
  const auto key = [](const ComparisonRow& r) { return r.arm + "|" + r.outcome + "|" + r.statistic; };
  std::vector<std::map<std::string, double>> effects(points.size());
  for (std::size_t p = 0; p < points.size(); ++p)
    for (const auto& r : points[p].rows)
      if (r.subgroup == "all") effects[p][key(r)] = r.mean_effect;
  std::vector<std::string> undefined, constant;
  for (const auto& row : points.front().rows) {
    if (row.subgroup != "all" || row.arm == row.reference) continue;
    const std::string k = key(row);
    const std::string label = row.arm + ": " + row.outcome + " (" + row.statistic + ")";
    std::vector<double> y(points.size());
    bool defined = true;
    for (std::size_t p = 0; p < points.size() && defined; ++p) {
      const auto it = effects[p].find(k);
      defined = it != effects[p].end() && std::isfinite(it->second);
      if (defined) y[p] = it->second;
    }
    if (!defined) {
      undefined.push_back(label);
      continue;
    }
    if (std::all_of(y.begin(), y.end(), [&](double v) { return v == y.front(); })) {
      constant.push_back(label);
      continue;
    }
    SensitivityRow base{row.arm, row.reference, row.outcome, row.subgroup, row.statistic, row.unit, "", "",
                        kNaN,    kNaN,          kNaN,        kNaN,         kNaN,          kNaN,     kNaN, kNaN,
                        kNaN,    kNaN,          kNaN};
    try {
      if (design.kind == DesignKind::saltelli) {
        const SobolResult s = sobol_indices(design, y, bootstrap);
        for (const auto& i : s.indices) {
          SensitivityRow r = base;
          r.parameter = i.parameter;
          r.method = "sobol";
          r.first = i.first, r.first_low = i.first_interval.low, r.first_high = i.first_interval.high;
          r.total = i.total, r.total_low = i.total_interval.low, r.total_high = i.total_interval.high;
          out.push_back(r);
        }
      } else {
        const MorrisResult m = morris_effects(design, y, bootstrap);
        for (const auto& e : m.effects) {
          SensitivityRow r = base;
          r.parameter = e.parameter;
          r.method = "morris";
          r.mu = e.mu, r.mu_star = e.mu_star, r.sigma = e.sigma;
          r.mu_star_low = e.mu_star_interval.low, r.mu_star_high = e.mu_star_interval.high;
          out.push_back(r);
        }
      }
    } catch (const std::invalid_argument&) {
      constant.push_back(label);  // A and B outputs all equal: the indices are undefined
    }
  }
  auto note = [&](const std::vector<std::string>& labels, const std::string& why) {
    if (labels.empty()) return;
    std::vector<std::string> first(labels.begin(), labels.begin() + std::min<std::size_t>(labels.size(), 3));
    notes.push_back(std::to_string(labels.size()) + " effect" + (labels.size() == 1 ? "" : "s") + " " + why + " (" +
                    join(first, "; ") + (labels.size() > 3 ? "; ..." : "") + "): no index");
  };
  note(undefined, "undefined at some point");
  note(constant, "without variance over the design");
  return out;
}

SweepResult run_sweep(const Design& design, const ScenarioLoader& load, const ModelBuilder& builder,
                      const SweepOptions& o) {
  h5::quiet_errors();
  const auto start = std::chrono::steady_clock::now();
  if (design.size() == 0) throw UsageError("the design has no points");
  if (fs::exists(o.output_path) && !o.force)
    throw OutputExists("output " + o.output_path +
                       " already exists; use --force to overwrite it or -o to choose another name");
  // Every point's scenario before anything runs, so that a value the scenario rejects (a constraint across
  // parameters, an arm that does not exist) is reported at once with the point that has it.
  std::vector<Scenario> scenarios;
  scenarios.reserve(design.size());
  for (std::size_t p = 0; p < design.size(); ++p) {
    std::vector<std::string> sets;
    for (std::size_t i = 0; i < design.dimensions(); ++i) sets.push_back(point_setting(design, p, i));
    try {
      scenarios.push_back(load(sets));
    } catch (const ConfigError& e) {
      rethrow_as("design point " + std::to_string(p) + " (" + join(sets, ", ") + "): " + e.what());
    }
  }
  const std::string dir = points_dir(o.output_path);
  if (fs::exists(dir) && !o.resume) {
    if (!o.force)
      throw OutputExists("the points of an unfinished sweep are kept in " + dir +
                         "; use --resume to continue it or --force to start over");
    remove_points_dir(dir);
  }
  fs::create_directories(dir);

  SweepResult result;
  result.design = design;
  result.comparisons.resize(design.size());
  std::vector<bool> has_comparison(design.size(), false);
  std::uint64_t done_before = 0;
  for (std::size_t p = 0; p < design.size(); ++p) {
    const std::string path = point_file(dir, p);
    const Scenario solved = solve_budget_neutrality(scenarios[p], builder, o.threads);
    if (o.resume && fs::exists(path)) {
      // A kept point counts only if the same scenario, with this point's values, produced it.
      const output::Reader kept(path);
      if (kept.scenario_yaml() != solved.resolved_yaml())
        throw ConfigError({ConfigIssue{path, 0, 0, "--resume",
                                       "this point was produced by a different scenario, design or settings",
                                       "run the same command, or use --force to start the sweep over"}});
      ++result.points_resumed;
      continue;
    }
    RunOptions ro;
    ro.output_path = path;
    ro.force = true;  // a point file in our own directory, left by a run that did not finish gathering
    ro.resume = o.resume && fs::exists(path + ".partial");
    ro.threads = o.threads;
    ro.command_line = o.command_line;
    RunComparison comparison;
    ro.finalize = [&comparison](hid_t file, RunResult&) { finalize_run_comparison(file, comparison); };
    const std::size_t remaining = design.size() - p;
    ro.progress = [&](std::uint64_t d, std::uint64_t t) {
      if (o.progress) o.progress(done_before + d, done_before + t * remaining);
    };
    const RunResult r = run_scenario(solved, builder, ro);
    done_before += r.household_months;
    result.household_months += r.household_months;
    if (comparison.available) {
      result.comparisons[p] = std::move(comparison.table);
      has_comparison[p] = true;
    }
  }

  // Gather: the points' files into one, along a leading design dimension.
  output::OutputRequest request;
  request.path = o.output_path;
  request.force = o.force;
  output::OutputFile out(std::move(request));
  const std::string first = point_file(dir, 0);
  {
    const output::Reader r0(first);
    result.arms = r0.arms();
    result.periods = r0.periods();
    result.replicates = static_cast<int>(r0.replicates(result.arms.front()).size());
    output::copy_run_header(r0.id(), out.id(), first);
  }
  output::set_provenance(out.id(), "command_line", o.command_line);
  output::set_provenance(out.id(), "sweep_points", static_cast<long long>(design.size()));
  output::SweepDesign stored;
  for (const auto& prm : design.parameters) stored.parameters.push_back(prm.name);
  stored.unit = design.unit;
  stored.values = design.values;
  stored.points = design.size();
  std::string shape;
  for (auto n : design.grid_shape) shape += (shape.empty() ? "" : "x") + std::to_string(n);
  stored.attributes = {{"design", std::string(to_string(design.kind))},
                       {"points", static_cast<long long>(design.size())},
                       {"grid_shape", shape},
                       {"base_rows", static_cast<long long>(design.base_rows)},
                       {"levels", static_cast<long long>(design.levels)},
                       {"delta", design.delta},
                       {"design_seed", static_cast<long long>(design.seed)}};
  stored.roles = design_roles(design);
  output::write_sweep_design(out.id(), stored);
  output::write_sweep_table(out.id(), layout::kSweepRanges, design_ranges(design));

  const std::size_t P = design.size(), A = result.arms.size(), R = static_cast<std::size_t>(result.replicates),
                    T = result.periods.size();
  std::vector<std::string> variables;
  {
    const output::Reader r0(first);
    variables = r0.aggregate_variables(result.arms.front(), 0);
  }
  for (const auto& name : variables) {
    std::vector<double> all;
    output::Variable variable;
    std::size_t width = 0;
    for (std::size_t p = 0; p < P; ++p) {
      const std::string path = point_file(dir, p);
      const output::Reader rp(path);
      if (rp.arms() != result.arms || rp.periods() != result.periods)
        throw output::FileError(path + " has other arms or periods than the first point");
      for (std::size_t a = 0; a < A; ++a)
        for (std::size_t r = 0; r < R; ++r) {
          const output::Dataset d = rp.aggregate(result.arms[a], static_cast<std::uint32_t>(r), name);
          const std::vector<double> v = d.read_all();
          if (all.empty()) {
            variable = d.variable();
            width = v.size() / std::max<std::size_t>(T, 1);
            all.assign(P * A * R * T * width, kNaN);
          }
          if (v.size() != T * width) throw output::FileError(path + ": aggregate " + name + " has another shape");
          std::copy(v.begin(), v.end(), all.begin() + static_cast<std::ptrdiff_t>(((p * A + a) * R + r) * T * width));
        }
    }
    std::vector<hsize_t> dims{P, A, R, T};
    if (width > 1) dims.push_back(width);
    output::write_sweep_aggregate(out.id(), variable, dims, all);
  }

  // Points run now hold their comparison in memory; kept points (--resume) in their files.
  for (std::size_t p = 0; p < P && !result.comparisons.empty(); ++p) {
    if (has_comparison[p] && (o.reference_arm.empty() || o.reference_arm == result.comparisons[p].reference)) continue;
    h5::Handle f = h5::open_file_readonly(point_file(dir, p));
    if (!has_comparison[p] && !study::has_comparison(f)) {
      result.comparisons.clear();
    } else {
      const ComparisonTable stored_table = has_comparison[p] ? result.comparisons[p] : read_comparison(f);
      result.comparisons[p] = o.reference_arm.empty() || o.reference_arm == stored_table.reference
                                  ? stored_table
                                  : compare_file(f, o.reference_arm);
    }
  }
  if (result.comparisons.empty()) {
    result.notes.push_back("the points have no comparison (output.panel: false?): effects and sensitivity need it");
  } else {
    ComparisonTable all = result.comparisons.front();
    all.rows.clear();
    std::vector<double> point_of_row;
    for (std::size_t p = 0; p < P; ++p)
      for (const auto& row : result.comparisons[p].rows) {
        all.rows.push_back(row);
        point_of_row.push_back(static_cast<double>(p));
      }
    output::Records records = comparison_records(all);
    records.description = "The comparison of every design point (column point): " + records.description;
    records.columns.push_back({"point", "The design point (row of sweep/values)", false, {}, point_of_row,
                               ColumnType::i32});
    output::write_sweep_table(out.id(), layout::kSweepComparison, records);
    result.sensitivity = sensitivity_of_effects(design, result.comparisons, o.bootstrap, result.notes);
  }
  output::write_sweep_table(out.id(), layout::kSweepSensitivity,
                            sensitivity_records(result.sensitivity, result.notes, o.bootstrap));
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  output::set_provenance(out.id(), "seconds", result.seconds);
  out.commit();
  remove_points_dir(dir);
  return result;
}

SweepResult read_sweep(hid_t file) {
  h5::quiet_errors();
  SweepResult result;
  const output::SweepDesign stored = output::read_sweep_design(file);
  const output::Records ranges = output::read_sweep_table(file, layout::kSweepRanges);
  Design& d = result.design;
  auto attr = [&](const std::string& name) -> std::optional<h5::AttrValue> {
    for (const auto& [n, v] : stored.attributes)
      if (n == name) return v;
    return std::nullopt;
  };
  auto whole = [&](const std::string& name) {
    const auto v = attr(name);
    const long long* n = v ? std::get_if<long long>(&*v) : nullptr;
    return n ? static_cast<std::size_t>(*n) : std::size_t{0};
  };
  const auto kind = attr("design");
  const std::string* kind_name = kind ? std::get_if<std::string>(&*kind) : nullptr;
  for (int k = 0; kind_name && k <= static_cast<int>(DesignKind::morris); ++k)
    if (*kind_name == to_string(static_cast<DesignKind>(k))) d.kind = static_cast<DesignKind>(k);
  d.base_rows = whole("base_rows");
  d.levels = whole("levels");
  d.seed = whole("design_seed");
  if (const auto v = attr("delta"); v && std::holds_alternative<double>(*v)) d.delta = std::get<double>(*v);
  if (const auto v = attr("grid_shape"); v && std::holds_alternative<std::string>(*v)) {
    std::stringstream ss(std::get<std::string>(*v));
    for (std::string part; std::getline(ss, part, 'x');) d.grid_shape.push_back(std::stoull(part));
  }
  const auto* lo = ranges.column("minimum");
  const auto* hi = ranges.column("maximum");
  const auto* kinds = ranges.column("kind");
  if (!lo || !hi || !kinds || lo->size() != stored.parameters.size())
    throw ComparisonError("the sweep's parameter ranges are missing (damaged file?)");
  for (std::size_t i = 0; i < stored.parameters.size(); ++i)
    d.parameters.push_back({stored.parameters[i], lo->numbers[i], hi->numbers[i],
                            kinds->strings[i] == "integer" ? ParameterKind::integer : ParameterKind::real});
  d.unit = stored.unit;
  d.values = stored.values;
  const auto* role = stored.roles.column("role");
  const auto* row = stored.roles.column("row");
  const auto* step = stored.roles.column("step");
  const auto* parameter = stored.roles.column("parameter");
  if (!role || !row || !step || !parameter || role->size() != stored.points)
    throw ComparisonError("the sweep's point roles are missing (damaged file?)");
  for (std::size_t p = 0; p < stored.points; ++p) {
    PointTag t;
    for (int k = 0; k <= static_cast<int>(PointRole::morris); ++k)
      if (role->strings[p] == to_string(static_cast<PointRole>(k))) t.role = static_cast<PointRole>(k);
    t.row = static_cast<std::size_t>(row->numbers[p]);
    t.step = static_cast<std::size_t>(step->numbers[p]);
    t.parameter = parameter->numbers[p] < 0 ? PointTag::none : static_cast<std::size_t>(parameter->numbers[p]);
    d.tags.push_back(t);
  }
  result.arms = stored.arms;
  result.periods = stored.periods;
  if (const auto reps = output::Reader(file).provenance("replicates"); reps && std::holds_alternative<long long>(*reps))
    result.replicates = static_cast<int>(std::get<long long>(*reps));
  if (output::has_sweep_table(file, layout::kSweepComparison)) {
    const output::Records all = output::read_sweep_table(file, layout::kSweepComparison);
    const ComparisonTable table = comparison_from_records(all);
    const auto* point = all.column("point");
    if (!point) throw ComparisonError("the sweep's comparison has no point column (damaged file?)");
    result.comparisons.assign(stored.points, table);
    for (auto& c : result.comparisons) c.rows.clear();
    for (std::size_t i = 0; i < table.rows.size(); ++i)
      result.comparisons.at(static_cast<std::size_t>(point->numbers[i])).rows.push_back(table.rows[i]);
  }
  if (output::has_sweep_table(file, layout::kSweepSensitivity)) {
    const output::Records s = output::read_sweep_table(file, layout::kSweepSensitivity);
    result.notes = s.notes;
    for (std::size_t i = 0; i < s.rows(); ++i) {
      SensitivityRow r{};
      for (const auto& c : kSensitivityTexts) r.*(c.field) = s.column(c.name)->strings.at(i);
      for (const auto& c : kSensitivityNumbers) r.*(c.field) = s.column(c.name)->numbers.at(i);
      result.sensitivity.push_back(r);
    }
  }
  return result;
}

std::string format_sweep(const SweepResult& s, const std::string& outcome_spec) {
  const Design& d = s.design;
  std::ostringstream os;
  os << "Sweep: " << to_string(d.kind) << " design, " << d.size() << " point" << (d.size() == 1 ? "" : "s")
     << " over " << d.dimensions() << " parameter" << (d.dimensions() == 1 ? "" : "s") << "; " << s.arms.size()
     << " arm" << (s.arms.size() == 1 ? "" : "s") << " x " << s.replicates << " replicate"
     << (s.replicates == 1 ? "" : "s") << " at every point, on the same populations and random numbers\n";
  for (const auto& p : d.parameters) os << "  " << p.name << " in [" << number(p.min) << ", " << number(p.max) << "]\n";
  const auto colon = outcome_spec.find(':');
  const std::string outcome = outcome_spec.substr(0, colon);
  const std::string statistic = colon == std::string::npos ? "final_year" : outcome_spec.substr(colon + 1);
  if (s.comparisons.empty()) {
    for (const auto& n : s.notes) os << "note: " << n << "\n";
    return os.str();
  }
  const std::string reference = s.comparisons.front().reference;
  char line[512];
  bool any = false;
  if (!s.sensitivity.empty() || d.kind == DesignKind::saltelli || d.kind == DesignKind::morris) {
    const bool sobol = d.kind == DesignKind::saltelli;
    os << "\n" << (sobol ? "Sobol indices" : "Morris elementary effects") << " of the effect on " << outcome << " ("
       << statistic << ") against '" << reference << "'"
       << (sobol ? ", 95% bootstrap intervals over base rows" : ", per unit of each range; 95% bootstrap interval of mu*")
       << "\n";
    for (const auto& arm : s.arms) {
      bool header = false;
      for (const auto& r : s.sensitivity) {
        if (r.arm != arm || r.outcome != outcome || r.statistic != statistic) continue;
        if (!header) {
          os << "  " << arm << " (" << r.unit << ")\n";
          if (sobol)
            std::snprintf(line, sizeof line, "    %-36s %9s %-20s %9s %s\n", "parameter", "S1", " [95% interval]", "ST",
                          " [95% interval]");
          else
            std::snprintf(line, sizeof line, "    %-36s %9s %-22s %9s\n", "parameter", "mu*", " [95% interval]",
                          "sigma");
          os << line;
          header = any = true;
        }
        if (sobol)
          std::snprintf(line, sizeof line, "    %-36s %9.3f [%7.3f, %7.3f]   %9.3f [%7.3f, %7.3f]\n", r.parameter.c_str(),
                        r.first, r.first_low, r.first_high, r.total, r.total_low, r.total_high);
        else
          std::snprintf(line, sizeof line, "    %-36s %9.4g [%9.4g, %9.4g] %9.4g\n", r.parameter.c_str(), r.mu_star,
                        r.mu_star_low, r.mu_star_high, r.sigma);
        os << line;
      }
    }
  } else {
    os << "\nEffect on " << outcome << " (" << statistic << ") against '" << reference
       << "' at each point, with its interval over replicates\n";
    std::vector<std::vector<std::string>> cells{{"point"}};
    for (const auto& p : d.parameters) cells[0].push_back(p.name);
    for (const auto& arm : s.arms)
      if (arm != reference) cells[0].push_back(arm);
    for (std::size_t p = 0; p < d.size(); ++p) {
      std::vector<std::string> row{std::to_string(p)};
      for (std::size_t i = 0; i < d.dimensions(); ++i) row.push_back(number(d.value(p, i)));
      for (const auto& arm : s.arms) {
        if (arm == reference) continue;
        std::string cell = "n/a";
        for (const auto& r : s.comparisons[p].rows)
          if (r.arm == arm && r.outcome == outcome && r.statistic == statistic && r.subgroup == "all") {
            any = true;
            if (!std::isfinite(r.mean_effect)) break;
            cell = number(r.mean_effect);
            if (r.interval != "single") cell += " [" + number(r.ci_low) + ", " + number(r.ci_high) + "]";
          }
        row.push_back(cell);
      }
      cells.push_back(row);
    }
    std::vector<std::size_t> width(cells[0].size(), 0);
    for (const auto& row : cells)
      for (std::size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
    for (const auto& row : cells) {
      std::string text = " ";
      for (std::size_t c = 0; c < row.size(); ++c) text += " " + row[c] + std::string(width[c] - row[c].size(), ' ');
      while (!text.empty() && text.back() == ' ') text.pop_back();
      os << text << "\n";
    }
  }
  if (!any) os << "  (no effect named " << outcome << " with statistic " << statistic
               << " in the comparison: see chacra compare --format csv for the names)\n";
  for (const auto& n : s.notes) os << "note: " << n << "\n";
  return os.str();
}

std::string format_sensitivity(const std::vector<SensitivityRow>& rows, const std::string& format) {
  if (format == "csv") {
    std::ostringstream os;
    csv::Writer csv(os, "the sensitivity table");
    std::vector<std::string> header;
    for (const auto& c : kSensitivityTexts) header.push_back(c.name);
    for (const auto& c : kSensitivityNumbers) header.push_back(c.name);
    csv.header(header);
    for (const auto& r : rows) {
      for (const auto& c : kSensitivityTexts) csv.text(r.*(c.field));
      for (const auto& c : kSensitivityNumbers) csv.number(r.*(c.field));
      csv.end_row();
    }
    csv.close();
    return os.str();
  }
  if (format == "json") {
    auto out = nlohmann::ordered_json::array();
    for (const auto& r : rows) {
      nlohmann::ordered_json o;
      for (const auto& c : kSensitivityTexts) o[c.name] = r.*(c.field);
      for (const auto& c : kSensitivityNumbers) {
        const double v = r.*(c.field);
        o[c.name] = std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr);
      }
      out.push_back(o);
    }
    return out.dump(2) + "\n";
  }
  throw std::invalid_argument("format_sensitivity: unknown format " + format);
}

}  // namespace chacra::study
