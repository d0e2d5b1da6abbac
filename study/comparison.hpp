// File: study/comparison.hpp
// Policy comparison (the outcomes users compare across policy arms): every arm of an output file
// against a reference arm, on common random numbers, with 95% intervals over replicates. Reads the
// household panel of a chacra HDF5 file one period at a time, writes the result as the /comparison group
// of the file, and formats it as a terminal table, CSV or JSON. The engine stays generic: this file knows
// the model's variable names (income_monetary_pen, poor, tech_state, cost_juntos_pen...).
// Definitions of every outcome and statistic: docs/policy_arms.md; the file schema: docs/output.md,
// section "Comparison".
#pragma once

#include "sim/errors.hpp"
#include "sim/output/reader.hpp"
#include "sim/output/records.hpp"
#include "sim/params.hpp"

#include <hdf5.h>

#include <array>
#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace chacra::study {

// The file cannot be compared: not a chacra output, truncated, incomplete, or written without the
// household panel (output.panel: false). The message says which and what to do.
using ComparisonError = output::FileError;

// The reference arm asked for is not in the file (bad input); arms() lists those that are.
class UnknownArmError : public BadInput {
 public:
  UnknownArmError(const std::string& arm, std::vector<std::string> arms);
  const std::vector<std::string>& arms() const { return arms_; }

 private:
  std::vector<std::string> arms_;
};

// One line of the comparison: the effect of `arm` against `reference` on `outcome` in `subgroup`.
struct ComparisonRow {
  std::string arm, reference, outcome, subgroup, statistic, unit;
  std::string period;  // statistic "period": the output period's label ("2019"); empty for every other row
  // How the interval was formed: "percentile" (>= 20 replicates: 2.5% and 97.5% of the replicate
  // effects), "t" (2-19 replicates: mean -/+ t(n-1) sd/sqrt(n)), "single" (1 replicate: zero width),
  // "none" (no replicate defines the effect).
  std::string interval;
  double mean_effect = 0.0, ci_low = 0.0, ci_high = 0.0;  // NaN when no replicate defines the effect
  int n_replicates = 0;                                   // replicates that define the effect
  double arm_value = 0.0, reference_value = 0.0;  // the two levels behind the effect (replicate means), or NaN
  // Runs with --posterior (ComparisonTable::posterior set): the spread of the replicate effects split by the pairs of
  // replicates that share a parameter draw (study/posterior.hpp, split_variance): between pairs the parameters',
  // within pairs sampling (population, chance). NaN without a posterior or with fewer than two complete pairs.
  double sd_parameter = std::numeric_limits<double>::quiet_NaN();
  double sd_sampling = std::numeric_limits<double>::quiet_NaN();
};

// The parameters' share of the effect's variance, sd_parameter^2 / (sd_parameter^2 + sd_sampling^2): NaN without a
// split, 0 when the pairs differ no more than sampling explains.
double parameter_share(const ComparisonRow& r);

// The four arms of the interaction term, in the order of its formula: both - juntos_only - hw_only +
// no_programme (the extra effect of running both programmes over the sum of each alone).
inline const std::vector<std::string> kInteractionArms = {"both", "juntos_only", "hw_only", "no_programme"};

// One line of the interaction table: per replicate, the outcome's level in both - juntos_only - hw_only +
// no_programme (common random numbers make the arms' noise cancel), then the mean over replicates and its 95% t
// interval (mean -/+ t(n-1) sd/sqrt(n), whatever the number of replicates; "single" with one replicate).
struct InteractionRow {
  std::string outcome, statistic, unit, interval;
  double mean = 0.0, ci_low = 0.0, ci_high = 0.0;  // NaN when no replicate defines it
  int n_replicates = 0;
  std::vector<double> levels;  // the four arms' levels (kInteractionArms order), means over replicates, or NaN
  // The per-replicate interaction (NaN where undefined); in memory only (not stored, not compared by ==): the
  // attribution by channel pairs these draws replicate by replicate.
  std::vector<double> draws;
};

struct InteractionTable {
  // The household-economy channels on in the run (economy.<channel>.enabled of the stored scenario: "liquidity",
  // "graduation"...), and the arms among the four that switch a channel themselves ("hw_only: economy.risk.enabled=
  // true"); both empty when every channel is off everywhere.
  std::vector<std::string> channels, arm_channel_sets;
  std::vector<InteractionRow> rows;  // empty: the file lacks one of the four arms
  // "liquidity, graduation", or "none (every economy.* channel off)", plus the arms' own sets.
  std::string channels_text() const;
};

struct ComparisonTable {
  std::string reference;                 // the reference arm
  std::vector<std::string> arms;         // every arm of the file, in scenario order
  int replicates = 0;
  std::string final_period;              // label of the last output period ("2024")
  std::string final_year;                // the periods making the final output year ("2024", "2024Q1-2024Q4")
  std::string horizon;                   // first and last period ("2017-2024")
  // The posterior ensemble the run drew its parameters from (provenance posterior_file of chacra run --posterior),
  // or "" when it had none: its intervals then hold sampling uncertainty only, the parameters fixed.
  std::string posterior;
  double discount_rate = 0.05;           // comparison.discount_rate used (per year)
  std::vector<std::string> notes;        // outcomes skipped and why (missing panel variables...)
  std::vector<ComparisonRow> rows;
  // Effects per output period (statistic "period", subgroup "all") of every outcome measured over the horizon:
  // levels in the horizon mean's unit (flows annualised), so a household mean's horizon_mean effect is the mean
  // of its period effects; stored apart (/comparison_by_period) and printed by chacra compare --by period.
  std::vector<ComparisonRow> period_rows;
  InteractionTable interaction;          // rows only when the file has the four arms of kInteractionArms
};

// NaN-aware, exact equality (the file round trip must reproduce every bit).
bool operator==(const ComparisonRow& a, const ComparisonRow& b);
bool operator==(const ComparisonTable& a, const ComparisonTable& b);
bool operator==(const InteractionRow& a, const InteractionRow& b);
bool operator==(const InteractionTable& a, const InteractionTable& b);

// Mean of replicate draws and its 95% t interval (mean -/+ t(n-1) sd/sqrt(n)); `interval` is "t", "single" (one
// draw: zero width) or "none" (no draw: NaN).
struct ReplicateInterval {
  double mean = 0.0, low = 0.0, high = 0.0;
  std::string interval;
};
ReplicateInterval t_interval_of(const std::vector<double>& draws);

// The interaction rows from per-replicate levels: levels[r][k] holds the four arms' levels (kInteractionArms
// order) of row k in replicate r; a replicate counts for row k when all four are finite. `rows` gives each row's
// identity (outcome, statistic, unit) and receives mean, interval, n_replicates and the arms' mean levels.
void summarise_interaction(const std::vector<std::vector<std::array<double, 4>>>& levels,
                           std::vector<InteractionRow>& rows);

struct Comparison {
  // comparison.discount_rate.
  static void register_params(Registry& registry);
};

// Computes the comparison from an open chacra output file (finished, or the still-open OUT.partial in
// RunOptions::finalize). reference_arm "" takes the scenario's run.reference_arm, or the first arm when
// that is empty. Throws ComparisonError (no panel, truncated or foreign file, missing replicate) and
// UnknownArmError. Deterministic: the same file gives the same table, bit for bit.
// `progress`, when set, is told the arm panels read so far of those to read (replicates x arms).
using ComparisonProgress = std::function<void(std::uint64_t done, std::uint64_t total)>;
ComparisonTable compare_file(hid_t file, const std::string& reference_arm = "",
                             const ComparisonProgress& progress = {});

// Writes the table as the group /comparison (replacing one that exists), and its interaction rows, when it has
// them, as /comparison/interaction; schema in docs/output.md.
void write_comparison(hid_t file, const ComparisonTable& table);
// The table as the parallel columns it is stored as, and back (ComparisonError when a column is missing); the
// sweep stores every point's table this way, with a column of its own.
output::Records comparison_records(const ComparisonTable& table);
ComparisonTable comparison_from_records(const output::Records& records);
// Reads /comparison back; throws ComparisonError if the file has none.
ComparisonTable read_comparison(hid_t file);
bool has_comparison(hid_t file);
// Whether the file holds the effects per period (/comparison_by_period; files of older runs do not).
bool has_period_comparison(hid_t file);
// True if the file holds the household panel of its first arm's first replicate.
bool has_panel(hid_t file);

// format "table" (for a terminal, within 100 columns: the key outcomes, or with `full` every outcome of the
// summary list), "csv" or "json" (every row). Throws std::invalid_argument for another format.
std::string format_comparison(const ComparisonTable& table, const std::string& format, bool full = false);

// `v` in fixed notation with `decimals` decimals and thousands separators ("24,650", "-0.016"); a "+" on
// positive values with `plus`; "n/a" when not finite.
std::string format_fixed(double v, int decimals, bool plus = false);
// Decimals that show values up to `magnitude` with about three significant digits (none from 100 up, none
// for zero).
int decimals_for(double magnitude);
// The effects per period (period_rows): "table" (key outcomes, one line per arm and period), "csv" or "json"
// (every row, with a period column).
std::string format_comparison_by_period(const ComparisonTable& table, const std::string& format);

// For `chacra run`: the comparison computed in RunOptions::finalize, kept for printing after the run.
struct RunComparison {
  bool available = false;
  std::string note;  // why there is no comparison (no panel), empty otherwise
  ComparisonTable table;
};
// Computes the comparison on the open file and writes /comparison; without a panel it writes nothing
// and records the reason in out.note instead of failing the run.
// When the comparison would not fit in the memory left (comparison_memory_bytes against 90% of the memory
// limit less what the process holds), it is skipped with a note saying so and how to compute it later.
void finalize_run_comparison(hid_t file, RunComparison& out);
// Upper bound of the bytes the comparison holds for a panel of `households` x `periods` with `tech_width`
// technology columns (two arms' household outcomes at once).
std::uint64_t comparison_memory_bytes(std::uint64_t households, std::uint64_t periods, std::uint64_t tech_width);
// The table form (every summary outcome with `full`), or the note, for printing at the end of a run.
std::string format_run_comparison(const RunComparison& c, bool full = false);

}  // namespace chacra::study
