// Tables of records in chacra's HDF5 output: the /comparison group (docs/output.md, "Comparison"), each unit's
// reach (arms/<arm>/replicate_R/reach) and the sweep's tables: parallel columns, one row per record, with the
// group's attributes and, for the comparison, per-file lists. The study decides what the columns mean; this is
// how they are stored and read back, bit for bit.
#pragma once

#include "sim/output/h5.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace chacra::output {

// One column of the table: text, or numbers stored as `type` (f64 or i32) and read back as doubles.
struct RecordColumn {
  std::string name, description;
  bool text = false;
  std::vector<std::string> strings;
  std::vector<double> numbers;
  ColumnType type = ColumnType::f64;
  std::size_t size() const { return text ? strings.size() : numbers.size(); }
};

struct Records {
  std::string description;                                          // the group's description
  std::vector<std::pair<std::string, h5::AttrValue>> attributes;    // the group's other attributes, in order
  std::vector<std::string> arms;   // every arm of the file, in scenario order
  std::vector<std::string> notes;  // what could not be measured and why
  std::vector<RecordColumn> columns;                                // parallel columns of equal length
  bool lists = true;  // the group holds the arms and notes lists (the comparison; a unit's reach does not)

  const RecordColumn* column(const std::string& name) const;
  std::optional<h5::AttrValue> attribute(const std::string& name) const;
  std::size_t rows() const { return columns.empty() ? 0 : columns.front().size(); }
};

// Writes a table of records as the group `path` (replacing one that exists; its parent must exist), as the
// comparison group is written: the interaction table lives in /comparison/interaction.
void write_records(hid_t file, const std::string& path, const Records& records);
// Whether `path` holds a table of records (a group with the dataset `first_column`).
bool has_records(hid_t file, const std::string& path, const std::string& first_column);
// Reads the table of records at `path` (its datasets; subgroups are skipped); throws FileError
// (sim/output/reader.hpp) when it is unreadable or its columns differ in length.
Records read_records(hid_t file, const std::string& path);

// One row of a unit's reach: what a module reports at the end of the unit (sim/engine.hpp, ReachItem).
struct ReachRow {
  std::string module, item, description, unit;
  double value = 0.0;
};
// A unit's reach as a table of records (columns module, item, description, unit, value) and back.
Records reach_records(const std::vector<ReachRow>& rows);
std::vector<ReachRow> reach_rows(const Records& records);

// Writes the comparison group, replacing one that exists (and its subgroups).
void write_comparison(hid_t file, const Records& records);
// Whether the file holds a comparison group with its rows.
bool has_comparison(hid_t file);
// Reads the comparison group back; throws FileError (sim/output/reader.hpp) when it is missing, unreadable, or its
// columns differ in length.
Records read_comparison(hid_t file);

}  // namespace chacra::output
