// The sweep part of chacra's HDF5 output (see sim/output/sweep.hpp).
#include "sim/output/sweep.hpp"

#include "sim/output/layout.hpp"

namespace chacra::output {

void write_sweep_design(hid_t file, const SweepDesign& d) {
  const hsize_t k = d.parameters.size();
  if (d.unit.size() != d.points * k || d.values.size() != d.points * k)
    throw std::logic_error("write_sweep_design: coordinates do not match points x parameters");
  h5::Handle g = h5::create_group(file, layout::kSweep);
  h5::write_attr(g, layout::kDescription,
                 std::string("A design over parameters run as one scenario per point, every point on the same "
                             "populations and random numbers; the runs' results along a leading design dimension"));
  for (const auto& [name, value] : d.attributes) std::visit([&](const auto& v) { h5::write_attr(g, name, v); }, value);
  h5::write_strings(g, layout::kSweepParameters, d.parameters);
  h5::write_dataset(g, layout::kSweepUnit, ColumnType::f64, {d.points, k}, d.unit.data());
  h5::write_dataset(g, layout::kSweepValues, ColumnType::f64, {d.points, k}, d.values.data());
  {
    h5::Handle u(H5Dopen2(g, layout::kSweepUnit, H5P_DEFAULT));
    h5::write_attr(u, layout::kDescription, std::string("Each point's coordinates in [0, 1] (row: point, column: parameter)"));
    h5::Handle v(H5Dopen2(g, layout::kSweepValues, H5P_DEFAULT));
    h5::write_attr(v, layout::kDescription, std::string("Each point's parameter values (row: point, column: parameter)"));
  }
  write_records(file, layout::sweep(layout::kSweepPoints), d.roles);
}

bool has_sweep(hid_t file) { return h5::exists(file, layout::sweep(layout::kSweepValues)); }

SweepDesign read_sweep_design(hid_t file) {
  if (!has_sweep(file)) throw FileError("the file holds no sweep (/sweep): it was not written by chacra sweep");
  SweepDesign d;
  try {
    h5::Handle g = h5::open_group(file, layout::kSweep);
    for (const auto& name : h5::attr_names(g))
      if (name != layout::kDescription)
        if (const auto v = h5::read_attr(g, name)) d.attributes.emplace_back(name, *v);
    d.parameters = h5::read_strings(g, layout::kSweepParameters);
    std::vector<hsize_t> dims;
    d.values = h5::read_doubles(g, layout::kSweepValues, &dims);
    d.unit = h5::read_doubles(g, layout::kSweepUnit);
    if (dims.size() != 2 || dims[1] != d.parameters.size() || d.unit.size() != d.values.size())
      throw FileError("/sweep: the design's datasets do not agree (damaged file?)");
    d.points = dims[0];
    d.arms = h5::read_strings(file, layout::kArmNames);
    d.periods = h5::read_strings(file, layout::kPeriods);
  } catch (const h5::Error& e) {
    throw FileError(std::string("cannot read /sweep: ") + e.what());
  }
  d.roles = read_records(file, layout::sweep(layout::kSweepPoints));
  return d;
}

void write_sweep_aggregate(hid_t file, const Variable& v, const std::vector<hsize_t>& dims,
                           const std::vector<double>& values) {
  const std::string group = layout::sweep(layout::kSweepAggregates);
  h5::Handle g = h5::exists(file, group) ? h5::open_group(file, group) : h5::create_group(file, group);
  h5::write_dataset(g, v.name, ColumnType::f64, dims, values.data());
  h5::Handle ds(H5Dopen2(g, v.name.c_str(), H5P_DEFAULT));
  h5::write_attr(ds, layout::kUnit, v.unit);
  h5::write_attr(ds, layout::kDescription, v.description);
  h5::write_attr(ds, layout::kAggregation, v.aggregation);
  if (!v.labels.empty()) h5::write_attr(ds, layout::kLabels, h5::join_labels(v.labels));
}

std::vector<std::string> sweep_aggregate_variables(hid_t file) {
  const std::string group = layout::sweep(layout::kSweepAggregates);
  if (h5::object_type(file, group) != H5I_GROUP) return {};
  return h5::list(h5::open_group(file, group));
}

Dataset sweep_aggregate(hid_t file, const std::string& name) {
  return Dataset(file, layout::member(layout::sweep(layout::kSweepAggregates), name));
}

void write_sweep_table(hid_t file, const std::string& name, const Records& records) {
  write_records(file, layout::sweep(name), records);
}

bool has_sweep_table(hid_t file, const std::string& name) {
  return h5::object_type(file, layout::sweep(name)) == H5I_GROUP;
}

Records read_sweep_table(hid_t file, const std::string& name) { return read_records(file, layout::sweep(name)); }

}  // namespace chacra::output
