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

// The same population split by blocks of whole districts across the processes of `collective` (MPI ranks;
// docs/cluster.md): this process's block only (World::split()). Districts and centres are drawn for the
// whole population (a few bytes per centre); households only for the block, each exactly as the whole
// generator draws it (same global index, same stream). Centre columns derived from households (ubn_share)
// are filled only for the block's centres. `collective` must outlive the world.
World generate_population(const ParamSet& params, std::uint32_t replicate, const Collective& collective);

// Rank `rank` of `ranks`'s block: contiguous districts holding about households/ranks households (the
// boundaries nearest to k/ranks of the households; blocks may be empty when ranks exceed districts).
WorldPart district_block(const std::vector<std::uint32_t>& centre_first, const std::vector<std::uint32_t>& district_first,
                         int rank, int ranks);

// Names of the five departments of the evaluation plus "other" (district column "department").
const char* department_name(std::uint8_t department);

}  // namespace chacra
