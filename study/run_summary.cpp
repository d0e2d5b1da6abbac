// The end-of-run summary (see study/run_summary.hpp).
#include "study/run_summary.hpp"

#include "models/haku_winay.hpp"
#include "models/juntos.hpp"
#include "models/shared_state.hpp"

#include "sim/output/reader.hpp"

#include <cstdio>
#include <map>
#include <sstream>

namespace chacra::study {

std::string format_run_summary(const Scenario& scenario, const RunResult& r) {
  std::ostringstream os;
  char line[512];
  std::snprintf(line, sizeof line, "chacra %s (%s): scenario '%s'\n", chacra_version().c_str(), chacra_commit().c_str(),
                scenario.name.c_str());
  os << line;
  std::snprintf(line, sizeof line,
                "  %llu households x %zu periods x %zu arms x %lld replicates = %.4g household-months in %.2f s "
                "(%.3g M/s on %d threads)\n",
                static_cast<unsigned long long>(r.households), r.period_labels.size(), scenario.arms.size(),
                static_cast<long long>(scenario.base.integer("run.replicates")), static_cast<double>(r.household_months),
                r.seconds, r.seconds > 0 ? static_cast<double>(r.household_months) / r.seconds / 1e6 : 0.0, r.threads);
  os << line;
  if (!r.output_path.empty()) os << "  wrote " << r.output_path << "\n";
  if (r.period_labels.empty() || r.units.empty()) return os.str();
  namespace col = models::col;
  const std::vector<std::string> preferred = {
      std::string(col::income_monetary_pen.name), std::string(col::consumption_pen.name), std::string(col::poor.name),
      std::string(col::extreme_poor.name),        std::string(col::juntos_transfer_pen.name),
      std::string(col::hw_participant.name),      std::string(col::cost_juntos_pen.name),
      std::string(col::cost_hw_pen.name)};
  std::vector<std::string> shown;
  for (const auto& v : preferred)
    if (r.units.front().has(v)) shown.push_back(v);
  if (shown.empty())
    for (std::size_t i = 0; i < r.units.front().variables.size() && shown.size() < 5; ++i)
      if (r.units.front().widths[i] == 1) shown.push_back(r.units.front().variables[i]);
  const std::size_t last = r.period_labels.size() - 1;
  std::snprintf(line, sizeof line, "\n  household means in %s (averaged over replicates):\n  %-24s",
                r.period_labels[last].c_str(), "arm");
  os << line;
  for (const auto& v : shown) {
    std::snprintf(line, sizeof line, " %20s", v.c_str());
    os << line;
  }
  os << "\n";
  for (const auto& arm : scenario.arms) {
    std::snprintf(line, sizeof line, "  %-24s", arm.name.c_str());
    os << line;
    for (const auto& v : shown) {
      double s = 0;
      int n = 0;
      for (const auto& u : r.units)
        if (u.arm == arm.name) s += u.mean(v, last), ++n;
      std::snprintf(line, sizeof line, " %20.4g", n ? s / n : 0.0);
      os << line;
    }
    os << "\n";
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
  std::ostringstream os;
  char line[512];
  std::snprintf(line, sizeof line,
                "\n  reach at the end of the run (means over replicates; docs/policy_arms.md, \"Reach\"):\n  %-42s", "");
  os << line;
  for (const auto& a : arms) {
    std::snprintf(line, sizeof line, " %14.14s", a.c_str());
    os << line;
  }
  os << "\n";
  for (const auto& key : items) {
    std::snprintf(line, sizeof line, "  %-42.42s", (key.first + "." + key.second).c_str());
    os << line;
    for (const auto& a : arms) {
      double s = 0;
      int n = 0;
      for (const auto& [arm, rows] : units) {
        if (arm != a) continue;
        for (const auto& x : rows)
          if (x.module == key.first && x.item == key.second) s += x.value, ++n;
      }
      if (n == 0)
        std::snprintf(line, sizeof line, " %14s", "");
      else
        std::snprintf(line, sizeof line, " %14.6g", s / n);
      os << line;
    }
    os << "\n";
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
