// chacra validate (a scenario checked completely, nothing run or written) and chacra params (every parameter).
#include "app/commands.hpp"

#include "study/budget.hpp"

#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>

namespace chacra::cli {

void add_validate(CommandLine& commands) {
  struct Options {
    std::optional<std::string> scenario;
    std::vector<std::string> sets;
  };
  auto o = std::make_shared<Options>();
  CLI::App& app = commands.add("validate", "chacra validate SCENARIO.yaml [--set key=value ...]", "", [o] {
    if (!o->scenario) throw UsageError("validate needs a scenario file: chacra validate SCENARIO.yaml (see chacra validate --help)");
    if (o->scenario->empty()) throw UsageError("the scenario path is empty");
    const Scenario s = load_scenario_for(*o->scenario, o->sets);
    study::check_budget_neutrality(s);
    validate_model_setup(s);
    std::printf("%s: valid scenario '%s' with %zu arm(s):", s.path.c_str(), s.name.c_str(), s.arms.size());
    for (const auto& arm : s.arms) std::printf(" %s", arm.name.c_str());
    std::printf("\n");
  });
  commands.positional(app, "scenario", o->scenario);
  commands.value(app, "--set", o->sets, "override a parameter as in chacra run", true);
}

void add_params(CommandLine& commands) {
  auto format = std::make_shared<std::vector<std::string>>();
  CLI::App& app = commands.add("params", "chacra params [--format table|markdown|json]", "", [format] {
    const std::string f = one_of("--format", value_or(*format, "table"), {"table", "markdown", "json"});
    const Registry& reg = full_registry();
    std::cout << (f == "table" ? reg.to_table() : f == "markdown" ? reg.to_markdown() : reg.to_json());
  });
  commands.value(app, "--format", *format, "table (default), markdown or json");
}

}  // namespace chacra::cli
