// The comparison group's storage (see sim/output/records.hpp).
#include "sim/output/records.hpp"

#include "sim/output/layout.hpp"
#include "sim/output/reader.hpp"

#include <algorithm>
#include <cstdint>

namespace chacra::output {

namespace {
// Datasets of the group that are lists of the file, not columns of the table.
constexpr const char* kArms = "arms";
constexpr const char* kNotes = "notes";
}  // namespace

const RecordColumn* Records::column(const std::string& name) const {
  for (const auto& c : columns)
    if (c.name == name) return &c;
  return nullptr;
}

std::optional<h5::AttrValue> Records::attribute(const std::string& name) const {
  for (const auto& [n, v] : attributes)
    if (n == name) return v;
  return std::nullopt;
}

void write_comparison(hid_t file, const Records& t) { write_records(file, layout::kComparison, t); }

void write_records(hid_t file, const std::string& path, const Records& t) {
  if (h5::exists(file, path) && H5Ldelete(file, path.c_str(), H5P_DEFAULT) < 0)
    throw h5::Error("HDF5: cannot replace /" + path);
  h5::Handle g = h5::create_group(file, path);
  h5::write_attr(g, layout::kDescription, t.description);
  for (const auto& [name, value] : t.attributes) std::visit([&](const auto& v) { h5::write_attr(g, name, v); }, value);
  h5::write_strings(g, kArms, t.arms);
  h5::write_strings(g, kNotes, t.notes);
  for (const auto& c : t.columns) {
    if (c.text) {
      h5::write_strings(g, c.name, c.strings);
    } else if (c.type == ColumnType::i32) {
      std::vector<std::int32_t> v(c.numbers.begin(), c.numbers.end());
      h5::write_dataset(g, c.name, ColumnType::i32, {v.size()}, v.data());
    } else {
      h5::write_dataset(g, c.name, ColumnType::f64, {c.numbers.size()}, c.numbers.data());
    }
    h5::Handle ds(H5Dopen2(g, c.name.c_str(), H5P_DEFAULT));
    h5::write_attr(ds, layout::kDescription, c.description);
  }
}

bool has_comparison(hid_t file) { return h5::exists(file, layout::member(layout::kComparison, "arm")); }

Records read_comparison(hid_t file) {
  if (!has_comparison(file))
    throw FileError("the file has no /comparison group (written by a run without a panel, or interrupted before the "
                    "end)");
  return read_records(file, layout::kComparison);
}

Records read_records(hid_t file, const std::string& path) {
  Records t;
  try {
    h5::Handle g = h5::open_group(file, path);
    for (const auto& name : h5::attr_names(g)) {
      const auto v = h5::read_attr(g, name);
      if (!v) continue;
      if (name == layout::kDescription) {
        if (const auto* s = std::get_if<std::string>(&*v)) t.description = *s;
      } else {
        t.attributes.emplace_back(name, *v);
      }
    }
    for (const auto& name : h5::list(g)) {
      if (h5::object_type(g, name) != H5I_DATASET) continue;
      const Dataset d(g, name);
      if (name == kArms || name == kNotes) {
        (name == kArms ? t.arms : t.notes) = d.read_strings();
        continue;
      }
      if (d.dims().size() != 1 || (!d.text() && !d.numeric())) continue;
      RecordColumn c;
      c.name = name;
      c.description = d.variable().description;
      c.text = d.text();
      if (c.text) {
        c.strings = d.read_strings();
      } else {
        c.numbers = d.read_all();
        c.type = d.kind() == ValueKind::i64 || d.kind() == ValueKind::u64 ? ColumnType::i32 : ColumnType::f64;
      }
      if (!t.columns.empty() && c.size() != t.rows())
        throw FileError("/" + path + ": datasets of different lengths (damaged file?)");
      t.columns.push_back(std::move(c));
    }
  } catch (const h5::Error& e) {
    throw FileError("cannot read /" + path + ": " + e.what());
  }
  return t;
}

}  // namespace chacra::output
