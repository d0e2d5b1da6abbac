// HDF5 helpers: every call is checked, and failures become h5::Error with the object's name.
#include "sim/output/h5.hpp"

#include <algorithm>

namespace chacra::h5 {

namespace {

hid_t check(hid_t id, const std::string& what) {
  if (id < 0) throw Error("HDF5: cannot " + what);
  return id;
}
void check(herr_t status, const std::string& what) {
  if (status < 0) throw Error("HDF5: cannot " + what);
}

}  // namespace

Handle& Handle::operator=(Handle&& o) noexcept {
  if (this != &o) {
    close();
    id_ = o.id_;
    o.id_ = H5I_INVALID_HID;
  }
  return *this;
}

void Handle::close() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    default: break;
  }
  id_ = H5I_INVALID_HID;
}

void quiet_errors() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

hid_t native_type(ColumnType t) {
  switch (t) {
    case ColumnType::f32: return H5T_NATIVE_FLOAT;
    case ColumnType::f64: return H5T_NATIVE_DOUBLE;
    case ColumnType::i8: return H5T_NATIVE_INT8;
    case ColumnType::u8: return H5T_NATIVE_UINT8;
    case ColumnType::i16: return H5T_NATIVE_INT16;
    case ColumnType::i32: return H5T_NATIVE_INT32;
    case ColumnType::u32: return H5T_NATIVE_UINT32;
    case ColumnType::i64: return H5T_NATIVE_INT64;
  }
  return H5T_NATIVE_DOUBLE;
}

Handle create_file(const std::string& path) {
  return Handle(check(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), "create file " + path));
}

Handle open_file_readonly(const std::string& path) {
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw Error(path + " is not a readable HDF5 file (missing, truncated or another format)");
  return Handle(check(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), "open " + path));
}

Handle create_group(hid_t parent, const std::string& path) {
  Handle lcpl(H5Pcreate(H5P_LINK_CREATE));
  H5Pset_create_intermediate_group(lcpl, 1);
  return Handle(check(H5Gcreate2(parent, path.c_str(), lcpl, H5P_DEFAULT, H5P_DEFAULT), "create group " + path));
}

Handle open_group(hid_t parent, const std::string& path) {
  return Handle(check(H5Gopen2(parent, path.c_str(), H5P_DEFAULT), "open group " + path));
}

std::string object_name(hid_t object) {
  const ssize_t n = H5Iget_name(object, nullptr, 0);
  if (n <= 0) return "";
  std::string name(static_cast<std::size_t>(n) + 1, '\0');
  H5Iget_name(object, name.data(), name.size());
  name.resize(static_cast<std::size_t>(n));
  return name;
}

bool exists(hid_t parent, const std::string& path) {
  // Check each component, since H5Lexists fails when an intermediate link is missing.
  std::size_t pos = 0;
  while (true) {
    const std::size_t next = path.find('/', pos);
    const std::string prefix = path.substr(0, next);
    if (!prefix.empty() && H5Lexists(parent, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (next == std::string::npos) return true;
    pos = next + 1;
  }
}

std::vector<std::string> list(hid_t group) {
  std::vector<std::string> names;
  H5Literate(
      group, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5L_info_t*, void* op) -> herr_t {
        static_cast<std::vector<std::string>*>(op)->push_back(name);
        return 0;
      },
      &names);
  std::sort(names.begin(), names.end());
  return names;
}

void write_attr(hid_t obj, const std::string& name, const std::string& value) {
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type, value.empty() ? 1 : value.size());
  H5Tset_cset(type, H5T_CSET_UTF8);
  Handle space(H5Screate(H5S_SCALAR));
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  Handle attr(check(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), "create attribute " + name));
  const std::string padded = value.empty() ? std::string(1, '\0') : value;
  check(H5Awrite(attr, type, padded.data()), "write attribute " + name);
}

template <class T>
static void write_scalar_attr(hid_t obj, const std::string& name, hid_t type, T value) {
  Handle space(H5Screate(H5S_SCALAR));
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  Handle attr(check(H5Acreate2(obj, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT), "create attribute " + name));
  check(H5Awrite(attr, type, &value), "write attribute " + name);
}

void write_attr(hid_t obj, const std::string& name, double value) {
  write_scalar_attr(obj, name, H5T_NATIVE_DOUBLE, value);
}
void write_attr(hid_t obj, const std::string& name, long long value) {
  write_scalar_attr(obj, name, H5T_NATIVE_LLONG, value);
}

void write_attr(hid_t obj, const std::string& name, const std::vector<long long>& values, hid_t file_type) {
  const hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr));
  if (H5Aexists(obj, name.c_str()) > 0) H5Adelete(obj, name.c_str());
  Handle attr(check(H5Acreate2(obj, name.c_str(), file_type, space, H5P_DEFAULT, H5P_DEFAULT), "create attribute " + name));
  check(H5Awrite(attr, H5T_NATIVE_LLONG, values.data()), "write attribute " + name);
}

// The text of the open string attribute `attr` of file type `type` (fixed or variable length).
static std::string string_value(hid_t attr, hid_t type, const std::string& name) {
  if (H5Tis_variable_str(type) > 0) {
    char* s = nullptr;
    Handle mem(H5Tcopy(H5T_C_S1));
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, H5Tget_cset(type));
    check(H5Aread(attr, mem, &s), "read attribute " + name);
    std::string out = s ? s : "";
    H5free_memory(s);
    return out;
  }
  std::string out(H5Tget_size(type), '\0');
  check(H5Aread(attr, type, out.data()), "read attribute " + name);
  out.erase(std::find(out.begin(), out.end(), '\0'), out.end());
  return out;
}

std::optional<std::vector<long long>> read_attr_integers(hid_t obj, const std::string& name) {
  if (H5Aexists(obj, name.c_str()) <= 0) return std::nullopt;
  Handle attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  if (!attr.valid()) return std::nullopt;
  Handle type(H5Aget_type(attr));
  Handle space(H5Aget_space(attr));
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  if (H5Tget_class(type) != H5T_INTEGER || n < 0) return std::nullopt;
  std::vector<long long> out(static_cast<std::size_t>(n));
  if (n > 0 && H5Aread(attr, H5T_NATIVE_LLONG, out.data()) < 0) return std::nullopt;
  return out;
}

bool has_attr(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

std::optional<AttrValue> read_attr(hid_t obj, const std::string& name) {
  if (H5Aexists(obj, name.c_str()) <= 0) return std::nullopt;
  Handle attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  if (!attr.valid()) return std::nullopt;
  return read_attr_value(attr, name);
}

std::optional<AttrValue> read_attr_value(hid_t attr, const std::string& name) {
  Handle type(H5Aget_type(attr));
  Handle space(H5Aget_space(attr));
  if (H5Sget_simple_extent_npoints(space) != 1) return std::nullopt;
  switch (H5Tget_class(type)) {
    case H5T_STRING:
      try {
        return AttrValue(string_value(attr, type, name));
      } catch (const Error&) {
        return std::nullopt;
      }
    case H5T_INTEGER: {
      long long v = 0;
      if (H5Aread(attr, H5T_NATIVE_LLONG, &v) < 0) return std::nullopt;
      return AttrValue(v);
    }
    case H5T_FLOAT: {
      double v = 0;
      if (H5Aread(attr, H5T_NATIVE_DOUBLE, &v) < 0) return std::nullopt;
      return AttrValue(v);
    }
    default:
      return std::nullopt;
  }
}

std::string read_attr_string_or(hid_t obj, const std::string& name, const std::string& fallback) {
  const auto v = read_attr(obj, name);
  const std::string* s = v ? std::get_if<std::string>(&*v) : nullptr;
  return s ? *s : fallback;
}

std::vector<std::string> attr_names(hid_t obj) {
  std::vector<std::string> names;
  H5Aiterate2(
      obj, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5A_info_t*, void* op) -> herr_t {
        static_cast<std::vector<std::string>*>(op)->push_back(name);
        return 0;
      },
      &names);
  return names;
}

H5I_type_t object_type(hid_t parent, const std::string& path) {
  if (!exists(parent, path)) return H5I_BADID;
  Handle obj(H5Oopen(parent, path.c_str(), H5P_DEFAULT));
  return obj.valid() ? H5Iget_type(obj) : H5I_BADID;
}

std::string read_attr_string(hid_t obj, const std::string& name) {
  Handle attr(check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), "open attribute " + name));
  Handle type(H5Aget_type(attr));
  if (H5Tget_class(type) != H5T_STRING) throw Error("HDF5: attribute " + name + " is not a string");
  return string_value(attr, type, name);
}

Handle conversion_transfer(hsize_t elements) {
  // 16 bytes covers every conversion chacra asks for: a double, and a variable-length string's in-memory
  // descriptor on either side. HDF5 grows a buffer smaller than one element and strip-mines beyond the size.
  constexpr hsize_t widest = 16, default_size = hsize_t{1} << 20;
  Handle dxpl(check(H5Pcreate(H5P_DATASET_XFER), "create a transfer property list"));
  const hsize_t bytes = std::clamp<hsize_t>(elements * widest, widest, default_size);
  check(H5Pset_buffer(dxpl, static_cast<size_t>(bytes), nullptr, nullptr), "set the conversion buffer");
  return dxpl;
}

Handle write_dataset(hid_t parent, const std::string& name, ColumnType type, const std::vector<hsize_t>& dims,
                     const void* data, const std::vector<hsize_t>& chunk, int deflate) {
  Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
  bool any_zero = std::any_of(dims.begin(), dims.end(), [](hsize_t d) { return d == 0; });
  if (!chunk.empty() && !any_zero) {
    check(H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data()), "set chunk for " + name);
    if (deflate > 0) {
      H5Pset_shuffle(dcpl);
      H5Pset_deflate(dcpl, static_cast<unsigned>(deflate));
    }
  }
  Handle ds(check(H5Dcreate2(parent, name.c_str(), native_type(type), space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                  "create dataset " + name));
  if (!any_zero) check(H5Dwrite(ds, native_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, data), "write " + name);
  return ds;
}

void write_strings(hid_t parent, const std::string& name, const std::vector<std::string>& values) {
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  const hsize_t n = values.size();
  Handle space(H5Screate_simple(1, &n, nullptr));
  Handle ds(check(H5Dcreate2(parent, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                  "create dataset " + name));
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  if (n > 0) check(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, conversion_transfer(n), ptrs.data()), "write " + name);
}

std::vector<std::string> read_strings(hid_t parent, const std::string& name) {
  Handle ds(check(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), "open dataset " + name));
  return read_string_dataset(ds, name);
}

std::vector<std::string> read_string_dataset(hid_t ds, const std::string& name) {
  Handle space(H5Dget_space(ds));
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space, &n, nullptr);
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  std::vector<char*> ptrs(n, nullptr);
  if (n > 0) check(H5Dread(ds, type, H5S_ALL, H5S_ALL, conversion_transfer(n), ptrs.data()), "read " + name);
  std::vector<std::string> out;
  for (char* p : ptrs) {
    out.emplace_back(p ? p : "");
    H5free_memory(p);
  }
  return out;
}

std::vector<double> read_doubles(hid_t parent, const std::string& name, std::vector<hsize_t>* dims) {
  Handle ds(check(H5Dopen2(parent, name.c_str(), H5P_DEFAULT), "open dataset " + name));
  Handle space(H5Dget_space(ds));
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0) throw Error("HDF5: bad dataspace in " + name);
  std::vector<hsize_t> d(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space, d.data(), nullptr);
  hsize_t total = 1;
  for (auto x : d) total *= x;
  std::vector<double> out(total);
  if (total > 0)
    check(H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, conversion_transfer(total), out.data()), "read " + name);
  if (dims) *dims = d;
  return out;
}

std::string join_labels(const std::vector<std::string>& labels) {
  std::string joined;
  for (const auto& l : labels) {
    if (!joined.empty()) joined += ',';
    joined += l;
  }
  return joined;
}

}  // namespace chacra::h5
