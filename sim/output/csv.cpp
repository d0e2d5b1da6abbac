// The CSV writer (see sim/output/csv.hpp).
#include "sim/output/csv.hpp"

#include <zlib.h>

#include <charconv>
#include <cmath>

namespace chacra::csv {

namespace {
template <class T> void append_chars(std::string& out, T v) {
  char tmp[64];
  const std::to_chars_result r = std::to_chars(tmp, tmp + sizeof tmp, v);
  out.append(tmp, r.ptr);
}
}  // namespace

void append_field(std::string& out, std::string_view s) {
  const bool quote = s.find_first_of(",\"\r\n") != std::string_view::npos ||
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

std::string field(std::string_view s) {
  std::string out;
  append_field(out, s);
  return out;
}

void append_number(std::string& out, double v, std::string_view missing) {
  if (std::isfinite(v)) append_chars(out, v);
  else out += missing;
}

void append_number(std::string& out, float v, std::string_view missing) {
  if (std::isfinite(v)) append_chars(out, v);
  else out += missing;
}

void append_number(std::string& out, std::int64_t v) { append_chars(out, v); }
void append_number(std::string& out, std::uint64_t v) { append_chars(out, v); }

Writer::Writer(std::ostream& out, std::string name, std::string missing)
    : out_(&out), name_(std::move(name)), missing_(std::move(missing)) {
  buf_.reserve(kFlush + 4096);
}

void Writer::GzClose::operator()(void* gz) const { gzclose(static_cast<gzFile>(gz)); }

Writer::Writer(const std::filesystem::path& path, std::string missing, bool gzip)
    : name_(path.string()), missing_(std::move(missing)) {
  if (gzip) {
    gz_.reset(gzopen(name_.c_str(), "wb6"));
    if (!gz_) throw WriteError("cannot create " + name_);
  } else {
    file_ = std::make_unique<std::ofstream>(path, std::ios::binary | std::ios::trunc);
    out_ = file_.get();
    if (!*file_) throw WriteError("cannot create " + name_);
  }
  buf_.reserve(kFlush + 4096);
}

Writer::~Writer() = default;

void Writer::header(const std::vector<std::string>& names) {
  for (const auto& n : names) text(n);
  buf_ += '\n';
  fields_ = 0;
  columns_ = names.size();
}

std::string& Writer::next() {
  if (fields_++ > 0) buf_ += ',';
  return buf_;
}

Writer& Writer::text(std::string_view s) {
  append_field(next(), s);
  return *this;
}
Writer& Writer::number(double v) {
  append_number(next(), v, missing_);
  return *this;
}
Writer& Writer::number(float v) {
  append_number(next(), v, missing_);
  return *this;
}
Writer& Writer::number(std::int64_t v) {
  append_number(next(), v);
  return *this;
}
Writer& Writer::number(std::uint64_t v) {
  append_number(next(), v);
  return *this;
}
Writer& Writer::missing() {
  next() += missing_;
  return *this;
}
Writer& Writer::raw(std::string_view s) {
  next() += s;
  return *this;
}

void Writer::end_row() {
  buf_ += '\n';
  fields_ = 0;
  ++rows_;
  if (buf_.size() >= kFlush) flush();
}

void Writer::flush() {
  if (gz_) {
    if (!buf_.empty() &&
        gzwrite(static_cast<gzFile>(gz_.get()), buf_.data(), static_cast<unsigned>(buf_.size())) <= 0)
      throw WriteError("cannot write " + name_ + " (disk full?)");
    buf_.clear();
    return;
  }
  out_->write(buf_.data(), static_cast<std::streamsize>(buf_.size()));
  if (!*out_) throw WriteError("cannot write " + name_ + " (disk full?)");
  buf_.clear();
}

void Writer::close() {
  flush();
  if (gz_) {
    if (gzclose(static_cast<gzFile>(gz_.release())) != Z_OK) throw WriteError("cannot write " + name_ + " (disk full?)");
    return;
  }
  out_->flush();
  if (file_) file_->close();
  if (!*out_) throw WriteError("cannot write " + name_ + " (disk full?)");
}

}  // namespace chacra::csv
