// The writer's own deflate encoder (codec::deflate_runs, deflate_planes) must give streams that zlib's inflate, the one HDF5's
// deflate filter calls, reads back to the input, whatever the input: runs, noise, few symbols, skewed
// frequencies, block and buffer edges; shuffle must be HDF5's; and encode_chunk's chunks must unshuffle and inflate
// to the chunk.
#include "sim/output/codec.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace chacra::output::codec {
namespace {

std::vector<unsigned char> inflate_all(const std::vector<unsigned char>& z, std::size_t size) {
  std::vector<unsigned char> back(size + 1);
  uLongf n = static_cast<uLongf>(back.size());
  const int rc = uncompress(back.data(), &n, z.data(), static_cast<uLong>(z.size()));
  EXPECT_EQ(rc, Z_OK);
  back.resize(n);
  return back;
}

// Encodes `in` in blocks of `segment` bytes and checks the round trip; returns whether it was smaller.
bool round_trip(const std::vector<unsigned char>& in, std::size_t segment, const std::string& what) {
  std::vector<unsigned char> z;
  const bool smaller = deflate_runs(in.data(), in.size(), segment, z);
  EXPECT_EQ(smaller, z.size() < in.size()) << what;
  EXPECT_EQ(inflate_all(z, in.size()), in) << what;
  return smaller;
}

TEST(Shuffle, PutsByteKOfValueIAtKTimesValuesPlusI) {
  std::mt19937_64 g(1);
  for (std::size_t size : {1, 2, 4, 8})
    for (std::size_t bytes : {0, 3, 4, 60, 64, 67, 1000, 4099}) {
      std::vector<unsigned char> in(bytes), out(bytes);
      for (auto& b : in) b = static_cast<unsigned char>(g());
      shuffle(in.data(), out.data(), bytes, size);
      const std::size_t n = bytes / size;
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t k = 0; k < size; ++k) ASSERT_EQ(out[k * n + i], in[i * size + k]) << size << " " << bytes;
      for (std::size_t j = n * size; j < bytes; ++j) ASSERT_EQ(out[j], in[j]);  // a partial value stays as it is
    }
}

TEST(DeflateRuns, ZlibInflatesEveryKindOfInputToItself) {
  std::mt19937_64 g(7);
  for (std::size_t n : {0, 1, 2, 3, 4, 9, 10, 11, 17, 1000, 1024, 1025, 4096, 100000, 300001}) {
    std::vector<unsigned char> zeros(n, 0), noise(n), sparse(n, 0), few(n), ramp(n), runs(n);
    for (auto& b : noise) b = static_cast<unsigned char>(g());
    for (std::size_t i = 0; i < n; ++i) {
      if (g() % 10 == 0) sparse[i] = static_cast<unsigned char>(g());
      few[i] = static_cast<unsigned char>(g() % 3);
      ramp[i] = static_cast<unsigned char>(i / 7);
      runs[i] = static_cast<unsigned char>((i / (1 + g() % 600)) % 5);  // runs of every length, 258 crossed
    }
    for (std::size_t segment : {std::size_t{1}, std::size_t{1024}, n / 4 + 1, n + 1}) {
      const std::string at = " n=" + std::to_string(n) + " segment=" + std::to_string(segment);
      round_trip(zeros, segment, "zeros" + at);
      round_trip(noise, segment, "noise" + at);
      round_trip(sparse, segment, "sparse" + at);
      round_trip(few, segment, "few" + at);
      round_trip(ramp, segment, "ramp" + at);
      round_trip(runs, segment, "runs" + at);
    }
  }
}

TEST(DeflateRuns, SkewedFrequenciesGetCodesOfAtMostFifteenBits) {
  // Fibonacci-like frequencies make a plain Huffman code deeper than deflate's 15 bits.
  std::vector<unsigned char> in;
  std::uint64_t a = 1, b = 1;
  for (int s = 0; s < 30; ++s) {
    for (std::uint64_t k = 0; k < a && in.size() < 2'000'000; ++k) in.push_back(static_cast<unsigned char>(s * 7 + 1));
    const std::uint64_t c = a + b;
    a = b;
    b = c;
  }
  std::mt19937_64 g(3);
  std::shuffle(in.begin(), in.end(), g);  // no runs: every symbol a literal
  EXPECT_TRUE(round_trip(in, in.size(), "skewed"));
}

TEST(DeflatePlanes, LiteralAndTokenBlocksWithCodesOfFifteenBitsInflateToThemselves) {
  // Codes of 15 bits (the most a literal's three per flush may take) and a rare long run (a token of up to 21
  // bits, the most two per flush may take), in literal and run blocks; lengths that leave 1, 2 and 3 bytes after
  // the last full group, and a block per segment.
  std::vector<unsigned char> in;
  std::uint64_t a = 1, b = 1;
  for (int s = 0; s < 25; ++s) {
    for (std::uint64_t k = 0; k < a; ++k) in.push_back(static_cast<unsigned char>(s * 7 + 1));
    const std::uint64_t c = a + b;
    a = b;
    b = c;
  }
  std::mt19937_64 g(5);
  std::shuffle(in.begin(), in.end(), g);
  for (std::size_t i = 0; i + 40 < in.size(); i += 997) std::fill(in.begin() + i, in.begin() + i + 40, in[i]);  // runs
  for (std::size_t k = 0; k < 3; ++k) {  // one rare long run per block: a deep length code with 5 extra bits
    const std::size_t at = k * (in.size() / 3) + 500;
    std::fill(in.begin() + static_cast<std::ptrdiff_t>(at), in.begin() + static_cast<std::ptrdiff_t>(at + 200), in[at]);
  }
  for (std::size_t cut : {std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{3}}) {
    const std::vector<unsigned char> part(in.begin(), in.end() - static_cast<std::ptrdiff_t>(cut));
    for (std::uint64_t literal : {std::uint64_t{0}, ~std::uint64_t{0}, std::uint64_t{0x2}}) {
      std::vector<unsigned char> z;
      deflate_planes(part.data(), part.size(), part.size() / 3 + 1, literal, z);
      EXPECT_EQ(inflate_all(z, part.size()), part) << "cut=" << cut << " literal=" << literal;
    }
  }
}

TEST(DeflateRuns, CompressesWhatIsMostlyRunsAndRefusesNoise) {
  std::vector<unsigned char> sparse(120000, 0), noise(120000);
  std::mt19937_64 g(11);
  for (std::size_t i = 0; i < sparse.size(); i += 97) sparse[i] = static_cast<unsigned char>(1 + g() % 200);
  for (auto& b : noise) b = static_cast<unsigned char>(g());
  std::vector<unsigned char> z;
  EXPECT_TRUE(deflate_runs(sparse.data(), sparse.size(), 30000, z));
  EXPECT_LT(z.size(), sparse.size() / 20);
  EXPECT_FALSE(deflate_runs(noise.data(), noise.size(), 30000, z));
}

TEST(DeflatePlanes, LiteralBlocksInflateToThemselvesBesideRunBlocks) {
  // Every mix of literal (bit set) and run blocks, at block and buffer edges: a run block whose first run copies
  // the last byte of a literal block, literal blocks of one byte value (a code padded to two symbols), noise.
  std::mt19937_64 g(13);
  for (std::size_t n : {0, 1, 5, 1024, 3000, 4096, 120000}) {
    std::vector<unsigned char> mixed(n, 0), zeros(n, 0), noise(n);
    for (std::size_t i = 0; i < n; ++i) {
      if (g() % 6 == 0) mixed[i] = static_cast<unsigned char>(g() % 40);
      noise[i] = static_cast<unsigned char>(g());
    }
    for (std::size_t segment : {std::size_t{1024}, n / 4 + 1}) {
      for (std::uint64_t literal : {std::uint64_t{0}, std::uint64_t{0x5}, std::uint64_t{0xa}, ~std::uint64_t{0}}) {
        for (const auto* in : {&mixed, &zeros, &noise}) {
          std::vector<unsigned char> z;
          const bool smaller = deflate_planes(in->data(), in->size(), segment, literal, z);
          const std::string at = " n=" + std::to_string(n) + " segment=" + std::to_string(segment) +
                                 " literal=" + std::to_string(literal);
          EXPECT_EQ(smaller, z.size() < in->size()) << at;
          EXPECT_EQ(inflate_all(z, in->size()), *in) << at;
        }
      }
    }
  }
}

TEST(DeflatePlanes, LiteralBlocksOfEveryLongestCodeInflateToThemselves) {
  // The literal writer joins 3 to 16 codes per flush according to the block's longest code: alphabets of 2 to
  // 256 byte values, halving in frequency from one value to the next (longest codes from 1 to 15 bits), each
  // at lengths that leave a partial group.
  std::mt19937_64 g(23);
  for (int values : {1, 2, 3, 4, 5, 6, 8, 11, 16, 24, 40, 100, 256}) {
    for (std::size_t n : {std::size_t{17}, std::size_t{1000}, std::size_t{30001}}) {
      std::vector<unsigned char> in(n);
      for (auto& b : in) {
        int k = 0;
        while (k + 1 < values && (g() & 1) != 0) ++k;
        b = static_cast<unsigned char>((k * 37 + 5) % 256);
      }
      std::vector<unsigned char> z;
      deflate_planes(in.data(), in.size(), in.size(), 1, z);
      EXPECT_EQ(inflate_all(z, in.size()), in) << "values=" << values << " n=" << n;
    }
  }
}

TEST(DeflatePlanes, LiteralPlanesOfFewValuesInflateToThemselvesWhereverAnotherValueAppears) {
  // Planes of at most eight byte values are counted by vector compares for the values of their first kilobyte, and
  // those of at most four coded 8 or 4 bytes per table entry: uniform and skewed frequencies (longest codes of 1 to
  // 4 bits), values at both ends of the byte range, lengths around multiples of 16, and a value the first kilobyte
  // lacks placed before, at and after its end.
  std::mt19937_64 g(29);
  const unsigned char pool[9] = {0, 255, 1, 128, 2, 254, 64, 3, 77};
  for (int values = 1; values <= 9; ++values)
    for (bool skewed : {false, true})
      for (std::size_t n : {std::size_t{15}, std::size_t{16}, std::size_t{1040}, std::size_t{4113}, std::size_t{30000}})
        for (long long extra : {-1LL, 0LL, 1023LL, 1024LL, 5000LL, static_cast<long long>(n) - 1}) {
          if (extra >= static_cast<long long>(n)) continue;
          std::vector<unsigned char> in(n);
          for (auto& b : in) {
            int k = 0;
            if (skewed)
              while (k + 1 < values && (g() & 1) != 0) ++k;
            else
              k = static_cast<int>(g() % static_cast<unsigned>(values));
            b = pool[k];
          }
          if (extra >= 0) in[static_cast<std::size_t>(extra)] = 200;  // in no pool
          std::vector<unsigned char> z;
          deflate_planes(in.data(), in.size(), in.size(), 1, z);
          EXPECT_EQ(inflate_all(z, in.size()), in)
              << "values=" << values << " skewed=" << skewed << " n=" << n << " extra at " << extra;
        }
}

TEST(DeflatePlanes, LiteralsAreAsSmallAsRunsOnScatteredBytesAndLargerOnLongRuns) {
  std::mt19937_64 g(17);
  std::vector<unsigned char> scattered(30000), runs(30000, 0);
  for (auto& b : scattered) b = g() % 3 == 0 ? static_cast<unsigned char>(g()) : 0;
  for (std::size_t i = 0; i < runs.size(); i += 1000) runs[i] = 7;
  std::vector<unsigned char> as_runs, as_literals;
  deflate_planes(scattered.data(), scattered.size(), scattered.size(), 0, as_runs);
  deflate_planes(scattered.data(), scattered.size(), scattered.size(), 1, as_literals);
  EXPECT_LT(as_literals.size(), as_runs.size() * 11 / 10);
  deflate_planes(runs.data(), runs.size(), runs.size(), 0, as_runs);
  deflate_planes(runs.data(), runs.size(), runs.size(), 1, as_literals);
  EXPECT_GT(as_literals.size(), 10 * as_runs.size());
}

TEST(JudgeSample, SizesTheSampleAsDeflateRunsCodesIt) {
  // The judgement sizes the sample without writing it: it must agree with the size of the stream deflate_runs
  // writes for the same shuffled sample, on either side of the limit.
  std::mt19937_64 g(19);
  for (int density : {2, 3, 4, 5, 8, 50}) {
    std::vector<float> v(kSampleValues);
    for (auto& x : v) x = g() % static_cast<unsigned>(density) == 0 ? static_cast<float>(g() % 100000) * 0.01f : 0.0f;
    std::vector<unsigned char> shuffled(v.size() * sizeof(float)), z;
    shuffle(reinterpret_cast<const unsigned char*>(v.data()), shuffled.data(), shuffled.size(), sizeof(float));
    deflate_runs(shuffled.data(), shuffled.size(), kSampleValues, z);
    const bool expect = static_cast<double>(z.size()) * kCompressRatio <= static_cast<double>(shuffled.size());
    const SampleJudgement j = judge_sample(v.data(), v.size(), sizeof(float));
    EXPECT_EQ(j.compress, expect) << "density 1/" << density << ", " << z.size() << " bytes";
    if (!j.compress) {
      EXPECT_EQ(j.literal, 0u);
    }
  }
  // Scattered values among zeros: compressed, their low byte planes as literals; long runs of zeros: runs.
  std::vector<float> scattered(40000, 0.0f), rare(40000, 0.0f);
  for (auto& x : scattered)
    if (g() % 6 == 0) x = static_cast<float>(g() % 100000) * 0.01f;
  for (std::size_t i = 0; i < rare.size(); i += 500) rare[i] = 3.0f;
  const SampleJudgement s = judge_sample(scattered.data(), scattered.size(), sizeof(float));
  EXPECT_TRUE(s.compress);
  EXPECT_EQ(s.literal & 0x3, 0x3u);
  const SampleJudgement r = judge_sample(rare.data(), rare.size(), sizeof(float));
  EXPECT_TRUE(r.compress);
  EXPECT_EQ(r.literal, 0u);
}

TEST(EncodeChunk, ChunksInflateAndUnshuffleToTheirValuesOrAreStoredRaw) {
  std::mt19937_64 g(5);
  const std::size_t rows = 25000, chunk_rows = 25003;  // an edge chunk: padded with zeros
  std::vector<float> sparse(rows, 0.0f), noisy(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    if (g() % 8 == 0) sparse[i] = static_cast<float>(g() % 1000) * 0.25f;
    noisy[i] = std::uniform_real_distribution<float>(0.0f, 1000.0f)(g);
  }
  for (const auto* v : {&sparse, &noisy}) {
    EncodedChunk out;
    encode_chunk(reinterpret_cast<const unsigned char*>(v->data()), rows, chunk_rows, sizeof(float), sizeof(float),
                 out);
    ASSERT_FALSE(out.zero);
    std::vector<unsigned char> expect(chunk_rows * sizeof(float), 0);
    std::memcpy(expect.data(), v->data(), rows * sizeof(float));
    if (v == &sparse) {
      ASSERT_EQ(out.mask, 0u);
      const auto shuffled = inflate_all(out.bytes, expect.size());
      ASSERT_EQ(shuffled.size(), expect.size());
      std::vector<unsigned char> values(expect.size());
      for (std::size_t i = 0; i < chunk_rows; ++i)  // HDF5's unshuffle
        for (std::size_t k = 0; k < sizeof(float); ++k) values[i * sizeof(float) + k] = shuffled[k * chunk_rows + i];
      EXPECT_EQ(values, expect);
    } else {
      EXPECT_EQ(out.mask, kRawMask);
      EXPECT_EQ(std::vector<unsigned char>(out.data(), out.data() + out.size()), expect);
    }
  }
  // A whole raw chunk points to the caller's data rather than copying it.
  EncodedChunk whole;
  encode_chunk(reinterpret_cast<const unsigned char*>(noisy.data()), rows, rows, sizeof(float), sizeof(float), whole);
  EXPECT_EQ(whole.mask, kRawMask);
  EXPECT_EQ(whole.data(), reinterpret_cast<const unsigned char*>(noisy.data()));
  EXPECT_EQ(whole.size(), rows * sizeof(float));
  EncodedChunk zero;
  std::vector<float> none(rows, 0.0f);
  encode_chunk(reinterpret_cast<const unsigned char*>(none.data()), rows, chunk_rows, sizeof(float), sizeof(float),
               zero);
  EXPECT_TRUE(zero.zero);
}

}  // namespace
}  // namespace chacra::output::codec
