// chacra export: the HDF5 output as plain CSV tables with a codebook, written so that Stata's
// `import delimited` and R's `read.csv` read them as they are: ASCII headers that are valid Stata and R names
// (at most 32 characters), no index column, '.' as the decimal mark whatever the locale, NA for missing
// values, strings quoted when they hold a comma, a quote or a line break. Tables are read by hyperslabs
// (one period x one chunk of households at a time), so memory stays small whatever the file's size.
// Layout of the directory and of every table: docs/analysis.md.
#include "app/export.hpp"

#include "app/cli.hpp"
#include "app/options.hpp"
#include "sim/h5.hpp"
#include "sim/interrupt.hpp"
#include "sim/runner.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <type_traits>

namespace chacra::cli {

namespace {

namespace fs = std::filesystem;

// The input cannot be exported (not a chacra file, truncated, damaged): exit status 1.
class ExportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A table could not be written (disk full, permissions): exit status 1.
class WriteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

const std::vector<OptionSpec> kExportOptions = {
    {"--csv", "", true, false, "directory to write the CSV tables into (written as DIR.partial, then renamed)"},
    {"--no-panel", "", false, false, "leave out the household panel (panel.csv), by far the largest table"},
    {"--na", "", true, false, "text of a missing value (default NA, as R reads it; --na= writes empty fields, "
                              "which Stata reads as missing)"},
    {"--force", "-f", false, false, "replace DIR when it already holds files (only a previous chacra export)"},
    {"--quiet", "-q", false, false, "print nothing but errors"},
    {"--help", "-h", false, false, "this help"},
};

// Households (or table rows) per read: the panel's chunk size, so every read decompresses whole chunks once.
constexpr hsize_t kBlockRows = 32768;
constexpr std::size_t kStataNameMax = 32;

// ---------------------------------------------------------------------------------------------------------
// Values and names.

enum class Kind { i64, u64, f32, f64 };

std::size_t kind_size(Kind k) { return k == Kind::f32 ? 4 : 8; }

hid_t kind_memtype(Kind k) {
  switch (k) {
    case Kind::i64: return H5T_NATIVE_INT64;
    case Kind::u64: return H5T_NATIVE_UINT64;
    case Kind::f32: return H5T_NATIVE_FLOAT;
    case Kind::f64: return H5T_NATIVE_DOUBLE;
  }
  return H5T_NATIVE_DOUBLE;
}

// Text of a missing value (--na; NA by default).
std::string g_missing = "NA";

// Appends element `i` of `buf`: integers exactly, floats as the shortest decimal that reads back as the same
// value of their own precision (float32 stays float32), NaN and infinities as missing (NA).
template <class T> void append_number(std::string& out, const unsigned char* buf, std::size_t i) {
  T v;
  std::memcpy(&v, buf + i * sizeof(T), sizeof(T));
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(v)) {
      out += g_missing;
      return;
    }
  }
  char tmp[64];
  const std::to_chars_result r = std::to_chars(tmp, tmp + sizeof tmp, v);
  out.append(tmp, r.ptr);
}

void append_value(std::string& out, Kind k, const unsigned char* buf, std::size_t i) {
  switch (k) {
    case Kind::i64: return append_number<std::int64_t>(out, buf, i);
    case Kind::u64: return append_number<std::uint64_t>(out, buf, i);
    case Kind::f32: return append_number<float>(out, buf, i);
    case Kind::f64: return append_number<double>(out, buf, i);
  }
}

void append_double(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += g_missing;
    return;
  }
  char tmp[64];
  const auto r = std::to_chars(tmp, tmp + sizeof tmp, v);
  out.append(tmp, r.ptr);
}

// A CSV field: quoted (quotes doubled) when it holds a delimiter, a quote, a line break or edge spaces.
void append_field(std::string& out, const std::string& s) {
  const bool quote = s.find_first_of(",\"\r\n") != std::string::npos ||
                     (!s.empty() && (s.front() == ' ' || s.back() == ' '));
  if (!quote) {
    out += s;
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

std::string field(const std::string& s) {
  std::string out;
  append_field(out, s);
  return out;
}

// A name made of ASCII letters, digits and underscores that starts with a letter.
std::string sanitize(const std::string& s) {
  std::string out;
  for (unsigned char c : s) out += std::isalnum(c) ? static_cast<char>(c) : '_';
  if (out.empty() || !std::isalpha(static_cast<unsigned char>(out.front()))) out = "v" + out;
  return out;
}

// The words of a label ("organic_fertiliser_prep" -> organic, fertiliser, prep).
std::vector<std::string> label_words(const std::string& label) {
  std::vector<std::string> words;
  std::string w;
  for (char c : sanitize(label)) {
    if (c == '_') {
      if (!w.empty()) words.push_back(w);
      w.clear();
    } else {
      w += c;
    }
  }
  if (!w.empty()) words.push_back(w);
  return words;
}

std::string cut_words(const std::vector<std::string>& words, std::size_t k) {
  std::string cut;
  for (const auto& x : words) {
    if (!cut.empty()) cut += '_';
    cut.append(x, 0, k);
  }
  return cut;
}

// Column names of `var`'s sub-columns: var_label, or var alone when it has no labels. Names longer than
// Stata's 32 characters cut every word of their label to the same length, the longest length at which all of
// the variable's long names fit ("tech_state_organic_fertilis_prep", "tech_state_organic_fertilis_use"); a
// name still taken gets a _2, _3... suffix. Every name is recorded in `taken`.
std::vector<std::string> column_names(const std::string& var, const std::vector<std::string>& labels,
                                      std::set<std::string>& taken) {
  const std::string prefix = sanitize(var);
  std::vector<std::string> bases;
  if (labels.empty()) {
    bases.push_back(prefix);
  } else {
    std::size_t k = std::string::npos;  // word length that makes every long name fit
    for (const auto& l : labels) {
      const std::string full = prefix + "_" + sanitize(l);
      if (full.size() <= kStataNameMax) continue;
      const auto words = label_words(l);
      std::size_t longest = 0;
      for (const auto& x : words) longest = std::max(longest, x.size());
      std::size_t fit = 1;
      for (std::size_t j = longest; j >= 1; --j)
        if (prefix.size() + 1 + cut_words(words, j).size() <= kStataNameMax) {
          fit = j;
          break;
        }
      k = std::min(k, fit);
    }
    for (const auto& l : labels) {
      std::string full = prefix + "_" + sanitize(l);
      if (full.size() > kStataNameMax) full = prefix + "_" + cut_words(label_words(l), k);
      bases.push_back(full);
    }
  }
  std::vector<std::string> out;
  for (auto base : bases) {
    if (base.size() > kStataNameMax) base.resize(kStataNameMax);
    std::string name = base;
    for (int n = 2; taken.count(name); ++n) {
      std::string suffix(1, '_');
      suffix += std::to_string(n);
      name = base.substr(0, std::min(base.size(), kStataNameMax - suffix.size())) + suffix;
    }
    taken.insert(name);
    out.push_back(name);
  }
  return out;
}

std::vector<std::string> split_labels(const std::string& joined) {
  std::vector<std::string> out;
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

// ---------------------------------------------------------------------------------------------------------
// Reading.

std::string attr_or(hid_t obj, const std::string& name, const std::string& fallback = "") {
  try {
    return h5::has_attr(obj, name) ? h5::read_attr_string(obj, name) : fallback;
  } catch (const h5::Error&) {
    return fallback;
  }
}

// An attribute as text: strings as they are, numbers in the CSV number format.
std::optional<std::string> attr_text(hid_t obj, const std::string& name) {
  h5::Handle attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
  if (!attr.valid()) return std::nullopt;
  h5::Handle type(H5Aget_type(attr));
  h5::Handle space(H5Aget_space(attr));
  if (H5Sget_simple_extent_npoints(space) != 1) return std::nullopt;
  switch (H5Tget_class(type)) {
    case H5T_STRING:
      return h5::read_attr_string(obj, name);
    case H5T_INTEGER: {
      std::int64_t v = 0;
      if (H5Aread(attr, H5T_NATIVE_INT64, &v) < 0) return std::nullopt;
      return std::to_string(v);
    }
    case H5T_FLOAT: {
      double v = 0;
      if (H5Aread(attr, H5T_NATIVE_DOUBLE, &v) < 0) return std::nullopt;
      std::string s;
      append_double(s, v);
      return s;
    }
    default:
      return std::nullopt;
  }
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

// The type of the object at `name` (H5I_DATASET, H5I_GROUP), or H5I_BADID when there is none.
H5I_type_t object_type(hid_t parent, const std::string& name) {
  if (!h5::exists(parent, name)) return H5I_BADID;
  h5::Handle obj(H5Oopen(parent, name.c_str(), H5P_DEFAULT));
  return obj.valid() ? H5Iget_type(obj) : H5I_BADID;
}

bool is_dataset(hid_t parent, const std::string& name) { return object_type(parent, name) == H5I_DATASET; }
bool is_group(hid_t parent, const std::string& name) { return object_type(parent, name) == H5I_GROUP; }

// One numeric dataset whose first `lead` dimensions index rows ([P, H] panel: 2; aggregates and population
// tables: 1) and whose optional last dimension is the width.
struct Source {
  std::string path;
  h5::Handle ds;
  Kind kind = Kind::f64;
  std::vector<hsize_t> dims;
  std::size_t lead = 1;
  std::size_t width() const { return dims.size() > lead ? static_cast<std::size_t>(dims[lead]) : 1; }

  // Reads rows [start, start + count) of the lead dimensions, all of the width, into `buf`.
  void read(const std::vector<hsize_t>& start, const std::vector<hsize_t>& count, std::vector<unsigned char>& buf) const {
    std::vector<hsize_t> s = start, c = count;
    if (dims.size() > lead) s.push_back(0), c.push_back(dims[lead]);
    hsize_t n = 1;
    for (auto x : c) n *= x;
    buf.resize(static_cast<std::size_t>(n) * kind_size(kind));
    if (n == 0) return;
    h5::Handle fspace(H5Dget_space(ds));
    h5::Handle mspace(H5Screate_simple(static_cast<int>(c.size()), c.data(), nullptr));
    if (H5Sselect_hyperslab(fspace, H5S_SELECT_SET, s.data(), nullptr, c.data(), nullptr) < 0 ||
        H5Dread(ds, kind_memtype(kind), mspace, fspace, H5P_DEFAULT, buf.data()) < 0)
      throw ExportError("cannot read " + path + " (truncated or damaged file?)");
  }
};

// Opens a numeric dataset; nullopt (with a reason) for strings and other types.
std::optional<Source> open_source(hid_t file, const std::string& path, std::size_t lead, std::string* why = nullptr) {
  Source s;
  s.path = path;
  s.lead = lead;
  s.ds = h5::Handle(H5Dopen2(file, path.c_str(), H5P_DEFAULT));
  if (!s.ds.valid()) throw ExportError("cannot open dataset " + path + " (truncated or damaged file?)");
  h5::Handle type(H5Dget_type(s.ds));
  h5::Handle space(H5Dget_space(s.ds));
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0) throw ExportError("bad dataspace in " + path);
  s.dims.resize(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space, s.dims.data(), nullptr);
  if (s.dims.size() < lead || s.dims.size() > lead + 1) {
    if (why) *why = "has " + std::to_string(rank) + " dimensions";
    return std::nullopt;
  }
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      s.kind = (H5Tget_sign(type) == H5T_SGN_NONE && H5Tget_size(type) >= 8) ? Kind::u64 : Kind::i64;
      break;
    case H5T_FLOAT:
      s.kind = H5Tget_size(type) <= 4 ? Kind::f32 : Kind::f64;
      break;
    default:
      if (why) *why = "is not numeric";
      return std::nullopt;
  }
  return s;
}

// A variable of a table: the union over the groups it is read from.
struct Variable {
  std::string name, unit, description, aggregation;
  std::size_t width = 1;
  std::vector<std::string> labels;   // one per sub-column (from the `labels` attribute, else 0..width-1)
  bool labelled = false;             // labels come from the file
  std::vector<std::string> headers;  // CSV column names
};

// The variables of `groups` (union by name, sorted), with their widths checked to agree.
std::vector<Variable> collect_variables(hid_t file, const std::vector<std::string>& groups, std::size_t lead,
                                        std::vector<std::string>& notes) {
  std::map<std::string, Variable> vars;
  for (const auto& g : groups) {
    h5::Handle group = h5::open_group(file, g);
    for (const auto& name : h5::list(group)) {
      if (!is_dataset(group, name)) continue;
      std::string why;
      const auto src = open_source(file, g + "/" + name, lead, &why);
      if (!src) {
        const std::string note = g + "/" + name + " " + why + "; not exported";
        if (std::find(notes.begin(), notes.end(), note) == notes.end()) notes.push_back(note);
        continue;
      }
      auto it = vars.find(name);
      if (it != vars.end()) {
        if (it->second.width != src->width())
          throw ExportError(g + "/" + name + " has width " + std::to_string(src->width()) + " but " +
                            std::to_string(it->second.width) + " elsewhere in the file");
        continue;
      }
      Variable v;
      v.name = name;
      v.width = src->width();
      v.unit = attr_or(src->ds, "unit");
      v.description = attr_or(src->ds, "description");
      v.aggregation = attr_or(src->ds, "aggregation");
      if (v.width > 1) {
        v.labels = split_labels(attr_or(src->ds, "labels"));
        v.labelled = v.labels.size() == v.width;
        if (!v.labelled) {
          v.labels.clear();
          for (std::size_t k = 0; k < v.width; ++k) v.labels.push_back(std::to_string(k));
        }
      }
      vars.emplace(name, std::move(v));
    }
  }
  std::vector<Variable> out;
  for (auto& [name, v] : vars) out.push_back(std::move(v));
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Writing.

struct CodebookEntry {
  std::string variable, unit, description, file, aggregation, source;
};

class CsvFile {
 public:
  explicit CsvFile(const fs::path& path) : path_(path), out_(path, std::ios::binary | std::ios::trunc) {
    if (!out_) throw WriteError("cannot create " + path.string());
    buf_.reserve(kFlush + 4096);
  }
  void header(const std::vector<std::string>& names) {
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (i) buf_ += ',';
      append_field(buf_, names[i]);
    }
    buf_ += '\n';
    columns_ = names.size();
  }
  std::string& buf() { return buf_; }
  void end_row() {
    buf_ += '\n';
    ++rows_;
    if (buf_.size() >= kFlush) flush();
  }
  void close() {
    flush();
    out_.close();
    if (!out_) throw WriteError("cannot write " + path_.string() + " (disk full?)");
  }
  std::size_t rows() const { return rows_; }
  std::size_t columns() const { return columns_; }

 private:
  static constexpr std::size_t kFlush = 1 << 20;
  void flush() {
    out_.write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
    if (!out_) throw WriteError("cannot write " + path_.string() + " (disk full?)");
    buf_.clear();
  }
  fs::path path_;
  std::ofstream out_;
  std::string buf_;
  std::size_t rows_ = 0, columns_ = 0;
};

void check_stop() {
  if (stop_requested()) throw Interrupted(stop_signal());
}

struct FileInfo {
  std::vector<std::string> arms, periods;
  std::vector<int> replicates;  // replicate numbers present for every arm
};

std::vector<int> replicate_numbers(hid_t file, const std::string& group) {
  std::vector<int> out;
  if (!is_group(file, group)) return out;
  h5::Handle g = h5::open_group(file, group);
  for (const auto& name : h5::list(g)) {
    if (name.rfind("replicate_", 0) != 0) continue;
    int r = -1;
    const char* b = name.data() + 10;
    const char* e = name.data() + name.size();
    auto [p, ec] = std::from_chars(b, e, r);
    if (ec == std::errc() && p == e && r >= 0) out.push_back(r);
  }
  std::sort(out.begin(), out.end());
  return out;
}

FileInfo read_info(hid_t file) {
  FileInfo info;
  if (!h5::exists(file, "arm_names") || !h5::exists(file, "periods") || !is_group(file, "arms"))
    throw ExportError("not a chacra output file (no /arm_names, /periods or /arms); it may be truncated or written "
                      "by another program");
  try {
    info.arms = h5::read_strings(file, "arm_names");
    info.periods = h5::read_strings(file, "periods");
  } catch (const h5::Error& e) {
    throw ExportError(std::string("cannot read the arm and period names: ") + e.what());
  }
  if (info.arms.empty()) throw ExportError("the file lists no arms");
  for (const auto& arm : info.arms) {
    const auto reps = replicate_numbers(file, "arms/" + arm);
    if (reps.empty()) throw ExportError("arm '" + arm + "' has no replicate (an incomplete or truncated file)");
    if (&arm == &info.arms.front()) info.replicates = reps;
    else if (reps != info.replicates)
      throw ExportError("arm '" + arm + "' does not hold the same replicates as arm '" + info.arms.front() +
                        "' (an incomplete or truncated file)");
  }
  return info;
}

std::string unit_group(const std::string& arm, int r) { return "arms/" + arm + "/replicate_" + std::to_string(r); }

std::vector<std::string> make_headers(std::vector<Variable>& vars, std::set<std::string>& taken) {
  std::vector<std::string> headers;
  for (auto& v : vars) {
    v.headers = column_names(v.name, v.width == 1 ? std::vector<std::string>{} : v.labels, taken);
    headers.insert(headers.end(), v.headers.begin(), v.headers.end());
  }
  return headers;
}

void add_codebook(std::vector<CodebookEntry>& cb, const std::string& file, const std::vector<Variable>& vars,
                  const std::string& source_prefix, const std::string& description_prefix = "") {
  for (const auto& v : vars)
    for (std::size_t k = 0; k < v.headers.size(); ++k) {
      std::string desc = description_prefix + v.description;
      std::string source = source_prefix + v.name;
      if (v.width > 1) {
        desc.append(" [").append(v.labels[k]).append("]");
        source.append("[").append(std::to_string(k)).append("] (").append(v.labels[k]).append(")");
      }
      cb.push_back({v.headers[k], v.unit, desc, file, v.aggregation, source});
    }
}

struct Written {
  std::string file;
  std::size_t rows = 0, columns = 0;
};

// panel.csv: arm, replicate, household, period, then every panel variable; rows ordered by arm (scenario
// order), replicate, period, household.
std::optional<Written> write_panel(hid_t file, const FileInfo& info, const fs::path& dir,
                                   std::vector<CodebookEntry>& cb, std::vector<std::string>& notes) {
  std::vector<std::string> groups;
  for (const auto& arm : info.arms)
    for (int r : info.replicates)
      if (is_group(file, unit_group(arm, r) + "/panel")) groups.push_back(unit_group(arm, r) + "/panel");
  if (groups.empty()) {
    notes.push_back("the file has no household panel (output.panel: false); panel.csv not written");
    return std::nullopt;
  }
  auto vars = collect_variables(file, groups, 2, notes);
  std::set<std::string> taken = {"arm", "replicate", "household", "period"};
  std::vector<std::string> headers = {"arm", "replicate", "household", "period"};
  const auto vh = make_headers(vars, taken);
  headers.insert(headers.end(), vh.begin(), vh.end());
  CsvFile csv(dir / "panel.csv");
  csv.header(headers);
  const std::size_t P = info.periods.size();
  std::vector<std::vector<unsigned char>> bufs(vars.size());
  for (const auto& arm : info.arms)
    for (int r : info.replicates) {
      const std::string g = unit_group(arm, r) + "/panel";
      const bool has = is_group(file, g);
      if (!has) {
        notes.push_back(g + " is missing; that unit has no rows in panel.csv");
        continue;
      }
      std::vector<std::optional<Source>> src(vars.size());
      hsize_t H = 0;
      bool have_h = false;
      for (std::size_t j = 0; j < vars.size(); ++j) {
        if (!h5::exists(file, g + "/" + vars[j].name)) continue;
        src[j] = open_source(file, g + "/" + vars[j].name, 2);
        if (!src[j]) continue;
        if (src[j]->dims[0] != P)
          throw ExportError(src[j]->path + " has " + std::to_string(src[j]->dims[0]) + " periods but /periods lists " +
                            std::to_string(P));
        if (have_h && src[j]->dims[1] != H)
          throw ExportError(src[j]->path + " has " + std::to_string(src[j]->dims[1]) + " households, not " +
                            std::to_string(H) + " as the unit's other variables");
        H = src[j]->dims[1];
        have_h = true;
      }
      const std::string arm_field = field(arm), rep = std::to_string(r);
      for (std::size_t p = 0; p < P; ++p) {
        const std::string period = field(info.periods[p]);
        for (hsize_t h0 = 0; h0 < H; h0 += kBlockRows) {
          check_stop();
          const hsize_t n = std::min(kBlockRows, H - h0);
          for (std::size_t j = 0; j < vars.size(); ++j)
            if (src[j]) src[j]->read({p, h0}, {1, n}, bufs[j]);
          for (hsize_t i = 0; i < n; ++i) {
            std::string& b = csv.buf();
            b += arm_field;
            b += ',';
            b += rep;
            b += ',';
            char tmp[24];
            b.append(tmp, std::to_chars(tmp, tmp + sizeof tmp, h0 + i).ptr);
            b += ',';
            b += period;
            for (std::size_t j = 0; j < vars.size(); ++j) {
              const std::size_t W = vars[j].width;
              for (std::size_t k = 0; k < W; ++k) {
                b += ',';
                if (src[j]) append_value(b, src[j]->kind, bufs[j].data(), static_cast<std::size_t>(i) * W + k);
                else b += g_missing;
              }
            }
            csv.end_row();
          }
        }
      }
    }
  csv.close();
  cb.push_back({"arm", "", "Policy arm (scenario order: /arm_names); every arm ran on the same population",
                "panel.csv", "", "/arm_names"});
  cb.push_back({"replicate", "", "Replicate number (0-based); each replicate has its own population",
                "panel.csv", "", "arms/<arm>/replicate_R"});
  cb.push_back({"household", "index",
                "Household index within the replicate (row of households.csv for the same replicate)", "panel.csv",
                "", "panel second dimension"});
  cb.push_back({"period", "", "Output period label (2017 yearly, 2017Q1 quarterly, 2017-01 monthly)", "panel.csv",
                "", "/periods"});
  add_codebook(cb, "panel.csv", vars, "arms/<arm>/replicate_R/panel/");
  return Written{"panel.csv", csv.rows(), csv.columns()};
}

// aggregates.csv: arm, replicate, period, then each variable's household mean.
std::optional<Written> write_aggregates(hid_t file, const FileInfo& info, const fs::path& dir,
                                        std::vector<CodebookEntry>& cb, std::vector<std::string>& notes) {
  std::vector<std::string> groups;
  for (const auto& arm : info.arms)
    for (int r : info.replicates)
      if (is_group(file, unit_group(arm, r) + "/aggregates")) groups.push_back(unit_group(arm, r) + "/aggregates");
  if (groups.empty()) {
    notes.push_back("the file has no aggregates; aggregates.csv not written");
    return std::nullopt;
  }
  auto vars = collect_variables(file, groups, 1, notes);
  // Aggregates may lack the labels attribute of their multi-width variables: take the panel's.
  for (auto& v : vars) {
    if (v.width < 2 || v.labelled) continue;
    for (const auto& g : groups) {
      const std::string panel = g.substr(0, g.size() - std::string("aggregates").size()) + "panel/" + v.name;
      if (!h5::exists(file, panel)) continue;
      h5::Handle ds(H5Dopen2(file, panel.c_str(), H5P_DEFAULT));
      const auto labels = ds.valid() ? split_labels(attr_or(ds, "labels")) : std::vector<std::string>{};
      if (labels.size() == v.width) v.labels = labels, v.labelled = true;
      break;
    }
  }
  std::set<std::string> taken = {"arm", "replicate", "period"};
  std::vector<std::string> headers = {"arm", "replicate", "period"};
  const auto vh = make_headers(vars, taken);
  headers.insert(headers.end(), vh.begin(), vh.end());
  CsvFile csv(dir / "aggregates.csv");
  csv.header(headers);
  const std::size_t P = info.periods.size();
  std::vector<std::vector<unsigned char>> bufs(vars.size());
  for (const auto& arm : info.arms)
    for (int r : info.replicates) {
      check_stop();
      const std::string g = unit_group(arm, r) + "/aggregates";
      if (!is_group(file, g)) continue;
      std::vector<std::optional<Source>> src(vars.size());
      for (std::size_t j = 0; j < vars.size(); ++j) {
        if (!h5::exists(file, g + "/" + vars[j].name)) continue;
        src[j] = open_source(file, g + "/" + vars[j].name, 1);
        if (src[j] && src[j]->dims[0] != P)
          throw ExportError(src[j]->path + " has " + std::to_string(src[j]->dims[0]) + " periods but /periods lists " +
                            std::to_string(P));
        if (src[j]) src[j]->read({0}, {P}, bufs[j]);
      }
      for (std::size_t p = 0; p < P; ++p) {
        std::string& b = csv.buf();
        b += field(arm) + "," + std::to_string(r) + "," + field(info.periods[p]);
        for (std::size_t j = 0; j < vars.size(); ++j)
          for (std::size_t k = 0; k < vars[j].width; ++k) {
            b += ',';
            if (src[j]) append_value(b, src[j]->kind, bufs[j].data(), p * vars[j].width + k);
            else b += g_missing;
          }
        csv.end_row();
      }
    }
  csv.close();
  cb.push_back({"arm", "", "Policy arm (scenario order: /arm_names)", "aggregates.csv", "", "/arm_names"});
  cb.push_back({"replicate", "", "Replicate number (0-based)", "aggregates.csv", "", "arms/<arm>/replicate_R"});
  cb.push_back({"period", "", "Output period label", "aggregates.csv", "", "/periods"});
  add_codebook(cb, "aggregates.csv", vars, "arms/<arm>/replicate_R/aggregates/");
  return Written{"aggregates.csv", csv.rows(), csv.columns()};
}

// households.csv, centres.csv, districts.csv: replicate, the row index, then every column of the table.
std::optional<Written> write_population(hid_t file, const std::string& table, const std::string& id,
                                        const fs::path& dir, std::vector<CodebookEntry>& cb,
                                        std::vector<std::string>& notes) {
  const auto reps = replicate_numbers(file, "population");
  std::vector<std::string> groups;
  std::vector<int> group_rep;
  for (int r : reps) {
    const std::string g = "population/replicate_" + std::to_string(r) + "/" + table;
    if (is_group(file, g)) groups.push_back(g), group_rep.push_back(r);
  }
  const std::string name = table + ".csv";
  if (groups.empty()) {
    notes.push_back("the file has no population " + table + " table; " + name + " not written");
    return std::nullopt;
  }
  auto vars = collect_variables(file, groups, 1, notes);
  std::set<std::string> taken = {"replicate", id};
  std::vector<std::string> headers = {"replicate", id};
  const auto vh = make_headers(vars, taken);
  headers.insert(headers.end(), vh.begin(), vh.end());
  CsvFile csv(dir / name);
  csv.header(headers);
  std::vector<std::vector<unsigned char>> bufs(vars.size());
  for (std::size_t gi = 0; gi < groups.size(); ++gi) {
    const std::string& g = groups[gi];
    std::vector<std::optional<Source>> src(vars.size());
    hsize_t N = 0;
    bool have_n = false;
    for (std::size_t j = 0; j < vars.size(); ++j) {
      if (!h5::exists(file, g + "/" + vars[j].name)) continue;
      src[j] = open_source(file, g + "/" + vars[j].name, 1);
      if (!src[j]) continue;
      if (have_n && src[j]->dims[0] != N)
        throw ExportError(src[j]->path + " has " + std::to_string(src[j]->dims[0]) + " rows, not " +
                          std::to_string(N) + " as the table's other columns");
      N = src[j]->dims[0];
      have_n = true;
    }
    const std::string rep = std::to_string(group_rep[gi]);
    for (hsize_t r0 = 0; r0 < N; r0 += kBlockRows) {
      check_stop();
      const hsize_t n = std::min(kBlockRows, N - r0);
      for (std::size_t j = 0; j < vars.size(); ++j)
        if (src[j]) src[j]->read({r0}, {n}, bufs[j]);
      for (hsize_t i = 0; i < n; ++i) {
        std::string& b = csv.buf();
        b += rep;
        b += ',';
        b += std::to_string(r0 + i);
        for (std::size_t j = 0; j < vars.size(); ++j)
          for (std::size_t k = 0; k < vars[j].width; ++k) {
            b += ',';
            if (src[j]) append_value(b, src[j]->kind, bufs[j].data(), static_cast<std::size_t>(i) * vars[j].width + k);
            else b += g_missing;
          }
        csv.end_row();
      }
    }
  }
  csv.close();
  cb.push_back({"replicate", "", "Replicate number (0-based); each replicate has its own population", name, "",
                "population/replicate_R"});
  cb.push_back({id, "index", "Row of the " + table + " table within the replicate", name, "",
                "population/replicate_R/" + table + " first dimension"});
  add_codebook(cb, name, vars, "population/replicate_R/" + table + "/",
               table == "households" ? "At the start (month 0): " : "");
  return Written{name, csv.rows(), csv.columns()};
}

// comparison.csv: the /comparison group's parallel columns, one row per (arm, outcome, subgroup, statistic).
std::optional<Written> write_comparison(hid_t file, const fs::path& dir, std::vector<CodebookEntry>& cb,
                                        std::vector<std::string>& notes) {
  if (!is_group(file, "comparison")) {
    notes.push_back("the file has no /comparison table; comparison.csv not written (chacra compare OUT.h5 --format "
                    "csv computes it)");
    return std::nullopt;
  }
  h5::Handle g = h5::open_group(file, "comparison");
  if (!is_dataset(g, "arm")) {
    notes.push_back("/comparison has no 'arm' column; comparison.csv not written");
    return std::nullopt;
  }
  std::vector<std::string> arm;
  try {
    arm = h5::read_strings(g, "arm");
  } catch (const h5::Error& e) {
    throw ExportError(std::string("cannot read /comparison/arm: ") + e.what());
  }
  const std::size_t n = arm.size();
  const std::vector<std::string> preferred = {"arm",     "reference",   "outcome",  "subgroup",  "statistic",
                                              "unit",    "interval",    "mean_effect", "ci_low", "ci_high",
                                              "arm_value", "reference_value", "n_replicates"};
  std::vector<std::string> names;
  for (const auto& p : preferred)
    if (is_dataset(g, p)) names.push_back(p);
  for (const auto& m : h5::list(g))
    if (is_dataset(g, m) && std::find(names.begin(), names.end(), m) == names.end()) names.push_back(m);
  struct Col {
    std::string name, header, description;
    std::vector<std::string> text;          // string columns
    std::optional<Source> src;              // numeric columns
    std::vector<unsigned char> buf;
  };
  std::vector<Col> cols;
  std::set<std::string> taken;
  for (const auto& m : names) {
    h5::Handle ds(H5Dopen2(g, m.c_str(), H5P_DEFAULT));
    if (!ds.valid()) throw ExportError("cannot open /comparison/" + m + " (truncated or damaged file?)");
    h5::Handle space(H5Dget_space(ds));
    h5::Handle type(H5Dget_type(ds));
    if (H5Sget_simple_extent_ndims(space) != 1 || static_cast<std::size_t>(H5Sget_simple_extent_npoints(space)) != n)
      continue;  // per-file lists (arms, notes), not columns
    Col c;
    c.name = m;
    c.description = attr_or(ds, "description");
    if (H5Tget_class(type) == H5T_STRING) {
      try {
        c.text = h5::read_strings(g, m);
      } catch (const h5::Error& e) {
        throw ExportError(std::string("cannot read /comparison/") + m + ": " + e.what());
      }
    } else {
      c.src = open_source(file, "comparison/" + m, 1);
      if (!c.src) continue;
      c.src->read({0}, {n}, c.buf);
    }
    c.header = column_names(m, {}, taken).front();
    cols.push_back(std::move(c));
  }
  CsvFile csv(dir / "comparison.csv");
  std::vector<std::string> headers;
  for (const auto& c : cols) headers.push_back(c.header);
  csv.header(headers);
  for (std::size_t i = 0; i < n; ++i) {
    std::string& b = csv.buf();
    for (std::size_t j = 0; j < cols.size(); ++j) {
      if (j) b += ',';
      if (cols[j].src) append_value(b, cols[j].src->kind, cols[j].buf.data(), i);
      else append_field(b, cols[j].text[i]);
    }
    csv.end_row();
  }
  csv.close();
  for (const auto& c : cols) {
    const bool in_unit = c.name == "mean_effect" || c.name == "ci_low" || c.name == "ci_high" ||
                         c.name == "arm_value" || c.name == "reference_value";
    cb.push_back({c.header, in_unit ? "given by the row's unit column" : "", c.description, "comparison.csv", "",
                  "comparison/" + c.name});
  }
  return Written{"comparison.csv", csv.rows(), csv.columns()};
}

// provenance.csv (key, value) and scenario.yaml.
Written write_provenance(hid_t file, const FileInfo& info, const fs::path& dir, std::vector<CodebookEntry>& cb,
                         const std::vector<std::string>& notes) {
  CsvFile csv(dir / "provenance.csv");
  csv.header({"key", "value"});
  auto row = [&](const std::string& k, const std::string& v) {
    csv.buf() += field(k) + "," + field(v);
    csv.end_row();
  };
  if (is_group(file, "provenance")) {
    h5::Handle prov = h5::open_group(file, "provenance");
    for (const auto& name : attr_names(prov))
      if (auto v = attr_text(prov, name)) row(name, *v);
    if (is_dataset(prov, "scenario_yaml")) {
      try {
        const auto yaml = h5::read_strings(prov, "scenario_yaml");
        if (!yaml.empty()) {
          std::ofstream out(dir / "scenario.yaml", std::ios::binary);
          out << yaml.front();
          if (!out) throw WriteError("cannot write " + (dir / "scenario.yaml").string());
        }
      } catch (const h5::Error&) {
        // A scenario text that cannot be read is left out; the attributes are still exported.
      }
    }
  }
  std::string arms, periods;
  for (const auto& a : info.arms) arms += (arms.empty() ? "" : " ") + a;
  row("arms", arms);
  row("periods", std::to_string(info.periods.size()) + " (" + info.periods.front() + " to " + info.periods.back() + ")");
  for (const auto& a : info.arms) {
    h5::Handle g = h5::open_group(file, "arms/" + a);
    row("arm." + a + ".description", attr_or(g, "description"));
  }
  if (is_group(file, "comparison")) {
    h5::Handle g = h5::open_group(file, "comparison");
    for (const auto& name : attr_names(g))
      if (name != "description")
        if (auto v = attr_text(g, name)) row("comparison." + name, *v);
    if (is_dataset(g, "notes")) {
      try {
        std::string joined;
        for (const auto& s : h5::read_strings(g, "notes")) joined += (joined.empty() ? "" : "; ") + s;
        if (!joined.empty()) row("comparison.notes", joined);
      } catch (const h5::Error&) {
      }
    }
  }
  for (const auto& n : notes) row("export.note", n);
  csv.close();
  cb.push_back({"key", "", "Provenance attribute (docs/output.md, Provenance), arm description or export note",
                "provenance.csv", "", "/provenance attributes"});
  cb.push_back({"value", "", "Its value", "provenance.csv", "", ""});
  return Written{"provenance.csv", csv.rows(), csv.columns()};
}

Written write_codebook(const fs::path& dir, const std::vector<CodebookEntry>& cb) {
  CsvFile csv(dir / "codebook.csv");
  csv.header({"variable", "unit", "description", "file", "aggregation", "source"});
  for (const auto& e : cb) {
    csv.buf() += field(e.variable) + "," + field(e.unit) + "," + field(e.description) + "," + field(e.file) + "," +
                 field(e.aggregation) + "," + field(e.source);
    csv.end_row();
  }
  csv.close();
  return Written{"codebook.csv", csv.rows(), csv.columns()};
}

// Removes the partial directory unless the export finished.
struct PartialGuard {
  fs::path path;
  bool keep = false;
  ~PartialGuard() {
    if (keep) return;
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::string strip_trailing_slashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

int cmd_export(const std::vector<std::string>& args) {
  const ParsedArgs a = parse_args("export", args, kExportOptions, 1);
  if (a.has("--help")) {
    std::cout << "usage: chacra export OUT.h5 --csv DIR [--no-panel] [--na TEXT] [--force] [--quiet]\n\n"
                 "Writes the output file as CSV tables for Stata (import delimited) and R (read.csv): panel.csv\n"
                 "(long: arm, replicate, household, period, one column per variable), aggregates.csv,\n"
                 "comparison.csv (when the file has one), households.csv, centres.csv, districts.csv,\n"
                 "provenance.csv, scenario.yaml and codebook.csv (variable, unit, description). Missing values\n"
                 "are NA (or --na TEXT). See docs/analysis.md.\n\n"
              << format_options(kExportOptions);
    return kOk;
  }
  if (a.positional.empty())
    throw UsageError("export needs an output file: chacra export OUT.h5 --csv DIR (see chacra export --help)");
  if (!a.has("--csv") || a.get("--csv").empty())
    throw UsageError("export needs --csv DIR, the directory to write the tables into (see chacra export --help)");
  const std::string path = a.positional[0];
  const fs::path dir(strip_trailing_slashes(a.get("--csv")));
  const fs::path partial(dir.string() + ".partial");
  const bool force = a.has("--force"), quiet = a.has("--quiet");
  g_missing = a.has("--na") ? a.values.at("--na").back() : "NA";
  if (g_missing.find_first_of(",\"\r\n") != std::string::npos)
    throw UsageError("--na must not hold a comma, a quote or a line break");

  h5::quiet_errors();
  h5::Handle file;
  FileInfo info;
  try {
    if (!fs::exists(path)) throw ExportError("no such file");
    if (fs::is_directory(path)) throw ExportError("it is a directory");
    file = h5::open_file_readonly(path);
    info = read_info(file);
  } catch (const ExportError& e) {
    std::cerr << "chacra: cannot export " << path << ": " << e.what() << "\n";
    return kRuntimeError;
  } catch (const h5::Error& e) {
    const std::string what = e.what();
    std::cerr << "chacra: cannot export " << path << ": " << what
              << (what.find("truncated") == std::string::npos ? " (truncated or damaged file?)" : "") << "\n";
    return kRuntimeError;
  }

  std::error_code ec;
  const bool dir_exists = fs::exists(fs::symlink_status(dir, ec));
  if (dir_exists) {
    const bool is_dir = fs::is_directory(dir, ec);
    const bool empty = is_dir && fs::is_empty(dir, ec);
    if (!empty && !force)
      throw OutputExists(dir.string() + " already exists and is not empty; use --force to replace it or choose "
                                        "another directory");
    if (!empty && !(is_dir && fs::exists(dir / "codebook.csv")))
      throw OutputExists(dir.string() + " is not a previous chacra export (no codebook.csv); it is not replaced, even "
                                        "with --force: choose another directory");
  }

  install_stop_handlers();
  PartialGuard guard{partial};
  try {
    fs::remove_all(partial);
    fs::create_directories(partial);
    std::vector<CodebookEntry> cb;
    std::vector<std::string> notes;
    std::vector<Written> written;
    if (!a.has("--no-panel")) {
      if (auto w = write_panel(file, info, partial, cb, notes)) written.push_back(*w);
    }
    if (auto w = write_aggregates(file, info, partial, cb, notes)) written.push_back(*w);
    if (auto w = write_comparison(file, partial, cb, notes)) written.push_back(*w);
    if (auto w = write_population(file, "households", "household", partial, cb, notes)) written.push_back(*w);
    if (auto w = write_population(file, "centres", "centre", partial, cb, notes)) written.push_back(*w);
    if (auto w = write_population(file, "districts", "district", partial, cb, notes)) written.push_back(*w);
    written.push_back(write_provenance(file, info, partial, cb, notes));
    written.push_back(write_codebook(partial, cb));
    check_stop();
    // Into place: an existing export is moved aside first, then removed once the new one is there.
    fs::path old;
    if (fs::exists(fs::symlink_status(dir))) {
      if (fs::is_directory(dir) && fs::is_empty(dir)) {
        fs::remove(dir);
      } else {
        old = fs::path(dir.string() + ".old." + std::to_string(::getpid()));
        fs::remove_all(old);
        fs::rename(dir, old);
      }
    }
    fs::rename(partial, dir);
    guard.keep = true;
    if (!old.empty()) fs::remove_all(old, ec);
    if (!quiet) {
      std::printf("wrote %s:\n", dir.string().c_str());
      for (const auto& w : written)
        std::printf("  %-16s %10zu rows x %3zu columns\n", w.file.c_str(), w.rows, w.columns);
      if (fs::exists(dir / "scenario.yaml")) std::printf("  scenario.yaml\n");
      for (const auto& n : notes) std::printf("  note: %s\n", n.c_str());
    }
    return kOk;
  } catch (const Interrupted& e) {
    std::cerr << "\nchacra: export interrupted by signal " << e.signal() << "; nothing was written to "
              << dir.string() << "\n";
    return 128 + (e.signal() ? e.signal() : 2);
  } catch (const ExportError& e) {
    std::cerr << "chacra: cannot export " << path << ": " << e.what() << "\n";
    return kRuntimeError;
  } catch (const h5::Error& e) {
    std::cerr << "chacra: cannot export " << path << ": " << e.what() << "\n";
    return kRuntimeError;
  } catch (const WriteError& e) {
    std::cerr << "chacra: export: " << e.what() << "; " << dir.string() << " left as it was\n";
    return kRuntimeError;
  } catch (const fs::filesystem_error& e) {
    std::cerr << "chacra: export: " << e.what() << "; " << dir.string() << " left as it was\n";
    return kRuntimeError;
  }
}

}  // namespace chacra::cli
