// Reading, checking, drawing from and applying a posterior ensemble of `chacra calibrate` (study/posterior.hpp).
#include "study/posterior.hpp"

#include "sim/errors.hpp"
#include "sim/output/h5.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
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

}  // namespace chacra::study::posterior
