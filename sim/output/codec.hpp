// The chunk codec of the HDF5 writer: HDF5's shuffle filter and deflate (a run-length deflate encoder of its own,
// in the zlib format HDF5's deflate filter reads), applied by chacra itself in parallel, and the choice per chunk of storing it compressed,
// raw or not at all (docs/output.md, "Storage"; the measurements behind the choices: docs/performance.md and
// benchmarks/bench_output.cpp).
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace chacra::output::codec {

// HDF5's shuffle filter: byte k of element i goes to position k * elements + i (bytes past the last whole
// element are copied as they are).
void shuffle(const unsigned char* in, unsigned char* out, std::size_t bytes, std::size_t element_size);

// One zlib deflate state, reset for each input: the benchmarks' zlib levels and strategies, beside which the
// writer's own encoder (deflate_runs, deflate_planes) and its sample judgement (judge_sample) are measured.
class Deflater {
 public:
  explicit Deflater(int level = 1, int strategy = Z_RLE);
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;
  // Compresses `in` into `out`; false if zlib fails or the result is not smaller than the input.
  bool compress(const unsigned char* in, std::size_t size, std::vector<unsigned char>& out);

 private:
  z_stream zs_{};
  bool ok_ = false;
};

// Deflate restricted to what the shuffled panel needs: runs of a repeated byte (matches at distance 1, as zlib's
// Z_RLE strategy finds them) and literals, Huffman-coded with codes built for each block (one block per
// `segment` bytes of input: a byte plane of a shuffled chunk), in the zlib format that HDF5's deflate filter and
// any inflate read. Runs are found eight bytes at a time, so a chunk of mostly zeros or of few distinct values
// is encoded at about 1-4 GB/s, up to 9 times libdeflate's level 1 on the default panel, and 0-20% smaller than
// it (one Huffman code per byte plane; docs/performance.md, "Output at 2 threads"). Deterministic in the data.
// Compresses `in` into `out`; false if the result is not smaller than the input.
bool deflate_runs(const unsigned char* in, std::size_t size, std::size_t segment, std::vector<unsigned char>& out);

// deflate_runs, except that block k (k < 64) is coded as plain literals, without looking for runs, where bit k
// of `literal` is set: about 2.5 times as fast, and as small where runs are short (scattered values among
// zeros, small codes). The same format.
bool deflate_planes(const unsigned char* in, std::size_t size, std::size_t segment, std::uint64_t literal,
                    std::vector<unsigned char>& out);

// A chunk is judged from a sample: the shuffled bytes of its first kSampleValues values, sized as deflate_runs
// would code them (without writing them). It is compressed only if the sample shrinks kCompressRatio times: noise
// (incomes, consumption, cash: about 1.2x) and the poverty gap (about 2x, the costliest to deflate for what it
// saves) are stored raw; flags, sparse flows, counts, technology states and repeated values (about 2-1000x) are
// compressed. Deterministic in the data.
inline constexpr std::size_t kSampleValues = 1024;
inline constexpr double kCompressRatio = 2.0;
struct SampleJudgement {
  bool compress = false;  // the sample shrinks at least kCompressRatio times
  // Byte planes to code as plain literals (deflate_planes): those whose literals alone take at most a quarter
  // more bits than runs and literals in the sample; set only for a chunk worth compressing with a whole sample.
  std::uint64_t literal = 0;
};
SampleJudgement judge_sample(const void* data, std::size_t elements, std::size_t element_size);

// Rows per chunk for `rows` rows and at most `max_rows` per chunk: the rows split into equal chunks, so the
// last chunk is not mostly padding (HDF5 stores every chunk whole; raw chunks would store the padding).
std::size_t balanced_chunk_rows(std::size_t rows, std::size_t max_rows);

// HDF5's filter mask of a chunk stored without its shuffle and deflate filters.
inline constexpr std::uint32_t kRawMask = 0x3;

// One chunk as the writer stores it.
struct EncodedChunk {
  bool zero = false;  // every byte zero: not written, readers get the dataset's fill value, 0
  std::uint32_t mask = 0;  // 0: shuffled and deflated; kRawMask: stored as it is
  std::vector<unsigned char> bytes;
  // A raw chunk that is a whole chunk of the caller's data is not copied: it points there (valid while the
  // data is).
  const unsigned char* raw = nullptr;
  std::size_t raw_size = 0;
  // The bytes to store.
  const unsigned char* data() const { return raw != nullptr ? raw : bytes.data(); }
  std::size_t size() const { return raw != nullptr ? raw_size : bytes.size(); }
};

// How a chunk is to be stored, decided from its bytes: not at all (every byte zero), raw, or compressed with the
// sample's choice of literal planes.
struct ChunkPlan {
  bool zero = false;
  SampleJudgement judged;
};
// The plan of one chunk whose first `rows` rows of `row_bytes` bytes are `data` (the rest, padding, is zero);
// `element_size` is the size of one value.
ChunkPlan plan_chunk(const unsigned char* data, std::size_t rows, std::size_t row_bytes, std::size_t element_size);
// Encodes that chunk, of `chunk_rows` rows (an edge chunk is padded with zeros: HDF5 stores every chunk whole), as
// `plan` says.
void encode_planned(const unsigned char* data, std::size_t rows, std::size_t chunk_rows, std::size_t row_bytes,
                    std::size_t element_size, const ChunkPlan& plan, EncodedChunk& out);
// plan_chunk, then encode_planned.
void encode_chunk(const unsigned char* data, std::size_t rows, std::size_t chunk_rows, std::size_t row_bytes,
                  std::size_t element_size, EncodedChunk& out);

}  // namespace chacra::output::codec
