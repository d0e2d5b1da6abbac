// Counter-based random streams: Philox4x64-10 keyed by (seed, replicate, domain), counted by (period, entity, draw).
#pragma once

#include <Random123/philox.h>
#include <boost/random/normal_distribution.hpp>
#include <boost/random/gamma_distribution.hpp>
#include <boost/random/poisson_distribution.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string_view>

namespace chacra::rng {

// Philox blocks computed on this thread since it started: every block a Stream draws and every
// first_block() counts one. `chacra bench` reads it (Stepper::phase_blocks) to size its reference kernel,
// so no module counts its own draws. The count is one add to thread-local memory beside a block's ten
// Philox rounds.
inline thread_local std::uint64_t philox_blocks = 0;

// A process domain is named by a string ("juntos.compliance") and hashed at compile time, so modules
// can add domains without a central enum and a domain's stream never moves when another is added.
constexpr std::uint32_t domain_id(std::string_view name) {
  std::uint32_t h = 2166136261u;  // FNV-1a
  for (char c : name) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 16777619u;
  }
  return h;
}

// One independent stream of draws for one (seed, replicate, domain, period, entity). The draw index is
// the low counter word, so a stream yields 2^64 blocks of four 64-bit words. Because nothing is shared
// between streams, results do not depend on thread count, partitioning, or which other modules run.
// Satisfies the UniformRandomBitGenerator concept, so Boost.Random distributions work on it.
class Stream {
 public:
  using result_type = std::uint64_t;
  using Philox = r123::Philox4x64;  // 10 rounds

  Stream(std::uint64_t seed, std::uint32_t replicate, std::uint32_t domain, std::uint64_t period,
         std::uint64_t entity)
      : key_(key(seed, replicate, domain)), ctr_(first_counter(period, entity)) {}

  // The key of a stream and the counter of its first block.
  static Philox::key_type key(std::uint64_t seed, std::uint32_t replicate, std::uint32_t domain) {
    return {{seed, (static_cast<std::uint64_t>(replicate) << 32) | domain}};
  }
  static Philox::ctr_type first_counter(std::uint64_t period, std::uint64_t entity) { return {{0, entity, period, 0}}; }

  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }

  result_type operator()() {
    if (used_ == 4) refill();
    return out_.v[used_++];
  }

  // Uniform on the open interval (0, 1), 53 bits.
  double uniform() { return (static_cast<double>((*this)() >> 11) + 0.5) * 0x1.0p-53; }
  bool bernoulli(double p) { return uniform() < p; }
  double normal(double mean = 0.0, double sd = 1.0) {
    return boost::random::normal_distribution<double>(mean, sd)(*this);
  }
  // Log-normal with given mean of the log and sd of the log.
  double lognormal(double mu, double sigma) { return std::exp(normal(mu, sigma)); }
  double gamma(double shape, double scale) {
    return boost::random::gamma_distribution<double>(shape, scale)(*this);
  }
  int poisson(double mean) {
    if (mean <= 0.0) return 0;
    return boost::random::poisson_distribution<int, double>(mean)(*this);
  }
  // Uniform integer in [0, n).
  std::uint64_t below(std::uint64_t n) {
    return static_cast<std::uint64_t>(uniform() * static_cast<double>(n)) % (n == 0 ? 1 : n);
  }

  // Raw block access for golden-bit tests.
  static Philox::ctr_type raw(Philox::ctr_type ctr, Philox::key_type key) { return Philox()(ctr, key); }

 private:
  void refill() {
    ++philox_blocks;
    out_ = Philox()(ctr_, key_);
    ++ctr_.v[0];
    used_ = 0;
  }
  Philox::key_type key_;
  Philox::ctr_type ctr_;
  Philox::ctr_type out_{};
  int used_ = 4;
};

// Everything a module needs to open a stream: the run's seed and the replicate.
struct StreamSeed {
  std::uint64_t seed = 0;
  std::uint32_t replicate = 0;
  Stream open(std::uint32_t domain, std::uint64_t period, std::uint64_t entity) const {
    return Stream(seed, replicate, domain, period, entity);
  }
  // The first block of that stream (its first four draws, in order), computed without a Stream: kernels
  // that use one block per entity skip the stream's bookkeeping; the values are the same.
  Stream::Philox::ctr_type first_block(std::uint32_t domain, std::uint64_t period, std::uint64_t entity) const {
    ++philox_blocks;
    return Stream::Philox()(Stream::first_counter(period, entity), Stream::key(seed, replicate, domain));
  }
};

}  // namespace chacra::rng
