// The commands of the chacra executable, each declared on the command line (app/command_line.hpp) with its
// options, and the pieces they share: the full registry, the model, scenario loading with the built-in default.
#pragma once

#include "app/command_line.hpp"
#include "sim/engine.hpp"
#include "sim/scenario.hpp"

#include <string>
#include <vector>

namespace chacra::cli {

// chacra run [SCENARIO.yaml]: every arm and replicate, the HDF5 file, a summary and the comparison.
void add_run(CommandLine& commands, const std::string& command_line);
// chacra validate SCENARIO.yaml: full validation, nothing run or written.
void add_validate(CommandLine& commands);
// chacra params: every parameter (table, Markdown, JSON).
void add_params(CommandLine& commands);
// chacra compare OUT.h5 [--reference ARM] [--format table|csv|json] [--recompute]: the comparison stored in the
// file or, with --recompute or another --reference, computed from the panel (with the programmes' interaction
// when the file has its four arms); --by-channel reruns the four arms without each household-economy channel in
// turn. Exit status 1 for a missing, truncated or foreign file or one without a panel; 2 for an unknown
// --reference (the message lists the arms), and for --by-channel on a file without the four arms or channels.
void add_compare(CommandLine& commands);
// chacra evaluate [SCENARIO.yaml]: the virtual evaluation of the 2017 cohort beside the published effects.
void add_evaluate(CommandLine& commands);
// chacra calibrate PROBLEM.yaml -o DIR: hands over to analysis/calibrate.py (Debian's python3) with this chacra
// as the simulator; its exit status is chacra's (2 for a bad problem, missing file or option).
void add_calibrate(CommandLine& commands);
// chacra export OUT.h5 --csv DIR: the file as CSV tables with a codebook. Exit status 1 for a missing,
// truncated or foreign file or a write failure; 2 for an existing non-empty DIR without --force (or, with
// --force, a non-empty DIR that is not a chacra export).
void add_export(CommandLine& commands);
// chacra sweep [SCENARIO.yaml] --vary ... | --design FILE: a design over parameters, one HDF5 file, sensitivity.
void add_sweep(CommandLine& commands, const std::string& command_line);
// chacra serve [FILE.h5 ...] [--port N] [--host ADDRESS]: the dashboard (analysis/serve.py under Debian's
// /usr/bin/python3, which the process becomes): exit 2 for a bad file or no Flask, 1 for a port in use.
void add_serve(CommandLine& commands);
// chacra bench: speed, efficiency, memory, output overhead.
void add_bench(CommandLine& commands);
// chacra population summary [SCENARIO.yaml]: the dispersion and correlations of poverty, UBN and Juntos
// affiliation across the population's centres, by region, and the centres each targeting rule makes eligible.
void add_population(CommandLine& commands);

const Registry& full_registry();
ModelBuilder model_builder();
// Loads a scenario file, or the built-in default when `path` is empty.
Scenario load_scenario_for(const std::string& path, const std::vector<std::string>& sets);
// Checks what can only be checked against the built model (e.g. output.variables), on a tiny population.
void validate_model_setup(const Scenario& scenario);

}  // namespace chacra::cli
