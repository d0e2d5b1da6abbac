// `chacra compare OUT.h5`: the policy comparison of a finished output file (study/comparison.hpp).
#pragma once

#include <string>
#include <vector>

namespace chacra::cli {

// chacra compare OUT.h5 [--reference ARM] [--format table|csv|json] [--recompute]. Prints the comparison
// stored in the file (/comparison, written at the end of the run) or, with --recompute or another
// --reference, computes it from the panel. Exit status: 0; 1 for a missing, truncated or foreign file or one
// without a panel; 2 for usage errors and an unknown --reference (the message lists the arms).
int cmd_compare(const std::vector<std::string>& args);

}  // namespace chacra::cli
