// The full parameter registry (engine + every module) and the model builder the CLI hands the engine.
#pragma once

#include "sim/engine.hpp"
#include "sim/params.hpp"

namespace chacra::models {

// Every parameter of the model, engine and modules, in one registry (built once, on first use); with the
// study tools' parameters: study::registry().
const Registry& registry();

// Builds the modules and the month's ordered phase list for one arm's parameters (see month.cpp).
Model build_model(const ParamSet& params);

}  // namespace chacra::models
