// libFuzzer target: the scenario loader (load_scenario_text with chacra's full parameter registry) on
// arbitrary bytes. It must never crash, hang, leak or trip ASan/UBSan; it may only accept (and then the
// resolved YAML must round-trip) or throw ConfigError with at least one located message.
#include "fuzz_common.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  chacra::fuzz::load_and_check(std::string(reinterpret_cast<const char*>(data), size), {});
  return 0;
}
