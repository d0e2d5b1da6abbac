// The household budget of a month as plain code, one household at a time (budget), beside the fast driver that
// finance.budget runs on several households at once in float lanes (budget_of; models/lanes.hpp). A test checks
// that the driver gives the plain rule's bits on random inputs, so the rule an economist audits is the one the
// model runs. Formulas and their sources: models/finance.hpp.
#pragma once

#include "models/lanes.hpp"
#include "models/shared_state.hpp"

#include <algorithm>
#include <array>

namespace chacra::models {

// The month's budget constants, in float.
struct BudgetConstants {
  std::array<float, kTechCount> upkeep{};  // monthly upkeep of each technology
  float weight = 0;        // of this month in permanent income
  float saving = 0;        // saving rate out of permanent income
  float excess = 0;        // share of cash on hand above (below) the buffer spent (cut)
  float buffer = 0;        // target buffer, months of permanent income
  float floor_pc = 0;      // consumption per person the household borrows to keep
  float rate = 0;          // interest per month on the debt
  float repay_share = 0;   // share of the debt repaid each month (1 / term)
  float limit_months = 0;  // credit limit in months of permanent income
  float limit_max = 0;     // and at most this
};

// One household's budget inputs in a month.
struct HouseholdFinances {
  float income = 0;            // monetary income this month (income_monetary_pen)
  float in_kind = 0;           // own production and in-kind programmes, consumed as received
  float permanent_income = 0;  // last month's
  float cash = 0;              // liquid savings at the start of the budget (after this month's investments)
  float debt = 0;              // debt outstanding at the start of the budget (after this month's investments)
  float saving_boost = 0;      // added to the saving rate (financial education, Juntos coordination)
  float persons = 1;           // household size (at least 1)
  unsigned adopted = 0;        // technologies adopted (bit t)
};

template <class V>
struct BudgetResult {
  V permanent_income, financed_share, upkeep_paid, cash, debt;
  V spending;     // monetary consumption (from cash and from credit)
  V consumption;  // spending + in-kind consumption
  V borrowed, repaid, interest;
};

// The buffer-stock budget with credit (models/finance.hpp): upkeep falls due for the adopted technologies and
// interest and a scheduled repayment on the debt; permanent income follows net income; the household wants to
// spend out of permanent income less its saving, plus a share of its cash on hand after these obligations above
// the target buffer (less below it), and at least what keeps its consumption per person at the floor. It pays, in
// this order: consumption up to the floor from cash, then from credit within the limit; interest from cash, the
// rest added to the debt as far as the limit carries it (lenders charge no more than that); the scheduled
// repayment from cash; consumption above the floor from cash; upkeep from cash (what it cannot pay lowers next
// month's technology returns); and cash above the buffer repays debt early.
inline BudgetResult<float> budget(const BudgetConstants& k, const HouseholdFinances& h) {
  // Obligations of the month.
  float due = 0.0f;
  for (int t = 0; t < kTechCount; ++t)
    if (((h.adopted >> t) & 1u) != 0) due += k.upkeep[t];
  const float interest_due = k.rate * h.debt;
  const float scheduled = h.debt * k.repay_share;

  // Permanent income, the credit limit, and what the household wants to spend.
  const float permanent = h.permanent_income + k.weight * ((h.income - due) - h.permanent_income);
  const float positive = std::max(0.0f, permanent);
  const float limit = std::min(k.limit_max, k.limit_months * positive);
  const float on_hand = std::max(0.0f, h.cash) + h.income;
  const float desired = (1.0f - k.saving - h.saving_boost) * positive +
                        k.excess * (on_hand - due - interest_due - scheduled - k.buffer * positive);
  const float floor_need = std::max(0.0f, k.floor_pc * h.persons - h.in_kind);

  // Consumption up to the floor: cash first, then credit within the limit.
  const float floor_cash = std::min(floor_need, on_hand);
  const float borrow_floor = std::min(floor_need - floor_cash, std::max(0.0f, limit - h.debt));
  float left = on_hand - floor_cash;
  // Interest: from cash, the rest added to the debt within the limit.
  const float interest_cash = std::min(interest_due, left);
  left = left - interest_cash;
  const float capitalised =
      std::min(interest_due - interest_cash, std::max(0.0f, limit - (h.debt + borrow_floor)));
  // The scheduled repayment, consumption above the floor, upkeep: from cash.
  const float repay = std::min(scheduled, left);
  left = left - repay;
  const float extra = std::min(std::max(0.0f, desired - floor_need), left);
  left = left - extra;
  const float paid = std::min(due, left);
  left = left - paid;

  // Cash above the buffer repays debt early.
  const float owed = h.debt + borrow_floor + capitalised - repay;
  const float prepay = std::min(owed, std::max(0.0f, left - k.buffer * positive));
  const float spending = floor_cash + borrow_floor + extra;
  return {permanent,
          due > 0.0f ? paid / due : 1.0f,
          paid,
          left - prepay,
          owed - prepay,
          spending,
          spending + h.in_kind,
          borrow_floor + capitalised,
          repay + prepay,
          interest_cash + capitalised};
}

// The fast driver of the budget rule, for one household (V = float) or lanes::kLanes households (V = lanes::vf):
// the same operations in the same order, so the same bits as budget. `present`: technologies some household of
// the lanes has adopted; `adopted`: each household's mask.
// `due`: the month's upkeep of each household, as budget sums it (upkeep_due_table gives the same bits).
template <class V>
inline BudgetResult<V> budget_of(const BudgetConstants& k, V due, V income, V in_kind, V permanent_income, V cash,
                                 V debt, V saving_boost, V persons) {
  using lanes::max_of;
  using lanes::min_of;
  const V interest_due = k.rate * debt;
  const V scheduled = debt * k.repay_share;

  const V permanent = permanent_income + k.weight * ((income - due) - permanent_income);
  const V positive = max_of(0.0f, permanent);
  const V limit = min_of(k.limit_max, k.limit_months * positive);
  const V on_hand = max_of(0.0f, cash) + income;
  const V desired = (1.0f - k.saving - saving_boost) * positive +
                    k.excess * (on_hand - due - interest_due - scheduled - k.buffer * positive);
  const V floor_need = max_of(0.0f, k.floor_pc * persons - in_kind);

  const V floor_cash = min_of(floor_need, on_hand);
  const V borrow_floor = min_of(floor_need - floor_cash, max_of(0.0f, limit - debt));
  V left = on_hand - floor_cash;
  const V interest_cash = min_of(interest_due, left);
  left = left - interest_cash;
  const V capitalised = min_of(interest_due - interest_cash, max_of(0.0f, limit - (debt + borrow_floor)));
  const V repay = min_of(scheduled, left);
  left = left - repay;
  const V extra = min_of(max_of(0.0f, desired - floor_need), left);
  left = left - extra;
  const V paid = min_of(due, left);
  left = left - paid;

  const V owed = debt + borrow_floor + capitalised - repay;
  const V prepay = min_of(owed, max_of(0.0f, left - k.buffer * positive));
  const V spending = floor_cash + borrow_floor + extra;
  return {permanent,
          lanes::select(due > 0.0f, paid / due, V{} + 1.0f),
          paid,
          left - prepay,
          owed - prepay,
          spending,
          spending + in_kind,
          borrow_floor + capitalised,
          repay + prepay,
          interest_cash + capitalised};
}

template <class V, class M>
inline BudgetResult<V> budget_of(const BudgetConstants& k, V income, V in_kind, V permanent_income, V cash, V debt,
                                 V saving_boost, V persons, M adopted, unsigned present) {
  V due{};
  for (; present != 0; present &= present - 1) {
    const int t = __builtin_ctz(present);
    due += lanes::keep(lanes::has_bit(adopted, t), k.upkeep[t]);  // upkeep is finite, >= 0
  }
  return budget_of(k, due, income, in_kind, permanent_income, cash, debt, saving_boost, persons);
}

// The month's upkeep of every set of adopted technologies (bit t of the index), with budget's bits: budget sums a
// set's upkeep in ascending t from +0.0, so a set's sum is that of the set without its highest technology plus
// that technology's upkeep. The budget phase looks a household's sum up instead of summing over the technologies
// that its four lanes hold (a loop whose length changes from one group of households to the next); the income
// phase looks up the same sums (economy_income sums a set's upkeep in the same order).
using UpkeepDueTable = std::array<float, 1u << kTechCount>;
inline UpkeepDueTable upkeep_due_table(const std::array<float, kTechCount>& upkeep) {
  UpkeepDueTable due{};
  for (unsigned m = 1; m < due.size(); ++m) {
    const int top = 31 - __builtin_clz(m);
    due[m] = due[m & ~(1u << top)] + upkeep[static_cast<std::size_t>(top)];
  }
  return due;
}
inline UpkeepDueTable upkeep_due_table(const BudgetConstants& k) { return upkeep_due_table(k.upkeep); }

}  // namespace chacra::models
