// Runs arms x replicates, records the panel with period aggregation, and writes the HDF5 output to a
// temporary name that is renamed only when everything is complete.
#include "sim/runner.hpp"

#include "sim/h5.hpp"
#include "sim/interrupt.hpp"
#include "sim/population.hpp"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/parallel_for.h>
#include <sys/resource.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>
#include <optional>

namespace chacra {

std::string chacra_version() { return CHACRA_VERSION; }

double UnitResult::mean(const std::string& variable, std::size_t period, int k) const {
  for (std::size_t i = 0; i < variables.size(); ++i)
    if (variables[i] == variable) return means[i][period * static_cast<std::size_t>(widths[i]) + static_cast<std::size_t>(k)];
  throw std::out_of_range("no aggregate '" + variable + "'");
}

bool UnitResult::has(const std::string& variable) const {
  return std::find(variables.begin(), variables.end(), variable) != variables.end();
}

int months_per_period(const std::string& frequency) {
  if (frequency == "monthly") return 1;
  if (frequency == "quarterly") return 3;
  return 12;
}

std::vector<std::string> period_labels(const Calendar& cal, int months) {
  std::vector<std::string> labels;
  char buf[32];
  for (int m = 0; m + months <= cal.months; m += months) {
    if (months == 12) std::snprintf(buf, sizeof buf, "%d", cal.year(m));
    else if (months == 3) std::snprintf(buf, sizeof buf, "%dQ%d", cal.year(m), (cal.month_of_year(m) - 1) / 3 + 1);
    else std::snprintf(buf, sizeof buf, "%d-%02d", cal.year(m), cal.month_of_year(m));
    labels.emplace_back(buf);
  }
  return labels;
}

std::vector<std::string> resolve_panel_variables(const World& world, const std::vector<std::string>& requested,
                                                 const std::string& file_label) {
  const Table& h = world.households;
  std::vector<std::string> out;
  if (requested.empty()) {
    for (std::size_t i = 0; i < h.column_count(); ++i)
      if (h.info(i).panel) out.push_back(h.info(i).name);
    return out;
  }
  std::vector<ConfigIssue> issues;
  for (const auto& name : requested) {
    if (h.has(name)) {
      out.push_back(name);
      continue;
    }
    std::string best;
    std::size_t best_d = std::string::npos;
    for (std::size_t i = 0; i < h.column_count(); ++i) {
      const std::size_t d = edit_distance(name, h.info(i).name);
      if (d < best_d) best_d = d, best = h.info(i).name;
    }
    ConfigIssue issue;
    issue.file = file_label;
    issue.key = "output.variables";
    issue.message = "'" + name + "' is not a household variable";
    issue.hint = best.empty() ? "" : "did you mean '" + best + "'? (chacra params lists parameters; docs/output.md lists variables)";
    issues.push_back(issue);
  }
  if (!issues.empty()) throw ConfigError(file_label, issues);
  return out;
}

namespace {

std::string now_iso() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

std::string host_name() {
  char buf[256] = {0};
  gethostname(buf, sizeof buf - 1);
  return buf;
}

// ---- Chunked, compressed dataset writes (docs/output.md, docs/performance.md) ----
//
// Panel and population datasets are chunked with the shuffle + deflate(1) pipeline declared. Their chunks are
// filtered here, in parallel, and stored with H5Dwrite_chunk: a chunk whose values deflate would shrink by
// less than half (noise such as incomes, consumption, cash: 10-20% at 20-100 MB/s; see
// worth_compressing) is stored unfiltered, its filter mask saying so; every other chunk goes through
// shuffle and deflate (zlib level 1, run-length strategy) like HDF5's own filters. Readers (HDF5, h5py) apply a chunk's filters
// according to its mask, so the file reads back the same values; the bytes are deterministic.

// HDF5's shuffle filter: byte k of element i goes to position k * elements + i.
void shuffle_bytes(const unsigned char* in, unsigned char* out, std::size_t bytes, std::size_t size) {
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

// One zlib deflate state per thread, reset for each chunk. Z_RLE (run-length matches only) is both faster
// than the default strategy at level 1 and better on the shuffled panel (long runs of zero bytes); any
// inflate, the HDF5 deflate filter included, reads its output.
class Deflater {
 public:
  Deflater() {
    ok_ = deflateInit2(&zs_, 1, Z_DEFLATED, 15, 8, Z_RLE) == Z_OK;
  }
  ~Deflater() {
    if (ok_) deflateEnd(&zs_);
  }
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;
  // Compresses `in` into `out`; false if zlib fails or the result is not smaller than the input.
  bool compress(const unsigned char* in, std::size_t size, std::vector<unsigned char>& out) {
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

 private:
  z_stream zs_{};
  bool ok_ = false;
};

// Whether a chunk is worth deflating: a sample (the shuffled bytes of its first 1024 values, as the shuffle
// filter would lay them out) is compressed first, and the chunk is compressed only if the sample shrinks to
// at most half its size. Noise (incomes, consumption, cash: about 1.2x at 20-100 MB/s) and the poverty gap
// (about 1.9x at 90 MB/s, the costliest to deflate for what it saves) are stored raw; flags, sparse flows,
// counts, technology states and repeated values (about 2-1000x) are compressed. Deterministic in the data.
bool worth_compressing(Deflater& deflater, const unsigned char* data, std::size_t elements, std::size_t size) {
  const std::size_t m = std::min<std::size_t>(elements, 1024);
  if (m == 0) return false;
  thread_local std::vector<unsigned char> sample, out;
  sample.resize(m * size);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t k = 0; k < size; ++k) sample[k * m + i] = data[i * size + k];
  return deflater.compress(sample.data(), sample.size(), out) && 2 * out.size() <= sample.size();
}

// Rows per chunk for `rows` rows and at most `max_rows` per chunk: the rows split into equal chunks, so the
// last chunk is not mostly padding (HDF5 stores every chunk whole; raw chunks would store the padding).
std::size_t balanced_chunk_rows(std::size_t rows, std::size_t max_rows) {
  if (rows == 0) return 1;
  const std::size_t chunks = (rows + max_rows - 1) / max_rows;
  return (rows + chunks - 1) / chunks;
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

// Rows [0, rows) of `src` (row-major, `width` values per row) for dataset `ds`, whose chunk holds
// `chunk_rows` rows; `lead` are the leading coordinates (the period of a panel).
struct ChunkedRows {
  hid_t ds;
  ColumnType type;
  std::size_t width, rows, chunk_rows;
  const void* src;
  std::vector<hsize_t> lead;
  std::string name;
};

// Writes several datasets' rows: their chunks are filtered in parallel in windows of kWindow chunks, taken
// across datasets (a period's panel at 100,000 households is four chunks per variable, so one variable at a
// time would keep at most four threads busy), and written in order, dataset by dataset, chunk by chunk, so
// the file is the same whatever the thread count.
void write_chunked(const std::vector<ChunkedRows>& sets) {
  struct Job {
    const ChunkedRows* set;
    std::size_t chunk;
  };
  std::vector<Job> jobs;
  for (const auto& s : sets)
    for (std::size_t c = 0; s.rows > 0 && c < (s.rows + s.chunk_rows - 1) / s.chunk_rows; ++c) jobs.push_back({&s, c});
  struct Out {
    std::vector<unsigned char> bytes;
    std::uint32_t mask = 0;
    bool zero = false;  // all bytes zero: not written, readers get the dataset's fill value, 0
  };
  constexpr std::size_t kWindow = 64;
  std::vector<Out> outs(std::min(jobs.size(), kWindow));
  auto filter = [&](const Job& job, Out& o) {
    const ChunkedRows& s = *job.set;
    const std::size_t esize = column_type_size(s.type), row_bytes = s.width * esize;
    const std::size_t chunk_bytes = s.chunk_rows * row_bytes;
    const std::size_t r0 = job.chunk * s.chunk_rows, r1 = std::min(s.rows, r0 + s.chunk_rows);
    const unsigned char* data = static_cast<const unsigned char*>(s.src) + r0 * row_bytes;
    std::vector<unsigned char> full;
    if (r1 - r0 < s.chunk_rows) {  // an edge chunk is stored whole: pad with zeros
      full.assign(chunk_bytes, 0);
      std::memcpy(full.data(), data, (r1 - r0) * row_bytes);
      data = full.data();
    }
    o.zero = all_zero_bytes(data, chunk_bytes);
    if (o.zero) return;
    thread_local Deflater deflater;
    if (worth_compressing(deflater, data, (r1 - r0) * s.width, esize)) {
      thread_local std::vector<unsigned char> shuffled;
      shuffled.resize(chunk_bytes);
      shuffle_bytes(data, shuffled.data(), chunk_bytes, esize);
      if (deflater.compress(shuffled.data(), chunk_bytes, o.bytes)) {
        o.mask = 0;
        return;
      }
    }
    o.bytes.assign(data, data + chunk_bytes);
    o.mask = 0x3;  // shuffle and deflate skipped for this chunk
  };
  for (std::size_t j0 = 0; j0 < jobs.size(); j0 += kWindow) {
    const std::size_t j1 = std::min(jobs.size(), j0 + kWindow);
    if (j1 - j0 == 1) {
      filter(jobs[j0], outs[0]);
    } else {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(j0, j1, 1), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t j = r.begin(); j != r.end(); ++j) filter(jobs[j], outs[j - j0]);
      });
    }
    for (std::size_t j = j0; j < j1; ++j) {
      const ChunkedRows& s = *jobs[j].set;
      const Out& o = outs[j - j0];
      if (o.zero) continue;
      std::vector<hsize_t> offset = s.lead;
      offset.push_back(static_cast<hsize_t>(jobs[j].chunk * s.chunk_rows));
      if (s.width > 1) offset.push_back(0);
      if (H5Dwrite_chunk(s.ds, H5P_DEFAULT, o.mask, offset.data(), o.bytes.size(), o.bytes.data()) < 0) {
        char file[4096] = {0};
        H5Fget_name(s.ds, file, sizeof file - 1);
        throw h5::Error("HDF5: cannot write " + s.name + " to " + file + " (disk full or file not writable?)");
      }
    }
  }
}

void write_rows_chunked(hid_t ds, ColumnType type, std::size_t width, std::size_t rows, std::size_t chunk_rows,
                        const void* src, const std::vector<hsize_t>& lead, const std::string& name) {
  write_chunked({ChunkedRows{ds, type, width, rows, chunk_rows, src, lead, name}});
}

// Creates a chunked dataset with the shuffle + deflate(1) pipeline (dims: lead..., rows[, width]).
h5::Handle create_chunked(hid_t parent, const std::string& name, ColumnType type, std::vector<hsize_t> dims,
                          std::vector<hsize_t> chunk) {
  h5::Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  const bool empty = std::any_of(dims.begin(), dims.end(), [](hsize_t d) { return d == 0; });
  if (!empty) {
    H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, 1);
    // An explicit fill value of zero: chunks that are all zero are not written (write_rows_chunked) and
    // read back as this value by any reader.
    const std::array<unsigned char, 16> zero{};
    H5Pset_fill_value(dcpl, h5::native_type(type), zero.data());
  }
  const hid_t ds = H5Dcreate2(parent, name.c_str(), h5::native_type(type), space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (ds < 0) throw h5::Error("HDF5: cannot create dataset " + name);
  return h5::Handle(ds);
}

// The dataset of one population-table column of `rows` rows, with its attributes.
h5::Handle create_table_column(hid_t g, const ColumnInfo& info, std::size_t rows, std::size_t chunk_rows) {
  std::vector<hsize_t> dims{rows}, chunk{chunk_rows};
  if (info.width > 1) {
    dims.push_back(static_cast<hsize_t>(info.width));
    chunk.push_back(static_cast<hsize_t>(info.width));
  }
  h5::Handle ds = create_chunked(g, info.name, info.type, dims, chunk);
  h5::write_attr(ds, "unit", info.unit);
  h5::write_attr(ds, "description", info.description);
  if (!info.labels.empty()) {
    std::string joined;
    for (const auto& l : info.labels) joined += (joined.empty() ? "" : ",") + l;
    h5::write_attr(ds, "labels", joined);
  }
  return ds;
}

// One column of a population table: `rows` rows of `data` (row-major, info.width values per row).
void write_table_column(hid_t g, const std::string& group, const ColumnInfo& info, std::size_t rows,
                        std::size_t chunk_rows, const void* data) {
  h5::Handle ds = create_table_column(g, info, rows, chunk_rows);
  write_rows_chunked(ds, info.type, static_cast<std::size_t>(info.width), rows, chunk_rows, data, {},
                     group + "/" + info.name);
}

// The population tables: the same datasets and attributes as h5::write_table (chunks of at most 65,536
// rows, balanced), every column's chunks written by one write_chunked.
void write_table_chunked(hid_t parent, const std::string& group, const Table& table) {
  h5::Handle g = h5::create_group(parent, group);
  h5::write_attr(g, "rows", static_cast<long long>(table.rows()));
  const std::size_t chunk_rows = balanced_chunk_rows(table.rows(), 65536);
  std::vector<h5::Handle> datasets;
  std::vector<ChunkedRows> sets;
  for (std::size_t i = 0; i < table.column_count(); ++i) {
    const ColumnInfo& info = table.info(i);
    datasets.push_back(create_table_column(g, info, table.rows(), chunk_rows));
    sets.push_back(ChunkedRows{datasets.back().id(), info.type, static_cast<std::size_t>(info.width), table.rows(),
                               chunk_rows, table.data(i), {}, group + "/" + info.name});
  }
  write_chunked(sets);
}

// ---- A world split by districts (World::split()): gathering rows on rank 0 ----
//
// Columns of the rows a process holds (rank order = row order) are gathered on rank 0 in batches of at
// most kGatherBatchBytes of gathered data (one column at least), so rank 0 holds one batch and one whole
// column at a time, and a small population needs one message per process and batch.
constexpr std::size_t kGatherBatchBytes = std::size_t{16} << 20;

struct ColumnPart {
  const void* data;       // this process's rows, from its first one
  std::size_t row_bytes;  // bytes per row
};

struct GatherBuffers {
  std::vector<char> packed, gathered, column;
  std::vector<std::uint64_t> sizes;
};

// Gathers the columns `parts` (each of `rows` rows here, `total_rows` over all processes) and calls
// `column(k, data)` on rank 0 with column k of every process's rows, in order. Collective.
void gather_columns(const Collective& comm, const std::vector<ColumnPart>& parts, std::size_t rows,
                    std::size_t total_rows, const std::function<void(std::size_t, const char*)>& column,
                    GatherBuffers& buf) {
  for (std::size_t first = 0; first < parts.size();) {
    std::size_t last = first + 1, batch_row = parts[first].row_bytes;
    while (last < parts.size() && (batch_row + parts[last].row_bytes) * total_rows <= kGatherBatchBytes)
      batch_row += parts[last++].row_bytes;
    buf.packed.resize(rows * batch_row);
    for (std::size_t k = first, at = 0; k < last; ++k) {  // this process's rows of each column in turn
      if (rows > 0) std::memcpy(buf.packed.data() + at, parts[k].data, rows * parts[k].row_bytes);
      at += rows * parts[k].row_bytes;
    }
    comm.gather(buf.packed.data(), buf.packed.size(), buf.gathered, &buf.sizes);
    if (comm.rank() == 0) {
      std::uint64_t gathered_rows = 0;
      for (auto bytes : buf.sizes) gathered_rows += bytes / batch_row;
      if (gathered_rows != total_rows)
        throw std::logic_error("split world: gathered " + std::to_string(gathered_rows) + " rows, expected " +
                               std::to_string(total_rows));
      for (std::size_t k = first, before = 0; k < last; ++k) {
        const std::size_t rb = parts[k].row_bytes;
        buf.column.resize(total_rows * rb);
        std::size_t at = 0, part = 0;
        for (auto bytes : buf.sizes) {
          const std::size_t rows_r = bytes / batch_row;
          if (rows_r > 0) std::memcpy(buf.column.data() + at, buf.gathered.data() + part + rows_r * before, rows_r * rb);
          at += rows_r * rb;
          part += bytes;
        }
        before += rb;
        column(k, buf.column.data());
      }
    }
    first = last;
  }
}

// A population table of a split world: each process contributes its stored rows [first, first + count),
// and rank 0 writes the datasets of `total_rows` rows exactly as write_table_chunked writes the whole table.
// Collective; `parent` is used on rank 0.
void write_table_split(hid_t parent, const std::string& group, const Table& table, std::size_t first,
                       std::size_t count, std::size_t total_rows, const Collective& comm) {
  h5::Handle g;
  if (comm.rank() == 0) {
    g = h5::create_group(parent, group);
    h5::write_attr(g, "rows", static_cast<long long>(total_rows));
  }
  const std::size_t chunk_rows = balanced_chunk_rows(total_rows, 65536);
  std::vector<ColumnPart> parts;
  for (std::size_t i = 0; i < table.column_count(); ++i) {
    const ColumnInfo& info = table.info(i);
    const std::size_t row_bytes = static_cast<std::size_t>(info.width) * column_type_size(info.type);
    parts.push_back(ColumnPart{static_cast<const char*>(table.data(i)) + first * row_bytes, row_bytes});
  }
  GatherBuffers buf;
  gather_columns(comm, parts, count, total_rows, [&](std::size_t i, const char* data) {
    write_table_column(g, group, table.info(i), total_rows, chunk_rows, data);
  }, buf);
}

// The population of a world split by districts (see write_table_split): districts, centres and households
// of every process, in the order of the whole population.
void write_population_split(hid_t file, const std::string& group, const World& w) {
  const Collective& comm = w.comm();
  write_table_split(file, group + "/districts", w.districts, w.district_begin(), w.district_end() - w.district_begin(),
                    w.district_count(), comm);
  write_table_split(file, group + "/centres", w.centres, w.centre_begin(), w.centre_end() - w.centre_begin(),
                    w.centre_count(), comm);
  write_table_split(file, group + "/households", w.households, 0, w.household_count(),
                    static_cast<std::size_t>(w.total_households()), comm);
}

// Sum over rows of column k of a row-major array, as double, in row order.
template <class T>
double column_sum(const void* p, std::size_t rows, std::size_t width, std::size_t k) {
  const T* v = static_cast<const T*>(p) + k;
  double s = 0.0;
  for (std::size_t i = 0; i < rows; ++i) s += static_cast<double>(v[i * width]);
  return s;
}

double column_sum(ColumnType t, const void* p, std::size_t rows, std::size_t width, std::size_t k) {
  switch (t) {
    case ColumnType::f32: return column_sum<float>(p, rows, width, k);
    case ColumnType::f64: return column_sum<double>(p, rows, width, k);
    case ColumnType::i8: return column_sum<std::int8_t>(p, rows, width, k);
    case ColumnType::u8: return column_sum<std::uint8_t>(p, rows, width, k);
    case ColumnType::i16: return column_sum<std::int16_t>(p, rows, width, k);
    case ColumnType::i32: return column_sum<std::int32_t>(p, rows, width, k);
    case ColumnType::u32: return column_sum<std::uint32_t>(p, rows, width, k);
    case ColumnType::i64: return column_sum<std::int64_t>(p, rows, width, k);
  }
  return 0.0;
}

// Records one arm x replicate: accumulates flows over each output period, writes the panel one period at a
// time, and keeps per-period household means.
class Recorder {
 public:
  static constexpr std::size_t kPanelChunkRows = 32768;  // at most this many households per panel chunk
  // A world split by districts (World::split()) records collectively: each period's values of every process
  // are gathered on rank 0 (gather_period), which computes the means over the whole population and writes
  // the panel, exactly as for the whole world; panel_group and aggregate_group are used only there.
  Recorder(World& world, const std::vector<std::string>& variables, int months_per_period, std::size_t periods,
           hid_t panel_group, hid_t aggregate_group)
      : world_(world), months_(months_per_period), periods_(periods), panel_(panel_group), agg_(aggregate_group) {
    const std::size_t n = world.household_count();
    const std::size_t n_total = static_cast<std::size_t>(world.total_households());
    for (const auto& name : variables) {
      Var v;
      v.index = world.households.index(name);
      v.info = world.households.info(v.index);
      v.sum = v.info.aggregation == PeriodAggregation::sum;
      const std::size_t cells = n * static_cast<std::size_t>(v.info.width);
      if (v.sum) v.accumulated.assign(cells, 0.0f);
      v.means.assign(periods * static_cast<std::size_t>(v.info.width), 0.0);
      if (panel_ >= 0) {
        std::vector<hsize_t> dims{periods, n_total};
        std::vector<hsize_t> chunk{1, balanced_chunk_rows(n_total, kPanelChunkRows)};
        if (v.info.width > 1) {
          dims.push_back(static_cast<hsize_t>(v.info.width));
          chunk.push_back(static_cast<hsize_t>(v.info.width));
        }
        const ColumnType stored = v.sum ? ColumnType::f32 : v.info.type;
        v.dataset = create_chunked(panel_, name, stored, dims, chunk);
        h5::write_attr(v.dataset, "unit", v.info.unit);
        h5::write_attr(v.dataset, "description", v.info.description);
        h5::write_attr(v.dataset, "aggregation", std::string(v.sum ? "sum over the period" : "end of period"));
        if (!v.info.labels.empty()) h5::write_attr(v.dataset, "labels", h5::join_labels(v.info.labels));
      }
      vars_.push_back(std::move(v));
    }
  }

  // Called after each month's phases.
  void after_month(int month) {
    const std::size_t n = world_.household_count();
    // Flows: accumulate over the period, element by element (any partition gives the same sums). One
    // parallel loop over households for all flows at once: a loop per flow at 100,000 households was two
    // tasks each, holding up the other threads every month.
    constexpr std::size_t kRowsPerTask = 8192;
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, kRowsPerTask), [&](const tbb::blocked_range<std::size_t>& r) {
      for (auto& v : vars_) {
        if (!v.sum) continue;
        const auto width = static_cast<std::size_t>(v.info.width);
        accumulate(v, world_.households.data(v.index), r.begin() * width, r.end() * width);
      }
    });
    if ((month + 1) % months_ != 0) return;
    const std::size_t period = static_cast<std::size_t>(month + 1) / static_cast<std::size_t>(months_) - 1;
    if (period >= periods_) return;
    if (world_.split()) {
      gather_period(period);
      return;
    }
    // Household means, one variable per task, each summed in household order (the same bits whatever the
    // thread count); then the panel, one variable at a time, its chunks filtered in parallel.
    tbb::parallel_for(tbb::blocked_range<std::size_t>(0, vars_.size(), 1), [&](const tbb::blocked_range<std::size_t>& r) {
      for (std::size_t k = r.begin(); k != r.end(); ++k) period_means(vars_[k], period);
    });
    write_period(period);
  }

  // After the last month: in a split world, rank 0's means go to every process (a collective step after
  // every process has recorded every period).
  void finish() {
    if (!world_.split()) return;
    for (auto& v : vars_) world_.comm().broadcast(v.means);
  }

  UnitResult result(const std::string& arm, std::uint32_t replicate) const {
    UnitResult r;
    r.arm = arm;
    r.replicate = replicate;
    for (const auto& v : vars_) {
      r.variables.push_back(v.info.name);
      r.widths.push_back(v.info.width);
      r.means.push_back(v.means);
    }
    return r;
  }

  void write_aggregates() {
    if (agg_ < 0) return;
    for (const auto& v : vars_) {
      std::vector<hsize_t> dims{periods_};
      if (v.info.width > 1) dims.push_back(static_cast<hsize_t>(v.info.width));
      h5::write_dataset(agg_, v.info.name, ColumnType::f64, dims, v.means.data());
      h5::Handle ds(H5Dopen2(agg_, v.info.name.c_str(), H5P_DEFAULT));
      h5::write_attr(ds, "unit", v.info.unit);
      h5::write_attr(ds, "description", "Mean over households of: " + v.info.description);
      h5::write_attr(ds, "aggregation", std::string(v.sum ? "sum over the period" : "end of period"));
      if (!v.info.labels.empty()) h5::write_attr(ds, "labels", h5::join_labels(v.info.labels));
    }
  }

 private:
  using Handle = h5::Handle;
  struct Var {
    std::size_t index = 0;
    ColumnInfo info;
    bool sum = false;
    std::vector<float> accumulated;
    std::vector<double> means;
    h5::Handle dataset;
  };

  static void accumulate(Var& v, const void* src, std::size_t begin, std::size_t end) {
    float* acc = v.accumulated.data();
    switch (v.info.type) {
      case ColumnType::f32: {
        const auto* s = static_cast<const float*>(src);
        for (std::size_t i = begin; i < end; ++i) acc[i] += s[i];
        break;
      }
      default:
        // Flows are floats by convention; other types are converted value by value.
        for (std::size_t i = begin; i < end; ++i) acc[i] += static_cast<float>(value_at(v.info.type, src, i));
    }
  }

  static double value_at(ColumnType t, const void* p, std::size_t i) {
    switch (t) {
      case ColumnType::f32: return static_cast<const float*>(p)[i];
      case ColumnType::f64: return static_cast<const double*>(p)[i];
      case ColumnType::i8: return static_cast<const std::int8_t*>(p)[i];
      case ColumnType::u8: return static_cast<const std::uint8_t*>(p)[i];
      case ColumnType::i16: return static_cast<const std::int16_t*>(p)[i];
      case ColumnType::i32: return static_cast<const std::int32_t*>(p)[i];
      case ColumnType::u32: return static_cast<const std::uint32_t*>(p)[i];
      case ColumnType::i64: return static_cast<double>(static_cast<const std::int64_t*>(p)[i]);
    }
    return 0.0;
  }

  // Household means of the period in index order (deterministic whatever the thread count).
  void period_means(Var& v, std::size_t period) const {
    const std::size_t n = world_.household_count();
    const auto width = static_cast<std::size_t>(v.info.width);
    const void* src = v.sum ? static_cast<const void*>(v.accumulated.data()) : world_.households.data(v.index);
    const ColumnType stored = v.sum ? ColumnType::f32 : v.info.type;
    for (std::size_t k = 0; k < width; ++k)
      v.means[period * width + k] = n > 0 ? column_sum(stored, src, n, width, k) / static_cast<double>(n) : 0.0;
  }

  // Split world: the period's values of every process gathered on rank 0 (gather_columns), which computes
  // each sub-column's mean over the whole population in household order and writes the panel row of the
  // period, as for a whole world.
  void gather_period(std::size_t period) {
    const std::size_t n = world_.household_count();
    const auto total = static_cast<std::size_t>(world_.total_households());
    std::vector<ColumnPart> parts;
    for (const auto& v : vars_) {
      const void* src = v.sum ? static_cast<const void*>(v.accumulated.data()) : world_.households.data(v.index);
      parts.push_back(ColumnPart{src, static_cast<std::size_t>(v.info.width) *
                                          column_type_size(v.sum ? ColumnType::f32 : v.info.type)});
    }
    gather_columns(world_.comm(), parts, n, total, [&](std::size_t k, const char* data) {
      Var& v = vars_[k];
      const auto width = static_cast<std::size_t>(v.info.width);
      const ColumnType stored = v.sum ? ColumnType::f32 : v.info.type;
      for (std::size_t c = 0; c < width; ++c)
        v.means[period * width + c] = total > 0 ? column_sum(stored, data, total, width, c) / static_cast<double>(total) : 0.0;
      if (v.dataset.valid() && total > 0)
        write_rows_chunked(v.dataset, stored, width, total, balanced_chunk_rows(total, kPanelChunkRows), data,
                           {static_cast<hsize_t>(period)}, "panel " + v.info.name);
    }, buffers_);
    for (auto& v : vars_)
      if (v.sum) std::fill(v.accumulated.begin(), v.accumulated.end(), 0.0f);
  }

  // The period's panel row of every variable, their chunks filtered together (write_chunked).
  void write_period(std::size_t period) {
    const std::size_t n = world_.household_count();
    std::vector<ChunkedRows> sets;
    for (auto& v : vars_) {
      if (!v.dataset.valid() || n == 0) continue;
      const void* src = v.sum ? static_cast<const void*>(v.accumulated.data()) : world_.households.data(v.index);
      sets.push_back(ChunkedRows{v.dataset.id(), v.sum ? ColumnType::f32 : v.info.type,
                                 static_cast<std::size_t>(v.info.width), n, balanced_chunk_rows(n, kPanelChunkRows),
                                 src, {static_cast<hsize_t>(period)}, "panel " + v.info.name});
    }
    write_chunked(sets);
    for (auto& v : vars_)
      if (v.sum) std::fill(v.accumulated.begin(), v.accumulated.end(), 0.0f);
  }

  World& world_;
  int months_;
  std::size_t periods_;
  hid_t panel_;
  hid_t agg_;
  std::vector<Var> vars_;
  GatherBuffers buffers_;  // split world: kept across periods
};

// Owns the temporary file OUT.partial. It is renamed to OUT only by commit(); a failed run removes it,
// an interrupted one keeps it (clearly named partial) so that `--resume` can continue it.
class AtomicOutput {
 public:
  AtomicOutput(std::string final_path, bool force, bool resume) : final_(std::move(final_path)) {
    namespace fs = std::filesystem;
    partial_ = final_ + ".partial";
    if (resume && fs::exists(partial_)) {
      const hid_t id = H5Fopen(partial_.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
      if (id < 0) throw h5::Error("cannot reopen " + partial_ + " to resume (damaged?); remove it and run again");
      file_ = h5::Handle(id);
      resumed_ = true;
      return;
    }
    if (fs::exists(final_) && !force)
      throw OutputExists("output " + final_ + " already exists; use --force to overwrite it or -o to choose another");
    file_ = h5::create_file(partial_);
  }
  ~AtomicOutput() {
    if (!committed_) {
      file_.close();
      if (!keep_) {
        std::error_code ec;
        std::filesystem::remove(partial_, ec);
      }
    }
  }
  hid_t file() const { return file_.id(); }
  bool resumed() const { return resumed_; }
  const std::string& partial_path() const { return partial_; }
  void keep_partial() { keep_ = true; }
  void flush() {
    if (H5Fflush(file_, H5F_SCOPE_GLOBAL) < 0) throw h5::Error("HDF5: cannot flush " + partial_ + " (disk full?)");
  }
  void commit() {
    flush();
    file_.close();
    std::filesystem::rename(partial_, final_);
    committed_ = true;
  }

 private:
  std::string final_, partial_;
  h5::Handle file_;
  bool committed_ = false, keep_ = false, resumed_ = false;
};

void write_provenance(hid_t file, const Scenario& scenario, const RunOptions& options, int threads,
                      const std::string& start_time, const std::vector<std::string>& periods) {
  const ParamSet& base = scenario.base;
  h5::Handle prov = h5::create_group(file, "provenance");
  h5::write_attr(prov, "chacra_version", chacra_version());
  h5::write_attr(prov, "git_commit", chacra_commit());
  h5::write_attr(prov, "scenario_name", scenario.name);
  h5::write_attr(prov, "scenario_path", scenario.path);
  h5::write_attr(prov, "run_seed", static_cast<long long>(base.integer("run.seed")));
  h5::write_attr(prov, "population_seed", static_cast<long long>(base.integer("population.seed")));
  h5::write_attr(prov, "replicates", static_cast<long long>(base.integer("run.replicates")));
  h5::write_attr(prov, "threads", static_cast<long long>(threads));
  h5::write_attr(prov, "host", host_name());
  h5::write_attr(prov, "start_time", start_time);
  h5::write_attr(prov, "command_line", options.command_line);
  h5::write_attr(prov, "output_frequency", base.choice("output.frequency"));
  h5::write_strings(prov, "scenario_yaml", {scenario.resolved_yaml()});
  std::vector<std::string> arm_names;
  for (const auto& arm : scenario.arms) arm_names.push_back(arm.name);
  h5::write_strings(file, "arm_names", arm_names);
  h5::write_strings(file, "periods", periods);
}


}  // namespace

bool chunk_worth_compressing(const void* data, std::size_t elements, std::size_t element_size) {
  thread_local Deflater deflater;
  return worth_compressing(deflater, static_cast<const unsigned char*>(data), elements, element_size);
}

UnitResult read_unit(hid_t file, const std::string& group, const std::string& arm, std::uint32_t replicate,
                     const std::vector<std::string>& variables) {
  UnitResult u;
  u.arm = arm;
  u.replicate = replicate;
  for (const auto& v : variables) {
    std::vector<hsize_t> dims;
    u.variables.push_back(v);
    u.means.push_back(h5::read_doubles(file, group + "/aggregates/" + v, &dims));
    u.widths.push_back(dims.size() > 1 ? static_cast<int>(dims[1]) : 1);
  }
  return u;
}

std::uint64_t checked_product(std::initializer_list<std::uint64_t> factors, const std::string& what) {
  std::uint64_t p = 1;
  for (auto f : factors)
    if (__builtin_mul_overflow(p, f, &p)) throw ResourceError(what + " overflows 64 bits; reduce the population or horizon");
  return p;
}

std::uint64_t memory_limit_bytes() {
  std::uint64_t limit = static_cast<std::uint64_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<std::uint64_t>(sysconf(_SC_PAGE_SIZE));
  struct rlimit rl {};
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) limit = std::min<std::uint64_t>(limit, rl.rlim_cur);
  if (const char* env = std::getenv("CHACRA_MEMORY_LIMIT_BYTES")) {
    std::uint64_t value = 0;
    const char* end = env + std::strlen(env);
    const auto [ptr, ec] = std::from_chars(env, end, value);
    if (ec != std::errc() || ptr != end || value == 0)
      throw ResourceError(std::string("CHACRA_MEMORY_LIMIT_BYTES must be a positive whole number of bytes, got '") +
                          env + "'");
    limit = std::min(limit, value);
  }
  return limit;
}

std::uint64_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long long size = 0, resident = 0;
  const bool ok = std::fscanf(f, "%llu %llu", &size, &resident) == 2;
  std::fclose(f);
  return ok ? resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE)) : 0;
}

World setup_sample_world(const ParamSet& arm_params, const ModelBuilder& builder, std::int64_t households) {
  ParamSet small = arm_params;
  small.set("population.households", households);
  small.set("population.districts", std::min<std::int64_t>(arm_params.integer("population.districts"), households));
  World world = generate_population(small, 0);
  Model model = builder(arm_params);
  for (auto& m : model.modules) m->setup(world, arm_params, rng::StreamSeed{0, 0});
  return world;
}

MemoryEstimate estimate_memory(const Scenario& scenario, const ModelBuilder& builder) {
  // Set the model up on a small population and scale its per-household footprint: nothing of the real
  // size is allocated before the estimate is checked.
  const ParamSet& base = scenario.base;
  const World world = setup_sample_world(scenario.arms.front().params, builder,
                                         std::min<std::int64_t>(base.integer("population.households"), 2000));
  const auto variables = resolve_panel_variables(world, base.text_list("output.variables"), scenario.path);
  std::uint64_t per_household = world.households.bytes_per_row();
  std::uint64_t accumulators = 0;
  for (const auto& v : variables) {
    const ColumnInfo& info = world.households.info(world.households.index(v));
    if (info.aggregation == PeriodAggregation::sum) accumulators += 4ull * static_cast<std::uint64_t>(info.width);
  }
  const double centre_share = static_cast<double>(world.centres.bytes_per_row() * world.centre_count()) /
                              static_cast<double>(std::max<std::size_t>(world.household_count(), 1));
  MemoryEstimate e;
  e.households = static_cast<std::uint64_t>(base.integer("population.households"));
  e.bytes_per_household = per_household;
  // The replicate's population and the arm's working copy, plus period accumulators and centre tables.
  const std::uint64_t per = 2 * per_household + accumulators + static_cast<std::uint64_t>(2 * centre_share) + 16;
  e.bytes = checked_product({e.households, per}, "the memory estimate (households x bytes per household)");
  const std::uint64_t months = static_cast<std::uint64_t>(base.integer("run.years")) * 12;
  e.panel_cells = checked_product({e.households, months, std::max<std::uint64_t>(variables.size(), 1),
                                   static_cast<std::uint64_t>(scenario.arms.size()),
                                   static_cast<std::uint64_t>(base.integer("run.replicates"))},
                                  "the panel size (households x months x variables x arms x replicates)");
  e.limit = memory_limit_bytes();
  return e;
}

RunResult run_scenario(const Scenario& scenario, const ModelBuilder& builder, const RunOptions& options) {
  using clock = std::chrono::steady_clock;
  const auto t_start = clock::now();
  h5::quiet_errors();
  const ParamSet& base = scenario.base;
  const int threads = options.threads > 0 ? options.threads : tbb::info::default_concurrency();
  tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));

  const auto replicates = static_cast<std::uint32_t>(base.integer("run.replicates"));
  const std::uint64_t run_seed = static_cast<std::uint64_t>(base.integer("run.seed"));
  const int months_per = months_per_period(base.choice("output.frequency"));
  const bool write_panel = base.boolean("output.panel");

  // A world split by districts across the processes of options.collective: each holds its block's
  // households; rank 0 alone writes the file (the others send it their rows).
  const Collective* split = options.collective;
  const bool writer = split == nullptr || split->rank() == 0;
  if (split != nullptr && options.resume)
    throw std::logic_error("run_scenario: --resume is handled by the MPI runner (unit files) for a split world");

  MemoryEstimate memory = estimate_memory(scenario, builder);
  if (split != nullptr) {  // this process's share (blocks are balanced by households)
    const auto ranks = static_cast<std::uint64_t>(split->size());
    memory.households = (memory.households + ranks - 1) / ranks;
    memory.bytes = (memory.bytes + ranks - 1) / ranks;
  }
  if (memory.bytes > memory.limit * 9 / 10)
    throw ResourceError("the population needs about " + std::to_string(memory.bytes >> 20) + " MiB (" +
                        std::to_string(memory.households) + " households x " +
                        std::to_string(memory.bytes / std::max<std::uint64_t>(memory.households, 1)) +
                        " bytes), more than 90% of the memory available (" + std::to_string(memory.limit >> 20) +
                        " MiB); reduce population.households or run on a larger machine");

  RunResult result;
  result.threads = threads;
  result.output_path = writer ? options.output_path : std::string();
  std::unique_ptr<AtomicOutput> out;
  const std::string start_time = now_iso();

  // The generator places exactly population.households households; the calendar comes from run.*.
  const auto households = static_cast<std::uint64_t>(base.integer("population.households"));
  Calendar calendar;
  calendar.start_year = static_cast<int>(base.integer("run.start_year"));
  calendar.months = static_cast<int>(base.integer("run.years") * 12);
  result.households = households;
  result.period_labels = period_labels(calendar, months_per);
  auto selected = [&](std::uint32_t r, std::size_t a) { return !options.run_unit || options.run_unit(r, a); };
  std::uint64_t done = 0, total = 0;
  for (std::uint32_t r = 0; r < replicates; ++r)
    for (std::size_t a = 0; a < scenario.arms.size(); ++a)
      if (selected(r, a)) total += households * static_cast<std::uint64_t>(calendar.months);
  try {
    for (std::uint32_t r = 0; r < replicates; ++r) {
      // Only replicates with a unit to run are generated (a unit filter of the MPI runner selects one).
      bool any = false;
      for (std::size_t a = 0; a < scenario.arms.size(); ++a) any = any || selected(r, a);
      if (!any) continue;
      const World population = split != nullptr ? generate_population(base, r, *split) : generate_population(base, r);
      bool population_written = false;  // split world: this replicate's population is in the file
      for (std::size_t a = 0; a < scenario.arms.size(); ++a) {
        if (!selected(r, a)) continue;
        const Arm& arm = scenario.arms[a];
        World world = population;
        Model model = builder(arm.params);
        const rng::StreamSeed seed{run_seed, r};
        for (auto& m : model.modules) m->setup(world, arm.params, seed);
        const auto variables = resolve_panel_variables(world, base.text_list("output.variables"), scenario.path);
        if (!out && writer && !options.output_path.empty()) {
          // Opened only after the first arm set up cleanly, so invalid variables never leave a file.
          out = std::make_unique<AtomicOutput>(options.output_path, options.force, options.resume);
          if (!out->resumed()) {
            write_provenance(out->file(), scenario, options, threads, start_time, result.period_labels);
          } else {
            // Resume only what the same scenario started: its resolved YAML must match exactly.
            const auto stored = h5::read_strings(h5::open_group(out->file(), "provenance"), "scenario_yaml");
            if (stored.empty() || stored.front() != scenario.resolved_yaml()) {
              out->keep_partial();
              throw ConfigError({ConfigIssue{out->partial_path(), 0, 0, "--resume",
                                             "the partial output was produced by a different scenario or settings",
                                             "run the same scenario and options, or drop --resume to start over"}});
            }
            h5::write_attr(h5::open_group(out->file(), "provenance"), "resumed_time", now_iso());
          }
        }
        const std::string unit_group = "arms/" + arm.name + "/replicate_" + std::to_string(r);
        result.bytes_per_household = world.households.bytes_per_row();
        if (out && out->resumed() && h5::exists(out->file(), unit_group)) {
          h5::Handle g = h5::open_group(out->file(), unit_group);
          if (h5::has_attr(g, "complete")) {
            result.units.push_back(read_unit(out->file(), unit_group, arm.name, r, variables));
            done += world.total_households() * static_cast<std::uint64_t>(world.calendar.months);
            continue;
          }
          g.close();
          H5Ldelete(out->file(), unit_group.c_str(), H5P_DEFAULT);  // started but not finished: redo it
        }
        if (split != nullptr) {
          // Every process takes part (it sends its rows), so the decision may not depend on the file.
          if (!options.output_path.empty() && !population_written)
            write_population_split(out ? out->file() : -1, "population/replicate_" + std::to_string(r), world);
          population_written = true;
        } else if (out) {
          const std::string g = "population/replicate_" + std::to_string(r);
          if (!h5::exists(out->file(), g)) {
            write_table_chunked(out->file(), g + "/districts", world.districts);
            write_table_chunked(out->file(), g + "/centres", world.centres);
            write_table_chunked(out->file(), g + "/households", world.households);
          }
        }
        h5::Handle unit, panel_group, agg_group;
        if (out) {
          h5::Handle arm_group = h5::exists(out->file(), "arms/" + arm.name)
                                     ? h5::open_group(out->file(), "arms/" + arm.name)
                                     : h5::create_group(out->file(), "arms/" + arm.name);
          h5::write_attr(arm_group, "description", arm.description);
          unit = h5::create_group(out->file(), unit_group);
          if (write_panel) panel_group = h5::create_group(out->file(), unit_group + "/panel");
          agg_group = h5::create_group(out->file(), unit_group + "/aggregates");
        }
        Recorder recorder(world, variables, months_per, result.period_labels.size(),
                          panel_group.valid() ? panel_group.id() : -1, agg_group.valid() ? agg_group.id() : -1);
        Stepper stepper(world, model.month, arm.params, seed);
        stepper.set_profiling(options.profile);
        for (int month = 0; month < world.calendar.months; ++month) {
          if (stop_requested()) throw Interrupted(stop_signal());
          stepper.step(month);
          recorder.after_month(month);
          done += world.total_households();  // every process of a split world steps the whole month together
          if (options.progress) options.progress(done, total);
        }
        recorder.finish();  // split world: a collective step that every process reaches only after its last month
        recorder.write_aggregates();
        if (out) {
          // A unit is complete only once this mark is on disk; --resume skips exactly these.
          h5::write_attr(unit, "complete", 1LL);
          out->flush();
        }
        result.units.push_back(recorder.result(arm.name, r));
        if (result.phase_names.empty()) {
          for (const auto& ph : model.month) result.phase_names.push_back(ph.name);
          result.phase_seconds.assign(model.month.size(), 0.0);
        }
        for (std::size_t i = 0; i < stepper.phase_seconds().size() && i < result.phase_seconds.size(); ++i)
          result.phase_seconds[i] += stepper.phase_seconds()[i];
      }
    }
    result.household_months = done;
    if (out) {
      if (options.finalize) options.finalize(out->file(), result);
      h5::Handle prov = h5::open_group(out->file(), "provenance");
      h5::write_attr(prov, "end_time", now_iso());
      h5::write_attr(prov, "seconds", std::chrono::duration<double>(clock::now() - t_start).count());
      out->commit();
    }
  } catch (const Interrupted&) {
    if (out) out->keep_partial();
    throw;
  }
  result.seconds = std::chrono::duration<double>(clock::now() - t_start).count();
  return result;
}

}  // namespace chacra
