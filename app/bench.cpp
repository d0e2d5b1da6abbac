// chacra bench: options, then the performance study of study/bench.hpp, printed as a table or JSON.
#include "app/bench.hpp"

#include "app/cli.hpp"
#include "app/commands.hpp"
#include "app/options.hpp"
#include "study/bench.hpp"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace chacra::cli {

namespace {

const std::vector<OptionSpec> kBenchOptions = {
    {"--households", "-n", true, false, "households of the synthetic population (default 100000)"},
    {"--years", "-y", true, false, "simulated years (default: run.years of configs/default.yaml)"},
    {"--threads", "-t", true, false, "comma-separated thread counts, e.g. 1,2 (default: 1 and all cores)"},
    {"--repeats", "-r", true, false, "timed repeats of every measurement; medians are reported (default 3)"},
    {"--format", "", true, false, "table (default) or json"},
    {"--arms", "", true, false, "both (default: the 'both' arm of configs/default.yaml) or default (all its arms)"},
    {"--scaling", "", true, false, "comma-separated household counts for the linearity check (1 thread), e.g. "
                                    "10000,100000,1000000,10000000 (default: none)"},
    {"--scaling-years", "", true, false, "simulated years of each linearity run (default 1)"},
    {"--no-output", "", false, false, "skip the output overhead measurement (runs with and without the HDF5 panel)"},
    {"--tmpdir", "", true, false, "directory of the temporary HDF5 file (default: $TMPDIR or /tmp)"},
    {"--help", "-h", false, false, "this help"},
};

std::vector<long long> parse_list(const std::string& option, const std::string& text, long long min, long long max) {
  std::vector<long long> out;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    ParsedArgs one;
    one.values[option] = {item};
    out.push_back(one.get_int(option, 0, min, max));
  }
  if (out.empty()) throw UsageError(option + " expects a comma-separated list of whole numbers");
  return out;
}

}  // namespace

int cmd_bench(const std::vector<std::string>& args) {
  const ParsedArgs a = parse_args("bench", args, kBenchOptions, 0);
  if (a.has("--help")) {
    std::cout << "usage: chacra bench [OPTIONS]\n\n"
                 "Measures the full model (models::build_model, default parameters, configs/default.yaml) on one\n"
                 "replicate: household-months per second per thread count, parallel efficiency, memory per\n"
                 "household, phase shares, the cost of writing the HDF5 panel, and the cost relative to a\n"
                 "reference kernel that only draws the same random numbers and sweeps the same state.\n\n"
              << format_options(kBenchOptions);
    return kOk;
  }
  study::bench::Options o;
  o.households = a.get_int("--households", 100000, 1000, 100'000'000);
  o.years = a.get_int("--years", 0, 1, 200);
  o.repeats = static_cast<int>(a.get_int("--repeats", 3, 1, 1000));
  const std::string format = a.get("--format", "table");
  if (format != "table" && format != "json") throw UsageError("--format expects table or json, got '" + format + "'");
  o.arms = a.get("--arms", "both");
  if (o.arms != "both" && o.arms != "default") throw UsageError("--arms expects both or default, got '" + o.arms + "'");
  if (a.has("--threads")) o.threads = parse_list("--threads", a.get("--threads"), 1, 4096);
  if (a.has("--scaling")) o.scaling = parse_list("--scaling", a.get("--scaling"), 1000, 100'000'000);
  o.scaling_years = a.get_int("--scaling-years", 1, 1, 200);
  o.output = !a.has("--no-output");
  o.tmpdir = a.get("--tmpdir", std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp");
  const auto load = [](const std::vector<std::string>& sets) { return load_scenario_for("", sets); };
  const auto note = [&](const std::string& s) {
    if (format == "table") std::fprintf(stderr, "bench: %s\n", s.c_str());
  };
  const study::bench::Report report = study::bench::run(o, load, model_builder(), note);
  std::cout << (format == "json" ? study::bench::format_json(report) : study::bench::format_table(report));
  return kOk;
}

}  // namespace chacra::cli
