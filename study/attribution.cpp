// File: study/attribution.cpp
// The interaction of the programmes attributed to the household-economy channels by switching each off in turn
// (see study/attribution.hpp).
#include "study/attribution.hpp"

#include "sim/output/csv.hpp"
#include "sim/output/reader.hpp"
#include "sim/runner.hpp"
#include "sim/scenario.hpp"

#include <nlohmann/json.hpp>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <sstream>

namespace chacra::study {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The channel of an arm's own switch "hw_only: economy.risk.enabled=true" when it switches one on, else "".
std::string channel_switched_on(const std::string& arm_set) {
  const auto dot = arm_set.find("economy.");
  const auto end = arm_set.find(".enabled=true");
  if (dot == std::string::npos || end == std::string::npos || end <= dot + 8) return "";
  return arm_set.substr(dot + 8, end - dot - 8);
}

// Removes a file on scope exit (the rerun's temporary output, whether or not the rerun finished).
struct RemoveOnExit {
  std::filesystem::path path;
  ~RemoveOnExit() {
    std::error_code ec;
    std::filesystem::remove(path, ec);
    std::filesystem::remove(path.string() + ".partial", ec);
  }
};

std::string fmt(double v, const char* spec = "%+.4g") {
  if (!std::isfinite(v)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, spec, v == 0.0 ? 0.0 : v);
  return buf;
}

}  // namespace

AttributionTable combine_attribution(const InteractionTable& full, const std::vector<std::string>& channels,
                                     const std::vector<InteractionTable>& without) {
  AttributionTable t;
  t.channels = channels;
  for (std::size_t c = 0; c < channels.size(); ++c)
    for (const auto& row : full.rows) {
      AttributionRow a;
      a.channel = channels[c], a.outcome = row.outcome, a.statistic = row.statistic, a.unit = row.unit;
      a.interaction = row.mean;
      a.without = kNaN;
      const InteractionRow* off = nullptr;
      for (const auto& r : without[c].rows)
        if (r.outcome == row.outcome && r.statistic == row.statistic) off = &r;
      // Common random numbers: replicate r of the rerun has the seeds of replicate r of the file, so the
      // difference is taken replicate by replicate.
      std::vector<double> removed;
      if (off) {
        a.without = off->mean;
        for (std::size_t r = 0; r < std::min(row.draws.size(), off->draws.size()); ++r) {
          const double d = row.draws[r] - off->draws[r];
          if (std::isfinite(d)) removed.push_back(d);
        }
      }
      a.n_replicates = static_cast<int>(removed.size());
      const ReplicateInterval iv = t_interval_of(removed);
      a.removed = iv.mean, a.ci_low = iv.low, a.ci_high = iv.high, a.interval = iv.interval;
      a.share_removed = std::isfinite(a.interaction) && a.interaction != 0.0 ? a.removed / a.interaction : kNaN;
      t.rows.push_back(std::move(a));
    }
  return t;
}

AttributionTable attribute_interaction(hid_t file, const Registry& registry, const ModelBuilder& build, int threads,
                                       std::ostream* log) {
  const output::Reader in(file);
  const auto& arms = in.arms();
  for (const auto& a : kInteractionArms)
    if (std::find(arms.begin(), arms.end(), a) == arms.end()) {
      std::string have;
      for (const auto& x : arms) have += " " + x;
      throw BadInput("the file has no arm '" + a + "': --by-channel needs the arms both, juntos_only, hw_only and "
                     "no_programme (its arms:" + have + ")");
    }
  const ComparisonTable full = compare_file(file, "no_programme");
  std::vector<std::string> channels = full.interaction.channels;
  for (const auto& s : full.interaction.arm_channel_sets) {
    const std::string c = channel_switched_on(s);
    if (!c.empty() && std::find(channels.begin(), channels.end(), c) == channels.end()) channels.push_back(c);
  }
  if (channels.empty())
    throw BadInput("no household-economy channel was on in this run (every economy.<channel>.enabled is false): "
                   "there is nothing to attribute; run a scenario with a channel on, e.g. --set "
                   "economy.liquidity.enabled=true");
  const std::string yaml = in.scenario_yaml();
  if (yaml.empty()) throw ComparisonError("the file stores no scenario (/provenance/scenario_yaml): it cannot be rerun");

  std::vector<InteractionTable> without;
  for (std::size_t c = 0; c < channels.size(); ++c) {
    const std::string key = "economy." + channels[c] + ".enabled";
    std::vector<std::string> sets = {key + "=false"};
    for (const auto& s : full.interaction.arm_channel_sets)
      if (channel_switched_on(s) == channels[c]) sets.push_back("arms." + s.substr(0, s.find(':')) + "." + key + "=false");
    // The local markets buy with the welfare channel's budget: without welfare there are no markets either.
    if (channels[c] == "welfare") {
      sets.push_back("economy.markets.enabled=false");
      for (const auto& s : full.interaction.arm_channel_sets)
        if (channel_switched_on(s) == "markets")
          sets.push_back("arms." + s.substr(0, s.find(':')) + ".economy.markets.enabled=false");
    }
    Scenario scenario = load_scenario_text(yaml, "the stored scenario", registry, sets);
    std::erase_if(scenario.arms, [](const Arm& a) {
      return std::find(kInteractionArms.begin(), kInteractionArms.end(), a.name) == kInteractionArms.end();
    });
    if (log)
      *log << "by-channel: rerunning both, juntos_only, hw_only and no_programme with " << key << "=false (" << c + 1
           << " of " << channels.size() << ")\n"
           << std::flush;
    RemoveOnExit tmp{std::filesystem::temp_directory_path() /
                     ("chacra-by-channel-" + std::to_string(::getpid()) + "-" + channels[c] + ".h5")};
    RunOptions opts;
    opts.output_path = tmp.path.string();
    opts.force = true;
    opts.threads = threads;
    InteractionTable off;
    opts.finalize = [&off](hid_t f, RunResult&) { off = compare_file(f, "no_programme").interaction; };
    run_scenario(scenario, build, opts);
    without.push_back(std::move(off));
  }
  AttributionTable t = combine_attribution(full.interaction, channels, without);
  t.replicates = full.replicates;
  return t;
}

std::string format_attribution(const AttributionTable& t, const std::string& format) {
  std::ostringstream os;
  if (format == "table") {
    os << "Attribution of the interaction (both - juntos_only - hw_only + no_programme) to the household-economy "
          "channels:\nthe four arms rerun with each channel off in turn, same seeds (common random numbers); "
          "'removed' is the\ninteraction as run minus the interaction without the channel, per replicate, mean and "
          "95% t interval over\n"
       << t.replicates << " replicate" << (t.replicates == 1 ? "" : "s") << "; share = removed / interaction.\n";
    char line[512];
    for (const auto& c : t.channels) {
      os << "\nWithout " << c << " (economy." << c << ".enabled=false)\n";
      std::snprintf(line, sizeof line, "  %-40s %11s %11s %11s  %-25s %8s\n", "outcome", "interaction", "without",
                    "removed", "95% interval", "share");
      os << line;
      for (const auto& r : t.rows) {
        if (r.channel != c) continue;
        std::string iv;
        if (std::isfinite(r.removed) && r.interval == "t")
          iv.append("[").append(fmt(r.ci_low)).append(", ").append(fmt(r.ci_high)).append("]");  // not a chain of +: GCC 12 -Wrestrict false positive
        const std::string label = r.outcome + (r.statistic == "final_year" ? "" : " (" + r.statistic + ")");
        std::snprintf(line, sizeof line, "  %-40s %11s %11s %11s  %-25s %8s\n", label.c_str(), fmt(r.interaction).c_str(),
                      fmt(r.without).c_str(), fmt(r.removed).c_str(), iv.c_str(), fmt(r.share_removed, "%.2f").c_str());
        os << line;
      }
    }
    os << "\nShares are noisy where the interaction's own interval contains 0 (chacra compare FILE shows it).\n";
    return os.str();
  }
  if (format == "csv") {
    csv::Writer w(os, "the attribution");
    w.header({"channel", "outcome", "statistic", "unit", "interaction", "without", "removed", "ci_low", "ci_high",
              "n_replicates", "interval", "share_removed"});
    for (const auto& r : t.rows) {
      w.text(r.channel).text(r.outcome).text(r.statistic).text(r.unit).number(r.interaction).number(r.without);
      w.number(r.removed).number(r.ci_low).number(r.ci_high).number(r.n_replicates).text(r.interval);
      w.number(r.share_removed).end_row();
    }
    w.close();
    return os.str();
  }
  if (format == "json") {
    auto rows = nlohmann::ordered_json::array();
    for (const auto& r : t.rows)
      rows.push_back({{"channel", r.channel},
                      {"outcome", r.outcome},
                      {"statistic", r.statistic},
                      {"unit", r.unit},
                      {"interaction", r.interaction},
                      {"without", r.without},
                      {"removed", r.removed},
                      {"ci_low", r.ci_low},
                      {"ci_high", r.ci_high},
                      {"n_replicates", r.n_replicates},
                      {"interval", r.interval},
                      {"share_removed", r.share_removed}});
    return rows.dump(2) + "\n";
  }
  throw std::invalid_argument("attribution format must be table, csv or json, got '" + format + "'");
}

}  // namespace chacra::study
