// The HDF5 writer (see sim/output/writer.hpp). Every path comes from sim/output/layout.hpp.
#include "sim/output/writer.hpp"

#include "sim/output/checksum.hpp"
#include "sim/output/codec.hpp"
#include "sim/output/layout.hpp"

#include <libdeflate.h>
#include <xxhash.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <ctime>

namespace chacra::output {

namespace {

// Chunks of population tables hold at most this many rows.
constexpr std::size_t kTableChunkRows = 65536;

// The unit, description and (for multi-valued variables) labels attributes of a variable's dataset.
void describe(hid_t dataset, const ColumnInfo& info, const std::string& description) {
  h5::write_attr(dataset, layout::kUnit, info.unit);
  h5::write_attr(dataset, layout::kDescription, description);
}
// Labels, and the codes of a coded variable stored as integers (a coded variable's mean in aggregates/ is not
// a code). A meaning is one word: flag_meanings separates them by blanks.
void label(hid_t dataset, const ColumnInfo& info, ColumnType stored) {
  if (!info.labels.empty()) h5::write_attr(dataset, layout::kLabels, h5::join_labels(info.labels));
  if (info.codes.empty() || stored == ColumnType::f32 || stored == ColumnType::f64) return;
  std::vector<long long> values;
  std::string meanings;
  for (const CodeLabel& c : info.codes) {
    if (c.meaning.empty() || c.meaning.find_first_of(" \t\n") != std::string::npos)
      throw std::logic_error("column '" + info.name + "': the meaning of code " + std::to_string(c.value) +
                             " must be one word, got '" + c.meaning + "'");
    values.push_back(c.value);
    meanings += (meanings.empty() ? "" : " ") + c.meaning;
  }
  h5::write_attr(dataset, layout::kFlagValues, values, h5::native_type(stored));
  h5::write_attr(dataset, layout::kFlagMeanings, meanings);
}
std::string aggregation(bool flow) { return flow ? layout::kSumOverPeriod : layout::kEndOfPeriod; }
void scale(hid_t dataset, const ColumnInfo& info) {
  if (info.category) h5::write_attr(dataset, layout::kScale, std::string(layout::kCategory));
}

// Creates a chunked dataset with the shuffle + deflate(1) pipeline declared (dims: lead..., rows[, width]); its
// chunks are encoded by write_rows.
h5::Handle create_chunked(hid_t parent, const std::string& name, ColumnType type, std::vector<hsize_t> dims,
                          std::vector<hsize_t> chunk) {
  h5::Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  const bool empty = std::any_of(dims.begin(), dims.end(), [](hsize_t d) { return d == 0; });
  if (!empty) {
    H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, 1);
    // An explicit fill value of zero: chunks that are all zero are not written (write_rows) and read back as
    // this value by any reader.
    const std::array<unsigned char, 16> zero{};
    H5Pset_fill_value(dcpl, h5::native_type(type), zero.data());
  }
  const hid_t ds = H5Dcreate2(parent, name.c_str(), h5::native_type(type), space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  if (ds < 0) throw h5::Error("HDF5: cannot create dataset " + name);
  return h5::Handle(ds);
}

std::uint64_t thread_cpu_ns() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(t.tv_nsec);
}
std::uint64_t since_ns(std::chrono::steady_clock::time_point t0) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
}

// The dataset of one population-table column of `rows` rows, with its attributes.
h5::Handle create_table_column(hid_t g, const ColumnInfo& info, std::size_t rows, std::size_t chunk_rows) {
  std::vector<hsize_t> dims{rows}, chunk{chunk_rows};
  if (info.width > 1) {
    dims.push_back(static_cast<hsize_t>(info.width));
    chunk.push_back(static_cast<hsize_t>(info.width));
  }
  h5::Handle ds = create_chunked(g, info.name, info.type, dims, chunk);
  describe(ds, info, info.description);
  label(ds, info, info.type);
  return ds;
}

// One column of a population table: `rows` rows of `data` (row-major, info.width values per row).
void write_table_column(hid_t g, const std::string& group, const ColumnInfo& info, std::size_t rows,
                        std::size_t chunk_rows, const void* data) {
  h5::Handle ds = create_table_column(g, info, rows, chunk_rows);
  write_rows({Rows{ds.id(), info.type, static_cast<std::size_t>(info.width), rows, chunk_rows, data, {},
                   layout::member(group, info.name)}});
}

// A whole population table: every column's chunks written by one write_rows.
void write_table(hid_t parent, const std::string& group, const Table& table) {
  h5::Handle g = h5::create_group(parent, group);
  h5::write_attr(g, layout::kRows, static_cast<long long>(table.rows()));
  const std::size_t chunk_rows = codec::balanced_chunk_rows(table.rows(), kTableChunkRows);
  std::vector<h5::Handle> datasets;
  std::vector<Rows> sets;
  for (std::size_t i = 0; i < table.column_count(); ++i) {
    const ColumnInfo& info = table.info(i);
    datasets.push_back(create_table_column(g, info, table.rows(), chunk_rows));
    sets.push_back(Rows{datasets.back().id(), info.type, static_cast<std::size_t>(info.width), table.rows(), chunk_rows,
                        table.data(i), {}, layout::member(group, info.name)});
  }
  write_rows(sets);
}

// A population table of a split world: each process contributes its stored rows [first, first + count), and
// rank 0 writes the datasets of `total_rows` rows exactly as write_table writes the whole table. Collective;
// `parent` is used on rank 0.
void write_table_split(hid_t parent, const std::string& group, const Table& table, std::size_t first,
                       std::size_t count, std::size_t total_rows, const Collective& comm) {
  h5::Handle g;
  if (comm.rank() == 0) {
    g = h5::create_group(parent, group);
    h5::write_attr(g, layout::kRows, static_cast<long long>(total_rows));
  }
  const std::size_t chunk_rows = codec::balanced_chunk_rows(total_rows, kTableChunkRows);
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

void copy_object(hid_t src, const std::string& path, hid_t dst, const std::string& src_file) {
  h5::Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl, 1);
  if (H5Ocopy(src, path.c_str(), dst, path.c_str(), H5P_DEFAULT, lcpl) < 0)
    throw h5::Error("HDF5: cannot copy " + path + " from " + src_file + " into the output (disk full?)");
}

}  // namespace

// ---- Provenance ----

void write_run_header(hid_t file, const RunHeader& r) {
  h5::Handle prov = h5::create_group(file, layout::kProvenance);
  h5::write_attr(prov, "chacra_version", r.chacra_version);
  h5::write_attr(prov, "git_commit", r.git_commit);
  h5::write_attr(prov, "scenario_name", r.scenario_name);
  h5::write_attr(prov, "scenario_path", r.scenario_path);
  h5::write_attr(prov, "run_seed", r.run_seed);
  h5::write_attr(prov, "population_seed", r.population_seed);
  h5::write_attr(prov, "replicates", r.replicates);
  h5::write_attr(prov, "threads", r.threads);
  h5::write_attr(prov, "host", r.host);
  h5::write_attr(prov, "start_time", r.start_time);
  h5::write_attr(prov, "command_line", r.command_line);
  h5::write_attr(prov, "output_frequency", r.output_frequency);
  h5::write_strings(prov, layout::kScenarioYaml, {r.scenario_yaml});
  h5::write_strings(file, layout::kArmNames, r.arms);
  h5::write_strings(file, layout::kPeriods, r.periods);
}

void set_provenance(hid_t file, const std::string& name, const AttributeValue& value) {
  h5::Handle prov = h5::open_group(file, layout::kProvenance);
  std::visit([&](const auto& v) { h5::write_attr(prov, name, v); }, value);
}

std::string stored_scenario_yaml(hid_t file) {
  if (!h5::exists(file, layout::member(layout::kProvenance, layout::kScenarioYaml))) return "";
  const auto stored = h5::read_strings(h5::open_group(file, layout::kProvenance), layout::kScenarioYaml);
  return stored.empty() ? "" : stored.front();
}

// ---- Population ----

void write_population(hid_t file, std::uint32_t replicate, const World& world) {
  if (h5::exists(file, layout::population(replicate))) return;
  write_table(file, layout::population(replicate, layout::Table::districts), world.districts);
  write_table(file, layout::population(replicate, layout::Table::centres), world.centres);
  write_table(file, layout::population(replicate, layout::Table::households), world.households);
  const auto t0 = std::chrono::steady_clock::now();
  seal_group(file, layout::population(replicate));
  write_counters.checksum_ns += since_ns(t0);
}

void write_population_split(hid_t file, std::uint32_t replicate, const World& w) {
  const Collective& comm = w.comm();
  write_table_split(file, layout::population(replicate, layout::Table::districts), w.districts, w.district_begin(),
                    w.district_end() - w.district_begin(), w.district_count(), comm);
  write_table_split(file, layout::population(replicate, layout::Table::centres), w.centres, w.centre_begin(),
                    w.centre_end() - w.centre_begin(), w.centre_count(), comm);
  write_table_split(file, layout::population(replicate, layout::Table::households), w.households, 0,
                    w.household_count(), static_cast<std::size_t>(w.total_households()), comm);
  if (comm.rank() == 0) seal_group(file, layout::population(replicate));
}

// ---- Units ----

bool unit_complete(hid_t file, const std::string& arm, std::uint32_t replicate) {
  const std::string g = layout::unit(arm, replicate);
  return h5::exists(file, g) && h5::has_attr(h5::open_group(file, g), layout::kComplete);
}

void remove_unit(hid_t file, const std::string& arm, std::uint32_t replicate) {
  const std::string g = layout::unit(arm, replicate);
  if (h5::exists(file, g) && H5Ldelete(file, g.c_str(), H5P_DEFAULT) < 0)
    throw h5::Error("HDF5: cannot remove the unfinished group " + g);
}

UnitWriter::UnitWriter(hid_t file, const std::string& arm, const std::string& description, std::uint32_t replicate,
                       bool panel, ChunkCache* cache)
    : file_(file), arm_(arm), replicate_(replicate), cache_(cache) {
  const std::string arm_group = layout::arm(arm);
  h5::Handle g = h5::exists(file, arm_group) ? h5::open_group(file, arm_group) : h5::create_group(file, arm_group);
  h5::write_attr(g, layout::kDescription, description);
  unit_ = h5::create_group(file, layout::unit(arm, replicate));
  if (panel) panel_ = h5::create_group(file, layout::panel(arm, replicate));
  aggregates_ = h5::create_group(file, layout::aggregates(arm, replicate));
}

std::size_t UnitWriter::chunk_rows(std::size_t households) {
  return codec::balanced_chunk_rows(households, kPanelChunkRows);
}

std::size_t UnitWriter::centre_chunk_rows(std::size_t centres) {
  return codec::balanced_chunk_rows(centres, kTableChunkRows);
}

h5::Handle UnitWriter::create_panel(const ColumnInfo& info, ColumnType stored, bool flow, std::size_t periods,
                                    std::size_t households) {
  return create_periodic(panel_, info, stored, flow, periods, households, chunk_rows(households));
}

// A [periods, rows(, width)] dataset chunked one period x chunk_rows rows, with its attributes (in the order the
// file has always had them), and its list of stored chunks for the checksum.
h5::Handle UnitWriter::create_periodic(hid_t parent, const ColumnInfo& info, ColumnType stored, bool flow,
                                       std::size_t periods, std::size_t rows, std::size_t chunk_rows) {
  std::vector<hsize_t> dims{periods, rows};
  std::vector<hsize_t> chunk{1, chunk_rows};
  if (info.width > 1) {
    dims.push_back(static_cast<hsize_t>(info.width));
    chunk.push_back(static_cast<hsize_t>(info.width));
  }
  h5::Handle ds = create_chunked(parent, info.name, stored, dims, chunk);
  describe(ds, info, info.description);
  h5::write_attr(ds, layout::kAggregation, aggregation(flow));
  label(ds, info, stored);
  const std::size_t per_period = rows == 0 ? 0 : (rows + chunk_rows - 1) / chunk_rows;
  stored_.emplace_back(h5::object_name(ds), std::vector<StoredChunk>(periods * per_period));
  scale(ds, info);
  return ds;
}

std::vector<StoredChunk>* UnitWriter::stored_chunks(hid_t dataset) {
  const std::string name = h5::object_name(dataset);
  for (auto& [path, chunks] : stored_)
    if (path == name) return &chunks;
  return nullptr;
}

h5::Handle UnitWriter::create_centre_table(const ColumnInfo& info, std::size_t periods, std::size_t centres) {
  if (!centres_.valid()) centres_ = h5::create_group(file_, layout::centres(arm_, replicate_));
  return create_periodic(centres_, info, info.type, false, periods, centres, centre_chunk_rows(centres));
}

void UnitWriter::write_reach(const Records& records) { write_records(file_, layout::reach(arm_, replicate_), records); }

void UnitWriter::write_table(const std::string& name, const Records& records) {
  write_records(file_, layout::unit_table(arm_, replicate_, name), records);
}

void UnitWriter::write_aggregate(const ColumnInfo& info, bool flow, std::size_t periods,
                                 const std::vector<double>& means) {
  std::vector<hsize_t> dims{periods};
  if (info.width > 1) dims.push_back(static_cast<hsize_t>(info.width));
  const h5::Handle ds = h5::write_dataset(aggregates_, info.name, ColumnType::f64, dims, means.data());
  describe(ds, info, "Mean over households of: " + info.description);
  h5::write_attr(ds, layout::kAggregation, aggregation(flow));
  label(ds, info, ColumnType::f64);
}

void UnitWriter::complete() {
  // The checksum is of what is in the file (read back), so --resume can tell a unit damaged on disk.
  const auto t0 = std::chrono::steady_clock::now();
  // The chunks of the panel and the centre tables are not read back: their CRCs were taken as they were written
  // (the same checksum).
  h5::write_attr(unit_, layout::kChecksum, group_checksum(unit_, [this](const std::string& path) {
    for (const auto& [name, chunks] : stored_)
      if (name == path) return &chunks;
    return static_cast<const std::vector<StoredChunk>*>(nullptr);
  }));
  write_counters.checksum_ns += since_ns(t0);
  h5::write_attr(unit_, layout::kComplete, 1LL);
}

// ---- Chunked writes ----

ChunkCache::Fingerprint ChunkCache::fingerprint(const void* data, std::size_t size) {
  const XXH128_hash_t h = XXH3_128bits(data, size);
  return Fingerprint{h.low64, h.high64};
}

bool ChunkCache::find(const std::string& key, const Fingerprint& fp, std::vector<unsigned char>& bytes) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto it = entries_.find(key);
  if (it == entries_.end()) return false;
  for (const Entry& e : it->second)
    if (e.fp == fp) {
      bytes = e.bytes;
      ++hits_;
      return true;
    }
  return false;
}

void ChunkCache::insert(const std::string& key, const Fingerprint& fp, const unsigned char* bytes, std::size_t size) {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (bytes_ + size > max_bytes_) return;
  auto& list = entries_[key];
  for (const Entry& e : list)
    if (e.fp == fp) return;
  list.push_back(Entry{fp, std::vector<unsigned char>(bytes, bytes + size)});
  bytes_ += size;
}

void ChunkCache::clear() {
  const std::lock_guard<std::mutex> lock(mutex_);
  entries_.clear();
  bytes_ = 0;
}

std::size_t ChunkCache::bytes() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return bytes_;
}

std::size_t ChunkCache::hits() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return hits_;
}

void write_rows(const std::vector<Rows>& sets) {
  struct Job {
    const Rows* set;
    std::size_t chunk;
  };
  std::vector<Job> jobs;
  for (const auto& s : sets)
    for (std::size_t c = 0; s.rows > 0 && c < (s.rows + s.chunk_rows - 1) / s.chunk_rows; ++c) jobs.push_back({&s, c});
  constexpr std::size_t kWindow = 64;
  std::vector<codec::EncodedChunk> outs(std::min(jobs.size(), kWindow));
  std::vector<std::uint32_t> crcs(outs.size());
  auto encode = [&](const Job& job, codec::EncodedChunk& o) {
    const Rows& s = *job.set;
    const std::size_t esize = column_type_size(s.type), row_bytes = s.width * esize;
    const std::size_t r0 = job.chunk * s.chunk_rows, r1 = std::min(s.rows, r0 + s.chunk_rows);
    const std::uint64_t c0 = thread_cpu_ns();
    const unsigned char* data = static_cast<const unsigned char*>(s.src) + r0 * row_bytes;
    const codec::ChunkPlan plan = codec::plan_chunk(data, r1 - r0, row_bytes, esize);
    if (s.cache != nullptr && plan.judged.compress) {
      // The key names the chunk's place and shape; the fingerprint its bytes.
      std::string key = s.name;
      for (hsize_t x : s.lead) key += ' ' + std::to_string(x);
      key += ' ' + std::to_string(job.chunk) + ' ' + std::to_string(s.chunk_rows) + ' ' + std::to_string(r1 - r0) +
             ' ' + std::to_string(row_bytes) + ' ' + std::to_string(esize);
      const ChunkCache::Fingerprint fp = ChunkCache::fingerprint(data, (r1 - r0) * row_bytes);
      o.zero = false;
      o.raw = nullptr;
      o.raw_size = 0;
      if (s.cache->find(key, fp, o.bytes)) {
        o.mask = 0;
        ++write_counters.reused;
      } else {
        codec::encode_planned(data, r1 - r0, s.chunk_rows, row_bytes, esize, plan, o);
        if (o.mask == 0) s.cache->insert(key, fp, o.bytes.data(), o.bytes.size());
      }
    } else {
      codec::encode_planned(data, r1 - r0, s.chunk_rows, row_bytes, esize, plan, o);
    }
    write_counters.encode_cpu_ns += thread_cpu_ns() - c0;
    write_counters.bytes_in += s.chunk_rows * row_bytes;
    write_counters.bytes_stored += o.zero ? 0 : o.size();
    if (s.stored != nullptr && !o.zero) crcs[&o - outs.data()] = libdeflate_crc32(0, o.data(), o.size());
  };
  for (std::size_t j0 = 0; j0 < jobs.size(); j0 += kWindow) {
    const std::size_t j1 = std::min(jobs.size(), j0 + kWindow);
    if (j1 - j0 == 1) {
      encode(jobs[j0], outs[0]);
    } else {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(j0, j1, 1), [&](const tbb::blocked_range<std::size_t>& r) {
        for (std::size_t j = r.begin(); j != r.end(); ++j) encode(jobs[j], outs[j - j0]);
      });
    }
    const auto t0 = std::chrono::steady_clock::now();
    for (std::size_t j = j0; j < j1; ++j) {
      const Rows& s = *jobs[j].set;
      const codec::EncodedChunk& o = outs[j - j0];
      if (o.zero) {
        if (s.stored != nullptr) s.stored->at(s.first_chunk + jobs[j].chunk).absent = true;
        continue;
      }
      std::vector<hsize_t> offset = s.lead;
      offset.push_back(static_cast<hsize_t>(jobs[j].chunk * s.chunk_rows));
      if (s.width > 1) offset.push_back(0);
      if (H5Dwrite_chunk(s.dataset, H5P_DEFAULT, o.mask, offset.data(), o.size(), o.data()) < 0) {
        char file[4096] = {0};
        H5Fget_name(s.dataset, file, sizeof file - 1);
        throw h5::Error("HDF5: cannot write " + s.name + " to " + file + " (disk full or file not writable?)");
      }
      if (s.stored != nullptr)
        s.stored->at(s.first_chunk + jobs[j].chunk) = StoredChunk{true, false, o.mask, o.size(), crcs[j - j0]};
    }
    write_counters.hdf5_ns += since_ns(t0);
  }
}

// ---- Split worlds ----

namespace {
// Gathered data per batch: at most this many bytes (one column at least), so a small population needs one
// message per process and batch.
constexpr std::size_t kGatherBatchBytes = std::size_t{16} << 20;
}  // namespace

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

// ---- Joining unit files ----

void copy_run_header(hid_t source, hid_t destination, const std::string& source_name) {
  for (const char* name : {layout::kProvenance, layout::kArmNames, layout::kPeriods})
    copy_object(source, name, destination, source_name);
}

void copy_population(hid_t source, hid_t destination, std::uint32_t replicate, const std::string& source_name) {
  const std::string pop = layout::population(replicate);
  if (!h5::exists(destination, pop)) copy_object(source, pop, destination, source_name);
}

void copy_unit(hid_t source, hid_t destination, const std::string& arm, std::uint32_t replicate,
               const std::string& source_name) {
  const std::string arm_group = layout::arm(arm);
  if (!h5::exists(destination, arm_group)) {
    h5::Handle g = h5::create_group(destination, arm_group);
    h5::write_attr(g, layout::kDescription,
                   h5::read_attr_string(h5::open_group(source, arm_group), layout::kDescription));
  }
  copy_object(source, layout::unit(arm, replicate), destination, source_name);
}

}  // namespace chacra::output
