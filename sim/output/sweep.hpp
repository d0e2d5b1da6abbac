// The sweep part of chacra's HDF5 output (docs/output.md, "Sweep"): a design's points with their parameter values
// and roles, each point's per-period means of every arm x replicate along a leading design dimension, and the
// tables of parallel columns the study stores beside them (the comparison of every point, sensitivity indices).
#pragma once

#include "sim/output/h5.hpp"
#include "sim/output/reader.hpp"
#include "sim/output/records.hpp"

#include <string>
#include <utility>
#include <vector>

namespace chacra::output {

// A design as stored: K parameter names, the unit coordinates and values of each point (row-major, K per point),
// the points' roles as records (one row per point) and the design's attributes (kind, seed...).
struct SweepDesign {
  std::vector<std::string> parameters;
  std::vector<double> unit, values;
  std::size_t points = 0;
  std::vector<std::pair<std::string, h5::AttrValue>> attributes;
  Records roles;
  std::vector<std::string> arms, periods;  // read back from the run header (the writer leaves them to it)
};

// Writes /sweep with the design (the file's run header is written by the caller).
void write_sweep_design(hid_t file, const SweepDesign& design);
// Whether the file holds a sweep.
bool has_sweep(hid_t file);
// Reads the design back; throws FileError when the file holds no sweep or it is damaged.
SweepDesign read_sweep_design(hid_t file);

// sweep/aggregates/<variable>: `dims` = points, arms, replicates, periods(, width), with the variable's unit,
// description, aggregation and labels as the runs' aggregates carry them.
void write_sweep_aggregate(hid_t file, const Variable& variable, const std::vector<hsize_t>& dims,
                           const std::vector<double>& values);
std::vector<std::string> sweep_aggregate_variables(hid_t file);  // sorted; empty when there are none
Dataset sweep_aggregate(hid_t file, const std::string& name);

// A table of the sweep (layout::kSweepComparison, layout::kSweepSensitivity), replacing one that exists.
void write_sweep_table(hid_t file, const std::string& name, const Records& records);
bool has_sweep_table(hid_t file, const std::string& name);
Records read_sweep_table(hid_t file, const std::string& name);

}  // namespace chacra::output
