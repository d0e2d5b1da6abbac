// The chacra Python module's C++ part (_chacra, pybind11): scenarios loaded and validated as by the command line,
// runs and sweeps on the C++ engine with the GIL released, and the parameter registry; python/chacra/ wraps it
// with pandas results (docs/python.md).
#include "app/commands.hpp"
#include "sim/output/h5.hpp"
#include "sim/runner.hpp"
#include "study/budget.hpp"
#include "study/comparison.hpp"
#include "study/sweep.hpp"

#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <chrono>
#include <filesystem>
#include <optional>

namespace py = pybind11;
using namespace pybind11::literals;

namespace {

using chacra::Scenario;

// A scenario as loaded from a file (or the built-in default) with "--set" texts; kept with its path and sets so
// that a run or sweep can add its own.
struct PyScenario {
  std::string path;  // "" : the built-in default
  std::vector<std::string> sets;
  Scenario scenario;

  static PyScenario load(const std::optional<std::string>& path, const std::vector<std::string>& sets) {
    const std::string p = path.value_or("");
    return {p, sets, chacra::cli::load_scenario_for(p, sets)};
  }
  std::vector<std::string> arms() const {
    std::vector<std::string> names;
    for (const auto& a : scenario.arms) names.push_back(a.name);
    return names;
  }
};

py::object to_python(const chacra::ParamValue& v) {
  return std::visit([](const auto& x) -> py::object { return py::cast(x); }, v);
}

// Every half second of a run: takes the GIL, lets Python handle its signals (Ctrl-C raises KeyboardInterrupt and
// stops the run, whose partial file is then removed) and calls the progress function, if any. The function is
// held through a shared pointer so that copies made while the GIL is released touch no Python reference count.
std::function<void(std::uint64_t, std::uint64_t)> progress_of(const py::object& callback) {
  auto held = std::make_shared<py::object>(callback);
  auto last = std::make_shared<std::chrono::steady_clock::time_point>(std::chrono::steady_clock::now());
  return [held, last](std::uint64_t done, std::uint64_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (done < total && now - *last < std::chrono::milliseconds(500)) return;
    *last = now;
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    if (!held->is_none()) (*held)(done, total);
  };
}

py::dict run(const PyScenario& s, const std::vector<std::string>& sets, const std::string& output, int threads,
             bool force, const py::object& progress) {
  std::vector<std::string> all = s.sets;
  all.insert(all.end(), sets.begin(), sets.end());
  const Scenario loaded = chacra::cli::load_scenario_for(s.path, all);
  chacra::RunOptions opts;
  opts.output_path = output;
  opts.force = force;
  opts.threads = threads;
  opts.command_line = "python: chacra.run";
  opts.progress = progress_of(progress);
  if (std::filesystem::exists(output) && !force)
    throw chacra::OutputExists("output " + output + " already exists; pass force=True to overwrite it");
  chacra::study::RunComparison comparison;
  opts.finalize = [&comparison](hid_t file, chacra::RunResult&) {
    chacra::study::finalize_run_comparison(file, comparison);
  };
  chacra::RunResult r;
  {
    py::gil_scoped_release release;  // the engine runs on its own threads; Python goes on meanwhile
    const Scenario solved = chacra::study::solve_budget_neutrality(loaded, chacra::cli::model_builder(), threads);
    r = chacra::run_scenario(solved, chacra::cli::model_builder(), opts);
  }
  return py::dict("output"_a = output, "households"_a = r.households, "household_months"_a = r.household_months,
                  "seconds"_a = r.seconds, "threads"_a = r.threads, "comparison_note"_a = comparison.note);
}

py::dict sweep(const PyScenario& s, const std::vector<std::string>& sets, const std::vector<std::string>& vary,
               const std::string& design_file, const std::string& output, int threads, bool force, bool resume,
               const std::string& reference, std::size_t bootstrap, const py::object& progress) {
  if (!vary.empty() && !design_file.empty()) throw chacra::UsageError("give either vary or design, not both");
  std::vector<std::string> all = s.sets;
  all.insert(all.end(), sets.begin(), sets.end());
  const auto& registry = chacra::cli::full_registry();
  const chacra::study::Design d = design_file.empty() ? chacra::study::grid_from_vary(vary, registry)
                                                      : chacra::study::load_design_file(design_file, registry);
  chacra::study::SweepOptions opts;
  opts.output_path = output;
  opts.force = force;
  opts.resume = resume;
  opts.threads = threads;
  opts.reference_arm = reference;
  opts.bootstrap.resamples = bootstrap;
  opts.command_line = "python: chacra.sweep";
  opts.progress = progress_of(progress);
  const std::string path = s.path;
  const auto load = [&](const std::vector<std::string>& point) {
    std::vector<std::string> v = all;
    v.insert(v.end(), point.begin(), point.end());
    return chacra::cli::load_scenario_for(path, v);
  };
  chacra::study::SweepResult r;
  {
    py::gil_scoped_release release;
    r = chacra::study::run_sweep(d, load, chacra::cli::model_builder(), opts);
  }
  return py::dict("output"_a = output, "points"_a = d.size(), "points_resumed"_a = r.points_resumed,
                  "household_months"_a = r.household_months, "seconds"_a = r.seconds, "notes"_a = r.notes);
}

py::list parameters() {
  py::list out;
  for (const auto& spec : chacra::cli::full_registry().specs()) {
    out.append(py::dict("name"_a = spec.name, "type"_a = chacra::to_string(spec.type),
                        "default"_a = to_python(spec.default_value), "min"_a = spec.min, "max"_a = spec.max,
                        "choices"_a = spec.choices, "unit"_a = spec.unit, "description"_a = spec.description,
                        "source"_a = spec.source));
  }
  return out;
}

}  // namespace

PYBIND11_MODULE(_chacra, m) {
  m.doc() = "chacra's C++ engine: scenarios, runs and sweeps (use the chacra package, docs/python.md)";
  chacra::h5::quiet_errors();
  // Bad input (a scenario, a parameter, an existing output) is the user's to fix: InputError, a ValueError,
  // with the command line's message; any other failure is a RuntimeError.
  static py::exception<chacra::BadInput> input_error(m, "InputError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const chacra::BadInput& e) {
      input_error(e.what());
    } catch (const std::exception& e) {
      // rethrow_as nests the original error: its exit status tells bad input apart.
      if (chacra::exit_status(e) == 2) input_error(e.what());
      else PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });
  py::class_<PyScenario>(m, "Scenario")
      .def_static("load", &PyScenario::load, "path"_a = py::none(), "sets"_a = std::vector<std::string>{},
                  "Loads and validates a scenario file (None: the built-in default) with NAME=VALUE overrides")
      .def_property_readonly("path", [](const PyScenario& s) { return s.path; })
      .def_property_readonly("sets", [](const PyScenario& s) { return s.sets; })
      .def_property_readonly("name", [](const PyScenario& s) { return s.scenario.name; })
      .def_property_readonly("description", [](const PyScenario& s) { return s.scenario.description; })
      .def_property_readonly("arms", &PyScenario::arms)
      .def_property_readonly("yaml", [](const PyScenario& s) { return s.scenario.resolved_yaml(); })
      .def(
          "get",
          [](const PyScenario& s, const std::string& name, const std::optional<std::string>& arm) {
            const chacra::ParamSet* set = &s.scenario.base;
            if (arm) {
              const auto* a = s.scenario.find_arm(*arm);
              if (!a) throw chacra::UsageError("no arm named '" + *arm + "' in scenario " + s.scenario.name);
              set = &a->params;
            }
            if (!chacra::cli::full_registry().find(name))
              throw chacra::UsageError("'" + name + "' is not a parameter (chacra.parameters() lists them)");
            return to_python(set->get(name));
          },
          "name"_a, "arm"_a = py::none(), "A parameter's value in the base scenario or in one arm")
      .def("__repr__", [](const PyScenario& s) {
        return "<chacra.Scenario '" + s.scenario.name + "' from " + (s.path.empty() ? "<built-in>" : s.path) + ", " +
               std::to_string(s.scenario.arms.size()) + " arms>";
      });
  m.def("run", &run, "scenario"_a, "sets"_a, "output"_a, "threads"_a = 0, "force"_a = false,
        "progress"_a = py::none(), "Runs every arm and replicate into an HDF5 file (the GIL is released meanwhile)");
  m.def("sweep", &sweep, "scenario"_a, "sets"_a, "vary"_a, "design"_a, "output"_a, "threads"_a = 0,
        "force"_a = false, "resume"_a = false, "reference"_a = "", "bootstrap"_a = 1000, "progress"_a = py::none(),
        "Runs a design's points into one HDF5 file (the GIL is released meanwhile)");
  m.def("parameters", &parameters, "Every registered parameter: name, type, default, range, unit, description, source");
  m.def("version", [] { return chacra::chacra_version() + " (" + chacra::chacra_commit() + ")"; });
}
