// Strict option parsing for the chacra subcommands.
#include "app/options.hpp"

#include "sim/params.hpp"

#include <charconv>

namespace chacra::cli {

std::string ParsedArgs::get(const std::string& name, const std::string& fallback) const {
  auto it = values.find(name);
  return it == values.end() || it->second.empty() ? fallback : it->second.back();
}

long long ParsedArgs::get_int(const std::string& name, long long fallback, long long min, long long max) const {
  auto it = values.find(name);
  if (it == values.end()) return fallback;
  const std::string& text = it->second.back();
  long long v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v < min || v > max)
    throw UsageError(name + " expects a whole number in [" + std::to_string(min) + ", " + std::to_string(max) +
                     "], got '" + text + "'");
  return v;
}

ParsedArgs parse_args(const std::string& command, const std::vector<std::string>& args,
                      const std::vector<OptionSpec>& specs, std::size_t max_positional) {
  ParsedArgs out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a.size() > 1 && a[0] == '-' && !(a.size() > 1 && std::isdigit(static_cast<unsigned char>(a[1])))) {
      std::string value;
      bool inline_value = false;
      if (auto eq = a.find('='); a.rfind("--", 0) == 0 && eq != std::string::npos) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
        inline_value = true;
      }
      const OptionSpec* spec = nullptr;
      for (const auto& s : specs)
        if (s.long_name == a || (!s.short_name.empty() && s.short_name == a)) spec = &s;
      if (!spec) {
        std::string best;
        std::size_t best_d = 4;
        for (const auto& s : specs) {
          const std::size_t d = edit_distance(a, s.long_name);
          if (d < best_d) best_d = d, best = s.long_name;
        }
        throw UsageError("unknown option '" + a + "' for 'chacra " + command + "'" +
                         (best.empty() ? "" : "; did you mean '" + best + "'?") + " (see chacra " + command + " --help)");
      }
      if (spec->takes_value) {
        if (!inline_value) {
          if (i + 1 >= args.size()) throw UsageError(spec->long_name + " needs a value");
          value = args[++i];
        }
      } else if (inline_value) {
        throw UsageError(spec->long_name + " takes no value");
      }
      auto& slot = out.values[spec->long_name];
      if (!slot.empty() && !spec->repeatable) throw UsageError(spec->long_name + " given more than once");
      slot.push_back(value);
    } else {
      out.positional.push_back(a);
    }
  }
  if (out.positional.size() > max_positional)
    throw UsageError("unexpected argument '" + out.positional[max_positional] + "' for 'chacra " + command + "'");
  return out;
}

std::string format_options(const std::vector<OptionSpec>& specs) {
  std::string out;
  for (const auto& s : specs) {
    std::string left = "  " + (s.short_name.empty() ? "    " : s.short_name + ", ") + s.long_name +
                       (s.takes_value ? " VALUE" : "");
    if (left.size() < 30) left.resize(30, ' ');
    out += left + " " + s.help + "\n";
  }
  return out;
}

}  // namespace chacra::cli
