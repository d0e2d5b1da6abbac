// The virtual evaluation's report (see study/evaluation.hpp): the model's estimates beside the published
// intention-to-treat effects, as a terminal table, CSV or JSON.
#include "sim/output/csv.hpp"
#include "study/evaluation.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <sstream>

namespace chacra::study::evaluation {

namespace {

std::string pad(const std::string& s, std::size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

std::string number(double v, const std::string& unit) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  if (unit == "PEN/year") std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

const char* verdict(const OutcomeSummary& s) {
  if (!s.spec.published) return "";
  return s.lands() ? "yes" : "NO";
}

std::string format_table(const Report& r) {
  std::ostringstream os;
  char line[512];
  std::snprintf(line, sizeof line, "Virtual evaluation of the 2017 HW cohort: scenario '%s', %d replicates (seed %lld), %.1f s\n",
                r.scenario.c_str(), r.replicates, r.seed, r.seconds);
  os << line;
  if (!r.posterior.empty())
    os << "Parameters drawn from the posterior ensemble " << r.posterior << " (one row per pair of replicates)\n";
  else
    os << "No posterior: the parameters are fixed at the scenario's values, so the intervals hold sampling uncertainty "
          "only (population, sample, chance); --posterior FILE adds what is unknown about the parameters\n";
  std::snprintf(line, sizeof line,
                "ITT by ANCOVA (baseline outcome, household size, land, water), SEs clustered by centre; RD: local "
                "linear at UBN %.2f, bandwidth %.2f\n\n",
                r.cutoff, r.bandwidth);
  os << line;
  const bool split = !r.posterior.empty();
  std::snprintf(line, sizeof line, "%-40s %-9s %9s %9s %9s %9s %8s %9s%s %-10s %5s\n", "outcome", "unit", "published",
                "model", "p2.5", "p97.5", "coverage", "RD mean", split ? "  sd param  sd sampl" : "", "role", "lands");
  os << line;
  for (const auto& s : r.summary) {
    const std::string& u = s.spec.unit;
    std::string sds;
    if (split) sds = "  " + pad(number(s.sd_parameter, u), 8) + "  " + pad(number(s.sd_sampling, u), 8);
    std::snprintf(line, sizeof line, "%-40s %-9s %9s %9s %9s %9s %8s %9s%s %-10s %5s\n", s.spec.name.c_str(), u.c_str(),
                  s.spec.published ? number(*s.spec.published, u).c_str() : "-", number(s.model_mean, u).c_str(),
                  number(s.p2_5, u).c_str(), number(s.p97_5, u).c_str(),
                  std::isfinite(s.coverage) ? number(s.coverage, "share").c_str() : "-", number(s.rd_mean, u).c_str(),
                  sds.c_str(), s.role.c_str(), verdict(s));
    os << line;
  }
  if (std::isfinite(r.frame_itt_centres)) {
    std::snprintf(line, sizeof line,
                  "\nsampling frame: on average %.1f ITT and %.1f control centres per replicate (design: %lld and %lld)",
                  r.frame_itt_centres, r.frame_control_centres, r.itt_centres, r.control_centres);
    os << line;
    if (r.redraws > 0) {
      std::snprintf(line, sizeof line, "; %lld population redraw(s) for frames short of the design", r.redraws);
      os << line;
    }
  }
  os << "\nlands: the published value lies inside the model's 2.5-97.5% interval of the study's estimate (over "
        "replicate virtual studies"
     << (split ? ", parameters drawn from the posterior" : "") << ").\n";
  os << "role: fitted = a calibration target (the fit saw it); validation = never used in fitting.\n";
  if (split) {
    auto list = [&](const char* what, const std::vector<std::string>& names) {
      os << what << ":";
      for (const auto& n : names) os << " " << n;
      os << (names.empty() ? " none\n" : "\n");
    };
    list("targets fitted by the calibration", r.fitted_targets);
    list("targets not fitted (validation)", r.validation_targets);
    os << "sd param / sd sampl: the spread of the estimate over replicates split by the pairs of replicates that "
          "share a parameter draw (between pairs: parameters; within pairs: population, sample and chance).\n";
  }
  return os.str();
}

std::string format_csv(const Report& r) {
  std::ostringstream os;
  csv::Writer csv(os, "the evaluation");
  csv.header({"outcome", "unit", "published", "model_mean", "p2_5", "p97_5", "coverage", "rd_mean", "n_replicates",
              "calibration_target", "sd_parameter", "sd_sampling", "role", "lands"});
  for (const auto& s : r.summary) {
    csv.text(s.spec.name).text(s.spec.unit);
    if (s.spec.published) csv.number(*s.spec.published);
    else csv.missing();
    csv.number(s.model_mean).number(s.p2_5).number(s.p97_5).number(s.coverage).number(s.rd_mean);
    csv.number(static_cast<std::uint64_t>(s.n_replicates)).number(s.spec.calibration_target ? 1 : 0);
    csv.number(s.sd_parameter).number(s.sd_sampling).text(s.role);
    if (s.spec.published) csv.number(s.lands() ? 1 : 0);
    else csv.missing();
    csv.end_row();
  }
  csv.close();
  return os.str();
}

std::string format_json(const Report& r) {
  auto rows = nlohmann::ordered_json::array();
  for (const auto& s : r.summary)
    rows.push_back({{"outcome", s.spec.name},
                    {"unit", s.spec.unit},
                    {"published", s.spec.published ? nlohmann::ordered_json(*s.spec.published) : nullptr},
                    {"model_mean", s.model_mean},
                    {"p2_5", s.p2_5},
                    {"p97_5", s.p97_5},
                    {"coverage", s.coverage},
                    {"rd_mean", s.rd_mean},
                    {"n_replicates", s.n_replicates},
                    {"calibration_target", s.spec.calibration_target},
                    {"sd_parameter", s.sd_parameter},
                    {"sd_sampling", s.sd_sampling},
                    {"parameter_share", posterior::parameter_share(s.sd_parameter, s.sd_sampling)},
                    {"posterior", r.posterior.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(r.posterior)},
                    {"role", s.role},
                    {"lands", s.spec.published ? nlohmann::ordered_json(s.lands()) : nullptr},
                    {"description", s.spec.description}});
  return rows.dump(2) + "\n";
}

}  // namespace

Report make_report(const std::string& scenario, const ParamSet& params, const std::vector<ReplicateResult>& results,
                   double seconds, const posterior::Ensemble* ensemble) {
  Report r;
  if (ensemble) {
    r.posterior = ensemble->path + " (problem '" + ensemble->problem_name + "', " +
                  std::to_string(ensemble->draws.size()) + " draws of " + std::to_string(ensemble->parameters.size()) +
                  " parameters)";
    for (const auto& t : ensemble->targets)
      (t.role == "calibration" ? r.fitted_targets : r.validation_targets).push_back(t.name);
  }
  r.scenario = scenario;
  r.replicates = static_cast<int>(params.integer("run.replicates"));
  r.seed = static_cast<long long>(params.integer("run.seed"));
  r.seconds = seconds;
  r.cutoff = params.real("evaluation.cutoff");
  r.bandwidth = params.real("evaluation.rd_bandwidth");
  r.itt_centres = static_cast<long long>(params.integer("evaluation.itt_centres"));
  r.control_centres = static_cast<long long>(params.integer("evaluation.control_centres"));
  if (!results.empty()) {
    double fi = 0, fc = 0;
    for (const auto& x : results)
      fi += static_cast<double>(x.frame_itt_centres), fc += static_cast<double>(x.frame_control_centres);
    r.frame_itt_centres = fi / static_cast<double>(results.size());
    r.frame_control_centres = fc / static_cast<double>(results.size());
    for (const auto& x : results) r.redraws += static_cast<long long>(x.frame_draws) - 1;
  }
  r.summary = summarise(results, ensemble);
  return r;
}

std::string format_report(const Report& report, const std::string& format) {
  if (format == "table") return format_table(report);
  if (format == "csv") return format_csv(report);
  if (format == "json") return format_json(report);
  throw std::invalid_argument("evaluation format must be table, csv or json, got '" + format + "'");
}

}  // namespace chacra::study::evaluation
