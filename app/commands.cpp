// Scenario loading (file or built-in default), model wiring and checks shared by the commands.
#include "app/commands.hpp"

#include "default_scenario.hpp"
#include "models/registry.hpp"
#include "sim/runner.hpp"
#include "study/registry.hpp"

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

}  // namespace chacra::cli
