// `chacra bench`: throughput, parallel efficiency, memory, phase shares and output overhead of the full
// model, and its cost as a multiple of a reference draw-and-sweep kernel (docs/performance.md).
#pragma once

#include <string>
#include <vector>

namespace chacra::cli {

// chacra bench [--households N] [--years Y] [--threads LIST] [--repeats K] [--format table|json] [--arms both|default]
// [--scaling LIST] [--scaling-years Y] [--no-output] [--tmpdir DIR]. Exit status 0; 2 for usage errors.
int cmd_bench(const std::vector<std::string>& args);

}  // namespace chacra::cli
