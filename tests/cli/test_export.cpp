// `chacra export OUT.h5 --csv DIR`: every CSV value equals the HDF5 value it came from, the tables are
// readable as they are by Stata and R (header names, NA, quoting), and bad inputs and existing directories
// give the documented exit statuses without leaving anything behind.
#include "cli_helpers.hpp"
#include "process_helpers.hpp"

#include "sim/output/h5.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
using clitest::run;

namespace {

// RFC 4180 rows: quoted fields may hold commas, doubled quotes and line breaks.
std::vector<std::vector<std::string>> read_csv(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cur;
  bool quoted = false, any = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') cur += '"', ++i;
      else if (c == '"') quoted = false;
      else cur += c;
    } else if (c == '"') {
      quoted = true, any = true;
    } else if (c == ',') {
      row.push_back(cur), cur.clear(), any = true;
    } else if (c == '\n') {
      row.push_back(cur), cur.clear();
      rows.push_back(row), row.clear();
      any = false;
    } else {
      cur += c, any = true;
    }
  }
  if (any || !row.empty()) row.push_back(cur), rows.push_back(row);
  return rows;
}

struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::map<std::string, std::size_t> col;
};

Csv load(const std::string& path) {
  Csv c;
  auto all = read_csv(path);
  EXPECT_FALSE(all.empty()) << path;
  if (all.empty()) return c;
  c.header = all.front();
  c.rows.assign(all.begin() + 1, all.end());
  for (std::size_t i = 0; i < c.header.size(); ++i) c.col[c.header[i]] = i;
  return c;
}

bool is_float_dataset(hid_t parent, const std::string& name) {
  chacra::h5::Handle ds(H5Dopen2(parent, name.c_str(), H5P_DEFAULT));
  chacra::h5::Handle type(H5Dget_type(ds));
  return H5Tget_class(type) == H5T_FLOAT;
}

bool is_f32_dataset(hid_t parent, const std::string& name) {
  chacra::h5::Handle ds(H5Dopen2(parent, name.c_str(), H5P_DEFAULT));
  chacra::h5::Handle type(H5Dget_type(ds));
  return H5Tget_class(type) == H5T_FLOAT && H5Tget_size(type) == 4;
}

// The CSV text equals the HDF5 value: integers exactly, float32 read back as float32, float64 as double,
// NaN as NA.
::testing::AssertionResult same_value(const std::string& text, double value, bool is_float, bool is_f32) {
  if (std::isnan(value)) {
    if (text == "NA") return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "NaN written as '" << text << "'";
  }
  if (text == "NA" || text.empty()) return ::testing::AssertionFailure() << value << " written as '" << text << "'";
  char* end = nullptr;
  if (!is_float) {
    const long long v = std::strtoll(text.c_str(), &end, 10);
    if (*end == '\0' && static_cast<double>(v) == value) return ::testing::AssertionSuccess();
  } else if (is_f32) {
    const float v = std::strtof(text.c_str(), &end);
    if (*end == '\0' && v == static_cast<float>(value)) return ::testing::AssertionSuccess();
  } else {
    const double v = std::strtod(text.c_str(), &end);
    if (*end == '\0' && v == value) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "'" << text << "' is not " << value;
}

// (variable, sub-column) of a CSV column from the codebook's source column: "prefix/var" or
// "prefix/var[k] (label)".
std::map<std::string, std::pair<std::string, std::size_t>> columns_from_codebook(const Csv& cb, const std::string& file,
                                                                                 const std::string& prefix) {
  std::map<std::string, std::pair<std::string, std::size_t>> out;
  for (const auto& r : cb.rows) {
    if (r[cb.col.at("file")] != file) continue;
    const std::string src = r[cb.col.at("source")];
    if (src.rfind(prefix, 0) != 0) continue;
    std::string rest = src.substr(prefix.size());
    std::size_t k = 0;
    if (auto b = rest.find('['); b != std::string::npos) {
      k = std::stoul(rest.substr(b + 1));
      rest = rest.substr(0, b);
    }
    out[r[cb.col.at("variable")]] = {rest, k};
  }
  return out;
}

std::string small_run(const std::string& dir, const std::string& extra = "") {
  auto r = run(std::string("run --quiet -o out.h5 --force ") + clitest::kSmallSet +
                   " --set run.replicates=2 --set population.households=600 " + extra,
               dir);
  EXPECT_EQ(r.status, 0) << r.out;
  return dir + "/out.h5";
}

}  // namespace

TEST(CliExport, PanelAggregatesAndTablesRoundTrip) {
  const auto dir = clitest::temp_dir("export_roundtrip");
  const std::string h5path = small_run(dir);
  auto r = run("export out.h5 --csv csv", dir);
  ASSERT_EQ(r.status, 0) << r.out;
  for (const char* f : {"panel.csv", "aggregates.csv", "households.csv", "centres.csv", "districts.csv",
                        "provenance.csv", "codebook.csv", "scenario.yaml"})
    EXPECT_TRUE(fs::exists(dir + "/csv/" + f)) << f;
  EXPECT_FALSE(fs::exists(dir + "/csv.partial"));

  chacra::h5::quiet_errors();
  chacra::h5::Handle file = chacra::h5::open_file_readonly(h5path);
  const auto arms = chacra::h5::read_strings(file, "arm_names");
  const auto periods = chacra::h5::read_strings(file, "periods");
  const Csv cb = load(dir + "/csv/codebook.csv");
  ASSERT_EQ(cb.header, (std::vector<std::string>{"variable", "unit", "description", "file", "aggregation", "source"}));

  // Panel: one row per arm x replicate x period x household, in that order.
  const Csv panel = load(dir + "/csv/panel.csv");
  ASSERT_GE(panel.header.size(), 8u);
  EXPECT_EQ((std::vector<std::string>(panel.header.begin(), panel.header.begin() + 7)),
            (std::vector<std::string>{"arm", "replicate", "household", "period", "centre", "district", "region"}));
  const auto pcols = columns_from_codebook(cb, "panel.csv", "arms/<arm>/replicate_R/panel/");
  EXPECT_EQ(pcols.size(), panel.header.size() - 7) << "every variable column is in the codebook";
  std::size_t row = 0, checked = 0;
  for (const auto& arm : arms)
    for (int rep = 0; rep < 2; ++rep) {
      const std::string g = "arms/" + arm + "/replicate_" + std::to_string(rep) + "/panel";
      chacra::h5::Handle pg = chacra::h5::open_group(file, g);
      std::map<std::string, std::vector<double>> data;
      std::map<std::string, std::vector<hsize_t>> dims;
      std::map<std::string, std::pair<bool, bool>> floats;  // (float, float32)
      for (const auto& v : chacra::h5::list(pg)) {
        data[v] = chacra::h5::read_doubles(pg, v, &dims[v]);
        floats[v] = {is_float_dataset(pg, v), is_f32_dataset(pg, v)};
      }
      const std::size_t H = dims.begin()->second[1];
      for (std::size_t p = 0; p < periods.size(); ++p)
        for (std::size_t i = 0; i < H; ++i, ++row) {
          ASSERT_LT(row, panel.rows.size());
          const auto& cells = panel.rows[row];
          ASSERT_EQ(cells.size(), panel.header.size()) << "row " << row;
          ASSERT_EQ(cells[0], arm);
          ASSERT_EQ(cells[1], std::to_string(rep));
          ASSERT_EQ(cells[2], std::to_string(i));
          ASSERT_EQ(cells[3], periods[p]);
          for (const auto& [header, vk] : pcols) {
            const auto& [var, k] = vk;
            const auto& d = dims.at(var);
            const std::size_t W = d.size() == 3 ? d[2] : 1;
            const double value = data.at(var)[(p * H + i) * W + k];
            const auto [is_float, is_f32] = floats.at(var);
            ASSERT_TRUE(same_value(cells[panel.col.at(header)], value, is_float, is_f32))
                << header << " arm " << arm << " replicate " << rep << " period " << p << " household " << i;
            ++checked;
          }
        }
    }
  EXPECT_EQ(row, panel.rows.size());
  EXPECT_GT(checked, 100000u);

  // Aggregates (float64 household means).
  const Csv agg = load(dir + "/csv/aggregates.csv");
  const auto acols = columns_from_codebook(cb, "aggregates.csv", "arms/<arm>/replicate_R/aggregates/");
  ASSERT_FALSE(acols.empty());
  row = 0;
  for (const auto& arm : arms)
    for (int rep = 0; rep < 2; ++rep) {
      chacra::h5::Handle ag = chacra::h5::open_group(file, "arms/" + arm + "/replicate_" + std::to_string(rep) +
                                                               "/aggregates");
      for (std::size_t p = 0; p < periods.size(); ++p, ++row) {
        const auto& cells = agg.rows.at(row);
        ASSERT_EQ(cells[0], arm);
        ASSERT_EQ(cells[2], periods[p]);
        for (const auto& [header, vk] : acols) {
          std::vector<hsize_t> d;
          const auto v = chacra::h5::read_doubles(ag, vk.first, &d);
          const std::size_t W = d.size() == 2 ? d[1] : 1;
          EXPECT_TRUE(same_value(cells[agg.col.at(header)], v[p * W + vk.second], is_float_dataset(ag, vk.first),
                                 is_f32_dataset(ag, vk.first)))
              << header;
        }
      }
    }
  EXPECT_EQ(row, agg.rows.size());

  // Population tables of every replicate.
  for (const auto& [table, id] : std::vector<std::pair<std::string, std::string>>{
           {"households", "household"}, {"centres", "centre"}, {"districts", "district"}}) {
    const Csv t = load(dir + "/csv/" + table + ".csv");
    EXPECT_EQ(t.header.at(0), "replicate");
    EXPECT_EQ(t.header.at(1), id);
    const auto cols = columns_from_codebook(cb, table + ".csv", "population/replicate_R/" + table + "/");
    ASSERT_EQ(cols.size(), t.header.size() - 2) << table;
    row = 0;
    for (int rep = 0; rep < 2; ++rep) {
      chacra::h5::Handle g = chacra::h5::open_group(file, "population/replicate_" + std::to_string(rep) + "/" + table);
      std::map<std::string, std::vector<double>> data;
      std::map<std::string, std::vector<hsize_t>> dims;
      std::map<std::string, std::pair<bool, bool>> floats;  // (float, float32)
      for (const auto& v : chacra::h5::list(g)) {
        data[v] = chacra::h5::read_doubles(g, v, &dims[v]);
        floats[v] = {is_float_dataset(g, v), is_f32_dataset(g, v)};
      }
      const std::size_t N = dims.begin()->second[0];
      for (std::size_t i = 0; i < N; ++i, ++row) {
        const auto& cells = t.rows.at(row);
        ASSERT_EQ(cells[0], std::to_string(rep));
        ASSERT_EQ(cells[1], std::to_string(i));
        for (const auto& [header, vk] : cols) {
          const auto& d = dims.at(vk.first);
          const std::size_t W = d.size() == 2 ? d[1] : 1;
          const auto [is_float, is_f32] = floats.at(vk.first);
          ASSERT_TRUE(same_value(cells[t.col.at(header)], data.at(vk.first)[i * W + vk.second], is_float, is_f32))
              << table << " " << header << " row " << i;
        }
      }
    }
    EXPECT_EQ(row, t.rows.size()) << table;
  }

  // Comparison table, when the run wrote one: the same rows and numbers as /comparison.
  if (chacra::h5::exists(file, "comparison")) {
    chacra::h5::Handle g = chacra::h5::open_group(file, "comparison");
    const Csv cmp = load(dir + "/csv/comparison.csv");
    const auto arm_col = chacra::h5::read_strings(g, "arm");
    ASSERT_EQ(cmp.rows.size(), arm_col.size());
    for (const char* s : {"arm", "reference", "outcome", "subgroup", "statistic", "unit"}) {
      const auto v = chacra::h5::read_strings(g, s);
      for (std::size_t i = 0; i < v.size(); ++i) ASSERT_EQ(cmp.rows[i][cmp.col.at(s)], v[i]) << s << " row " << i;
    }
    for (const char* s : {"mean_effect", "ci_low", "ci_high", "n_replicates"}) {
      const auto v = chacra::h5::read_doubles(g, s);
      for (std::size_t i = 0; i < v.size(); ++i)
        ASSERT_TRUE(same_value(cmp.rows[i][cmp.col.at(s)], v[i], std::string(s) != "n_replicates", false))
            << s << " row " << i;
    }
  } else {
    EXPECT_FALSE(fs::exists(dir + "/csv/comparison.csv"));
  }
}

TEST(CliExport, TablesAreReadableByStataAndR) {
  const auto dir = clitest::temp_dir("export_format");
  small_run(dir);
  auto r = run("export out.h5 --csv csv --quiet", dir);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(r.out.empty()) << r.out;
  const std::regex stata_name("[A-Za-z_][A-Za-z0-9_]{0,31}");
  for (const auto& entry : fs::directory_iterator(dir + "/csv")) {
    if (entry.path().extension() != ".csv") continue;
    std::ifstream in(entry.path());
    std::string first;
    std::getline(in, first);
    for (unsigned char c : first) EXPECT_LT(c, 128) << entry.path() << ": header is not plain ASCII";
    const Csv t = load(entry.path().string());
    std::set<std::string> seen;
    for (const auto& h : t.header) {
      EXPECT_TRUE(std::regex_match(h, stata_name)) << entry.path() << ": '" << h << "' is not a valid Stata name";
      EXPECT_TRUE(seen.insert(h).second) << entry.path() << ": duplicate column " << h;
    }
    EXPECT_NE(t.header.front(), "") << "no unnamed index column";
    for (const auto& row : t.rows) {
      ASSERT_EQ(row.size(), t.header.size()) << entry.path() << ": ragged row";
      for (const auto& cell : row) {
        EXPECT_NE(cell, "nan");
        EXPECT_NE(cell, "NaN");
      }
    }
  }
  // Strings with a comma are quoted (an arm description of the default scenario has one).
  std::ifstream prov(dir + "/csv/provenance.csv");
  std::stringstream ss;
  ss << prov.rdbuf();
  EXPECT_NE(ss.str().find("\"Haku Winay with the 2017 targeting rule, no Juntos.\""), std::string::npos) << ss.str();
  // Multi-width variables get one column per label; the codebook documents each.
  const Csv panel = load(dir + "/csv/panel.csv");
  EXPECT_TRUE(panel.col.count("tech_state_vegetable_garden"));
  EXPECT_TRUE(panel.col.count("income_monetary_pen"));
  const Csv cb = load(dir + "/csv/codebook.csv");
  bool found = false;
  for (const auto& row : cb.rows)
    if (row[0] == "income_monetary_pen" && row[3] == "panel.csv") {
      found = true;
      EXPECT_EQ(row[1], "PEN");
      EXPECT_FALSE(row[2].empty());
      EXPECT_EQ(row[4], "sum over the period");
    }
  EXPECT_TRUE(found);
}

TEST(CliExport, SelectedVariablesAndUndefinedEffects) {
  // output.variables limits the panel's columns; comparison rows whose effect is undefined (a 5-year
  // sustained exit in a 3-year run) are NA, never empty or "nan".
  const auto dir = clitest::temp_dir("export_na");
  auto r = run(std::string("run --quiet -o out.h5 ") + clitest::kSmallSet +
                   " --set population.households=300 --set output.variables=[income_monetary_pen,poor]",
               dir);
  ASSERT_EQ(r.status, 0) << r.out;
  r = run("export out.h5 --csv csv", dir);
  ASSERT_EQ(r.status, 0) << r.out;
  const Csv panel = load(dir + "/csv/panel.csv");
  EXPECT_EQ(panel.header, (std::vector<std::string>{"arm", "replicate", "household", "period", "centre", "district",
                                                    "region", "income_monetary_pen", "poor"}));
  if (fs::exists(dir + "/csv/comparison.csv")) {
    const Csv cmp = load(dir + "/csv/comparison.csv");
    const std::size_t mean = cmp.col.at("mean_effect");
    for (const auto& row : cmp.rows) {
      for (const auto& cell : row) EXPECT_NE(cell, "nan");
      EXPECT_FALSE(row[mean].empty());
    }
  }
}

TEST(CliExport, MissingValueTextForStata) {
  // --na= writes missing values as empty fields (Stata reads those as missing; "NA" would make the column a
  // string in Stata).
  const auto dir = clitest::temp_dir("export_na_text");
  small_run(dir);
  auto r = run("export out.h5 --csv csv --na= --quiet", dir);
  ASSERT_EQ(r.status, 0) << r.out;
  for (const auto& entry : fs::directory_iterator(dir + "/csv")) {
    if (entry.path().extension() != ".csv") continue;
    const Csv t = load(entry.path().string());
    for (const auto& row : t.rows)
      for (const auto& cell : row) ASSERT_NE(cell, "NA") << entry.path();
  }
  if (fs::exists(dir + "/csv/comparison.csv")) {
    const Csv cmp = load(dir + "/csv/comparison.csv");
    bool empty = false;
    for (const auto& row : cmp.rows) empty = empty || row[cmp.col.at("arm_value")].empty();
    EXPECT_TRUE(empty) << "effect-only rows (paired differences) have no arm level";
  }
  EXPECT_EQ(run("export out.h5 --csv other --na ,", dir).status, 2);
  EXPECT_FALSE(fs::exists(dir + "/other"));
}

TEST(CliExport, ProgressOffATerminalOnlyWhenAsked) {
  // Tests run without a terminal: no progress unless --progress, which logs the panel rows written with the
  // ETA on stderr; --quiet prints nothing.
  const auto dir = clitest::temp_dir("export_progress");
  small_run(dir);
  auto r = run("export out.h5 --csv plain", dir);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.find("progress"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\r'), std::string::npos);
  const auto rows_at = r.out.find("panel.csv");
  ASSERT_NE(rows_at, std::string::npos) << r.out;
  const std::string rows = std::to_string(std::stoull(r.out.substr(rows_at + 9)));
  r = run("export out.h5 --stata dta --progress", dir);
  ASSERT_EQ(r.status, 0) << r.out;
  std::string all;  // with thousands separators, as the progress line writes counts
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (i > 0 && (rows.size() - i) % 3 == 0) all += ',';
    all += rows[i];
  }
  std::string expected = "progress: 100.0% (";  // appended, not a chain of +: GCC 12 -Wrestrict false positive
  expected.append(all).append(" of ").append(all).append(" panel rows, ");
  const auto line = r.out.find(expected);
  EXPECT_NE(line, std::string::npos) << "every panel row of panel.csv (" << rows << "), counted:\n" << r.out;
  EXPECT_NE(r.out.find("ETA", line), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find('\r'), std::string::npos) << "no carriage returns in a log";
  r = run("export out.h5 --csv quiet --progress --quiet", dir);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out, "") << "--quiet: nothing but errors";
}

TEST(CliExport, BadInputsAreRuntimeErrorsAndWriteNothing) {
  const auto dir = clitest::temp_dir("export_bad");
  // Missing file.
  auto r = run("export nothere.h5 --csv out", dir);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("nothere.h5"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("no such file"), std::string::npos) << r.out;
  // Not HDF5 at all.
  clitest::write_file(dir, "text.h5", "this is not an HDF5 file\n");
  r = run("export text.h5 --csv out", dir);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("not a readable HDF5 file"), std::string::npos) << r.out;
  // HDF5, but not a chacra output.
  {
    chacra::h5::quiet_errors();
    chacra::h5::Handle f = chacra::h5::create_file(dir + "/foreign.h5");
    chacra::h5::Handle g = chacra::h5::create_group(f, "something");
  }
  r = run("export foreign.h5 --csv out", dir);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("not a chacra output file"), std::string::npos) << r.out;
  // Truncated output.
  const std::string full = small_run(dir);
  {
    std::ifstream in(full, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(dir + "/truncated.h5", std::ios::binary).write(bytes.data(),
                                                                 static_cast<std::streamsize>(bytes.size() / 2));
  }
  r = run("export truncated.h5 --csv out", dir);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("truncated.h5"), std::string::npos) << r.out;
  // Nothing was left behind by any failure.
  EXPECT_FALSE(fs::exists(dir + "/out"));
  EXPECT_FALSE(fs::exists(dir + "/out.partial"));
  // Usage errors.
  EXPECT_EQ(run("export out.h5", dir).status, 2);
  EXPECT_EQ(run("export --csv out", dir).status, 2);
  EXPECT_EQ(run("export out.h5 --csv out --frobnicate", dir).status, 2);
  r = run("export " + full + " --csv out --stata out2", dir);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("not both"), std::string::npos) << r.out;
  r = run("export " + full + " --stata out --na .", dir);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--na"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir + "/out"));
  EXPECT_FALSE(fs::exists(dir + "/out2"));
  r = run("export --help", dir);
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("--csv"), std::string::npos);
  EXPECT_NE(r.out.find("--stata"), std::string::npos);
}

TEST(CliExport, StataTablesSitBesideTheCodebook) {
  // --stata writes the same tables as .dta files; provenance, codebook and scenario stay text, and the codebook
  // names the .dta files. (Their contents are read back with pandas.read_stata in tests/analysis.)
  const auto dir = clitest::temp_dir("export_stata");
  small_run(dir);
  auto r = run("export out.h5 --stata dta", dir);
  ASSERT_EQ(r.status, 0) << r.out;
  for (const char* f : {"panel.dta", "aggregates.dta", "households.dta", "centres.dta", "districts.dta",
                        "provenance.csv", "codebook.csv"})
    EXPECT_TRUE(fs::exists(dir + "/dta/" + f)) << f;
  EXPECT_FALSE(fs::exists(dir + "/dta/panel.csv"));
  const Csv cb = load(dir + "/dta/codebook.csv");
  std::set<std::string> files;
  for (const auto& row : cb.rows) files.insert(row[cb.col.at("file")]);
  EXPECT_TRUE(files.count("panel.dta"));
  EXPECT_FALSE(files.count("panel.csv"));
  std::ifstream in(dir + "/dta/panel.dta", std::ios::binary);
  std::string head(11, '\0');
  in.read(head.data(), 11);
  EXPECT_EQ(head, "<stata_dta>") << "a Stata 118 file";
  EXPECT_NE(r.out.find("panel.dta"), std::string::npos) << r.out;
}

TEST(CliExport, ExistingDirectoryNeedsForce) {
  const auto dir = clitest::temp_dir("export_force");
  small_run(dir);
  // An empty directory is used as it is.
  fs::create_directories(dir + "/empty");
  auto r = run("export out.h5 --csv empty --no-panel --quiet", dir);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(fs::exists(dir + "/empty/codebook.csv"));
  EXPECT_FALSE(fs::exists(dir + "/empty/panel.csv")) << "--no-panel";
  // A non-empty one is not touched without --force.
  clitest::write_file(dir + "/empty", "mine.txt", "keep me");
  r = run("export out.h5 --csv empty", dir);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--force"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(dir + "/empty/mine.txt"));
  EXPECT_FALSE(fs::exists(dir + "/empty/panel.csv"));
  EXPECT_FALSE(fs::exists(dir + "/empty.partial"));
  // With --force a previous export is replaced, but not while it holds a file of the user's.
  r = run("export out.h5 --csv empty --force --quiet", dir);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("holds mine.txt"), std::string::npos) << r.out;
  EXPECT_EQ(clitest::read_text(dir + "/empty/mine.txt"), "keep me");
  fs::remove(dir + "/empty/mine.txt");
  r = run("export out.h5 --csv empty --force --quiet", dir);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(fs::exists(dir + "/empty/panel.csv"));
  // A directory that is not an export is never deleted, even with --force.
  fs::create_directories(dir + "/precious");
  clitest::write_file(dir + "/precious", "thesis.tex", "years of work");
  r = run("export out.h5 --csv precious --force", dir);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_TRUE(fs::exists(dir + "/precious/thesis.tex"));
  // A DIR.partial holding anything but an export's files is never removed; one an export left (killed) is
  // replaced with --force.
  fs::create_directories(dir + "/fresh.partial");
  clitest::write_file(dir + "/fresh.partial", "junk.txt", "x");
  r = run("export out.h5 --csv fresh/ --force --quiet", dir);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_EQ(clitest::read_text(dir + "/fresh.partial/junk.txt"), "x");
  fs::remove(dir + "/fresh.partial/junk.txt");
  clitest::write_file(dir + "/fresh.partial", "panel.csv", "cut short");
  r = run("export out.h5 --csv fresh/ --quiet", dir);
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("use --force"), std::string::npos) << r.out;
  r = run("export out.h5 --csv fresh/ --force --quiet --no-panel", dir);
  EXPECT_EQ(r.status, 0) << r.out;
  EXPECT_TRUE(fs::exists(dir + "/fresh/codebook.csv"));
  EXPECT_FALSE(fs::exists(dir + "/fresh/panel.csv")) << "the stale partial's files are not carried over";
  EXPECT_FALSE(fs::exists(dir + "/fresh.partial"));
}
