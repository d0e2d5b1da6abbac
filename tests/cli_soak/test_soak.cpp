// Soak tier (labels soak and slow; not in the default tier): the largest population that fits, 10 million
// households, over a fifty-year horizon with the household panel off (output.panel=false), one arm with
// both programmes, one replicate: 6e9 household-months. It must finish with exit 0, a complete output and
// finite results, and its peak memory must stay within the memory guard's estimate (so that the guard's
// refusals are honest). About 30-40 minutes on 2 cores and 9 GB of memory (docs/reliability.md):
//   ctest --test-dir build -L soak --output-on-failure
// CHACRA_SOAK_HOUSEHOLDS and CHACRA_SOAK_YEARS shrink it for a trial run.
#include "../cli/cli_helpers.hpp"
#include "../cli/process_helpers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <regex>
#include <string>

namespace {

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

TEST(CliSoak, TenMillionHouseholdsFiftyYears) {
  const std::string households = env_or("CHACRA_SOAK_HOUSEHOLDS", "10000000");
  const std::string years = env_or("CHACRA_SOAK_YEARS", "50");
  const auto dir = clitest::temp_dir("soak");
  // About 500 households per district, as in the default scenario.
  const std::string districts = std::to_string(std::max(1LL, std::stoll(households) / 500));
  clitest::write_file(dir, "soak.yaml",
                      "name: soak\n"
                      "description: Largest population that fits, fifty years, both programmes, panel off\n"
                      "population: {households: " + households + ", districts: " + districts + "}\n"
                      "run: {years: " + years + ", replicates: 1, reference_arm: both}\n"
                      "output: {panel: false}\n"
                      "arms:\n"
                      "  - name: both\n");

  // The memory guard's estimate, read from its refusal under a 1-byte limit.
  clitest::SpawnOptions probe = clitest::in_dir(dir);
  probe.env = {{"CHACRA_MEMORY_LIMIT_BYTES", "1"}};
  const clitest::Exit refused = clitest::run_child({"run", "soak.yaml", "-o", "probe.h5"}, probe, 120);
  ASSERT_EQ(refused.status(), 2) << refused.out;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(refused.out, m, std::regex("needs about ([0-9]+) MiB"))) << refused.out;
  const long estimate_mib = std::stol(m[1]);

  const clitest::Exit r = clitest::run_child({"run", "soak.yaml", "-o", "soak.h5"}, clitest::in_dir(dir), 6 * 3600);
  std::cout << "soak: " << households << " households x " << years << " years: exit " << r.status() << " in "
            << r.seconds << " s, peak RSS " << (r.max_rss_kib >> 10) << " MiB (estimate " << estimate_mib
            << " MiB)\n"
            << r.out << std::endl;
  ASSERT_FALSE(r.timed_out);
  ASSERT_EQ(r.status(), 0) << r.out;
  EXPECT_TRUE(std::filesystem::exists(dir + "/soak.h5"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/soak.h5.partial"));
  EXPECT_FALSE(std::regex_search(r.out, std::regex("\\s-?(nan|inf)\\b", std::regex::icase)))
      << "non-finite results in the summary";
  // The whole file must read back (h5dump walks every object) and hold no panel.
  EXPECT_EQ(std::system(("h5dump -H '" + dir + "/soak.h5' > /dev/null 2>&1").c_str()), 0);
  EXPECT_NE(std::system(("h5ls '" + dir + "/soak.h5/arms/both/replicate_0/panel' > /dev/null 2>&1").c_str()), 0);
  // Peak memory within the guard's estimate (plus room for the allocator, threads and HDF5).
  EXPECT_LE(r.max_rss_kib >> 10, estimate_mib + estimate_mib / 4 + 256)
      << "the memory guard under-estimates: it could let through a run that does not fit";
  // Flat memory: the resident set logged by the progress lines once the first tenth of the horizon is done
  // may not grow by more than 2% (plus 64 MiB of allocator slack) by the end; a leak per period would.
  const std::regex progress("progress: ([0-9.]+)% .*RSS ([0-9]+) MiB");
  long long settled = -1, last = -1;
  int lines = 0;
  for (auto it = std::sregex_iterator(r.out.begin(), r.out.end(), progress); it != std::sregex_iterator(); ++it) {
    const double pct = std::stod((*it)[1]);
    const long long rss = std::stoll((*it)[2]);
    if (pct >= 10.0 && settled < 0) settled = rss;
    if (pct >= 10.0) last = std::max(last, rss), ++lines;
  }
  std::cout << "soak: resident set " << settled << " MiB at 10% of the horizon, at most " << last
            << " MiB afterwards (" << lines << " progress lines)" << std::endl;
  // A progress line comes every 5 s; shrunken trial runs may be too short to log two.
  if (r.seconds > 30) {
    ASSERT_GE(lines, 2) << "the run logged too few progress lines to judge memory over time";
  }
  EXPECT_LE(last, settled + settled / 50 + 64) << "resident memory grows over the horizon";
  std::filesystem::remove_all(dir);
}

}  // namespace
