// chacra bench: options, then the performance study of study/bench.hpp, printed as a table or JSON.
#include "app/commands.hpp"

#include "sim/errors.hpp"
#include "study/bench.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <sstream>

namespace chacra::cli {

namespace {

// The household economy's channels (models/economy.hpp), each switched by economy.<name>.enabled, in the
// registry's order; the local markets (economy.markets.enabled) are a channel of the local economy.
const std::vector<std::string> kChannels = {"welfare",     "liquidity",    "risk",   "graduation",
                                            "persistence", "poverty_trap", "markets"};

// --economy: "none" or a comma-separated list of channel names, "all" (the household economy's six, the poverty
// trap included) and "channels" (all of them but the poverty trap, a hypothesis); e.g. "all,markets". The markets
// buy with the welfare channel's budget, so they switch it on too. Returns the switches to set: every channel,
// on or off, so that what the bench measures does not depend on the channels the default scenario switches on
// (it runs the full household economy; `--economy none` keeps measuring the model without the channels, as the
// figures of docs/performance.md and earlier binaries do).
std::vector<std::string> economy_sets(const std::string& text) {
  std::vector<bool> on(kChannels.size(), false);
  if (text != "none") {
    std::istringstream in(text);
    for (std::string name; std::getline(in, name, ',');) {
      if (name == "all" || name == "channels") {  // the household economy's: every name before "markets"
        const auto last = std::find(kChannels.begin(), kChannels.end(), name == "all" ? "markets" : "poverty_trap");
        std::fill(on.begin(), on.begin() + (last - kChannels.begin()), true);
        continue;
      }
      const auto it = std::find(kChannels.begin(), kChannels.end(), name);
      if (it == kChannels.end())
        throw UsageError("--economy expects none, or a comma-separated list of all, channels, welfare, liquidity, "
                         "risk, graduation, persistence, poverty_trap, markets; got '" + name + "' in '" + text +
                         "'");
      on[static_cast<std::size_t>(it - kChannels.begin())] = true;
    }
  }
  if (on.back()) on.front() = true;
  std::vector<std::string> sets;
  for (std::size_t k = 0; k < kChannels.size(); ++k)
    sets.push_back("economy." + kChannels[k] + ".enabled=" + (on[k] ? "true" : "false"));
  return sets;
}

struct BenchCommand {
  std::vector<std::string> households, years, threads, repeats, format, arms, scaling, scaling_years, tmpdir, economy,
      sets;
  bool no_output = false, no_stream = false;

  void operator()() const {
    study::bench::Options o;
    o.households = whole_number("--households", households, 1000, 100'000'000).value_or(100000);
    o.years = whole_number("--years", years, 1, 200).value_or(0);
    o.repeats = static_cast<int>(whole_number("--repeats", repeats, 1, 1000).value_or(3));
    const std::string fmt = one_of("--format", value_or(format, "table"), {"table", "json"});
    o.arms = one_of("--arms", value_or(arms, "both"), {"both", "default"});
    if (!threads.empty()) o.threads = whole_numbers("--threads", threads.back(), 1, 4096);
    if (!scaling.empty()) o.scaling = whole_numbers("--scaling", scaling.back(), 1000, 100'000'000);
    o.scaling_years = whole_number("--scaling-years", scaling_years, 1, 200).value_or(1);
    o.output = !no_output;
    o.sets = economy_sets(value_or(economy, "none"));
    o.sets.insert(o.sets.end(), sets.begin(), sets.end());
    o.stream = !no_stream;
    o.tmpdir = value_or(tmpdir, std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
    const auto load = [](const std::vector<std::string>& sets) { return load_scenario_for("", sets); };
    const auto note = [&](const std::string& s) {
      if (fmt == "table") std::fprintf(stderr, "bench: %s\n", s.c_str());
    };
    const study::bench::Report report = study::bench::run(o, load, model_builder(), note);
    std::cout << (fmt == "json" ? study::bench::format_json(report) : study::bench::format_table(report));
  }
};

}  // namespace

void add_bench(CommandLine& commands) {
  auto c = std::make_shared<BenchCommand>();
  CLI::App& app = commands.add(
      "bench", "chacra bench [OPTIONS]",
      "Measures the full model (models::build_model, default parameters, configs/default.yaml) on one\n"
      "replicate: household-months per second per thread count, parallel efficiency, memory per\n"
      "household, phase shares, the cost of writing the HDF5 panel, and the cost relative to a\n"
      "reference kernel that only draws the same random numbers and sweeps the same state; and, from\n"
      "one thread, the serial fraction, the projected efficiency up to 64 threads (checked against the\n"
      "measured 2-thread efficiency) and the memory bandwidth the month needs.",
      [c] { (*c)(); });
  commands.value(app, "-n,--households", c->households, "households of the synthetic population (default 100000)");
  commands.value(app, "-y,--years", c->years, "simulated years (default: run.years of configs/default.yaml)");
  commands.value(app, "-t,--threads", c->threads, "comma-separated thread counts, e.g. 1,2 (default: 1 and all cores)");
  commands.value(app, "-r,--repeats", c->repeats, "timed repeats of every measurement; medians are reported (default 3)");
  commands.value(app, "--format", c->format, "table (default) or json");
  commands.value(app, "--arms", c->arms, "both (default: the 'both' arm of configs/default.yaml) or default (all its arms)");
  commands.value(app, "--scaling", c->scaling,
                 "comma-separated household counts for the linearity check (1 thread), e.g. "
                 "10000,100000,1000000,10000000 (default: none)");
  commands.value(app, "--scaling-years", c->scaling_years, "simulated years of each linearity run (default 1)");
  commands.flag(app, "--no-output", c->no_output,
                "skip the output overhead measurement (runs with and without the HDF5 panel)");
  commands.value(app, "--economy", c->economy,
                 "household-economy channels to switch on, the others off whatever the scenario sets: none (default: "
                 "every channel off, the model without them) or a comma-separated list of all (the six, "
                 "the poverty trap included), channels (all but the poverty trap) and channel names, e.g. "
                 "welfare,persistence or all,markets (the markets switch on welfare, whose budget they use)");
  commands.value(app, "--set", c->sets, "override a parameter of the scenario: key.path=value (repeatable)", true);
  commands.flag(app, "--no-stream", c->no_stream,
                "skip the memory bandwidth measurement (a triad over three 64 MiB arrays)");
  commands.value(app, "--tmpdir", c->tmpdir, "directory of the temporary HDF5 file (default: $TMPDIR or /tmp)");
}

}  // namespace chacra::cli
