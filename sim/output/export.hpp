// The output file as plain CSV tables with a codebook, for Stata and R (`chacra export`; layout of the
// directory and of every table: docs/analysis.md). Everything the tables and the codebook say about a variable
// (name, unit, description, aggregation, labels) comes from the file itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace chacra::output {

using ExportProgress = std::function<void(std::uint64_t done, std::uint64_t total)>;

struct ExportOptions {
  std::string input;      // the HDF5 output file
  std::string directory;  // where the tables go (written as DIR.partial, then renamed)
  bool panel = true;      // panel.csv, by far the largest table
  std::string missing = "NA";  // text of a missing value
  bool force = false;     // replace a directory holding a previous export
  bool stata = false;     // the tables as Stata .dta files (variable and value labels) instead of CSV
  bool gzip = false;      // the CSV tables compressed (panel.csv.gz...)
  // Told the panel rows written so far of those to write (the other tables are small).
  ExportProgress progress;
};

struct ExportedTable {
  std::string file;
  std::size_t rows = 0, columns = 0;
};

struct ExportSummary {
  std::string directory;
  std::vector<ExportedTable> tables;
  bool scenario_yaml = false;      // scenario.yaml was written
  std::vector<std::string> notes;  // what was left out and why
};

// Writes panel.csv, aggregates.csv, comparison.csv (if the file has one), households.csv, centres.csv,
// districts.csv (each as .dta instead with options.stata), provenance.csv, scenario.yaml and codebook.csv into
// options.directory. The tables are written
// to DIR.partial and renamed into place at the end, so DIR is either complete or untouched. Throws FileError
// or h5::Error (the input cannot be exported), OutputExists (DIR is not empty and not --force, or not a previous
// export), csv::WriteError or std::filesystem::filesystem_error (writing failed), Interrupted (a stop signal);
// std::invalid_argument for a `missing` text holding a comma, a quote or a line break (check it first).
ExportSummary export_csv(const ExportOptions& options);

}  // namespace chacra::output
