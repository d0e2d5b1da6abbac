// chacra subcommands run, validate and params, the dispatcher, and the mapping of errors to exit statuses.
#include "app/cli.hpp"

#include "app/commands.hpp"
#include "app/options.hpp"
#include "study/budget.hpp"
#include "study/comparison.hpp"
#include "sim/output/h5.hpp"
#include "sim/interrupt.hpp"
#include "sim/runner.hpp"
#include "sim/scenario.hpp"
#ifdef CHACRA_WITH_MPI
#include "sim/mpi_runner.hpp"
#endif

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

namespace chacra::cli {

namespace {

const char* kTopHelp = R"(chacra: agent-based simulator of rural households under Juntos and Haku Wiñay

usage: chacra COMMAND [OPTIONS]

commands:
  run [SCENARIO.yaml]   run a scenario's arms and replicates, write an HDF5 panel, print a summary
                        (no file: the built-in default scenario)
  validate SCENARIO     check a scenario completely without running it
  params                list every parameter: type, default, range, unit, description, source
  compare OUT.h5        effects of each arm against a reference arm, with intervals over replicates
  evaluate [SCENARIO]   the virtual evaluation of the 2017 Haku Wiñay cohort beside the published effects
                        (no file: the built-in configs/evaluation_2017.yaml)
  export OUT.h5 --csv DIR   the panel and tables as CSV with a codebook, for Stata and R
  bench                 household-months per second, parallel efficiency, memory, output overhead

  chacra COMMAND --help    options of one command
  chacra --version         version and git commit

exit status: 0 success, 1 runtime failure, 2 bad input (usage or scenario), 130/143 interrupted
)";

const std::vector<OptionSpec> kRunOptions = {
    {"--output", "-o", true, false, "output HDF5 file (default: <scenario name>.h5)"},
    {"--threads", "-t", true, false, "worker threads (default: all cores); results do not depend on it"},
    {"--replicates", "-r", true, false, "replicates (overrides run.replicates)"},
    {"--seed", "-s", true, false, "seed of the model's random streams (overrides run.seed)"},
    {"--set", "", true, true, "override a parameter: key.path=value, or arms.NAME.key.path=value"},
    {"--force", "-f", false, false, "overwrite an existing output file"},
    {"--resume", "", false, false, "continue OUT.partial left by an interrupted run of the same scenario"},
    {"--mpi-split", "", true, false,
     "under mpirun/srun: units (default: whole arm x replicate units per rank), districts (every unit's "
     "population split by districts across all ranks) or auto (docs/cluster.md); results do not depend on it"},
    {"--quiet", "-q", false, false, "print nothing but errors"},
    {"--help", "-h", false, false, "this help"},
};

// Progress on stderr: a bar with rate and ETA on a terminal, a plain line every few seconds otherwise.
class Progress {
 public:
  explicit Progress(bool quiet) : quiet_(quiet), tty_(isatty(STDERR_FILENO) == 1) {}
  void operator()(std::uint64_t done, std::uint64_t total) {
    if (quiet_ || total == 0) return;
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const double since = std::chrono::duration<double>(now - last_).count();
    const bool finished = done >= total;
    if (!finished && since < (tty_ ? 0.2 : 5.0)) return;
    last_ = now;
    const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
    const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0.0;
    const double frac = static_cast<double>(done) / static_cast<double>(total);
    char line[160];
    if (tty_) {
      const int width = 30, filled = static_cast<int>(frac * width);
      std::string bar(static_cast<std::size_t>(filled), '#');
      bar.resize(width, ' ');
      std::snprintf(line, sizeof line, "\r[%s] %5.1f%%  %.3g M household-months/s  ETA %.0fs ", bar.c_str(),
                    100 * frac, rate / 1e6, eta);
      std::fputs(line, stderr);
      if (finished) std::fputs("\n", stderr);
    } else {
      // The resident set is logged so that long runs show their memory stays flat (the soak tier checks it).
      std::snprintf(line, sizeof line,
                    "progress: %.1f%% (%llu of %llu household-months, %.3g M/s, ETA %.0fs, RSS %lld MiB)\n",
                    100 * frac, static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                    rate / 1e6, eta, static_cast<long long>(resident_bytes() >> 20));
      std::fputs(line, stderr);
    }
    std::fflush(stderr);
  }

 private:
  bool quiet_, tty_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_ = start_;
};

std::string join_command_line(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    if (i) s += ' ';
    s += argv[i];
  }
  return s;
}

void print_summary(const Scenario& scenario, const RunResult& r) {
  std::printf("chacra %s (%s): scenario '%s'\n", chacra_version().c_str(), chacra_commit().c_str(),
              scenario.name.c_str());
  std::printf("  %llu households x %zu periods x %zu arms x %lld replicates = %.4g household-months in %.2f s "
              "(%.3g M/s on %d threads)\n",
              static_cast<unsigned long long>(r.households), r.period_labels.size(), scenario.arms.size(),
              static_cast<long long>(scenario.base.integer("run.replicates")),
              static_cast<double>(r.household_months), r.seconds,
              r.seconds > 0 ? static_cast<double>(r.household_months) / r.seconds / 1e6 : 0.0, r.threads);
  if (!r.output_path.empty()) std::printf("  wrote %s\n", r.output_path.c_str());
  if (r.period_labels.empty() || r.units.empty()) return;
  // Last period's household means, averaged over replicates, for the variables a reader looks at first.
  const std::vector<std::string> preferred = {"income_monetary_pen", "consumption_pen", "poor", "extreme_poor",
                                              "juntos_transfer_pen", "hw_participant", "cost_juntos_pen",
                                              "cost_hw_pen"};
  std::vector<std::string> shown;
  for (const auto& v : preferred)
    if (r.units.front().has(v)) shown.push_back(v);
  if (shown.empty())
    for (std::size_t i = 0; i < r.units.front().variables.size() && shown.size() < 5; ++i)
      if (r.units.front().widths[i] == 1) shown.push_back(r.units.front().variables[i]);
  const std::size_t last = r.period_labels.size() - 1;
  std::printf("\n  household means in %s (averaged over replicates):\n  %-24s", r.period_labels[last].c_str(), "arm");
  for (const auto& v : shown) std::printf(" %20s", v.c_str());
  std::printf("\n");
  for (const auto& arm : scenario.arms) {
    std::printf("  %-24s", arm.name.c_str());
    for (const auto& v : shown) {
      double s = 0;
      int n = 0;
      for (const auto& u : r.units)
        if (u.arm == arm.name) s += u.mean(v, last), ++n;
      std::printf(" %20.4g", n ? s / n : 0.0);
    }
    std::printf("\n");
  }
}

int cmd_run(const std::vector<std::string>& args, const std::string& command_line) {
  const ParsedArgs a = parse_args("run", args, kRunOptions, 1);
  if (a.has("--help")) {
    std::cout << "usage: chacra run [SCENARIO.yaml] [OPTIONS]\n\n" << format_options(kRunOptions);
    return kOk;
  }
  if (!a.positional.empty() && a.positional[0].empty())
    throw UsageError("the scenario path is empty (leave it out to run the built-in scenario)");
  std::vector<std::string> sets = a.values.count("--set") ? a.values.at("--set") : std::vector<std::string>{};
  if (a.has("--replicates"))
    sets.push_back("run.replicates=" + std::to_string(a.get_int("--replicates", 1, 1, 1'000'000)));
  if (a.has("--seed"))
    sets.push_back("run.seed=" + std::to_string(a.get_int("--seed", 0, 0, 9'007'199'254'740'991LL)));
  const bool quiet = a.has("--quiet");
  const int threads = static_cast<int>(a.get_int("--threads", 0, 1, 4096));
  const std::string mpi_split = a.get("--mpi-split", "units");
  if (mpi_split != "units" && mpi_split != "districts" && mpi_split != "auto")
    throw UsageError("--mpi-split expects units, districts or auto, got '" + mpi_split + "'");
  const Scenario loaded = load_scenario_for(a.positional.empty() ? "" : a.positional[0], sets);
  RunOptions opts;
  opts.threads = threads;
  opts.force = a.has("--force");
  opts.resume = a.has("--resume");
  opts.output_path = a.get("--output", loaded.name + ".h5");
  opts.command_line = command_line;
  if (std::filesystem::exists(opts.output_path) && !opts.force && !opts.resume)
    throw OutputExists("output " + opts.output_path +
                       " already exists; use --force to overwrite it or -o to choose another name");
  // Under mpirun/srun, MPI starts before the budget solve: with --mpi-split districts|auto its simulations run
  // on replicate 0's population split by districts across all ranks (a population too large for one node),
  // and only rank 0 prints.
  const Collective* everyone = nullptr;
  bool speaks = true;
#ifdef CHACRA_WITH_MPI
  std::optional<mpi::Session> session;
  std::unique_ptr<Collective> world_collective;
  if (mpi::launched()) {
    session.emplace();
    speaks = session->root();
    if (mpi_split != "units" && session->size() > 1) everyone = (world_collective = mpi::world_collective()).get();
  }
#endif
  // Budget-neutral arms get their coverage lever solved before the run (and recorded in the provenance);
  // after the output check, so nobody waits through the solve to be told the file exists.
  const Scenario scenario = study::solve_budget_neutrality(loaded, model_builder(), threads, nullptr,
                                                            quiet || !speaks ? nullptr : &std::cerr, everyone);
  Progress progress(quiet);
  opts.progress = [&](std::uint64_t d, std::uint64_t t) { progress(d, t); };
  // The comparison is computed on the finished panel before the file is renamed into place, so the table
  // printed here is the one `chacra compare` reads back.
  study::RunComparison comparison;
  opts.finalize = [&comparison](hid_t file, RunResult&) { study::finalize_run_comparison(file, comparison); };
  install_stop_handlers();
#ifdef CHACRA_WITH_MPI
  if (session) {  // started by mpirun/srun: units (or districts) split across ranks, one file (docs/cluster.md)
    const RunResult r = mpi::run_scenario_mpi(*session, scenario, model_builder(), opts, quiet, mpi::parse_split(mpi_split));
    if (!quiet && session->root()) {
      print_summary(scenario, r);
      std::cout << study::format_run_comparison(comparison);
    }
    return kOk;
  }
#endif
  const RunResult r = run_scenario(scenario, model_builder(), opts);
  if (!quiet) {
    print_summary(scenario, r);
    std::cout << study::format_run_comparison(comparison);
  }
  return kOk;
}

int cmd_validate(const std::vector<std::string>& args) {
  const std::vector<OptionSpec> specs = {
      {"--set", "", true, true, "override a parameter as in chacra run"},
      {"--help", "-h", false, false, "this help"},
  };
  const ParsedArgs a = parse_args("validate", args, specs, 1);
  if (a.has("--help") || a.positional.empty()) {
    std::cout << "usage: chacra validate SCENARIO.yaml [--set key=value ...]\n\n" << format_options(specs);
    return a.has("--help") ? kOk : kBadInput;
  }
  if (a.positional[0].empty()) throw UsageError("the scenario path is empty");
  const Scenario s = load_scenario_for(a.positional[0], a.values.count("--set") ? a.values.at("--set")
                                                                                 : std::vector<std::string>{});
  study::check_budget_neutrality(s);
  validate_model_setup(s);
  std::printf("%s: valid scenario '%s' with %zu arm(s):", s.path.c_str(), s.name.c_str(), s.arms.size());
  for (const auto& arm : s.arms) std::printf(" %s", arm.name.c_str());
  std::printf("\n");
  return kOk;
}

int cmd_params(const std::vector<std::string>& args) {
  const std::vector<OptionSpec> specs = {
      {"--format", "", true, false, "table (default), markdown or json"},
      {"--help", "-h", false, false, "this help"},
  };
  const ParsedArgs a = parse_args("params", args, specs, 0);
  if (a.has("--help")) {
    std::cout << "usage: chacra params [--format table|markdown|json]\n\n" << format_options(specs);
    return kOk;
  }
  const std::string fmt = a.get("--format", "table");
  const Registry& reg = full_registry();
  if (fmt == "table") std::cout << reg.to_table();
  else if (fmt == "markdown") std::cout << reg.to_markdown();
  else if (fmt == "json") std::cout << reg.to_json();
  else throw UsageError("--format expects table, markdown or json, got '" + fmt + "'");
  return kOk;
}

}  // namespace

int main(int argc, char** argv) {
  // HDF5's exit-time clean-up crashes on a file whose close failed (full disk); every handle is closed by
  // RAII anyway, so skip it. Must precede any other HDF5 call.
  H5dont_atexit();
  std::vector<std::string> args(argv + 1, argv + argc);
  const std::string command_line = join_command_line(argc, argv);
  try {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      std::cout << kTopHelp;
      return args.empty() ? kBadInput : kOk;
    }
    if (args[0] == "--version") {
      std::cout << "chacra " << chacra_version() << " (commit " << chacra_commit() << ")\n";
      return kOk;
    }
    const std::string cmd = args[0];
    const std::vector<std::string> rest(args.begin() + 1, args.end());
    if (cmd == "run") return cmd_run(rest, command_line);
    if (cmd == "validate") return cmd_validate(rest);
    if (cmd == "params") return cmd_params(rest);
    if (auto rc = dispatch_extra_command(cmd, rest); rc >= 0) return rc;
    throw UsageError("unknown command '" + cmd + "' (see chacra --help)");
  } catch (const UsageError& e) {
    std::cerr << "chacra: " << e.what() << "\n";
    return kBadInput;
  } catch (const ConfigError& e) {
    std::cerr << "chacra: " << e.what() << "\n";
    return kBadInput;
  } catch (const ResourceError& e) {
    std::cerr << "chacra: " << e.what() << "\n";
    return kBadInput;
  } catch (const OutputExists& e) {
    std::cerr << "chacra: " << e.what() << "\n";
    return kBadInput;
  } catch (const Interrupted& e) {
    std::cerr << "\nchacra: interrupted by signal " << e.signal()
              << "; no complete output was written. Finished arm x replicate units are kept in OUT.partial;\n"
                 "        run the same command with --resume to continue from them\n";
    return 128 + (e.signal() ? e.signal() : 2);
  } catch (const h5::Error& e) {
    std::cerr << "chacra: " << e.what() << "\n";
    return kRuntimeError;
  } catch (const std::filesystem::filesystem_error& e) {
    std::cerr << "chacra: " << e.what() << "\n";
    return kRuntimeError;
  } catch (const std::exception& e) {
    std::cerr << "chacra: error: " << e.what() << "\n";
    return kRuntimeError;
  }
}

}  // namespace chacra::cli
