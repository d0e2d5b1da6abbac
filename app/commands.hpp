// Shared pieces of the subcommands: scenario loading with the built-in default, and the model wiring.
#pragma once

#include "sim/engine.hpp"
#include "sim/scenario.hpp"

#include <string>
#include <vector>

namespace chacra::cli {

const Registry& full_registry();
ModelBuilder model_builder();
// Loads a scenario file, or the built-in default when `path` is empty.
Scenario load_scenario_for(const std::string& path, const std::vector<std::string>& sets);
// Checks what can only be checked against the built model (e.g. output.variables), on a tiny population.
void validate_model_setup(const Scenario& scenario);
// Subcommands added by later work (compare, evaluate, export, bench); returns -1 if `command` is unknown.
int dispatch_extra_command(const std::string& command, const std::vector<std::string>& args);

}  // namespace chacra::cli
