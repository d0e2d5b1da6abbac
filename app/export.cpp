// chacra export: options, then the CSV export of sim/output/export.hpp, and its summary.
#include "app/export.hpp"

#include "app/cli.hpp"
#include "app/options.hpp"
#include "sim/interrupt.hpp"
#include "sim/output/csv.hpp"
#include "sim/output/export.hpp"
#include "sim/output/reader.hpp"

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace chacra::cli {

namespace {

namespace fs = std::filesystem;

const std::vector<OptionSpec> kExportOptions = {
    {"--csv", "", true, false, "directory to write the CSV tables into (written as DIR.partial, then renamed)"},
    {"--no-panel", "", false, false, "leave out the household panel (panel.csv), by far the largest table"},
    {"--na", "", true, false, "text of a missing value (default NA, as R reads it; --na= writes empty fields, "
                              "which Stata reads as missing)"},
    {"--force", "-f", false, false, "replace DIR when it already holds files (only a previous chacra export)"},
    {"--quiet", "-q", false, false, "print nothing but errors"},
    {"--help", "-h", false, false, "this help"},
};

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
  output::ExportOptions o;
  o.input = a.positional[0];
  o.directory = a.get("--csv");
  o.panel = !a.has("--no-panel");
  o.missing = a.has("--na") ? a.values.at("--na").back() : "NA";
  o.force = a.has("--force");
  if (o.missing.find_first_of(",\"\r\n") != std::string::npos)
    throw UsageError("--na must not hold a comma, a quote or a line break");
  install_stop_handlers();
  output::ExportSummary s;
  try {
    s = output::export_csv(o);
  } catch (const Interrupted& e) {
    std::cerr << "\nchacra: export interrupted by signal " << e.signal() << "; nothing was written to "
              << o.directory << "\n";
    return 128 + (e.signal() ? e.signal() : 2);
  } catch (const output::FileError& e) {
    std::cerr << "chacra: cannot export " << o.input << ": " << e.what() << "\n";
    return kRuntimeError;
  } catch (const h5::Error& e) {
    const std::string what = e.what();
    std::cerr << "chacra: cannot export " << o.input << ": " << what
              << (what.find("truncated") == std::string::npos ? " (truncated or damaged file?)" : "") << "\n";
    return kRuntimeError;
  } catch (const csv::WriteError& e) {
    std::cerr << "chacra: export: " << e.what() << "; " << o.directory << " left as it was\n";
    return kRuntimeError;
  } catch (const fs::filesystem_error& e) {
    std::cerr << "chacra: export: " << e.what() << "; " << o.directory << " left as it was\n";
    return kRuntimeError;
  }
  if (!a.has("--quiet")) {
    std::printf("wrote %s:\n", s.directory.c_str());
    for (const auto& t : s.tables) std::printf("  %-16s %10zu rows x %3zu columns\n", t.file.c_str(), t.rows, t.columns);
    if (s.scenario_yaml) std::printf("  scenario.yaml\n");
    for (const auto& n : s.notes) std::printf("  note: %s\n", n.c_str());
  }
  return kOk;
}

}  // namespace chacra::cli
