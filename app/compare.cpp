// chacra compare: options, then the stored or recomputed comparison of study/comparison.hpp, printed.
#include "app/commands.hpp"
#include "app/progress.hpp"

#include "sim/output/h5.hpp"
#include "sim/output/reader.hpp"
#include "study/attribution.hpp"
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
  std::vector<std::string> reference, format, by, summary, threads;
  bool recompute = false, by_channel = false, quiet = false, progress_lines = false;

  void operator()() const {
    if (!file) throw UsageError("compare needs an output file: chacra compare OUT.h5 (see chacra compare --help)");
    const std::string fmt = one_of("--format", value_or(format, "table"), {"table", "csv", "json"});
    const bool by_period = one_of("--by", value_or(by, "none"), {"none", "period"}) == "period";
    const bool full = one_of("--summary", value_or(summary, "brief"), {"brief", "full"}) == "full";
    if (!summary.empty() && fmt != "table") throw UsageError("--summary applies to the table format; csv and json hold every row");
    if (by_period && !summary.empty()) throw UsageError("--summary applies to the table of effects, not to --by period");
    if (by_period && by_channel) throw UsageError("--by period and --by-channel are separate views; ask for one");
    const std::string& path = *file;
    const std::string ref = value_or(reference, "");
    try {
      h5::quiet_errors();
      if (!std::filesystem::exists(path)) throw study::ComparisonError("no such file");
      if (std::filesystem::is_directory(path)) throw study::ComparisonError("it is a directory");
      h5::Handle f = h5::open_file_readonly(path);
      if (by_channel) {
        if (!ref.empty()) throw UsageError("--by-channel compares against no_programme; leave out --reference");
        const int n_threads = static_cast<int>(whole_number("--threads", threads, 1, 4096).value_or(0));
        const study::AttributionTable t =
            study::attribute_interaction(f, full_registry(), model_builder(), n_threads, quiet ? nullptr : &std::cerr);
        std::cout << study::format_attribution(t, fmt);
        return;
      }
      if (!threads.empty()) throw UsageError("--threads only applies with --by-channel (which reruns the arms)");
      study::ComparisonTable table;
      bool stored = !recompute && study::has_comparison(f);
      if (stored) {
        table = study::read_comparison(f);
        if (!ref.empty() && ref != table.reference) stored = false;
        if (by_period && !study::has_period_comparison(f)) stored = false;  // written before they were stored
      }
      if (!stored) {
        // Recomputing reads every arm's panel: a minute or more for a large file.
        Progress progress("arm panels read", quiet, progress_lines);
        table = study::compare_file(f, ref, [&](std::uint64_t done, std::uint64_t total) { progress(done, total); });
      }
      if (by_period) {
        std::cout << study::format_comparison_by_period(table, fmt);
        return;
      }
      std::cout << study::format_comparison(table, fmt, full);
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
  CLI::App& app = commands.add("compare",
                               "chacra compare OUT.h5 [--reference ARM] [--format table|csv|json] [--by period] "
                               "[--summary brief|full] [--recompute] [--by-channel] [--progress]",
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
  commands.value(app, "--summary", c->summary,
                 "the table's outcomes: brief (default: income, consumption, poverty, technologies, cost) or full");
  commands.flag(app, "--recompute", c->recompute, "compute from the panel even when the file holds a stored comparison");
  commands.flag(app, "--by-channel", c->by_channel,
                "attribute the interaction of the programmes to the household-economy channels: rerun both, "
                "juntos_only, hw_only and no_programme from the file's scenario with each channel that was on "
                "switched off in turn (same seeds), and show how much of the interaction goes with it");
  commands.value(app, "-t,--threads", c->threads, "worker threads of the --by-channel reruns (default: all cores)");
  commands.flag(app, "--progress", c->progress_lines,
                "when it computes from the panel: off a terminal too, a progress line (count, elapsed, ETA) on stderr "
                "every 5 s (on a terminal: one line redrawn in place)");
  commands.flag(app, "-q,--quiet", c->quiet, "no progress on stderr (of the recomputation or the --by-channel reruns)");
}

}  // namespace chacra::cli
