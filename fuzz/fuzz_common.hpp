// Shared checks of the scenario fuzz targets: what the loader may do with any input, and what an accepted
// scenario must satisfy.
#pragma once

#include "study/registry.hpp"
#include "sim/scenario.hpp"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <vector>

namespace chacra::fuzz {

[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "\nfuzz invariant violated: %s\n", what.c_str());
  std::abort();
}

// An accepted scenario reads back from its resolved YAML (the provenance stored in every output) to the
// very same scenario.
inline void check_accepted(const Scenario& s) {
  if (s.arms.empty()) fail("accepted scenario has no arm");
  const std::string yaml = s.resolved_yaml();
  try {
    const Scenario again = load_scenario_text(yaml, "<resolved>", study::registry());
    if (again.resolved_yaml() != yaml) fail("resolved_yaml does not round-trip:\n" + yaml);
    if (again.base.values() != s.base.values()) fail("base parameters change on reload:\n" + yaml);
    if (again.arms.size() != s.arms.size()) fail("arm count changes on reload:\n" + yaml);
    for (std::size_t i = 0; i < s.arms.size(); ++i)
      if (again.arms[i].name != s.arms[i].name || again.arms[i].params.values() != s.arms[i].params.values())
        fail("arm " + s.arms[i].name + " changes on reload:\n" + yaml);
  } catch (const ConfigError& e) {
    fail(std::string("resolved_yaml of an accepted scenario is rejected: ") + e.what() + "\n" + yaml);
  }
}

// A rejection names at least one problem, each with a message; the report is bounded.
inline void check_rejected(const ConfigError& e) {
  if (e.issues().empty()) fail("ConfigError without issues");
  if (e.issues().size() > 101) fail("more issues than the loader's cap: " + std::to_string(e.issues().size()));
  for (const auto& i : e.issues())
    if (i.message.empty()) fail("issue without a message: " + i.format());
}

// Loads and checks; anything but a ConfigError escaping the loader is a bug (the CLI would report bad
// input as a runtime failure, exit 1 instead of 2).
inline void load_and_check(const std::string& text, const std::vector<std::string>& sets) {
  try {
    check_accepted(load_scenario_text(text, "fuzz.yaml", study::registry(), sets));
  } catch (const ConfigError& e) {
    check_rejected(e);
  } catch (const std::exception& e) {
    fail(std::string("the loader threw something other than ConfigError: ") + e.what());
  }
}

}  // namespace chacra::fuzz
