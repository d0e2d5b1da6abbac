// The writer of chacra's HDF5 output (layout: docs/output.md, sim/output/layout.hpp) into the file that
// sim/output/lifecycle.hpp creates and renames: its provenance, the population tables, one group per arm x
// replicate with the household panel and the per-period means, and the joining of unit files under MPI.
// Panel and population datasets are chunked and compressed in parallel (sim/output/codec.hpp); the bytes do
// not depend on the thread count or on how a world is split across processes.
#pragma once

#include "sim/collective.hpp"
#include "sim/errors.hpp"
#include "sim/output/checksum.hpp"
#include "sim/output/h5.hpp"
#include "sim/output/lifecycle.hpp"
#include "sim/output/records.hpp"
#include "sim/table.hpp"
#include "sim/world.hpp"

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

namespace chacra::output {

// What the file records about its run (docs/output.md, "Provenance"), and the arm and period names.
struct RunHeader {
  std::string chacra_version, git_commit, scenario_name, scenario_path, host, start_time, command_line;
  std::string output_frequency, scenario_yaml;
  long long run_seed = 0, population_seed = 0, replicates = 0, threads = 0;
  std::vector<std::string> arms, periods;
};
void write_run_header(hid_t file, const RunHeader& header);
// A provenance attribute added or replaced (end_time, seconds, resumed_time, the MPI run's attributes).
using AttributeValue = std::variant<std::string, long long, double>;
void set_provenance(hid_t file, const std::string& name, const AttributeValue& value);
// The resolved scenario stored in the provenance ("" when there is none).
std::string stored_scenario_yaml(hid_t file);

// The population of replicate `replicate` (its districts, centres and households at the start) from a whole
// world, unless the file already holds it.
void write_population(hid_t file, std::uint32_t replicate, const World& world);
// The same from a world split by districts across the processes of world.comm(): each contributes its rows and
// rank 0 writes the tables exactly as write_population would (`file` is used on rank 0 only). Collective.
void write_population_split(hid_t file, std::uint32_t replicate, const World& world);

// An arm x replicate unit started before and finished (marked complete), e.g. by an interrupted run.
bool unit_complete(hid_t file, const std::string& arm, std::uint32_t replicate);
// Removes a unit's group if present (a unit started but not finished is run again).
void remove_unit(hid_t file, const std::string& arm, std::uint32_t replicate);

// The encoded chunks of a replicate's units, for its later units: the arms of a replicate share the population
// and the random numbers, so many chunks of a period equal an earlier arm's (the variables a programme does not
// move, the programme's own variables in the arms without it, every arm before the programmes start): in the
// default scenario about half of the panel's chunks, and 30% of the encoding time. A chunk to be compressed
// is looked up by its dataset, period and chunk, and its bytes' 128-bit XXH3 fingerprint, and a match takes the
// earlier chunk's encoded bytes, which are those the codec would give (it is a function of the bytes): the file
// is the same with or without the cache, unless two different chunks of one dataset and period share a 128-bit
// fingerprint (for a non-adversarial hash, a chance of about 2^-128 per pair). At most `max_bytes` of encoded chunks are kept (the first ones seen);
// safe to use from the parallel encoding tasks.
class ChunkCache {
 public:
  static constexpr std::size_t kDefaultBytes = std::size_t{64} << 20;
  explicit ChunkCache(std::size_t max_bytes = kDefaultBytes) : max_bytes_(max_bytes) {}
  struct Fingerprint {
    std::uint64_t low = 0, high = 0;
    bool operator==(const Fingerprint&) const = default;
  };
  static Fingerprint fingerprint(const void* data, std::size_t size);
  // The encoded bytes kept for `key` with fingerprint `fp`, copied into `bytes`; false if none.
  bool find(const std::string& key, const Fingerprint& fp, std::vector<unsigned char>& bytes) const;
  // Keeps a compressed chunk's bytes, unless the cache is full or holds the key and fingerprint already.
  void insert(const std::string& key, const Fingerprint& fp, const unsigned char* bytes, std::size_t size);
  void clear();  // a new replicate: a new population
  std::size_t bytes() const;
  std::size_t hits() const;

 private:
  struct Entry {
    Fingerprint fp;
    std::vector<unsigned char> bytes;
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::vector<Entry>> entries_;
  std::size_t max_bytes_, bytes_ = 0;
  mutable std::size_t hits_ = 0;
};

// Rows [0, rows) of `src` (row-major, `width` values per row) for dataset `dataset`, whose chunk holds
// `chunk_rows` rows; `lead` are the leading coordinates (the period of a panel row).
struct Rows {
  hid_t dataset;
  ColumnType type;
  std::size_t width, rows, chunk_rows;
  const void* src;
  std::vector<hsize_t> lead;
  std::string name;  // for error messages
  // Where given, what each written chunk stored, at [first_chunk + chunk] (the unit's checksum uses it).
  std::vector<StoredChunk>* stored = nullptr;
  std::size_t first_chunk = 0;
  // Where given, compressed chunks are looked up there by `name`, `lead` and chunk, and kept.
  ChunkCache* cache = nullptr;
};
// Where writing costs, summed over the process's writes (read by `chacra bench` before and after a run): CPU
// time of the threads encoding chunks, wall time in HDF5's chunk writes (one thread, in file order), wall
// time reading a finished unit or population back for its checksum, bytes before and after encoding, and the
// chunks taken from a ChunkCache.
struct WriteCounters {
  std::atomic<std::uint64_t> encode_cpu_ns{0}, hdf5_ns{0}, checksum_ns{0}, bytes_in{0}, bytes_stored{0}, reused{0};
};
inline WriteCounters write_counters;

// Writes several datasets' rows: their chunks are encoded in parallel in windows, taken across datasets (a
// period's panel at 100,000 households is four chunks per variable, so one variable at a time would keep at
// most four threads busy), and written in order, dataset by dataset, chunk by chunk, so the file is the same
// whatever the thread count.
void write_rows(const std::vector<Rows>& sets);

// The groups of one arm x replicate unit: arms/<arm> (with its description), arms/<arm>/replicate_R with
// aggregates/, when `panel` panel/, centres/ when the model records centre columns, and reach.
class UnitWriter {
 public:
  static constexpr std::size_t kPanelChunkRows = 32768;  // at most this many households per panel chunk
  // `cache` (may be null): the replicate's encoded chunks, which the unit's panel and centre tables reuse and add to.
  UnitWriter(hid_t file, const std::string& arm, const std::string& description, std::uint32_t replicate,
             bool panel, ChunkCache* cache = nullptr);
  bool has_panel() const { return panel_.valid(); }
  ChunkCache* chunk_cache() const { return cache_; }
  // The panel dataset [periods, households(, width)] of a variable, stored as `stored` (flows as f32), with
  // its unit, description, aggregation and labels; chunked one period x chunk_rows(households) households.
  h5::Handle create_panel(const ColumnInfo& info, ColumnType stored, bool flow, std::size_t periods,
                          std::size_t households);
  static std::size_t chunk_rows(std::size_t households);
  // What the chunks of a panel dataset created by create_panel, or of a centre table created by
  // create_centre_table, stored, by chunk index (period x chunks of a period + chunk), filled by write_rows:
  // complete() folds their CRCs into the unit's checksum instead of reading them back.
  std::vector<StoredChunk>* stored_chunks(hid_t dataset);
  static std::size_t centre_chunk_rows(std::size_t centres);  // centres per chunk of a centre table
  // aggregates/<variable>: the per-period household means [periods(, width)].
  void write_aggregate(const ColumnInfo& info, bool flow, std::size_t periods, const std::vector<double>& means);
  // centres/<variable>: a centre column's value at the end of every period [periods, centres(, width)], chunked
  // one period at a time; rows are written with write_rows.
  h5::Handle create_centre_table(const ColumnInfo& info, std::size_t periods, std::size_t centres);
  // reach: the records the modules report at the end of the unit.
  void write_reach(const Records& records);
  // <name>: a table a module records for the unit (UnitTable, sim/engine.hpp), e.g. the local economies.
  void write_table(const std::string& name, const Records& records);
  // Marks the unit complete; a resumed run skips exactly the complete units.
  void complete();

 private:
  h5::Handle create_periodic(hid_t parent, const ColumnInfo& info, ColumnType stored, bool flow, std::size_t periods,
                             std::size_t rows, std::size_t chunk_rows);
  hid_t file_;
  std::string arm_;
  std::uint32_t replicate_;
  ChunkCache* cache_;
  h5::Handle unit_, panel_, aggregates_, centres_;
  // By the dataset's path; a deque, so the chunk lists handed out stay where they are as datasets are added.
  std::deque<std::pair<std::string, std::vector<StoredChunk>>> stored_;
};

// ---- Split worlds (World::split()) ----

// Columns of the rows a process holds (rank order = row order) are gathered on rank 0 in batches of bounded
// size, so rank 0 holds one batch and one whole column at a time.
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
                    GatherBuffers& buffers);

// ---- Joining unit files (the MPI runner: one file per arm x replicate unit, joined by rank 0) ----

// Copies the run header (provenance, arm and period names) of a unit file into the output.
void copy_run_header(hid_t source, hid_t destination, const std::string& source_name);
// Copies replicate `replicate`'s population unless the output already holds it.
void copy_population(hid_t source, hid_t destination, std::uint32_t replicate, const std::string& source_name);
// Copies a unit (and its arm's group with the description); check unit_complete(source, ...) first.
void copy_unit(hid_t source, hid_t destination, const std::string& arm, std::uint32_t replicate,
               const std::string& source_name);

}  // namespace chacra::output
