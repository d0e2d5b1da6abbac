// chacra sweep: options, the design (--vary grid or design file), the sweep of study/sweep.hpp with progress
// across the whole design, and the effects or sensitivity indices printed.
#include "app/commands.hpp"
#include "app/progress.hpp"

#include "sim/interrupt.hpp"
#include "study/sweep.hpp"
#ifdef CHACRA_WITH_MPI
#include "sim/mpi_runner.hpp"
#endif

#include <iostream>
#include <memory>
#include <optional>

namespace chacra::cli {

namespace {

struct SweepCommand {
  std::optional<std::string> scenario;
  std::vector<std::string> vary, design, output, threads, replicates, seed, sets, reference, outcome, bootstrap, format;
  bool force = false, resume = false, quiet = false;
  std::string command_line;

  void operator()() const {
    if (scenario && scenario->empty())
      throw UsageError("the scenario path is empty (leave it out to sweep the built-in scenario)");
    if (!vary.empty() && !design.empty())
      throw UsageError("give either --vary (a full grid) or --design FILE.yaml, not both");
#ifdef CHACRA_WITH_MPI
    if (mpi::launched())
      throw UsageError("chacra sweep runs in one process (its points are not split across MPI ranks); run it "
                       "without mpirun/srun");
#endif
    const std::string fmt = one_of("--format", value_or(format, "table"), {"table", "csv", "json"});
    std::vector<std::string> all_sets = sets;
    if (auto r = whole_number("--replicates", replicates, 1, 1'000'000))
      all_sets.push_back("run.replicates=" + std::to_string(*r));
    if (auto s = whole_number("--seed", seed, 0, 9'007'199'254'740'991LL))
      all_sets.push_back("run.seed=" + std::to_string(*s));
    study::SweepOptions opts;
    opts.threads = static_cast<int>(whole_number("--threads", threads, 1, 4096).value_or(0));
    opts.bootstrap.resamples =
        static_cast<std::size_t>(whole_number("--bootstrap", bootstrap, 100, 1'000'000).value_or(1000));
    opts.force = force;
    opts.resume = resume;
    opts.reference_arm = value_or(reference, "");
    opts.command_line = command_line;
    const std::string path = scenario.value_or("");
    const Scenario base = load_scenario_for(path, all_sets);  // the user's own errors first, before the design's
    if (!opts.reference_arm.empty() && !base.find_arm(opts.reference_arm)) {
      std::vector<std::string> arms;
      for (const auto& a : base.arms) arms.push_back(a.name);
      throw study::UnknownArmError(opts.reference_arm, arms);
    }
    const study::Design d = design.empty() ? study::grid_from_vary(vary, full_registry())
                                           : study::load_design_file(design.front(), full_registry());
    opts.output_path = value_or(output, base.name + "_sweep.h5");
    Progress progress("household-months", quiet, true);
    opts.progress = [&](std::uint64_t done, std::uint64_t total) { progress(done, total); };
    const auto load = [&](const std::vector<std::string>& point_sets) {
      std::vector<std::string> s = all_sets;
      s.insert(s.end(), point_sets.begin(), point_sets.end());
      return load_scenario_for(path, s);
    };
    if (!quiet)
      std::cerr << "sweep: " << d.size() << " design point" << (d.size() == 1 ? "" : "s") << " x " << base.arms.size()
                << " arm" << (base.arms.size() == 1 ? "" : "s") << " -> " << opts.output_path << "\n";
    study::SweepResult result;
    install_stop_handlers();
    try {
      result = study::run_sweep(d, load, model_builder(), opts);
    } catch (const Interrupted& e) {
      rethrow_as(std::string(e.what()) + "; the finished points are kept in " + opts.output_path +
                 ".points/;\n        run the same command with --resume to continue from them");
    }
    if (fmt != "table") {
      std::cout << study::format_sensitivity(result.sensitivity, fmt);
    } else if (!quiet) {
      std::cout << study::format_sweep(result, value_or(outcome, "poverty_headcount:final_year"));
      std::cout << "\nWritten " << opts.output_path << " (" << result.points_resumed << " of " << d.size()
                << " points kept from an earlier run). Every sensitivity row: chacra sweep ... --format csv; the "
                   "file's layout: docs/output.md, \"Sweep\".\n";
    }
  }
};

}  // namespace

void add_sweep(CommandLine& commands, const std::string& command_line) {
  auto c = std::make_shared<SweepCommand>();
  c->command_line = command_line;
  CLI::App& app = commands.add(
      "sweep", "chacra sweep [SCENARIO.yaml] (--vary NAME=FROM:TO:POINTS ... | --design DESIGN.yaml) [OPTIONS]",
      "Runs every arm and replicate of the scenario at every point of a design over registered parameters, on the\n"
      "same populations and random numbers, into one HDF5 file with a design dimension; prints the effects along\n"
      "the design, or Sobol indices (saltelli design) or Morris effects (morris design) with bootstrap intervals\n"
      "(docs/sensitivity.md).",
      [c] { (*c)(); });
  commands.positional(app, "scenario", c->scenario);
  commands.value(app, "--vary", c->vary,
                 "a grid axis, NAME=FROM:TO:POINTS (juntos.transfer_pen=100:400:7); repeat for a full grid", true);
  commands.value(app, "--design", c->design,
                 "a design file: grid, latin_hypercube, sobol, saltelli or morris (docs/sensitivity.md)");
  commands.value(app, "-o,--output", c->output, "output HDF5 file (default: <scenario name>_sweep.h5)");
  commands.value(app, "-t,--threads", c->threads, "worker threads (default: all cores); results do not depend on it");
  commands.value(app, "-r,--replicates", c->replicates, "replicates at every point (overrides run.replicates)");
  commands.value(app, "-s,--seed", c->seed, "seed of the model's random streams (overrides run.seed)");
  commands.value(app, "--set", c->sets, "override a parameter at every point: key.path=value", true);
  commands.value(app, "--reference", c->reference,
                 "arm the effects are measured against (default: run.reference_arm, else the first arm)");
  commands.value(app, "--outcome", c->outcome,
                 "effect printed: OUTCOME[:STATISTIC] of the comparison (default poverty_headcount:final_year)");
  commands.value(app, "--bootstrap", c->bootstrap, "bootstrap resamples of the sensitivity intervals (default 1000)");
  commands.value(app, "--format", c->format, "table (default), or every sensitivity row as csv or json");
  commands.flag(app, "-f,--force", c->force, "overwrite an existing output file (and an unfinished sweep's points)");
  commands.flag(app, "--resume", c->resume, "keep the points an interrupted sweep finished (OUT.points/)");
  commands.flag(app, "-q,--quiet", c->quiet, "print nothing but errors (and --format csv|json)");
}

}  // namespace chacra::cli
