// Tests of the household economy's shared contract: the channel switches and the payment rule (models/economy.hpp).
#include "models/economy.hpp"
#include "models/registry.hpp"

#include <gtest/gtest.h>

namespace chacra::models {
namespace {

TEST(EconomyContract, EverySwitchIsRegisteredAndOffByDefault) {
  const ParamSet defaults(registry());
  const EconomyParams e = EconomyParams::from(defaults);
  EXPECT_FALSE(e.welfare || e.liquidity || e.risk || e.graduation || e.persistence || e.poverty_trap);
  for (const char* name : {"economy.welfare.enabled", "economy.liquidity.enabled", "economy.risk.enabled",
                           "economy.graduation.enabled", "economy.persistence.enabled",
                           "economy.poverty_trap.enabled"})
    EXPECT_NE(registry().find(name), nullptr) << name;
}

TEST(EconomyContract, PayUsesCashAboveTheReserveThenCreditAllOrNothing) {
  // Enough spare cash: all from cash.
  auto p = finance::pay(500.0f, 0.0f, 1000.0f, 100.0f, 300.0f, true);
  EXPECT_TRUE(p.paid);
  EXPECT_FLOAT_EQ(p.from_cash, 300.0f);
  EXPECT_FLOAT_EQ(p.borrowed, 0.0f);
  // Spare 400 of 500, the rest on credit within the headroom.
  p = finance::pay(500.0f, 200.0f, 1000.0f, 100.0f, 700.0f, true);
  EXPECT_TRUE(p.paid);
  EXPECT_FLOAT_EQ(p.from_cash, 400.0f);
  EXPECT_FLOAT_EQ(p.borrowed, 300.0f);
  // Beyond the headroom: nothing is paid.
  p = finance::pay(500.0f, 900.0f, 1000.0f, 100.0f, 700.0f, true);
  EXPECT_FALSE(p.paid);
  EXPECT_FLOAT_EQ(p.from_cash + p.borrowed, 0.0f);
  // Without credit only spare cash counts; the reserve is never spent.
  EXPECT_FALSE(finance::pay(500.0f, 0.0f, 1000.0f, 100.0f, 401.0f, false).paid);
  EXPECT_TRUE(finance::pay(500.0f, 0.0f, 1000.0f, 100.0f, 400.0f, false).paid);
  // Nothing to pay is always paid.
  EXPECT_TRUE(finance::pay(0.0f, 0.0f, 0.0f, 0.0f, 0.0f, false).paid);
}

TEST(EconomyContract, BookKeepsCashPlusCreditEqualToTheSpending) {
  float cash[1] = {500.0f}, debt[1] = {200.0f}, inv[1] = {0.0f}, borrowed[1] = {0.0f};
  const finance::Accounts acc{cash, debt, inv, borrowed};
  const float amount = 700.0f;
  acc.book(0, amount, finance::pay(cash[0], debt[0], 1000.0f, 100.0f, amount, true));
  EXPECT_FLOAT_EQ(cash[0], 100.0f);
  EXPECT_FLOAT_EQ(debt[0], 500.0f);
  EXPECT_FLOAT_EQ(inv[0], amount);
  EXPECT_FLOAT_EQ(borrowed[0], 300.0f);
  EXPECT_FLOAT_EQ((500.0f - cash[0]) + borrowed[0], inv[0]);
}

TEST(EconomyContract, CreditLimitIsMonthsOfPermanentIncomeCapped) {
  CreditTerms t;
  t.limit_months = 2.0;
  t.max_pen = 3000.0;
  EXPECT_FLOAT_EQ(t.limit(1000.0f), 2000.0f);
  EXPECT_FLOAT_EQ(t.limit(5000.0f), 3000.0f);
  EXPECT_FLOAT_EQ(t.limit(-50.0f), 0.0f);
}

}  // namespace
}  // namespace chacra::models
