// The export (see sim/output/export.hpp) as CSV or Stata tables: names that are valid Stata and R names (at
// most 32 characters), no index column, missing values as NA (CSV) or Stata's missing; in .dta files the
// variables carry their description as label and coded variables their codes as value labels. Tables are read
// by hyperslabs (one period x one chunk of households at a time), so memory stays small whatever the file's
// size.
#include "sim/output/export.hpp"

#include "sim/interrupt.hpp"
#include "sim/output/csv.hpp"
#include "sim/output/dta.hpp"
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

// One short form per sub-column label for the whole export, so that a technology has the same name in every
// variable and table: the label itself where every variable that has it fits Stata's 32 characters with it,
// else its words cut to one length, the longest at which every such variable fits but no shorter than
// kMinWord letters ("organic_fertiliser_prep" -> "orga_fert_prep": tech_state_orga_fert_prep,
// tech_profit_pen_orga_fert_prep). A variable whose name is too long even then has its own words cut
// (column_names).
using ShortLabels = std::map<std::string, std::string>;
constexpr std::size_t kMinWord = 4;

// The longest word length, down to 1, at which `words` cut fit in `room` characters.
std::size_t fitting_cut(const std::vector<std::string>& words, std::size_t room) {
  std::size_t longest = 0;
  for (const auto& x : words) longest = std::max(longest, x.size());
  for (std::size_t j = longest; j > 1; --j)
    if (cut_words(words, j).size() <= room) return j;
  return 1;
}

ShortLabels short_labels(const std::vector<std::pair<std::string, std::vector<std::string>>>& variables) {
  std::map<std::string, std::size_t> cut;  // label -> word length
  for (const auto& [var, labels] : variables) {
    const std::string prefix = sanitize(var);
    for (const auto& l : labels) {
      if (prefix.size() + 1 + sanitize(l).size() <= kStataNameMax) continue;
      const auto words = label_words(l);
      const std::size_t room = kStataNameMax - std::min(kStataNameMax, prefix.size() + 1);
      const std::size_t fit = fitting_cut(words, room);
      if (fit < kMinWord) continue;  // that variable's own words are cut instead
      auto [it, fresh] = cut.emplace(l, fit);
      if (!fresh) it->second = std::min(it->second, fit);
    }
  }
  ShortLabels out;
  for (const auto& [label, k] : cut) out[label] = cut_words(label_words(label), k);
  return out;
}

// Column names of `var`'s sub-columns: var_label (the label's short form where it has one; var's own words cut
// to one length where it is too long for them), or var alone when it has no labels; cut to 32 characters, and
// a name still taken gets a _2, _3... suffix. Every name is recorded in `taken`.
std::vector<std::string> column_names(const std::string& var, const std::vector<std::string>& labels,
                                      std::set<std::string>& taken, const ShortLabels& shorts = {}) {
  std::string prefix = sanitize(var);
  std::vector<std::string> bases;
  if (labels.empty()) bases.push_back(prefix);
  std::vector<std::string> subs;
  std::size_t widest = 0;
  for (const auto& l : labels) {
    const auto it = shorts.find(l);
    subs.push_back(it != shorts.end() ? it->second : sanitize(l));
    widest = std::max(widest, subs.back().size());
  }
  if (!labels.empty() && prefix.size() + 1 + widest > kStataNameMax && widest + 2 <= kStataNameMax)
    prefix = cut_words(label_words(prefix), fitting_cut(label_words(prefix), kStataNameMax - 1 - widest));
  for (const auto& sub : subs) bases.push_back(prefix + "_" + sub);
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
// Tables: CSV or .dta.

// A column of an exported table: its name, how a .dta file stores it, its variable label and its value labels
// (a set named `label_set`; empty codes: none).
struct Field {
  std::string name, label;
  dta::Type type = dta::Type::float64;
  std::size_t width = 1;  // characters of a text field
  std::string label_set;
  std::vector<CodeLabel> codes;
};

Field text_field(const std::string& name, const std::string& label, std::size_t width) {
  return Field{name, label, dta::Type::text, std::max<std::size_t>(width, 1), "", {}};
}
Field whole_field(const std::string& name, const std::string& label) {
  return Field{name, label, dta::Type::int32, 1, "", {}};
}

// Rows of fields into one table file, in the order of its fields.
class Table {
 public:
  virtual ~Table() = default;
  virtual void text(std::string_view s) = 0;
  virtual void number(std::int64_t v) = 0;
  virtual void number(std::uint64_t v) = 0;
  virtual void number(float v) = 0;
  virtual void number(double v) = 0;
  virtual void missing() = 0;
  virtual void end_row() = 0;
  virtual void close() = 0;
  virtual std::size_t rows() const = 0;
  virtual std::size_t columns() const = 0;
};

class CsvTable final : public Table {
 public:
  CsvTable(const fs::path& path, const std::string& missing, const std::vector<Field>& fields, bool gzip)
      : csv_(path, missing, gzip) {
    std::vector<std::string> names;
    for (const auto& f : fields) names.push_back(f.name);
    csv_.header(names);
  }
  void text(std::string_view s) override { csv_.text(s); }
  void number(std::int64_t v) override { csv_.number(v); }
  void number(std::uint64_t v) override { csv_.number(v); }
  void number(float v) override { csv_.number(v); }
  void number(double v) override { csv_.number(v); }
  void missing() override { csv_.missing(); }
  void end_row() override { csv_.end_row(); }
  void close() override { csv_.close(); }
  std::size_t rows() const override { return csv_.rows(); }
  std::size_t columns() const override { return csv_.columns(); }

 private:
  csv::Writer csv_;
};

// A .dta file; its write errors become csv::WriteError, the export's one kind of write failure.
class DtaTable final : public Table {
 public:
  DtaTable(const fs::path& path, const std::string& file_label, const std::vector<Field>& fields, std::size_t rows)
      : dta_(make(path, file_label, fields, rows)) {}
  void text(std::string_view s) override { guard([&] { dta_->text(s); }); }
  void number(std::int64_t v) override { guard([&] { dta_->number(v); }); }
  void number(std::uint64_t v) override {
    guard([&] {
      if (v <= static_cast<std::uint64_t>(INT64_MAX)) dta_->number(static_cast<std::int64_t>(v));
      else dta_->number(static_cast<double>(v));
    });
  }
  void number(float v) override { guard([&] { dta_->number(static_cast<double>(v)); }); }
  void number(double v) override { guard([&] { dta_->number(v); }); }
  void missing() override { guard([&] { dta_->missing(); }); }
  void end_row() override { guard([&] { dta_->end_row(); }); }
  void close() override { guard([&] { dta_->close(); }); }
  std::size_t rows() const override { return dta_->rows(); }
  std::size_t columns() const override { return dta_->columns(); }

 private:
  template <class F>
  static void guard(const F& f) {
    try {
      f();
    } catch (const std::logic_error&) {
      throw;
    } catch (const std::runtime_error& e) {
      throw csv::WriteError(e.what());
    }
  }
  static std::unique_ptr<dta::Writer> make(const fs::path& path, const std::string& file_label,
                                           const std::vector<Field>& fields, std::size_t rows) {
    std::vector<dta::LabelSet> sets;
    std::vector<dta::Variable> vars;
    for (const auto& f : fields) {
      vars.push_back({f.name, f.label, f.type, f.width, f.codes.empty() ? "" : f.label_set});
      if (f.codes.empty()) continue;
      const bool known = std::any_of(sets.begin(), sets.end(), [&](const auto& s) { return s.name == f.label_set; });
      if (known) continue;
      dta::LabelSet set{f.label_set, {}};
      for (const auto& c : f.codes) set.labels.emplace_back(static_cast<std::int32_t>(c.value), c.meaning);
      sets.push_back(std::move(set));
    }
    std::unique_ptr<dta::Writer> w;
    guard([&] { w = std::make_unique<dta::Writer>(path, file_label, sets, vars, rows); });
    return w;
  }
  std::unique_ptr<dta::Writer> dta_;
};

// ---------------------------------------------------------------------------------------------------------
// Values.

// Appends value `i` of a buffer read as `kind`.
void put_value(Table& csv, ValueKind kind, const std::vector<unsigned char>& buf, std::size_t i) {
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
  bool integer = false, is_signed = true;  // how the file stores it
  std::size_t bytes = 8;
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
      c.integer = d.integer();
      c.is_signed = d.is_signed();
      c.bytes = d.bytes();
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

std::vector<std::string> make_headers(std::vector<Column>& columns, std::set<std::string>& taken,
                                      const ShortLabels& shorts) {
  std::vector<std::string> headers;
  for (auto& c : columns) {
    c.headers = column_names(c.described.name, c.width == 1 ? std::vector<std::string>{} : c.labels, taken, shorts);
    headers.insert(headers.end(), c.headers.begin(), c.headers.end());
  }
  return headers;
}

// A variable label: `description` cut so that it fits Stata's 80 characters with `suffix`.
std::string variable_label(const std::string& description, const std::string& suffix) {
  if (suffix.size() >= dta::kLabelMax) return dta::fit(description + suffix, dta::kLabelMax);
  return dta::fit(description, dta::kLabelMax - suffix.size()) + suffix;
}

// The .dta storage type of values the file stores as `c`: whole numbers in the smallest Stata type that holds
// every value of the file's type (Stata's int stops at 32,740 and long at 2,147,483,620), reals as they are.
dta::Type stata_type(const Column& c) {
  if (!c.integer) return c.bytes <= 4 ? dta::Type::float32 : dta::Type::float64;
  if (c.bytes <= 1) return dta::Type::int16;
  if (c.bytes <= 2) return dta::Type::int32;
  return dta::Type::float64;  // exact up to 2^53
}

// The fields of `columns`' sub-columns: labels from descriptions, value labels from the file's codes (a yes/no
// set for whole-number 0/1 variables).
std::vector<Field> fields_of(const std::vector<Column>& columns, const std::string& description_prefix = "") {
  std::vector<Field> out;
  for (const auto& c : columns)
    for (std::size_t k = 0; k < c.headers.size(); ++k) {
      Field f;
      f.name = c.headers[k];
      f.type = stata_type(c);
      std::string suffix;
      if (c.width > 1) suffix += " [" + c.labels[k] + "]";
      const std::string& unit = c.described.unit;
      if (c.described.codes.empty() && !unit.empty() && unit != "0/1" && unit != "index" && unit.size() <= 16)
        suffix += ", " + unit;
      f.label = variable_label(description_prefix + c.described.description, suffix);
      if (c.integer && !c.described.codes.empty()) {
        f.codes = c.described.codes;
        f.label_set = c.width == 1 ? c.headers.front() : sanitize(c.described.name).substr(0, dta::kNameMax);
      } else if (c.integer && unit == "0/1") {
        f.codes = {{0, "no"}, {1, "yes"}};
        f.label_set = "no_yes";
      }
      out.push_back(std::move(f));
    }
  return out;
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
  Exporter(const Reader& in, const Contents& contents, fs::path dir, std::string missing, bool stata, bool gzip,
           std::string input_name)
      : in_(in), c_(contents), dir_(std::move(dir)), missing_(std::move(missing)), stata_(stata), gzip_(gzip),
        input_name_(std::move(input_name)), yearly_(yearly(contents.periods)) {}

  std::vector<CodebookEntry> codebook;
  std::vector<std::string> notes;
  ExportProgress progress;  // panel rows written of those to write

  // A first pass over the variables of the tables to write, for one short form of each sub-column label.
  void plan(bool with_panel) {
    planning_ = true;
    if (with_panel) panel();
    aggregates();
    for (auto t : {layout::Table::households, layout::Table::centres, layout::Table::districts}) population(t, "");
    planning_ = false;
    notes.clear();
    shorts_ = short_labels(planned_);
  }

  // panel.csv: arm, replicate, household, period, then every panel variable; rows ordered by arm (scenario
  // order), replicate, period, household.
  std::optional<ExportedTable> panel() {
    std::vector<std::pair<std::string, std::vector<std::string>>> groups;
    for (const auto& arm : c_.arms)
      for (auto r : c_.replicates)
        if (in_.has_panel(arm, r)) groups.push_back({unit_key(arm, r), in_.panel_variables(arm, r)});
    if (groups.empty()) {
      notes.push_back("the file has no household panel (output.panel: false); " + file("panel") + " not written");
      return std::nullopt;
    }
    auto columns = collect_columns(groups, 2, [&](const std::string& key, const std::string& name) {
      const auto [arm, r] = unit_of(key);
      return in_.panel(arm, r, name);
    }, notes);
    if (planning_) return plan_columns(columns);
    // Each household's centre, district and region, when the population tables of every replicate have them.
    std::map<std::uint32_t, Places> places;
    std::vector<CodeLabel> region_codes;
    for (auto r : c_.replicates) {
      auto p = places_of(r, region_codes);
      if (!p) {
        notes.push_back("replicate " + std::to_string(r) + " has no population table with the households' centres, "
                        "districts and regions; " + file("panel") + " has no centre, district and region columns");
        places.clear();
        break;
      }
      places.emplace(r, std::move(*p));
    }
    const bool placed = !places.empty();
    std::set<std::string> taken = {"arm", "replicate", "household", "period"};
    if (placed) taken.insert({"centre", "district", "region"});
    make_headers(columns, taken, shorts_);
    const std::size_t P = c_.periods.size();
    // A unit's panel datasets and its households (checked to agree).
    auto open_unit = [&](const std::string& arm, std::uint32_t r, std::vector<std::optional<Dataset>>& src) {
      src.clear();
      src.resize(columns.size());
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
      return H;
    };
    std::size_t rows = 0;
    std::vector<std::optional<Dataset>> src;
    for (const auto& arm : c_.arms)
      for (auto r : c_.replicates)
        if (in_.has_panel(arm, r)) rows += P * open_unit(arm, r, src);
    std::vector<Field> fields = {text_field("arm", "Policy arm", longest(c_.arms)),
                                 whole_field("replicate", "Replicate (0-based)"),
                                 whole_field("household", "Household (row of households, same replicate)"),
                                 period_field()};
    if (placed) {
      fields.push_back(whole_field("centre", "Population centre (row of centres, same replicate)"));
      fields.push_back(whole_field("district", "District (row of districts, same replicate)"));
      Field region = whole_field("region", "Natural region of the district");
      region.type = dta::Type::int16;
      region.codes = region_codes;
      region.label_set = "region";
      fields.push_back(std::move(region));
    }
    const auto vf = fields_of(columns);
    fields.insert(fields.end(), vf.begin(), vf.end());
    const auto table = open("panel", fields, rows, "household panel");
    Table& csv = *table;
    std::vector<std::vector<unsigned char>> bufs(columns.size());
    std::uint64_t done = 0;
    if (progress) progress(0, rows);
    for (const auto& arm : c_.arms)
      for (auto r : c_.replicates) {
        if (!in_.has_panel(arm, r)) {
          notes.push_back("the panel of arm '" + arm + "' replicate " + std::to_string(r) +
                          " is missing; that unit has no rows in " + file("panel"));
          continue;
        }
        const hsize_t H = open_unit(arm, r, src);
        const Places* place = placed ? &places.at(r) : nullptr;
        if (place && place->centre.size() != H)
          throw FileError("the households table of replicate " + std::to_string(r) + " has " +
                          std::to_string(place->centre.size()) + " rows but the panel of arm '" + arm + "' has " +
                          std::to_string(H) + " households");
        for (std::size_t p = 0; p < P; ++p) {
          for (hsize_t h0 = 0; h0 < H; h0 += kBlockRows) {
            check_stop();
            const hsize_t n = std::min(kBlockRows, H - h0);
            for (std::size_t j = 0; j < columns.size(); ++j)
              if (src[j]) src[j]->read({p, h0}, {1, n}, src[j]->kind(), bufs[j]);
            for (hsize_t i = 0; i < n; ++i) {
              csv.text(arm);
              csv.number(static_cast<std::int64_t>(r));
              csv.number(static_cast<std::uint64_t>(h0 + i));
              put_period(csv, p);
              if (place) {
                csv.number(place->centre[h0 + i]);
                csv.number(place->district[h0 + i]);
                csv.number(place->region[h0 + i]);
              }
              for (std::size_t j = 0; j < columns.size(); ++j) {
                const std::size_t W = columns[j].width;
                for (std::size_t k = 0; k < W; ++k) {
                  if (src[j]) put_value(csv, src[j]->kind(), bufs[j], static_cast<std::size_t>(i) * W + k);
                  else csv.missing();
                }
              }
              csv.end_row();
            }
            if (progress) progress(done += n, rows);
          }
        }
      }
    csv.close();
    const std::string name = file("panel");
    codebook.push_back({"arm", "", "Policy arm (scenario order: /arm_names); every arm ran on the same population",
                        name, "", "/arm_names"});
    codebook.push_back({"replicate", "", "Replicate number (0-based); each replicate has its own population",
                        name, "", "arms/<arm>/replicate_R"});
    codebook.push_back({"household", "index",
                        "Household index within the replicate (row of " + file("households") + " for the same replicate)",
                        name, "", "panel second dimension"});
    codebook.push_back({"period", "", "Output period label (2017 yearly, 2017Q1 quarterly, 2017-01 monthly)",
                        name, "", "/periods"});
    if (placed) {
      codebook.push_back({"centre", "index", "Population centre of the household (row of " + file("centres") +
                          " for the same replicate)", name, "", "population/replicate_R/households/centre"});
      codebook.push_back({"district", "index", "District of the household's centre (row of " + file("districts") +
                          " for the same replicate)", name, "", "population/replicate_R/centres/district"});
      std::string meanings;
      for (const auto& c : region_codes) meanings += (meanings.empty() ? "" : ", ") + std::to_string(c.value) + " " + c.meaning;
      codebook.push_back({"region", "", "Natural region of the household's district" +
                          (meanings.empty() ? std::string() : ": " + meanings), name, "",
                          "population/replicate_R/districts/region"});
    }
    add_codebook(codebook, name, columns, "arms/<arm>/replicate_R/panel/");
    return ExportedTable{name, csv.rows(), csv.columns()};
  }

  // aggregates.csv: arm, replicate, period, then each variable's household mean.
  std::optional<ExportedTable> aggregates() {
    std::vector<std::pair<std::string, std::vector<std::string>>> groups;
    for (const auto& arm : c_.arms)
      for (auto r : c_.replicates)
        if (in_.has_aggregates(arm, r)) groups.push_back({unit_key(arm, r), in_.aggregate_variables(arm, r)});
    if (groups.empty()) {
      notes.push_back("the file has no aggregates; " + file("aggregates") + " not written");
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
    if (planning_) return plan_columns(columns);
    std::set<std::string> taken = {"arm", "replicate", "period"};
    make_headers(columns, taken, shorts_);
    const std::size_t P = c_.periods.size();
    std::size_t rows = 0;
    for (const auto& arm : c_.arms)
      for (auto r : c_.replicates)
        if (in_.has_aggregates(arm, r)) rows += P;
    std::vector<Field> fields = {text_field("arm", "Policy arm", longest(c_.arms)),
                                 whole_field("replicate", "Replicate (0-based)"),
                                 period_field()};
    const auto vf = fields_of(columns, "Mean: ");
    fields.insert(fields.end(), vf.begin(), vf.end());
    const auto table = open("aggregates", fields, rows, "household means by period");
    Table& csv = *table;
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
          csv.text(arm);
          csv.number(static_cast<std::int64_t>(r));
          put_period(csv, p);
          for (std::size_t j = 0; j < columns.size(); ++j)
            for (std::size_t k = 0; k < columns[j].width; ++k) {
              if (src[j]) put_value(csv, src[j]->kind(), bufs[j], p * columns[j].width + k);
              else csv.missing();
            }
          csv.end_row();
        }
      }
    csv.close();
    const std::string name = file("aggregates");
    codebook.push_back({"arm", "", "Policy arm (scenario order: /arm_names)", name, "", "/arm_names"});
    codebook.push_back({"replicate", "", "Replicate number (0-based)", name, "", "arms/<arm>/replicate_R"});
    codebook.push_back({"period", "", "Output period label", name, "", "/periods"});
    add_codebook(codebook, name, columns, "arms/<arm>/replicate_R/aggregates/");
    return ExportedTable{name, csv.rows(), csv.columns()};
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
    const std::string name = file(table_name);
    if (groups.empty()) {
      notes.push_back("the file has no population " + table_name + " table; " + name + " not written");
      return std::nullopt;
    }
    auto columns = collect_columns(groups, 1, [&](const std::string& key, const std::string& column) {
      return in_.population(static_cast<std::uint32_t>(std::stoul(key)), table, column);
    }, notes);
    if (planning_) return plan_columns(columns);
    std::set<std::string> taken = {"replicate", id};
    make_headers(columns, taken, shorts_);
    // A replicate's columns of the table and its rows (checked to agree).
    auto open_group = [&](std::uint32_t r, std::vector<std::optional<Dataset>>& src) {
      src.clear();
      src.resize(columns.size());
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
      return N;
    };
    std::vector<std::optional<Dataset>> src;
    std::size_t rows = 0;
    for (auto r : group_rep) rows += open_group(r, src);
    std::vector<Field> fields = {whole_field("replicate", "Replicate (0-based)"),
                                 whole_field(id, "Row of the " + table_name + " table within the replicate")};
    const auto vf = fields_of(columns, table == layout::Table::households ? "At the start: " : "");
    fields.insert(fields.end(), vf.begin(), vf.end());
    const auto out = open(table_name, fields, rows, table_name + " of the synthetic population");
    Table& csv = *out;
    std::vector<std::vector<unsigned char>> bufs(columns.size());
    for (std::size_t gi = 0; gi < groups.size(); ++gi) {
      const std::uint32_t r = group_rep[gi];
      const hsize_t N = open_group(r, src);
      for (hsize_t r0 = 0; r0 < N; r0 += kBlockRows) {
        check_stop();
        const hsize_t n = std::min(kBlockRows, N - r0);
        for (std::size_t j = 0; j < columns.size(); ++j)
          if (src[j]) src[j]->read({r0}, {n}, src[j]->kind(), bufs[j]);
        for (hsize_t i = 0; i < n; ++i) {
          csv.number(static_cast<std::int64_t>(r));
          csv.number(static_cast<std::uint64_t>(r0 + i));
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
      notes.push_back("the file has no /comparison table; " + file("comparison") +
                      " not written (chacra compare OUT.h5 --format csv computes it)");
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
    std::vector<Field> fields;
    for (const auto* c : columns) {
      headers.push_back(column_names(c->name, {}, taken).front());
      if (c->text) {
        std::size_t width = 1;
        for (const auto& x : c->strings) width = std::max(width, x.size());
        fields.push_back(text_field(headers.back(), c->description, width));
      } else {
        fields.push_back({headers.back(), dta::fit(c->description, dta::kLabelMax),
                          c->type == ColumnType::i32 ? dta::Type::int32 : dta::Type::float64, 1, "", {}});
      }
    }
    const auto table = open("comparison", fields, records.rows(), "effects of each arm against its reference");
    Table& csv = *table;
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
                          columns[k]->description, file("comparison"), "", "comparison/" + columns[k]->name});
    return ExportedTable{file("comparison"), csv.rows(), csv.columns()};
  }

  // economies.csv: each unit's local economies table (arms/<arm>/replicate_R/economies, the local markets
  // channel): arm, replicate, then its columns, one row per economy and clearing period.
  std::optional<ExportedTable> economies() {
    std::vector<std::pair<std::pair<std::string, std::uint32_t>, Records>> units;
    for (const auto& arm : c_.arms)
      for (auto r : c_.replicates) {
        const std::string path = layout::unit_table(arm, r, layout::kEconomies);
        if (has_records(in_.id(), path, "economy")) units.push_back({{arm, r}, read_records(in_.id(), path)});
      }
    if (units.empty()) return std::nullopt;  // no local markets in the run: nothing to say
    const Records& first = units.front().second;
    std::size_t rows = 0;
    for (const auto& [key, rec] : units) {
      rows += rec.rows();
      if (rec.columns.size() != first.columns.size())
        throw FileError("the economies tables of arm '" + key.first + "' replicate " + std::to_string(key.second) +
                        " and of the first unit have different columns");
    }
    std::set<std::string> taken = {"arm", "replicate"};
    std::vector<std::string> headers;
    std::vector<Field> fields = {text_field("arm", "Policy arm", longest(c_.arms)),
                                 whole_field("replicate", "Replicate (0-based)")};
    for (const auto& c : first.columns) {
      headers.push_back(column_names(c.name, {}, taken).front());
      fields.push_back({headers.back(), dta::fit(c.description, dta::kLabelMax),
                        c.type == ColumnType::i32 ? dta::Type::int32 : dta::Type::float64, 1, "", {}});
    }
    const auto table = open("economies", fields, rows, "local economies by clearing period");
    Table& csv = *table;
    for (const auto& [key, rec] : units) {
      check_stop();
      for (std::size_t i = 0; i < rec.rows(); ++i) {
        csv.text(key.first);
        csv.number(static_cast<std::int64_t>(key.second));
        for (std::size_t k = 0; k < rec.columns.size(); ++k) {
          const RecordColumn& c = rec.columns[k];
          if (c.name != first.columns[k].name)
            throw FileError("column " + std::to_string(k) + " of the economies table of arm '" + key.first +
                            "' replicate " + std::to_string(key.second) + " is " + c.name + ", not " +
                            first.columns[k].name);
          if (c.type == ColumnType::i32) csv.number(static_cast<std::int64_t>(c.numbers[i]));
          else csv.number(c.numbers[i]);
        }
        csv.end_row();
      }
    }
    csv.close();
    codebook.push_back({"arm", "", "Policy arm", file("economies"), "", "arms/<arm>"});
    codebook.push_back({"replicate", "", "Replicate (0-based)", file("economies"), "", "arms/<arm>/replicate_R"});
    for (std::size_t k = 0; k < first.columns.size(); ++k)
      codebook.push_back({headers[k], "", first.columns[k].description, file("economies"), "",
                          "arms/<arm>/replicate_R/economies/" + first.columns[k].name});
    return ExportedTable{file("economies"), csv.rows(), csv.columns()};
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
  // Where each household of a replicate lives: its centre, district and region.
  struct Places {
    std::vector<std::int64_t> centre, district, region;
  };
  std::optional<Places> places_of(std::uint32_t r, std::vector<CodeLabel>& region_codes) const {
    auto column = [&](layout::Table t, const char* name) -> std::optional<std::vector<std::int64_t>> {
      if (!in_.has_population_table(r, t) || !in_.has_population_column(r, t, name)) return std::nullopt;
      const Dataset d = in_.population(r, t, name);
      if (!d.numeric() || d.dims().size() != 1) return std::nullopt;
      if (t == layout::Table::districts && region_codes.empty()) region_codes = d.variable().codes;
      std::vector<unsigned char> buf;
      d.read({0}, {d.dims()[0]}, ValueKind::i64, buf);
      std::vector<std::int64_t> v(static_cast<std::size_t>(d.dims()[0]));
      if (!v.empty()) std::memcpy(v.data(), buf.data(), v.size() * sizeof(std::int64_t));
      return v;
    };
    auto centre = column(layout::Table::households, "centre");
    auto district = column(layout::Table::centres, "district");
    auto region = column(layout::Table::districts, "region");
    if (!centre || !district || !region) return std::nullopt;
    Places p;
    p.centre = std::move(*centre);
    for (auto c : p.centre) {
      if (c < 0 || static_cast<std::size_t>(c) >= district->size())
        throw FileError("a household of replicate " + std::to_string(r) + " lives in centre " + std::to_string(c) +
                        ", beyond the " + std::to_string(district->size()) + " rows of its centres table");
      const auto d = (*district)[static_cast<std::size_t>(c)];
      if (d < 0 || static_cast<std::size_t>(d) >= region->size())
        throw FileError("centre " + std::to_string(c) + " of replicate " + std::to_string(r) + " is in district " +
                        std::to_string(d) + ", beyond the " + std::to_string(region->size()) +
                        " rows of its districts table");
      p.district.push_back(d);
      p.region.push_back((*region)[static_cast<std::size_t>(d)]);
    }
    return p;
  }

  std::optional<ExportedTable> plan_columns(const std::vector<Column>& columns) {
    for (const auto& c : columns)
      if (c.width > 1 && c.labelled) planned_.emplace_back(c.described.name, c.labels);
    return std::nullopt;
  }
  // Yearly periods (2017, 2018...) are whole numbers, which Stata's xtset and tsset need; others are text
  // (2017Q1, 2017-01).
  static bool yearly(const std::vector<std::string>& periods) {
    return std::all_of(periods.begin(), periods.end(), [](const std::string& p) {
      return !p.empty() && p.size() <= 9 && p.find_first_not_of("0123456789") == std::string::npos;
    });
  }
  bool yearly() const { return yearly_; }
  Field period_field() const {
    const std::string label = "Output period (2017 yearly, 2017Q1 quarterly, 2017-01 monthly)";
    return yearly() ? whole_field("period", label) : text_field("period", label, longest(c_.periods));
  }
  void put_period(Table& t, std::size_t p) const {
    if (yearly()) t.number(static_cast<std::int64_t>(std::stoll(c_.periods[p])));
    else t.text(c_.periods[p]);
  }
  // The file name of a table: panel.csv, panel.csv.gz or panel.dta.
  std::string file(const std::string& stem) const { return stem + (stata_ ? ".dta" : gzip_ ? ".csv.gz" : ".csv"); }
  std::unique_ptr<Table> open(const std::string& stem, const std::vector<Field>& fields, std::size_t rows,
                              const std::string& what) const {
    const fs::path path = dir_ / file(stem);
    if (!stata_) return std::make_unique<CsvTable>(path, missing_, fields, gzip_);
    return std::make_unique<DtaTable>(path, "chacra " + input_name_ + ": " + what, fields, rows);
  }
  static std::size_t longest(const std::vector<std::string>& v) {
    std::size_t n = 1;
    for (const auto& x : v) n = std::max(n, x.size());
    return n;
  }
  const Reader& in_;
  const Contents& c_;
  fs::path dir_;
  std::string missing_;
  bool stata_ = false, gzip_ = false;
  std::string input_name_;  // the output file's name, in the .dta file labels
  bool yearly_ = false;
  bool planning_ = false;
  std::vector<std::pair<std::string, std::vector<std::string>>> planned_;  // variables with sub-column labels
  ShortLabels shorts_;
};

// The files an export writes: the only ones it ever removes (docs/reliability.md, "Files").
const std::set<std::string>& export_files() {
  // Each table as CSV, gzipped CSV (--gzip) or Stata (--stata).
  static const std::set<std::string> names = [] {
    std::set<std::string> n = {"scenario.yaml"};
    for (const char* table : {"panel", "aggregates", "comparison", "economies", "households", "centres", "districts",
                              "provenance", "codebook"})
      for (const char* ext : {".csv", ".csv.gz", ".dta"}) n.insert(std::string(table) + ext);
    return n;
  }();
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
  Exporter ex(in, contents, partial, options.missing, options.stata, options.gzip,
              fs::path(options.input).filename().string());
  ex.plan(options.panel);
  ex.progress = options.progress;
  ExportSummary summary;
  summary.directory = dir.string();
  if (options.panel) {
    if (auto t = ex.panel()) summary.tables.push_back(*t);
  }
  if (auto t = ex.aggregates()) summary.tables.push_back(*t);
  if (auto t = ex.comparison()) summary.tables.push_back(*t);
  if (auto t = ex.economies()) summary.tables.push_back(*t);
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
