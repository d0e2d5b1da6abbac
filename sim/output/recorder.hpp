// The panel recorder of one arm x replicate unit: accumulates flows over each output period, keeps the
// per-period household means, and hands each period's panel row to the writer (sim/output/writer.hpp).
#pragma once

#include "sim/output/writer.hpp"
#include "sim/world.hpp"

#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <vector>

namespace chacra {

// Per-period household means of the panel variables for one arm and replicate.
struct UnitResult {
  std::string arm;
  std::uint32_t replicate = 0;
  std::vector<std::string> variables;
  std::vector<int> widths;
  std::vector<std::vector<double>> means;  // [variable][period * width + k]
  std::vector<output::ReachRow> reach;     // what the modules report at the end of the unit
  double mean(const std::string& variable, std::size_t period, int k = 0) const;
  bool has(const std::string& variable) const;
};

}  // namespace chacra

namespace chacra::output {

// Nanoseconds the calling thread has waited for a recorder's background panel writes (at the end of a period
// whose predecessor was still being written, and before the aggregates): the part of writing that was not
// hidden behind the months. Thread-local, read by `chacra bench` around a run.
inline thread_local std::uint64_t panel_wait_ns = 0;
// Nanoseconds the calling thread has spent copying periods' panel values for the background writer (the
// month loop's part of writing the panel).
inline thread_local std::uint64_t panel_copy_ns = 0;

// Records one arm x replicate: flows (columns aggregated as sums) are summed over each period, states taken at
// its end; means are computed in household order, so they do not depend on the thread count (codes, columns
// marked category, get no mean). A period's panel rows are copied (states) or swapped out (flows' sums) and
// written (encoded and handed to HDF5) by a background thread while the next period's months run; one period at
// most is in flight, so the extra memory is one copy of a period's panel values, and the file is written in the
// same order, hence with the same bytes, as if written on the spot. The unit's datasets are likewise created in
// the background while the first period's months run. Centre columns marked panel are written at the end of
// every period to the unit's centre table. A world split by districts (World::split()) records collectively:
// each period's values of every process are gathered on rank 0, which computes the means over the whole
// population and writes the panel and the centre table, exactly as for a whole world.
class Recorder {
 public:
  // `unit` (null: record the means only) receives the panel and the aggregates; in a split world it is used on
  // rank 0 only.
  Recorder(World& world, const std::vector<std::string>& variables, int months_per_period, std::size_t periods,
           UnitWriter* unit);
  // Waits for the period in flight (an error it met is dropped: the run is already failing or interrupted).
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;
  // Called after each month's phases.
  void after_month(int month);
  // After the last month: in a split world, rank 0's means go to every process (a collective step after every
  // process has recorded every period).
  void finish();
  // The means as aggregates/<variable>, after the last period's panel rows are written (the file may be used
  // by the caller once this returns).
  void write_aggregates();
  // Waits until the panel rows handed to the background thread are written; rethrows its error.
  void wait_for_panel();
  UnitResult result(const std::string& arm, std::uint32_t replicate) const;

 private:
  struct Var {
    std::size_t index = 0;
    ColumnInfo info;
    bool sum = false;
    bool mean = true;  // false for codes (ColumnInfo::category)
    std::vector<float> accumulated;
    std::vector<double> means;
    h5::Handle dataset;
    std::vector<StoredChunk>* chunks = nullptr;  // what the panel's chunks stored (UnitWriter::stored_chunks)
    ColumnType stored() const { return sum ? ColumnType::f32 : info.type; }
  };
  const void* period_values(const Var& v) const;
  void period_means(Var& v, std::size_t period) const;
  void gather_period(std::size_t period);
  void write_period(std::size_t period);
  void write_centres(std::size_t period);  // split world
  struct CentreVar;
  // The replicate's encoded chunks that the unit's writes reuse and add to (null without a unit or a cache).
  ChunkCache* chunk_cache() const { return unit_ != nullptr ? unit_->chunk_cache() : nullptr; }
  Rows centre_rows(const CentreVar& c, std::size_t period, const void* src) const;

  World& world_;
  int months_;
  std::size_t periods_;
  UnitWriter* unit_;
  std::vector<Var> vars_;
  struct CentreVar {
    std::size_t index = 0;
    ColumnInfo info;
    h5::Handle dataset;
    std::vector<StoredChunk>* chunks = nullptr;  // what its chunks stored (UnitWriter::stored_chunks)
  };
  std::vector<CentreVar> centre_vars_;
  GatherBuffers buffers_;  // split world: kept across periods
  // The period in flight: its values (one buffer per panel variable and recorded centre column, reused from
  // period to period), the rows that point into them, and the background write.
  struct Snapshot {
    std::unique_ptr<unsigned char[]> bytes;  // a state variable's values, copied
    std::size_t size = 0;
    std::vector<float> flows;  // a flow's sums: swapped with its accumulator, not copied
  };
  std::vector<Snapshot> snapshots_;
  std::vector<std::vector<unsigned char>> centre_snapshots_;  // the recorded centre columns' values, copied
  std::vector<Rows> pending_rows_;
  std::future<void> pending_;
};

// Reads back the per-period means of a finished unit from an output file (a resumed or joined unit).
UnitResult read_unit_means(hid_t file, const std::string& arm, std::uint32_t replicate,
                           const std::vector<std::string>& variables);

}  // namespace chacra::output
