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

void write_records(hid_t file, const std::string& path, const Records& t) {
  if (h5::exists(file, path) && H5Ldelete(file, path.c_str(), H5P_DEFAULT) < 0)
    throw h5::Error("HDF5: cannot replace " + path);
  h5::Handle g = h5::create_group(file, path);
  h5::write_attr(g, layout::kDescription, t.description);
  for (const auto& [name, value] : t.attributes) std::visit([&](const auto& v) { h5::write_attr(g, name, v); }, value);
  if (t.lists) {
    h5::write_strings(g, kArms, t.arms);
    h5::write_strings(g, kNotes, t.notes);
  }
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

void write_comparison(hid_t file, const Records& t) { write_records(file, layout::kComparison, t); }

bool has_records(hid_t file, const std::string& path, const std::string& first_column) {
  return h5::exists(file, path) && h5::exists(file, layout::member(path, first_column));
}

bool has_comparison(hid_t file) { return has_records(file, layout::kComparison, "arm"); }

Records read_comparison(hid_t file) {
  if (!has_comparison(file))
    throw FileError("the file has no /comparison group (written by a run without a panel, or interrupted before the "
                    "end)");
  return read_records(file, layout::kComparison);
}

Records read_records(hid_t file, const std::string& group) {
  Records t;
  t.lists = false;
  try {
    if (h5::object_type(file, group) != H5I_GROUP) throw FileError("the file has no /" + group + " group");
    h5::Handle g = h5::open_group(file, group);
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
        t.lists = true;
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
        throw FileError("/" + group + ": datasets of different lengths (damaged file?)");
      t.columns.push_back(std::move(c));
    }
  } catch (const h5::Error& e) {
    throw FileError("cannot read /" + group + ": " + e.what());
  }
  return t;
}

Records reach_records(const std::vector<ReachRow>& rows) {
  Records r;
  r.lists = false;
  r.description = "What each module reports at the end of the unit: the stages of its programme's reach (centres, "
                  "households, groups, payments); definitions in docs/policy_arms.md, \"Reach\"";
  RecordColumn module{"module", "Module reporting the item", true, {}, {}, ColumnType::f64};
  RecordColumn item{"item", "What is counted (snake_case)", true, {}, {}, ColumnType::f64};
  RecordColumn description{"description", "What is counted, in words", true, {}, {}, ColumnType::f64};
  RecordColumn unit{"unit", "Unit of the value", true, {}, {}, ColumnType::f64};
  RecordColumn value{"value", "The count (or mean) over the whole population of the unit", false, {}, {},
                     ColumnType::f64};
  for (const ReachRow& x : rows) {
    module.strings.push_back(x.module);
    item.strings.push_back(x.item);
    description.strings.push_back(x.description);
    unit.strings.push_back(x.unit);
    value.numbers.push_back(x.value);
  }
  r.columns = {module, item, description, unit, value};
  return r;
}

std::vector<ReachRow> reach_rows(const Records& records) {
  const RecordColumn *module = records.column("module"), *item = records.column("item"),
                     *description = records.column("description"), *unit = records.column("unit"),
                     *value = records.column("value");
  if (!module || !item || !value || !module->text || !item->text || value->text)
    throw FileError("a reach table lacks its module, item or value column (damaged file?)");
  std::vector<ReachRow> rows(records.rows());
  for (std::size_t k = 0; k < rows.size(); ++k) {
    rows[k].module = module->strings[k];
    rows[k].item = item->strings[k];
    if (description && description->text) rows[k].description = description->strings[k];
    if (unit && unit->text) rows[k].unit = unit->strings[k];
    rows[k].value = value->numbers[k];
  }
  return rows;
}

}  // namespace chacra::output
