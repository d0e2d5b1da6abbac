// chacra evaluate: runs the virtual evaluation of the 2017 HW cohort over replicates and prints the model's
// estimates beside the published intention-to-treat effects (study/evaluation.hpp, docs/evaluation.md).
#include "app/evaluate.hpp"

#include "app/options.hpp"
#include "study/evaluation.hpp"
#include "sim/scenario.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "evaluation_scenario.hpp"  // generated from configs/evaluation_2017.yaml

namespace chacra::cli {

namespace {

namespace ev = study::evaluation;

const std::vector<OptionSpec> kEvaluateOptions = {
    {"--replicates", "-r", true, false, "virtual evaluations (overrides run.replicates; default 40)"},
    {"--seed", "-s", true, false, "seed of the model's random streams (overrides run.seed)"},
    {"--set", "", true, true, "override a parameter: key.path=value (model or evaluation.* parameters)"},
    {"--format", "", true, false, "table (default), csv or json"},
    {"--threads", "-t", true, false, "worker threads (default: all cores); results do not depend on it"},
    {"--quiet", "-q", false, false, "no progress on stderr"},
    {"--help", "-h", false, false, "this help"},
};

Scenario load_evaluation_scenario(const std::string& path, const std::vector<std::string>& sets) {
  if (!path.empty()) return load_scenario_file(path, ev::registry(), sets);
  return load_scenario_text(kEvaluationScenarioYaml, std::string("<built-in ") + kEvaluationScenarioPath + ">",
                            ev::registry(), sets);
}

std::string number(double v, const std::string& unit) {
  if (!std::isfinite(v)) return "-";
  char buf[64];
  if (unit == "PEN/year") std::snprintf(buf, sizeof buf, "%.0f", v);
  else std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  std::ostringstream s;
  s.precision(10);
  s << v;
  return s.str();
}

std::string json_string(const std::string& t) {
  std::string out = "\"";
  for (char c : t) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

const char* verdict(const ev::OutcomeSummary& s) {
  if (!s.spec.published) return "";
  return s.passes() ? "yes" : "NO";
}

}  // namespace

int cmd_evaluate(const std::vector<std::string>& args) {
  const ParsedArgs a = parse_args("evaluate", args, kEvaluateOptions, 1);
  if (a.has("--help")) {
    std::cout << "usage: chacra evaluate [SCENARIO.yaml] [OPTIONS]\n\n"
                 "Runs the virtual evaluation of the 2017 Haku Winay cohort (RD design at the 60% UBN threshold, "
                 "Juntos\nhouseholds, ITT by ANCOVA with SEs clustered by centre) over replicates and prints the "
                 "model's\nestimates beside the published ones. No scenario: the built-in "
                 "configs/evaluation_2017.yaml.\n\n"
              << format_options(kEvaluateOptions);
    return 0;
  }
  const std::string fmt = a.get("--format", "table");
  if (fmt != "table" && fmt != "csv" && fmt != "json")
    throw UsageError("--format expects table, csv or json, got '" + fmt + "'");
  std::vector<std::string> sets = a.values.count("--set") ? a.values.at("--set") : std::vector<std::string>{};
  if (a.has("--replicates"))
    sets.push_back("run.replicates=" + std::to_string(a.get_int("--replicates", 1, 1, 100000)));
  if (a.has("--seed"))
    sets.push_back("run.seed=" + std::to_string(a.get_int("--seed", 0, 0, 9'007'199'254'740'991LL)));
  const Scenario scenario = load_evaluation_scenario(a.positional.empty() ? "" : a.positional[0], sets);
  const ParamSet& params = scenario.base;
  ev::check_design(params);
  const int threads = static_cast<int>(a.get_int("--threads", 0, 1, 4096));
  tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism,
                                  static_cast<std::size_t>(threads > 0 ? threads : tbb::info::default_concurrency()));
  const int replicates = static_cast<int>(params.integer("run.replicates"));
  const bool quiet = a.has("--quiet");
  const auto t0 = std::chrono::steady_clock::now();
  const auto results = ev::run_evaluation(params, replicates, [&](int done, int total) {
    if (quiet) return;
    std::fprintf(stderr, "\revaluate: %d of %d replicates", done, total);
    if (done == total) std::fputs("\n", stderr);
    std::fflush(stderr);
  });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto summary = ev::summarise(results);

  if (fmt == "json") {
    std::cout << "[\n";
    for (std::size_t i = 0; i < summary.size(); ++i) {
      const auto& s = summary[i];
      std::cout << "  {\"outcome\": " << json_string(s.spec.name) << ", \"unit\": " << json_string(s.spec.unit)
                << ", \"published\": " << (s.spec.published ? json_number(*s.spec.published) : "null")
                << ", \"model_mean\": " << json_number(s.model_mean) << ", \"p2_5\": " << json_number(s.p2_5)
                << ", \"p97_5\": " << json_number(s.p97_5) << ", \"coverage\": " << json_number(s.coverage)
                << ", \"rd_mean\": " << json_number(s.rd_mean) << ", \"n_replicates\": " << s.n_replicates
                << ", \"calibration_target\": " << (s.spec.calibration_target ? "true" : "false")
                << ", \"pass\": " << (s.spec.published ? (s.passes() ? "true" : "false") : "null")
                << ", \"description\": " << json_string(s.spec.description) << "}"
                << (i + 1 < summary.size() ? ",\n" : "\n");
    }
    std::cout << "]\n";
    return 0;
  }
  if (fmt == "csv") {
    std::cout << "outcome,unit,published,model_mean,p2_5,p97_5,coverage,rd_mean,n_replicates,calibration_target,pass\n";
    for (const auto& s : summary) {
      auto c = [](double v) { return std::isfinite(v) ? json_number(v) : std::string(); };
      std::cout << s.spec.name << "," << s.spec.unit << "," << (s.spec.published ? c(*s.spec.published) : "") << ","
                << c(s.model_mean) << "," << c(s.p2_5) << "," << c(s.p97_5) << "," << c(s.coverage) << ","
                << c(s.rd_mean) << "," << s.n_replicates << "," << (s.spec.calibration_target ? 1 : 0) << ","
                << (s.spec.published ? (s.passes() ? "1" : "0") : "") << "\n";
    }
    return 0;
  }
  std::printf("Virtual evaluation of the 2017 HW cohort: scenario '%s', %d replicates (seed %lld), %.1f s\n",
              scenario.name.c_str(), replicates, static_cast<long long>(params.integer("run.seed")), seconds);
  std::printf("ITT by ANCOVA (baseline outcome, household size, land, water), SEs clustered by centre; RD: local "
              "linear at UBN %.2f, bandwidth %.2f\n\n",
              params.real("evaluation.cutoff"), params.real("evaluation.rd_bandwidth"));
  std::printf("%-40s %-9s %9s %9s %9s %9s %8s %9s %4s\n", "outcome", "unit", "published", "model", "p2.5", "p97.5",
              "coverage", "RD mean", "ok");
  for (const auto& s : summary) {
    const std::string& u = s.spec.unit;
    std::printf("%-40s %-9s %9s %9s %9s %9s %8s %9s %4s\n", s.spec.name.c_str(), u.c_str(),
                s.spec.published ? number(*s.spec.published, u).c_str() : "-", number(s.model_mean, u).c_str(),
                number(s.p2_5, u).c_str(), number(s.p97_5, u).c_str(),
                std::isfinite(s.coverage) ? number(s.coverage, "share").c_str() : "-", number(s.rd_mean, u).c_str(),
                verdict(s));
  }
  double fi = 0, fc = 0;
  for (const auto& r : results) fi += static_cast<double>(r.frame_itt_centres), fc += static_cast<double>(r.frame_control_centres);
  if (!results.empty())
    std::printf("\nsampling frame: on average %.1f ITT and %.1f control centres per replicate (design: %lld and %lld)",
                fi / static_cast<double>(results.size()), fc / static_cast<double>(results.size()),
                static_cast<long long>(params.integer("evaluation.itt_centres")),
                static_cast<long long>(params.integer("evaluation.control_centres")));
  std::printf("\nok: published value inside the model's 2.5-97.5%% band and model mean within 25%% of it.\n");
  return 0;
}

}  // namespace chacra::cli
