// The CSV export (see sim/output/export.hpp): headers that are valid Stata and R names (at most 32
// characters), no index column, NA for missing values. Tables are read by hyperslabs (one period x one chunk of
// households at a time), so memory stays small whatever the file's size.
#include "sim/output/export.hpp"

#include "sim/interrupt.hpp"
#include "sim/output/csv.hpp"
#include "sim/output/reader.hpp"
#include "sim/output/records.hpp"
#include "sim/output/writer.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>

namespace chacra::output {

namespace {

namespace fs = std::filesystem;

// Households (or table rows) per read: the panel's chunk size, so every read decompresses whole chunks once.
constexpr hsize_t kBlockRows = 32768;
constexpr std::size_t kStataNameMax = 32;

// ---------------------------------------------------------------------------------------------------------
// Column names.

// A name made of ASCII letters, digits and underscores that starts with a letter.
std::string sanitize(const std::string& s) {
  std::string out;
  for (unsigned char c : s) out += std::isalnum(c) ? static_cast<char>(c) : '_';
  if (out.empty() || !std::isalpha(static_cast<unsigned char>(out.front()))) out = "v" + out;
  return out;
}

// The words of a label ("organic_fertiliser_prep" -> organic, fertiliser, prep).
std::vector<std::string> label_words(const std::string& label) {
  std::vector<std::string> words;
  std::string w;
  for (char c : sanitize(label)) {
    if (c == '_') {
      if (!w.empty()) words.push_back(w);
      w.clear();
    } else {
      w += c;
    }
  }
  if (!w.empty()) words.push_back(w);
  return words;
}

std::string cut_words(const std::vector<std::string>& words, std::size_t k) {
  std::string cut;
  for (const auto& x : words) {
    if (!cut.empty()) cut += '_';
    cut.append(x, 0, k);
  }
  return cut;
}

// Column names of `var`'s sub-columns: var_label, or var alone when it has no labels. Names longer than
// Stata's 32 characters cut every word of their label to the same length, the longest length at which all of
// the variable's long names fit ("tech_state_organic_fertilis_prep", "tech_state_organic_fertilis_use"); a
// name still taken gets a _2, _3... suffix. Every name is recorded in `taken`.
std::vector<std::string> column_names(const std::string& var, const std::vector<std::string>& labels,
                                      std::set<std::string>& taken) {
  const std::string prefix = sanitize(var);
  std::vector<std::string> bases;
  if (labels.empty()) {
    bases.push_back(prefix);
  } else {
    std::size_t k = std::string::npos;  // word length that makes every long name fit
    for (const auto& l : labels) {
      const std::string full = prefix + "_" + sanitize(l);
      if (full.size() <= kStataNameMax) continue;
      const auto words = label_words(l);
      std::size_t longest = 0;
      for (const auto& x : words) longest = std::max(longest, x.size());
      std::size_t fit = 1;
      for (std::size_t j = longest; j >= 1; --j)
        if (prefix.size() + 1 + cut_words(words, j).size() <= kStataNameMax) {
          fit = j;
          break;
        }
      k = std::min(k, fit);
    }
    for (const auto& l : labels) {
      std::string full = prefix + "_" + sanitize(l);
      if (full.size() > kStataNameMax) full = prefix + "_" + cut_words(label_words(l), k);
      bases.push_back(full);
    }
  }
  std::vector<std::string> out;
  for (auto base : bases) {
    if (base.size() > kStataNameMax) base.resize(kStataNameMax);
    std::string name = base;
    for (int n = 2; taken.count(name); ++n) {
      std::string suffix(1, '_');
      suffix += std::to_string(n);
      name = base.substr(0, std::min(base.size(), kStataNameMax - suffix.size())) + suffix;
    }
    taken.insert(name);
    out.push_back(name);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Values.

// Appends value `i` of a buffer read as `kind`.
void put_value(csv::Writer& csv, ValueKind kind, const std::vector<unsigned char>& buf, std::size_t i) {
  switch (kind) {
    case ValueKind::i64: {
      std::int64_t v;
      std::memcpy(&v, buf.data() + i * sizeof v, sizeof v);
      csv.number(v);
      return;
    }
    case ValueKind::u64: {
      std::uint64_t v;
      std::memcpy(&v, buf.data() + i * sizeof v, sizeof v);
      csv.number(v);
      return;
    }
    case ValueKind::f32: {
      float v;
      std::memcpy(&v, buf.data() + i * sizeof v, sizeof v);
      csv.number(v);
      return;
    }
    case ValueKind::f64: {
      double v;
      std::memcpy(&v, buf.data() + i * sizeof v, sizeof v);
      csv.number(v);
      return;
    }
  }
}

// An attribute as text: strings as they are, numbers in the CSV number format.
std::string attr_text(const h5::AttrValue& v, const std::string& missing) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  std::string out;
  if (const auto* i = std::get_if<long long>(&v)) csv::append_number(out, static_cast<std::int64_t>(*i));
  else csv::append_number(out, std::get<double>(v), missing);
  return out;
}

void check_stop() {
  if (stop_requested()) throw Interrupted(stop_signal());
}

// ---------------------------------------------------------------------------------------------------------
// Variables and the codebook.

// A variable of a table: the union over the groups it is read from, described by the file.
struct Column {
  Variable described;
  std::size_t width = 1;
  std::vector<std::string> labels;   // one per sub-column (from the file, else 0..width-1)
  bool labelled = false;             // labels come from the file
  std::vector<std::string> headers;  // CSV column names
};

struct CodebookEntry {
  std::string variable, unit, description, file, aggregation, source;
};

// The numeric datasets with `lead` row dimensions (and an optional width) among `names` of each group, as
// opened by `open(group, name)`: union by name, sorted, widths checked to agree; others are noted.
template <class Open>
std::vector<Column> collect_columns(const std::vector<std::pair<std::string, std::vector<std::string>>>& groups,
                                    std::size_t lead, const Open& open, std::vector<std::string>& notes) {
  std::map<std::string, Column> columns;
  for (const auto& [where, names] : groups) {
    for (const auto& name : names) {
      const Dataset d = open(where, name);
      std::string why;
      if (d.dims().size() < lead || d.dims().size() > lead + 1) why = "has " + std::to_string(d.dims().size()) + " dimensions";
      else if (!d.numeric()) why = "is not numeric";
      if (!why.empty()) {
        const std::string note = d.path() + " " + why + "; not exported";
        if (std::find(notes.begin(), notes.end(), note) == notes.end()) notes.push_back(note);
        continue;
      }
      const std::size_t width = d.dims().size() > lead ? static_cast<std::size_t>(d.dims()[lead]) : 1;
      auto it = columns.find(name);
      if (it != columns.end()) {
        if (it->second.width != width)
          throw FileError(d.path() + " has width " + std::to_string(width) + " but " +
                          std::to_string(it->second.width) + " elsewhere in the file");
        continue;
      }
      Column c;
      c.described = d.variable();
      c.width = width;
      if (width > 1) {
        c.labels = d.variable().labels;
        c.labelled = c.labels.size() == width;
        if (!c.labelled) {
          c.labels.clear();
          for (std::size_t k = 0; k < width; ++k) c.labels.push_back(std::to_string(k));
        }
      }
      columns.emplace(name, std::move(c));
    }
  }
  std::vector<Column> out;
  for (auto& [name, c] : columns) out.push_back(std::move(c));
  return out;
}

std::vector<std::string> make_headers(std::vector<Column>& columns, std::set<std::string>& taken) {
  std::vector<std::string> headers;
  for (auto& c : columns) {
    c.headers = column_names(c.described.name, c.width == 1 ? std::vector<std::string>{} : c.labels, taken);
    headers.insert(headers.end(), c.headers.begin(), c.headers.end());
  }
  return headers;
}

void add_codebook(std::vector<CodebookEntry>& cb, const std::string& file, const std::vector<Column>& columns,
                  const std::string& source_prefix, const std::string& description_prefix = "") {
  for (const auto& c : columns)
    for (std::size_t k = 0; k < c.headers.size(); ++k) {
      std::string desc = description_prefix + c.described.description;
      std::string source = source_prefix + c.described.name;
      if (c.width > 1) {
        desc.append(" [").append(c.labels[k]).append("]");
        source.append("[").append(std::to_string(k)).append("] (").append(c.labels[k]).append(")");
      }
      cb.push_back({c.headers[k], c.described.unit, desc, file, c.described.aggregation, source});
    }
}

// The file's arms, periods and the replicates every arm holds.
struct Contents {
  std::vector<std::string> arms, periods;
  std::vector<std::uint32_t> replicates;
};

Contents read_contents(const Reader& in) {
  Contents c;
  c.arms = in.arms();
  c.periods = in.periods();
  for (const auto& arm : c.arms) {
    const auto reps = in.replicates(arm);
    if (reps.empty()) throw FileError("arm '" + arm + "' has no replicate (an incomplete or truncated file)");
    if (&arm == &c.arms.front()) c.replicates = reps;
    else if (reps != c.replicates)
      throw FileError("arm '" + arm + "' does not hold the same replicates as arm '" + c.arms.front() +
                      "' (an incomplete or truncated file)");
  }
  return c;
}

// ---------------------------------------------------------------------------------------------------------
// The tables.

class Exporter {
 public:
  Exporter(const Reader& in, const Contents& contents, fs::path dir, std::string missing)
      : in_(in), c_(contents), dir_(std::move(dir)), missing_(std::move(missing)) {}

  std::vector<CodebookEntry> codebook;
  std::vector<std::string> notes;

  // panel.csv: arm, replicate, household, period, then every panel variable; rows ordered by arm (scenario
  // order), replicate, period, household.
  std::optional<ExportedTable> panel() {
    std::vector<std::pair<std::string, std::vector<std::string>>> groups;
    for (const auto& arm : c_.arms)
      for (auto r : c_.replicates)
        if (in_.has_panel(arm, r)) groups.push_back({unit_key(arm, r), in_.panel_variables(arm, r)});
    if (groups.empty()) {
      notes.push_back("the file has no household panel (output.panel: false); panel.csv not written");
      return std::nullopt;
    }
    auto columns = collect_columns(groups, 2, [&](const std::string& key, const std::string& name) {
      const auto [arm, r] = unit_of(key);
      return in_.panel(arm, r, name);
    }, notes);
    std::set<std::string> taken = {"arm", "replicate", "household", "period"};
    std::vector<std::string> headers = {"arm", "replicate", "household", "period"};
    const auto vh = make_headers(columns, taken);
    headers.insert(headers.end(), vh.begin(), vh.end());
    csv::Writer csv(dir_ / "panel.csv", missing_);
    csv.header(headers);
    const std::size_t P = c_.periods.size();
    std::vector<std::vector<unsigned char>> bufs(columns.size());
    for (const auto& arm : c_.arms)
      for (auto r : c_.replicates) {
        if (!in_.has_panel(arm, r)) {
          notes.push_back("the panel of arm '" + arm + "' replicate " + std::to_string(r) +
                          " is missing; that unit has no rows in panel.csv");
          continue;
        }
        std::vector<std::optional<Dataset>> src(columns.size());
        hsize_t H = 0;
        bool have_h = false;
        for (std::size_t j = 0; j < columns.size(); ++j) {
          const std::string& name = columns[j].described.name;
          if (!in_.has_panel_variable(arm, r, name)) continue;
          Dataset d = in_.panel(arm, r, name);
          if (!d.numeric() || d.dims().size() < 2) continue;
          if (d.dims()[0] != P)
            throw FileError(d.path() + " has " + std::to_string(d.dims()[0]) + " periods but /periods lists " +
                            std::to_string(P));
          if (have_h && d.dims()[1] != H)
            throw FileError(d.path() + " has " + std::to_string(d.dims()[1]) + " households, not " +
                            std::to_string(H) + " as the unit's other variables");
          H = d.dims()[1];
          have_h = true;
          src[j] = std::move(d);
        }
        const std::string arm_field = csv::field(arm);
        for (std::size_t p = 0; p < P; ++p) {
          const std::string period = csv::field(c_.periods[p]);
          for (hsize_t h0 = 0; h0 < H; h0 += kBlockRows) {
            check_stop();
            const hsize_t n = std::min(kBlockRows, H - h0);
            for (std::size_t j = 0; j < columns.size(); ++j)
              if (src[j]) src[j]->read({p, h0}, {1, n}, src[j]->kind(), bufs[j]);
            for (hsize_t i = 0; i < n; ++i) {
              csv.raw(arm_field).number(static_cast<std::int64_t>(r)).number(static_cast<std::uint64_t>(h0 + i)).raw(period);
              for (std::size_t j = 0; j < columns.size(); ++j) {
                const std::size_t W = columns[j].width;
                for (std::size_t k = 0; k < W; ++k) {
                  if (src[j]) put_value(csv, src[j]->kind(), bufs[j], static_cast<std::size_t>(i) * W + k);
                  else csv.missing();
                }
              }
              csv.end_row();
            }
          }
        }
      }
    csv.close();
    codebook.push_back({"arm", "", "Policy arm (scenario order: /arm_names); every arm ran on the same population",
                        "panel.csv", "", "/arm_names"});
    codebook.push_back({"replicate", "", "Replicate number (0-based); each replicate has its own population",
                        "panel.csv", "", "arms/<arm>/replicate_R"});
    codebook.push_back({"household", "index",
                        "Household index within the replicate (row of households.csv for the same replicate)",
                        "panel.csv", "", "panel second dimension"});
    codebook.push_back({"period", "", "Output period label (2017 yearly, 2017Q1 quarterly, 2017-01 monthly)",
                        "panel.csv", "", "/periods"});
    add_codebook(codebook, "panel.csv", columns, "arms/<arm>/replicate_R/panel/");
    return ExportedTable{"panel.csv", csv.rows(), csv.columns()};
  }

  // aggregates.csv: arm, replicate, period, then each variable's household mean.
  std::optional<ExportedTable> aggregates() {
    std::vector<std::pair<std::string, std::vector<std::string>>> groups;
    for (const auto& arm : c_.arms)
      for (auto r : c_.replicates)
        if (in_.has_aggregates(arm, r)) groups.push_back({unit_key(arm, r), in_.aggregate_variables(arm, r)});
    if (groups.empty()) {
      notes.push_back("the file has no aggregates; aggregates.csv not written");
      return std::nullopt;
    }
    auto columns = collect_columns(groups, 1, [&](const std::string& key, const std::string& name) {
      const auto [arm, r] = unit_of(key);
      return in_.aggregate(arm, r, name);
    }, notes);
    // Aggregates may lack the labels attribute of their multi-width variables: take the panel's.
    for (auto& c : columns) {
      if (c.width < 2 || c.labelled) continue;
      for (const auto& [key, names] : groups) {
        const auto [arm, r] = unit_of(key);
        if (!in_.has_panel_variable(arm, r, c.described.name)) continue;
        const auto labels = in_.panel(arm, r, c.described.name).variable().labels;
        if (labels.size() == c.width) c.labels = labels, c.labelled = true;
        break;
      }
    }
    std::set<std::string> taken = {"arm", "replicate", "period"};
    std::vector<std::string> headers = {"arm", "replicate", "period"};
    const auto vh = make_headers(columns, taken);
    headers.insert(headers.end(), vh.begin(), vh.end());
    csv::Writer csv(dir_ / "aggregates.csv", missing_);
    csv.header(headers);
    const std::size_t P = c_.periods.size();
    std::vector<std::vector<unsigned char>> bufs(columns.size());
    for (const auto& arm : c_.arms)
      for (auto r : c_.replicates) {
        check_stop();
        if (!in_.has_aggregates(arm, r)) continue;
        std::vector<std::optional<Dataset>> src(columns.size());
        for (std::size_t j = 0; j < columns.size(); ++j) {
          const std::string& name = columns[j].described.name;
          if (!in_.has_aggregate(arm, r, name)) continue;
          Dataset d = in_.aggregate(arm, r, name);
          if (!d.numeric() || d.dims().empty()) continue;
          if (d.dims()[0] != P)
            throw FileError(d.path() + " has " + std::to_string(d.dims()[0]) + " periods but /periods lists " +
                            std::to_string(P));
          d.read({0}, {P}, d.kind(), bufs[j]);
          src[j] = std::move(d);
        }
        for (std::size_t p = 0; p < P; ++p) {
          csv.text(arm).number(static_cast<std::int64_t>(r)).text(c_.periods[p]);
          for (std::size_t j = 0; j < columns.size(); ++j)
            for (std::size_t k = 0; k < columns[j].width; ++k) {
              if (src[j]) put_value(csv, src[j]->kind(), bufs[j], p * columns[j].width + k);
              else csv.missing();
            }
          csv.end_row();
        }
      }
    csv.close();
    codebook.push_back({"arm", "", "Policy arm (scenario order: /arm_names)", "aggregates.csv", "", "/arm_names"});
    codebook.push_back({"replicate", "", "Replicate number (0-based)", "aggregates.csv", "", "arms/<arm>/replicate_R"});
    codebook.push_back({"period", "", "Output period label", "aggregates.csv", "", "/periods"});
    add_codebook(codebook, "aggregates.csv", columns, "arms/<arm>/replicate_R/aggregates/");
    return ExportedTable{"aggregates.csv", csv.rows(), csv.columns()};
  }

  // households.csv, centres.csv, districts.csv: replicate, the row index, then every column of the table.
  std::optional<ExportedTable> population(layout::Table table, const std::string& id) {
    const std::string table_name = layout::table_name(table);
    std::vector<std::pair<std::string, std::vector<std::string>>> groups;
    std::vector<std::uint32_t> group_rep;
    for (auto r : in_.population_replicates()) {
      if (!in_.has_population_table(r, table)) continue;
      groups.push_back({std::to_string(r), in_.population_columns(r, table)});
      group_rep.push_back(r);
    }
    const std::string name = table_name + ".csv";
    if (groups.empty()) {
      notes.push_back("the file has no population " + table_name + " table; " + name + " not written");
      return std::nullopt;
    }
    auto columns = collect_columns(groups, 1, [&](const std::string& key, const std::string& column) {
      return in_.population(static_cast<std::uint32_t>(std::stoul(key)), table, column);
    }, notes);
    std::set<std::string> taken = {"replicate", id};
    std::vector<std::string> headers = {"replicate", id};
    const auto vh = make_headers(columns, taken);
    headers.insert(headers.end(), vh.begin(), vh.end());
    csv::Writer csv(dir_ / name, missing_);
    csv.header(headers);
    std::vector<std::vector<unsigned char>> bufs(columns.size());
    for (std::size_t gi = 0; gi < groups.size(); ++gi) {
      const std::uint32_t r = group_rep[gi];
      std::vector<std::optional<Dataset>> src(columns.size());
      hsize_t N = 0;
      bool have_n = false;
      for (std::size_t j = 0; j < columns.size(); ++j) {
        const std::string& column = columns[j].described.name;
        if (!in_.has_population_column(r, table, column)) continue;
        Dataset d = in_.population(r, table, column);
        if (!d.numeric() || d.dims().empty()) continue;
        if (have_n && d.dims()[0] != N)
          throw FileError(d.path() + " has " + std::to_string(d.dims()[0]) + " rows, not " + std::to_string(N) +
                          " as the table's other columns");
        N = d.dims()[0];
        have_n = true;
        src[j] = std::move(d);
      }
      for (hsize_t r0 = 0; r0 < N; r0 += kBlockRows) {
        check_stop();
        const hsize_t n = std::min(kBlockRows, N - r0);
        for (std::size_t j = 0; j < columns.size(); ++j)
          if (src[j]) src[j]->read({r0}, {n}, src[j]->kind(), bufs[j]);
        for (hsize_t i = 0; i < n; ++i) {
          csv.number(static_cast<std::int64_t>(r)).number(static_cast<std::uint64_t>(r0 + i));
          for (std::size_t j = 0; j < columns.size(); ++j)
            for (std::size_t k = 0; k < columns[j].width; ++k) {
              if (src[j]) put_value(csv, src[j]->kind(), bufs[j], static_cast<std::size_t>(i) * columns[j].width + k);
              else csv.missing();
            }
          csv.end_row();
        }
      }
    }
    csv.close();
    codebook.push_back({"replicate", "", "Replicate number (0-based); each replicate has its own population", name, "",
                        "population/replicate_R"});
    codebook.push_back({id, "index", "Row of the " + table_name + " table within the replicate", name, "",
                        "population/replicate_R/" + table_name + " first dimension"});
    add_codebook(codebook, name, columns, "population/replicate_R/" + table_name + "/",
                 table == layout::Table::households ? "At the start (month 0): " : "");
    return ExportedTable{name, csv.rows(), csv.columns()};
  }

  // comparison.csv: the comparison's parallel columns, one row per (arm, outcome, subgroup, statistic).
  std::optional<ExportedTable> comparison() {
    if (!has_comparison(in_.id())) {
      notes.push_back("the file has no /comparison table; comparison.csv not written (chacra compare OUT.h5 --format "
                      "csv computes it)");
      return std::nullopt;
    }
    const Records records = read_comparison(in_.id());
    // The columns in the order of `chacra compare --format csv` where they exist, then any others.
    const std::vector<std::string> preferred = {"arm",       "reference", "outcome",     "subgroup",
                                                "statistic", "unit",      "interval",    "mean_effect",
                                                "ci_low",    "ci_high",   "arm_value",   "reference_value",
                                                "n_replicates"};
    std::vector<const RecordColumn*> columns;
    for (const auto& p : preferred)
      if (const RecordColumn* c = records.column(p)) columns.push_back(c);
    for (const auto& c : records.columns)
      if (std::find(columns.begin(), columns.end(), &c) == columns.end()) columns.push_back(&c);
    std::set<std::string> taken;
    std::vector<std::string> headers;
    for (const auto* c : columns) headers.push_back(column_names(c->name, {}, taken).front());
    csv::Writer csv(dir_ / "comparison.csv", missing_);
    csv.header(headers);
    for (std::size_t i = 0; i < records.rows(); ++i) {
      for (const auto* c : columns) {
        if (c->text) csv.text(c->strings[i]);
        else if (c->type == ColumnType::i32) csv.number(static_cast<std::int64_t>(c->numbers[i]));
        else csv.number(c->numbers[i]);
      }
      csv.end_row();
    }
    csv.close();
    // The effect, its interval and the two levels are in the row's own unit.
    const std::set<std::string> in_row_unit = {"mean_effect", "ci_low", "ci_high", "arm_value", "reference_value"};
    for (std::size_t k = 0; k < columns.size(); ++k)
      codebook.push_back({headers[k], in_row_unit.count(columns[k]->name) ? "given by the row's unit column" : "",
                          columns[k]->description, "comparison.csv", "", "comparison/" + columns[k]->name});
    return ExportedTable{"comparison.csv", csv.rows(), csv.columns()};
  }

  // provenance.csv (key, value) and scenario.yaml.
  ExportedTable provenance(bool& wrote_scenario) {
    csv::Writer csv(dir_ / "provenance.csv", missing_);
    csv.header({"key", "value"});
    auto row = [&](const std::string& k, const std::string& v) {
      csv.text(k).text(v);
      csv.end_row();
    };
    for (const auto& [name, value] : in_.provenance()) row(name, attr_text(value, missing_));
    const std::string yaml = in_.scenario_yaml();
    if (!yaml.empty()) {
      std::ofstream out(dir_ / "scenario.yaml", std::ios::binary);
      out << yaml;
      if (!out) throw csv::WriteError("cannot write " + (dir_ / "scenario.yaml").string());
      wrote_scenario = true;
    }
    std::string arms;
    for (const auto& a : c_.arms) arms += (arms.empty() ? "" : " ") + a;
    row("arms", arms);
    row("periods", std::to_string(c_.periods.size()) + " (" + c_.periods.front() + " to " + c_.periods.back() + ")");
    for (const auto& a : c_.arms) row("arm." + a + ".description", in_.arm_description(a));
    if (has_comparison(in_.id())) {
      const Records records = read_comparison(in_.id());
      for (const auto& [name, value] : records.attributes) row("comparison." + name, attr_text(value, missing_));
      std::string joined;
      for (const auto& s : records.notes) joined += (joined.empty() ? "" : "; ") + s;
      if (!joined.empty()) row("comparison.notes", joined);
    }
    for (const auto& n : notes) row("export.note", n);
    csv.close();
    codebook.push_back({"key", "", "Provenance attribute (docs/output.md, Provenance), arm description or export note",
                        "provenance.csv", "", "/provenance attributes"});
    codebook.push_back({"value", "", "Its value", "provenance.csv", "", ""});
    return ExportedTable{"provenance.csv", csv.rows(), csv.columns()};
  }

  ExportedTable write_codebook() {
    csv::Writer csv(dir_ / "codebook.csv", missing_);
    csv.header({"variable", "unit", "description", "file", "aggregation", "source"});
    for (const auto& e : codebook) {
      csv.text(e.variable).text(e.unit).text(e.description).text(e.file).text(e.aggregation).text(e.source);
      csv.end_row();
    }
    csv.close();
    return ExportedTable{"codebook.csv", csv.rows(), csv.columns()};
  }

 private:
  // Units are keyed "arm\x1freplicate" while variables are collected.
  static std::string unit_key(const std::string& arm, std::uint32_t r) { return arm + '\x1f' + std::to_string(r); }
  static std::pair<std::string, std::uint32_t> unit_of(const std::string& key) {
    const auto sep = key.rfind('\x1f');
    return {key.substr(0, sep), static_cast<std::uint32_t>(std::stoul(key.substr(sep + 1)))};
  }
  const Reader& in_;
  const Contents& c_;
  fs::path dir_;
  std::string missing_;
};

// The files an export writes: the only ones it ever removes (docs/reliability.md, "Files").
const std::set<std::string>& export_files() {
  static const std::set<std::string> names = {"panel.csv",     "aggregates.csv", "comparison.csv",
                                              "households.csv", "centres.csv",    "districts.csv",
                                              "provenance.csv", "codebook.csv",   "scenario.yaml"};
  return names;
}

// What in directory `dir` an export did not write ("" when nothing): a name of its own that is not a regular
// file (a link, a directory), or any other name.
std::string foreign_entry(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (!export_files().count(name) || !fs::is_regular_file(e.symlink_status())) return name;
  }
  return "";
}

// Removes an export directory's own files and then the directory, which must then be empty.
void remove_export_dir(const fs::path& dir) {
  for (const auto& name : export_files()) {
    const fs::path f = dir / name;
    std::error_code ec;
    if (fs::is_regular_file(fs::symlink_status(f, ec))) fs::remove(f, ec);
  }
  std::error_code ec;
  fs::remove(dir, ec);  // only when empty
}

// Removes the partial directory this export created unless the export finished.
struct PartialGuard {
  fs::path path;
  bool created = false, keep = false;
  ~PartialGuard() {
    if (created && !keep) remove_export_dir(path);
  }
};

std::string strip_trailing_slashes(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

ExportSummary export_csv(const ExportOptions& options) {
  if (options.missing.find_first_of(",\"\r\n") != std::string::npos)
    throw std::invalid_argument("the text of a missing value must not hold a comma, a quote or a line break");
  h5::quiet_errors();
  if (!fs::exists(options.input)) throw FileError("no such file");
  if (fs::is_directory(options.input)) throw FileError("it is a directory");
  const Reader in(options.input);
  const Contents contents = read_contents(in);

  const fs::path dir(strip_trailing_slashes(options.directory));
  const fs::path partial(dir.string() + ".partial");
  std::error_code ec;
  if (fs::exists(fs::symlink_status(dir, ec))) {
    const bool is_dir = fs::is_directory(fs::symlink_status(dir, ec));  // a link to a directory is not replaced
    const bool empty = is_dir && fs::is_empty(dir, ec);
    if (!empty && !options.force)
      throw OutputExists(dir.string() + " already exists and is not empty; use --force to replace it or choose "
                                        "another directory");
    if (!empty && !(is_dir && fs::exists(dir / "codebook.csv")))
      throw OutputExists(dir.string() + " is not a previous chacra export (no codebook.csv); it is not replaced, even "
                                        "with --force: choose another directory");
  }

  if (fs::exists(fs::symlink_status(dir, ec)) && fs::is_directory(fs::symlink_status(dir, ec)) && !fs::is_empty(dir, ec))
    if (const std::string other = foreign_entry(dir); !other.empty())
      throw OutputExists(dir.string() + " holds " + other + ", which chacra's export does not write; it is not replaced, "
                                        "even with --force: move it out or choose another directory");
  if (fs::exists(fs::symlink_status(partial, ec))) {
    // Left by an export that was killed, or somebody's own directory: only the former is replaced, with --force.
    const bool ours = fs::is_directory(fs::symlink_status(partial, ec)) && foreign_entry(partial).empty();
    if (!ours)
      throw OutputExists(partial.string() + " already exists and is not a partial export chacra left; it is never "
                                            "removed: move it away or choose another directory");
    if (!options.force)
      throw OutputExists(partial.string() + " was left by an export that did not finish; use --force to replace it");
    remove_export_dir(partial);
  }
  PartialGuard guard{partial};
  if (!fs::create_directory(partial))
    throw OutputExists(partial.string() + " appeared while chacra was about to create it; is another export writing " +
                       dir.string() + "?");
  guard.created = true;
  Exporter ex(in, contents, partial, options.missing);
  ExportSummary summary;
  summary.directory = dir.string();
  if (options.panel) {
    if (auto t = ex.panel()) summary.tables.push_back(*t);
  }
  if (auto t = ex.aggregates()) summary.tables.push_back(*t);
  if (auto t = ex.comparison()) summary.tables.push_back(*t);
  if (auto t = ex.population(layout::Table::households, "household")) summary.tables.push_back(*t);
  if (auto t = ex.population(layout::Table::centres, "centre")) summary.tables.push_back(*t);
  if (auto t = ex.population(layout::Table::districts, "district")) summary.tables.push_back(*t);
  summary.tables.push_back(ex.provenance(summary.scenario_yaml));
  summary.tables.push_back(ex.write_codebook());
  check_stop();
  // Into place: an existing export (nothing but an export's files, checked above) is moved aside first, then
  // its files removed once the new one is there.
  fs::path old;
  if (fs::exists(fs::symlink_status(dir))) {
    if (fs::is_directory(fs::symlink_status(dir)) && fs::is_empty(dir)) {
      fs::remove(dir);
    } else {
      for (int k = 0; old.empty() || fs::exists(fs::symlink_status(old, ec)); ++k)
        old = fs::path(dir.string() + ".old." + std::to_string(::getpid()) + (k ? "." + std::to_string(k) : ""));
      fs::rename(dir, old);
    }
  }
  fs::rename(partial, dir);
  guard.keep = true;
  if (!old.empty()) remove_export_dir(old);
  summary.notes = ex.notes;
  return summary;
}

}  // namespace chacra::output
