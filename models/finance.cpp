// File: models/finance.cpp
// The month's money flows opened at zero, and the buffer-stock budget with savings and informal credit (see
// finance.hpp).
#include "models/finance.hpp"

#include "models/finance_rules.hpp"
#include "models/lanes.hpp"
#include "models/livelihood.hpp"
#include "models/row_ops.hpp"

#include <algorithm>

namespace chacra::models {

namespace {
constexpr auto kAdopted = static_cast<std::uint8_t>(TechState::adopted);
}  // namespace

template <class V>
void FinanceParams::describe(V& v) {
  for (int t = 0; t < kTechCount; ++t) v.borrow("adoption." + std::string(kTechNames[t]) + ".upkeep_pen", upkeep_pen[t]);
  v.borrow("livelihood.saving_rate", saving_rate);
  v.borrow("livelihood.buffer_months", buffer_months);
  v.borrow("livelihood.excess_consumption_share", excess_consumption_share);
  v.borrow("livelihood.permanent_income_weight", permanent_income_weight);
  v.real("finance.consumption_floor_pc_pen", consumption_floor_pc_pen, {0, 1e5}, "PEN 2017 per person per month",
         "Consumption per person (monetary spending plus own production and in-kind items) below which a household "
         "borrows, within its credit limit, rather than cut further (economy.welfare.enabled; prior range 100-183)",
         "Assumption: about 80% of INEI's extreme poverty line of PEN 183, the cost of the minimum food basket "
         "(INEI, Evolucion de la pobreza monetaria 2017); rural households borrow from shops and relatives to eat "
         "in a bad month");
}

FinanceParams FinanceParams::from(const ParamSet& params) {
  FinanceParams p = read_params<FinanceParams>(params);
  p.credit = CreditTerms::from(params);
  return p;
}

BudgetConstants budget_constants(const FinanceParams& p) {
  BudgetConstants k;
  for (int t = 0; t < kTechCount; ++t) k.upkeep[t] = static_cast<float>(p.upkeep_pen[t]);
  k.weight = static_cast<float>(p.permanent_income_weight);
  k.saving = static_cast<float>(p.saving_rate);
  k.excess = static_cast<float>(p.excess_consumption_share);
  k.buffer = static_cast<float>(p.buffer_months);
  k.floor_pc = static_cast<float>(p.consumption_floor_pc_pen);
  k.rate = static_cast<float>(p.credit.monthly_rate);
  k.repay_share = static_cast<float>(1.0 / std::max(1, p.credit.term_months));
  k.limit_months = static_cast<float>(p.credit.limit_months);
  k.limit_max = static_cast<float>(p.credit.max_pen);
  return k;
}

void Finance::register_params(Registry& registry) { declare_params<FinanceParams>(registry); }

void Finance::setup(World& world, const ParamSet& params, const rng::StreamSeed&) {
  p_ = FinanceParams::from(params);
  due_table_ = upkeep_due_table(budget_constants(p_));
  auto& h = world.households;
  h.add(col::repaid_pen);
  h.add(col::interest_pen);
}

Phase Finance::open_phase() const {
  return Phase::per_block("finance.open", [](World& world, const StepContext&, const Block& block) {
    auto& h = world.households;
    const std::size_t i0 = block.household_begin, n = block.household_end - block.household_begin;
    for (float* flow : {h.get(col::investment_pen), h.get(col::borrowed_pen), h.get(col::repaid_pen),
                        h.get(col::interest_pen)})
      std::fill_n(flow + i0, n, 0.0f);
  });
}

Phase Finance::budget_phase() const {
  return Phase::per_block("finance.budget", [this](World& world, const StepContext&, const Block& block) {
    const FinanceParams& p = p_;
    auto& h = world.households;
    const auto* monetary = h.get(col::income_monetary_pen);
    const auto* own = h.get(col::own_production_pen);
    const auto* in_kind = h.get(col::in_kind_pen);
    const auto* state = h.get(col::tech_state);
    const auto* boost = h.get(col::saving_boost);
    const auto* size = h.get(col::household_size);
    auto* cash = h.get(col::cash_pen);
    auto* debt = h.get(col::debt_pen);
    auto* perm = h.get(col::permanent_income_pen);
    auto* financed = h.get(col::upkeep_financed_share);
    auto* paid_col = h.get(col::upkeep_paid_pen);
    auto* consumption = h.get(col::consumption_pen);
    auto* borrowed = h.get(col::borrowed_pen);
    auto* repaid = h.get(col::repaid_pen);
    auto* interest = h.get(col::interest_pen);

    const BudgetConstants k = budget_constants(p);
    const UpkeepDueTable& due_of = due_table_;

    // One household (V = float) or kLanes households (V = lanes::vf) from household i: the rule (budget,
    // models/finance_rules.hpp) through its fast driver, the same bits either way. Borrowing adds to the month's
    // borrowed_pen (investments may have borrowed earlier in the month).
    const auto step = [&](std::uint32_t i, auto kind) {
      using V = decltype(kind);
      using T = lanes::Traits<V>;
      constexpr int n = T::width;
      float dues[n];
      if constexpr (n == 1) {
        dues[0] = due_of[rows::tech_mask(state + static_cast<std::size_t>(i) * kTechCount, kAdopted)];
      } else {
        // The four households' technology rows at once.
        const std::uint64_t on4 = rows::tech_masks4(state + static_cast<std::size_t>(i) * kTechCount, kAdopted);
        for (int j = 0; j < n; ++j) dues[j] = due_of[rows::tech_mask_of(on4, j)];
      }
      const V persons = lanes::persons(size + i, V{});
      const auto load = [i](const float* column) { return T::load(column + i); };
      const BudgetResult<V> b = budget_of(k, T::load(dues), load(monetary), load(own) + load(in_kind), load(perm),
                                          load(cash), load(debt), load(boost), persons);
      lanes::store(perm + i, b.permanent_income);
      lanes::store(financed + i, b.financed_share);
      lanes::store(paid_col + i, b.upkeep_paid);
      lanes::store(cash + i, b.cash);
      lanes::store(debt + i, b.debt);
      lanes::store(consumption + i, b.consumption);
      lanes::store(borrowed + i, load(borrowed) + b.borrowed);
      lanes::store(repaid + i, b.repaid);
      lanes::store(interest + i, b.interest);
    };
    std::uint32_t i = block.household_begin;
    for (; i + lanes::kLanes <= block.household_end; i += lanes::kLanes) step(i, lanes::vf{});
    for (; i < block.household_end; ++i) step(i, 0.0f);  // the last few households of the block
  });
}

}  // namespace chacra::models
