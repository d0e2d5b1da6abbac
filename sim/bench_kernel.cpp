// The reference draw-and-sweep kernel of `chacra bench` (see bench_kernel.hpp).
#include "sim/bench_kernel.hpp"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <atomic>
#include <cstring>
#include <vector>

namespace chacra {

namespace {

// A zero the compiler cannot see through, so the sweep really loads and stores every byte.
std::atomic<std::uint64_t> g_zero{0};

// Reads and writes bytes [begin, end) of one column: x ^= zero, eight bytes at a time.
void sweep(std::byte* p, std::size_t begin, std::size_t end, std::uint64_t zero) {
  std::size_t i = begin;
  for (; i + 8 <= end; i += 8) {
    std::uint64_t v;
    std::memcpy(&v, p + i, 8);
    v ^= zero;
    std::memcpy(p + i, &v, 8);
  }
  for (; i < end; ++i) p[i] ^= static_cast<std::byte>(zero);
}

}  // namespace

std::uint64_t run_reference_kernel(World& world, int months, const rng::StreamSeed& seed,
                                   const ReferenceKernelShape& shape) {
  Table& h = world.households;
  std::vector<std::size_t> row_bytes(h.column_count());
  for (std::size_t c = 0; c < h.column_count(); ++c)
    row_bytes[c] = static_cast<std::size_t>(h.info(c).width) * column_type_size(h.info(c).type);
  const std::uint32_t extra_threshold =
      shape.extra_share <= 0.0 ? 0u
                               : (shape.extra_share >= 1.0 ? 0xFFFF'FFFFu
                                                           : static_cast<std::uint32_t>(shape.extra_share * 4294967296.0));
  // Domains of the reference streams: distinct from every model domain.
  constexpr std::uint32_t kDomain = rng::domain_id("bench.reference");
  std::vector<std::uint64_t> sinks(world.blocks.size(), 0);
  for (int month = 0; month < months; ++month) {
    const std::uint64_t zero = g_zero.load(std::memory_order_relaxed);
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, world.blocks.size(), 1),
                      [&](const tbb::blocked_range<std::size_t>& r) {
                        for (std::size_t b = r.begin(); b != r.end(); ++b) {
                          const Block& blk = world.blocks[b];
                          std::uint64_t acc = 0;
                          // Draws: one stream per block, the four words of each Philox block consumed.
                          for (std::uint32_t i = blk.household_begin; i < blk.household_end; ++i) {
                            const bool extra = extra_threshold != 0 &&
                                               static_cast<std::uint32_t>(i * 0x9E3779B1u + static_cast<std::uint32_t>(month)) <
                                                   extra_threshold;
                            const int nb = shape.blocks_per_household_month + (extra ? 1 : 0);
                            for (int d = 0; d < nb; ++d) {
                              auto s = seed.open(kDomain + static_cast<std::uint32_t>(d), static_cast<std::uint64_t>(month), i);
                              acc ^= s() ^ s() ^ s() ^ s();
                            }
                          }
                          // Sweep: every household column of the block, read and written once.
                          for (std::size_t c = 0; c < row_bytes.size(); ++c)
                            sweep(static_cast<std::byte*>(h.data(c)), blk.household_begin * row_bytes[c],
                                  blk.household_end * row_bytes[c], zero);
                          sinks[b] ^= acc;
                        }
                      });
  }
  std::uint64_t sink = 0;
  for (auto s : sinks) sink ^= s;
  return sink;
}

}  // namespace chacra
