// The deterministic parallel stepper: runs the month's phases in order, fusing consecutive block phases (and
// those either side of a global phase that is idle this month).
#include "sim/engine.hpp"

#include "sim/parallel.hpp"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <time.h>

#include <chrono>

namespace chacra {

namespace {

// CPU seconds of the calling thread.
double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

}  // namespace

Stepper::Stepper(World& world, const std::vector<Phase>& phases, const ParamSet& params, rng::StreamSeed seed)
    : world_(world), phases_(phases), params_(params), seed_(seed), phase_seconds_(phases.size(), 0.0),
      phase_cpu_seconds_(phases.size(), 0.0), phase_blocks_(phases.size(), 0),
      phase_parallel_seconds_(phases.size(), 0.0), phase_active_months_(phases.size(), 0) {}

void Stepper::step(int month) {
  const StepContext ctx{params_, seed_, month, world_.calendar};
  using clock = std::chrono::steady_clock;
  std::size_t i = 0;
  while (i < phases_.size()) {
    if (phases_[i].scope == Phase::Scope::global) {
      if (phases_[i].idle && phases_[i].idle(ctx)) {
        ++i;
        continue;
      }
      ++phase_active_months_[i];
      const auto t0 = clock::now();
      const double c0 = profile_ ? thread_cpu_seconds() : 0.0;
      const std::uint64_t b0 = rng::philox_blocks;
      const std::uint64_t p0 = parallel_loop_ns;
      phases_[i].global(world_, ctx);
      if (profile_) {
        phase_seconds_[i] += std::chrono::duration<double>(clock::now() - t0).count();
        phase_cpu_seconds_[i] += thread_cpu_seconds() - c0;
        phase_blocks_[i] += rng::philox_blocks - b0;
        phase_parallel_seconds_[i] += 1e-9 * static_cast<double>(parallel_loop_ns - p0);
      }
      ++i;
      continue;
    }
    // The block phases up to the next global phase that has work this month form one pass.
    pass_phases_.clear();
    while (i < phases_.size()) {
      const Phase& p = phases_[i];
      if (p.scope == Phase::Scope::block) {
        ++phase_active_months_[i];
        pass_phases_.push_back(i);
      } else if (!(p.idle && p.idle(ctx))) {
        break;
      }
      ++i;
    }
    // Profiling runs each block phase as its own pass so its time can be read; otherwise the pass applies
    // its phases block by block, keeping a block's columns in cache.
    if (profile_) {
      for (std::size_t k : pass_phases_) {
        const auto t0 = clock::now();
        const double c0 = thread_cpu_seconds();
        const std::uint64_t b0 = rng::philox_blocks;
        tbb::parallel_for(tbb::blocked_range<std::size_t>(0, world_.blocks.size(), 1),
                          [&](const tbb::blocked_range<std::size_t>& r) {
                            for (std::size_t b = r.begin(); b != r.end(); ++b)
                              phases_[k].block(world_, ctx, world_.blocks[b]);
                          });
        phase_seconds_[k] += std::chrono::duration<double>(clock::now() - t0).count();
        phase_cpu_seconds_[k] += thread_cpu_seconds() - c0;
        phase_blocks_[k] += rng::philox_blocks - b0;
      }
    } else {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, world_.blocks.size(), 1),
                        [&](const tbb::blocked_range<std::size_t>& r) {
                          for (std::size_t b = r.begin(); b != r.end(); ++b)
                            for (std::size_t k : pass_phases_) phases_[k].block(world_, ctx, world_.blocks[b]);
                        });
    }
    ++passes_;
  }
}

}  // namespace chacra
