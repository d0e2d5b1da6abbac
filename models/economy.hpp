// File: models/economy.hpp
// The household economy's channels (docs/model.md): one switch per channel through which Juntos and Haku Wiñay
// can interact, and the one function through which any phase spends a household's money. With every switch off
// the model is the one before these channels existed, bit for bit.
//
//   economy.welfare.enabled       consumption financed by the household's own economy (real prices, regional
//                                 lines, remittances, pensions, in-kind), savings and credit
//   economy.liquidity.enabled     up-front costs of technologies and businesses, financed from cash and credit
//   economy.risk.enabled          activity risk and a safety-first portfolio choice; coping by dissaving and sales
//   economy.graduation.enabled    re-certification on current welfare and assets; compliance, take-up and
//                                 attendance respond to time, distance and liquidity
//   economy.persistence.enabled   technologies and businesses kept while they pay; livestock herds as stocks
//   economy.poverty_trap.enabled  an asset threshold below which accumulation does not pay (a hypothesis)
#pragma once

#include "models/shared_state.hpp"
#include "sim/param_spec.hpp"
#include "sim/world.hpp"

#include <array>
#include <cstdint>

namespace chacra::models {

struct EconomyParams {
  bool welfare = false;
  bool liquidity = false;
  bool risk = false;
  bool graduation = false;
  bool persistence = false;
  bool poverty_trap = false;

  template <class V> void describe(V& v);
  static EconomyParams from(const ParamSet& params);
  static void register_params(Registry& registry);
};

// Prices. With economy.welfare.enabled every amount the model computes is in real soles of 2017 (mid-year
// prices); an amount fixed in nominal soles (the Juntos transfer, the Pension 65 pension, programme budgets)
// is worth amount / index(month) in those prices.
struct PriceParams {
  double inflation_rate = 0.02;  // prices.inflation_rate, a year

  template <class V> void describe(V& v);
  static PriceParams from(const ParamSet& params);
};

namespace prices {
// The consumer price index of the run's month `month` relative to the middle of 2017:
// (1 + inflation_rate)^((months from mid-2017 to the middle of the month) / 12), so the mean of 2017's twelve
// months is about 1 and a nominal amount paid in year y is worth about amount / (1 + rate)^(y - 2017).
double index(double inflation_rate, const Calendar& calendar, int month);
}  // namespace prices

// The income phase's Philox block of a household-month (domain "livelihood.income", counted by month and
// household) holds four 64-bit words; the household economy takes every monthly draw from it, so no phase opens
// another block per household-month. Word 0, twelve bits each: the farm shock [52, 64), the off-farm shock
// [40, 52), the remittance shock [28, 40), the animal-disease draw [16, 28); [0, 16) spare. Word 1: the
// remittance start or stop uniform (its top 53 bits). Words 2 and 3 spare.
namespace income_draw {
inline constexpr int kFarmShift = 52;
inline constexpr int kOffFarmShift = 40;
inline constexpr int kRemittanceShift = 28;
inline constexpr int kDiseaseShift = 16;
inline constexpr int kBits = 12;
inline constexpr std::uint64_t kMask = (1u << kBits) - 1;
}  // namespace income_draw

// Credit available to a household (finance.budget owns the terms; other phases only ask).
struct CreditTerms {
  double limit_months = 2.0;     // credit limit in months of permanent income
  double max_pen = 3000.0;       // and at most this
  double monthly_rate = 0.03;    // interest per month on the debt
  int term_months = 12;          // a debt is repaid over this many months
  double reserve_months = 1.0;   // cash a household keeps for consumption before it invests
  bool credit_for_investment = true;

  template <class V> void describe(V& v);
  static CreditTerms from(const ParamSet& params);
  // The most a household with permanent monthly income `permanent_pen` may owe.
  float limit(float permanent_pen) const;
};

// How Haku Winay's asset deliveries are financed (the programme pays the up-front cost of a delivered asset but
// this share, which the household pays when it puts the asset to use: inputs, hoses, breeding stock, hired
// labour). Declared here because the adoption phase charges it and Haku Winay's take-up reads it.
struct AssetFinancing {
  double complement_share = 0.15;

  template <class V> void describe(V& v);
  static AssetFinancing from(const ParamSet& params);
};

namespace finance {

// How an up-front payment is financed: from cash above the reserve first, then new debt within the limit.
struct Payment {
  float from_cash = 0.0f;
  float borrowed = 0.0f;
  bool paid = false;  // all or nothing: false means nothing is paid (the purchase waits)
};

// Whether and how a household can pay `amount` now. Pure: the caller applies it with book().
Payment pay(float cash, float debt, float credit_limit, float reserve, float amount, bool allow_credit);

// Applies a payment to household i's columns: cash and debt, and the month's investment and borrowing flows.
struct Accounts {
  float* cash;
  float* debt;
  float* investment;
  float* borrowed;
  void book(std::uint32_t i, float amount, const Payment& p) const;
};

}  // namespace finance

// Livestock species kept in the herd column (models/livestock.hpp holds their economics).
inline constexpr int kSpeciesCount = 3;
inline constexpr std::array<const char*, kSpeciesCount> kSpeciesNames = {"guinea_pigs", "sheep", "cattle"};

// Columns more than one module of the economy reads or writes (each module declares its own in its header).
namespace col {
inline constexpr Col<float> debt_pen{
    .name = "debt_pen", .unit = "PEN",
    .description = "Informal credit outstanding at the end of the month (never negative)",
    .panel = true};
inline constexpr Col<float> investment_pen{
    .name = "investment_pen", .unit = "PEN",
    .description = "Up-front spending this month: technologies, animals, business start-up, planting inputs",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> borrowed_pen{
    .name = "borrowed_pen", .unit = "PEN",
    .description = "New informal credit taken this month", .panel = true,
    .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> tech_profit_pen{
    .name = "tech_profit_pen", .unit = "PEN",
    .description = "Profit of each adopted technology this month: output value less running cost and the "
                   "labour it takes at its opportunity cost",
    .width = kTechCount, .panel = true, .aggregation = PeriodAggregation::sum, .labels = kTechNames};
inline constexpr Col<float> herd{
    .name = "herd", .unit = "heads",
    .description = "Animals kept: guinea pigs, sheep, cattle",
    .width = kSpeciesCount, .panel = true, .labels = kSpeciesNames};
inline constexpr Col<float> market_orientation{
    .name = "market_orientation", .unit = "share of crop land",
    .description = "Share of crop land in the commercial line chosen at the last planting (safety-first)",
    .panel = true};
inline constexpr Col<float> time_burden{
    .name = "time_burden", .unit = "share of adult time",
    .description = "Share of the household's adult time taken this month by programme duties (Juntos "
                   "co-responsibilities, Haku Winay visits and group work)"};
}  // namespace col

}  // namespace chacra::models
