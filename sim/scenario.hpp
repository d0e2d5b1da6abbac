// Scenarios: strict loading and validation of scenario YAML (and --set overrides) into base parameters
// plus a list of policy arms, with every problem reported at once with file, line, column and a hint.
#pragma once

#include "sim/errors.hpp"
#include "sim/params.hpp"

#include <stdexcept>
#include <string>
#include <vector>

namespace chacra {

struct ConfigIssue {
  std::string file;     // scenario path, "<built-in>", or "--set"
  int line = 0;         // 1-based; 0 when unknown
  int column = 0;       // 1-based; 0 when unknown
  std::string key;      // dotted path of the offending key, e.g. "arms[2].juntos.transfer_pen"
  std::string message;  // what was wrong and what was expected
  std::string hint;     // a suggestion ("did you mean 'juntos.transfer_pen'?"), may be empty
  std::string format() const;  // "file:line:col: key: message (hint)"
};

// Thrown for input that could not be understood or is inconsistent; carries every issue found.
class ConfigError : public BadInput {
 public:
  explicit ConfigError(std::vector<ConfigIssue> issues);  // names the file of the first issue
  ConfigError(const std::string& file, std::vector<ConfigIssue> issues);
  const std::vector<ConfigIssue>& issues() const { return issues_; }

 private:
  std::vector<ConfigIssue> issues_;
};

struct Arm {
  std::string name;
  std::string description;
  ParamSet params;  // base parameters with this arm's overrides applied
  std::vector<std::pair<std::string, ParamValue>> overrides;  // as written, in order
};

struct Scenario {
  std::string path;  // file it came from, or "<built-in>"
  std::string name;
  std::string description;
  ParamSet base;
  std::vector<Arm> arms;  // never empty: a file without `arms` gets one arm named "baseline"
  // The fully resolved scenario (every parameter of the base, every arm's overrides) as YAML; loading it
  // back gives the same scenario. Stored in every output file as provenance.
  std::string resolved_yaml() const;
  const Arm* find_arm(const std::string& name) const;
};

// Parameters an arm may not override because every arm shares one population and one calendar.
bool is_shared_across_arms(const std::string& param_name);

// Loads and validates a scenario. `sets` are "dotted.path=value" overrides applied to the base (and so
// to every arm that does not override that parameter itself), or "arms.NAME.dotted.path=value" for one
// arm, after the file and with the same validation; "name=..." and "description=..." set those texts.
// Throws ConfigError carrying every problem found. The registry must outlive the returned Scenario
// (its ParamSets point to it). Format: docs/scenarios.md.
Scenario load_scenario_file(const std::string& path, const Registry& registry,
                            const std::vector<std::string>& sets = {});
Scenario load_scenario_text(const std::string& yaml_text, const std::string& file_label, const Registry& registry,
                            const std::vector<std::string>& sets = {});

}  // namespace chacra
