// Reading, checking, drawing from and applying a posterior ensemble of `chacra calibrate` (study/posterior.hpp).
#include "study/posterior.hpp"

#include "sim/errors.hpp"
#include "sim/output/h5.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>
#include <filesystem>
#include <limits>
#include <set>

namespace chacra::study::posterior {

namespace {

[[noreturn]] void refuse(const std::string& path, const std::string& what) {
  throw BadInput("--posterior " + path + ": " + what +
                 " (a posterior ensemble written by chacra calibrate, docs/calibration_method.md)");
}

}  // namespace

std::string Ensemble::evaluate_outcome(const Target& t) {
  try {
    const auto j = nlohmann::json::parse(t.statistic_json);
    if (j.value("kind", "") == "evaluate") return j.value("outcome", "");
  } catch (const nlohmann::json::exception&) {
  }
  return "";
}

Ensemble read(const std::string& path, const Registry& registry) {
  Ensemble e;
  e.path = path;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) refuse(path, "no such file");
  try {
    const h5::Handle file = h5::open_file_readonly(path);
    if (h5::read_attr_string_or(file.id(), "format", "") != "chacra-posterior")
      refuse(path, "not a posterior file (attribute format is not 'chacra-posterior')");
    const auto version = h5::read_attr_integers(file.id(), "format_version");
    if (!version || version->size() != 1 || version->front() != 1)
      refuse(path, "format_version is not 1 (this chacra reads version 1)");
    if (!h5::exists(file.id(), "posterior"))
      refuse(path, "no /posterior group: the calibration failed (history matching ruled out every parameter set)");
    e.problem_name = h5::read_attr_string_or(file.id(), "problem_name", "");
    e.problem_sha256 = h5::read_attr_string_or(file.id(), "problem_sha256", "");
    e.parameters = h5::read_strings(file.id(), "posterior/parameter");
    std::vector<hsize_t> dims;
    const std::vector<double> flat = h5::read_doubles(file.id(), "posterior/draws", &dims);
    e.weight = h5::read_doubles(file.id(), "posterior/weight");
    e.central = h5::read_doubles(file.id(), "posterior/central");
    const std::size_t k = e.parameters.size();
    if (k == 0) refuse(path, "/posterior/parameter is empty");
    if (dims.size() != 2 || dims[1] != k || dims[0] == 0)
      refuse(path, "/posterior/draws is not a non-empty table of " + std::to_string(k) + " columns");
    const std::size_t n = static_cast<std::size_t>(dims[0]);
    if (e.weight.size() != n) refuse(path, "/posterior/weight does not have one weight per draw");
    if (e.central.size() != k) refuse(path, "/posterior/central does not have one value per parameter");
    std::set<std::string> seen;
    for (const auto& name : e.parameters) {
      if (!seen.insert(name).second) refuse(path, "/posterior/parameter names '" + name + "' twice");
      const ParamSpec* spec = registry.find(name);
      if (!spec) refuse(path, "/posterior/parameter: '" + name + "' is not a parameter of this chacra");
      if (spec->type != ParamType::real) refuse(path, "/posterior/parameter: '" + name + "' is not real-valued");
    }
    double total = 0.0;
    for (double w : e.weight) {
      if (!(w >= 0.0) || !std::isfinite(w)) refuse(path, "/posterior/weight has a negative or non-finite weight");
      total += w;
    }
    if (std::abs(total - 1.0) > 1e-9) refuse(path, "/posterior/weight does not sum to 1");
    e.draws.assign(n, std::vector<double>(k));
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < k; ++j) {
        const double v = flat[i * k + j];
        const ParamSpec* spec = registry.find(e.parameters[j]);
        if (!std::isfinite(v) || v < spec->min || v > spec->max)
          refuse(path, "/posterior/draws row " + std::to_string(i) + ": " + e.parameters[j] + " = " +
                           std::to_string(v) + " is outside its range [" + format_value(spec->min) + ", " +
                           format_value(spec->max) + "]");
        e.draws[i][j] = v;
      }
    if (h5::exists(file.id(), "targets")) {
      const auto names = h5::read_strings(file.id(), "targets/name");
      const auto roles = h5::read_strings(file.id(), "targets/role");
      const auto stats = h5::read_strings(file.id(), "targets/statistic");
      if (roles.size() != names.size() || stats.size() != names.size())
        refuse(path, "/targets/name, role and statistic differ in length");
      for (std::size_t i = 0; i < names.size(); ++i) e.targets.push_back(Target{names[i], roles[i], stats[i]});
    }
  } catch (const h5::Error& err) {
    refuse(path, err.what());
  }
  return e;
}

std::size_t row_for_replicate(const Ensemble& e, std::uint64_t run_seed, std::uint32_t replicate) {
  rng::Stream s(run_seed, replicate / 2, kPosteriorDomain, 0, 0);
  const double u = s.uniform();
  double cum = 0.0;
  for (std::size_t i = 0; i < e.weight.size(); ++i) {
    cum += e.weight[i];
    if (u < cum) return i;
  }
  return e.weight.size() - 1;
}

std::vector<std::pair<std::string, ParamValue>> overrides(const Ensemble& e, std::size_t row) {
  std::vector<std::pair<std::string, ParamValue>> out;
  for (std::size_t j = 0; j < e.parameters.size(); ++j) out.emplace_back(e.parameters[j], ParamValue(e.draws[row][j]));
  return out;
}

void apply(const Ensemble& e, std::size_t row, ParamSet& params, const std::vector<std::string>& keep) {
  for (const auto& [name, value] : overrides(e, row)) {
    bool kept = false;
    for (const auto& k : keep) kept = kept || k == name;
    if (!kept) params.set(name, value);
  }
}

VarianceSplit split_variance(const std::vector<double>& x) {
  VarianceSplit v{std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN(), 0};
  std::vector<double> means;
  double within = 0.0;
  for (std::size_t k = 0; k + 1 < x.size(); k += 2) {
    if (!std::isfinite(x[k]) || !std::isfinite(x[k + 1])) continue;
    within += (x[k] - x[k + 1]) * (x[k] - x[k + 1]) / 2.0;
    means.push_back((x[k] + x[k + 1]) / 2.0);
  }
  v.pairs = means.size();
  if (means.size() < 2) return v;
  const double sampling = within / static_cast<double>(means.size());
  double m = 0.0;
  for (double y : means) m += y;
  m /= static_cast<double>(means.size());
  double between = 0.0;
  for (double y : means) between += (y - m) * (y - m);
  between /= static_cast<double>(means.size() - 1);
  v.sd_sampling = std::sqrt(sampling);
  v.sd_parameter = std::sqrt(std::max(0.0, between - sampling / 2.0));
  return v;
}

double parameter_share(double sd_parameter, double sd_sampling) {
  const double p = sd_parameter * sd_parameter, v = p + sd_sampling * sd_sampling;
  if (!std::isfinite(v)) return std::numeric_limits<double>::quiet_NaN();
  return v > 0 ? p / v : 0.0;
}

void check_for_run(const Ensemble& e) {
  for (const auto& name : e.parameters)
    for (const char* shared : {"population.", "run.", "output."})
      if (name.rfind(shared, 0) == 0)
        throw BadInput("--posterior " + e.path + ": '" + name + "' is shared by every replicate of a run and cannot be "
                       "drawn per replicate; calibrate model parameters only, or set it in the scenario");
}

std::string format_run_split(const RunResult& result, const std::string& reference,
                             const std::vector<std::string>& variables) {
  std::ostringstream os;
  if (result.period_labels.empty()) return "";
  const std::size_t period = result.period_labels.size() - 1;
  std::vector<std::string> arms;
  for (const auto& u : result.units)
    if (u.arm != reference && std::find(arms.begin(), arms.end(), u.arm) == arms.end()) arms.push_back(u.arm);
  char line[256];
  std::snprintf(line, sizeof line,
                "\nUncertainty of the effects in %s against '%s' (posterior draws shared by pairs of replicates):\n",
                result.period_labels[period].c_str(), reference.c_str());
  os << line;
  std::snprintf(line, sizeof line, "%-24s %-24s %12s %12s %12s %6s\n", "arm", "outcome", "effect", "sd param",
                "sd sampl", "pairs");
  os << line;
  for (const auto& arm : arms)
    for (const auto& v : variables) {
      std::map<std::uint32_t, double> arm_value, ref_value;
      for (const auto& u : result.units) {
        if (!u.has(v)) continue;
        if (u.arm == arm) arm_value[u.replicate] = u.mean(v, period);
        if (u.arm == reference) ref_value[u.replicate] = u.mean(v, period);
      }
      if (arm_value.empty()) continue;
      const std::uint32_t n = arm_value.rbegin()->first + 1;
      std::vector<double> effect(n, std::numeric_limits<double>::quiet_NaN());
      double sum = 0.0;
      int count = 0;
      for (const auto& [r, a] : arm_value)
        if (auto it = ref_value.find(r); it != ref_value.end()) {
          effect[r] = a - it->second;
          sum += effect[r];
          ++count;
        }
      const VarianceSplit split = split_variance(effect);
      std::snprintf(line, sizeof line, "%-24s %-24s %12.4g %12.4g %12.4g %6zu\n", arm.c_str(), v.c_str(),
                    count ? sum / count : std::numeric_limits<double>::quiet_NaN(), split.sd_parameter,
                    split.sd_sampling, split.pairs);
      os << line;
    }
  os << "sd param: spread between pairs of replicates (parameter uncertainty); sd sampl: within pairs (population "
        "and chance). Fewer than two complete pairs: nan.\n";
  return os.str();
}

}  // namespace chacra::study::posterior
