// Scenario loading (file or built-in default), model wiring and checks shared by the subcommands.
#include "app/commands.hpp"

#include "app/bench.hpp"
#include "app/compare.hpp"
#include "app/evaluate.hpp"
#include "app/export.hpp"
#include "default_scenario.hpp"
#include "models/registry.hpp"
#include "study/registry.hpp"
#include "sim/runner.hpp"

namespace chacra::cli {

const Registry& full_registry() { return study::registry(); }

ModelBuilder model_builder() { return [](const ParamSet& p) { return models::build_model(p); }; }

Scenario load_scenario_for(const std::string& path, const std::vector<std::string>& sets) {
  if (path.empty())
    return load_scenario_text(kDefaultScenarioYaml, std::string("<built-in ") + kDefaultScenarioPath + ">",
                              full_registry(), sets);
  return load_scenario_file(path, full_registry(), sets);
}

void validate_model_setup(const Scenario& scenario) {
  for (const Arm& arm : scenario.arms) {
    const World world = setup_sample_world(arm.params, model_builder(), 200);
    resolve_panel_variables(world, scenario.base.text_list("output.variables"), scenario.path);
  }
}

int dispatch_extra_command(const std::string& command, const std::vector<std::string>& args) {
  if (command == "bench") return cmd_bench(args);
  if (command == "compare") return cmd_compare(args);
  if (command == "evaluate") return cmd_evaluate(args);
  if (command == "export") return cmd_export(args);
  return -1;
}

}  // namespace chacra::cli
