// chacra evaluate: runs the virtual evaluation of the 2017 HW cohort over replicates and prints the model's
// estimates beside the published intention-to-treat effects (study/evaluation.hpp, docs/evaluation.md).
#include "app/evaluate.hpp"

#include "app/options.hpp"
#include "study/evaluation.hpp"
#include "sim/scenario.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>

#include <chrono>
#include <cstdio>
#include <iostream>

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
  std::cout << ev::format_report(ev::make_report(scenario.name, params, results, seconds), fmt);
  return 0;
}

}  // namespace chacra::cli
