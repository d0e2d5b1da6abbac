// chacra validate (a scenario checked completely, nothing run or written) and chacra params (the parameters, all
// or those a pattern selects).
#include "app/commands.hpp"

#include "study/budget.hpp"

#include <cstdio>
#include <cstdlib>
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
  struct Options {
    std::optional<std::string> pattern;
    std::vector<std::string> format, search, width;
  };
  auto o = std::make_shared<Options>();
  CLI::App& app = commands.add(
      "params", "chacra params [PATTERN] [--search TEXT] [--format text|table|markdown|json] [--width N]",
      "Lists the parameters with their default, range, unit, description and source. PATTERN selects by name: a\n"
      "parameter, a section (juntos, haku_winay.coaching) or the start of a name (juntos.transfer); other\n"
      "text searches names, descriptions, units and sources (any case), as --search TEXT always does.",
      [o] {
        const std::string f = one_of("--format", value_or(o->format, "text"), {"text", "table", "markdown", "json"});
        const Registry& reg = full_registry();
        const bool search = !o->search.empty();
        if (search && o->pattern) throw UsageError("give PATTERN or --search TEXT, not both");
        const std::string pattern = search ? value_or(o->search, "") : o->pattern.value_or("");
        if (f == "markdown") {
          if (search || o->pattern)
            throw UsageError("--format markdown lists every parameter (it is docs/parameters.md); drop the filter");
          std::cout << reg.to_markdown();
          return;
        }
        if ((search || o->pattern) && pattern.empty()) throw UsageError("the filter is empty");
        const auto only = reg.select(pattern, search);
        if (only.empty()) {
          const auto near = reg.nearest(pattern);
          throw UsageError("no parameter matches '" + pattern + "'" +
                           (near.empty() ? std::string() : "; did you mean '" + near.front() + "'?") +
                           " (chacra params lists them all)");
        }
        std::size_t width = 100;
        if (!o->width.empty()) {
          const std::string w = value_or(o->width, "");
          const auto n = std::strtol(w.c_str(), nullptr, 10);
          if (w.find_first_not_of("0123456789") != std::string::npos || n < 40 || n > 1000)
            throw UsageError("--width takes a number of columns from 40 to 1000, not '" + w + "'");
          width = static_cast<std::size_t>(n);
        }
        std::cout << (f == "text" ? reg.to_text(only, width) : f == "table" ? reg.to_table(only) : reg.to_json(only));
      });
  commands.positional(app, "pattern", o->pattern);
  commands.value(app, "--search", o->search, "select the parameters whose name, description, unit or source holds TEXT");
  commands.value(app, "--format", o->format,
                 "text (default: a block per parameter, wrapped), table (one line per parameter, for grep), "
                 "markdown (every parameter, as docs/parameters.md) or json");
  commands.value(app, "--width", o->width, "columns of the text format (default 100)");
}

}  // namespace chacra::cli
