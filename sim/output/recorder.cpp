// The panel recorder (see sim/output/recorder.hpp).
#include "sim/output/recorder.hpp"

#include "sim/output/layout.hpp"
#include "sim/parallel.hpp"

#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace chacra {

double UnitResult::mean(const std::string& variable, std::size_t period, int k) const {
  for (std::size_t i = 0; i < variables.size(); ++i)
    if (variables[i] == variable)
      return means[i][period * static_cast<std::size_t>(widths[i]) + static_cast<std::size_t>(k)];
  throw std::out_of_range("no aggregate '" + variable + "'");
}

bool UnitResult::has(const std::string& variable) const {
  return std::find(variables.begin(), variables.end(), variable) != variables.end();
}

}  // namespace chacra

namespace chacra::output {

namespace {

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

double value_at(ColumnType t, const void* p, std::size_t i) {
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

// Adds values [begin, end) of a flow column to its period accumulator.
void accumulate(std::vector<float>& accumulated, ColumnType type, const void* src, std::size_t begin,
                std::size_t end) {
  float* acc = accumulated.data();
  switch (type) {
    case ColumnType::f32: {
      const auto* s = static_cast<const float*>(src);
      for (std::size_t i = begin; i < end; ++i) acc[i] += s[i];
      break;
    }
    default:
      // Flows are floats by convention; other types are converted value by value.
      for (std::size_t i = begin; i < end; ++i) acc[i] += static_cast<float>(value_at(type, src, i));
  }
}

}  // namespace

Recorder::Recorder(World& world, const std::vector<std::string>& variables, int months_per_period,
                   std::size_t periods, UnitWriter* unit)
    : world_(world), months_(months_per_period), periods_(periods), unit_(unit) {
  const std::size_t n = world.household_count();
  for (const auto& name : variables) {
    Var v;
    v.index = world.households.index(name);
    v.info = world.households.info(v.index);
    v.sum = v.info.aggregation == PeriodAggregation::sum;
    v.mean = !v.info.category;
    const std::size_t cells = n * static_cast<std::size_t>(v.info.width);
    if (v.sum) v.accumulated.assign(cells, 0.0f);
    if (v.mean) v.means.assign(periods * static_cast<std::size_t>(v.info.width), 0.0);
    vars_.push_back(std::move(v));
  }
  // Centre columns that the model marks for recording: their state at the end of every period, per arm.
  for (std::size_t i = 0; i < world.centres.column_count(); ++i) {
    const ColumnInfo& info = world.centres.info(i);
    if (!info.panel) continue;
    CentreVar c;
    c.index = i;
    c.info = info;
    centre_vars_.push_back(std::move(c));
  }
  if (unit_ == nullptr) return;
  // The unit's datasets. In a whole world they are created on the background thread while the first period's
  // months run (at 2 threads their creation, about 60 HDF5 datasets with their attributes, was a serial stretch
  // with one core idle); the first HDF5 call after them is the first period's write, which waits for them
  // (wait_for_panel), so the file's operations keep their order. A split world creates them in line (rank 0).
  auto create = [this, periods, n_total = static_cast<std::size_t>(world.total_households()),
                 writes = !world.split() || world.comm().rank() == 0, centres = world.centre_count()] {
    for (auto& v : vars_)
      if (unit_->has_panel()) {
        v.dataset = unit_->create_panel(v.info, v.stored(), v.sum, periods, n_total);
        v.chunks = unit_->stored_chunks(v.dataset.id());
      }
    for (auto& c : centre_vars_)
      if (writes) {
        c.dataset = unit_->create_centre_table(c.info, periods, centres);
        c.chunks = unit_->stored_chunks(c.dataset.id());
      }
  };
  if (world.split())
    create();
  else
    pending_ = std::async(std::launch::async, create);
}

Recorder::~Recorder() {
  if (pending_.valid()) pending_.wait();
}

void Recorder::wait_for_panel() {
  if (!pending_.valid()) return;
  const auto t0 = std::chrono::steady_clock::now();
  pending_.wait();
  panel_wait_ns += static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
  pending_.get();
}

void Recorder::after_month(int month) {
  const std::size_t n = world_.household_count();
  // Flows: accumulate over the period, element by element (any partition gives the same sums). One parallel
  // loop over households for all flows at once: a loop per flow at 100,000 households was two tasks each,
  // holding up the other threads every month.
  constexpr std::size_t kRowsPerTask = 8192;
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, n, kRowsPerTask), [&](const tbb::blocked_range<std::size_t>& r) {
    for (auto& v : vars_) {
      if (!v.sum) continue;
      const auto width = static_cast<std::size_t>(v.info.width);
      accumulate(v.accumulated, v.info.type, world_.households.data(v.index), r.begin() * width, r.end() * width);
    }
  });
  if ((month + 1) % months_ != 0) return;
  const std::size_t period = static_cast<std::size_t>(month + 1) / static_cast<std::size_t>(months_) - 1;
  if (period >= periods_) return;
  if (world_.split()) {
    write_centres(period);
    gather_period(period);
    return;
  }
  // Household means, one variable per task, each summed in household order (the same bits whatever the thread
  // count); then the panel, its chunks encoded in parallel.
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, vars_.size(), 1), [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t k = r.begin(); k != r.end(); ++k) period_means(vars_[k], period);
  });
  write_period(period);
}

void Recorder::finish() {
  if (!world_.split()) return;
  for (auto& v : vars_) world_.comm().broadcast(v.means);
}

UnitResult Recorder::result(const std::string& arm, std::uint32_t replicate) const {
  UnitResult r;
  r.arm = arm;
  r.replicate = replicate;
  for (const auto& v : vars_) {
    if (!v.mean) continue;
    r.variables.push_back(v.info.name);
    r.widths.push_back(v.info.width);
    r.means.push_back(v.means);
  }
  return r;
}

void Recorder::write_aggregates() {
  wait_for_panel();
  if (unit_ == nullptr) return;
  for (const auto& v : vars_)
    if (v.mean) unit_->write_aggregate(v.info, v.sum, periods_, v.means);
}

const void* Recorder::period_values(const Var& v) const {
  return v.sum ? static_cast<const void*>(v.accumulated.data()) : world_.households.data(v.index);
}

void Recorder::period_means(Var& v, std::size_t period) const {
  if (!v.mean) return;
  const std::size_t n = world_.household_count();
  const auto width = static_cast<std::size_t>(v.info.width);
  const void* src = period_values(v);
  for (std::size_t k = 0; k < width; ++k)
    v.means[period * width + k] = n > 0 ? column_sum(v.stored(), src, n, width, k) / static_cast<double>(n) : 0.0;
}

// Split world: the period's values of every process gathered on rank 0 (gather_columns), which computes each
// sub-column's mean over the whole population in household order and writes the panel row of the period, as
// for a whole world.
void Recorder::gather_period(std::size_t period) {
  const std::size_t n = world_.household_count();
  const auto total = static_cast<std::size_t>(world_.total_households());
  std::vector<ColumnPart> parts;
  for (const auto& v : vars_)
    parts.push_back(ColumnPart{period_values(v), static_cast<std::size_t>(v.info.width) * column_type_size(v.stored())});
  gather_columns(world_.comm(), parts, n, total, [&](std::size_t k, const char* data) {
    Var& v = vars_[k];
    const auto width = static_cast<std::size_t>(v.info.width);
    for (std::size_t c = 0; v.mean && c < width; ++c)
      v.means[period * width + c] =
          total > 0 ? column_sum(v.stored(), data, total, width, c) / static_cast<double>(total) : 0.0;
    if (v.dataset.valid() && total > 0)
      write_rows({Rows{v.dataset.id(), v.stored(), width, total, UnitWriter::chunk_rows(total), data,
                       {static_cast<hsize_t>(period)}, "panel " + v.info.name, nullptr, 0, chunk_cache()}});
  }, buffers_);
  for (auto& v : vars_)
    if (v.sum) std::fill(v.accumulated.begin(), v.accumulated.end(), 0.0f);
}

// The period's centre tables and panel row of every variable, their chunks encoded together (write_rows) on a
// background thread: the values are copied first (the next month changes them; a flow's sums are swapped out
// instead), after the previous period's write has finished, so at most one period is held twice and the chunks
// reach the file in the order of a write on the spot.
void Recorder::write_period(std::size_t period) {
  const std::size_t n = world_.household_count();
  wait_for_panel();
  pending_rows_.clear();
  // The centre tables first, as write_centres would write them on the spot (then the panel, so the file's writes
  // keep their order): copied here, a few kilobytes, and written on the background thread with the panel
  // (HDF5 calls on this thread were a serial stretch of the month loop).
  const std::size_t nc = world_.centre_count();
  centre_snapshots_.resize(centre_vars_.size());
  for (std::size_t i = 0; i < centre_vars_.size(); ++i) {
    const CentreVar& c = centre_vars_[i];
    if (!c.dataset.valid() || nc == 0) continue;
    const std::size_t bytes = nc * static_cast<std::size_t>(c.info.width) * column_type_size(c.info.type);
    const auto* src = static_cast<const unsigned char*>(world_.centres.data(c.index));
    centre_snapshots_[i].assign(src, src + bytes);
    pending_rows_.push_back(centre_rows(c, period, centre_snapshots_[i].data()));
  }
  std::vector<Var*> panel;
  for (auto& v : vars_)
    if (v.dataset.valid() && n > 0) panel.push_back(&v);
  snapshots_.resize(std::max(snapshots_.size(), panel.size()));
  const std::size_t chunk_rows = UnitWriter::chunk_rows(n);
  std::vector<std::size_t> copied;  // the panel variables whose values are copied (states)
  for (std::size_t k = 0; k < panel.size(); ++k) {
    Var& v = *panel[k];
    const std::size_t width = static_cast<std::size_t>(v.info.width);
    const unsigned char* src = nullptr;
    if (v.sum) {
      // The period's sums go to the writer as they are; the next period sums into the buffer the writer has
      // finished with (zeroed below).
      Snapshot& s = snapshots_[k];
      s.flows.resize(v.accumulated.size());
      std::swap(s.flows, v.accumulated);
      src = reinterpret_cast<const unsigned char*>(s.flows.data());
    } else {
      const std::size_t bytes = n * width * column_type_size(v.stored());
      if (snapshots_[k].size != bytes) {
        snapshots_[k].bytes.reset(new unsigned char[bytes]);
        snapshots_[k].size = bytes;
      }
      src = snapshots_[k].bytes.get();
      copied.push_back(k);
    }
    pending_rows_.push_back(Rows{v.dataset.id(), v.stored(), width, n, chunk_rows, src,
                                 {static_cast<hsize_t>(period)}, "panel " + v.info.name, v.chunks,
                                 period * ((n + chunk_rows - 1) / chunk_rows), chunk_cache()});
  }
  // A serial section of the month loop when done on one thread: the copies run in parallel, a variable a task.
  const auto t0 = std::chrono::steady_clock::now();
  parallel_for(0, copied.size(), 1, [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t i = r.begin(); i != r.end(); ++i) {
      const std::size_t k = copied[i];
      std::memcpy(snapshots_[k].bytes.get(), period_values(*panel[k]), snapshots_[k].size);
    }
  });
  panel_copy_ns += static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count());
  for (auto& v : vars_)
    if (v.sum) std::fill(v.accumulated.begin(), v.accumulated.end(), 0.0f);
  if (!pending_rows_.empty()) pending_ = std::async(std::launch::async, [this] { write_rows(pending_rows_); });
}

// The period's row of centre column `c`, its values at `src`, as written (chunks' CRCs kept for the checksum).
Rows Recorder::centre_rows(const CentreVar& c, std::size_t period, const void* src) const {
  const std::size_t nc = world_.centre_count(), chunk_rows = UnitWriter::centre_chunk_rows(nc);
  return Rows{c.dataset.id(), c.info.type, static_cast<std::size_t>(c.info.width), nc, chunk_rows, src,
              {static_cast<hsize_t>(period)}, "centres " + c.info.name, c.chunks,
              period * ((nc + chunk_rows - 1) / chunk_rows), chunk_cache()};
}

// Split world: the period's row of every recorded centre column, each process's centres gathered on rank 0 in
// centre order (a whole world's go with its panel rows, write_period).
void Recorder::write_centres(std::size_t period) {
  if (centre_vars_.empty()) return;
  const std::size_t nc = world_.centre_count();
  const std::size_t first = world_.centre_begin(), count = world_.centre_end() - world_.centre_begin();
  std::vector<ColumnPart> parts;
  for (const auto& c : centre_vars_) {
    const std::size_t row_bytes = static_cast<std::size_t>(c.info.width) * column_type_size(c.info.type);
    parts.push_back(ColumnPart{static_cast<const char*>(world_.centres.data(c.index)) + first * row_bytes, row_bytes});
  }
  GatherBuffers buffers;
  gather_columns(world_.comm(), parts, count, nc, [&](std::size_t k, const char* data) {
    const CentreVar& c = centre_vars_[k];
    if (c.dataset.valid() && nc > 0)
      write_rows({centre_rows(c, period, data)});
  }, buffers);
}

UnitResult read_unit_means(hid_t file, const std::string& arm, std::uint32_t replicate,
                           const std::vector<std::string>& variables) {
  UnitResult u;
  u.arm = arm;
  u.replicate = replicate;
  const std::string reach = layout::reach(arm, replicate);
  if (has_records(file, reach, "item")) u.reach = reach_rows(read_records(file, reach));
  for (const auto& v : variables) {
    // Codes have no aggregate (ColumnInfo::category).
    if (!h5::exists(file, layout::member(layout::aggregates(arm, replicate), v))) continue;
    std::vector<hsize_t> dims;
    u.variables.push_back(v);
    u.means.push_back(h5::read_doubles(file, layout::member(layout::aggregates(arm, replicate), v), &dims));
    u.widths.push_back(dims.size() > 1 ? static_cast<int>(dims[1]) : 1);
  }
  return u;
}

}  // namespace chacra::output
