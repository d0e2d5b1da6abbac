// A small strict option parser: known flags only, typed values, and usage errors that say what to do.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace chacra::cli {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct OptionSpec {
  std::string long_name;  // "--threads"
  std::string short_name;  // "-o" or ""
  bool takes_value = false;
  bool repeatable = false;
  std::string help;
};

struct ParsedArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> values;  // by long name
  bool has(const std::string& name) const { return values.count(name) != 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  long long get_int(const std::string& name, long long fallback, long long min, long long max) const;
};

ParsedArgs parse_args(const std::string& command, const std::vector<std::string>& args,
                      const std::vector<OptionSpec>& specs, std::size_t max_positional);
std::string format_options(const std::vector<OptionSpec>& specs);

}  // namespace chacra::cli
