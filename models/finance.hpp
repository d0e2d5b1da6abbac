// File: models/finance.hpp
// The household's budget when consumption is financed by its own economy (economy.welfare.enabled): savings,
// informal credit, interest and repayment, and the month's accounting identity.
//
// finance.open (the month's first phase when any channel of the household economy is on): the month's money
// flows start at zero: investment_pen, borrowed_pen, repaid_pen, interest_pen. Phases that spend before the
// budget (adoption, livestock, Haku Winay counterparts, planting inputs) pay through finance::pay and book
// (models/economy.hpp), which take cash above a reserve and then credit, and add to investment_pen and
// borrowed_pen.
//
// finance.budget (replaces livelihood.consumption when economy.welfare.enabled; the rule budget of
// models/finance_rules.hpp), per household and month, all in real 2017 PEN:
//   Y  monetary income (income_monetary_pen: crops, animals, wage, business, Juntos, remittances, Pension 65)
//   K  in-kind consumption: own production (own_production_pen) + in-kind programmes and imputed rent
//      (in_kind_pen), consumed as received
//   U  upkeep of the adopted technologies; D debt and X0 cash after this month's investments
//   interest I = r D (credit.monthly_rate); scheduled repayment R = D / T (credit.term_months)
//   permanent income P <- P + w (Y - U - P) (livelihood.permanent_income_weight), P+ = max(0, P)
//   credit limit L = min(credit.max_pen, credit.limit_months * P+)
//   cash on hand X = max(0, X0) + Y
//   desired spending C* = (1 - s - b) P+ + e (X - U - I - R - k P+)   (buffer-stock rule: Deaton 1991,
//      Carroll 1997; s livelihood.saving_rate, b saving_boost, e livelihood.excess_consumption_share,
//      k livelihood.buffer_months)
//   floor F = max(0, f n - K) (f finance.consumption_floor_pc_pen, n persons): the monetary spending that keeps
//      consumption per person at the floor
//   payments, in order: F from cash, what cash cannot pay from credit within max(0, L - D); interest from cash,
//   the rest added to the debt as far as the limit carries it (beyond it lenders charge nothing); the scheduled
//   repayment from cash (what cash cannot pay waits); consumption above the floor, min(max(0, C* - F), cash
//   left); upkeep from cash (an unpaid share lowers next month's technology returns, as in
//   livelihood.consumption's rule); and cash above k P+ repays debt early.
//   consumption_pen = C + K, C the spending from cash and credit.
// Accounting identity (every month, every household; tests/models/test_economy_welfare.cpp):
//   Y + K + (cash at the start of the month - cash at the end) + borrowed
//     = consumption + investment + upkeep paid + interest + repaid,
//   debt at the end = debt at the start + borrowed - repaid, and cash and debt are never negative.
#pragma once

#include "models/economy.hpp"
#include "models/shared_state.hpp"
#include "sim/engine.hpp"
#include "sim/param_spec.hpp"

#include <array>
#include <string>

namespace chacra::models {

// Parameters of the budget, read once in setup; each field's name, range, unit, description and source are in
// describe() (models/finance.cpp), its default is its initial value here. The buffer-stock rule's parameters are
// livelihood.*'s (borrowed), the credit terms credit.* (models/economy.hpp).
struct FinanceParams {
  std::array<double, kTechCount> upkeep_pen{};  // adoption.<tech>.upkeep_pen (borrowed)
  double saving_rate = 0.03;                    // livelihood.saving_rate (borrowed)
  double buffer_months = 2.0;                   // livelihood.buffer_months (borrowed)
  double excess_consumption_share = 0.25;       // livelihood.excess_consumption_share (borrowed)
  double permanent_income_weight = 1.0 / 12.0;  // livelihood.permanent_income_weight (borrowed)
  double consumption_floor_pc_pen = 150.0;
  CreditTerms credit;  // credit.* (declared with the economy's switches; read here)

  template <class V> void describe(V& v);
  static FinanceParams from(const ParamSet& params);
};

// The budget rule's constants (models/finance_rules.hpp) from the parameters.
struct BudgetConstants;
BudgetConstants budget_constants(const FinanceParams& p);

class Finance : public Module {
 public:
  static void register_params(Registry& registry);

  std::string name() const override { return "finance"; }
  // Creates the credit flow columns (every arm has them; debt, investment and borrowing are shared columns).
  void setup(World& world, const ParamSet& params, const rng::StreamSeed& seed) override;

  Phase open_phase() const;    // "finance.open"
  Phase budget_phase() const;  // "finance.budget"

  const FinanceParams& params() const { return p_; }

 private:
  FinanceParams p_;
  std::array<float, 1u << kTechCount> due_table_{};  // upkeep_due_table of p_ (models/finance_rules.hpp)
};

// Columns of the engine, shared ones and livelihood's that this module reads or writes: borrowed_pen, cash_pen,
// consumption_pen, debt_pen, household_size, in_kind_pen, income_monetary_pen, investment_pen, own_production_pen,
// permanent_income_pen, saving_boost, tech_state, upkeep_financed_share, upkeep_paid_pen.
//
// Columns owned by this module.
namespace col {
inline constexpr Col<float> repaid_pen{
    .name = "repaid_pen", .unit = "PEN 2017",
    .description = "Informal credit repaid this month (scheduled and early repayment)", .panel = true,
    .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> interest_pen{
    .name = "interest_pen", .unit = "PEN 2017",
    .description = "Interest charged this month on the debt (paid from cash or added to the debt)", .panel = true,
    .aggregation = PeriodAggregation::sum};
}  // namespace col

}  // namespace chacra::models
