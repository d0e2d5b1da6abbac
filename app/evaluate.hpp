// chacra evaluate: the virtual 2017-cohort HW evaluation (study/evaluation.hpp), printed beside the published
// results.
#pragma once

#include <string>
#include <vector>

namespace chacra::cli {

int cmd_evaluate(const std::vector<std::string>& args);

}  // namespace chacra::cli
