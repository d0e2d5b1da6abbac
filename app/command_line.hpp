// chacra's command line on CLI11: one subcommand per command with its options declared once (name, help),
// one dispatch, the help layout of every command, and usage errors worded as docs/ and README describe them
// (exit status 2, the option named, the nearest valid option suggested).
#pragma once

#include "sim/errors.hpp"

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace chacra::cli {

class CommandLine {
 public:
  // `top_help` is printed for `chacra --help` (exit 0) and for `chacra` alone (exit 2).
  explicit CommandLine(std::string top_help);

  // Adds the subcommand `name`; its help shows `usage` ("chacra run [SCENARIO.yaml] [OPTIONS]"), then
  // `description` (may be empty), then the options. `run` does the command once its options are parsed.
  CLI::App& add(const std::string& name, const std::string& usage, const std::string& description,
                std::function<void()> run);
  // Adds the subcommand `name` of `parent` (a command added with add: `chacra population summary`); `run`
  // does it. The parent's own `run` is done only when none of its subcommands is given.
  CLI::App& add(CLI::App& parent, const std::string& name, const std::string& usage, const std::string& description,
                std::function<void()> run);
  // An option taking a value ("-o,--output"): every value given lands in `into`; a second one is a usage error
  // unless `repeatable`.
  void value(CLI::App& command, const std::string& names, std::vector<std::string>& into, const std::string& help,
             bool repeatable = false);
  void flag(CLI::App& command, const std::string& names, bool& into, const std::string& help);
  // The command's positional argument (at most one).
  void positional(CLI::App& command, const std::string& name, std::optional<std::string>& into);
  // Any number of positional arguments, in the order given.
  void positionals(CLI::App& command, const std::string& name, std::vector<std::string>& into);

  // Parses the command line and runs the command it names; returns the exit status for help, version and a
  // finished command (0) or a bare `chacra` (2). Usage errors throw UsageError; the command's own errors
  // propagate.
  int run(int argc, char** argv);

 private:
  void check(const CLI::App& command) const;
  CLI::App app_;
  std::string top_help_;
  bool help_ = false, version_ = false;
  std::vector<std::pair<CLI::App*, std::function<void()>>> commands_;
  std::set<const CLI::Option*> repeatable_;
};

// ---- Values of parsed options, with the messages of docs/ ----

// The value given, or `fallback` when the option was not given.
std::string value_or(const std::vector<std::string>& given, const std::string& fallback);
// A whole number in [min, max]: "--threads expects a whole number in [1, 4096], got '0'".
long long whole_number(const std::string& option, const std::string& text, long long min, long long max);
std::optional<long long> whole_number(const std::string& option, const std::vector<std::string>& given, long long min,
                                      long long max);
// A comma-separated list of whole numbers in [min, max] ("1,2,8").
std::vector<long long> whole_numbers(const std::string& option, const std::string& text, long long min, long long max);
// One of `choices`: "--format expects table, csv or json, got 'xml'".
std::string one_of(const std::string& option, const std::string& value, const std::vector<std::string>& choices);

}  // namespace chacra::cli
