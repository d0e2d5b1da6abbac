// File: study/budget.cpp
// Budget-neutral arms: the budget.* parameters and the solver that scales one coverage lever of an arm until
// its total spend equals another arm's (see study/budget.hpp and docs/policy_arms.md).
#include "study/budget.hpp"

#include "models/haku_winay.hpp"
#include "models/juntos.hpp"
#include "sim/interrupt.hpp"
#include "sim/population.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <ostream>

namespace chacra::study {

namespace col = models::col;

namespace {

constexpr const char* kMatch = "budget.match_arm";
constexpr const char* kLever = "budget.scale_parameter";
constexpr const char* kTolerance = "budget.tolerance_households";
constexpr const char* kMaxSimulations = "budget.max_simulations";

std::string fmt(double v, const char* f = "%.6g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

// What must hold in an arm for its lever to change anything; empty when it does.
std::optional<std::string> lever_inactive(const std::string& lever, const ParamSet& p) {
  if (lever.rfind("juntos.", 0) == 0 && !p.boolean("juntos.enabled"))
    return lever + " scales Juntos, which is disabled in this arm (juntos.enabled: false)";
  if ((lever.rfind("haku_winay.", 0) == 0 || lever.rfind("coaching.", 0) == 0) && !p.boolean("haku_winay.enabled"))
    return lever + " scales Haku Winay, which is disabled in this arm (haku_winay.enabled: false)";
  if (lever.rfind("coaching.", 0) == 0 && !p.boolean("coaching.enabled"))
    return lever + " scales coaching, which is off in this arm (coaching.enabled: false)";
  const std::string& limit = p.choice("haku_winay.rollout_limit");
  if (lever == "haku_winay.eligible_share_per_year" && limit != "eligible_share")
    return lever + " limits cohorts only under haku_winay.rollout_limit: eligible_share (this arm has " + limit + ")";
  if (lever == "haku_winay.households_per_year" && limit != "households")
    return lever + " limits cohorts only under haku_winay.rollout_limit: households (this arm has " + limit + ")";
  if (lever == "haku_winay.budget_pen_per_year" && limit != "budget")
    return lever + " limits cohorts only under haku_winay.rollout_limit: budget (this arm has " + limit + ")";
  return std::nullopt;
}

void set_override(Arm& arm, const std::string& name, const ParamValue& value) {
  arm.params.set(name, value);
  for (auto& [k, v] : arm.overrides)
    if (k == name) {
      v = value;
      return;
    }
  arm.overrides.emplace_back(name, value);
}

}  // namespace

const std::vector<std::string>& BudgetNeutrality::levers() {
  static const std::vector<std::string> levers = {
      "haku_winay.eligible_share_per_year", "haku_winay.households_per_year", "haku_winay.budget_pen_per_year",
      "haku_winay.takeup_rate",            "coaching.saturation",            "coaching.centre_share",
      "juntos.take_up"};
  return levers;
}

void BudgetNeutrality::register_params(Registry& r) {
  r.choice(kMatch, "", {},
           "Budget-neutral arm: the arm whose total programme spend this arm must equal (empty: off). Before the "
           "run, budget.scale_parameter is solved so that this arm's spend (cost_juntos_pen + cost_hw_pen summed "
           "over households and the horizon, undiscounted, on replicate 0) equals that arm's within "
           "budget.tolerance_households households' cost; the solved value is recorded in the provenance",
           "Scenario choice: budget-neutral versions of the policy arms (the same total spend)");
  r.choice(kLever, "haku_winay.eligible_share_per_year", levers(),
           "Budget-neutral arm: the coverage lever scaled to match the spend (HW cohort size under its rollout "
           "limit, HW take-up, coaching saturation or centre share, Juntos take-up). HW cohort levers move whole "
           "centres, so they may not reach the tolerance; household-level levers (coaching.saturation, "
           "juntos.take_up, haku_winay.takeup_rate) do",
           "Scenario choice");
  r.real(kTolerance, 1.0, 0.01, 1000, "households",
         "Budget-neutral arm: spends match when they differ by at most this many times the matched arm's mean "
         "spend per reached household (one household's cost)",
         "Scenario choice");
  r.integer(kMaxSimulations, 30, 2, 500, "simulations",
            "Budget-neutral arm: most simulations of the arm on replicate 0 while solving its lever", "Scenario choice");
}

SpendResult simulate_spend(const World& population, const ParamSet& arm_params, const ModelBuilder& builder,
                           std::uint64_t run_seed, std::uint32_t replicate) {
  World world = population;
  Model model = builder(arm_params);
  const rng::StreamSeed seed{run_seed, replicate};
  for (auto& m : model.modules) m->setup(world, arm_params, seed);
  // The households held here (all, or this rank's block of a world split by districts; global indices).
  const std::size_t i0 = world.household_begin(), n = world.household_count();
  const float* cj = world.households.has(col::cost_juntos_pen) ? world.households.get<float>(col::cost_juntos_pen) : nullptr;
  const float* ch = world.households.has(col::cost_hw_pen) ? world.households.get<float>(col::cost_hw_pen) : nullptr;
  std::vector<double> per_household(n, 0.0);
  Stepper stepper(world, model.month, arm_params, seed);
  for (int month = 0; month < world.calendar.months; ++month) {
    if (stop_requested()) throw Interrupted(stop_signal());
    stepper.step(month);
    for (std::size_t k = 0; k < n; ++k)
      per_household[k] += (cj ? static_cast<double>(cj[i0 + k]) : 0.0) + (ch ? static_cast<double>(ch[i0 + k]) : 0.0);
  }
  // Summed in household order over the whole population (across ranks: Collective::ordered_sum), so every
  // rank of a split world gets the same bits as a single process and takes the same solver steps.
  SpendResult r;
  std::vector<double> total(1, 0.0);
  world.comm().ordered_sum(total, [&](std::vector<double>& acc) {
    for (double v : per_household) acc[0] += v;
  });
  std::vector<std::uint64_t> reached(1, 0);
  for (double v : per_household) reached[0] += v > 0.0 ? 1 : 0;
  world.comm().sum(reached);
  r.total_pen = total[0];
  r.reached = static_cast<std::size_t>(reached[0]);
  return r;
}

void check_budget_neutrality(const Scenario& s) {
  const Registry& reg = s.base.registry();
  if (!reg.find(kMatch)) return;
  std::vector<ConfigIssue> issues;
  std::vector<std::string> names;
  for (const auto& a : s.arms) names.push_back(a.name);
  auto issue = [&](std::size_t i, const std::string& key, const std::string& message, const std::string& hint) {
    issues.push_back(ConfigIssue{s.path, 0, 0, "arms[" + std::to_string(i) + "].set." + key, message, hint});
  };
  for (std::size_t i = 0; i < s.arms.size(); ++i) {
    const Arm& arm = s.arms[i];
    const std::string& match = arm.params.choice(kMatch);
    if (match.empty()) continue;
    const Arm* other = s.find_arm(match);
    if (!other) {
      auto near = nearest_names(match, names, 1);
      issue(i, kMatch, "arm '" + arm.name + "' matches the spend of '" + match + "', which is not an arm",
            near.empty() ? "the arms are: " + join(names) : "did you mean '" + near.front() + "'?");
      continue;
    }
    if (other == &arm) {
      issue(i, kMatch, "arm '" + arm.name + "' cannot match its own spend",
            "set budget.match_arm under the arm's `set:`, not at the top level (which reaches every arm)");
      continue;
    }
    if (!other->params.choice(kMatch).empty())
      issue(i, kMatch,
            "arm '" + arm.name + "' matches '" + match + "', which is itself budget-matched (to '" +
                other->params.choice(kMatch) + "')",
            "match both arms to the same unscaled arm");
    const std::string& lever = arm.params.choice(kLever);
    if (auto why = lever_inactive(lever, arm.params))
      issue(i, kLever, "arm '" + arm.name + "': " + *why, "choose a lever that acts in this arm");
  }
  if (!issues.empty()) throw ConfigError(s.path, issues);
}

Scenario solve_budget_neutrality(const Scenario& scenario, const ModelBuilder& builder, int threads,
                                 std::vector<BudgetSolution>* solutions, std::ostream* log,
                                 const Collective* collective) {
  Scenario out = scenario;
  const Registry& reg = scenario.base.registry();
  if (!reg.find(kMatch)) return out;
  bool any = false;
  for (const auto& a : scenario.arms) any = any || !a.params.choice(kMatch).empty();
  if (!any) return out;
  check_budget_neutrality(scenario);

  const int n_threads = threads > 0 ? threads : tbb::info::default_concurrency();
  tbb::global_control parallelism(tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(n_threads));
  const World population =
      collective != nullptr ? generate_population(scenario.base, 0, *collective) : generate_population(scenario.base, 0);
  const auto run_seed = static_cast<std::uint64_t>(scenario.base.integer("run.seed"));
  std::map<std::string, SpendResult> matched_spend;
  std::vector<BudgetSolution> all;
  std::string missed;

  for (Arm& arm : out.arms) {
    const std::string match = arm.params.choice(kMatch);
    if (match.empty()) continue;
    const Arm& other = *scenario.find_arm(match);
    if (!matched_spend.count(match)) matched_spend[match] = simulate_spend(population, other.params, builder, run_seed);
    const SpendResult target = matched_spend[match];

    BudgetSolution sol;
    sol.arm = arm.name;
    sol.matched_arm = match;
    sol.parameter = arm.params.choice(kLever);
    const ParamSpec& spec = *reg.find(sol.parameter);
    sol.initial_value = arm.params.real(sol.parameter);
    sol.target_spend_pen = target.total_pen;
    const int max_sims = static_cast<int>(arm.params.integer(kMaxSimulations));

    // Spend at lever value x (memoised); the tolerance is one household's cost of the matched arm, or of this
    // arm when the matched arm spends nothing.
    std::map<double, SpendResult> cache;
    auto spend = [&](double x) -> const SpendResult& {
      auto it = cache.find(x);
      if (it != cache.end()) return it->second;
      ParamSet p = arm.params;
      p.set(sol.parameter, x);
      ++sol.simulations;
      return cache.emplace(x, simulate_spend(population, p, builder, run_seed)).first->second;
    };
    const double tol_households = arm.params.real(kTolerance);
    auto tolerance = [&](const SpendResult& own) {
      const double unit = target.reached ? target.per_reached_pen() : own.per_reached_pen();
      return tol_households * unit;
    };
    auto f = [&](double x) { return spend(x).total_pen - target.total_pen; };

    double best_x = sol.initial_value;
    double best_gap = std::abs(f(best_x));
    auto consider = [&](double x) {
      const double g = std::abs(f(x));
      if (g < best_gap || (g == best_gap && x < best_x)) best_gap = g, best_x = x;
    };
    auto done = [&]() { return best_gap <= tolerance(spend(best_x)); };
    std::string why;
    if (!done()) {
      // Bracket [lo, hi] with f(lo) < 0 < f(hi); spend rises with every lever.
      double lo = spec.min, hi = spec.max;
      const double x0 = sol.initial_value;
      double flo, fhi;
      if (f(x0) < 0) {
        lo = x0, flo = f(x0);
        if (std::isfinite(spec.max) && spec.max <= 1.0) {
          hi = spec.max;
        } else {
          hi = std::max(2.0 * x0, x0 + 1.0);  // unbounded levers (households, PEN): double until spend exceeds
          while (f(hi) < 0 && hi < spec.max && sol.simulations < max_sims) {
            consider(hi);
            lo = hi;
            hi = std::min(spec.max, 2.0 * hi);
          }
        }
        fhi = f(hi);
        consider(hi);
      } else {
        hi = x0, fhi = f(x0);
        lo = spec.min;
        flo = f(lo);
        consider(lo);
      }
      if (flo > 0) {
        why = "even " + sol.parameter + " = " + fmt(lo) + " spends more than '" + match + "'";
      } else if (fhi < 0) {
        why = "even " + sol.parameter + " = " + fmt(hi) + " spends less than '" + match + "'";
      } else {
        // Bisection with false-position steps (Illinois): a straight-line guess between the bracket's ends,
        // replaced by the midpoint when the guess falls near an end or the same end moved twice.
        int side = 0;
        auto narrow = [&]() { return hi - lo <= 1e-9 * std::max(1.0, std::abs(hi)); };
        while (!done() && sol.simulations < max_sims && !narrow()) {
          double x = lo + (hi - lo) * (-flo) / (fhi - flo);
          if (!(x > lo + 0.02 * (hi - lo) && x < hi - 0.02 * (hi - lo))) x = 0.5 * (lo + hi);
          const double fx = f(x);
          consider(x);
          if (fx == 0) break;
          if (fx < 0) {
            lo = x, flo = fx;
            if (side == -1) fhi *= 0.5;
            side = -1;
          } else {
            hi = x, fhi = fx;
            if (side == 1) flo *= 0.5;
            side = 1;
          }
        }
        if (!done())
          why = !narrow()
                    ? "stopped after budget.max_simulations = " + std::to_string(max_sims) +
                          " simulations with the lever between " + fmt(lo, "%.9g") + " and " + fmt(hi, "%.9g")
                    : sol.parameter + " changes spending in steps larger than the tolerance (whole centres or "
                                      "nuclei); use a household-level lever such as haku_winay.takeup_rate, "
                                      "coaching.saturation or juntos.take_up for a closer match";
      }
    }
    sol.value = best_x;
    sol.spend_pen = spend(best_x).total_pen;
    sol.tolerance_pen = tolerance(spend(best_x));
    sol.within_tolerance = std::abs(sol.spend_pen - sol.target_spend_pen) <= sol.tolerance_pen;
    if (spec.type == ParamType::real) set_override(arm, sol.parameter, ParamValue{sol.value});
    const std::string gap =
        "spend PEN " + fmt(sol.spend_pen, "%.0f") + " vs PEN " + fmt(sol.target_spend_pen, "%.0f") + " (gap " +
        fmt(sol.gap_pen(), "%+.0f") +
        (sol.target_spend_pen != 0 ? ", " + fmt(100.0 * sol.gap_pen() / sol.target_spend_pen, "%+.2f") + "%" : "") +
        "; tolerance PEN " + fmt(sol.tolerance_pen, "%.0f") + ")";
    sol.message = "budget: arm '" + arm.name + "' " + (sol.within_tolerance ? "matches" : "does not match") +
                  " the spend of '" + match + "': " + sol.parameter + " = " + format_value(sol.value) + " (was " +
                  format_value(sol.initial_value) + "); " + gap + " on replicate 0 after " +
                  std::to_string(sol.simulations) + " simulation" + (sol.simulations == 1 ? "" : "s");
    if (!sol.within_tolerance) {
      if (why.empty()) why = "the closest value found is outside the tolerance";
      sol.message += "\nbudget: " + why;
      missed += "\n  arm '" + arm.name + "' (" + sol.parameter + " = " + format_value(sol.value) + "): " + gap + ": " +
                why;
    }
    if (log) *log << sol.message << "\n";
    if (solutions) solutions->push_back(sol);
    all.push_back(sol);
  }
  if (!missed.empty())
    throw BudgetMismatch("budget-neutral arms could not be matched within budget.tolerance_households:" + missed +
                             "\n  nothing was run or written",
                         std::move(all));
  return out;
}

}  // namespace chacra::study
