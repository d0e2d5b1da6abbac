// chacra serve: the dashboard of run and sweep files; the process becomes analysis/serve.py under Debian's Python.
#include "app/commands.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>

namespace chacra::cli {

namespace {

namespace fs = std::filesystem;

// analysis/serve.py: $CHACRA_ANALYSIS_DIR, else analysis/ beside or above the executable (build/chacra in the
// source tree), else the source tree this executable was built from.
std::optional<fs::path> find_serve_script(const fs::path& exe) {
  std::vector<fs::path> dirs;
  if (const char* d = std::getenv("CHACRA_ANALYSIS_DIR"); d && *d) dirs.emplace_back(d);
  if (!exe.empty()) {
    dirs.push_back(exe.parent_path() / "analysis");
    dirs.push_back(exe.parent_path().parent_path() / "analysis");
  }
  dirs.emplace_back(fs::path(CHACRA_SOURCE_DIR) / "analysis");
  for (const auto& d : dirs) {
    std::error_code ec;
    if (fs::is_regular_file(d / "serve.py", ec) && fs::is_directory(d / "chacra_analysis", ec)) return d / "serve.py";
  }
  return std::nullopt;
}

struct ServeCommand {
  std::vector<std::string> files, port, host, scenarios, runs;

  void operator()() const {
    const long long p = whole_number("--port", value_or(port, "8050"), 0, 65535);
    const std::string h = value_or(host, "127.0.0.1");
    if (h.empty()) throw UsageError("--host needs an address, e.g. 127.0.0.1");
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    const auto script = find_serve_script(exe);
    if (!script)
      throw UsageError("serve cannot find analysis/serve.py (beside the executable or in " +
                       std::string(CHACRA_SOURCE_DIR) + "): set CHACRA_ANALYSIS_DIR to the analysis/ folder");
    const char* env_python = std::getenv("CHACRA_PYTHON");
    const std::string python = env_python && *env_python ? env_python : "/usr/bin/python3";
    if (::access(python.c_str(), X_OK) != 0)
      throw UsageError("serve needs " + python + " with Flask, h5py, pandas and matplotlib: apt-get install python3 "
                       "python3-flask python3-h5py python3-pandas python3-matplotlib (tools/setup.sh installs them)");
    std::vector<std::string> args{python, script->string(), "--port", std::to_string(p), "--host", h};
    if (!exe.empty()) args.insert(args.end(), {"--chacra", exe.string()});
    if (!scenarios.empty()) args.insert(args.end(), {"--scenarios", scenarios.back()});
    if (!runs.empty()) args.insert(args.end(), {"--runs", runs.back()});
    args.push_back("--");
    args.insert(args.end(), files.begin(), files.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::fflush(stdout);
    ::execv(python.c_str(), argv.data());
    throw std::runtime_error("cannot start " + python + ": " + std::strerror(errno));
  }
};

}  // namespace

void add_serve(CommandLine& commands) {
  auto cmd = std::make_shared<ServeCommand>();
  CLI::App& c = commands.add(
      "serve", "chacra serve [FILE.h5 ...] [--port N] [--host ADDRESS] [--scenarios DIR] [--runs DIR]",
      "A local web dashboard (docs/dashboard.md): edit a shipped or uploaded scenario's arms and parameters and\n"
      "run it (or a sweep of one parameter) with progress; see run and sweep files: the arms' effects side by\n"
      "side with 95% intervals for any outcome and reference arm, effect paths, the cost-effect frontier, the\n"
      "reach funnel, a sweep's effects against each varied parameter with bands and its sensitivity indices;\n"
      "download the HDF5 file, the comparison as CSV and the report. Charts are drawn in the browser by the\n"
      "Vega libraries the server itself serves: no network needed. Runs analysis/serve.py with Debian's\n"
      "/usr/bin/python3 (python3-flask). Exit status 2 for a missing or invalid file, 1 when the port is in use.",
      [cmd] { (*cmd)(); });
  commands.positionals(c, "files", cmd->files);
  commands.value(c, "-p,--port", cmd->port, "port to listen on (default 8050; 0: any free port, printed)");
  commands.value(c, "--host", cmd->host, "address to listen on (default 127.0.0.1: this machine only)");
  commands.value(c, "--scenarios", cmd->scenarios, "folder of the scenarios the page offers (default: configs/ of the source tree)");
  commands.value(c, "--runs", cmd->runs, "folder for uploads and runs started from the page (default: a new temporary folder)");
}

}  // namespace chacra::cli
