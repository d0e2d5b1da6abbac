// File: study/budget.hpp
// Budget-neutral arms (versions of the policy arms with the same total spend). An arm
// that sets budget.match_arm: OTHER has one coverage lever (budget.scale_parameter) solved before the run so
// that its total programme spend (cost_juntos_pen + cost_hw_pen over the horizon, undiscounted, replicate 0)
// equals OTHER's within budget.tolerance_households households' cost. The solver simulates the arms on
// replicate 0 (same population and random streams as the real run, nothing written), brackets the lever
// and narrows the bracket by bisection with false-position steps. The solved value is written into the
// arm's parameters and overrides, so the run's provenance (/provenance/scenario_yaml) records it, and
// running that YAML again reproduces the run: an arm whose lever already meets the tolerance is kept.
// Mechanism and levers: docs/policy_arms.md, "Budget-neutral arms".
#pragma once

#include "sim/engine.hpp"
#include "sim/params.hpp"
#include "sim/scenario.hpp"
#include "sim/world.hpp"

#include <cstdint>
#include <iosfwd>
#include <stdexcept>
#include <string>
#include <vector>

namespace chacra::study {

struct BudgetNeutrality {
  // budget.match_arm, budget.scale_parameter, budget.tolerance_households, budget.max_simulations.
  static void register_params(Registry& registry);
  // The coverage levers budget.scale_parameter may name.
  static const std::vector<std::string>& levers();
};

// What the solver did for one arm.
struct BudgetSolution {
  std::string arm, matched_arm, parameter;
  double initial_value = 0.0, value = 0.0;
  double target_spend_pen = 0.0;  // matched arm's total spend on replicate 0
  double spend_pen = 0.0;         // this arm's total spend at `value` on replicate 0
  double tolerance_pen = 0.0;     // tolerance_households x the matched arm's spend per reached household
  double gap_pen() const { return spend_pen - target_spend_pen; }  // achieved gap (positive: spends more)
  int simulations = 0;
  bool within_tolerance = false;
  std::string message;  // one line: what was solved, or why the tolerance could not be met
};

// Some budget-matched arm's spend could not be brought within its tolerance: a runtime failure (exit status 1),
// raised after every arm was solved; the message has one line per arm that missed, with its achieved gap.
class BudgetMismatch : public std::runtime_error {
 public:
  BudgetMismatch(const std::string& message, std::vector<BudgetSolution> solutions)
      : std::runtime_error(message), solutions_(std::move(solutions)) {}
  const std::vector<BudgetSolution>& solutions() const { return solutions_; }

 private:
  std::vector<BudgetSolution> solutions_;
};

// Total programme spend of one arm on one replicate's population, without output.
struct SpendResult {
  double total_pen = 0.0;      // sum over households and months of cost_juntos_pen + cost_hw_pen
  std::size_t reached = 0;     // households with any programme spending
  double per_reached_pen() const { return reached ? total_pen / static_cast<double>(reached) : 0.0; }
};
SpendResult simulate_spend(const World& population, const ParamSet& arm_params, const ModelBuilder& builder,
                           std::uint64_t run_seed, std::uint32_t replicate = 0);

// Checks the budget.* settings of every arm against the scenario (the matched arm exists, is not the arm
// itself and is not budget-matched itself; the lever acts in this arm). Throws ConfigError with every
// problem. Does nothing when the registry has no budget.* parameters.
void check_budget_neutrality(const Scenario& scenario);

// Returns the scenario with every budget-matched arm's lever solved (unchanged when no arm sets
// budget.match_arm). threads: worker threads (0: all). Prints one line per solved arm to `log` (null: silent)
// and fills `solutions` if given. When some arm's spend cannot be matched within the tolerance (the lever at a
// bound, or a lever that moves spending in steps larger than the tolerance, such as whole HW centres), every
// arm is still solved and then BudgetMismatch is thrown, naming each arm that missed, by how much and why.
// Throws ConfigError for inconsistent settings, Interrupted when a stop is requested. With a collective (MPI
// ranks, docs/cluster.md), every process of it calls this together and the simulations run on replicate 0's
// population split by districts across them; the result is the same.
Scenario solve_budget_neutrality(const Scenario& scenario, const ModelBuilder& builder, int threads,
                                 std::vector<BudgetSolution>* solutions = nullptr, std::ostream* log = nullptr,
                                 const Collective* collective = nullptr);

}  // namespace chacra::study
