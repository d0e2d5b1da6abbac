// The writer's chunk codec (see sim/output/codec.hpp). Readers (HDF5, h5py) apply a chunk's filters according
// to its mask, so the file reads back the same values whether a chunk was stored compressed or raw; the bytes
// are deterministic.
#include "sim/output/codec.hpp"

#include <libdeflate.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>

#if defined(__SSE2__) && defined(__x86_64__) && !defined(CHACRA_NO_SIMD)
#define CHACRA_SHUFFLE_SSE2 1
#include <emmintrin.h>
#endif

namespace chacra::output::codec {

namespace {

#if defined(CHACRA_SHUFFLE_SSE2)
// The shuffle of 4-byte values, 16 at a time (a byte transpose by three rounds of unpacks): about ten times the
// scalar loop, which writes four bytes to four places per value. Returns the values done.
std::size_t shuffle4_sse2(const unsigned char* in, unsigned char* out, std::size_t elements) {
  std::size_t i = 0;
  for (; i + 16 <= elements; i += 16) {
    const auto* p = reinterpret_cast<const __m128i*>(in + 4 * i);
    const __m128i a = _mm_loadu_si128(p), b = _mm_loadu_si128(p + 1), c = _mm_loadu_si128(p + 2),
                  d = _mm_loadu_si128(p + 3);
    const __m128i t0 = _mm_unpacklo_epi8(a, b), t1 = _mm_unpackhi_epi8(a, b);
    const __m128i t2 = _mm_unpacklo_epi8(c, d), t3 = _mm_unpackhi_epi8(c, d);
    const __m128i u0 = _mm_unpacklo_epi8(t0, t1), u1 = _mm_unpackhi_epi8(t0, t1);
    const __m128i u2 = _mm_unpacklo_epi8(t2, t3), u3 = _mm_unpackhi_epi8(t2, t3);
    // v0: bytes 0 and 1 of values 0-7; v1: bytes 2 and 3; v2, v3: the same of values 8-15.
    const __m128i v0 = _mm_unpacklo_epi8(u0, u1), v1 = _mm_unpackhi_epi8(u0, u1);
    const __m128i v2 = _mm_unpacklo_epi8(u2, u3), v3 = _mm_unpackhi_epi8(u2, u3);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm_unpacklo_epi64(v0, v2));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + elements + i), _mm_unpackhi_epi64(v0, v2));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 * elements + i), _mm_unpacklo_epi64(v1, v3));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 3 * elements + i), _mm_unpackhi_epi64(v1, v3));
  }
  return i;
}
#endif

}  // namespace

void shuffle(const unsigned char* in, unsigned char* out, std::size_t bytes, std::size_t size) {
  if (bytes == 0) return;  // empty buffers may be null, which memcpy must not be given
  if (size <= 1) {
    std::memcpy(out, in, bytes);
    return;
  }
  const std::size_t elements = bytes / size;
  if (size == 4) {
    std::size_t i = 0;
#if defined(CHACRA_SHUFFLE_SSE2)
    i = shuffle4_sse2(in, out, elements);
#endif
    for (; i < elements; ++i) {
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

namespace {

// Deflate's literal/length symbols (RFC 1951: 0-255 literals, 256 end of block, 257-285 lengths), code-length
// symbols, and the longest code.
constexpr int kLitLen = 286, kCodeLen = 19, kMaxBits = 15;

// Huffman code lengths for `n` symbols of frequencies `freq` (0: unused), at most `limit` bits; at least two
// symbols get a length when at least one is used (a complete code).
void code_lengths(const std::uint32_t* freq, int n, int limit, std::uint8_t* len) {
  std::vector<std::uint32_t> f(freq, freq + n);
  int used = 0;
  for (int i = 0; i < n; ++i) used += f[i] != 0;
  if (used < 2) {  // pad to two symbols
    for (int i = 0; i < n && used < 2; ++i)
      if (f[i] == 0) { f[i] = 1; ++used; }
  }
  for (;;) {
    // Huffman by two queues over symbols sorted by frequency.
    struct Node { std::uint64_t w; int parent; };
    std::vector<int> sym;
    for (int i = 0; i < n; ++i) if (f[i] != 0) sym.push_back(i);
    std::sort(sym.begin(), sym.end(), [&](int a, int b) { return f[a] != f[b] ? f[a] < f[b] : a < b; });
    const int m = static_cast<int>(sym.size());
    std::vector<Node> nodes(2 * m - 1);
    for (int i = 0; i < m; ++i) nodes[i] = {f[sym[i]], -1};
    int leaf = 0, inner = m, next = m;
    auto take = [&]() {
      if (leaf < m && (inner >= next || nodes[leaf].w <= nodes[inner].w)) return leaf++;
      return inner++;
    };
    for (; next < 2 * m - 1; ++next) {
      const int a = take(), b = take();
      nodes[next] = {nodes[a].w + nodes[b].w, -1};
      nodes[a].parent = next;
      nodes[b].parent = next;
    }
    std::vector<int> depth(2 * m - 1, 0);
    int maxd = 0;
    for (int i = 2 * m - 3; i >= 0; --i) depth[i] = depth[nodes[i].parent] + 1;  // parents come after children
    for (int i = 0; i < m; ++i) maxd = std::max(maxd, depth[i]);
    if (maxd <= limit) {
      std::fill(len, len + n, 0);
      for (int i = 0; i < m; ++i) len[sym[i]] = static_cast<std::uint8_t>(depth[i]);
      return;
    }
    // Too deep: flatten the frequencies and build again (rare: only very skewed blocks).
    for (auto& x : f)
      if (x != 0) x = (x >> 1) | 1;
  }
}

// Canonical codes (bit-reversed for deflate's LSB-first packing).
void canonical(const std::uint8_t* len, int n, std::uint16_t* code) {
  std::uint16_t count[kMaxBits + 1] = {0}, next[kMaxBits + 2] = {0};
  for (int i = 0; i < n; ++i) ++count[len[i]];
  count[0] = 0;
  std::uint16_t c = 0;
  for (int b = 1; b <= kMaxBits; ++b) { c = static_cast<std::uint16_t>((c + count[b - 1]) << 1); next[b] = c; }
  for (int i = 0; i < n; ++i) {
    if (len[i] == 0) { code[i] = 0; continue; }
    std::uint16_t v = next[len[i]]++, r = 0;
    for (int b = 0; b < len[i]; ++b) r = static_cast<std::uint16_t>((r << 1) | ((v >> b) & 1));
    code[i] = r;
  }
}

// Deflate's bit packing: least significant bit first, a 32-bit word at a time into a buffer large enough.
struct BitWriter {
  unsigned char* p;
  std::uint64_t buf = 0;
  int bits = 0;
  void put(std::uint32_t v, int n) {
    buf |= static_cast<std::uint64_t>(v) << bits;
    bits += n;
    if (bits >= 32) {
      const std::uint32_t w = static_cast<std::uint32_t>(buf);
      std::memcpy(p, &w, 4);
      p += 4;
      buf >>= 32;
      bits -= 32;
    }
  }
  void flush() {
    while (bits > 0) { *p++ = static_cast<unsigned char>(buf); buf >>= 8; bits -= 8; }
    bits = 0; buf = 0;
  }
};

// The symbol and extra bits of each match length 3..258 (RFC 1951, 3.2.5).
struct LenCode {
  std::uint16_t sym;
  std::uint8_t extra_bits;
  std::uint16_t extra;
};
const std::array<LenCode, 259>& length_codes() {
  static const std::array<LenCode, 259> t = [] {
    std::array<LenCode, 259> t{};
    static const int base[29] = {3,4,5,6,7,8,9,10,11,13,15,17,19,23,27,31,35,43,51,59,67,83,99,115,131,163,195,227,258};
    static const int ext[29] = {0,0,0,0,0,0,0,0,1,1,1,1,2,2,2,2,3,3,3,3,4,4,4,4,5,5,5,5,0};
    for (int l = 3; l <= 258; ++l) {
      int k = 28;
      while (base[k] > l) --k;
      if (l == 258) k = 28;
      t[l] = {static_cast<std::uint16_t>(257 + k), static_cast<std::uint8_t>(ext[k]), static_cast<std::uint16_t>(l - base[k])};
    }
    return t;
  }();
  return t;
}

// One dynamic-Huffman block of `count` tokens (a literal byte, < 256, or 256 + the length, 3..258, of a match at
// distance 1) whose symbol frequencies are `freq_in`.
void write_block(BitWriter& w, const std::uint16_t* tok, std::size_t count, const std::uint32_t* freq_in, bool last) {
  const auto& lc = length_codes();
  std::uint32_t freq[kLitLen];
  std::memcpy(freq, freq_in, sizeof freq);
  freq[256] = 1;
  std::uint8_t len[kLitLen + 2];
  std::uint16_t code[kLitLen];
  code_lengths(freq, kLitLen, kMaxBits, len);
  canonical(len, kLitLen, code);
  int hlit = kLitLen;
  while (hlit > 257 && len[hlit - 1] == 0) --hlit;
  // Distance codes: 0 and 1 of one bit each (a complete code; only distance 1, code 0, is used).
  len[hlit] = 1;
  len[hlit + 1] = 1;
  const int total = hlit + 2;
  // Run-length code the code lengths.
  std::vector<std::uint8_t> cl_sym;
  std::vector<std::uint8_t> cl_extra;
  std::uint32_t cl_freq[kCodeLen] = {0};
  for (int i = 0; i < total;) {
    const std::uint8_t l = len[i];
    int r = 1;
    while (i + r < total && len[i + r] == l) ++r;
    if (l == 0 && r >= 3) {
      const int k = std::min(r, 138);
      if (k >= 11) { cl_sym.push_back(18); cl_extra.push_back(static_cast<std::uint8_t>(k - 11)); }
      else { cl_sym.push_back(17); cl_extra.push_back(static_cast<std::uint8_t>(k - 3)); }
      ++cl_freq[cl_sym.back()];
      i += k;
    } else if (l != 0 && r >= 4) {
      cl_sym.push_back(l); cl_extra.push_back(0); ++cl_freq[l];
      const int k = std::min(r - 1, 6);
      cl_sym.push_back(16); cl_extra.push_back(static_cast<std::uint8_t>(k - 3)); ++cl_freq[16];
      i += 1 + k;
    } else {
      cl_sym.push_back(l); cl_extra.push_back(0); ++cl_freq[l];
      ++i;
    }
  }
  std::uint8_t cl_len[kCodeLen];
  std::uint16_t cl_code[kCodeLen];
  code_lengths(cl_freq, kCodeLen, 7, cl_len);
  canonical(cl_len, kCodeLen, cl_code);
  static const int order[kCodeLen] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
  int hclen = kCodeLen;
  while (hclen > 4 && cl_len[order[hclen - 1]] == 0) --hclen;
  w.put(last ? 1 : 0, 1);
  w.put(2, 2);
  w.put(static_cast<std::uint32_t>(hlit - 257), 5);
  w.put(1, 5);  // HDIST - 1: two distance codes
  w.put(static_cast<std::uint32_t>(hclen - 4), 4);
  for (int i = 0; i < hclen; ++i) w.put(cl_len[order[i]], 3);
  for (std::size_t i = 0; i < cl_sym.size(); ++i) {
    const int s = cl_sym[i];
    w.put(cl_code[s], cl_len[s]);
    if (s == 16) w.put(cl_extra[i], 2);
    else if (s == 17) w.put(cl_extra[i], 3);
    else if (s == 18) w.put(cl_extra[i], 7);
  }
  // Every token as one bit pattern: a literal's code, or a length's code, extra bits and the distance code 0.
  std::uint32_t pat[256 + 259];
  std::uint8_t plen[256 + 259];
  for (int t = 0; t < 256; ++t) { pat[t] = code[t]; plen[t] = len[t]; }
  for (int r = 3; r <= 258; ++r) {
    const LenCode& c = lc[r];
    pat[256 + r] = code[c.sym] | (static_cast<std::uint32_t>(c.extra) << len[c.sym]);
    plen[256 + r] = static_cast<std::uint8_t>(len[c.sym] + c.extra_bits + 1);  // distance code 0: a 0 bit
  }
  for (std::size_t i = 0; i < count; ++i) w.put(pat[tok[i]], plen[tok[i]]);
  w.put(code[256], len[256]);
}

}  // namespace

bool deflate_runs(const unsigned char* in, std::size_t n, std::size_t segment, std::vector<unsigned char>& out) {
  segment = std::max<std::size_t>(segment, 1024);
  thread_local std::vector<std::uint16_t> tok;
  tok.resize(std::min(n, segment) + 1);
  // Room for the worst case (literals of 15 bits, a header of at most 320 bytes per block), not zeroed: the
  // stream is copied out once its size is known.
  thread_local std::unique_ptr<unsigned char[]> buffer;
  thread_local std::size_t capacity = 0;
  const std::size_t room = 2 * n + 320 * (n / segment + 1) + 16;
  if (capacity < room) {
    buffer.reset(new unsigned char[room]);
    capacity = room;
  }
  buffer[0] = 0x78;  // zlib header: deflate, 32 KiB window, no dictionary, fastest level
  buffer[1] = 0x01;
  BitWriter w{buffer.get() + 2};
  std::size_t i = 0;
  while (i < n) {
    const std::size_t end = std::min(n, i + segment);
    std::uint32_t freq4[4][kLitLen] = {};  // four histograms: no store-to-load chain on a repeated symbol
    std::size_t t = 0;
    const auto& lc = length_codes();
    auto literal = [&](unsigned char b) {
      tok[t] = b;
      ++freq4[t & 3][b];
      ++t;
    };
    while (i < end) {
      // The next run start j >= i (in[j - 1] == in[j] == in[j + 1] == in[j + 2]), eight positions at a time.
      std::size_t j = i;
      bool found = false;
      while (j < end) {
        if (j >= 1 && j + 10 <= n) {
          std::uint64_t a, b, c, e;
          std::memcpy(&a, in + j - 1, 8);
          std::memcpy(&b, in + j, 8);
          std::memcpy(&c, in + j + 1, 8);
          std::memcpy(&e, in + j + 2, 8);
          const std::uint64_t d = (a ^ b) | (b ^ c) | (c ^ e);
          constexpr std::uint64_t k7 = 0x7f7f7f7f7f7f7f7full;
          const std::uint64_t zero = ~(((d & k7) + k7) | d | k7);  // 0x80 in each byte of d that is zero
          if (zero != 0) {
            j += static_cast<std::size_t>(__builtin_ctzll(zero) >> 3);
            found = j < end;
            if (!found) j = end;
            break;
          }
          j += 8;
        } else {
          if (j >= 1 && j + 3 <= n && in[j] == in[j - 1] && in[j + 1] == in[j - 1] && in[j + 2] == in[j - 1]) {
            found = true;
            break;
          }
          ++j;
        }
      }
      if (j > end) j = end;
      for (; i < j; ++i) literal(in[i]);
      if (!found) continue;
      const unsigned char b = in[i - 1];
      std::size_t r = 3;
      const std::size_t maxr = std::min<std::size_t>(258, n - i);
      const std::uint64_t bb = 0x0101010101010101ull * b;
      while (r + 8 <= maxr) {
        std::uint64_t x;
        std::memcpy(&x, in + i + r, 8);
        x ^= bb;
        if (x != 0) { r += static_cast<std::size_t>(__builtin_ctzll(x) >> 3); goto done; }
        r += 8;
      }
      while (r < maxr && in[i + r] == b) ++r;
    done:
      tok[t] = static_cast<std::uint16_t>(256 + r);
      ++freq4[t & 3][lc[r].sym];
      ++t;
      i += r;
    }
    std::uint32_t freq[kLitLen];
    for (int k = 0; k < kLitLen; ++k) freq[k] = freq4[0][k] + freq4[1][k] + freq4[2][k] + freq4[3][k];
    write_block(w, tok.data(), t, freq, i >= n);
  }
  if (n == 0) {
    const std::uint32_t none[kLitLen] = {};
    write_block(w, tok.data(), 0, none, true);
  }
  w.flush();
  const std::uint32_t a = libdeflate_adler32(1, in, n);  // the zlib format's trailer, big-endian
  unsigned char* p = w.p;
  *p++ = static_cast<unsigned char>(a >> 24);
  *p++ = static_cast<unsigned char>(a >> 16);
  *p++ = static_cast<unsigned char>(a >> 8);
  *p++ = static_cast<unsigned char>(a);
  out.assign(buffer.get(), p);
  return out.size() < n;
}

namespace {

// How many times the shuffled bytes of the first 1024 values of a chunk shrink under deflate_runs (0: they do
// not, or there are none).
double sample_ratio(const unsigned char* data, std::size_t elements, std::size_t size) {
  const std::size_t m = std::min<std::size_t>(elements, 1024);
  if (m == 0) return 0.0;
  thread_local std::vector<unsigned char> sample, out;
  sample.resize(m * size);
  shuffle(data, sample.data(), m * size, size);
  if (!deflate_runs(sample.data(), sample.size(), m, out)) return 0.0;
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
  return sample_ratio(static_cast<const unsigned char*>(data), elements, element_size) >= 2.0;
}

std::size_t balanced_chunk_rows(std::size_t rows, std::size_t max_rows) {
  if (rows == 0) return 1;
  const std::size_t chunks = (rows + max_rows - 1) / max_rows;
  return (rows + chunks - 1) / chunks;
}

void encode_chunk(const unsigned char* data, std::size_t rows, std::size_t chunk_rows, std::size_t row_bytes,
                  std::size_t element_size, EncodedChunk& out) {
  const std::size_t chunk_bytes = chunk_rows * row_bytes;
  out.raw = nullptr;
  out.raw_size = 0;
  std::vector<unsigned char> full;
  if (rows < chunk_rows) {  // an edge chunk is stored whole: pad with zeros
    full.assign(chunk_bytes, 0);
    std::memcpy(full.data(), data, rows * row_bytes);
    data = full.data();
  }
  out.zero = all_zero_bytes(data, chunk_bytes);
  if (out.zero) return;
  const double ratio = sample_ratio(data, rows * row_bytes / element_size, element_size);
  if (ratio >= 2.0) {
    thread_local std::vector<unsigned char> shuffled;
    const unsigned char* in = data;
    if (element_size > 1) {
      shuffled.resize(chunk_bytes);
      shuffle(data, shuffled.data(), chunk_bytes, element_size);
      in = shuffled.data();
    }
    // A block per byte plane: the planes of a shuffled chunk differ (high bytes mostly zero, low bytes noisy).
    if (deflate_runs(in, chunk_bytes, chunk_bytes / element_size, out.bytes)) {
      out.mask = 0;
      return;
    }
  }
  out.mask = kRawMask;
  if (full.empty()) {
    out.bytes.clear();
    out.raw = data;
    out.raw_size = chunk_bytes;
  } else {
    out.bytes = std::move(full);
  }
}

}  // namespace chacra::output::codec
