// The one CSV writer of chacra (the export's tables, `chacra compare --format csv`, `chacra evaluate --format
// csv`): RFC 4180 fields that Stata's `import delimited` and R's `read.csv` read as they are, numbers as the
// shortest text that reads back to the same value at their own precision, '.' as the decimal mark whatever
// the locale.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace chacra::csv {

// A table could not be written (disk full, permissions).
class WriteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Appends a field, quoted (quotes doubled) when it holds a delimiter, a quote, a line break or edge spaces.
void append_field(std::string& out, std::string_view s);
std::string field(std::string_view s);
// Appends a number: integers exactly, reals as the shortest decimal that reads back as the same value of
// their own type (a float stays a float); NaN and infinities as `missing`.
void append_number(std::string& out, double v, std::string_view missing);
void append_number(std::string& out, float v, std::string_view missing);
void append_number(std::string& out, std::int64_t v);
void append_number(std::string& out, std::uint64_t v);

// Rows of comma-separated fields into a stream or a file, buffered.
class Writer {
 public:
  // `missing` is the text of a missing value (NaN); `name` names the destination in errors.
  Writer(std::ostream& out, std::string name, std::string missing = "");
  // Creates (truncates) `path`, compressed with gzip when `gzip` (a .csv.gz, which R's read.csv and pandas read
  // as it is); throws WriteError when it cannot.
  explicit Writer(const std::filesystem::path& path, std::string missing = "", bool gzip = false);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void header(const std::vector<std::string>& names);
  // Fields of the current row, in order.
  Writer& text(std::string_view s);
  Writer& number(double v);
  Writer& number(float v);
  Writer& number(std::int64_t v);
  Writer& number(std::uint64_t v);
  Writer& number(int v) { return number(static_cast<std::int64_t>(v)); }
  Writer& missing();
  // A field already in CSV form (pre-quoted text reused across rows, e.g. an arm name).
  Writer& raw(std::string_view s);
  void end_row();
  // Flushes and checks the stream (and closes a file); throws WriteError on failure.
  void close();

  const std::string& missing_text() const { return missing_; }
  std::size_t rows() const { return rows_; }
  std::size_t columns() const { return columns_; }

 private:
  std::string& next();
  void flush();
  static constexpr std::size_t kFlush = 1 << 20;
  struct GzClose {
    void operator()(void* gz) const;
  };
  std::unique_ptr<std::ofstream> file_;
  std::unique_ptr<void, GzClose> gz_;  // a gzFile
  std::ostream* out_ = nullptr;
  std::string name_, missing_, buf_;
  std::size_t rows_ = 0, columns_ = 0, fields_ = 0;
};

}  // namespace chacra::csv
