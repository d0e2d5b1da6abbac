// Parallel loops that keep count of their own time, so that a serial section (a global phase, the writer) can
// tell how much of it ran in parallel: what is left is the serial fraction `chacra bench` reports.
#pragma once

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace chacra {

// Nanoseconds the calling thread has waited in parallel_for below (the loop's whole wall time, its own share of
// the work included). On one thread every iteration runs on the calling thread, so a section's serial part is
// its time less the growth of this count. Thread-local like rng::philox_blocks: no contention, no atomics.
inline thread_local std::uint64_t parallel_loop_ns = 0;

// tbb::parallel_for over [begin, end) in ranges of at least `grain`, timed into parallel_loop_ns. For loops run
// from serial sections; the block passes of the Stepper are parallel by construction and need no count.
template <class Body>
void parallel_for(std::size_t begin, std::size_t end, std::size_t grain, const Body& body) {
  const auto t0 = std::chrono::steady_clock::now();
  tbb::parallel_for(tbb::blocked_range<std::size_t>(begin, end, grain), body);
  parallel_loop_ns +=
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
}

}  // namespace chacra
