// What `chacra run` prints at the end, within 100 columns: the run's size and speed, the file written, and the
// last period's household means of the variables a reader looks at first, averaged over replicates.
#pragma once

#include "sim/runner.hpp"
#include "sim/scenario.hpp"

#include <string>

namespace chacra::study {

// `full` adds the means of the other summary variables (Juntos transfers, Haku Winay participation).
std::string format_run_summary(const Scenario& scenario, const RunResult& result, bool full = false);

}  // namespace chacra::study
