// Test helpers that start the chacra executable as a child process (fork/exec, no shell) with a chosen
// working directory, environment and resource limits, so that tests can signal it, time it, limit the
// size of the files it writes, and read its exit status, output and peak memory.
#pragma once

#include "cli_helpers.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace clitest {

struct SpawnOptions {
  std::string cwd;  // working directory of the child (must exist)
  std::vector<std::pair<std::string, std::string>> env;  // added to (or replacing in) the environment
  std::optional<rlim_t> max_file_bytes;  // RLIMIT_FSIZE: writing past it raises SIGXFSZ / fails with EFBIG
  bool ignore_sigxfsz = false;           // start the child with SIGXFSZ ignored (inherited across exec)
  std::string program;                   // default: the built chacra
  std::vector<std::string> prefix;       // words before the program (e.g. valgrind and its options)
};

// Options with only the working directory set.
inline SpawnOptions in_dir(const std::string& dir) {
  SpawnOptions o;
  o.cwd = dir;
  return o;
}

struct Child {
  pid_t pid = -1;
  std::string log;  // file receiving the child's stdout and stderr
};

struct Exit {
  bool exited = false;    // exited normally (then `code`), else killed by `signal`
  int code = -1;
  int signal = 0;
  double seconds = 0;     // from the start (or from wait_exit's call) to the end
  long max_rss_kib = 0;   // peak resident memory of the child
  std::string out;        // stdout and stderr together
  bool timed_out = false;
  // The status as a shell reports it: the exit code, or 128 + signal.
  int status() const { return exited ? code : 128 + signal; }
};

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A directory for the logs of child processes, outside the directories whose contents tests check.
inline std::string log_dir() {
  static const std::string dir = temp_dir("_logs");
  return dir;
}

inline Child spawn(const std::vector<std::string>& args, const SpawnOptions& opts = {}) {
  static int serial = 0;
  Child c;
  c.log = log_dir() + "/child_" + std::to_string(++serial) + ".log";
  std::vector<std::string> words = opts.prefix;
  words.push_back(opts.program.empty() ? chacra() : opts.program);
  words.insert(words.end(), args.begin(), args.end());
  // Everything the child needs is prepared before fork().
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    if (!opts.cwd.empty() && chdir(opts.cwd.c_str()) != 0) _exit(126);
    const int fd = open(c.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) _exit(126);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    for (const auto& [k, v] : opts.env) setenv(k.c_str(), v.c_str(), 1);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGXFSZ, opts.ignore_sigxfsz ? SIG_IGN : SIG_DFL);
    if (opts.max_file_bytes) {
      struct rlimit rl {*opts.max_file_bytes, *opts.max_file_bytes};
      if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(126);
    }
    execvp(argv[0], argv.data());
    _exit(127);
  }
  c.pid = pid;
  return c;
}

// Waits up to `seconds` for the child to end; on time-out the child is left running (timed_out set).
inline Exit wait_exit(const Child& c, double seconds) {
  Exit e;
  const auto start = std::chrono::steady_clock::now();
  for (;;) {
    int st = 0;
    struct rusage ru {};
    const pid_t r = wait4(c.pid, &st, WNOHANG, &ru);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (r == c.pid) {
      e.exited = WIFEXITED(st);
      e.code = e.exited ? WEXITSTATUS(st) : -1;
      e.signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
      e.seconds = elapsed;
      e.max_rss_kib = ru.ru_maxrss;
      e.out = read_text(c.log);
      return e;
    }
    if (r < 0 || elapsed > seconds) {
      e.timed_out = true;
      e.seconds = elapsed;
      e.out = read_text(c.log);
      return e;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// True while the child has not ended (it is not reaped, so wait_exit still sees its status).
inline bool running(const Child& c) {
  siginfo_t info {};
  if (waitid(P_PID, static_cast<id_t>(c.pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0) return false;
  return info.si_pid == 0;
}

// Kills a child that overran its time (so that a failing test does not leave it behind) and reaps it.
inline void kill_and_reap(const Child& c) {
  if (c.pid <= 0) return;
  kill(c.pid, SIGKILL);
  int st = 0;
  waitpid(c.pid, &st, 0);
}

// Runs chacra to completion (killed after `limit` seconds).
inline Exit run_child(const std::vector<std::string>& args, const SpawnOptions& opts = {}, double limit = 300) {
  const Child c = spawn(args, opts);
  Exit e = wait_exit(c, limit);
  if (e.timed_out) kill_and_reap(c);
  return e;
}

// The names in a directory (not recursive).
inline std::set<std::string> listing(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.insert(entry.path().filename().string());
  return names;
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// `args` followed by `more`.
inline std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// kSmallSet as separate arguments, with --quiet: a run of a second or two.
inline const std::vector<std::string> kSmallArgs = {"--set", "population.households=1500", "--set",
                                                    "population.districts=6", "--set", "run.years=3",
                                                    "--set", "run.replicates=1", "--quiet"};

// A device node like /dev/null at dir/name (as root, where mknod is allowed), else a FIFO: something that is
// not a regular file and that chacra must never replace. Tests never point chacra at the real /dev/null: a
// regression (or an older chacra) running as root would replace the machine's device with its output.
// Returns the kind chacra names in its message.
inline std::string special_file(const std::string& dir, const std::string& name) {
  const std::string path = dir + "/" + name;
  if (::mknod(path.c_str(), S_IFCHR | 0666, ::makedev(1, 3)) == 0) return "a character device";
  if (::mkfifo(path.c_str(), 0600) == 0) return "a FIFO";
  return "";
}

// Runs a shell command line (sh); its exit status, or 128 + the signal that killed it.
inline int shell(const std::string& cmd) {
  const int st = std::system(cmd.c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

// h5diff of two files' /arms groups (every dataset of every arm and replicate): true when equal.
inline bool same_arms(const std::string& a, const std::string& b) {
  const std::string cmd = "h5diff '" + a + "' '" + b + "' /arms /arms > /dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

}  // namespace clitest
