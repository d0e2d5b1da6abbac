// The HDF5 reader (see sim/output/reader.hpp). Every path comes from sim/output/layout.hpp.
#include "sim/output/reader.hpp"

#include <algorithm>

namespace chacra::output {

namespace {

hid_t memtype(ValueKind k) {
  switch (k) {
    case ValueKind::i64: return H5T_NATIVE_INT64;
    case ValueKind::u64: return H5T_NATIVE_UINT64;
    case ValueKind::f32: return H5T_NATIVE_FLOAT;
    case ValueKind::f64: return H5T_NATIVE_DOUBLE;
  }
  return H5T_NATIVE_DOUBLE;
}

std::vector<std::string> split_labels(const std::string& joined) {
  std::vector<std::string> out;
  if (joined.empty()) return out;
  std::string cur;
  for (char c : joined) {
    if (c == ',') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

// The codes of a dataset from flag_values and flag_meanings (blank-separated words), when they pair up.
std::vector<CodeLabel> read_codes(hid_t dataset) {
  const auto values = h5::read_attr_integers(dataset, layout::kFlagValues);
  const std::string joined = h5::read_attr_string_or(dataset, layout::kFlagMeanings, "");
  if (!values || values->empty() || joined.empty()) return {};
  std::vector<std::string> words;
  std::string w;
  for (char c : joined + ' ') {
    if (c == ' ' || c == '\t' || c == '\n') {
      if (!w.empty()) words.push_back(w);
      w.clear();
    } else {
      w += c;
    }
  }
  if (words.size() != values->size()) return {};
  std::vector<CodeLabel> codes;
  for (std::size_t i = 0; i < words.size(); ++i) codes.push_back({(*values)[i], words[i]});
  return codes;
}

}  // namespace

std::size_t value_size(ValueKind kind) { return kind == ValueKind::f32 ? 4 : 8; }

bool Variable::flow() const { return aggregation == layout::kSumOverPeriod; }

// ---- Dataset ----

Dataset::Dataset(hid_t parent, const std::string& path)
    : path_(path), ds_(h5::exists(parent, path) ? H5Dopen2(parent, path.c_str(), H5P_DEFAULT) : H5I_INVALID_HID) {
  if (!ds_.valid()) throw FileError("cannot open dataset " + path + " (truncated or damaged file?)");
  const auto slash = path.rfind('/');
  variable_.name = slash == std::string::npos ? path : path.substr(slash + 1);
  variable_.unit = h5::read_attr_string_or(ds_, layout::kUnit, "");
  variable_.description = h5::read_attr_string_or(ds_, layout::kDescription, "");
  variable_.aggregation = h5::read_attr_string_or(ds_, layout::kAggregation, "");
  variable_.labels = split_labels(h5::read_attr_string_or(ds_, layout::kLabels, ""));
  variable_.category = h5::read_attr_string_or(ds_, layout::kScale, "") == layout::kCategory;
  variable_.codes = read_codes(ds_);
  h5::Handle space(H5Dget_space(ds_));
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0) throw FileError("bad dataspace in " + path + " (truncated or damaged file?)");
  dims_.resize(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space, dims_.data(), nullptr);
  h5::Handle type(H5Dget_type(ds_));
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      numeric_ = integer_ = true;
      signed_ = H5Tget_sign(type) != H5T_SGN_NONE;
      bytes_ = H5Tget_size(type);
      kind_ = (H5Tget_sign(type) == H5T_SGN_NONE && H5Tget_size(type) >= 8) ? ValueKind::u64 : ValueKind::i64;
      break;
    case H5T_FLOAT:
      numeric_ = true;
      bytes_ = H5Tget_size(type);
      kind_ = H5Tget_size(type) <= 4 ? ValueKind::f32 : ValueKind::f64;
      break;
    case H5T_STRING:
      text_ = true;
      break;
    default:
      break;
  }
}

void Dataset::read(const std::vector<hsize_t>& start, const std::vector<hsize_t>& count, ValueKind kind,
                   std::vector<unsigned char>& out) const {
  std::vector<hsize_t> s = start, c = count;
  for (std::size_t d = start.size(); d < dims_.size(); ++d) s.push_back(0), c.push_back(dims_[d]);
  hsize_t n = 1;
  for (auto x : c) n *= x;
  out.resize(static_cast<std::size_t>(n) * value_size(kind));
  if (n == 0) return;
  h5::Handle fspace(H5Dget_space(ds_));
  h5::Handle mspace(H5Screate_simple(static_cast<int>(c.size()), c.data(), nullptr));
  if (H5Sselect_hyperslab(fspace, H5S_SELECT_SET, s.data(), nullptr, c.data(), nullptr) < 0 ||
      H5Dread(ds_, memtype(kind), mspace, fspace, h5::conversion_transfer(n), out.data()) < 0)
    throw FileError("cannot read " + path_ + " (truncated or damaged file?)");
}

void Dataset::read(const std::vector<hsize_t>& start, const std::vector<hsize_t>& count,
                   std::vector<double>& out) const {
  std::vector<hsize_t> s = start, c = count;
  for (std::size_t d = start.size(); d < dims_.size(); ++d) s.push_back(0), c.push_back(dims_[d]);
  hsize_t n = 1;
  for (auto x : c) n *= x;
  out.resize(static_cast<std::size_t>(n));
  if (n == 0) return;
  h5::Handle fspace(H5Dget_space(ds_));
  h5::Handle mspace(H5Screate_simple(static_cast<int>(c.size()), c.data(), nullptr));
  if (H5Sselect_hyperslab(fspace, H5S_SELECT_SET, s.data(), nullptr, c.data(), nullptr) < 0 ||
      H5Dread(ds_, H5T_NATIVE_DOUBLE, mspace, fspace, h5::conversion_transfer(n), out.data()) < 0)
    throw FileError("cannot read " + path_ + " (truncated or damaged file?)");
}

std::vector<double> Dataset::read_all() const {
  std::vector<double> out;
  read(std::vector<hsize_t>(dims_.size(), 0), dims_, out);
  return out;
}

std::vector<std::string> Dataset::read_strings() const {
  try {
    return h5::read_string_dataset(ds_, path_);
  } catch (const h5::Error& e) {
    throw FileError("cannot read " + path_ + ": " + e.what());
  }
}

// ---- Reader ----

Reader::Reader(const std::string& path) : owned_(h5::open_file_readonly(path)), file_(owned_.id()) {}

Reader::Reader(hid_t file) : file_(file) {}

bool Reader::is_chacra_output() const {
  return h5::exists(file_, layout::kArmNames) && h5::exists(file_, layout::kPeriods) &&
         h5::object_type(file_, layout::kArms) == H5I_GROUP;
}

void Reader::load_names() const {
  if (loaded_) return;
  if (!is_chacra_output())
    throw FileError("not a chacra output file (no /arm_names, /periods or /arms); it may be truncated or written by "
                    "another program");
  try {
    arms_ = h5::read_strings(file_, layout::kArmNames);
    periods_ = h5::read_strings(file_, layout::kPeriods);
  } catch (const h5::Error& e) {
    throw FileError(std::string("cannot read the arm and period names: ") + e.what());
  }
  if (arms_.empty()) throw FileError("the file lists no arms");
  loaded_ = true;
}

const std::vector<std::string>& Reader::arms() const {
  load_names();
  return arms_;
}

const std::vector<std::string>& Reader::periods() const {
  load_names();
  return periods_;
}

namespace {
std::vector<std::uint32_t> replicate_groups(hid_t file, const std::string& group) {
  std::vector<std::uint32_t> out;
  if (h5::object_type(file, group) != H5I_GROUP) return out;
  for (const auto& name : h5::list(h5::open_group(file, group)))
    if (auto r = layout::replicate_of(name)) out.push_back(*r);
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

std::vector<std::uint32_t> Reader::replicates(const std::string& arm) const {
  return replicate_groups(file_, layout::arm(arm));
}

std::vector<std::uint32_t> Reader::population_replicates() const {
  return replicate_groups(file_, layout::kPopulation);
}

std::vector<std::pair<std::string, h5::AttrValue>> Reader::provenance() const {
  std::vector<std::pair<std::string, h5::AttrValue>> out;
  if (h5::object_type(file_, layout::kProvenance) != H5I_GROUP) return out;
  h5::Handle prov = h5::open_group(file_, layout::kProvenance);
  for (const auto& name : h5::attr_names(prov))
    if (auto v = h5::read_attr(prov, name)) out.emplace_back(name, *v);
  return out;
}

std::optional<h5::AttrValue> Reader::provenance(const std::string& name) const {
  if (h5::object_type(file_, layout::kProvenance) != H5I_GROUP) return std::nullopt;
  return h5::read_attr(h5::open_group(file_, layout::kProvenance), name);
}

std::string Reader::scenario_yaml() const {
  if (h5::object_type(file_, layout::member(layout::kProvenance, layout::kScenarioYaml)) != H5I_DATASET) return "";
  try {
    const auto yaml = h5::read_strings(h5::open_group(file_, layout::kProvenance), layout::kScenarioYaml);
    return yaml.empty() ? "" : yaml.front();
  } catch (const h5::Error&) {
    return "";  // an unreadable scenario text reads as none
  }
}

std::string Reader::arm_description(const std::string& arm) const {
  if (h5::object_type(file_, layout::arm(arm)) != H5I_GROUP) return "";
  return h5::read_attr_string_or(h5::open_group(file_, layout::arm(arm)), layout::kDescription, "");
}

bool Reader::has_unit(const std::string& arm, std::uint32_t r) const { return h5::exists(file_, layout::unit(arm, r)); }

bool Reader::has_panel(const std::string& arm, std::uint32_t r) const {
  return h5::object_type(file_, layout::panel(arm, r)) == H5I_GROUP;
}

bool Reader::has_aggregates(const std::string& arm, std::uint32_t r) const {
  return h5::object_type(file_, layout::aggregates(arm, r)) == H5I_GROUP;
}

bool Reader::has_population_table(std::uint32_t r, layout::Table table) const {
  return h5::object_type(file_, layout::population(r, table)) == H5I_GROUP;
}

std::vector<std::string> Reader::datasets_in(const std::string& group) const {
  std::vector<std::string> out;
  if (h5::object_type(file_, group) != H5I_GROUP) return out;
  h5::Handle g = h5::open_group(file_, group);
  for (const auto& name : h5::list(g))
    if (h5::object_type(g, name) == H5I_DATASET) out.push_back(name);
  return out;
}

std::vector<std::string> Reader::panel_variables(const std::string& arm, std::uint32_t r) const {
  return datasets_in(layout::panel(arm, r));
}

std::vector<std::string> Reader::aggregate_variables(const std::string& arm, std::uint32_t r) const {
  return datasets_in(layout::aggregates(arm, r));
}

std::vector<std::string> Reader::population_columns(std::uint32_t r, layout::Table table) const {
  return datasets_in(layout::population(r, table));
}

bool Reader::has_panel_variable(const std::string& arm, std::uint32_t r, const std::string& name) const {
  return h5::exists(file_, layout::member(layout::panel(arm, r), name));
}

bool Reader::has_aggregate(const std::string& arm, std::uint32_t r, const std::string& name) const {
  return h5::exists(file_, layout::member(layout::aggregates(arm, r), name));
}

bool Reader::has_population_column(std::uint32_t r, layout::Table table, const std::string& name) const {
  return h5::exists(file_, layout::member(layout::population(r, table), name));
}

Dataset Reader::panel(const std::string& arm, std::uint32_t r, const std::string& name) const {
  return Dataset(file_, layout::member(layout::panel(arm, r), name));
}

Dataset Reader::aggregate(const std::string& arm, std::uint32_t r, const std::string& name) const {
  return Dataset(file_, layout::member(layout::aggregates(arm, r), name));
}

Dataset Reader::population(std::uint32_t r, layout::Table table, const std::string& name) const {
  return Dataset(file_, layout::member(layout::population(r, table), name));
}

bool Reader::has_centre_table(const std::string& arm, std::uint32_t r) const {
  return h5::object_type(file_, layout::centres(arm, r)) == H5I_GROUP;
}

std::vector<std::string> Reader::centre_variables(const std::string& arm, std::uint32_t r) const {
  return datasets_in(layout::centres(arm, r));
}

Dataset Reader::centre_table(const std::string& arm, std::uint32_t r, const std::string& name) const {
  return Dataset(file_, layout::member(layout::centres(arm, r), name));
}

bool Reader::has_reach(const std::string& arm, std::uint32_t r) const {
  return has_records(file_, layout::reach(arm, r), "item");
}

Records Reader::reach(const std::string& arm, std::uint32_t r) const {
  if (!has_reach(arm, r))
    throw FileError("arm '" + arm + "' replicate " + std::to_string(r) + " has no reach table (written by an older "
                    "chacra, or an unfinished unit)");
  return read_records(file_, layout::reach(arm, r));
}

std::uint64_t Reader::population_rows(std::uint32_t r, layout::Table table) const {
  const auto columns = population_columns(r, table);
  if (columns.empty()) return 0;
  const Dataset d = population(r, table, columns.front());
  return d.dims().empty() ? 0 : d.dims().front();
}

}  // namespace chacra::output
