// Structure-of-arrays tables: column storage, lookup and conversion.
#include "sim/table.hpp"

namespace chacra {

std::size_t column_type_size(ColumnType t) {
  switch (t) {
    case ColumnType::f32: return 4;
    case ColumnType::f64: return 8;
    case ColumnType::i8: return 1;
    case ColumnType::u8: return 1;
    case ColumnType::i16: return 2;
    case ColumnType::i32: return 4;
    case ColumnType::u32: return 4;
    case ColumnType::i64: return 8;
  }
  return 0;
}

const char* column_type_name(ColumnType t) {
  switch (t) {
    case ColumnType::f32: return "float32";
    case ColumnType::f64: return "float64";
    case ColumnType::i8: return "int8";
    case ColumnType::u8: return "uint8";
    case ColumnType::i16: return "int16";
    case ColumnType::i32: return "int32";
    case ColumnType::u32: return "uint32";
    case ColumnType::i64: return "int64";
  }
  return "?";
}

static std::size_t column_bytes(const ColumnInfo& info, std::size_t rows) {
  return rows * static_cast<std::size_t>(info.width) * column_type_size(info.type);
}

Table::Table(const Table& o)
    : rows_(o.rows_), first_row_(o.first_row_), index_(o.index_), keys_(o.keys_), key_slots_(o.key_slots_) {
  columns_.reserve(o.columns_.size());
  for (const auto& c : o.columns_) {
    Column n;
    n.info = c.info;
    const std::size_t bytes = column_bytes(c.info, rows_);
    n.data.reset(new std::byte[bytes > 0 ? bytes : 1]);
    if (bytes > 0) std::memcpy(n.data.get(), c.data.get(), bytes);
    columns_.push_back(std::move(n));
  }
}

Table& Table::operator=(const Table& o) {
  if (this != &o) {
    Table copy(o);
    *this = std::move(copy);
  }
  return *this;
}

void Table::resize(std::size_t rows) {
  if (!columns_.empty()) throw std::logic_error("Table::resize after columns were added");
  rows_ = rows;
}

void Table::set_first_row(std::size_t row) {
  if (!columns_.empty()) throw std::logic_error("Table::set_first_row after columns were added");
  first_row_ = row;
}

void* Table::add_raw(ColumnInfo info) {
  if (info.width < 1) throw std::logic_error("column '" + info.name + "' has width < 1");
  auto it = index_.find(info.name);
  if (it != index_.end()) {
    Column& c = columns_[it->second];
    if (c.info.type != info.type || c.info.width != info.width)
      throw std::logic_error("column '" + info.name + "' added twice with different type or width");
    return c.data.get();
  }
  Column c;
  const std::size_t bytes = column_bytes(info, rows_);
  c.data.reset(new std::byte[bytes > 0 ? bytes : 1]());
  const std::uint64_t key = column_key(info.name);
  if (const std::size_t same = find_key(key); same != kNone)
    throw std::logic_error("columns '" + info.name + "' and '" + columns_[same].info.name + "' have the same key");
  c.info = std::move(info);
  index_[c.info.name] = columns_.size();
  columns_.push_back(std::move(c));
  keys_.push_back(key);
  index_keys();
  return columns_.back().data.get();
}

void Table::index_keys() {
  std::size_t size = 16;
  while (size < 2 * keys_.size()) size *= 2;
  if (key_slots_.size() != size) {
    key_slots_.assign(size, 0);
    for (std::size_t i = 0; i + 1 < keys_.size(); ++i) {
      std::size_t s = static_cast<std::size_t>(keys_[i]) & (size - 1);
      while (key_slots_[s] != 0) s = (s + 1) & (size - 1);
      key_slots_[s] = static_cast<std::uint32_t>(i + 1);
    }
  }
  std::size_t s = static_cast<std::size_t>(keys_.back()) & (size - 1);
  while (key_slots_[s] != 0) s = (s + 1) & (size - 1);
  key_slots_[s] = static_cast<std::uint32_t>(keys_.size());
}

void Table::missing(std::string_view name, ColumnType type, int width) const {
  const std::size_t i = find_key(column_key(name));
  if (i == kNone) throw std::logic_error("no column '" + std::string(name) + "'");
  const ColumnInfo& c = columns_[i].info;
  throw std::logic_error("column '" + c.name + "' is " + column_type_name(c.type) + " x " + std::to_string(c.width) +
                         ", declared as " + column_type_name(type) + " x " + std::to_string(width));
}

void* Table::get_raw(const std::string& name, ColumnType type, int* width) {
  auto it = index_.find(name);
  if (it == index_.end()) throw std::logic_error("no column '" + name + "'");
  Column& c = columns_[it->second];
  if (c.info.type != type)
    throw std::logic_error("column '" + name + "' is " + column_type_name(c.info.type) + ", asked as " +
                           column_type_name(type));
  *width = c.info.width;
  return c.data.get();
}

ColumnInfo& Table::info(const std::string& name) { return columns_[index(name)].info; }

std::size_t Table::index(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw std::logic_error("no column '" + name + "'");
  return it->second;
}

double Table::value(std::size_t i, std::size_t r, int k) const {
  const Column& c = columns_[i];
  const std::size_t at = r * static_cast<std::size_t>(c.info.width) + static_cast<std::size_t>(k);
  const std::byte* p = c.data.get();
  switch (c.info.type) {
    case ColumnType::f32: return reinterpret_cast<const float*>(p)[at];
    case ColumnType::f64: return reinterpret_cast<const double*>(p)[at];
    case ColumnType::i8: return reinterpret_cast<const std::int8_t*>(p)[at];
    case ColumnType::u8: return reinterpret_cast<const std::uint8_t*>(p)[at];
    case ColumnType::i16: return reinterpret_cast<const std::int16_t*>(p)[at];
    case ColumnType::i32: return reinterpret_cast<const std::int32_t*>(p)[at];
    case ColumnType::u32: return reinterpret_cast<const std::uint32_t*>(p)[at];
    case ColumnType::i64: return static_cast<double>(reinterpret_cast<const std::int64_t*>(p)[at]);
  }
  return 0.0;
}

std::size_t Table::bytes_per_row() const {
  std::size_t b = 0;
  for (const auto& c : columns_) b += static_cast<std::size_t>(c.info.width) * column_type_size(c.info.type);
  return b;
}

}  // namespace chacra
