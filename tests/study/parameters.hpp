// Shared by the study tests: k real parameters x1..xk on [0, 1].
#pragma once

#include "study/design.hpp"

#include <string>
#include <vector>

namespace chacra::study::test {

inline std::vector<Parameter> unit_cube(std::size_t k) {
  std::vector<Parameter> p;
  for (std::size_t i = 0; i < k; ++i) {
    std::string name = "x";  // not "x" + to_string: GCC 12 warns falsely (-Wrestrict) on that
    name += std::to_string(i + 1);
    p.push_back({name, 0.0, 1.0, ParameterKind::real});
  }
  return p;
}

}  // namespace chacra::study::test
