// libFuzzer target: the --set parser. The input is one --set string ("dotted.path=value",
// "arms.NAME.dotted.path=value", "name=...") applied to a fixed small scenario with two arms; an input
// holding newlines is also applied as that many separate --set strings (repeats, arm then base, ...).
// Same invariants as fuzz_scenario: accept and round-trip, or ConfigError; nothing else.
#include "fuzz_common.hpp"

#include <cstddef>
#include <cstdint>

namespace {

const char* const kScenario = R"(name: fuzz
description: fixed scenario of the --set fuzzer
population: {households: 200, districts: 2}
run: {years: 1, replicates: 1, reference_arm: no_juntos}
arms:
  - name: no_juntos
    set: {juntos.enabled: false}
  - name: both
)";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  chacra::fuzz::load_and_check(kScenario, {input});
  if (input.find('\n') != std::string::npos) {
    std::vector<std::string> sets;
    std::size_t start = 0;
    while (sets.size() < 16) {
      const auto nl = input.find('\n', start);
      sets.push_back(input.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
    chacra::fuzz::load_and_check(kScenario, sets);
  }
  return 0;
}
