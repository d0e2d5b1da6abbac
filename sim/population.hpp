// Deterministic synthetic population: districts, population centres (with proposed executing nuclei) and
// households with members, land, water, productive capacity and locus of control.
#pragma once

#include "sim/params.hpp"
#include "sim/world.hpp"

#include <cstdint>

namespace chacra {

// Builds the world for one replicate from the population.* parameters. The same (population.seed,
// replicate) always gives the same world, bit for bit, whatever the thread count.
World generate_population(const ParamSet& params, std::uint32_t replicate);

// Names of the five departments of the evaluation plus "other" (district column "department").
const char* department_name(std::uint8_t department);

}  // namespace chacra
