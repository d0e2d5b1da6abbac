// chacra export: options, then the CSV or Stata export of sim/output/export.hpp, and its summary.
#include "app/commands.hpp"
#include "app/progress.hpp"

#include "sim/interrupt.hpp"
#include "sim/output/csv.hpp"
#include "sim/output/export.hpp"
#include "sim/output/reader.hpp"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

namespace chacra::cli {

namespace {

struct ExportCommand {
  std::optional<std::string> file;
  std::vector<std::string> csv, stata, na;
  bool no_panel = false, force = false, quiet = false, gzip = false, progress_lines = false;

  void operator()() const {
    if (!file) throw UsageError("export needs an output file: chacra export OUT.h5 --csv DIR (see chacra export --help)");
    const std::string csv_dir = value_or(csv, ""), stata_dir = value_or(stata, "");
    if (!csv_dir.empty() && !stata_dir.empty())
      throw UsageError("export takes --csv DIR or --stata DIR, not both: run it once for each");
    if (csv_dir.empty() && stata_dir.empty())
      throw UsageError("export needs --csv DIR or --stata DIR, the directory to write the tables into (see chacra "
                       "export --help)");
    if (!stata_dir.empty() && gzip)
      throw UsageError("--gzip compresses CSV tables; Stata reads .dta files as they are (drop --gzip)");
    if (!stata_dir.empty() && !na.empty())
      throw UsageError("--na applies to CSV tables; a .dta file holds Stata's missing value (.) itself");
    output::ExportOptions o;
    o.input = *file;
    o.directory = csv_dir.empty() ? stata_dir : csv_dir;
    o.stata = !stata_dir.empty();
    o.gzip = gzip;
    o.panel = !no_panel;
    o.missing = value_or(na, "NA");
    o.force = force;
    if (o.missing.find_first_of(",\"\r\n") != std::string::npos)
      throw UsageError("--na must not hold a comma, a quote or a line break");
    // The panel is by far the longest part: millions of rows for a large run.
    Progress progress("panel rows", quiet, progress_lines);
    o.progress = [&](std::uint64_t done, std::uint64_t total) { progress(done, total); };
    install_stop_handlers();
    output::ExportSummary s;
    try {
      s = output::export_csv(o);
    } catch (const Interrupted& e) {
      rethrow_as("export " + std::string(e.what()) + "; nothing was written to " + o.directory);
    } catch (const output::FileError& e) {
      rethrow_as("cannot export " + o.input + ": " + e.what());
    } catch (const h5::Error& e) {
      const std::string what = e.what();
      rethrow_as("cannot export " + o.input + ": " + what +
                 (what.find("truncated") == std::string::npos ? " (truncated or damaged file?)" : ""));
    } catch (const csv::WriteError& e) {
      rethrow_as("export: " + std::string(e.what()) + "; " + o.directory + " left as it was");
    } catch (const std::filesystem::filesystem_error& e) {
      rethrow_as("export: " + std::string(e.what()) + "; " + o.directory + " left as it was");
    }
    if (quiet) return;
    std::printf("wrote %s:\n", s.directory.c_str());
    for (const auto& t : s.tables) std::printf("  %-16s %10zu rows x %3zu columns\n", t.file.c_str(), t.rows, t.columns);
    if (s.scenario_yaml) std::printf("  scenario.yaml\n");
    for (const auto& n : s.notes) std::printf("  note: %s\n", n.c_str());
  }
};

}  // namespace

void add_export(CommandLine& commands) {
  auto c = std::make_shared<ExportCommand>();
  CLI::App& app = commands.add(
      "export",
      "chacra export OUT.h5 (--csv DIR [--gzip] | --stata DIR) [--no-panel] [--na TEXT] [--force] [--progress] "
      "[--quiet]",
      "Writes the output file as tables for R (read.csv) and Stata: panel (long: arm, replicate,\n"
      "household, period, one column per variable), aggregates, comparison (when the file has one),\n"
      "households, centres and districts, as CSV (--csv; missing values NA or --na TEXT) or as Stata\n"
      ".dta files (--stata; variable labels, value labels for coded variables), with provenance.csv,\n"
      "scenario.yaml and codebook.csv (variable, unit, description). See docs/analysis.md.",
      [c] { (*c)(); });
  commands.positional(app, "file", c->file);
  commands.value(app, "--csv", c->csv, "directory to write the CSV tables into (written as DIR.partial, then renamed)");
  commands.value(app, "--stata", c->stata,
                 "directory to write Stata .dta tables (format 118, Stata 14 or later) into, instead of CSV");
  commands.flag(app, "--gzip", c->gzip,
                "compress the CSV tables (panel.csv.gz...; R's read.csv and pandas read them as they are)");
  commands.flag(app, "--no-panel", c->no_panel, "leave out the household panel, by far the largest table");
  commands.value(app, "--na", c->na,
                 "text of a missing value (default NA, as R reads it; --na= writes empty fields, which Stata reads "
                 "as missing)");
  commands.flag(app, "-f,--force", c->force, "replace DIR when it already holds files (only a previous chacra export)");
  commands.flag(app, "--progress", c->progress_lines,
                "off a terminal too, a progress line of the panel (rows, elapsed, ETA) on stderr every 5 s (on a "
                "terminal: one line redrawn in place)");
  commands.flag(app, "-q,--quiet", c->quiet, "print nothing but errors (no progress either)");
}

}  // namespace chacra::cli
