// chacra compare: options, then the stored or recomputed comparison of study/comparison.hpp, printed.
#include "app/commands.hpp"

#include "sim/output/h5.hpp"
#include "sim/output/reader.hpp"
#include "study/comparison.hpp"
#include "study/run_summary.hpp"

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

namespace chacra::cli {

namespace {

struct CompareCommand {
  std::optional<std::string> file;
  std::vector<std::string> reference, format, by;
  bool recompute = false;

  void operator()() const {
    if (!file) throw UsageError("compare needs an output file: chacra compare OUT.h5 (see chacra compare --help)");
    const std::string fmt = one_of("--format", value_or(format, "table"), {"table", "csv", "json"});
    const bool by_period = one_of("--by", value_or(by, "none"), {"none", "period"}) == "period";
    const std::string& path = *file;
    const std::string ref = value_or(reference, "");
    try {
      h5::quiet_errors();
      if (!std::filesystem::exists(path)) throw study::ComparisonError("no such file");
      if (std::filesystem::is_directory(path)) throw study::ComparisonError("it is a directory");
      h5::Handle f = h5::open_file_readonly(path);
      study::ComparisonTable table;
      bool stored = !recompute && study::has_comparison(f);
      if (stored) {
        table = study::read_comparison(f);
        if (!ref.empty() && ref != table.reference) stored = false;
        if (by_period && !study::has_period_comparison(f)) stored = false;  // written before they were stored
      }
      if (!stored) table = study::compare_file(f, ref);
      if (by_period) {
        std::cout << study::format_comparison_by_period(table, fmt);
        return;
      }
      std::cout << study::format_comparison(table, fmt);
      if (fmt == "table") std::cout << study::format_reach(output::Reader(f).arms(), study::read_reach(f));
    } catch (const study::UnknownArmError& e) {
      rethrow_as(std::string("--reference: ") + e.what());
    } catch (const study::ComparisonError& e) {
      rethrow_as("cannot compare " + path + ": " + e.what());
    } catch (const h5::Error& e) {
      rethrow_as("cannot compare " + path + ": " + e.what() + " (a truncated or damaged file, or not a chacra output)");
    }
  }
};

}  // namespace

void add_compare(CommandLine& commands) {
  auto c = std::make_shared<CompareCommand>();
  CLI::App& app = commands.add("compare", "chacra compare OUT.h5 [--reference ARM] [--format table|csv|json] [--by period] [--recompute]",
                               "Effects of every arm against the reference arm on common random numbers, with 95% "
                               "intervals\nover replicates (definitions: docs/policy_arms.md).",
                               [c] { (*c)(); });
  commands.positional(app, "file", c->file);
  commands.value(app, "-r,--reference", c->reference,
                 "arm to compare against (default: the scenario's run.reference_arm, else the first arm)");
  commands.value(app, "--format", c->format,
                 "table (default: key outcomes), csv or json (every row: subgroups, quantiles, technologies)");
  commands.value(app, "--by", c->by,
                 "period: each outcome's effect in every output period, with its interval (default: none)");
  commands.flag(app, "--recompute", c->recompute, "compute from the panel even when the file holds a stored comparison");
}

}  // namespace chacra::cli
