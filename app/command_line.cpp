// chacra's command line on CLI11 (see app/command_line.hpp).
#include "app/command_line.hpp"

#include "sim/params.hpp"
#include "sim/runner.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <iostream>
#include <sstream>

namespace chacra::cli {

namespace {

// Every command's help: its usage line and description, then one line per option ("  -o, --output VALUE" padded
// to 30 columns, then the help).
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_help(const CLI::App* app, std::string, CLI::AppFormatMode) const override {
    std::string out = app->get_description() + "\n\n";
    std::vector<const CLI::Option*> options;
    for (const CLI::Option* opt : app->get_options())
      if (!opt->get_positional() && opt != app->get_help_ptr()) options.push_back(opt);
    if (app->get_help_ptr() != nullptr) options.push_back(app->get_help_ptr());  // listed last
    for (const CLI::Option* opt : options) {
      const std::string s = opt->get_snames().empty() ? "" : "-" + opt->get_snames().front();
      std::string left = "  " + (s.empty() ? "    " : s + ", ") + "--" + opt->get_lnames().front() +
                         (opt->get_expected_max() > 0 ? " VALUE" : "");
      if (left.size() < 30) left.resize(30, ' ');
      out += left + " " + opt->get_description() + "\n";
    }
    return out;
  }
};

bool looks_like_option(const std::string& a) {
  return a.size() > 1 && a[0] == '-' && !std::isdigit(static_cast<unsigned char>(a[1]));
}

// "--na=" (an empty value) as CLI11 reads it: the option, then an empty argument.
std::vector<std::string> arguments(int argc, char** argv) {
  std::vector<std::string> out;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.size() > 3 && a.rfind("--", 0) == 0 && a.find('=') == a.size() - 1) {
      out.push_back(a.substr(0, a.size() - 1));
      out.emplace_back();
    } else {
      out.push_back(a);
    }
  }
  return out;
}

}  // namespace

CommandLine::CommandLine(std::string top_help) : app_("chacra"), top_help_(std::move(top_help)) {
  app_.formatter(std::make_shared<HelpFormatter>());
  app_.set_help_flag();
  app_.allow_extras();
  app_.require_subcommand(0, 1);
  app_.add_flag("-h,--help", help_);
  app_.add_flag("--version", version_);
  app_.add_subcommand("help")->group("")->parse_complete_callback([this] { help_ = true; });
}

CLI::App& CommandLine::add(const std::string& name, const std::string& usage, const std::string& description,
                           std::function<void()> run) {
  return add(app_, name, usage, description, std::move(run));
}

CLI::App& CommandLine::add(CLI::App& parent, const std::string& name, const std::string& usage,
                           const std::string& description, std::function<void()> run) {
  CLI::App* c = parent.add_subcommand(name, "usage: " + usage + (description.empty() ? "" : "\n\n" + description));
  if (&parent != &app_) parent.require_subcommand(0, 1);
  c->set_help_flag("-h,--help", "this help");
  c->allow_extras();
  commands_.emplace_back(c, std::move(run));
  return *c;
}

void CommandLine::value(CLI::App& command, const std::string& names, std::vector<std::string>& into,
                        const std::string& help, bool repeatable) {
  CLI::Option* o = command.add_option(names, into, help)->allow_extra_args(false)->multi_option_policy(
      CLI::MultiOptionPolicy::TakeAll);
  if (repeatable) repeatable_.insert(o);
}

void CommandLine::flag(CLI::App& command, const std::string& names, bool& into, const std::string& help) {
  command.add_flag(names, into, help)->disable_flag_override();
}

void CommandLine::positional(CLI::App& command, const std::string& name, std::optional<std::string>& into) {
  command.add_option_function<std::string>(name, [&into](const std::string& v) { into = v; });
}

void CommandLine::positionals(CLI::App& command, const std::string& name, std::vector<std::string>& into) {
  command.add_option(name, into)->expected(0, -1);
}

namespace {

// "population summary" for a subcommand of a command, "run" for a command.
std::string full_name(const CLI::App& command) {
  std::string name = command.get_name();
  for (const CLI::App* p = command.get_parent(); p != nullptr && p->get_parent() != nullptr; p = p->get_parent())
    name = p->get_name() + " " + name;
  return name;
}

}  // namespace

// Unknown options (with the nearest valid one), extra arguments and options given twice.
void CommandLine::check(const CLI::App& command) const {
  const std::string name = full_name(command);
  auto extra = command.remaining();
  // "--" ends the options (POSIX); CLI11 leaves the marker itself among the remaining arguments.
  extra.erase(std::remove(extra.begin(), extra.end(), "--"), extra.end());
  for (const auto& a : extra) {
    if (!looks_like_option(a)) continue;
    const std::string option = a.substr(0, a.find('='));
    std::string best;
    std::size_t best_d = 4;
    for (const CLI::Option* o : command.get_options())
      for (const auto& l : o->get_lnames()) {
        const std::size_t d = edit_distance(option, "--" + l);
        if (d < best_d) best_d = d, best = "--" + l;
      }
    throw UsageError("unknown option '" + option + "' for 'chacra " + name + "'" +
                     (best.empty() ? "" : "; did you mean '" + best + "'?") + " (see chacra " + name + " --help)");
  }
  if (!extra.empty()) throw UsageError("unexpected argument '" + extra.front() + "' for 'chacra " + name + "'");
  for (const CLI::Option* o : command.get_options())
    if (o->count() > 1 && !o->get_positional() && !repeatable_.count(o))
      throw UsageError("--" + o->get_lnames().front() + " given more than once");
}

int CommandLine::run(int argc, char** argv) {
  std::vector<std::string> args = arguments(argc, argv);
  if (args.empty()) {
    std::cout << top_help_;
    return 2;
  }
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  try {
    app_.parse(args);
  } catch (const CLI::CallForHelp&) {
    std::cout << app_.help();
    return 0;
  } catch (const CLI::ArgumentMismatch& e) {
    // "--output: 1 required TEXT missing": an option took no value; "force was given a disallowed flag
    // override": a flag took one.
    const std::string what = e.what();
    const auto colon = what.find(':');
    if (what.find("missing") != std::string::npos && colon != std::string::npos)
      throw UsageError(what.substr(0, colon) + " needs a value");
    if (const auto given = what.find(" was given a disallowed flag override"); given != std::string::npos)
      throw UsageError("--" + what.substr(0, given) + " takes no value");
    throw UsageError(what);
  } catch (const CLI::ParseError& e) {
    throw UsageError(e.what());
  }
  if (!app_.remaining().empty()) {
    const std::string a = app_.remaining().front();
    throw UsageError((looks_like_option(a) ? "unknown option '" : "unknown command '") + a + "' (see chacra --help)");
  }
  if (help_) {
    std::cout << top_help_;
    return 0;
  }
  if (version_) {
    std::cout << "chacra " << chacra_version() << " (commit " << chacra_commit() << ")\n";
    return 0;
  }
  for (const auto& [command, run] : commands_) {
    if (!command->parsed()) continue;
    // A command given with one of its subcommands runs the subcommand.
    const bool deeper = std::any_of(commands_.begin(), commands_.end(), [&](const auto& other) {
      return other.first->get_parent() == command && other.first->parsed();
    });
    if (deeper) continue;
    for (const CLI::App* c = command; c != nullptr && c != &app_; c = c->get_parent()) check(*c);
    run();
    return 0;
  }
  std::cout << top_help_;
  return 2;
}

std::string value_or(const std::vector<std::string>& given, const std::string& fallback) {
  return given.empty() ? fallback : given.back();
}

long long whole_number(const std::string& option, const std::string& text, long long min, long long max) {
  long long v = 0;
  const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || text.empty() || v < min || v > max)
    throw UsageError(option + " expects a whole number in [" + std::to_string(min) + ", " + std::to_string(max) +
                     "], got '" + text + "'");
  return v;
}

std::optional<long long> whole_number(const std::string& option, const std::vector<std::string>& given, long long min,
                                      long long max) {
  if (given.empty()) return std::nullopt;
  return whole_number(option, given.back(), min, max);
}

std::vector<long long> whole_numbers(const std::string& option, const std::string& text, long long min, long long max) {
  std::vector<long long> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(whole_number(option, item, min, max));
  if (out.empty()) throw UsageError(option + " expects a comma-separated list of whole numbers");
  return out;
}

std::string one_of(const std::string& option, const std::string& value, const std::vector<std::string>& choices) {
  for (const auto& c : choices)
    if (c == value) return c;
  std::string list;
  for (std::size_t i = 0; i < choices.size(); ++i)
    list += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i];
  throw UsageError(option + " expects " + list + ", got '" + value + "'");
}

}  // namespace chacra::cli
