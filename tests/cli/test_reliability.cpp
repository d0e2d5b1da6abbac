// Reliability of the chacra command line against hostile input, interruption, faults and resource limits
// (docs/reliability.md). Every case runs the real executable in a fresh directory and checks the exit
// status, the message (naming the key and line), and that nothing was written or damaged.
#include "cli_helpers.hpp"
#include "process_helpers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using clitest::Exit;
using clitest::listing;
using clitest::run_child;
using clitest::SpawnOptions;

namespace {

using clitest::contains;
using clitest::with;
const std::vector<std::string>& kSmall = clitest::kSmallArgs;


// The "# expect: " lines of a corpus file: each must appear in the error output. One starting with ':'
// is a position (":LINE:COL: key: message") and is prefixed with the file's name.
std::vector<std::string> expectations(const std::string& file_name, const std::string& text) {
  std::vector<std::string> out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# expect: ", 0) != 0) continue;
    std::string e = line.substr(10);
    if (!e.empty() && e.front() == ':') e = file_name + e;
    out.push_back(e);
  }
  return out;
}

// Runs `chacra run FILE -o out.h5` (and `chacra validate FILE`) on `text` saved as `name` in a fresh
// directory, and checks: exit status 2, every expected text in the output, and no file written.
void expect_rejected(const std::string& name, const std::string& text, const std::vector<std::string>& expected,
                     const std::string& what) {
  SCOPED_TRACE(what);
  const auto dir = clitest::temp_dir("hostile_" + std::to_string(std::hash<std::string>{}(name + text)));
  clitest::write_file(dir, name, text);
  const auto before = listing(dir);
  const Exit r = run_child({"run", name, "-o", "out.h5", "--quiet"}, clitest::in_dir(dir), 60);
  EXPECT_TRUE(r.exited) << "killed by signal " << r.signal << "\n" << r.out;
  EXPECT_EQ(r.status(), 2) << r.out;
  for (const auto& e : expected) EXPECT_TRUE(contains(r.out, e)) << "wanted: " << e << "\ngot: " << r.out;
  EXPECT_EQ(listing(dir), before) << "nothing may be written for bad input";
  EXPECT_LT(r.seconds, 10.0) << "bad input must be refused quickly";
  const Exit v = run_child({"validate", name}, clitest::in_dir(dir), 60);
  EXPECT_EQ(v.status(), 2) << v.out;
}

// Runs `chacra run ARGS -o out.h5` on the built-in scenario and checks exit 2, the texts, nothing written.
void expect_bad_arguments(const std::vector<std::string>& args, const std::vector<std::string>& expected) {
  std::string shown;
  for (const auto& a : args) shown += (a.size() > 60 ? a.substr(0, 60) + "..." : a) + " ";
  SCOPED_TRACE(shown);
  const auto dir = clitest::temp_dir("badargs");
  std::vector<std::string> full = {"run", "-o", "out.h5", "--quiet"};
  full.insert(full.end(), args.begin(), args.end());
  const Exit r = run_child(full, clitest::in_dir(dir), 60);
  EXPECT_EQ(r.status(), 2) << r.out;
  for (const auto& e : expected) EXPECT_TRUE(contains(r.out, e)) << "wanted: " << e << "\ngot: " << r.out;
  EXPECT_TRUE(listing(dir).empty()) << "nothing may be written for bad input";
}

// ---- 1. Hostile configuration input ----

// tests/cli/data/hostile/*.yaml: each file states its expected messages in '# expect: ' lines.
TEST(ReliabilityHostile, CorpusFilesFailWithTheirMessages) {
  const fs::path dir = fs::path(CHACRA_SOURCE_DIR) / "tests/cli/data/hostile";
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  std::size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    const std::string name = entry.path().filename().string();
    const std::string text = clitest::read_text(entry.path().string());
    const auto expected = expectations(name, text);
    EXPECT_FALSE(expected.empty()) << name << " has no '# expect: ' line";
    expect_rejected(name, text, expected, name);
  }
  EXPECT_GE(files, 20u);
}

// Inputs that cannot carry '# expect: ' comments: empty, binary, other encodings, oversized.
TEST(ReliabilityHostile, GeneratedFilesFailWithTheirMessages) {
  expect_rejected("empty.yaml", "", {"empty.yaml: the scenario is empty"}, "empty file");
  expect_rejected("blank.yaml", "\n   \n# only a comment\n\n", {"the scenario is empty"}, "comments only");
  std::string elf = "\x7f" "ELF\x02\x01\x01";
  elf += std::string("\0\0\0\0\0\0\0\0\0\x03\0\x3e\0", 13);
  expect_rejected("binary.yaml", elf, {"binary.yaml:1:1: control character U+007F"}, "an executable");
  std::string junk;
  std::uint32_t x = 12345;
  for (int i = 0; i < 4096; ++i) {
    x = x * 1664525u + 1013904223u;
    junk += static_cast<char>(0x80 | (x >> 24));  // never ASCII: fails as UTF-8 on the first byte
  }
  expect_rejected("junk.yaml", junk, {"junk.yaml:1:1: invalid UTF-8"}, "random high bytes");
  const char utf16[] = "\xff\xfer\0u\0n\0.\0y\0:\0 \0\x33\0\n\0";
  expect_rejected("utf16.yaml", std::string(utf16, sizeof utf16 - 1),
                  {"utf16.yaml:1:1: invalid UTF-8 (byte 0xFF)"}, "UTF-16 with a byte-order mark");
  expect_rejected("utf16nobom.yaml", std::string("r\0u\0n\0", 6), {"utf16nobom.yaml:1:2: the file contains a NUL byte"},
                  "UTF-16 without a byte-order mark");
  expect_rejected("latin1.yaml", "name: Haku Wi\xf1" "ay\n", {"latin1.yaml:1:14: invalid UTF-8 (byte 0xF1)"},
                  "Latin-1 text");
  expect_rejected("scalar.yaml", "42\n", {"expected a map (name, description, arms and parameters) at the top level"},
                  "a bare number");
  std::string huge;
  while (huge.size() <= (16u << 20)) huge += "# padding comment line of a scenario that is far too large\n";
  expect_rejected("huge.yaml", huge, {"huge.yaml: the scenario is too large"}, "a file over 16 MiB");
  std::string arms = "arms:\n";
  for (int i = 0; i <= 10000; ++i) arms += "  - name: a" + std::to_string(i) + "\n";
  expect_rejected("many_arms.yaml", arms, {"arms: too many arms (10001; at most 10000)"}, "10001 arms");
  std::string keys;
  for (int i = 0; i < 500; ++i) keys += "unknown_" + std::to_string(i) + ": 1\n";
  expect_rejected("many_keys.yaml", keys, {"101 problems", "many_keys.yaml:1:1: unknown_0: unknown key",
                                           "too many problems; stopped after 100"}, "500 unknown keys");
  std::string wide = "run: [";
  for (int i = 0; i < 200000; ++i) wide += "1, ";
  wide += "1]\n";
  expect_rejected("wide.yaml", wide, {"wide.yaml:1:6: run: 'run' is a section; expected a map of its parameters"},
                  "a 200000-element list");
}

TEST(ReliabilityHostile, PathsThatAreNotScenarioFiles) {
  struct Case {
    std::string path;
    std::string expected;
  };
  // An empty path (`chacra run "$UNSET"`) must not silently run the built-in scenario.
  for (const Case& c : {Case{"a_directory", "a_directory: cannot read the scenario: it is a directory"},
                        Case{"missing.yaml", "missing.yaml: cannot read the scenario: no such file"},
                        Case{"", "scenario"},
                        Case{"/dev/null", "/dev/null: the scenario is empty"},
                        Case{"/dev/zero", "/dev/zero: the scenario is too large"}}) {
    SCOPED_TRACE("scenario path '" + c.path + "'");
    const auto dir = clitest::temp_dir("paths");
    fs::create_directory(dir + "/a_directory");
    const auto before = listing(dir);
    const Exit r = run_child({"run", c.path, "-o", "out.h5", "--quiet"}, clitest::in_dir(dir), 120);
    EXPECT_EQ(r.status(), 2) << r.out;
    EXPECT_TRUE(contains(r.out, c.expected)) << r.out;
    EXPECT_EQ(listing(dir), before);
    const Exit v = run_child({"validate", c.path}, clitest::in_dir(dir), 120);
    EXPECT_EQ(v.status(), 2) << v.out;
  }
  if (geteuid() != 0) {  // root reads files whatever their permission bits
    const auto dir = clitest::temp_dir("unreadable");
    clitest::write_file(dir, "secret.yaml", "run.years: 3\n");
    fs::permissions(dir + "/secret.yaml", fs::perms::none);
    const Exit r = run_child({"run", "secret.yaml", "-o", "out.h5"}, clitest::in_dir(dir), 60);
    EXPECT_EQ(r.status(), 2) << r.out;
    EXPECT_TRUE(contains(r.out, "secret.yaml: cannot read the scenario")) << r.out;
    EXPECT_FALSE(fs::exists(dir + "/out.h5"));
  }
}

// "--" ends the options: a scenario whose name starts with '-' can be given after it.
TEST(ReliabilityHostile, DoubleDashEndsTheOptions) {
  const auto dir = clitest::temp_dir("double_dash");
  clitest::write_file(dir, "-odd.yaml", "run.years: 3\n");
  const Exit v = run_child({"validate", "--", "-odd.yaml"}, clitest::in_dir(dir), 60);
  EXPECT_EQ(v.status(), 0) << v.out;
  const Exit r = run_child(with({"run", "-o", "out.h5"}, with(kSmall, {"--", "-odd.yaml"})), clitest::in_dir(dir), 120);
  EXPECT_EQ(r.status(), 0) << r.out;
  EXPECT_TRUE(fs::exists(dir + "/out.h5"));
}

TEST(ReliabilityHostile, SetOverridesAndOptions) {
  expect_bad_arguments({"--set", "population.households=1000000000000"},
                       {"--set: population.households: expected an integer in [1, 100000000]", "got 1000000000000"});
  expect_bad_arguments({"--set", "population.households=1e12"}, {"--set: population.households:", "got 1000000000000"});
  expect_bad_arguments({"--set", "population.households=-5"}, {"--set: population.households:", "got -5"});
  expect_bad_arguments({"--set", "population.seed=99999999999999999999999"},
                       {"--set: population.seed:", "out of the range of a 64-bit integer"});
  expect_bad_arguments({"--set", "juntos.transfer_pen=nan"}, {"--set: juntos.transfer_pen:", "(not a number)"});
  expect_bad_arguments({"--set", "juntos.transfer_pen=.inf"}, {"--set: juntos.transfer_pen:", "infinite values"});
  expect_bad_arguments({"--set", "juntos.transfer_pen=-inf"}, {"--set: juntos.transfer_pen:", "infinite values"});
  expect_bad_arguments({"--set", "juntos.transfer_pen=1e400"}, {"--set: juntos.transfer_pen:", "out of the range of a double"});
  expect_bad_arguments({"--set", "run.years=[1, 2]"}, {"--set: run.years:", "got a list"});
  expect_bad_arguments({"--set", "run.years={a: 1}"}, {"--set: run.years:", "got a map"});
  expect_bad_arguments({"--set", "run.years="}, {"--set: run.years:", "got nothing"});
  expect_bad_arguments({"--set", "output.panel=maybe"}, {"--set: output.panel: expected true or false"});
  expect_bad_arguments({"--set", "output.frequency=monthli"}, {"did you mean 'monthly'?"});
  expect_bad_arguments({"--set", "output.variables=[a, [b]]"}, {"--set: output.variables:"});
  expect_bad_arguments({"--set", "juntos.transfer_pen=&a [*a]"}, {"--set: juntos.transfer_pen:", "got a list"});
  expect_bad_arguments({"--set", "no_equals_sign"}, {"--set: no_equals_sign: expected 'dotted.path=value'"});
  expect_bad_arguments({"--set", "=5"}, {"expected 'dotted.path=value'"});
  expect_bad_arguments({"--set", "arms..x=1"}, {"expected 'arms.NAME.dotted.path=value'"});
  expect_bad_arguments({"--set", "juntos=1"}, {"--set: juntos: 'juntos' is a section, not a parameter"});
  expect_bad_arguments({"--set", "juntos.transfer=1"}, {"--set: juntos.transfer: unknown key", "juntos.transfer_pen"});
  // References to arms that do not exist, and contradictions between an arm and the shared settings.
  expect_bad_arguments({"--set", "run.reference_arm=placebo"},
                       {"--set: run.reference_arm: no arm is named 'placebo'", "no_programme"});
  expect_bad_arguments({"--set", "arms.placebo.juntos.enabled=false"},
                       {"--set: arms.placebo.juntos.enabled: no arm is named 'placebo'"});
  expect_bad_arguments({"--set", "arms.both.population.households=5"},
                       {"--set: arms.both.population.households: arms share one population"});
  expect_bad_arguments({"--set", "arms.both.run.years=20"}, {"arms share one calendar and run settings"});
  expect_bad_arguments({"--set", "population.districts=30000", "--set", "population.households=20000"},
                       {"population.districts cannot exceed population.households"});
  // Hostile text: control characters and oversized values.
  expect_bad_arguments({"--set", "name=\x1b[2J"}, {"--set: name: control character U+001B"});
  expect_bad_arguments({"--set", "description=caf\xe9"}, {"--set: description: invalid UTF-8"});
  expect_bad_arguments({"--set", "name=" + std::string(100000, 'x')}, {"--set: name: the value is too long"});
  // --set follows the file's rules: a list is not a text, a value is one YAML document.
  expect_bad_arguments({"--set", "name=[a, b]"}, {"--set: name: expected a text, got a list"});
  expect_bad_arguments({"--set", "run.years=5\n---\n6"}, {"--set: run.years: the value holds more than one YAML document"});
  expect_bad_arguments({"--set", "description=a\n---\nb"}, {"--set: description: the value holds more than one YAML"});
  // Options.
  expect_bad_arguments({"--replicates", "-5"}, {"--replicates expects a whole number in [1, 1000000], got '-5'"});
  expect_bad_arguments({"--replicates", "1000000000000"}, {"--replicates expects a whole number"});
  expect_bad_arguments({"--replicates", "200000"}, {"run.replicates: expected an integer in [1, 100000]"});
  expect_bad_arguments({"--threads", "0"}, {"--threads expects a whole number in [1, 4096], got '0'"});
  expect_bad_arguments({"--seed", "-1"}, {"--seed expects a whole number"});
  expect_bad_arguments({"--seed", "1e3"}, {"--seed expects a whole number"});
  expect_bad_arguments({"--output"}, {"--output needs a value"});
}

// ---- 4. Interruption and resume ----

// A run of a few seconds: the built-in scenario's arms, two replicates, on a smaller population (4,000 households:
// with the household economy the default scenario costs about 1.6 times what it did without it at 6,000).
const std::vector<std::string> kInterruptible = {"--set", "population.households=4000", "--set",
                                                 "population.districts=12", "--set", "run.replicates=2",
                                                 "--quiet"};


// Interrupts a run with `sig` part-way, checks the exit and the partial file, then resumes it and checks
// that the result equals an uninterrupted run's.
void interrupt_and_resume(int sig, const std::string& name) {
  const auto dir = clitest::temp_dir(name);
  const Exit reference = run_child(with({"run", "-o", "reference.h5"}, kInterruptible), clitest::in_dir(dir), 300);
  ASSERT_EQ(reference.status(), 0) << reference.out;

  const clitest::Child child = clitest::spawn(with({"run", "-o", "out.h5"}, kInterruptible), clitest::in_dir(dir));
  // Signal once the output is open (the handlers are installed by then) and about a third of the
  // reference run's time has passed, so that some arm x replicate units are complete and some not.
  const auto start = std::chrono::steady_clock::now();
  const double signal_at = std::max(0.3, reference.seconds / 3);
  while (!fs::exists(dir + "/out.h5.partial") && clitest::running(child) &&
         std::chrono::steady_clock::now() - start < std::chrono::seconds(60))
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < signal_at)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(clitest::running(child)) << "the run ended before it could be interrupted; make it longer\n"
                                       << clitest::wait_exit(child, 1).out;
  ASSERT_EQ(kill(child.pid, sig), 0);
  const Exit r = clitest::wait_exit(child, 2.0);
  if (r.timed_out) clitest::kill_and_reap(child);
  ASSERT_FALSE(r.timed_out) << "no exit within 2 s of the signal\n" << r.out;
  EXPECT_TRUE(r.exited) << "killed by signal " << r.signal << " instead of exiting\n" << r.out;
  EXPECT_EQ(r.status(), 128 + sig) << r.out;
  EXPECT_TRUE(contains(r.out, "interrupted by signal " + std::to_string(sig))) << r.out;
  EXPECT_TRUE(contains(r.out, "--resume")) << r.out;
  EXPECT_FALSE(fs::exists(dir + "/out.h5")) << "an interrupted run must not leave a complete-looking output";
  ASSERT_TRUE(fs::exists(dir + "/out.h5.partial"));

  if (sig == SIGTERM) {
    // Resuming with other settings is refused, and the partial file is kept as it was.
    const auto size = fs::file_size(dir + "/out.h5.partial");
    const Exit other = run_child(with({"run", "-o", "out.h5", "--resume", "--seed", "99"}, kInterruptible),
                                 clitest::in_dir(dir), 300);
    EXPECT_EQ(other.status(), 2) << other.out;
    EXPECT_TRUE(contains(other.out, "different scenario or settings")) << other.out;
    EXPECT_FALSE(fs::exists(dir + "/out.h5"));
    ASSERT_TRUE(fs::exists(dir + "/out.h5.partial"));
    EXPECT_EQ(fs::file_size(dir + "/out.h5.partial"), size);
  }

  const Exit resumed = run_child(with({"run", "-o", "out.h5", "--resume"}, kInterruptible), clitest::in_dir(dir), 300);
  ASSERT_EQ(resumed.status(), 0) << resumed.out;
  EXPECT_TRUE(fs::exists(dir + "/out.h5"));
  EXPECT_FALSE(fs::exists(dir + "/out.h5.partial"));
  EXPECT_TRUE(clitest::same_arms(dir + "/reference.h5", dir + "/out.h5"))
      << "a resumed run must equal an uninterrupted one (h5diff /arms)";
  // The file records that it was resumed (so this was not a fresh run).
  const std::string cmd = "h5dump -a /provenance/resumed_time '" + dir + "/out.h5' > /dev/null 2>&1";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << "no /provenance/resumed_time attribute";
}

TEST(ReliabilityInterrupt, SigintExits130AndResumeMatchesAnUninterruptedRun) {
  interrupt_and_resume(SIGINT, "sigint");
}

TEST(ReliabilityInterrupt, SigtermExits143AndResumeMatchesAnUninterruptedRun) {
  interrupt_and_resume(SIGTERM, "sigterm");
}

// ---- 5. Faults: unwritable output, full disk ----


// An output path that cannot be a file (under a regular file, a directory) is bad input found before any work.
TEST(ReliabilityFaults, OutputUnderARegularFileIsRefusedBeforeRunning) {
  const auto dir = clitest::temp_dir("under_file");
  clitest::write_file(dir, "somefile", "not a directory\n");
  const auto before = listing(dir);
  const Exit r = run_child(with({"run", "-o", "somefile/x.h5"}, kSmall), clitest::in_dir(dir), 120);
  EXPECT_EQ(r.status(), 2) << r.out;
  EXPECT_TRUE(contains(r.out, "somefile is not a directory")) << r.out;
  EXPECT_TRUE(contains(r.out, "somefile/x.h5")) << r.out;
  EXPECT_EQ(listing(dir), before);
  EXPECT_EQ(clitest::read_text(dir + "/somefile"), "not a directory\n");
}

TEST(ReliabilityFaults, OutputInProcIsARuntimeError) {
  if (!fs::is_directory("/proc/self")) GTEST_SKIP() << "no /proc";
  const auto dir = clitest::temp_dir("proc");
  const Exit r = run_child(with({"run", "-o", "/proc/x.h5"}, kSmall), clitest::in_dir(dir), 120);
  EXPECT_EQ(r.status(), 1) << r.out;
  EXPECT_TRUE(contains(r.out, "/proc/x.h5")) << r.out;
  EXPECT_TRUE(listing(dir).empty());
}

TEST(ReliabilityFaults, OutputThatIsADirectoryIsNeverReplaced) {
  const auto dir = clitest::temp_dir("outdir");
  fs::create_directory(dir + "/out.h5");
  clitest::write_file(dir + "/out.h5", "inside.txt", "kept\n");
  Exit r = run_child(with({"run", "-o", "out.h5"}, kSmall), clitest::in_dir(dir), 120);
  EXPECT_EQ(r.status(), 2) << r.out;  // exists: needs --force
  r = run_child(with({"run", "-o", "out.h5", "--force"}, kSmall), clitest::in_dir(dir), 120);
  EXPECT_EQ(r.status(), 2) << r.out;
  EXPECT_TRUE(contains(r.out, "never replaces a directory")) << r.out;
  EXPECT_TRUE(contains(r.out, "out.h5")) << r.out;
  EXPECT_TRUE(fs::is_directory(dir + "/out.h5"));
  EXPECT_EQ(clitest::read_text(dir + "/out.h5/inside.txt"), "kept\n");
  EXPECT_EQ(listing(dir), std::set<std::string>{"out.h5"});
}

// The file-size limit (RLIMIT_FSIZE, `ulimit -f`) stands in for a full disk. `ignore_sigxfsz` chooses how
// the process meets it: with SIGXFSZ ignored writes fail with EFBIG (as they fail with ENOSPC on a full
// disk); with the default disposition chacra itself must see to it that it is not killed.
void full_disk(bool ignore_sigxfsz, rlim_t limit, bool previous_output) {
  SCOPED_TRACE("limit " + std::to_string(limit) + (ignore_sigxfsz ? ", SIGXFSZ ignored" : ", SIGXFSZ default") +
               (previous_output ? ", replacing an older output with --force" : ""));
  const auto dir = clitest::temp_dir("full_disk");
  clitest::write_file(dir, "unrelated.txt", "an unrelated file that must not be touched\n");
  // An earlier output (HDF5's signature: --force replaces nothing else).
  const std::string previous = std::string("\x89HDF\r\n\x1a\n", 8) + "the previous output, kept until a new one is complete\n";
  if (previous_output) clitest::write_file(dir, "out.h5", previous);
  const auto before = listing(dir);
  auto args = with({"run", "-o", "out.h5"}, kSmall);
  if (previous_output) args.push_back("--force");
  SpawnOptions opts = clitest::in_dir(dir);
  opts.max_file_bytes = limit;
  opts.ignore_sigxfsz = ignore_sigxfsz;
  const Exit r = run_child(args, opts, 120);
  EXPECT_TRUE(r.exited) << "chacra was killed by signal " << r.signal
                        << (r.signal == SIGXFSZ ? " (SIGXFSZ: it must ignore it and report the write error)" : "")
                        << "\n" << r.out;
  EXPECT_EQ(r.status(), 1) << r.out;
  EXPECT_TRUE(contains(r.out, "out.h5")) << "the error must name the output\n" << r.out;
  EXPECT_EQ(listing(dir), before) << "no partial or complete-looking output may be left";
  EXPECT_EQ(clitest::read_text(dir + "/unrelated.txt"), "an unrelated file that must not be touched\n");
  if (previous_output) {
    EXPECT_EQ(clitest::read_text(dir + "/out.h5"), previous);
  }
}

TEST(ReliabilityFaults, FullDiskIsARuntimeErrorAndDamagesNothing) {
  // 800 KiB: past the least the output can take (about 580 KiB for the eleven arms of the default scenario;
  // refused before the run below that), fails early in the run; 2 MiB: part-way through the panel.
  full_disk(true, 800 << 10, true);
  full_disk(true, 2 << 20, false);
}

TEST(ReliabilityFaults, FileSizeLimitDoesNotKillChacra) {
  full_disk(false, 800 << 10, true);
  full_disk(false, 2 << 20, false);
}

// ---- 6. Resource guards ----

TEST(ReliabilityResources, MemoryGuardRefusesBeforeAllocating) {
  const auto dir = clitest::temp_dir("memory");
  SpawnOptions opts = clitest::in_dir(dir);
  opts.env = {{"CHACRA_MEMORY_LIMIT_BYTES", "100000000"}};
  // No panel: the output of 10 million households would not fit on most disks either, and the disk check
  // comes first; this test is about memory.
  const Exit r = run_child({"run", "-o", "out.h5", "--set", "population.households=10000000", "--set",
                            "output.panel=false"},
                           opts, 60);
  EXPECT_EQ(r.status(), 2) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("needs about [0-9]+ MiB \\(10000000 households x [0-9]+ bytes\\)")))
      << r.out;
  EXPECT_TRUE(contains(r.out, "(95 MiB)")) << "the message must name the limit\n" << r.out;
  EXPECT_TRUE(listing(dir).empty());
  EXPECT_LT(r.seconds, 10.0);
  // 10 million households need gigabytes; refusing must not have touched more than a little of it.
  EXPECT_LT(r.max_rss_kib, 400 * 1024) << "peak RSS " << r.max_rss_kib << " KiB";
}

// A run whose comparison would not fit in the memory left keeps its complete panel without /comparison
// (rather than being killed at the end), says so, and `chacra compare` computes the table afterwards.
TEST(ReliabilityResources, ComparisonThatDoesNotFitIsSkippedAndCanBeComputedLater) {
  const auto dir = clitest::temp_dir("comparison_memory");
  SpawnOptions opts = clitest::in_dir(dir);
  // 17 MiB: room for the memory guard's estimate of 10,000 households (about 14.5 MiB with the household
  // economy's, the reach's and the graduation route's columns), none left for the comparison once the process
  // holds its libraries and world.
  opts.env = {{"CHACRA_MEMORY_LIMIT_BYTES", std::to_string(17 << 20)}};
  const std::vector<std::string> small = {"--set", "population.households=10000", "--set", "population.districts=20",
                                          "--set", "run.years=2", "--replicates", "1"};
  std::vector<std::string> args = {"run", "-o", "out.h5"};
  args.insert(args.end(), small.begin(), small.end());
  const Exit r = run_child(args, opts, 120);
  ASSERT_EQ(r.status(), 0) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("no comparison: it needs about [0-9]+ MiB for 10000 households")))
      << r.out;
  EXPECT_TRUE(contains(r.out, "run `chacra compare`")) << r.out;
  EXPECT_NE(std::system(("h5ls '" + dir + "/out.h5/comparison' > /dev/null 2>&1").c_str()), 0)
      << "no /comparison expected";
  const Exit later = run_child({"compare", "out.h5", "--format", "csv"}, clitest::in_dir(dir), 120);
  EXPECT_EQ(later.status(), 0) << later.out;
  EXPECT_TRUE(contains(later.out, "income_monetary_pen")) << later.out;
}

}  // namespace
