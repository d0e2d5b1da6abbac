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
#define CHACRA_CODEC_SSE2 1
#include <emmintrin.h>
#endif

namespace chacra::output::codec {

namespace {

#if defined(CHACRA_CODEC_SSE2)
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
#if defined(CHACRA_CODEC_SSE2)
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
// Up to this many used symbols, code_lengths sorts them by insertion rather than by radix.
constexpr int kInsertionSortSymbols = 40;

// The first length and the extra bits of each length symbol 257 + k (RFC 1951, 3.2.5).
constexpr int kLengthBase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
constexpr int kLengthExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};

// Huffman code lengths for `n` symbols of frequencies `freq` (0: unused), at most `limit` bits; at least two
// symbols get a length when at least one is used (a complete code). On the stack: it runs for every block and
// every chunk's sample.
void code_lengths(const std::uint32_t* freq, int n, int limit, std::uint8_t* len) {
  std::uint32_t f[kLitLen];
  std::copy(freq, freq + n, f);
  int used = 0;
  for (int i = 0; i < n; ++i) used += f[i] != 0;
  for (int i = 0; i < n && used < 2; ++i)  // pad to two symbols
    if (f[i] == 0) {
      f[i] = 1;
      ++used;
    }
  for (;;) {
    // Huffman by two queues over the symbols sorted by frequency, then symbol: a stable radix sort of the
    // symbols, taken in order, by frequency a byte at a time (faster than a comparison sort on up to 286).
    std::uint16_t sym_a[kLitLen], sym_b[kLitLen];
    std::uint16_t* sym = sym_a;
    std::uint16_t* tmp = sym_b;
    int m = 0;
    std::uint32_t most = 0;
    for (int i = 0; i < n; ++i)
      if (f[i] != 0) {
        sym[m++] = static_cast<std::uint16_t>(i);
        most = std::max(most, f[i]);
      }
    if (m <= kInsertionSortSymbols) {
      // Few symbols (the planes of scattered values and small codes): an insertion sort by (frequency, symbol),
      // the same order as the radix sort's, without its 257-entry counts per byte of the frequencies.
      std::uint64_t key[kInsertionSortSymbols];
      for (int i = 0; i < m; ++i) {
        const std::uint64_t k = (std::uint64_t{f[sym[i]]} << 16) | sym[i];
        int j = i;
        for (; j > 0 && key[j - 1] > k; --j) key[j] = key[j - 1];
        key[j] = k;
      }
      for (int i = 0; i < m; ++i) sym[i] = static_cast<std::uint16_t>(key[i] & 0xffff);
    } else {
      for (int shift = 0; shift < 32 && (most >> shift) != 0; shift += 8) {
        int count[257] = {0};
        for (int i = 0; i < m; ++i) ++count[((f[sym[i]] >> shift) & 0xff) + 1];
        for (int d = 0; d < 256; ++d) count[d + 1] += count[d];
        for (int i = 0; i < m; ++i) tmp[count[(f[sym[i]] >> shift) & 0xff]++] = sym[i];
        std::swap(sym, tmp);
      }
    }
    std::uint64_t w[2 * kLitLen];
    int parent[2 * kLitLen];
    std::uint16_t depth[2 * kLitLen];
    for (int i = 0; i < m; ++i) w[i] = f[sym[i]];
    int leaf = 0, inner = m, next = m;
    auto take = [&]() {
      if (leaf < m && (inner >= next || w[leaf] <= w[inner])) return leaf++;
      return inner++;
    };
    for (; next < 2 * m - 1; ++next) {
      const int a = take(), b = take();
      w[next] = w[a] + w[b];
      parent[a] = next;
      parent[b] = next;
    }
    depth[2 * m - 2] = 0;
    int maxd = 0;
    for (int i = 2 * m - 3; i >= 0; --i) depth[i] = static_cast<std::uint16_t>(depth[parent[i]] + 1);  // parents come after children
    for (int i = 0; i < m; ++i) maxd = std::max<int>(maxd, depth[i]);
    if (maxd <= limit) {
      std::fill(len, len + n, 0);
      for (int i = 0; i < m; ++i) len[sym[i]] = static_cast<std::uint8_t>(depth[i]);
      return;
    }
    // Too deep: flatten the frequencies and build again (rare: only very skewed blocks).
    for (int i = 0; i < n; ++i)
      if (f[i] != 0) f[i] = (f[i] >> 1) | 1;
  }
}

// The 16 bits of v in reverse order.
std::uint16_t reverse16(std::uint16_t v) {
  static const std::array<std::uint8_t, 256> rev = [] {
    std::array<std::uint8_t, 256> t{};
    for (int x = 0; x < 256; ++x)
      for (int b = 0; b < 8; ++b) t[x] = static_cast<std::uint8_t>(t[x] | (((x >> b) & 1) << (7 - b)));
    return t;
  }();
  return static_cast<std::uint16_t>((rev[v & 0xff] << 8) | rev[v >> 8]);
}

// Canonical codes (bit-reversed for deflate's LSB-first packing).
void canonical(const std::uint8_t* len, int n, std::uint16_t* code) {
  // Four histograms of the lengths: most are equal (0 for unused symbols), and one counter would be a chain of
  // dependent increments.
  std::uint16_t count4[4][kMaxBits + 1] = {}, count[kMaxBits + 1] = {0}, next[kMaxBits + 2] = {0};
  int i4 = 0;
  for (; i4 + 4 <= n; i4 += 4)
    for (int k = 0; k < 4; ++k) ++count4[k][len[i4 + k]];
  for (; i4 < n; ++i4) ++count4[0][len[i4]];
  for (int b = 1; b <= kMaxBits; ++b)
    count[b] = static_cast<std::uint16_t>(count4[0][b] + count4[1][b] + count4[2][b] + count4[3][b]);
  std::uint16_t c = 0;
  for (int b = 1; b <= kMaxBits; ++b) {
    c = static_cast<std::uint16_t>((c + count[b - 1]) << 1);
    next[b] = c;
  }
  for (int i = 0; i < n; ++i) {
    if (len[i] == 0) {
      code[i] = 0;
      continue;
    }
    const std::uint16_t v = next[len[i]]++;
    code[i] = static_cast<std::uint16_t>(reverse16(v) >> (16 - len[i]));
  }
}

// Deflate's bit packing, least significant bit first. add() puts up to 32 bits; flush() stores the whole bytes
// held as one 8-byte write (the buffer has room past the end) and keeps at most 7 bits, so up to 56 bits may be
// added between flushes: two tokens of at most 21 bits, or three literals of at most 15, with no branch.
struct BitWriter {
  unsigned char* p;
  std::uint64_t buf = 0;
  int bits = 0;
  void add(std::uint32_t v, int n) {
    buf |= static_cast<std::uint64_t>(v) << bits;
    bits += n;
  }
  void add_wide(std::uint64_t v, int n) {  // up to 56 bits, right after a flush
    buf |= v << bits;
    bits += n;
  }
  void flush() {
    std::memcpy(p, &buf, 8);
    p += bits >> 3;
    buf >>= bits & ~7;
    bits &= 7;
  }
  void put(std::uint32_t v, int n) {
    add(v, n);
    flush();
  }
  void finish() {
    flush();
    if (bits > 0) *p++ = static_cast<unsigned char>(buf);
    buf = 0;
    bits = 0;
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
    for (int l = 3; l <= 258; ++l) {
      int k = 28;
      while (kLengthBase[k] > l) --k;
      if (l == 258) k = 28;
      t[l] = {static_cast<std::uint16_t>(257 + k), static_cast<std::uint8_t>(kLengthExtra[k]),
              static_cast<std::uint16_t>(l - kLengthBase[k])};
    }
    return t;
  }();
  return t;
}

// A dynamic-Huffman block's codes and header, and its size in bits, from its symbol frequencies (literals,
// lengths of matches at distance 1; the end-of-block symbol is added). Sizing a block costs no output: the
// chunks' samples are judged by their sizes alone.
struct Block {
  std::uint8_t len[kLitLen + 2];
  std::uint16_t code[kLitLen];
  int hlit = 0, hclen = 0, cl_count = 0;
  std::uint8_t cl_len[kCodeLen];
  std::uint16_t cl_code[kCodeLen];
  std::uint8_t cl_sym[kLitLen + 2], cl_extra[kLitLen + 2];
  std::uint64_t bits = 0;  // header, data and end of block
};

constexpr int kCodeLengthOrder[kCodeLen] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

int code_length_extra_bits(int s) { return s == 16 ? 2 : s == 17 ? 3 : s == 18 ? 7 : 0; }

// `codes`: also the canonical codes, needed to write the block but not to size it.
void plan_block(const std::uint32_t* freq_in, Block& b, bool codes = true) {
  std::uint32_t freq[kLitLen];
  std::memcpy(freq, freq_in, sizeof freq);
  freq[256] = 1;
  code_lengths(freq, kLitLen, kMaxBits, b.len);
  if (codes) canonical(b.len, kLitLen, b.code);
  int hlit = kLitLen;
  while (hlit > 257 && b.len[hlit - 1] == 0) --hlit;
  b.hlit = hlit;
  // Distance codes: 0 and 1 of one bit each (a complete code; only distance 1, code 0, is used).
  b.len[hlit] = 1;
  b.len[hlit + 1] = 1;
  const int total = hlit + 2;
  // Run-length code the code lengths.
  std::uint32_t cl_freq[kCodeLen] = {0};
  int c = 0;
  auto push = [&](int sym, int extra) {
    b.cl_sym[c] = static_cast<std::uint8_t>(sym);
    b.cl_extra[c] = static_cast<std::uint8_t>(extra);
    ++cl_freq[sym];
    ++c;
  };
  for (int i = 0; i < total;) {
    const std::uint8_t l = b.len[i];
    int r = 1;
    while (i + r < total && b.len[i + r] == l) ++r;
    if (l == 0 && r >= 3) {
      const int k = std::min(r, 138);
      if (k >= 11) push(18, k - 11);
      else push(17, k - 3);
      i += k;
    } else if (l != 0 && r >= 4) {
      push(l, 0);
      const int k = std::min(r - 1, 6);
      push(16, k - 3);
      i += 1 + k;
    } else {
      push(l, 0);
      ++i;
    }
  }
  b.cl_count = c;
  code_lengths(cl_freq, kCodeLen, 7, b.cl_len);
  if (codes) canonical(b.cl_len, kCodeLen, b.cl_code);
  int hclen = kCodeLen;
  while (hclen > 4 && b.cl_len[kCodeLengthOrder[hclen - 1]] == 0) --hclen;
  b.hclen = hclen;
  std::uint64_t bits = 3 + 5 + 5 + 4 + 3 * static_cast<std::uint64_t>(hclen);
  for (int i = 0; i < c; ++i) bits += b.cl_len[b.cl_sym[i]] + code_length_extra_bits(b.cl_sym[i]);
  for (int s = 0; s < 256; ++s) bits += static_cast<std::uint64_t>(freq_in[s]) * b.len[s];
  for (int k = 0; k < 29; ++k)  // a match: its length code, extra bits and distance code 0 (one bit)
    bits += static_cast<std::uint64_t>(freq_in[257 + k]) * (b.len[257 + k] + kLengthExtra[k] + 1);
  b.bits = bits + b.len[256];
}

void write_header(BitWriter& w, const Block& b, bool last) {
  w.put(last ? 1 : 0, 1);
  w.put(2, 2);
  w.put(static_cast<std::uint32_t>(b.hlit - 257), 5);
  w.put(1, 5);  // HDIST - 1: two distance codes
  w.put(static_cast<std::uint32_t>(b.hclen - 4), 4);
  for (int i = 0; i < b.hclen; ++i) w.put(b.cl_len[kCodeLengthOrder[i]], 3);
  for (int i = 0; i < b.cl_count; ++i) {
    const int s = b.cl_sym[i];
    w.add(b.cl_code[s], b.cl_len[s]);
    w.put(b.cl_extra[i], code_length_extra_bits(s));
  }
}

// One block of `count` tokens (a literal byte, < 256, or 256 + the length, 3..258, of a match at distance 1).
void write_tokens(BitWriter& w, const Block& b, const std::uint16_t* tok, std::size_t count, bool last) {
  write_header(w, b, last);
  // Every token as one bit pattern: a literal's code, or a length's code, extra bits and the distance code 0.
  const auto& lc = length_codes();
  std::uint32_t pat[256 + 259];
  std::uint8_t plen[256 + 259];
  for (int t = 0; t < 256; ++t) {
    pat[t] = b.code[t];
    plen[t] = b.len[t];
  }
  for (int r = 3; r <= 258; ++r) {
    const LenCode& c = lc[r];
    pat[256 + r] = b.code[c.sym] | (static_cast<std::uint32_t>(c.extra) << b.len[c.sym]);
    plen[256 + r] = static_cast<std::uint8_t>(b.len[c.sym] + c.extra_bits + 1);  // distance code 0: a 0 bit
  }
  std::size_t i = 0;
  for (; i + 2 <= count; i += 2) {  // two tokens joined before they are added (see write_literal_groups)
    w.add_wide(pat[tok[i]] | (std::uint64_t{pat[tok[i + 1]]} << plen[tok[i]]), plen[tok[i]] + plen[tok[i + 1]]);
    w.flush();
  }
  if (i < count) w.put(pat[tok[i]], plen[tok[i]]);
  w.put(b.code[256], b.len[256]);
}

// Groups of K literals (codes of at most 56 / K bits each), each group's codes joined into one bit pattern
// before it is added: only that add and the flush depend on the bits written before, so groups overlap. Returns
// the bytes written.
template <int K>
std::size_t write_literal_groups(BitWriter& w, const std::uint32_t* entry, const unsigned char* in, std::size_t n) {
  std::size_t i = 0;
  for (; i + K <= n; i += K) {
    std::uint64_t group = 0;
    int bits = 0;
    for (int k = 0; k < K; ++k) {
      const std::uint32_t e = entry[in[i + k]];
      group |= std::uint64_t{e & 0xffff} << bits;
      bits += static_cast<int>(e >> 16);
    }
    w.add_wide(group, bits);
    w.flush();
  }
  return i;
}

// The byte values used in freq[0, 256), in increasing order, if there are at most `most`; else 0.
int few_values(const std::uint32_t* freq, int most, unsigned char* v) {
  int m = 0;
  for (int s = 0; s < 256; ++s)
    if (freq[s] != 0) {
      if (m == most) return 0;
      v[m++] = static_cast<unsigned char>(s);
    }
  return m;
}

#if defined(CHACRA_CODEC_SSE2)
// The literals of a plane of at most four byte values (`freq`: its byte frequencies), 16 bytes at a time: which
// bytes hold which value comes from one to three vector compares as bit masks, and the codes of 8 bytes (two
// values) or 4 bytes (three or four) from one table entry indexed by those bits, built for the block. The same bits
// as coding byte by byte, about three to five times as fast. Returns the bytes written (a multiple of 16; 0 where
// the plane has more values or codes too long for the tables).
std::size_t write_few_literals_sse2(BitWriter& w, const Block& b, const unsigned char* in, std::size_t n,
                                    const std::uint32_t* freq) {
  unsigned char v[4];
  const int m = few_values(freq, 4, v);
  if (m == 0 || n < 16) return 0;
  int longest = 1;
  for (int k = 0; k < m; ++k) longest = std::max<int>(longest, b.len[v[k]]);
  // Values the plane does not hold stand in for the missing ones (their compares never match).
  unsigned char absent = 0;
  while (std::find(v, v + m, absent) != v + m) ++absent;
  for (int k = m; k < 4; ++k) v[k] = absent;
  auto code = [&](int k) { return std::uint32_t{b.code[v[k]]}; };
  auto len = [&](int k) { return std::uint32_t{b.len[v[k]]}; };
  std::uint32_t table[256];  // pattern in the low 24 bits, its length in the high 8
  std::size_t i = 0;
  const __m128i c1 = _mm_set1_epi8(static_cast<char>(v[1]));
  if (m <= 2) {
    if (8 * longest > 24) return 0;
    // Entry q: the codes of 8 bytes, byte j holding v[1] where bit j of q is set, else v[0].
    for (int q = 0; q < 256; ++q) {
      std::uint32_t pat = 0, bits = 0;
      for (int j = 0; j < 8; ++j) {
        const int k = (q >> j) & 1;
        pat |= code(k) << bits;
        bits += len(k);
      }
      table[q] = pat | (bits << 24);
    }
    for (; i + 16 <= n; i += 16) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
      const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, c1)));
      const std::uint32_t e0 = table[mask & 0xff], e1 = table[mask >> 8];
      w.add_wide((e0 & 0xffffff) | (std::uint64_t{e1 & 0xffffff} << (e0 >> 24)), static_cast<int>((e0 >> 24) + (e1 >> 24)));
      w.flush();
    }
    return i;
  }
  if (4 * longest > 24) return 0;
  // Entry q: the codes of 4 bytes, byte j holding v[k] with bit 0 of k bit j of q and bit 1 of k bit j + 4.
  for (int q = 0; q < 256; ++q) {
    std::uint32_t pat = 0, bits = 0;
    for (int j = 0; j < 4; ++j) {
      const int k = ((q >> j) & 1) | (((q >> (4 + j)) & 1) << 1);
      pat |= code(k) << bits;
      bits += len(k);
    }
    table[q] = pat | (bits << 24);
  }
  const __m128i c2 = _mm_set1_epi8(static_cast<char>(v[2])), c3 = _mm_set1_epi8(static_cast<char>(v[3]));
  for (; i + 16 <= n; i += 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    const __m128i e3 = _mm_cmpeq_epi8(x, c3);
    const unsigned lo = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, c1), e3)));
    const unsigned hi = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(x, c2), e3)));
    // Bytes 0-3 and 8-11 (r), 4-7 and 12-15 (s): each quad's low-bit nibble and high-bit nibble side by side.
    const unsigned r = (lo & 0x0f0f) | ((hi & 0x0f0f) << 4), s = ((lo >> 4) & 0x0f0f) | (hi & 0xf0f0);
    const std::uint32_t e0 = table[r & 0xff], e1 = table[s & 0xff], e2 = table[r >> 8], e3q = table[s >> 8];
    const std::uint32_t l0 = e0 >> 24, l1 = e1 >> 24, l2 = e2 >> 24, l3 = e3q >> 24;
    const std::uint64_t p01 = (e0 & 0xffffff) | (std::uint64_t{e1 & 0xffffff} << l0);
    const std::uint64_t p23 = (e2 & 0xffffff) | (std::uint64_t{e3q & 0xffffff} << l2);
    if (longest <= 3) {  // 16 codes of at most 3 bits: one add
      w.add_wide(p01 | (p23 << (l0 + l1)), static_cast<int>(l0 + l1 + l2 + l3));
      w.flush();
    } else {
      w.add_wide(p01, static_cast<int>(l0 + l1));
      w.flush();
      w.add_wide(p23, static_cast<int>(l2 + l3));
      w.flush();
    }
  }
  return i;
}
#endif

// One block of the bytes in[0, n) as literals, no token list: the fast path for a byte plane that runs would
// shrink little more than its byte frequencies do (scattered bytes among zeros, small codes). `freq`: the
// bytes' frequencies.
void write_literals(BitWriter& w, const Block& b, const unsigned char* in, std::size_t n, bool last,
                    const std::uint32_t* freq) {
  write_header(w, b, last);
  std::size_t i = 0;
#if defined(CHACRA_CODEC_SSE2)
  i = write_few_literals_sse2(w, b, in, n, freq);
#endif
  // Each byte's code and length in one entry (one load a byte).
  std::uint32_t entry[256];
  int longest = 1;
  for (int s = 0; s < 256; ++s) {
    entry[s] = b.code[s] | (static_cast<std::uint32_t>(b.len[s]) << 16);
    longest = std::max<int>(longest, b.len[s]);
  }
  // As many codes per flush as fit in the 56 bits a flush leaves room for: 3 at deflate's longest code (15 bits),
  // 16 for the planes of two or three byte values.
  const int per_flush = 56 / longest;
  const unsigned char* rest = in + i;
  const std::size_t left = n - i;
  i += per_flush >= 16  ? write_literal_groups<16>(w, entry, rest, left)
       : per_flush >= 11 ? write_literal_groups<11>(w, entry, rest, left)
       : per_flush >= 8  ? write_literal_groups<8>(w, entry, rest, left)
       : per_flush >= 6  ? write_literal_groups<6>(w, entry, rest, left)
       : per_flush >= 5  ? write_literal_groups<5>(w, entry, rest, left)
       : per_flush >= 4  ? write_literal_groups<4>(w, entry, rest, left)
                         : write_literal_groups<3>(w, entry, rest, left);
  for (; i < n; ++i) w.put(b.code[in[i]], b.len[in[i]]);
  w.put(b.code[256], b.len[256]);
}

// The byte frequencies of in[0, n), added to freq[0, 256), in eight histograms (no store-to-load chain on a
// repeated byte: the planes coded as literals are mostly zeros).
void byte_histogram(const unsigned char* in, std::size_t n, std::uint32_t* freq) {
  std::uint32_t f8[8][256] = {};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t x;
    std::memcpy(&x, in + i, 8);
    ++f8[0][x & 0xff];
    ++f8[1][(x >> 8) & 0xff];
    ++f8[2][(x >> 16) & 0xff];
    ++f8[3][(x >> 24) & 0xff];
    ++f8[4][(x >> 32) & 0xff];
    ++f8[5][(x >> 40) & 0xff];
    ++f8[6][(x >> 48) & 0xff];
    ++f8[7][x >> 56];
  }
  for (; i < n; ++i) ++f8[0][in[i]];
  for (int k = 0; k < 256; ++k)
    freq[k] += f8[0][k] + f8[1][k] + f8[2][k] + f8[3][k] + f8[4][k] + f8[5][k] + f8[6][k] + f8[7][k];
}

#if defined(CHACRA_CODEC_SSE2)
// How many bytes of in[0, n) equal each of the V values `v`, 16 bytes at a time (a compare and a subtract per
// value, byte counters folded every 255 vectors), added to `count`. Returns the bytes looked at (a multiple of 16).
template <int V>
std::size_t count_values_sse2(const unsigned char* in, std::size_t n, const unsigned char* v, std::uint64_t* count) {
  __m128i val[V], acc[V], sum[V];
  for (int k = 0; k < V; ++k) {
    val[k] = _mm_set1_epi8(static_cast<char>(v[k]));
    sum[k] = _mm_setzero_si128();
  }
  const __m128i zero = _mm_setzero_si128();
  std::size_t i = 0;
  while (i + 16 <= n) {
    const std::size_t stop = std::min(n - 15, i + 255 * 16);
    for (int k = 0; k < V; ++k) acc[k] = _mm_setzero_si128();
    for (; i < stop; i += 16) {
      const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
      for (int k = 0; k < V; ++k) acc[k] = _mm_sub_epi8(acc[k], _mm_cmpeq_epi8(x, val[k]));
    }
    for (int k = 0; k < V; ++k) sum[k] = _mm_add_epi64(sum[k], _mm_sad_epu8(acc[k], zero));
  }
  for (int k = 0; k < V; ++k) {
    std::uint64_t s2[2];
    _mm_storeu_si128(reinterpret_cast<__m128i*>(s2), sum[k]);
    count[k] += s2[0] + s2[1];
  }
  return i;
}

// The counts of the at most 8 values v[0, m) over in[0, n), if no other value occurs there: true, counts added to
// freq; false, freq unchanged.
bool count_few_values(const unsigned char* in, std::size_t n, const unsigned char* v, int m, std::uint32_t* freq) {
  std::uint64_t c[8] = {};
  std::size_t done = 0;
  switch (m) {
    case 1: done = count_values_sse2<1>(in, n, v, c); break;
    case 2: done = count_values_sse2<2>(in, n, v, c); break;
    case 3: done = count_values_sse2<3>(in, n, v, c); break;
    case 4: done = count_values_sse2<4>(in, n, v, c); break;
    case 5: done = count_values_sse2<5>(in, n, v, c); break;
    case 6: done = count_values_sse2<6>(in, n, v, c); break;
    case 7: done = count_values_sse2<7>(in, n, v, c); break;
    default: done = count_values_sse2<8>(in, n, v, c); break;
  }
  std::uint64_t total = 0;
  for (int k = 0; k < m; ++k) total += c[k];
  if (total != done) return false;
  for (int k = 0; k < m; ++k) freq[v[k]] += static_cast<std::uint32_t>(c[k]);
  byte_histogram(in + done, n - done, freq);
  return true;
}
#endif

// The byte frequencies of in[0, n) in freq[0, kLitLen). A plane coded as literals mostly holds a few byte values
// (flags, small codes, the high bytes of sparse values): those of its first kilobyte are counted over the rest by
// vector compares, several times as fast as a histogram, unless another value turns up there (then the
// histogram counts the rest). The same counts either way.
void byte_frequencies(const unsigned char* in, std::size_t n, std::uint32_t* freq) {
  std::fill(freq, freq + kLitLen, 0u);
  const std::size_t head = std::min<std::size_t>(n, 1024);
  byte_histogram(in, head, freq);
#if defined(CHACRA_CODEC_SSE2)
  unsigned char v[8];
  const int m = few_values(freq, 8, v);
  if (m > 0 && count_few_values(in + head, n - head, v, m, freq)) return;
#endif
  byte_histogram(in + head, n - head, freq);
}

// The tokens of in[begin, end): literals and runs of a repeated byte (matches at distance 1, 3-258 bytes, never
// past `end`: a block's tokens are its own bytes; a run's first copy may be the previous block's last byte),
// runs found eight positions at a time; their symbol frequencies in `freq`. Returns the number of tokens.
std::size_t tokenize(const unsigned char* in, std::size_t begin, std::size_t end, std::uint16_t* tok,
                     std::uint32_t* freq, std::uint32_t* run_bytes = nullptr) {
  std::uint32_t freq4[4][kLitLen] = {};  // four histograms: no store-to-load chain on a repeated symbol
  const auto& lc = length_codes();
  std::size_t t = 0, i = begin;
  while (i < end) {
    // The next run start j >= i (in[j - 1] == in[j] == in[j + 1] == in[j + 2], j + 3 <= end).
    std::size_t j = i;
    bool found = false;
    while (j < end) {
      if (j >= 1 && j + 10 <= end) {
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
          found = true;
          break;
        }
        j += 8;
      } else {
        if (j >= 1 && j + 3 <= end && in[j] == in[j - 1] && in[j + 1] == in[j - 1] && in[j + 2] == in[j - 1]) {
          found = true;
          break;
        }
        ++j;
      }
    }
    if (j > end) j = end;
    for (; i < j; ++i) {
      tok[t] = in[i];
      ++freq4[t & 3][in[i]];
      ++t;
    }
    if (!found) break;
    const unsigned char b = in[i - 1];
    std::size_t r = 3;
    const std::size_t maxr = std::min<std::size_t>(258, end - i);
    const std::uint64_t bb = 0x0101010101010101ull * b;
    while (r + 8 <= maxr) {
      std::uint64_t x;
      std::memcpy(&x, in + i + r, 8);
      x ^= bb;
      if (x != 0) {
        r += static_cast<std::size_t>(__builtin_ctzll(x) >> 3);
        goto done;
      }
      r += 8;
    }
    while (r < maxr && in[i + r] == b) ++r;
  done:
    tok[t] = static_cast<std::uint16_t>(256 + r);
    ++freq4[t & 3][lc[r].sym];
    if (run_bytes != nullptr) run_bytes[b] += static_cast<std::uint32_t>(r);
    ++t;
    i += r;
  }
  for (int k = 0; k < kLitLen; ++k) freq[k] = freq4[0][k] + freq4[1][k] + freq4[2][k] + freq4[3][k];
  return t;
}

// Per-thread scratch: the tokens of one block and the output buffer (not zeroed: the stream is copied out once
// its size is known).
struct Scratch {
  std::vector<std::uint16_t> tok;
  std::unique_ptr<unsigned char[]> buffer;
  std::size_t capacity = 0;
};
Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// The blocks of a stream of n bytes: one per `segment` bytes (at least 1024, so small inputs are one block).
std::size_t effective_segment(std::size_t segment) { return std::max<std::size_t>(segment, 1024); }

}  // namespace

bool deflate_planes(const unsigned char* in, std::size_t n, std::size_t segment, std::uint64_t literal,
                    std::vector<unsigned char>& out) {
  segment = effective_segment(segment);
  Scratch& s = scratch();
  // Room for the worst case (codes of 15 bits, a header of at most 320 bytes per block) and the 8-byte writes.
  const std::size_t room = 2 * n + 320 * (n / segment + 1) + 32;
  if (s.capacity < room) {
    s.buffer.reset(new unsigned char[room]);
    s.capacity = room;
  }
  s.buffer[0] = 0x78;  // zlib header: deflate, 32 KiB window, no dictionary, fastest level
  s.buffer[1] = 0x01;
  BitWriter w{s.buffer.get() + 2};
  Block b;
  std::uint32_t freq[kLitLen];
  std::size_t k = 0;
  for (std::size_t i = 0; i < n; i += segment, ++k) {
    const std::size_t end = std::min(n, i + segment);
    const bool last = end >= n;
    if (k < 64 && ((literal >> k) & 1) != 0) {
      byte_frequencies(in + i, end - i, freq);
      plan_block(freq, b);
      write_literals(w, b, in + i, end - i, last, freq);
    } else {
      s.tok.resize(std::max(s.tok.size(), end - i));
      const std::size_t t = tokenize(in, i, end, s.tok.data(), freq);
      plan_block(freq, b);
      write_tokens(w, b, s.tok.data(), t, last);
    }
  }
  if (n == 0) {
    const std::uint32_t none[kLitLen] = {};
    plan_block(none, b);
    write_tokens(w, b, nullptr, 0, true);
  }
  w.finish();
  const std::uint32_t a = libdeflate_adler32(1, in, n);  // the zlib format's trailer, big-endian
  unsigned char* p = w.p;
  *p++ = static_cast<unsigned char>(a >> 24);
  *p++ = static_cast<unsigned char>(a >> 16);
  *p++ = static_cast<unsigned char>(a >> 8);
  *p++ = static_cast<unsigned char>(a);
  out.assign(s.buffer.get(), p);
  return out.size() < n;
}

bool deflate_runs(const unsigned char* in, std::size_t n, std::size_t segment, std::vector<unsigned char>& out) {
  return deflate_planes(in, n, segment, 0, out);
}

SampleJudgement judge_sample(const void* data, std::size_t elements, std::size_t size) {
  SampleJudgement j;
  const std::size_t m = std::min<std::size_t>(elements, kSampleValues);
  if (m == 0) return j;
  thread_local std::vector<unsigned char> sample;
  thread_local std::vector<std::uint16_t> tok;
  const std::size_t n = m * size;
  sample.resize(n);
  shuffle(static_cast<const unsigned char*>(data), sample.data(), n, size);
  tok.resize(std::max(tok.size(), n));
  // The size deflate_runs would give the sample (a block per byte plane), without writing it: 2 bytes of zlib
  // header, the blocks, 4 of Adler-32. It must be at most 1 / kCompressRatio of the sample's; the planes are
  // sized in turn and the judgement ends as soon as those sized exceed it (the low, noisy bytes come first).
  const std::size_t segment = effective_segment(m);
  const std::size_t blocks = (n + segment - 1) / segment;
  std::uint64_t run_bits[64] = {};
  thread_local std::vector<std::array<std::uint32_t, kLitLen>> literal_freq;
  literal_freq.resize(std::max<std::size_t>(literal_freq.size(), std::min<std::size_t>(blocks, 64)));
  std::uint64_t bits = 0;
  Block b;
  std::uint32_t freq[kLitLen];
  for (std::size_t i = 0, k = 0; i < n; i += segment, ++k) {
    const std::size_t end = std::min(n, i + segment);
    // The plane's byte frequencies come with its tokens: its literals, plus the bytes its runs cover.
    std::uint32_t* covered = k < 64 ? literal_freq[k].data() : nullptr;
    if (covered != nullptr) std::fill(covered, covered + kLitLen, 0u);
    tokenize(sample.data(), i, end, tok.data(), freq, covered);
    plan_block(freq, b, false);
    bits += b.bits;
    if (static_cast<double>(6 + (bits + 7) / 8) * kCompressRatio > static_cast<double>(n)) return j;
    if (covered != nullptr) {
      run_bits[k] = b.bits;
      for (int s = 0; s < 256; ++s) covered[s] += freq[s];
    }
  }
  j.compress = true;
  if (m != kSampleValues || blocks != size || blocks > 64) return j;
  // A plane of the chunk is coded as plain literals where, in the sample, they take at most a quarter more bits
  // than runs and literals do (about 2.5 times as fast to write; the planes of scattered values and small codes).
  // Literals take at least a bit a byte: a plane that runs code in fewer bits than that is not tried.
  for (std::size_t k = 0; k < blocks; ++k) {
    if (4 * static_cast<std::uint64_t>(segment) > 5 * run_bits[k]) continue;
    plan_block(literal_freq[k].data(), b, false);
    if (4 * b.bits <= 5 * run_bits[k]) j.literal |= std::uint64_t{1} << k;
  }
  return j;
}

namespace {

// Whether n bytes are all zero; most chunks that are not differ in their first kilobyte.
bool all_zero_bytes(const unsigned char* p, std::size_t n) {
  constexpr std::size_t kStep = 1024;
  std::size_t k = 0;
  for (; k + kStep <= n; k += kStep) {
    std::uint64_t any[4] = {0, 0, 0, 0};
    for (std::size_t j = 0; j < kStep; j += 32) {
      std::uint64_t x[4];
      std::memcpy(x, p + k + j, 32);
      any[0] |= x[0];
      any[1] |= x[1];
      any[2] |= x[2];
      any[3] |= x[3];
    }
    if ((any[0] | any[1] | any[2] | any[3]) != 0) return false;
  }
  for (; k < n; ++k)
    if (p[k] != 0) return false;
  return true;
}

}  // namespace

std::size_t balanced_chunk_rows(std::size_t rows, std::size_t max_rows) {
  if (rows == 0) return 1;
  const std::size_t chunks = (rows + max_rows - 1) / max_rows;
  return (rows + chunks - 1) / chunks;
}

ChunkPlan plan_chunk(const unsigned char* data, std::size_t rows, std::size_t row_bytes, std::size_t element_size) {
  ChunkPlan plan;
  plan.zero = all_zero_bytes(data, rows * row_bytes);
  if (!plan.zero) plan.judged = judge_sample(data, rows * row_bytes / element_size, element_size);
  return plan;
}

void encode_planned(const unsigned char* data, std::size_t rows, std::size_t chunk_rows, std::size_t row_bytes,
                    std::size_t element_size, const ChunkPlan& plan, EncodedChunk& out) {
  const std::size_t chunk_bytes = chunk_rows * row_bytes;
  out.raw = nullptr;
  out.raw_size = 0;
  out.zero = plan.zero;
  if (out.zero) return;
  std::vector<unsigned char> full;
  if (rows < chunk_rows) {  // an edge chunk is stored whole: pad with zeros
    full.assign(chunk_bytes, 0);
    std::memcpy(full.data(), data, rows * row_bytes);
    data = full.data();
  }
  if (plan.judged.compress) {
    thread_local std::vector<unsigned char> shuffled;
    const unsigned char* in = data;
    if (element_size > 1) {
      shuffled.resize(chunk_bytes);
      shuffle(data, shuffled.data(), chunk_bytes, element_size);
      in = shuffled.data();
    }
    // A block per byte plane: the planes of a shuffled chunk differ (high bytes mostly zero, low bytes noisy).
    if (deflate_planes(in, chunk_bytes, chunk_bytes / element_size, plan.judged.literal, out.bytes)) {
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

void encode_chunk(const unsigned char* data, std::size_t rows, std::size_t chunk_rows, std::size_t row_bytes,
                  std::size_t element_size, EncodedChunk& out) {
  encode_planned(data, rows, chunk_rows, row_bytes, element_size, plan_chunk(data, rows, row_bytes, element_size), out);
}

}  // namespace chacra::output::codec
