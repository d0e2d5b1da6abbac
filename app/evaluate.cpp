// chacra evaluate: options, then the virtual evaluation of the 2017 HW cohort over replicates
// (study/evaluation.hpp, docs/evaluation.md), printed beside the published intention-to-treat effects.
#include "app/commands.hpp"
#include "app/progress.hpp"

#include "study/evaluation.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

#include "evaluation_scenario.hpp"  // generated from configs/evaluation_2017.yaml

namespace chacra::cli {

namespace {

namespace ev = study::evaluation;

struct EvaluateCommand {
  std::optional<std::string> scenario;
  std::vector<std::string> replicates, seed, sets, format, threads, posterior;
  bool quiet = false, progress_lines = false;

  void operator()() const {
    const std::string fmt = one_of("--format", value_or(format, "table"), {"table", "csv", "json"});
    std::vector<std::string> all_sets = sets;
    if (auto r = whole_number("--replicates", replicates, 1, 100000)) all_sets.push_back("run.replicates=" + std::to_string(*r));
    if (auto s = whole_number("--seed", seed, 0, 9'007'199'254'740'991LL)) all_sets.push_back("run.seed=" + std::to_string(*s));
    const Scenario s =
        scenario && !scenario->empty() ? load_scenario_file(*scenario, ev::registry(), all_sets)
                 : load_scenario_text(kEvaluationScenarioYaml,
                                      std::string("<built-in ") + kEvaluationScenarioPath + ">", ev::registry(), all_sets);
    const ParamSet& params = s.base;
    ev::check_design(params);
    std::optional<study::posterior::Ensemble> ensemble;
    if (!posterior.empty()) ensemble = study::posterior::read(posterior.front(), ev::registry());
    const int n_threads = static_cast<int>(whole_number("--threads", threads, 1, 4096).value_or(0));
    tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism,
                                    static_cast<std::size_t>(n_threads > 0 ? n_threads : tbb::info::default_concurrency()));
    const auto t0 = std::chrono::steady_clock::now();
    Progress progress("replicates", quiet, progress_lines);
    const auto results = ev::run_evaluation(params, static_cast<int>(params.integer("run.replicates")), [&](int done, int total) {
      progress(static_cast<std::uint64_t>(done), static_cast<std::uint64_t>(total));
    }, ensemble ? &*ensemble : nullptr);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << ev::format_report(ev::make_report(s.name, params, results, seconds, ensemble ? &*ensemble : nullptr), fmt);
  }
};

}  // namespace

void add_evaluate(CommandLine& commands) {
  auto c = std::make_shared<EvaluateCommand>();
  CLI::App& app = commands.add(
      "evaluate", "chacra evaluate [SCENARIO.yaml] [OPTIONS]",
      "Runs the virtual evaluation of the 2017 Haku Winay cohort (RD design at the 60% UBN threshold, Juntos\n"
      "households, ITT by ANCOVA with SEs clustered by centre) over replicates and prints the model's\n"
      "estimates beside the published ones. No scenario: the built-in configs/evaluation_2017.yaml.",
      [c] { (*c)(); });
  commands.positional(app, "scenario", c->scenario);
  commands.value(app, "-r,--replicates", c->replicates, "virtual evaluations (overrides run.replicates; default 40)");
  commands.value(app, "-s,--seed", c->seed, "seed of the model's random streams (overrides run.seed)");
  commands.value(app, "--set", c->sets, "override a parameter: key.path=value (model or evaluation.* parameters)", true);
  commands.value(app, "--posterior", c->posterior,
                 "posterior ensemble of chacra calibrate (posterior.h5): each pair of replicates draws a parameter "
                 "set from it, so intervals include parameter uncertainty (reported apart from sampling)");
  commands.value(app, "--format", c->format, "table (default), csv or json");
  commands.value(app, "-t,--threads", c->threads, "worker threads (default: all cores); results do not depend on it");
  commands.flag(app, "--progress", c->progress_lines,
                "off a terminal too, a progress line (count, elapsed, ETA) on stderr every 5 s (on a terminal: one "
                "line redrawn in place)");
  commands.flag(app, "-q,--quiet", c->quiet, "no progress on stderr");
}

}  // namespace chacra::cli
