// Registration of the engine's own parameters: population (population.*), run (run.*) and output (output.*).
#pragma once

#include "sim/params.hpp"

namespace chacra {

void register_engine_params(Registry& registry);

}  // namespace chacra
