// What `chacra run` prints at the end, within 100 columns: the run's size and speed, the file written, the
// last period's household means of the variables a reader looks at first, averaged over replicates, and each
// arm's reach.
#pragma once

#include "sim/runner.hpp"
#include "sim/scenario.hpp"

#include <string>
#include <utility>
#include <vector>

namespace chacra::study {

// `full` adds the means of the other summary variables (Juntos transfers, Haku Winay participation).
std::string format_run_summary(const Scenario& scenario, const RunResult& result, bool full = false);

// Each arm's reach (what the modules report at the end of each unit), averaged over its replicates: one line per
// module and item, one column per arm ("" when no unit reports any).
using ArmReach = std::pair<std::string, std::vector<output::ReachRow>>;  // arm, one unit's rows
std::string format_reach(const std::vector<std::string>& arms, const std::vector<ArmReach>& units);
// The reach stored in an output file (every arm and replicate that has one).
std::vector<ArmReach> read_reach(hid_t file);

}  // namespace chacra::study
