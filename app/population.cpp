// chacra population summary: options, then the population summary of study/population_summary.hpp (how the
// synthetic population places poverty, UBN and Juntos affiliation across centres; docs/population.md), printed.
#include "app/commands.hpp"
#include "app/progress.hpp"

#include "sim/runner.hpp"
#include "study/population_summary.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>

#include <iostream>
#include <memory>
#include <optional>

namespace chacra::cli {

namespace {

struct PopulationSummaryCommand {
  std::optional<std::string> scenario;
  std::vector<std::string> sets, replicates, format, threads;
  bool quiet = false, progress_lines = false;

  void operator()() const {
    const std::string fmt = one_of("--format", value_or(format, "table"), {"table", "json"});
    const int n = static_cast<int>(whole_number("--replicates", replicates, 1, 1000).value_or(1));
    const int n_threads = static_cast<int>(whole_number("--threads", threads, 1, 4096).value_or(0));
    if (scenario && scenario->empty()) throw UsageError("the scenario path is empty");
    const Scenario s = load_scenario_for(scenario.value_or(""), sets);
    require_memory(estimate_memory(s, model_builder()));
    tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism,
                                    static_cast<std::size_t>(n_threads > 0 ? n_threads : tbb::info::default_concurrency()));
    // Each replicate builds a population and runs its first month: long for many or large populations.
    Progress progress("populations", quiet, progress_lines);
    const auto summary = study::population::summarise(
        s.name, s.base, n, [&](std::uint64_t done, std::uint64_t total) { progress(done, total); });
    std::cout << study::population::format_summary(summary, fmt);
  }
};

const char* kSummaryUsage = "chacra population summary [SCENARIO.yaml] [--replicates N] [--format table|json] "
                            "[--set key=value ...] [--threads N] [--progress]";

const char* kSummaryDescription =
    "How the scenario's synthetic population places poverty in space (docs/population.md): across population\n"
    "centres, the dispersion of the Juntos share (households affiliated after the first month, with Juntos on\n"
    "from the start) and of the UBN share, their correlations with district poverty, market access, water,\n"
    "altitude and land, the same by region, and the centres each Haku Winay targeting rule makes eligible.\n"
    "No scenario: the built-in default. Results do not depend on --threads.";

}  // namespace

void add_population(CommandLine& commands) {
  CLI::App& population = commands.add(
      "population", "chacra population summary [SCENARIO.yaml] [OPTIONS]",
      std::string("commands:\n  summary [SCENARIO]   ") + kSummaryUsage +
          "\n\nchacra population summary --help lists its options: --replicates, --format, --set, --threads, "
          "--progress, --quiet.",
      [] { throw UsageError("population needs a command: chacra population summary (see chacra population --help)"); });
  auto c = std::make_shared<PopulationSummaryCommand>();
  CLI::App& summary = commands.add(population, "summary", kSummaryUsage, kSummaryDescription, [c] { (*c)(); });
  commands.positional(summary, "scenario", c->scenario);
  commands.value(summary, "-r,--replicates", c->replicates, "populations pooled (replicates 0..N-1; default 1)");
  commands.value(summary, "--format", c->format, "table (default: Markdown tables) or json");
  commands.value(summary, "--set", c->sets, "override a parameter as in chacra run (e.g. population.geography=independent)",
                 true);
  commands.value(summary, "-t,--threads", c->threads, "worker threads (default: all cores); results do not depend on it");
  commands.flag(summary, "--progress", c->progress_lines,
                "off a terminal too, a progress line of the populations built (count, elapsed, ETA) on stderr every "
                "5 s (on a terminal: one line redrawn in place)");
  commands.flag(summary, "-q,--quiet", c->quiet, "no progress on stderr");
}

}  // namespace chacra::cli
