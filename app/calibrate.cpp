// chacra calibrate PROBLEM.yaml -o DIR: the calibration of structural parameters (history matching with
// emulators, then MCMC; docs/calibration_method.md) by analysis/calibrate.py on Debian's Python, run with this
// very chacra as the simulator. This command checks what it can, then hands the process over to Python, whose
// exit status (0, 1 runtime failure, 2 bad input) becomes chacra's. Under MPI, start the engine itself:
// mpiexec -n N /usr/bin/python3 -m mpi4py.futures analysis/calibrate.py PROBLEM -o DIR --mpi.
#include "app/commands.hpp"
#include "sim/errors.hpp"

#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>

namespace chacra::cli {

namespace {

namespace fs = std::filesystem;

// Debian's interpreter: it has numpy, scipy, scikit-learn, emcee and h5py (tools/setup.sh); another python3
// first on PATH may not. CHACRA_PYTHON overrides it.
constexpr const char* kPython = "/usr/bin/python3";

// analysis/calibrate.py: $CHACRA_ANALYSIS_DIR, else the source tree this chacra was built from.
fs::path calibrate_script() {
  const char* dir = std::getenv("CHACRA_ANALYSIS_DIR");
  const fs::path script = fs::path(dir && *dir ? dir : CHACRA_SOURCE_DIR "/analysis") / "calibrate.py";
  if (!fs::is_regular_file(script))
    throw std::runtime_error("calibrate: cannot find " + script.string() +
                             " (the calibration engine); set CHACRA_ANALYSIS_DIR to the directory holding calibrate.py");
  return script;
}

// The running executable, so that the calibration runs this chacra and not another one on PATH.
std::string own_executable() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : self.string();
}

struct CalibrateCommand {
  std::optional<std::string> problem;
  std::vector<std::string> output, workers, seed;
  bool force = false, check = false, quiet = false;

  void operator()() const {
    if (!problem || problem->empty())
      throw UsageError("calibrate: a problem file is required: chacra calibrate PROBLEM.yaml -o DIR "
                       "(example: configs/calibration/chacra_2017.yaml)");
    std::error_code ec;
    if (!fs::is_regular_file(*problem, ec))
      throw UsageError("calibrate: " + *problem + ": no such file (a calibration problem in YAML, "
                       "docs/calibration_method.md)");
    if (!check && output.empty())
      throw UsageError("calibrate: -o DIR is required (or --check to validate the problem and run nothing)");
    const auto n_workers = whole_number("--workers", workers, 1, 100000);
    const auto seed_value = whole_number("--seed", seed, 0, 9'007'199'254'740'991LL);

    const char* python_env = std::getenv("CHACRA_PYTHON");
    const std::string python = python_env && *python_env ? python_env : kPython;
    if (::access(python.c_str(), X_OK) != 0)
      throw std::runtime_error("calibrate: cannot run " + python + " (" + std::strerror(errno) +
                               "); install Debian's python3 with tools/setup.sh, or set CHACRA_PYTHON");
    const fs::path script = calibrate_script();

    std::vector<std::string> args = {python, script.string(), *problem};
    if (check) args.push_back("--check");
    if (!output.empty()) args.insert(args.end(), {"-o", output.front()});
    if (n_workers) args.insert(args.end(), {"--workers", std::to_string(*n_workers)});
    if (seed_value) args.insert(args.end(), {"--seed", std::to_string(*seed_value)});
    if (force) args.push_back("--force");
    if (quiet) args.push_back("--quiet");
    // The simulator is this chacra unless the caller chose one; the problem's simulator.executable still wins.
    if (const char* set = std::getenv("CHACRA_BINARY"); !set || !*set) {
      const std::string self = own_executable();
      if (!self.empty()) ::setenv("CHACRA_BINARY", self.c_str(), 1);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(python.c_str(), argv.data());
    throw std::runtime_error("calibrate: cannot start " + python + ": " + std::strerror(errno));
  }
};

}  // namespace

void add_calibrate(CommandLine& commands) {
  auto c = std::make_shared<CalibrateCommand>();
  CLI::App& app = commands.add(
      "calibrate", "chacra calibrate PROBLEM.yaml -o DIR [OPTIONS]",
      "Calibrates structural parameters against calibration targets only (history matching with Gaussian-process\n"
      "emulators, then MCMC), checks every calibration and validation target on posterior draws, and writes\n"
      "DIR/posterior.h5 (the ensemble for run/evaluate --posterior), defaults.json, summary.md and figures.\n"
      "Runs analysis/calibrate.py with /usr/bin/python3 and this chacra as the simulator (docs/calibration_method.md).",
      [c] { (*c)(); });
  commands.positional(app, "problem", c->problem);
  commands.value(app, "-o,--output", c->output, "output directory (created; existing outputs need --force)");
  commands.value(app, "--workers", c->workers, "simulator calls at once (default: the problem's, else cores)");
  commands.value(app, "-s,--seed", c->seed, "override the problem's seed");
  commands.flag(app, "-f,--force", c->force, "overwrite the calibration's own outputs in DIR");
  commands.flag(app, "--check", c->check, "validate the problem against the parameter registry and run nothing");
  commands.flag(app, "-q,--quiet", c->quiet, "print only errors and the summary");
}

}  // namespace chacra::cli
