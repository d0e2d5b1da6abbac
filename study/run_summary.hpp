// What `chacra run` prints at the end: the run's size and speed, the file written, and the last period's
// household means of the variables a reader looks at first, averaged over replicates.
#pragma once

#include "sim/runner.hpp"
#include "sim/scenario.hpp"

#include <string>

namespace chacra::study {

std::string format_run_summary(const Scenario& scenario, const RunResult& result);

}  // namespace chacra::study
