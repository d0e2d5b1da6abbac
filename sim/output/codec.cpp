// The writer's chunk codec (see sim/output/codec.hpp). Readers (HDF5, h5py) apply a chunk's filters according
// to its mask, so the file reads back the same values whether a chunk was stored compressed or raw; the bytes
// are deterministic.
#include "sim/output/codec.hpp"

#include <libdeflate.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace chacra::output::codec {

void shuffle(const unsigned char* in, unsigned char* out, std::size_t bytes, std::size_t size) {
  if (size <= 1) {
    std::memcpy(out, in, bytes);
    return;
  }
  const std::size_t elements = bytes / size;
  if (size == 4) {
    for (std::size_t i = 0; i < elements; ++i) {
      out[i] = in[4 * i];
      out[elements + i] = in[4 * i + 1];
      out[2 * elements + i] = in[4 * i + 2];
      out[3 * elements + i] = in[4 * i + 3];
    }
  } else {
    for (std::size_t i = 0; i < elements; ++i)
      for (std::size_t k = 0; k < size; ++k) out[k * elements + i] = in[i * size + k];
  }
  std::memcpy(out + elements * size, in + elements * size, bytes - elements * size);
}

Deflater::Deflater(int level, int strategy) { ok_ = deflateInit2(&zs_, level, Z_DEFLATED, 15, 8, strategy) == Z_OK; }

Deflater::~Deflater() {
  if (ok_) deflateEnd(&zs_);
}

bool Deflater::compress(const unsigned char* in, std::size_t size, std::vector<unsigned char>& out) {
  if (!ok_ || deflateReset(&zs_) != Z_OK) return false;
  out.resize(deflateBound(&zs_, static_cast<uLong>(size)));
  zs_.next_in = const_cast<unsigned char*>(in);
  zs_.avail_in = static_cast<uInt>(size);
  zs_.next_out = out.data();
  zs_.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs_, Z_FINISH) != Z_STREAM_END) return false;
  out.resize(out.size() - zs_.avail_out);
  return out.size() < size;
}

FastDeflater::FastDeflater() : compressor_(libdeflate_alloc_compressor(1)) {
  if (compressor_ == nullptr) throw std::bad_alloc();
}

FastDeflater::~FastDeflater() { libdeflate_free_compressor(compressor_); }

bool FastDeflater::compress(const unsigned char* in, std::size_t size, std::vector<unsigned char>& out) {
  out.resize(libdeflate_zlib_compress_bound(compressor_, size));
  const std::size_t n = libdeflate_zlib_compress(compressor_, in, size, out.data(), out.size());
  out.resize(n);
  return n > 0 && n < size;
}

namespace {

// One deflate state of each kind per thread, reset for each chunk.
Deflater& thread_deflater() {
  thread_local Deflater deflater;
  return deflater;
}
FastDeflater& thread_fast_deflater() {
  thread_local FastDeflater deflater;
  return deflater;
}

// How many times the shuffled bytes of the first 1024 values of a chunk shrink under zlib's Z_RLE (0: they do
// not, or there are none).
double sample_ratio(Deflater& deflater, const unsigned char* data, std::size_t elements, std::size_t size) {
  const std::size_t m = std::min<std::size_t>(elements, 1024);
  if (m == 0) return 0.0;
  thread_local std::vector<unsigned char> sample, out;
  sample.resize(m * size);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t k = 0; k < size; ++k) sample[k * m + i] = data[i * size + k];
  if (!deflater.compress(sample.data(), sample.size(), out)) return 0.0;
  return static_cast<double>(sample.size()) / static_cast<double>(out.size());
}

// Whether n bytes are all zero; most chunks that are not differ in their first kilobyte.
bool all_zero_bytes(const unsigned char* p, std::size_t n) {
  constexpr std::size_t kStep = 1024;
  for (std::size_t k = 0; k < n; k += kStep) {
    const std::size_t end = std::min(n, k + kStep);
    unsigned char any = 0;
    for (std::size_t j = k; j < end; ++j) any |= p[j];
    if (any != 0) return false;
  }
  return true;
}

}  // namespace

bool worth_compressing(const void* data, std::size_t elements, std::size_t element_size) {
  return sample_ratio(thread_deflater(), static_cast<const unsigned char*>(data), elements, element_size) >= 2.0;
}

std::size_t balanced_chunk_rows(std::size_t rows, std::size_t max_rows) {
  if (rows == 0) return 1;
  const std::size_t chunks = (rows + max_rows - 1) / max_rows;
  return (rows + chunks - 1) / chunks;
}

void encode_chunk(const unsigned char* data, std::size_t rows, std::size_t chunk_rows, std::size_t row_bytes,
                  std::size_t element_size, EncodedChunk& out) {
  const std::size_t chunk_bytes = chunk_rows * row_bytes;
  std::vector<unsigned char> full;
  if (rows < chunk_rows) {  // an edge chunk is stored whole: pad with zeros
    full.assign(chunk_bytes, 0);
    std::memcpy(full.data(), data, rows * row_bytes);
    data = full.data();
  }
  out.zero = all_zero_bytes(data, chunk_bytes);
  if (out.zero) return;
  Deflater& deflater = thread_deflater();
  const double ratio = sample_ratio(deflater, data, rows * row_bytes / element_size, element_size);
  if (ratio >= 2.0) {
    thread_local std::vector<unsigned char> shuffled;
    shuffled.resize(chunk_bytes);
    shuffle(data, shuffled.data(), chunk_bytes, element_size);
    const bool compressed = ratio >= kRunLengthRatio ? deflater.compress(shuffled.data(), chunk_bytes, out.bytes)
                                                     : thread_fast_deflater().compress(shuffled.data(), chunk_bytes, out.bytes);
    if (compressed) {
      out.mask = 0;
      return;
    }
  }
  out.bytes.assign(data, data + chunk_bytes);
  out.mask = kRawMask;
}

}  // namespace chacra::output::codec
