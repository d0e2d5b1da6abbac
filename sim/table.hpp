// Structure-of-arrays tables (households, centres, districts) with named, typed, documented columns, and
// the typed declaration of a column (Col<T>) that modules write once and look columns up by.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
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

// One value of a coded column and what it means, as one word ("not_eligible"): the file records the pairs as the
// CF conventions' flag_values and flag_meanings attributes, and the exports turn them into value labels.
struct Code {
  std::int64_t value;
  std::string_view meaning;
};

// A column's codes, owning their text (ColumnInfo, and what a reader finds in a file).
struct CodeLabel {
  std::int64_t value = 0;
  std::string meaning;
  bool operator==(const CodeLabel&) const = default;
};

struct ColumnInfo {
  std::string name;
  ColumnType type = ColumnType::f32;
  int width = 1;  // values per row (e.g. one per technology or per member slot)
  std::string unit;
  std::string description;
  PeriodAggregation aggregation = PeriodAggregation::snapshot;
  bool panel = false;  // recorded in the panel by default (households), or per output period (centres)
  std::vector<std::string> labels;  // names of the `width` sub-columns (technology names...), or empty
  // A code (a status, a category, a year or month stamp, an index) rather than a quantity: recorded as it is,
  // never averaged over households (no aggregate), and marked so in the file (scale attribute "category").
  bool category = false;
  std::vector<CodeLabel> codes;     // what each value of a coded column means (every value it takes), or empty
};

// The lookup key of a column name (64-bit FNV-1a), computed at compile time for declared columns.
constexpr std::uint64_t column_key(std::string_view name) {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : name) {
    h ^= static_cast<std::uint8_t>(c);
    h *= 1099511628211ull;
  }
  return h;
}

// A column declared once, with its type, unit, meaning, width, sub-column labels, whether the panel records
// it, how it aggregates over an output period, whether it is a code and, for a coded column, what each of
// its values means (every value it can take; exports write them as value labels); written as a constant in
// the header of the module that owns it:
//   inline constexpr Col<float> income_crops_pen{.name = "income_crops_pen", .unit = "PEN",
//                                                .description = "Crop sales", .panel = true,
//                                                .aggregation = PeriodAggregation::sum};
// Table::add(col) creates it; Table::get(col) finds it in O(1) by its key (no string comparison), typed.
template <class T>
struct Col {
  std::string_view name;
  std::string_view unit = {};
  std::string_view description = {};
  int width = 1;
  bool panel = false;
  PeriodAggregation aggregation = PeriodAggregation::snapshot;
  std::span<const char* const> labels = {};
  bool category = false;  // a code, not a quantity (ColumnInfo::category)
  std::span<const Code> codes = {};
  std::uint64_t key = column_key(name);

  ColumnInfo info() const {
    ColumnInfo i;
    i.name = std::string(name);
    i.type = column_type_of<T>();
    i.width = width;
    i.unit = std::string(unit);
    i.description = std::string(description);
    i.aggregation = aggregation;
    i.panel = panel;
    i.labels.assign(labels.begin(), labels.end());
    i.category = category;
    for (const Code& c : codes) i.codes.push_back({c.value, std::string(c.meaning)});
    return i;
  }
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
  // The column a declaration describes (created with these metadata; an existing one of that name must
  // have the same type and width).
  template <class T> T* add(const Col<T>& col) { return add<T>(col.info()); }
  // A declared column, found by its key in O(1): for phases, which look their columns up once per block.
  template <class T> T* get(const Col<T>& col) {
    const std::size_t i = find_key(col.key);
    if (i == kNone || columns_[i].info.type != column_type_of<T>() || columns_[i].info.width != col.width) [[unlikely]]
      missing(col.name, column_type_of<T>(), col.width);
    return windowed<T>(columns_[i].data.get(), col.width);
  }
  template <class T> const T* get(const Col<T>& col) const { return const_cast<Table*>(this)->get(col); }
  template <class T> bool has(const Col<T>& col) const { return find_key(col.key) != kNone; }

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
  static constexpr std::size_t kNone = ~std::size_t{0};
  void* add_raw(ColumnInfo info);
  void* get_raw(const std::string& name, ColumnType type, int* width);
  // Index of the column whose name has this key, or kNone: open addressing over key_slots_ (column index + 1,
  // 0 empty; a power of two at least twice the columns).
  std::size_t find_key(std::uint64_t key) const {
    if (key_slots_.empty()) return kNone;
    const std::size_t mask = key_slots_.size() - 1;
    for (std::size_t s = static_cast<std::size_t>(key) & mask;; s = (s + 1) & mask) {
      const std::uint32_t v = key_slots_[s];
      if (v == 0) return kNone;
      if (keys_[v - 1] == key) return v - 1;
    }
  }
  void index_keys();
  [[noreturn]] void missing(std::string_view name, ColumnType type, int width) const;
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
  std::vector<std::uint64_t> keys_;         // column_key of each column's name
  std::vector<std::uint32_t> key_slots_;
};

}  // namespace chacra
