// The full parameter registry of chacra: the engine's and every module's (models::registry()) and the study
// tools' (evaluation.*, budget.*, comparison.*), the registry scenarios are loaded and documented with.
#pragma once

#include "sim/params.hpp"

namespace chacra::study {

// Every parameter of chacra, in one registry (built once, on first use).
const Registry& registry();

}  // namespace chacra::study
