// The end-of-run summary (see study/run_summary.hpp).
#include "study/run_summary.hpp"

#include "models/haku_winay.hpp"
#include "models/juntos.hpp"
#include "models/shared_state.hpp"
#include "sim/output/reader.hpp"
#include "study/comparison.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

namespace chacra::study {

namespace {

// A column of the means table: the variable, its heading and its unit.
struct Shown {
  std::string variable, heading, unit;
};

constexpr std::size_t kArmWidthMax = 24;
constexpr std::size_t kColumnWidth = 12;
constexpr std::size_t kColumnsPerTable = 6;  // 2 + 24 + 6 x 12 = 98 columns

}  // namespace

std::string format_run_summary(const Scenario& scenario, const RunResult& r, bool full) {
  std::ostringstream os;
  char line[512];
  std::snprintf(line, sizeof line, "chacra %s (%s): scenario '%s'\n", chacra_version().c_str(), chacra_commit().c_str(),
                scenario.name.c_str());
  os << line;
  const long long replicates = static_cast<long long>(scenario.base.integer("run.replicates"));
  os << "  " << format_fixed(static_cast<double>(r.household_months), 0) << " household-months: "
     << format_fixed(static_cast<double>(r.households), 0) << " households x " << r.period_labels.size()
     << " periods x " << scenario.arms.size() << " arms x " << replicates << " replicates\n";
  const double rate = r.seconds > 0 ? static_cast<double>(r.household_months) / r.seconds / 1e6 : 0.0;
  os << "  " << format_fixed(r.seconds, r.seconds < 10 ? 2 : 1) << " s on " << r.threads << " thread"
     << (r.threads == 1 ? "" : "s") << " (" << format_fixed(rate, decimals_for(rate)) << " M household-months/s)\n";
  if (!r.output_path.empty()) os << "  wrote " << r.output_path << "\n";
  if (r.period_labels.empty() || r.units.empty()) return os.str();
  namespace col = models::col;
  std::vector<Shown> preferred = {{std::string(col::income_monetary_pen.name), "income", "PEN"},
                                  {std::string(col::consumption_pen.name), "consumption", "PEN"},
                                  {std::string(col::poor.name), "poor", "share"},
                                  {std::string(col::extreme_poor.name), "ext. poor", "share"},
                                  {std::string(col::cost_juntos_pen.name), "Juntos cost", "PEN"},
                                  {std::string(col::cost_hw_pen.name), "HW cost", "PEN"}};
  if (full) {
    preferred.push_back({std::string(col::juntos_transfer_pen.name), "Juntos paid", "PEN"});
    preferred.push_back({std::string(col::hw_participant.name), "in HW", "share"});
  }
  std::vector<Shown> shown;
  for (const auto& v : preferred)
    if (r.units.front().has(v.variable)) shown.push_back(v);
  if (shown.empty())
    for (std::size_t i = 0; i < r.units.front().variables.size() && shown.size() < kColumnsPerTable; ++i)
      if (r.units.front().widths[i] == 1) {
        std::string name = r.units.front().variables[i];
        if (name.size() > kColumnWidth - 1) name = name.substr(0, kColumnWidth - 2) + "~";
        shown.push_back({r.units.front().variables[i], name, ""});
      }
  const std::size_t last = r.period_labels.size() - 1;
  std::size_t arm_w = 12;
  for (const auto& arm : scenario.arms) arm_w = std::max(arm_w, arm.name.size());
  arm_w = std::min(arm_w, kArmWidthMax);
  // means[a][j]: the arm's household mean of shown[j] in the last period, averaged over replicates.
  std::vector<std::vector<double>> means(scenario.arms.size(), std::vector<double>(shown.size(), 0.0));
  for (std::size_t a = 0; a < scenario.arms.size(); ++a)
    for (std::size_t j = 0; j < shown.size(); ++j) {
      double s = 0;
      int n = 0;
      for (const auto& u : r.units)
        if (u.arm == scenario.arms[a].name) s += u.mean(shown[j].variable, last), ++n;
      means[a][j] = n ? s / n : 0.0;
    }
  os << "\nHousehold means in " << r.period_labels[last]
     << " (flows are sums over the period; averaged over replicates)\n";
  for (std::size_t first = 0; first < shown.size(); first += kColumnsPerTable) {
    const std::size_t end = std::min(shown.size(), first + kColumnsPerTable);
    std::string head = "  " + std::string("arm") + std::string(arm_w - 3, ' ');
    std::string units = "  " + std::string(arm_w, ' ');
    for (std::size_t j = first; j < end; ++j) {
      std::snprintf(line, sizeof line, " %*s", static_cast<int>(kColumnWidth - 1), shown[j].heading.c_str());
      head += line;
      std::snprintf(line, sizeof line, " %*s", static_cast<int>(kColumnWidth - 1), shown[j].unit.c_str());
      units += line;
    }
    os << head << "\n";
    if (units.find_first_not_of(' ') != std::string::npos) os << units << "\n";
    std::vector<int> decimals;
    for (std::size_t j = first; j < end; ++j) {
      double magnitude = 0;
      for (const auto& row : means) magnitude = std::max(magnitude, std::abs(row[j]));
      decimals.push_back(shown[j].unit == "share" && magnitude > 0 ? 3 : decimals_for(magnitude));
    }
    for (std::size_t a = 0; a < scenario.arms.size(); ++a) {
      std::string name = scenario.arms[a].name;
      if (name.size() > arm_w) name = name.substr(0, arm_w - 1) + "~";
      std::snprintf(line, sizeof line, "  %-*s", static_cast<int>(arm_w), name.c_str());
      os << line;
      for (std::size_t j = first; j < end; ++j) {
        std::snprintf(line, sizeof line, " %*s", static_cast<int>(kColumnWidth - 1),
                      format_fixed(means[a][j], decimals[j - first]).c_str());
        os << line;
      }
      os << "\n";
    }
  }
  std::vector<std::string> arms;
  for (const auto& arm : scenario.arms) arms.push_back(arm.name);
  std::vector<ArmReach> reach;
  for (const auto& u : r.units) reach.emplace_back(u.arm, u.reach);
  os << format_reach(arms, reach);
  return os.str();
}

std::string format_reach(const std::vector<std::string>& arms, const std::vector<ArmReach>& units) {
  // Items in the order the modules report them (the first unit that reports an item places it).
  std::vector<std::pair<std::string, std::string>> items;  // module, item
  std::map<std::pair<std::string, std::string>, std::string> units_of;
  for (const auto& [arm, rows] : units)
    for (const auto& x : rows) {
      const auto key = std::make_pair(x.module, x.item);
      if (units_of.emplace(key, x.unit).second) items.push_back(key);
    }
  if (items.empty()) return "";
  // mean[k][a]: item k's value in arm a, averaged over the arm's replicates (NaN where the arm has none).
  std::vector<std::vector<double>> mean(items.size(), std::vector<double>(arms.size(), std::nan("")));
  for (std::size_t k = 0; k < items.size(); ++k)
    for (std::size_t a = 0; a < arms.size(); ++a) {
      double s = 0;
      int n = 0;
      for (const auto& [arm, rows] : units) {
        if (arm != arms[a]) continue;
        for (const auto& x : rows)
          if (x.module == items[k].first && x.item == items[k].second) s += x.value, ++n;
      }
      if (n > 0) mean[k][a] = s / n;
    }
  // Within 100 columns as the rest of the summary: arms in blocks of kReachArmsPerTable, names up to 20
  // characters (arms that differ only at the end, graduation and graduation_waves, stay apart).
  constexpr int kItemWidth = 34;  // haku_winay.businesses_surviving_5y
  constexpr std::size_t kReachArmsPerTable = 3;  // 2 + 34 + 3 x 21 = 99 columns
  constexpr std::size_t kReachColumnWidth = 21;
  std::ostringstream os;
  char line[512];
  os << "\n  reach at the end of the run (means over replicates; docs/policy_arms.md, \"Reach\"):\n";
  for (std::size_t first = 0; first < arms.size(); first += kReachArmsPerTable) {
    const std::size_t end = std::min(arms.size(), first + kReachArmsPerTable);
    std::snprintf(line, sizeof line, "  %-*s", kItemWidth, "");
    os << line;
    for (std::size_t a = first; a < end; ++a) {
      std::string name = arms[a];
      if (name.size() > kReachColumnWidth - 1) name = name.substr(0, kReachColumnWidth - 2) + "~";
      std::snprintf(line, sizeof line, " %*s", static_cast<int>(kReachColumnWidth - 1), name.c_str());
      os << line;
    }
    os << "\n";
    for (std::size_t k = 0; k < items.size(); ++k) {
      std::string label = items[k].first + "." + items[k].second;
      if (label.size() > static_cast<std::size_t>(kItemWidth)) label = label.substr(0, kItemWidth - 1) + "~";
      std::snprintf(line, sizeof line, "  %-*s", kItemWidth, label.c_str());
      os << line;
      for (std::size_t a = first; a < end; ++a) {
        const double v = mean[k][a];
        const std::string text = std::isnan(v) ? "" : format_fixed(v, std::abs(v) >= 100 || v == std::round(v) ? 0 : 2);
        std::snprintf(line, sizeof line, " %*s", static_cast<int>(kReachColumnWidth - 1), text.c_str());
        os << line;
      }
      os << "\n";
    }
  }
  return os.str();
}

std::vector<ArmReach> read_reach(hid_t file) {
  output::Reader reader(file);
  std::vector<ArmReach> out;
  for (const auto& arm : reader.arms())
    for (std::uint32_t r : reader.replicates(arm))
      if (reader.has_reach(arm, r)) out.emplace_back(arm, output::reach_rows(reader.reach(arm, r)));
  return out;
}

}  // namespace chacra::study
