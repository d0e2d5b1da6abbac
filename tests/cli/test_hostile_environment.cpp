// The hostile corpus beyond scenario text (docs/reliability.md, "Files" and "Processes"): what a user or the
// machine does around a run, in five families (files, processes, limits, signals, environment). Each case
// prepares a fresh directory, runs the real executable, and checks the exit status, a message, and that
// nothing it was not asked to write changed.
#include "cli_helpers.hpp"
#include "process_helpers.hpp"

#include <gtest/gtest.h>
#include <hdf5.h>

#include <sys/file.h>
#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using clitest::Exit;
using clitest::run_child;
using clitest::SpawnOptions;

namespace {

using clitest::contains;
using clitest::shell;
const std::vector<std::string>& kSmall = clitest::kSmallArgs;


const std::string kHdf5Signature("\x89HDF\r\n\x1a\n", 8);

std::vector<std::string> run_to(const std::string& out, std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"run", "-o", out};
  args.insert(args.end(), kSmall.begin(), kSmall.end());
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// Everything under `dir` that a run could damage: each entry's kind and, for files, its bytes; links by target.
std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> s;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const std::string rel = fs::relative(it->path(), dir).string();
    const auto st = it->symlink_status();
    if (fs::is_symlink(st)) s[rel] = "link:" + fs::read_symlink(it->path()).string();
    else if (fs::is_regular_file(st)) s[rel] = "file:" + clitest::read_text(it->path().string());
    else if (fs::is_directory(st)) s[rel] = "dir";
    else s[rel] = "other";
  }
  return s;
}


struct Case {
  std::string name;
  std::function<void(const std::string& dir)> setup;  // prepares the directory
  std::vector<std::string> args;                      // chacra's arguments
  int status = 2;
  std::string message;                                // must appear in the output ("" = none required)
  // Extra options of the child (limits through prlimit, the environment).
  std::function<void(SpawnOptions&)> options = nullptr;
  // After the run: extra checks. When absent and the status is not 0, the directory must be unchanged.
  std::function<void(const std::string& dir)> check = nullptr;
};

// A small complete output made once per test process, copied where a case needs an earlier output.
const std::string& made_output() {
  static const std::string path = [] {
    const auto dir = clitest::temp_dir("made_output");
    const Exit r = run_child(run_to("out.h5"), clitest::in_dir(dir), 120);
    EXPECT_EQ(r.status(), 0) << r.out;
    return dir + "/out.h5";
  }();
  return path;
}

void run_cases(const std::string& family, const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(family + ": " + c.name);
    const auto dir = clitest::temp_dir(family + "_" + std::to_string(std::hash<std::string>{}(c.name)));
    if (c.setup) c.setup(dir);
    const auto before = snapshot(dir);
    SpawnOptions opts = clitest::in_dir(dir);
    if (c.options) c.options(opts);
    const clitest::Child child = clitest::spawn(c.args, opts);
    const Exit r = clitest::wait_exit(child, 120);
    if (r.timed_out) clitest::kill_and_reap(child);
    ASSERT_FALSE(r.timed_out) << "still running after 120 s\n" << r.out;
    EXPECT_TRUE(r.exited) << "killed by signal " << r.signal << "\n" << r.out;
    EXPECT_EQ(r.status(), c.status) << r.out;
    if (!c.message.empty()) {
      EXPECT_TRUE(contains(r.out, c.message)) << "wanted: " << c.message << "\ngot: " << r.out;
    }
    if (c.check) {
      c.check(dir);
    } else if (c.status != 0) {
      EXPECT_EQ(snapshot(dir), before) << "a refused or failed run must change nothing";
    }
  }
}

void text(const std::string& dir, const std::string& name, const std::string& content) {
  clitest::write_file(dir, name, content);
}
void earlier_output(const std::string& dir, const std::string& name) {
  fs::copy_file(made_output(), dir + "/" + name);
}
void link(const std::string& dir, const std::string& target, const std::string& name) {
  fs::create_symlink(target, dir + "/" + name);
}
// The output was written, and nothing else is left but the files named.
std::function<void(const std::string&)> wrote(const std::string& out, std::set<std::string> others = {}) {
  return [out, others](const std::string& dir) {
    EXPECT_TRUE(shell("h5ls '" + dir + "/" + out + "' > /dev/null 2>&1") == 0) << out << " is not a readable output";
    auto expected = others;
    expected.insert(out);
    EXPECT_EQ(clitest::listing(dir), expected);
  };
}
std::function<void(SpawnOptions&)> prlimit(const std::string& option) {
  return [option](SpawnOptions& o) { o.prefix = {"prlimit", option}; };
}
std::function<void(SpawnOptions&)> env(const std::string& key, const std::string& value) {
  return [key, value](SpawnOptions& o) { o.env.push_back({key, value}); };
}

// ---- files: what is at the output path and beside it ----

TEST(HostileEnvironment, Files) {
  const std::string long_name(300, 'n');
  std::vector<Case> cases = {
      {"output is a link to a file, no --force", [](auto& d) { text(d, "t.txt", "keep\n"), link(d, "t.txt", "out.h5"); },
       run_to("out.h5"), 2, "already exists"},
      {"output is a link to a file, --force", [](auto& d) { text(d, "t.txt", "keep\n"), link(d, "t.txt", "out.h5"); },
       run_to("out.h5", {"--force"}), 2, "out.h5 is a symbolic link"},
      {"output is a dangling link, --force", [](auto& d) { link(d, "nowhere.h5", "out.h5"); },
       run_to("out.h5", {"--force"}), 2, "out.h5 is a symbolic link"},
      {"output is a link to an earlier output, --force",
       [](auto& d) { earlier_output(d, "real.h5"), link(d, "real.h5", "out.h5"); }, run_to("out.h5", {"--force"}), 2,
       "out.h5 is a symbolic link"},
      {"partial is a dangling link", [](auto& d) { link(d, "created.txt", "out.h5.partial"); }, run_to("out.h5"), 2,
       "out.h5.partial is a symbolic link"},
      {"partial is a directory", [](auto& d) { fs::create_directory(d + "/out.h5.partial"); }, run_to("out.h5"), 2,
       "out.h5.partial is a directory"},
      {"partial is a FIFO", [](auto& d) { ::mkfifo((d + "/out.h5.partial").c_str(), 0600); },
       run_to("out.h5", {"--force"}), 2, "out.h5.partial is a FIFO"},
      {"partial is somebody's text file", [](auto& d) { text(d, "out.h5.partial", "notes\n"); }, run_to("out.h5"), 2,
       "holds the progress of an interrupted run"},
      {"partial is somebody's text file, --force", [](auto& d) { text(d, "out.h5.partial", "notes\n"); },
       run_to("out.h5", {"--force"}), 2, "is not a partial output chacra wrote"},
      {"resume's file is a link", [](auto& d) { link(d, "x", "out.h5.partial.new"); }, run_to("out.h5"), 2,
       "out.h5.partial.new is a symbolic link"},
      {"resume's file left without a partial, --resume", [](auto& d) { text(d, "out.h5.partial.new", ""); },
       run_to("out.h5", {"--resume"}), 2, "out.h5.partial is missing"},
      {"output is a text file, --force", [](auto& d) { text(d, "out.h5", "a thesis\n"); },
       run_to("out.h5", {"--force"}), 2, "is not an HDF5 file"},
      {"output is an empty file, --force", [](auto& d) { text(d, "out.h5", ""); }, run_to("out.h5", {"--force"}), 0, "",
       nullptr, wrote("out.h5")},
      {"output is an earlier output, --force", [](auto& d) { earlier_output(d, "out.h5"); },
       run_to("out.h5", {"--force"}), 0, "", nullptr, wrote("out.h5")},
      {"output names a directory (trailing slash)", nullptr, run_to("sub/"), 2, "names a directory"},
      {"output is '.'", nullptr, run_to("."), 2, "names a directory"},
      {"output is '..'", nullptr, run_to(".."), 2, "names a directory"},
      {"output in a missing directory", nullptr, run_to("missing/out.h5"), 2, "the directory missing does not exist"},
      {"output name longer than the file system allows", nullptr, run_to(long_name + ".h5"), 2,
       "the output file name is too long"},
      {"output path longer than PATH_MAX", nullptr, run_to(std::string(PATH_MAX, 'p')), 2,
       "the output path is too long"},
      {"output is a device node or FIFO of the test's own, --force",
       [](auto& d) { ASSERT_FALSE(clitest::special_file(d, "zero").empty()); }, run_to("zero", {"--force"}), 2,
       "chacra writes only regular files"},
      {"output is a hard link to the scenario, --force",
       [](auto& d) { text(d, "s.yaml", "run.years: 3\n"), fs::create_hard_link(d + "/s.yaml", d + "/out.h5"); },
       [] { auto a = run_to("out.h5", {"--force"}); a.insert(a.begin() + 1, "s.yaml"); return a; }(), 2,
       "is the scenario s.yaml itself"},
      {"partial of a damaged file, --resume", [](auto& d) { text(d, "out.h5.partial", kHdf5Signature + "garbage"); },
       run_to("out.h5", {"--resume"}), 2, "cannot be read as an HDF5 file"},
      {"partial of another seed, --resume", [](auto& d) { earlier_output(d, "out.h5.partial"); },
       run_to("out.h5", {"--resume", "--seed", "99"}), 2, "different scenario or settings"},
      {"--resume with nothing to resume", nullptr, run_to("out.h5", {"--resume"}), 0, "", nullptr, wrote("out.h5")},
      {"export into a link to an earlier export, --force",
       [](auto& d) {
         fs::create_directory(d + "/real");
         text(d + "/real", "codebook.csv", "x\n");
         link(d, "real", "csv");
         earlier_output(d, "in.h5");
       },
       {"export", "in.h5", "--csv", "csv", "--force", "--no-panel"}, 2, "is not a previous chacra export"},
      {"export into a regular file", [](auto& d) { text(d, "csv", "mine\n"), earlier_output(d, "in.h5"); },
       {"export", "in.h5", "--csv", "csv", "--force", "--no-panel"}, 2, "not a previous chacra export"},
      {"export of a file that is not HDF5", [](auto& d) { text(d, "in.h5", "not hdf5\n"); },
       {"export", "in.h5", "--csv", "csv"}, 1, "cannot export in.h5"},
      {"scenario name of dots only gives chacra.h5", [](auto& d) { text(d, "s.yaml", "name: \"...\"\n"); },
       [] { auto a = run_to("x"); a.erase(a.begin() + 1, a.begin() + 3); a.insert(a.begin() + 1, "s.yaml"); return a; }(),
       0, "", nullptr, wrote("chacra.h5", {"s.yaml"})},
      {"scenario name with separators stays in the directory",
       [](auto& d) { text(d, "s.yaml", "name: \"a/../../b c\"\n"); },
       [] { auto a = run_to("x"); a.erase(a.begin() + 1, a.begin() + 3); a.insert(a.begin() + 1, "s.yaml"); return a; }(),
       0, "", nullptr, wrote("a_.._.._b_c.h5", {"s.yaml"})},
  };
  run_cases("files", cases);
}

// ---- processes: other writers, closed standard streams ----

// Holds an exclusive flock on dir/name (created as HDF5's signature when missing) from a child process for a
// few seconds, as another chacra run would.
std::function<void(const std::string&)> held(const std::string& name) {
  return [name](const std::string& dir) {
    if (!fs::exists(dir + "/" + name)) text(dir, name, kHdf5Signature);
    const std::string cmd = "flock -x '" + dir + "/" + name + "' sleep 8 > /dev/null 2>&1 < /dev/null & sleep 0.3";
    ASSERT_EQ(shell(cmd), 0);
  };
}

TEST(HostileEnvironment, Processes) {
  std::vector<Case> cases = {
      {"partial locked by another process", held("out.h5.partial"), run_to("out.h5"), 1,
       "another chacra process is writing out.h5"},
      {"partial locked by another process, --force", held("out.h5.partial"), run_to("out.h5", {"--force"}), 1,
       "another chacra process is writing out.h5"},
      {"partial locked by another process, --resume", held("out.h5.partial"), run_to("out.h5", {"--resume"}), 1,
       "another chacra process is writing out.h5"},
      {"resume's file locked by another process", held("out.h5.partial.new"), run_to("out.h5", {"--force"}), 1,
       "another chacra process is writing out.h5"},
      {"HDF5's own locking switched off does not let a second writer in", held("out.h5.partial"), run_to("out.h5"), 1,
       "another chacra process is writing", env("HDF5_USE_FILE_LOCKING", "FALSE")},
  };
  run_cases("processes", cases);
  // Standard streams closed or broken: printing commands fail with 1, and a closed stdin is no problem.
  const auto dir = clitest::temp_dir("streams");
  const std::string chacra = "'" + clitest::chacra() + "'";
  EXPECT_EQ(shell("cd '" + dir + "' && " + chacra + " params >&- 2>/dev/null"), 1) << "stdout closed";
  EXPECT_EQ(shell("cd '" + dir + "' && " + chacra + " params --format json >&- 2>/dev/null"), 1) << "stdout closed, json";
  EXPECT_EQ(shell("cd '" + dir + "' && " + chacra + " --version >&- 2>/dev/null"), 1) << "--version, stdout closed";
  EXPECT_EQ(shell("cd '" + dir + "' && " + chacra + " run -o out.h5 --set population.households=-5 2>&- >/dev/null"), 2)
      << "stderr closed: the status still says bad input";
  EXPECT_EQ(shell("cd '" + dir + "' && " + chacra +
                  " run -o in.h5 --quiet --set population.households=1500 --set population.districts=6 "
                  "--set run.years=3 --set run.replicates=1 <&-"),
            0)
      << "stdin closed";
  // A reader that goes away: with SIGPIPE ignored the write fails with EPIPE, which is a failure too.
  ASSERT_EQ(shell("cd '" + dir + "' && trap '' PIPE && { " + chacra + " params 2>/dev/null; echo $? > rc; } | head -c 1 > /dev/null"),
            0);
  EXPECT_EQ(clitest::read_text(dir + "/rc"), "1\n") << "broken pipe";
}

// ---- limits: file size, open files, stack, memory ----

TEST(HostileEnvironment, Limits) {
  std::vector<Case> cases = {
      {"file-size limit below the smallest output", nullptr, run_to("out.h5"), 2, "more than the file-size limit",
       prlimit("--fsize=4096")},
      {"file-size limit hit while writing", nullptr, run_to("out.h5"), 1, "out.h5",
       [](SpawnOptions& o) { o.max_file_bytes = 640 << 10, o.ignore_sigxfsz = true; }},
      {"file-size limit hit while writing, SIGXFSZ default", nullptr, run_to("out.h5"), 1, "out.h5",
       [](SpawnOptions& o) { o.max_file_bytes = 640 << 10; }},
      {"ten open files", nullptr, run_to("out.h5"), 0, "", prlimit("--nofile=10"), wrote("out.h5")},
      {"64 KiB stack runs", nullptr, run_to("out.h5"), 0, "", prlimit("--stack=65536"), wrote("out.h5")},
      {"memory limit of one byte", nullptr, run_to("out.h5"), 2, "more than 90% of the memory available",
       env("CHACRA_MEMORY_LIMIT_BYTES", "1")},
      {"memory limit not a number", nullptr, run_to("out.h5"), 2, "CHACRA_MEMORY_LIMIT_BYTES must be a positive",
       env("CHACRA_MEMORY_LIMIT_BYTES", "lots")},
      {"address space too small for the threads", nullptr, run_to("out.h5", {"--threads", "64"}), 1, "",
       prlimit("--as=" + std::to_string(40u << 20))},
  };
  run_cases("limits", cases);
}

// ---- signals: killed runs, and what the next run does with their leftovers ----

// Starts a run, kills it with `sig` once its partial file exists and some time has passed.
// Whether the HDF5 file at `path` opens and holds the run header (its provenance group): chacra flushes the header
// right after creating OUT.partial, and only from then on is the partial file resumable. Opened without HDF5's
// file lock, which the writing chacra holds.
bool holds_run_header(const std::string& path) {
  const hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_file_locking(fapl, false, true);
  bool found = false;
  H5E_BEGIN_TRY {
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl);
    if (f >= 0) {
      found = H5Lexists(f, "provenance", H5P_DEFAULT) > 0;
      H5Fclose(f);
    }
  }
  H5E_END_TRY;
  H5Pclose(fapl);
  return found;
}

// Starts the built-in scenario and sends `sig` `after_seconds` after its partial file holds the run header (under
// heavy load the header's flush can come later than the file's creation by more than the delay itself).
void start_and_kill(const std::string& dir, int sig, double after_seconds) {
  const clitest::Child c = clitest::spawn(
      {"run", "-o", "out.h5", "--quiet", "--set", "population.households=4000", "--set", "population.districts=12",
       "--set", "run.replicates=2"},
      clitest::in_dir(dir));
  const auto start = std::chrono::steady_clock::now();
  while (!holds_run_header(dir + "/out.h5.partial") && clitest::running(c) &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(clitest::running(c)) << "the run ended before its partial file held the run header";
  std::this_thread::sleep_for(std::chrono::duration<double>(after_seconds));
  kill(c.pid, sig);
  clitest::wait_exit(c, 30);
  clitest::kill_and_reap(c);
}

TEST(HostileEnvironment, Signals) {
  // The built-in scenario on 4,000 households: a few seconds with its household economy (as 6,000 took without it).
  const std::vector<std::string> longer = {"--set", "population.households=4000", "--set", "population.districts=12",
                                           "--set", "run.replicates=2", "--quiet"};
  auto again = [&](std::vector<std::string> more) {
    std::vector<std::string> a = {"run", "-o", "out.h5"};
    a.insert(a.end(), longer.begin(), longer.end());
    a.insert(a.end(), more.begin(), more.end());
    return a;
  };
  std::vector<Case> cases = {
      {"after SIGKILL a plain run is refused", [](auto& d) { start_and_kill(d, SIGKILL, 0.5); }, again({}), 2,
       "holds the progress of an interrupted run"},
      {"after SIGKILL --resume finishes", [](auto& d) { start_and_kill(d, SIGKILL, 0.5); }, again({"--resume"}), 0, "",
       nullptr, wrote("out.h5")},
      {"after SIGKILL --force starts over", [](auto& d) { start_and_kill(d, SIGKILL, 0.2); }, again({"--force"}), 0, "",
       nullptr, wrote("out.h5")},
      {"after SIGHUP --resume finishes", [](auto& d) { start_and_kill(d, SIGHUP, 0.5); }, again({"--resume"}), 0, "",
       nullptr, wrote("out.h5")},
      {"after SIGQUIT --resume finishes", [](auto& d) { start_and_kill(d, SIGQUIT, 0.3); }, again({"--resume"}), 0, "",
       nullptr, wrote("out.h5")},
  };
  run_cases("signals", cases);
  // A SIGTERM at once (before the output is open) leaves nothing.
  const auto dir = clitest::temp_dir("early_term");
  const clitest::Child c = clitest::spawn(again({}), clitest::in_dir(dir));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  kill(c.pid, SIGTERM);
  const Exit r = clitest::wait_exit(c, 10);
  if (r.timed_out) clitest::kill_and_reap(c);
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.status(), 143) << r.out;
  EXPECT_TRUE(clitest::listing(dir).empty() || clitest::listing(dir) == std::set<std::string>{"out.h5.partial"})
      << "at most the partial file";
}

// ---- environment: variables, locale, the working directory ----

TEST(HostileEnvironment, Environment) {
  std::vector<Case> cases = {
      {"HOME empty", nullptr, run_to("out.h5"), 0, "", env("HOME", ""), wrote("out.h5")},
      {"a Turkish locale", nullptr, run_to("out.h5"), 0, "", env("LC_ALL", "tr_TR.UTF-8"), wrote("out.h5")},
      {"a missing TMPDIR", nullptr, run_to("out.h5"), 0, "", env("TMPDIR", "/nonexistent/tmp"), wrote("out.h5")},
      {"a nonsense time zone", nullptr, run_to("out.h5"), 0, "", env("TZ", "Nowhere/Nothing"), wrote("out.h5")},
      {"a bogus HDF5 plugin path", nullptr, run_to("out.h5"), 0, "", env("HDF5_PLUGIN_PATH", "/nonexistent"),
       wrote("out.h5")},
      {"an empty PATH", nullptr, run_to("out.h5"), 0, "", env("PATH", ""), wrote("out.h5")},
      {"the working directory removed", [](auto& d) { fs::create_directory(d + "/gone"); },
       run_to("out.h5"), 1, "cannot create files in .",
       [](SpawnOptions& o) {
         o.prefix = {"sh", "-c", "cd gone && rmdir ../gone && exec \"$0\" \"$@\""};
       },
       [](const std::string& d) { EXPECT_TRUE(clitest::listing(d).empty()); }},
  };
  run_cases("environment", cases);
}

}  // namespace
