// File: tests/models/test_finance.cpp
// The household budget with credit (models/finance_rules.hpp): the lanes driver gives the plain rule's bits on
// random inputs; every month balances to the cent with no negative stock; the floor is financed by credit within
// the limit; interest beyond the limit is not charged; cash above the buffer repays debt; upkeep waits for cash.
#include "models/finance.hpp"
#include "models/finance_rules.hpp"

#include "sim/rng.hpp"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>

namespace chacra::testing {
namespace {

using models::BudgetConstants;
using models::BudgetResult;
using models::HouseholdFinances;
using models::kTechCount;

std::uint32_t bits_of(float x) { return std::bit_cast<std::uint32_t>(x); }

BudgetConstants default_constants() {
  models::FinanceParams p;
  p.upkeep_pen = {5, 0, 3, 15, 10, 15, 8, 2, 3, 0};
  return models::budget_constants(p);
}

BudgetConstants random_constants(rng::Stream& s) {
  BudgetConstants k;
  for (int t = 0; t < kTechCount; ++t) k.upkeep[t] = static_cast<float>(s.uniform() < 0.3 ? 0.0 : 30.0 * s.uniform());
  k.weight = static_cast<float>(s.uniform());
  k.saving = static_cast<float>(0.1 * s.uniform());
  k.excess = static_cast<float>(s.uniform());
  k.buffer = static_cast<float>(4.0 * s.uniform());
  k.floor_pc = static_cast<float>(250.0 * s.uniform());
  k.rate = static_cast<float>(0.08 * s.uniform());
  k.repay_share = static_cast<float>(1.0 / static_cast<double>(1 + s.below(36)));
  k.limit_months = static_cast<float>(s.uniform() < 0.2 ? 0.0 : 6.0 * s.uniform());
  k.limit_max = static_cast<float>(5000.0 * s.uniform());
  return k;
}

HouseholdFinances random_household(rng::Stream& s) {
  HouseholdFinances h;
  h.income = static_cast<float>(s.uniform() < 0.1 ? 0.0 : 2500.0 * s.uniform());
  h.in_kind = static_cast<float>(600.0 * s.uniform());
  h.permanent_income = static_cast<float>(2000.0 * s.uniform() - 200.0);
  h.cash = static_cast<float>(s.uniform() < 0.3 ? 0.0 : 4000.0 * s.uniform());
  h.debt = static_cast<float>(s.uniform() < 0.4 ? 0.0 : 4000.0 * s.uniform());
  h.saving_boost = static_cast<float>(0.05 * s.uniform());
  h.persons = static_cast<float>(1 + s.below(9));
  h.adopted = static_cast<unsigned>(s.below(1u << kTechCount));
  return h;
}

// Sources and uses of the month, in double from the rule's float results, must balance to the cent:
// income + in-kind + dissaving + borrowing = consumption + upkeep paid + interest + repayment (+ saving), and the
// debt moves by borrowing less repayment.
void expect_balanced(const HouseholdFinances& h, const BudgetResult<float>& b, int trial) {
  const double sources = double{h.income} + h.in_kind + (double{h.cash} - b.cash) + b.borrowed;
  const double uses = double{b.consumption} + b.upkeep_paid + b.interest + b.repaid;
  EXPECT_NEAR(sources, uses, 0.01) << "trial " << trial;
  EXPECT_NEAR(double{h.debt} + b.borrowed - b.repaid, b.debt, 0.01) << "trial " << trial;
  EXPECT_GE(b.cash, 0.0f) << "trial " << trial;
  EXPECT_GE(b.debt, 0.0f) << "trial " << trial;
  EXPECT_GE(b.borrowed, 0.0f) << "trial " << trial;
  EXPECT_GE(b.repaid, 0.0f) << "trial " << trial;
  EXPECT_NEAR(double{b.consumption}, double{b.spending} + h.in_kind, 0.01) << "trial " << trial;
}

TEST(FinanceRules, BudgetDriverMatchesThePlainRule) {
  namespace lanes = models::lanes;
  rng::Stream s(5, 0, rng::domain_id("test.budget_rule"), 0, 0);
  for (int trial = 0; trial < 3000; ++trial) {
    const BudgetConstants k = random_constants(s);
    HouseholdFinances h[lanes::kLanes];
    float v[8][lanes::kLanes];
    std::int32_t masks[lanes::kLanes];
    unsigned present = 0;
    for (int j = 0; j < lanes::kLanes; ++j) {
      h[j] = random_household(s);
      const float in[8] = {h[j].income, h[j].in_kind, h[j].permanent_income, h[j].cash,
                           h[j].debt,   h[j].saving_boost, h[j].persons, 0.0f};
      for (int c = 0; c < 8; ++c) v[c][j] = in[c];
      masks[j] = static_cast<std::int32_t>(h[j].adopted);
      present |= h[j].adopted;
    }
    using T = lanes::Traits<lanes::vf>;
    const BudgetResult<lanes::vf> fast =
        models::budget_of(k, T::load(v[0]), T::load(v[1]), T::load(v[2]), T::load(v[3]), T::load(v[4]),
                          T::load(v[5]), T::load(v[6]), T::load_mask(masks), present);
    // The phase's driver: each household's upkeep looked up in the table of every set's sum.
    const models::UpkeepDueTable table = models::upkeep_due_table(k);
    float dues[lanes::kLanes];
    for (int j = 0; j < lanes::kLanes; ++j) dues[j] = table[static_cast<std::size_t>(masks[j])];
    const BudgetResult<lanes::vf> tabled = models::budget_of(k, T::load(dues), T::load(v[0]), T::load(v[1]),
                                                             T::load(v[2]), T::load(v[3]), T::load(v[4]),
                                                             T::load(v[5]), T::load(v[6]));
    for (int j = 0; j < lanes::kLanes; ++j) {
      const BudgetResult<float> plain = models::budget(k, h[j]);
      const BudgetResult<float> scalar =
          models::budget_of(k, h[j].income, h[j].in_kind, h[j].permanent_income, h[j].cash, h[j].debt,
                            h[j].saving_boost, h[j].persons, h[j].adopted, h[j].adopted);
      const float want[10] = {plain.permanent_income, plain.financed_share, plain.upkeep_paid, plain.cash,
                              plain.debt,             plain.spending,       plain.consumption, plain.borrowed,
                              plain.repaid,           plain.interest};
      const float got_lanes[10] = {fast.permanent_income[j], fast.financed_share[j], fast.upkeep_paid[j],
                                   fast.cash[j],             fast.debt[j],           fast.spending[j],
                                   fast.consumption[j],      fast.borrowed[j],       fast.repaid[j],
                                   fast.interest[j]};
      const float got_one[10] = {scalar.permanent_income, scalar.financed_share, scalar.upkeep_paid, scalar.cash,
                                 scalar.debt,             scalar.spending,       scalar.consumption, scalar.borrowed,
                                 scalar.repaid,           scalar.interest};
      const float got_table[10] = {tabled.permanent_income[j], tabled.financed_share[j], tabled.upkeep_paid[j],
                                   tabled.cash[j],             tabled.debt[j],           tabled.spending[j],
                                   tabled.consumption[j],      tabled.borrowed[j],       tabled.repaid[j],
                                   tabled.interest[j]};
      for (int c = 0; c < 10; ++c) {
        ASSERT_EQ(bits_of(got_lanes[c]), bits_of(want[c])) << "trial " << trial << " lane " << j << " output " << c;
        ASSERT_EQ(bits_of(got_table[c]), bits_of(want[c])) << "trial " << trial << " lane " << j << " output " << c;
        ASSERT_EQ(bits_of(got_one[c]), bits_of(want[c])) << "trial " << trial << " lane " << j << " output " << c;
      }
      expect_balanced(h[j], plain, trial);
    }
  }
}

// A household without cash or income below the floor borrows what keeps it at the floor, within its limit; with
// no credit it consumes only what it has.
TEST(FinanceRules, TheFloorIsFinancedByCreditWithinTheLimit) {
  BudgetConstants k = default_constants();
  HouseholdFinances h;
  h.income = 100.0f;
  h.in_kind = 200.0f;
  h.permanent_income = 900.0f;  // limit 2 months: 1,800 (the rule updates P first: still about 833)
  h.persons = 5.0f;
  const BudgetResult<float> b = models::budget(k, h);
  const float floor_need = k.floor_pc * h.persons - h.in_kind;  // 550
  EXPECT_FLOAT_EQ(b.spending, floor_need);
  EXPECT_FLOAT_EQ(b.borrowed, floor_need - h.income);
  EXPECT_FLOAT_EQ(b.cash, 0.0f);
  EXPECT_FLOAT_EQ(b.consumption, k.floor_pc * h.persons);
  // Near its limit it borrows only the headroom.
  h.debt = b.permanent_income * k.limit_months - 100.0f;
  const BudgetResult<float> near = models::budget(k, h);
  EXPECT_NEAR(near.borrowed, 100.0f, 0.01f);
  EXPECT_FLOAT_EQ(near.interest, 0.0f);  // no cash and no headroom left for it
  EXPECT_NEAR(near.spending, h.income + 100.0f, 0.01f);
  // Without credit: only the month's income.
  k.limit_months = 0.0f;
  h.debt = 0.0f;
  const BudgetResult<float> none = models::budget(k, h);
  EXPECT_FLOAT_EQ(none.borrowed, 0.0f);
  EXPECT_FLOAT_EQ(none.spending, h.income);
}

// Interest is paid from cash; what cash cannot pay is added to the debt only up to the credit limit, so a debt at
// the limit does not grow.
TEST(FinanceRules, InterestBeyondTheLimitIsNotCharged) {
  const BudgetConstants k = default_constants();
  HouseholdFinances h;
  h.permanent_income = 500.0f;
  h.persons = 1.0f;
  h.in_kind = 1000.0f;  // no floor need
  h.debt = 3000.0f;     // above the limit of 2 months of permanent income
  const BudgetResult<float> b = models::budget(k, h);
  EXPECT_FLOAT_EQ(b.interest, 0.0f);
  EXPECT_FLOAT_EQ(b.borrowed, 0.0f);
  EXPECT_FLOAT_EQ(b.debt, h.debt);
  // With cash, interest and the scheduled repayment are paid first.
  h.cash = 1000.0f;
  const BudgetResult<float> paid = models::budget(k, h);
  EXPECT_FLOAT_EQ(paid.interest, k.rate * h.debt);
  EXPECT_GE(paid.repaid, h.debt * k.repay_share);
  EXPECT_LT(paid.debt, h.debt);
}

// Cash above the buffer goes to repaying debt early: a household with both ends the month with less debt than
// the schedule alone gives.
TEST(FinanceRules, CashAboveTheBufferRepaysDebt) {
  const BudgetConstants k = default_constants();
  HouseholdFinances h;
  h.permanent_income = 600.0f;
  h.income = 600.0f;
  h.cash = 5000.0f;
  h.debt = 1200.0f;
  h.persons = 3.0f;
  const BudgetResult<float> b = models::budget(k, h);
  EXPECT_FLOAT_EQ(b.debt, 0.0f);
  EXPECT_FLOAT_EQ(b.repaid, h.debt);
  EXPECT_GT(b.cash, k.buffer * b.permanent_income - 1.0f);
  expect_balanced(h, b, 0);
}

// Upkeep is paid after consumption: a household whose cash is spent cannot finance its technologies.
TEST(FinanceRules, UpkeepWaitsForCash) {
  const BudgetConstants k = default_constants();
  HouseholdFinances h;
  h.permanent_income = 300.0f;
  h.income = 150.0f;
  h.in_kind = 300.0f;
  h.persons = 4.0f;  // floor need 300: all of the income goes to consumption
  h.adopted = (1u << 3) | (1u << 5);
  const BudgetResult<float> b = models::budget(k, h);
  EXPECT_FLOAT_EQ(b.upkeep_paid, 0.0f);
  EXPECT_FLOAT_EQ(b.financed_share, 0.0f);
  h.cash = 2000.0f;
  const BudgetResult<float> rich = models::budget(k, h);
  EXPECT_FLOAT_EQ(rich.financed_share, 1.0f);
  EXPECT_FLOAT_EQ(rich.upkeep_paid, k.upkeep[3] + k.upkeep[5]);
}

// A household repeats the same month: the buffer-stock rule settles at spending its permanent income with cash
// near the steady buffer, and no debt.
TEST(FinanceRules, ConstantIncomeSettlesWithoutDebt) {
  const BudgetConstants k = default_constants();
  HouseholdFinances h;
  h.income = 900.0f;
  h.in_kind = 300.0f;
  h.permanent_income = 900.0f;
  h.persons = 5.0f;
  BudgetResult<float> b{};
  for (int m = 0; m < 400; ++m) {
    b = models::budget(k, h);
    h.cash = b.cash;
    h.debt = b.debt;
    h.permanent_income = b.permanent_income;
  }
  EXPECT_NEAR(b.spending, h.income, 0.5f);
  EXPECT_NEAR(b.cash, (k.buffer - 1.0f + k.saving / k.excess) * h.income, 2.0f);
  EXPECT_FLOAT_EQ(b.debt, 0.0f);
}

}  // namespace
}  // namespace chacra::testing
