// The reference ("floor") kernel of `chacra bench`: the least work any model with chacra's random streams
// and state could do in a month. It opens as many counter-based streams and draws as many Philox blocks as
// the model does per household and month, and reads and writes every household column once, block by
// block in parallel like the Stepper. The full model's cost is reported as a multiple of this floor.
//
// The model's phases only compute a Philox block where its value is used (a draw's value is fixed by its
// key, so skipping an unused one changes nothing), so the number of blocks per household-month depends on
// the state. The generator counts the blocks it computes (rng::philox_blocks); `chacra bench` reads the
// count per phase in a one-thread profiled pass (Stepper::phase_blocks) to size the reference kernel.
#pragma once

#include "sim/rng.hpp"
#include "sim/world.hpp"

#include <cstdint>

namespace chacra {

struct ReferenceKernelShape {
  // Philox blocks drawn for every household every month (one stream per block, as the model opens one
  // stream per process domain).
  int blocks_per_household_month = 5;
  // Extra blocks drawn for a share of household-months (e.g. HW participants under support, who draw
  // their trainer visits): household i draws one more block in month m when
  // (i * 0x9E3779B1 + m) mod 2^32 / 2^32 < extra_share, a fixed, thread-independent pattern.
  double extra_share = 0.0;
};

// Runs `months` months of the reference kernel on `world` (its household columns are read and written
// but left with the same values) over world.blocks in parallel with the current TBB parallelism.
// Returns a checksum of the draws so the work cannot be optimised away.
std::uint64_t run_reference_kernel(World& world, int months, const rng::StreamSeed& seed,
                                   const ReferenceKernelShape& shape);

}  // namespace chacra
