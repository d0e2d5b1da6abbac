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

// The uniform on (0, 1) of a 53-bit draw index b (a 64-bit word's top 53 bits): (b + 0.5) 2^-53, what
// Stream::uniform makes of each word.
inline double uniform53(std::uint64_t b) { return (static_cast<double>(b) + 0.5) * 0x1.0p-53; }

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
  double uniform() { return uniform53((*this)() >> 11); }
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

// The first blocks of the streams of one (seed, replicate, domain, period), entity by entity: the same bits as
// StreamSeed::first_block, with what does not depend on the entity computed once. The counter {0, entity, period,
// 0} has two words that are zero and one fixed per period, so the first round needs no multiply that depends on
// the entity, the second and third one each (of two); the ten round keys are the key's bumps, also fixed. A phase
// that draws one block per household opens one of these per month: 16 multiplies a household instead of 20, and
// no key schedule. Counts each block in philox_blocks, as first_block does.
class FirstBlocks {
 public:
  using Philox = Stream::Philox;
  static constexpr int kRounds = 10;
  static_assert(Philox::rounds == kRounds, "Philox4x64-10");

  FirstBlocks(const StreamSeed& seed, std::uint32_t domain, std::uint64_t period) {
    Philox::key_type k = Stream::key(seed.seed, seed.replicate, domain);
    for (int r = 0; r < kRounds; ++r) {
      keys_[r][0] = k.v[0];
      keys_[r][1] = k.v[1];
      k.v[0] += kW0;
      k.v[1] += kW1;
    }
    // Round 1 of {0, e, period, 0}: the products of the zero words are zero, so its output is
    // {hi(M1 * period) ^ e ^ key0, lo(M1 * period), key1, 0}.
    std::uint64_t hi = 0;
    const std::uint64_t lo = mul(kM1, period, hi);
    r1_x0_ = hi ^ keys_[0][0];
    // Round 2 of {x0, lo, key1, 0}: M1 * key1 is fixed; its output is
    // {hi(M1 * key1) ^ lo ^ key[1][0], lo(M1 * key1), hi(M0 * x0) ^ key[1][1], lo(M0 * x0)}.
    std::uint64_t hi2 = 0;
    const std::uint64_t lo2 = mul(kM1, keys_[0][1], hi2);
    r2_v0_ = hi2 ^ lo ^ keys_[1][0];
    r2_v1_ = lo2;
    // Round 3's product of word 0 (r2_v0_) is fixed too.
    r3_lo0_ = mul(kM0, r2_v0_, r3_hi0_);
  }

  // The first block of entity `entity`'s stream: the same four words as StreamSeed::first_block.
  Philox::ctr_type operator()(std::uint64_t entity) const {
    ++philox_blocks;
    // Round 2's varying product.
    std::uint64_t hi0 = 0;
    const std::uint64_t lo0 = mul(kM0, r1_x0_ ^ entity, hi0);
    const std::uint64_t w2 = hi0 ^ keys_[1][1], w3 = lo0;
    // Round 3: word 0's product fixed, word 2's varies.
    std::uint64_t hi1 = 0;
    const std::uint64_t lo1 = mul(kM1, w2, hi1);
    std::uint64_t v0 = hi1 ^ r2_v1_ ^ keys_[2][0], v1 = lo1, v2 = r3_hi0_ ^ w3 ^ keys_[2][1], v3 = r3_lo0_;
    // Rounds 4 to 10 in full.
#pragma GCC unroll 7
    for (int r = 3; r < kRounds; ++r) {
      std::uint64_t h0 = 0, h1 = 0;
      const std::uint64_t l0 = mul(kM0, v0, h0);
      const std::uint64_t l1 = mul(kM1, v2, h1);
      const std::uint64_t n0 = h1 ^ v1 ^ keys_[r][0], n2 = h0 ^ v3 ^ keys_[r][1];
      v0 = n0;
      v1 = l1;
      v2 = n2;
      v3 = l0;
    }
    return {{v0, v1, v2, v3}};
  }
  // The first uniform of entity `entity`'s stream: Stream::uniform() of a freshly opened stream, from its first word.
  double uniform(std::uint64_t entity) const { return uniform53((*this)(entity).v[0] >> 11); }

 private:
  static constexpr std::uint64_t kM0 = 0xD2E7470EE14C6C93ull, kM1 = 0xCA5A826395121157ull;  // PHILOX_M4x64_0, _1
  static constexpr std::uint64_t kW0 = 0x9E3779B97F4A7C15ull, kW1 = 0xBB67AE8584CAA73Bull;  // PHILOX_W64_0, _1
  static std::uint64_t mul(std::uint64_t a, std::uint64_t b, std::uint64_t& hi) {
    const unsigned __int128 p = static_cast<unsigned __int128>(a) * b;
    hi = static_cast<std::uint64_t>(p >> 64);
    return static_cast<std::uint64_t>(p);
  }
  std::uint64_t keys_[kRounds][2];
  std::uint64_t r1_x0_ = 0, r2_v0_ = 0, r2_v1_ = 0, r3_hi0_ = 0, r3_lo0_ = 0;
};

}  // namespace chacra::rng
