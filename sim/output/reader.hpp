// The reader of chacra's HDF5 output (layout: docs/output.md): the file's arms, periods and replicates, its
// provenance, and every dataset with what it says about itself (unit, description, aggregation, labels),
// read by hyperslabs so that memory stays small whatever the file's size. The comparison, the CSV export and
// the benchmarks read the file through it and never spell a path.
#pragma once

#include "sim/output/h5.hpp"
#include "sim/output/layout.hpp"
#include "sim/output/records.hpp"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace chacra::output {

// The file cannot be read as a chacra output: foreign, truncated, damaged, or lacking what was asked for. The
// message says which (the caller adds the file's name).
class FileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How a numeric dataset's values are read into memory: whole numbers as 64-bit integers (unsigned when the
// file's are unsigned 64-bit), reals at their own precision (float32 stays float32).
enum class ValueKind { i64, u64, f32, f64 };
std::size_t value_size(ValueKind kind);

// What a dataset says about itself (its attributes).
struct Variable {
  std::string name, unit, description, aggregation;
  std::vector<std::string> labels;  // the labels attribute, split at commas (empty when there is none)
  bool category = false;            // a code (scale attribute "category"), never averaged
  // A coded variable's values and meanings (flag_values and flag_meanings); empty when it has none or when the
  // two attributes do not pair up.
  std::vector<CodeLabel> codes;
  bool flow() const;                // aggregated as a sum over the output period
};

// One dataset of the file.
class Dataset {
 public:
  Dataset(hid_t parent, const std::string& path);  // throws FileError when it cannot be opened
  const std::string& path() const { return path_; }
  const Variable& variable() const { return variable_; }
  const std::vector<hsize_t>& dims() const { return dims_; }
  bool numeric() const { return numeric_; }
  bool text() const { return text_; }
  ValueKind kind() const { return kind_; }  // meaningful when numeric()
  // How the file stores a numeric dataset: whole numbers (signed or not) or reals, and bytes per value.
  bool integer() const { return integer_; }
  bool is_signed() const { return signed_; }
  std::size_t bytes() const { return bytes_; }
  // Reads [start, start + count) of the leading dimensions, and the whole of the others, as `kind` values.
  void read(const std::vector<hsize_t>& start, const std::vector<hsize_t>& count, ValueKind kind,
            std::vector<unsigned char>& out) const;
  // The same converted to double.
  void read(const std::vector<hsize_t>& start, const std::vector<hsize_t>& count, std::vector<double>& out) const;
  std::vector<double> read_all() const;
  std::vector<std::string> read_strings() const;  // a string dataset

 private:
  std::string path_;
  h5::Handle ds_;
  Variable variable_;
  std::vector<hsize_t> dims_;
  bool numeric_ = false, text_ = false, integer_ = false, signed_ = true;
  std::size_t bytes_ = 0;
  ValueKind kind_ = ValueKind::f64;
};

class Reader {
 public:
  // Opens `path` read-only; throws h5::Error when it is not a readable HDF5 file.
  explicit Reader(const std::string& path);
  // Reads a file that is already open (the run's OUT.partial, before it is renamed); not closed here.
  explicit Reader(hid_t file);
  hid_t id() const { return file_; }

  // Whether the file has the groups of a chacra output (/arm_names, /periods, /arms).
  bool is_chacra_output() const;
  // The arms in scenario order and the period labels; throw FileError when the file is not a chacra output.
  const std::vector<std::string>& arms() const;
  const std::vector<std::string>& periods() const;
  // Replicate numbers of an arm's groups (sorted), and of the populations.
  std::vector<std::uint32_t> replicates(const std::string& arm) const;
  std::vector<std::uint32_t> population_replicates() const;

  // Provenance attributes by name (empty when there is none), one of them, and the resolved scenario ("" when
  // there is none).
  std::vector<std::pair<std::string, h5::AttrValue>> provenance() const;
  std::optional<h5::AttrValue> provenance(const std::string& name) const;
  std::string scenario_yaml() const;
  std::string arm_description(const std::string& arm) const;

  // One arm x replicate unit, its panel and its aggregates.
  bool has_unit(const std::string& arm, std::uint32_t replicate) const;
  bool has_panel(const std::string& arm, std::uint32_t replicate) const;
  bool has_aggregates(const std::string& arm, std::uint32_t replicate) const;
  bool has_population_table(std::uint32_t replicate, layout::Table table) const;
  // Names of the datasets in the panel, the aggregates or a population table, sorted (empty when absent).
  std::vector<std::string> panel_variables(const std::string& arm, std::uint32_t replicate) const;
  std::vector<std::string> aggregate_variables(const std::string& arm, std::uint32_t replicate) const;
  std::vector<std::string> population_columns(std::uint32_t replicate, layout::Table table) const;
  bool has_panel_variable(const std::string& arm, std::uint32_t replicate, const std::string& name) const;
  bool has_aggregate(const std::string& arm, std::uint32_t replicate, const std::string& name) const;
  bool has_population_column(std::uint32_t replicate, layout::Table table, const std::string& name) const;
  Dataset panel(const std::string& arm, std::uint32_t replicate, const std::string& name) const;
  Dataset aggregate(const std::string& arm, std::uint32_t replicate, const std::string& name) const;
  Dataset population(std::uint32_t replicate, layout::Table table, const std::string& name) const;
  // Rows of a population table (0 when it is absent).
  std::uint64_t population_rows(std::uint32_t replicate, layout::Table table) const;

  // A unit's centre table (per-period centre columns, [periods, centres]) and its reach table (records).
  bool has_centre_table(const std::string& arm, std::uint32_t replicate) const;
  std::vector<std::string> centre_variables(const std::string& arm, std::uint32_t replicate) const;
  Dataset centre_table(const std::string& arm, std::uint32_t replicate, const std::string& name) const;
  bool has_reach(const std::string& arm, std::uint32_t replicate) const;
  Records reach(const std::string& arm, std::uint32_t replicate) const;  // throws FileError when absent

 private:
  void load_names() const;
  std::vector<std::string> datasets_in(const std::string& group) const;
  h5::Handle owned_;
  hid_t file_ = H5I_INVALID_HID;
  mutable bool loaded_ = false;
  mutable std::vector<std::string> arms_, periods_;
};

}  // namespace chacra::output
