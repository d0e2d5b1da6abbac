// chacra run: options, the budget solve, the run (serial or under MPI), progress, the summary and the comparison.
#include "app/commands.hpp"
#include "app/progress.hpp"

#include "sim/interrupt.hpp"
#include "sim/output/layout.hpp"
#include "sim/output/lifecycle.hpp"
#include "sim/output/writer.hpp"
#include "sim/runner.hpp"
#include "study/budget.hpp"
#include "study/comparison.hpp"
#include "study/run_summary.hpp"
#include "study/posterior.hpp"
#ifdef CHACRA_WITH_MPI
#include "sim/mpi_runner.hpp"
#endif

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

namespace chacra::cli {

namespace {

// The output's name when -o is not given: the scenario's name made safe as a file name in the current
// directory (a downloaded scenario must not choose where files land: "name: ../x" or "/etc/x" give x.h5).
// Letters, digits, '.', '-' and '_' are kept, anything else becomes '_'; leading dots and separators are dropped;
// at most 100 characters.
std::string default_output_name(const std::string& scenario_name) {
  std::string out;
  for (unsigned char c : scenario_name) {
    const bool keep = std::isalnum(c) != 0 && c < 0x80;
    const char k = keep || c == '-' || c == '.' ? static_cast<char>(c) : '_';
    if (k == '_' && !out.empty() && out.back() == '_') continue;
    out += k;
  }
  const auto first = out.find_first_not_of("._-");
  out = first == std::string::npos ? "" : out.substr(first);
  if (out.size() > 100) out.resize(100);
  while (!out.empty() && (out.back() == '_' || out.back() == '.')) out.pop_back();
  return (out.empty() ? "chacra" : out) + ".h5";
}

struct RunCommand {
  std::optional<std::string> scenario;
  std::vector<std::string> output, threads, replicates, seed, sets, mpi_split, summary, posterior;
  bool force = false, resume = false, quiet = false;
  std::string command_line;
  void operator()() const;
};

void RunCommand::operator()() const {
  if (scenario && scenario->empty())
    throw UsageError("the scenario path is empty (leave it out to run the built-in scenario)");
  const bool full = one_of("--summary", value_or(summary, "brief"), {"brief", "full"}) == "full";
  std::vector<std::string> all_sets = sets;
  if (auto r = whole_number("--replicates", replicates, 1, 1'000'000)) all_sets.push_back("run.replicates=" + std::to_string(*r));
  if (auto s = whole_number("--seed", seed, 0, 9'007'199'254'740'991LL)) all_sets.push_back("run.seed=" + std::to_string(*s));
  const int n_threads = static_cast<int>(whole_number("--threads", threads, 1, 4096).value_or(0));
  const std::string split = one_of("--mpi-split", value_or(mpi_split, "units"), {"units", "districts", "auto"});
  const Scenario loaded = load_scenario_for(scenario.value_or(""), all_sets);
  RunOptions opts;
  opts.threads = n_threads;
  opts.force = force;
  opts.resume = resume;
  if (!output.empty() && output.back().empty())
    throw UsageError("-o/--output needs a file name, got an empty one (leave -o out for <scenario name>.h5)");
  opts.output_path = value_or(output, default_output_name(loaded.name));
  opts.command_line = command_line;
  if (command_line.size() > output::layout::kMaxAttributeText)
    throw UsageError("the command line is too long to record in the output (" + std::to_string(command_line.size()) +
                     " bytes; at most " + std::to_string(output::layout::kMaxAttributeText) +
                     "); put the settings in the scenario file instead of --set");
  opts.note = [this](const std::string& s) {
    if (!quiet) std::cerr << "chacra: note: " << s << "\n";
  };
  bool under_mpi = false;
#ifdef CHACRA_WITH_MPI
  under_mpi = mpi::launched();
#endif
  // --posterior: each pair of replicates runs a parameter set drawn from the ensemble (after the scenario,
  // before each arm's own overrides), so the comparison's intervals include parameter uncertainty.
  std::optional<study::posterior::Ensemble> ensemble;
  if (!posterior.empty()) {
    if (under_mpi) throw UsageError("--posterior is not supported under mpirun/srun yet: run on one node");
    ensemble = study::posterior::read(posterior.front(), full_registry());
    study::posterior::check_for_run(*ensemble);
    const auto run_seed = static_cast<std::uint64_t>(loaded.base.integer("run.seed"));
    opts.unit_params = [&ensemble, run_seed](std::uint32_t r, const Arm& arm, ParamSet& p) {
      std::vector<std::string> own;
      for (const auto& o : arm.overrides) own.push_back(o.first);
      study::posterior::apply(*ensemble, study::posterior::row_for_replicate(*ensemble, run_seed, r), p, own);
    };
  }
  {
    // Everything about the output that can be known now is checked before any work (exit status 2; 1 when
    // another chacra process is writing it). Under MPI the partial file is the join's own, and --resume
    // continues the unit files instead.
    RunOptions check = opts;
    if (under_mpi) check.resume = false, check.replace_stale_partial = true;
    output::OutputRequest request = output_request(loaded, check, estimate_memory(loaded, model_builder()));
    request.scenario_yaml.clear();  // the budget solve below may still change the resolved scenario
    for (const auto& note : output::check_output(request)) opts.note(note);
  }
  // Under mpirun/srun, MPI starts before the budget solve: with --mpi-split districts|auto its simulations run
  // on replicate 0's population split by districts across all ranks (a population too large for one node),
  // and only rank 0 prints.
  const Collective* everyone = nullptr;
  bool speaks = true;
#ifdef CHACRA_WITH_MPI
  std::optional<mpi::Session> session;
  std::unique_ptr<Collective> world_collective;
  if (under_mpi) {
    session.emplace();
    speaks = session->root();
    if (split != "units" && session->size() > 1) everyone = (world_collective = mpi::world_collective()).get();
  }
#endif
  try {
    // Budget-neutral arms get their coverage lever solved before the run (and recorded in the provenance);
    // after the output check, so nobody waits through the solve to be told the file exists.
    const Scenario solved = study::solve_budget_neutrality(loaded, model_builder(), n_threads, nullptr,
                                                           quiet || !speaks ? nullptr : &std::cerr, everyone);
    // Off a terminal a run logs a line every 5 s (batch jobs follow it; the soak tier reads its memory).
    Progress progress("household-months", quiet, true);
    opts.progress = [&](std::uint64_t d, std::uint64_t t) { progress(d, t); };
    // The comparison is computed on the finished panel before the file is renamed into place, so the table
    // printed here is the one `chacra compare` reads back.
    study::RunComparison comparison;
    opts.finalize = [&comparison, &ensemble, &loaded](hid_t file, RunResult&) {
      if (ensemble) {
        // Which file and which row each replicate ran, so the run can be traced and repeated.
        std::string rows;
        const auto run_seed = static_cast<std::uint64_t>(loaded.base.integer("run.seed"));
        const auto n = static_cast<std::uint32_t>(loaded.base.integer("run.replicates"));
        for (std::uint32_t r = 0; r < n; ++r)
          rows += (r ? "," : "") + std::to_string(study::posterior::row_for_replicate(*ensemble, run_seed, r));
        output::set_provenance(file, "posterior_file", ensemble->path);
        output::set_provenance(file, "posterior_problem_sha256", ensemble->problem_sha256);
        output::set_provenance(file, "posterior_rows", rows);
      }
      study::finalize_run_comparison(file, comparison);
    };
    install_stop_handlers();
    RunResult r;
#ifdef CHACRA_WITH_MPI
    if (session) {  // started by mpirun/srun: units (or districts) split across ranks, one file (docs/cluster.md)
      try {
        r = mpi::run_scenario_mpi(*session, solved, model_builder(), opts, quiet, mpi::parse_split(split));
      } catch (const mpi::UnitFailed& e) {
        std::cerr << "chacra: " << e.what() << "\n";
        mpi::abort_job(exit_status(e));  // the other ranks wait for this one: the whole job ends here
      }
      if (!speaks) return;
    } else {
      r = run_scenario(solved, model_builder(), opts);
    }
#else
    r = run_scenario(solved, model_builder(), opts);
#endif
    if (!quiet)
      std::cout << study::format_run_summary(solved, r, full) << study::format_run_comparison(comparison, full);
    if (!quiet && ensemble) {
      const std::string ref = solved.base.choice("run.reference_arm");
      std::cout << study::posterior::format_run_split(r, ref.empty() ? solved.arms.front().name : ref,
                                                     {"income_monetary_pen", "consumption_pen", "poor", "extreme_poor",
                                                      "juntos_enrolled", "hw_participant"});
    }
  } catch (const Interrupted& e) {
    rethrow_as(std::string(e.what()) + "; no complete output was written. Finished arm x replicate units are kept in " +
               (under_mpi ? opts.output_path + ".parts/" : output::partial_path(opts.output_path)) +
               ";\n        run the same command with --resume to continue from them");
  }
}

}  // namespace

void add_run(CommandLine& commands, const std::string& command_line) {
  auto c = std::make_shared<RunCommand>();
  c->command_line = command_line;
  CLI::App& app = commands.add("run", "chacra run [SCENARIO.yaml] [OPTIONS]", "", [c] { (*c)(); });
  commands.positional(app, "scenario", c->scenario);
  commands.value(app, "-o,--output", c->output, "output HDF5 file (default: <scenario name>.h5)");
  commands.value(app, "-t,--threads", c->threads, "worker threads (default: all cores); results do not depend on it");
  commands.value(app, "-r,--replicates", c->replicates, "replicates (overrides run.replicates)");
  commands.value(app, "-s,--seed", c->seed, "seed of the model's random streams (overrides run.seed)");
  commands.value(app, "--set", c->sets, "override a parameter: key.path=value, or arms.NAME.key.path=value", true);
  commands.flag(app, "-f,--force", c->force, "overwrite an existing output file");
  commands.flag(app, "--resume", c->resume, "continue OUT.partial left by an interrupted run of the same scenario");
  commands.value(app, "--posterior", c->posterior,
                 "posterior ensemble of chacra calibrate (posterior.h5): each pair of replicates runs a parameter set "
                 "drawn from it, so intervals include parameter uncertainty (printed apart from sampling)");
  commands.value(app, "--mpi-split", c->mpi_split,
                 "under mpirun/srun: units (default: whole arm x replicate units per rank), districts (every unit's "
                 "population split by districts across all ranks) or auto (docs/cluster.md); results do not depend "
                 "on it");
  commands.value(app, "--summary", c->summary,
                 "brief (default: the key means and effects, within 100 columns) or full (every summary outcome)");
  commands.flag(app, "-q,--quiet", c->quiet, "print nothing but errors");
}

}  // namespace chacra::cli
