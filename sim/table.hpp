// Structure-of-arrays tables (households, centres, districts) with named, typed, documented columns.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace chacra {

enum class ColumnType : std::uint8_t { f32, f64, i8, u8, i16, i32, u32, i64 };

template <class T> constexpr ColumnType column_type_of();
template <> constexpr ColumnType column_type_of<float>() { return ColumnType::f32; }
template <> constexpr ColumnType column_type_of<double>() { return ColumnType::f64; }
template <> constexpr ColumnType column_type_of<std::int8_t>() { return ColumnType::i8; }
template <> constexpr ColumnType column_type_of<std::uint8_t>() { return ColumnType::u8; }
template <> constexpr ColumnType column_type_of<std::int16_t>() { return ColumnType::i16; }
template <> constexpr ColumnType column_type_of<std::int32_t>() { return ColumnType::i32; }
template <> constexpr ColumnType column_type_of<std::uint32_t>() { return ColumnType::u32; }
template <> constexpr ColumnType column_type_of<std::int64_t>() { return ColumnType::i64; }

std::size_t column_type_size(ColumnType t);
const char* column_type_name(ColumnType t);

// How a column becomes a panel value when the output period spans several months.
enum class PeriodAggregation : std::uint8_t {
  snapshot,  // value at the end of the output period (states, stocks)
  sum,       // sum over the months of the period (flows such as income)
};

struct ColumnInfo {
  std::string name;
  ColumnType type = ColumnType::f32;
  int width = 1;  // values per row (e.g. one per technology or per member slot)
  std::string unit;
  std::string description;
  PeriodAggregation aggregation = PeriodAggregation::snapshot;
  bool panel = false;  // recorded in the panel by default
  std::vector<std::string> labels;  // names of the `width` sub-columns (technology names...), or empty
};

// A table of `rows` rows and named columns, each stored contiguously (row-major within a column when
// width > 1). Copyable: each arm starts from a copy of the initial population.
//
// A table may hold only a window of a larger table: rows [first_row, first_row + rows) of it (the households
// of one process when a population is split by districts across MPI ranks; sim/collective.hpp). The typed
// column pointers of add() and get() are then indexed by the row of the whole table, so code written for a
// whole table (p[i] for household i) works unchanged on its window; data() and value() address the stored
// rows from the first stored one. first_row is 0 for a whole table.
class Table {
 public:
  Table() = default;
  explicit Table(std::size_t rows) : rows_(rows) {}
  Table(const Table& o);
  Table& operator=(const Table& o);
  Table(Table&&) noexcept = default;
  Table& operator=(Table&&) noexcept = default;

  std::size_t rows() const { return rows_; }
  // Only valid while the table has no columns.
  void resize(std::size_t rows);
  // Row of the whole table that is stored first (see above). Only valid while the table has no columns.
  std::size_t first_row() const { return first_row_; }
  void set_first_row(std::size_t row);

  // Adds a zero-initialised column; adding an existing name with the same type and width returns it.
  template <class T> T* add(ColumnInfo info) {
    info.type = column_type_of<T>();
    const int width = info.width;
    return windowed<T>(add_raw(std::move(info)), width);
  }
  template <class T> T* add(const std::string& name, const std::string& unit, const std::string& description,
                            int width = 1, bool panel = false,
                            PeriodAggregation agg = PeriodAggregation::snapshot) {
    ColumnInfo info;
    info.name = name;
    info.unit = unit;
    info.description = description;
    info.width = width;
    info.panel = panel;
    info.aggregation = agg;
    return add<T>(std::move(info));
  }
  template <class T> T* get(const std::string& name) {
    int width = 1;
    void* storage = get_raw(name, column_type_of<T>(), &width);
    return windowed<T>(storage, width);
  }
  template <class T> const T* get(const std::string& name) const {
    return const_cast<Table*>(this)->get<T>(name);
  }
  bool has(const std::string& name) const { return index_.count(name) != 0; }

  std::size_t column_count() const { return columns_.size(); }
  const ColumnInfo& info(std::size_t i) const { return columns_[i].info; }
  ColumnInfo& info(const std::string& name);
  // The stored rows of column i, from the first stored row (not shifted by first_row).
  const void* data(std::size_t i) const { return columns_[i].data.get(); }
  void* data(std::size_t i) { return columns_[i].data.get(); }
  std::size_t index(const std::string& name) const;
  // Value of column i, stored row r, sub-column k, converted to double (for aggregates and tests).
  double value(std::size_t i, std::size_t r, int k = 0) const;
  // Bytes of state per row, summed over columns.
  std::size_t bytes_per_row() const;

 private:
  struct Column {
    ColumnInfo info;
    std::unique_ptr<std::byte[]> data;
  };
  void* add_raw(ColumnInfo info);
  void* get_raw(const std::string& name, ColumnType type, int* width);
  // The storage shifted back by first_row rows, so that it is indexed by the row of the whole table. The
  // shift is done on the address as an integer: the pointer is only ever dereferenced at stored rows.
  template <class T> T* windowed(void* storage, int width) const {
    if (first_row_ == 0) return static_cast<T*>(storage);
    const std::uintptr_t shift = first_row_ * static_cast<std::uintptr_t>(width) * sizeof(T);
    return reinterpret_cast<T*>(reinterpret_cast<std::uintptr_t>(storage) - shift);
  }
  std::size_t rows_ = 0;
  std::size_t first_row_ = 0;
  std::vector<Column> columns_;
  std::map<std::string, std::size_t> index_;
};

}  // namespace chacra
