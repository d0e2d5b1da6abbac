// Slow tier (label slow): chacra under valgrind's memcheck finds no leak and no invalid memory access on a
// small run, on rejected input and on a failed write. The ASan build (tools/sanitize.sh asan) covers the
// same with LeakSanitizer on every CLI test, so this test skips itself there (valgrind and ASan exclude
// each other).
#include "../cli/cli_helpers.hpp"
#include "../cli/process_helpers.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool kSanitized = true;
#else
constexpr bool kSanitized = false;
#endif
#else
constexpr bool kSanitized = false;
#endif

bool have_valgrind() { return std::system("valgrind --version > /dev/null 2>&1") == 0; }

clitest::Exit under_valgrind(const std::vector<std::string>& args, const std::string& dir) {
  clitest::SpawnOptions opts = clitest::in_dir(dir);
  opts.prefix = {"valgrind", "--leak-check=full", "--show-leak-kinds=definite,indirect,possible",
                 "--errors-for-leak-kinds=definite,indirect,possible", "--error-exitcode=99", "-q"};
  return clitest::run_child(args, opts, 900);
}

const std::vector<std::string> kSmall = {"--set", "population.households=1500", "--set", "population.districts=6",
                                         "--set", "run.years=3", "--set", "run.replicates=1", "--quiet"};

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

TEST(CliSlow, NoLeaksOrMemoryErrorsUnderValgrind) {
  if (kSanitized) GTEST_SKIP() << "sanitizer build: LeakSanitizer checks every CLI test instead";
  if (!have_valgrind()) GTEST_SKIP() << "valgrind is not installed (apt-get install valgrind)";
  const auto dir = clitest::temp_dir("valgrind");
  // A complete run: every arm, the panel, the summary.
  auto r = under_valgrind(with({"run", "-o", "out.h5", "--threads", "2"}, kSmall), dir);
  EXPECT_EQ(r.status(), 0) << r.out;
  EXPECT_TRUE(std::filesystem::exists(dir + "/out.h5"));
  // Rejected input (exit 2) and a failed output (exit 1) must not leak either.
  clitest::write_file(dir, "bad.yaml", "population:\n  housholds: 100\narms: [{name: a}, {name: a}]\n");
  r = under_valgrind({"run", "bad.yaml", "-o", "bad.h5"}, dir);
  EXPECT_EQ(r.status(), 2) << r.out;
  clitest::write_file(dir, "somefile", "x");
  r = under_valgrind(with({"run", "-o", "somefile/x.h5"}, kSmall), dir);
  EXPECT_EQ(r.status(), 1) << r.out;
}

}  // namespace
