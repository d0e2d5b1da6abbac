// Thin RAII layer over the HDF5 C API: handles, typed datasets and string attributes, errors as exceptions.
#pragma once

#include "sim/table.hpp"

#include <hdf5.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace chacra::h5 {

// Any HDF5 failure (unwritable path, full disk, foreign or truncated file).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Owns one hid_t and closes it with the right H5*close.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) : id_(id) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : id_(o.id_) { o.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& o) noexcept;
  ~Handle() { close(); }
  hid_t id() const { return id_; }
  operator hid_t() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void close();
  // Gives the id up (to be closed by the caller, whose status it wants); the handle is left empty.
  hid_t release() {
    const hid_t id = id_;
    id_ = H5I_INVALID_HID;
    return id;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

// Silences HDF5's own error printing (we report errors ourselves); call once at start.
void quiet_errors();

hid_t native_type(ColumnType t);
Handle create_file(const std::string& path);          // truncates
Handle open_file_readonly(const std::string& path);   // throws Error naming the file if not HDF5
Handle create_group(hid_t parent, const std::string& path);  // creates intermediate groups
Handle open_group(hid_t parent, const std::string& path);
// The path of an open object in its file (H5Iget_name), e.g. "/arms/both/replicate_0/panel/poor".
std::string object_name(hid_t object);
bool exists(hid_t parent, const std::string& path);
std::vector<std::string> list(hid_t group);  // names of members, sorted

void write_attr(hid_t obj, const std::string& name, const std::string& value);
void write_attr(hid_t obj, const std::string& name, double value);
void write_attr(hid_t obj, const std::string& name, long long value);
// A one-dimensional array attribute of whole numbers, stored as `file_type` (an integer type).
void write_attr(hid_t obj, const std::string& name, const std::vector<long long>& values, hid_t file_type);
// An integer attribute (scalar or array) as whole numbers, or nullopt when it is missing or not integer.
std::optional<std::vector<long long>> read_attr_integers(hid_t obj, const std::string& name);
std::string read_attr_string(hid_t obj, const std::string& name);
bool has_attr(hid_t obj, const std::string& name);
// A scalar attribute's value: text, a whole number or a real number.
using AttrValue = std::variant<std::string, long long, double>;
// The attribute as its value, or nullopt when it is missing, not scalar, unreadable or of another class.
std::optional<AttrValue> read_attr(hid_t obj, const std::string& name);
// The same for an attribute already open (`name` for messages): what read_attr gives, without looking it up again.
std::optional<AttrValue> read_attr_value(hid_t attr, const std::string& name);
// A string attribute, or `fallback` when it is missing or not a readable string.
std::string read_attr_string_or(hid_t obj, const std::string& name, const std::string& fallback);
// Names of an object's attributes, sorted.
std::vector<std::string> attr_names(hid_t obj);
// The type of the object at `path` under `parent` (H5I_DATASET, H5I_GROUP), or H5I_BADID when there is none.
H5I_type_t object_type(hid_t parent, const std::string& path);

// Writes a whole dataset of `type` with the given dims, optionally chunked and compressed; returns it, open.
Handle write_dataset(hid_t parent, const std::string& name, ColumnType type, const std::vector<hsize_t>& dims,
                     const void* data, const std::vector<hsize_t>& chunk = {}, int deflate = 0);
void write_strings(hid_t parent, const std::string& name, const std::vector<std::string>& values);
std::vector<std::string> read_strings(hid_t parent, const std::string& name);
std::vector<std::string> read_string_dataset(hid_t dataset, const std::string& name);  // an open dataset
// A data-transfer property list for an H5Dread/H5Dwrite that converts `elements` values (float to double,
// strings to variable-length strings): its conversion buffer is sized to them (at most HDF5's default 1 MiB).
// HDF5 1.10 otherwise allocates and zeroes a whole 1 MiB buffer for every converting call, which cost more
// than the data itself for the many short string columns of the unit tables and for the reader's slices.
Handle conversion_transfer(hsize_t elements);
// Reads a whole numeric dataset converted to double, and its dims.
std::vector<double> read_doubles(hid_t parent, const std::string& name, std::vector<hsize_t>* dims = nullptr);

// The "labels" attribute of a multi-valued variable: its sub-column names joined by commas.
std::string join_labels(const std::vector<std::string>& labels);

}  // namespace chacra::h5
