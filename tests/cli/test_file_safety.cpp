// The file-safety cases of docs/reliability.md ("Files", "Processes"): each test is one case a hostile user
// found (two runs on one output, planted links, directories removed, resumes that lost their progress, exit
// statuses that hid failures), run against the real executable.
#include "cli_helpers.hpp"
#include "process_helpers.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
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
using clitest::shell;
using clitest::with;
const std::vector<std::string>& kSmall = clitest::kSmallArgs;



// Long enough (a few seconds) for a second process to meet it while it writes.
const std::vector<std::string> kLonger = {"--set", "population.households=6000", "--set", "population.districts=12",
                                          "--set", "run.replicates=2", "--quiet"};


bool readable_hdf5(const std::string& path) { return shell("h5ls '" + path + "' > /dev/null 2>&1") == 0; }

// A complete output of the small scenario at dir/name (the start of several cases).
void small_output(const std::string& dir, const std::string& name) {
  const Exit r = run_child(with({"run", "-o", name}, kSmall), clitest::in_dir(dir), 120);
  ASSERT_EQ(r.status(), 0) << r.out;
}

// Case 1: a second run to the same output is refused before it touches anything; the first finishes intact.
TEST(FileSafety, SecondRunToTheSameOutputIsRefusedAndTheFirstFinishesIntact) {
  for (const bool force : {false, true}) {
    SCOPED_TRACE(force ? "second run with --force" : "second run without --force");
    const auto dir = clitest::temp_dir("concurrent");
    const clitest::Child first = clitest::spawn(with({"run", "-o", "out.h5"}, kLonger), clitest::in_dir(dir));
    const auto start = std::chrono::steady_clock::now();
    while (!fs::exists(dir + "/out.h5.partial") && clitest::running(first) &&
           std::chrono::steady_clock::now() - start < std::chrono::seconds(60))
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_TRUE(clitest::running(first)) << clitest::wait_exit(first, 1).out;
    auto args = with({"run", "-o", "out.h5"}, kLonger);
    if (force) args.push_back("--force");
    const Exit second = run_child(args, clitest::in_dir(dir), 120);
    EXPECT_EQ(second.status(), 1) << second.out;
    EXPECT_TRUE(contains(second.out, "another chacra process is writing out.h5")) << second.out;
    EXPECT_LT(second.seconds, 10.0) << "refused before any work";
    const Exit r = clitest::wait_exit(first, 300);
    if (r.timed_out) clitest::kill_and_reap(first);
    EXPECT_EQ(r.status(), 0) << r.out;
    EXPECT_TRUE(readable_hdf5(dir + "/out.h5")) << "the first run's output must be a readable HDF5 file";
    EXPECT_EQ(listing(dir), std::set<std::string>{"out.h5"});
  }
}

// Case 2: a symbolic link planted where the partial file goes is never followed.
TEST(FileSafety, PlantedLinkAtThePartialFileIsNotFollowed) {
  const auto dir = clitest::temp_dir("planted_link");
  clitest::write_file(dir, "victim.txt", "precious\n");
  fs::create_symlink("victim.txt", dir + "/out.h5.partial");
  for (const bool force : {false, true}) {
    auto args = with({"run", "-o", "out.h5"}, kSmall);
    if (force) args.push_back("--force");
    const Exit r = run_child(args, clitest::in_dir(dir), 120);
    EXPECT_EQ(r.status(), 2) << r.out;
    EXPECT_TRUE(contains(r.out, "out.h5.partial is a symbolic link")) << r.out;
    EXPECT_EQ(clitest::read_text(dir + "/victim.txt"), "precious\n");
    EXPECT_TRUE(fs::is_symlink(dir + "/out.h5.partial"));
    EXPECT_FALSE(fs::exists(fs::symlink_status(dir + "/out.h5")));
  }
}

// Case 3: `export` never removes a directory it did not create (DIR.partial, or files in DIR).
TEST(FileSafety, ExportNeverRemovesTheUsersFiles) {
  const auto dir = clitest::temp_dir("export_partial");
  small_output(dir, "run.h5");
  fs::create_directory(dir + "/out.partial");
  clitest::write_file(dir + "/out.partial", "thesis.tex", "x\n");
  for (const bool force : {false, true}) {
    auto args = std::vector<std::string>{"export", "run.h5", "--csv", "out", "--no-panel", "--quiet"};
    if (force) args.push_back("--force");
    const Exit r = run_child(args, clitest::in_dir(dir), 120);
    EXPECT_EQ(r.status(), 2) << r.out;
    EXPECT_TRUE(contains(r.out, "out.partial already exists")) << r.out;
    EXPECT_EQ(clitest::read_text(dir + "/out.partial/thesis.tex"), "x\n");
    EXPECT_FALSE(fs::exists(dir + "/out"));
  }
  // A previous export holding a file of the user's is not replaced either, even with --force.
  const Exit first = run_child({"export", "run.h5", "--csv", "prev", "--no-panel", "--quiet"}, clitest::in_dir(dir), 120);
  ASSERT_EQ(first.status(), 0) << first.out;
  clitest::write_file(dir + "/prev", "notes.txt", "mine\n");
  const Exit again =
      run_child({"export", "run.h5", "--csv", "prev", "--no-panel", "--quiet", "--force"}, clitest::in_dir(dir), 120);
  EXPECT_EQ(again.status(), 2) << again.out;
  EXPECT_TRUE(contains(again.out, "holds notes.txt")) << again.out;
  EXPECT_EQ(clitest::read_text(dir + "/prev/notes.txt"), "mine\n");
}

// Case 4: a failed --resume leaves the partial file as it found it (a full disk; a foreign HDF5 file).
TEST(FileSafety, FailedResumeKeepsThePartialFile) {
  const auto dir = clitest::temp_dir("failed_resume");
  small_output(dir, "done.h5");
  // A complete output is a partial file whose every unit is finished.
  fs::copy_file(dir + "/done.h5", dir + "/out.h5.partial");
  const std::string before = clitest::read_text(dir + "/out.h5.partial");
  SpawnOptions full = clitest::in_dir(dir);
  full.max_file_bytes = 800 << 10;  // past the least the output takes (about 580 KiB), short of all of it
  full.ignore_sigxfsz = true;
  const Exit r = run_child(with({"run", "-o", "out.h5", "--resume"}, kSmall), full, 120);
  EXPECT_EQ(r.status(), 1) << r.out;
  ASSERT_TRUE(fs::exists(dir + "/out.h5.partial")) << "the progress resumed was deleted\n" << r.out;
  EXPECT_EQ(clitest::read_text(dir + "/out.h5.partial"), before);
  EXPECT_EQ(listing(dir), (std::set<std::string>{"done.h5", "out.h5.partial"}));

  const auto other = clitest::temp_dir("foreign_partial");
  ASSERT_EQ(shell("cd '" + other + "' && /usr/bin/python3 -c \"import h5py; h5py.File('out.h5.partial', 'w')"
                  ".create_dataset('x', data=[1, 2, 3])\""), 0);
  const std::string foreign = clitest::read_text(other + "/out.h5.partial");
  const Exit f = run_child(with({"run", "-o", "out.h5", "--resume"}, kSmall), clitest::in_dir(other), 120);
  EXPECT_EQ(f.status(), 2) << f.out;
  EXPECT_TRUE(contains(f.out, "chacra did not write")) << f.out;
  EXPECT_EQ(clitest::read_text(other + "/out.h5.partial"), foreign);
}

// Case 5: --resume does not replace a complete OUT.h5 without --force.
TEST(FileSafety, ResumeDoesNotReplaceACompleteOutputWithoutForce) {
  const auto dir = clitest::temp_dir("resume_over_output");
  small_output(dir, "out.h5");
  fs::copy_file(dir + "/out.h5", dir + "/out.h5.partial");
  const std::string before = clitest::read_text(dir + "/out.h5");
  const Exit r = run_child(with({"run", "-o", "out.h5", "--resume"}, kSmall), clitest::in_dir(dir), 120);
  EXPECT_EQ(r.status(), 2) << r.out;
  EXPECT_TRUE(contains(r.out, "already exists")) << r.out;
  EXPECT_EQ(clitest::read_text(dir + "/out.h5"), before);
  EXPECT_TRUE(fs::exists(dir + "/out.h5.partial"));
}

// Case 6: an empty output name is bad input, not a run that writes nothing.
TEST(FileSafety, EmptyOutputNameIsRefused) {
  const auto dir = clitest::temp_dir("empty_output");
  const Exit r = run_child(with({"run", "-o", ""}, kSmall), clitest::in_dir(dir), 60);
  EXPECT_EQ(r.status(), 2) << r.out;
  EXPECT_TRUE(contains(r.out, "needs a file name")) << r.out;
  EXPECT_LT(r.seconds, 10.0);
  EXPECT_TRUE(listing(dir).empty());
}

// Case 7: a bit flipped inside a finished unit of a partial file is found by its checksum and the unit run again.
TEST(FileSafety, DamagedUnitOfAPartialFileIsRunAgain) {
  const auto dir = clitest::temp_dir("bit_flip");
  small_output(dir, "reference.h5");
  fs::copy_file(dir + "/reference.h5", dir + "/out.h5.partial");
  // Flip one byte of the first stored chunk of a panel dataset of the first arm.
  const std::string flip =
      "import h5py\n"
      "f = h5py.File('out.h5.partial', 'r')\n"
      "arm = f['arm_names'][0].decode()\n"
      "g = f['arms/' + arm + '/replicate_0/panel']\n"
      "info = next(i for i in (g[k].id.get_chunk_info(0) for k in sorted(g.keys()) if g[k].id.get_num_chunks() > 0)\n"
      "            if i.byte_offset is not None and i.size > 16)\n"      "f.close()\n"
      "with open('out.h5.partial', 'r+b') as raw:\n"
      "    raw.seek(info.byte_offset + info.size // 2)\n"
      "    b = raw.read(1)\n"
      "    raw.seek(info.byte_offset + info.size // 2)\n"
      "    raw.write(bytes([b[0] ^ 0x10]))\n";
  clitest::write_file(dir, "flip.py", flip);
  ASSERT_EQ(shell("cd '" + dir + "' && /usr/bin/python3 flip.py"), 0);
  fs::remove(dir + "/flip.py");
  auto args = with({"run", "-o", "out.h5", "--resume"}, kSmall);
  args.pop_back();  // not --quiet: the note about the damaged unit is wanted
  const Exit r = run_child(args, clitest::in_dir(dir), 120);
  ASSERT_EQ(r.status(), 0) << r.out;
  EXPECT_TRUE(contains(r.out, "fails its checksum")) << r.out;
  EXPECT_TRUE(clitest::same_arms(dir + "/reference.h5", dir + "/out.h5"))
      << "the damaged unit must have been run again";
}

// Case 8: standard output that cannot be written is a failure (exit 1), for every command that prints.
TEST(FileSafety, UnwritableStandardOutputIsExitOne) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  const auto dir = clitest::temp_dir("dev_full");
  small_output(dir, "out.h5");
  const std::string chacra = clitest::chacra();
  const std::string scenario = std::string(CHACRA_SOURCE_DIR) + "/configs/default.yaml";
  for (const std::string& cmd : std::vector<std::string>{
           "params", "params --format json", "validate '" + scenario + "'", "compare out.h5",
           "run -o again.h5 --set population.households=1500 --set population.districts=6 --set run.years=3 "
        "--set run.replicates=1"}) {
    SCOPED_TRACE(cmd);
    const int status = shell("cd '" + dir + "' && '" + chacra + "' " + cmd + " > /dev/full 2> err.txt");
    EXPECT_EQ(status, 1) << clitest::read_text(dir + "/err.txt");
    EXPECT_TRUE(contains(clitest::read_text(dir + "/err.txt"), "cannot write to standard output"));
  }
}

// Case 9: texts too long for the output are refused when the scenario is validated, not after the run.
TEST(FileSafety, TextsTooLongForTheOutputAreRefusedAtValidation) {
  const auto dir = clitest::temp_dir("long_texts");
  const std::string long_text(70000, 'x');
  clitest::write_file(dir, "name.yaml", "name: " + long_text + "\n");
  clitest::write_file(dir, "arm.yaml", "arms:\n  - name: a\n    description: " + long_text + "\n");
  for (const char* file : {"name.yaml", "arm.yaml"}) {
    SCOPED_TRACE(file);
    const Exit v = run_child({"validate", file}, clitest::in_dir(dir), 60);
    EXPECT_EQ(v.status(), 2) << v.out;
    EXPECT_TRUE(contains(v.out, "the text is too long (70000 bytes")) << v.out;
  }
  std::vector<std::string> args = with({"run", "-o", "out.h5"}, kSmall);
  for (int i = 0; i < 4000; ++i) args.insert(args.end(), {"--set", "run.years=3"});
  const Exit r = run_child(args, clitest::in_dir(dir), 60);
  EXPECT_EQ(r.status(), 2) << r.out;
  EXPECT_TRUE(contains(r.out, "the command line is too long")) << r.out;
  EXPECT_LT(r.seconds, 10.0);
  EXPECT_EQ(listing(dir), (std::set<std::string>{"name.yaml", "arm.yaml"}));
}

// Case 10: an evaluation whose population can have no ITT centres is bad input, refused before any replicate.
TEST(FileSafety, EvaluationWithoutIttCentresIsRefusedBeforeRunning) {
  const auto dir = clitest::temp_dir("evaluation_no_itt");
  for (const auto& [set, expected] :
       {std::pair<std::string, std::string>{"haku_winay.enabled=false", "haku_winay.enabled: the evaluation needs Haku Winay"},
        std::pair<std::string, std::string>{"evaluation.cohort_year=2030", "no Haku Winay cohort starts in 2030"}}) {
    SCOPED_TRACE(set);
    const Exit r = run_child({"evaluate", "--set", set, "--set", "run.replicates=1", "--quiet"}, clitest::in_dir(dir), 120);
    EXPECT_EQ(r.status(), 2) << r.out;
    EXPECT_TRUE(contains(r.out, expected)) << r.out;
    EXPECT_LT(r.seconds, 10.0) << "refused before a replicate runs";
  }
  EXPECT_TRUE(listing(dir).empty());
}

// Case 11: when worker threads cannot be created, chacra exits promptly with 1 instead of spinning.
TEST(FileSafety, ThreadCreationFailureExitsPromptly) {
  const auto dir = clitest::temp_dir("threads");
  SpawnOptions opts = clitest::in_dir(dir);
  // An address-space limit too small for 63 more thread stacks (as root, ulimit -u does not apply).
  opts.prefix = {"prlimit", "--as=" + std::to_string(40u << 20)};
  const clitest::Child c = clitest::spawn(with({"run", "-o", "out.h5", "--threads", "64"}, kSmall), opts);
  const Exit r = clitest::wait_exit(c, 30);
  if (r.timed_out) clitest::kill_and_reap(c);
  ASSERT_FALSE(r.timed_out) << "still running 30 s later\n" << r.out;
  EXPECT_TRUE(r.exited) << "killed by signal " << r.signal << "\n" << r.out;
  EXPECT_EQ(r.status(), 1) << r.out;
  EXPECT_FALSE(fs::exists(dir + "/out.h5"));
  EXPECT_FALSE(fs::exists(dir + "/out.h5.partial"));
}

// Case 12: a 64 KiB stack limit is enough to validate; a FIFO nobody writes to does not block.
TEST(FileSafety, SmallStackAndWriterlessFifo) {
  const auto dir = clitest::temp_dir("stack_fifo");
  SpawnOptions opts = clitest::in_dir(dir);
  opts.prefix = {"prlimit", "--stack=65536"};
  const Exit v = run_child({"validate", std::string(CHACRA_SOURCE_DIR) + "/configs/default.yaml"}, opts, 60);
  EXPECT_TRUE(v.exited) << "killed by signal " << v.signal << "\n" << v.out;
  EXPECT_EQ(v.status(), 0) << v.out;
  ASSERT_EQ(::mkfifo((dir + "/fifo.yaml").c_str(), 0600), 0);
  const clitest::Child c = clitest::spawn({"validate", "fifo.yaml"}, clitest::in_dir(dir));
  const Exit f = clitest::wait_exit(c, 10);
  if (f.timed_out) clitest::kill_and_reap(c);
  ASSERT_FALSE(f.timed_out) << "blocked on a FIFO with no writer";
  EXPECT_EQ(f.status(), 2) << f.out;
  EXPECT_TRUE(contains(f.out, "fifo.yaml: the scenario is empty")) << f.out;
}

// Case 13: the scenario's name never chooses a directory for the output.
TEST(FileSafety, ScenarioNameDoesNotChooseWhereTheOutputGoes) {
  const auto top = clitest::temp_dir("name_escape");
  const std::string dir = top + "/work";
  fs::create_directory(dir);
  clitest::write_file(dir, "up.yaml", "name: ../escape\n");
  clitest::write_file(dir, "abs.yaml", "name: " + top + "/elsewhere/x\n");
  fs::create_directory(top + "/elsewhere");
  for (const char* file : {"up.yaml", "abs.yaml"}) {
    SCOPED_TRACE(file);
    std::vector<std::string> args = {"run", file};
    args.insert(args.end(), kSmall.begin(), kSmall.end());
    const Exit r = run_child(args, clitest::in_dir(dir), 120);
    EXPECT_EQ(r.status(), 0) << r.out;
  }
  // Both outputs in the current directory: "../escape" gives escape.h5, the absolute path a name made of it.
  EXPECT_TRUE(fs::exists(dir + "/escape.h5"));
  std::size_t outputs = 0;
  for (const auto& name : listing(dir)) outputs += fs::path(name).extension() == ".h5";
  EXPECT_EQ(outputs, 2u);
  EXPECT_EQ(listing(top), (std::set<std::string>{"work", "elsewhere"}));
  EXPECT_TRUE(listing(top + "/elsewhere").empty());
}

// Case 14: --force never replaces a device or the scenario being run.
TEST(FileSafety, ForceNeverReplacesADeviceOrTheScenario) {
  const auto dir = clitest::temp_dir("force_targets");
  clitest::write_file(dir, "s.yaml", "run.years: 3\n");
  // A device node of the test's own (as `-o /dev/null --force` would be as root; see special_file).
  const std::string kind = clitest::special_file(dir, "null");
  ASSERT_FALSE(kind.empty());
  const Exit dev = run_child(with({"run", "-o", "null", "--force"}, kSmall), clitest::in_dir(dir), 60);
  EXPECT_EQ(dev.status(), 2) << dev.out;
  EXPECT_TRUE(contains(dev.out, "is " + kind)) << dev.out;
  struct stat st {};
  ASSERT_EQ(::lstat((dir + "/null").c_str(), &st), 0);
  EXPECT_FALSE(S_ISREG(st.st_mode)) << "the device was replaced by a regular file";
  fs::remove(dir + "/null");
  const Exit self = run_child(with({"run", "s.yaml", "-o", "s.yaml", "--force"}, kSmall), clitest::in_dir(dir), 60);
  EXPECT_EQ(self.status(), 2) << self.out;
  EXPECT_TRUE(contains(self.out, "is the scenario s.yaml itself")) << self.out;
  EXPECT_EQ(clitest::read_text(dir + "/s.yaml"), "run.years: 3\n");
  EXPECT_EQ(listing(dir), std::set<std::string>{"s.yaml"});
}

}  // namespace
