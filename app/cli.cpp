// chacra's main: the commands, and what an error prints and exits with.
#include "app/cli.hpp"

#include "app/commands.hpp"
#include "sim/errors.hpp"
#include "sim/output/h5.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <new>

namespace chacra::cli {

namespace {

const char* kTopHelp = R"(chacra: agent-based simulator of rural households under Juntos and Haku Wiñay

usage: chacra COMMAND [OPTIONS]

commands:
  run [SCENARIO.yaml]   run a scenario's arms and replicates, write an HDF5 panel, print a summary
                        (no file: the built-in default scenario)
  validate SCENARIO     check a scenario completely without running it
  params [PATTERN]      the parameters (all, or a section, name or search text): default, range, unit, source
  compare OUT.h5        effects of each arm against a reference arm, with intervals over replicates
  evaluate [SCENARIO]   the virtual evaluation of the 2017 Haku Wiñay cohort beside the published effects
                        (no file: the built-in configs/evaluation_2017.yaml)
  sweep [SCENARIO] --vary NAME=FROM:TO:N | --design FILE
                        every arm at every point of a parameter design, one HDF5 file, Sobol/Morris
                        sensitivity of the effects with intervals
  calibrate PROBLEM -o DIR   calibrate structural parameters against baseline moments (history matching,
                        MCMC; e.g. configs/calibration/chacra_2017.yaml): DIR/posterior.h5 for --posterior
  export OUT.h5 --csv DIR   the panel and tables as CSV with a codebook, for Stata and R
                        (--stata DIR: Stata .dta files with variable and value labels)
  serve [FILE.h5 ...]   a local web dashboard: edit and run scenarios; effects side by side, effect paths,
                        the reach funnel, effects along a sweep, sensitivity (http://127.0.0.1:8050/)
  bench                 household-months per second, parallel efficiency, memory, output overhead
  population summary [SCENARIO]   poverty, UBN and Juntos affiliation across the population's centres:
                        dispersion, correlations, regions, centres eligible under each targeting rule

  chacra COMMAND --help    options of one command
  chacra --version         version and git commit

exit status: 0 success, 1 runtime failure, 2 bad input (usage or scenario), 130/143 interrupted
)";

std::string join_command_line(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    if (i) s += ' ';
    s += argv[i];
  }
  return s;
}

// What the command printed must have reached standard output (a full disk, /dev/full, a closed pipe): a
// results table cut short is a failure, exit status 1.
int check_standard_output() {
  std::cout.flush();
  errno = 0;
  const bool flushed = std::fflush(stdout) == 0;
  const int err = errno;
  if (flushed && !std::ferror(stdout) && !std::cout.fail()) return 0;
  std::cerr << "chacra: cannot write to standard output" << (err != 0 ? std::string(": ") + std::strerror(err) : "")
            << "; what it printed is incomplete\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  // HDF5's exit-time clean-up crashes on a file whose close failed (full disk); every handle is closed by
  // RAII anyway, so skip it. Must precede any other HDF5 call.
  H5dont_atexit();
  try {
    CommandLine commands(kTopHelp);
    add_run(commands, join_command_line(argc, argv));
    add_validate(commands);
    add_params(commands);
    add_compare(commands);
    add_sweep(commands, join_command_line(argc, argv));
    add_evaluate(commands);
    add_calibrate(commands);
    add_export(commands);
    add_serve(commands);
    add_bench(commands);
    add_population(commands);
    const int status = commands.run(argc, argv);
    return status == 0 ? check_standard_output() : status;
  } catch (const ReportedElsewhere& e) {
    return e.status();  // another MPI rank printed it
  } catch (const std::bad_alloc&) {
    std::cerr << "chacra: out of memory (a memory limit, ulimit -v, or the machine's memory); use a smaller "
                 "population or fewer --threads, or run on a larger machine\n";
    return 1;
  } catch (const std::exception& e) {
    const int status = exit_status(e);
    std::cerr << (status >= 128 ? "\nchacra: " : "chacra: ") << e.what() << "\n";
    return status;
  }
}

}  // namespace chacra::cli
