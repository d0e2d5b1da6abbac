// The layout of chacra's HDF5 output (docs/output.md): the one place where its group, dataset and attribute
// names are spelled. The writer, the reader and the comparison group's reader and writer build every path
// here; nothing outside sim/output/ names a path of the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chacra::output::layout {

// Top-level objects.
inline constexpr const char* kProvenance = "provenance";      // group: run attributes, dataset scenario_yaml
inline constexpr const char* kScenarioYaml = "scenario_yaml";  // string[1] in /provenance: the resolved scenario
inline constexpr const char* kArmNames = "arm_names";         // string[A]: arms in scenario order
inline constexpr const char* kPeriods = "periods";            // string[P]: period labels
inline constexpr const char* kArms = "arms";                  // group of one group per arm
inline constexpr const char* kPopulation = "population";      // group of one group per replicate
inline constexpr const char* kComparison = "comparison";      // group: the policy comparison's parallel columns
inline constexpr const char* kComparisonByPeriod = "comparison_by_period";  // group: its effects per period
inline constexpr const char* kSweep = "sweep";                // group: a sweep's design and results (chacra sweep)

// Attributes of datasets and groups.
inline constexpr const char* kUnit = "unit";
inline constexpr const char* kDescription = "description";
inline constexpr const char* kLabels = "labels";            // sub-column names of a multi-valued variable
inline constexpr const char* kAggregation = "aggregation";  // panel and aggregates: flow or state
inline constexpr const char* kScale = "scale";              // panel and centre tables: "category" for codes
// A coded variable's values and their meanings (CF conventions): flag_values, an integer array, and
// flag_meanings, one word per value separated by blanks ("not_eligible eligible enrolled").
inline constexpr const char* kFlagValues = "flag_values";
inline constexpr const char* kFlagMeanings = "flag_meanings";
inline constexpr const char* kRows = "rows";                // population tables: their row count
inline constexpr const char* kComplete = "complete";        // an arm x replicate group that finished
inline constexpr const char* kChecksum = "checksum";        // a unit's or population's CRC-32 (checksum.hpp)

// The longest text stored as an attribute (the scenario's name, an arm's description, the command line):
// HDF5 keeps an attribute in one object-header message of at most 64 KiB, so longer texts are refused when
// the scenario is validated rather than failing when the file is written.
inline constexpr std::size_t kMaxAttributeText = 60000;

// Values of the aggregation attribute.
inline constexpr const char* kSumOverPeriod = "sum over the period";  // flows
inline constexpr const char* kEndOfPeriod = "end of period";          // states

// Value of the scale attribute: the variable is a code (status, year stamp, index), never averaged.
inline constexpr const char* kCategory = "category";

// The population tables of a replicate.
enum class Table { districts, centres, households };
inline constexpr Table kTables[] = {Table::districts, Table::centres, Table::households};
const char* table_name(Table table);  // "districts", "centres", "households"

// Groups of one arm and one arm x replicate unit.
std::string arm(const std::string& arm);                                 // arms/<arm>
std::string unit(const std::string& arm, std::uint32_t replicate);       // arms/<arm>/replicate_R
std::string panel(const std::string& arm, std::uint32_t replicate);      // .../panel
std::string aggregates(const std::string& arm, std::uint32_t replicate);  // .../aggregates
// The unit's centre table: per-period values [periods, centres] of the centre columns the model records.
std::string centres(const std::string& arm, std::uint32_t replicate);  // .../centres
// The unit's reach: what each module reports at the end of the unit (records: module, item, value...).
std::string reach(const std::string& arm, std::uint32_t replicate);  // .../reach
// A module's table of the unit (the local economies: "economies"), records as the reach.
std::string unit_table(const std::string& arm, std::uint32_t replicate, const std::string& name);  // .../<name>
inline constexpr const char* kEconomies = "economies";
// Groups of a replicate's population.
std::string population(std::uint32_t replicate);               // population/replicate_R
std::string population(std::uint32_t replicate, Table table);  // population/replicate_R/<table>
// Members of a sweep's group (docs/output.md, "Sweep").
inline constexpr const char* kSweepParameters = "parameters";   // string[K]: the varied parameters
inline constexpr const char* kSweepUnit = "unit_coordinates";   // f64[points, K]: the design in [0, 1]^K
inline constexpr const char* kSweepValues = "values";           // f64[points, K]: the parameter values
inline constexpr const char* kSweepPoints = "points";           // records: each point's role in its design
inline constexpr const char* kSweepRanges = "ranges";           // records: each parameter's range and kind
inline constexpr const char* kSweepAggregates = "aggregates";   // group: f64[points, arms, replicates, periods(, w)]
inline constexpr const char* kSweepComparison = "comparison";   // records: the comparison of every point
inline constexpr const char* kSweepSensitivity = "sensitivity";  // records: Sobol indices or Morris effects
std::string sweep(const std::string& name);  // sweep/<name>
// The path of a member of a group.
std::string member(const std::string& group, const std::string& name);

// The replicate number of a group named replicate_R, or nullopt for any other name.
std::optional<std::uint32_t> replicate_of(std::string_view group_name);

}  // namespace chacra::output::layout
