// `chacra compare`: prints the policy comparison of an output file as a table, CSV or JSON.
#include "app/compare.hpp"

#include "app/cli.hpp"
#include "app/options.hpp"
#include "study/comparison.hpp"
#include "sim/output/h5.hpp"

#include <filesystem>
#include <iostream>

namespace chacra::cli {

namespace {

const std::vector<OptionSpec> kCompareOptions = {
    {"--reference", "-r", true, false, "arm to compare against (default: the scenario's run.reference_arm, else the first arm)"},
    {"--format", "", true, false, "table (default: key outcomes), csv or json (every row: subgroups, quantiles, technologies)"},
    {"--recompute", "", false, false, "compute from the panel even when the file holds a stored comparison"},
    {"--help", "-h", false, false, "this help"},
};

}  // namespace

int cmd_compare(const std::vector<std::string>& args) {
  const ParsedArgs a = parse_args("compare", args, kCompareOptions, 1);
  if (a.has("--help")) {
    std::cout << "usage: chacra compare OUT.h5 [--reference ARM] [--format table|csv|json] [--recompute]\n\n"
                 "Effects of every arm against the reference arm on common random numbers, with 95% intervals\n"
                 "over replicates (definitions: docs/policy_arms.md).\n\n"
              << format_options(kCompareOptions);
    return kOk;
  }
  if (a.positional.empty()) throw UsageError("compare needs an output file: chacra compare OUT.h5 (see chacra compare --help)");
  const std::string format = a.get("--format", "table");
  if (format != "table" && format != "csv" && format != "json")
    throw UsageError("--format expects table, csv or json, got '" + format + "'");
  const std::string path = a.positional[0];
  const std::string reference = a.get("--reference", "");
  try {
    h5::quiet_errors();
    if (!std::filesystem::exists(path)) throw study::ComparisonError("no such file");
    if (std::filesystem::is_directory(path)) throw study::ComparisonError("it is a directory");
    h5::Handle file = h5::open_file_readonly(path);
    study::ComparisonTable table;
    bool stored = !a.has("--recompute") && study::has_comparison(file);
    if (stored) {
      table = study::read_comparison(file);
      if (!reference.empty() && reference != table.reference) stored = false;
    }
    if (!stored) table = study::compare_file(file, reference);
    std::cout << study::format_comparison(table, format);
    return kOk;
  } catch (const study::UnknownArmError& e) {
    std::cerr << "chacra: --reference: " << e.what() << "\n";
    return kBadInput;
  } catch (const study::ComparisonError& e) {
    std::cerr << "chacra: cannot compare " << path << ": " << e.what() << "\n";
    return kRuntimeError;
  } catch (const h5::Error& e) {
    std::cerr << "chacra: cannot compare " << path << ": " << e.what()
              << " (a truncated or damaged file, or not a chacra output)\n";
    return kRuntimeError;
  }
}

}  // namespace chacra::cli
