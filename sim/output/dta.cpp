// Stata .dta through ReadStat (see sim/output/dta.hpp): the file is buffered in a std::ofstream that ReadStat's
// data writer appends to; errors carry the file and the variable.
#include "sim/output/dta.hpp"

#include <readstat.h>

#include <cmath>
#include <fstream>
#include <stdexcept>

namespace chacra::dta {

struct Writer::State {
  std::ofstream out;
  readstat_writer_t* writer = nullptr;
  std::vector<readstat_variable_t*> vars;
  bool ended = false;
  ~State() {
    if (writer) readstat_writer_free(writer);
  }
};

namespace {

ssize_t append(const void* data, std::size_t len, void* ctx) {
  auto* out = static_cast<std::ofstream*>(ctx);
  out->write(static_cast<const char*>(data), static_cast<std::streamsize>(len));
  return *out ? static_cast<ssize_t>(len) : -1;
}

readstat_type_t storage(Type t) {
  switch (t) {
    case Type::int16: return READSTAT_TYPE_INT16;
    case Type::int32: return READSTAT_TYPE_INT32;
    case Type::float32: return READSTAT_TYPE_FLOAT;
    case Type::float64: return READSTAT_TYPE_DOUBLE;
    case Type::text: return READSTAT_TYPE_STRING;
  }
  return READSTAT_TYPE_DOUBLE;
}

}  // namespace

std::string fit(std::string_view s, std::size_t max) {
  if (s.size() <= max) return std::string(s);
  std::size_t n = max >= 3 ? max - 3 : 0;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;  // not inside a UTF-8 character
  return std::string(s.substr(0, n)) + (max >= 3 ? "..." : "");
}

Writer::Writer(const std::filesystem::path& path, const std::string& file_label, const std::vector<LabelSet>& label_sets,
               const std::vector<Variable>& variables, std::size_t rows)
    : s_(std::make_unique<State>()), field_(static_cast<std::size_t>(-1)), path_(path.string()) {
  if (rows > static_cast<std::size_t>(2147483647))
    throw std::runtime_error(path_ + ": " + std::to_string(rows) + " rows are more than a .dta file holds");
  s_->out.open(path, std::ios::binary | std::ios::trunc);
  if (!s_->out) throw std::runtime_error("cannot create " + path_);
  s_->writer = readstat_writer_init();
  check(readstat_set_data_writer(s_->writer, append), "set up the writer");
  check(readstat_writer_set_file_format_version(s_->writer, 118), "set the format version");
  check(readstat_writer_set_file_label(s_->writer, fit(file_label, kLabelMax).c_str()), "set the file label");
  std::vector<std::pair<std::string, readstat_label_set_t*>> sets;
  for (const auto& ls : label_sets) {
    readstat_label_set_t* set = readstat_add_label_set(s_->writer, READSTAT_TYPE_INT32, ls.name.c_str());
    for (const auto& [value, label] : ls.labels) readstat_label_int32_value(set, value, label.c_str());
    sets.emplace_back(ls.name, set);
  }
  for (const auto& v : variables) {
    if (v.type == Type::text && (v.width < 1 || v.width > kStrMax))
      throw std::runtime_error(path_ + ": text variable " + v.name + " needs " + std::to_string(v.width) +
                               " characters; a .dta str# holds 1 to " + std::to_string(kStrMax));
    readstat_variable_t* var =
        readstat_add_variable(s_->writer, v.name.c_str(), storage(v.type), v.type == Type::text ? v.width : 0);
    readstat_variable_set_label(var, fit(v.label, kLabelMax).c_str());
    if (!v.label_set.empty()) {
      readstat_label_set_t* set = nullptr;
      for (const auto& [name, s] : sets)
        if (name == v.label_set) set = s;
      if (!set) throw std::logic_error(path_ + ": variable " + v.name + " names an undeclared label set " + v.label_set);
      readstat_variable_set_label_set(var, set);
    }
    s_->vars.push_back(var);
    types_.push_back(v.type);
    names_.push_back(v.name);
  }
  check(readstat_begin_writing_dta(s_->writer, &s_->out, static_cast<long>(rows)), "begin the file");
  check(readstat_validate_metadata(s_->writer), "check the file's metadata");
  for (field_ = 0; field_ < s_->vars.size(); ++field_)
    check(readstat_validate_variable(s_->writer, s_->vars[field_]), "check the variable");
  field_ = 0;
}

Writer::~Writer() = default;

void Writer::check(int error, const char* what) const {
  if (error == READSTAT_OK) return;
  std::string where = path_;
  if (field_ < names_.size() && !names_.empty()) where += " (variable " + names_[field_] + ")";
  throw std::runtime_error(where + ": cannot " + what + ": " +
                           readstat_error_message(static_cast<readstat_error_t>(error)));
}

const void* Writer::next(Type& type) {
  if (field_ == 0) check(readstat_begin_row(s_->writer), "begin a row");
  if (field_ >= types_.size()) throw std::logic_error(path_ + ": more values than variables in a row");
  type = types_[field_];
  return s_->vars[field_];
}

void Writer::text(std::string_view s) {
  Type t;
  auto* var = static_cast<const readstat_variable_t*>(next(t));
  if (t != Type::text) throw std::logic_error(path_ + ": text for numeric variable " + names_[field_]);
  const std::string value(s);
  check(readstat_insert_string_value(s_->writer, var, value.c_str()), "write a text value");
  ++field_;
}

void Writer::number(std::int64_t v) {
  Type t;
  auto* var = static_cast<const readstat_variable_t*>(next(t));
  const std::int64_t max = t == Type::int16 ? kInt16Max : kInt32Max;
  switch (t) {
    case Type::int16:
    case Type::int32:
      if (v > max || v < -max)
        throw std::runtime_error(path_ + ": variable " + names_[field_] + " holds " + std::to_string(v) +
                                 ", beyond the " + (t == Type::int16 ? "int" : "long") + " storage type");
      check(t == Type::int16 ? readstat_insert_int16_value(s_->writer, var, static_cast<std::int16_t>(v))
                             : readstat_insert_int32_value(s_->writer, var, static_cast<std::int32_t>(v)),
            "write a value");
      break;
    case Type::float32: check(readstat_insert_float_value(s_->writer, var, static_cast<float>(v)), "write a value"); break;
    case Type::float64: check(readstat_insert_double_value(s_->writer, var, static_cast<double>(v)), "write a value"); break;
    case Type::text: throw std::logic_error(path_ + ": number for text variable " + names_[field_]);
  }
  ++field_;
}

void Writer::number(double v) {
  if (std::isnan(v)) return missing();
  Type t;
  auto* var = static_cast<const readstat_variable_t*>(next(t));
  switch (t) {
    case Type::float32: check(readstat_insert_float_value(s_->writer, var, static_cast<float>(v)), "write a value"); break;
    case Type::float64: check(readstat_insert_double_value(s_->writer, var, v), "write a value"); break;
    case Type::int16:
    case Type::int32:
      if (v != std::floor(v)) throw std::logic_error(path_ + ": a fraction for whole-number variable " + names_[field_]);
      return number(static_cast<std::int64_t>(v));
    case Type::text: throw std::logic_error(path_ + ": number for text variable " + names_[field_]);
  }
  ++field_;
}

void Writer::missing() {
  Type t;
  auto* var = static_cast<const readstat_variable_t*>(next(t));
  check(t == Type::text ? readstat_insert_string_value(s_->writer, var, "")
                        : readstat_insert_missing_value(s_->writer, var),
        "write a missing value");
  ++field_;
}

void Writer::end_row() {
  if (field_ != types_.size())
    throw std::logic_error(path_ + ": a row of " + std::to_string(field_) + " values for " +
                           std::to_string(types_.size()) + " variables");
  field_ = 0;
  check(readstat_end_row(s_->writer), "end a row");
  ++rows_;
}

void Writer::close() {
  if (s_->ended) return;
  s_->ended = true;
  field_ = types_.size();  // errors name the file, not a variable
  check(readstat_end_writing(s_->writer), "finish the file");
  s_->out.close();
  if (!s_->out) throw std::runtime_error("cannot write " + path_ + " (disk full?)");
}

}  // namespace chacra::dta
