// File: models/markets.hpp
// Local markets of one local economy for one period (issue 21; docs/markets.md): each good's price and the
// wage clear local demand and supply inside a band set by transport or migration costs, and the economy
// trades with the outside at the band's bounds; with the period's money accounts, a local consumer price
// index and the income multipliers of a programme. Pure functions on plain structs: the caller aggregates
// households and businesses (centres in index order) and pays them from the outcome.
#pragma once

#include "models/hw_business.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <span>
#include <string>
#include <vector>

namespace chacra::models::markets {

// What one local economy covers: a whole district, or a cluster of centres around a market town.
enum class Scope : std::uint8_t { district, cluster };
// How long one clearing period lasts; flows (spending, supply, transfers) are totals over the period.
enum class Period : std::uint8_t { month, quarter };

// The goods with a local market: local food (crops), livestock and animal products, and the products of
// each Haku Wiñay business type, in the order of BusinessType. Hired labour is cleared apart (the wage).
enum class Good : std::uint8_t {
  local_food = 0,
  livestock,
  guinea_pigs,
  dairy,
  bakery_food,
  textiles_crafts,
  rural_tourism,
  fish_farming,
  cattle_fattening,
};
inline constexpr int kGoodCount = 2 + kBusinessTypeCount;
inline constexpr std::array<const char*, kGoodCount> kGoodNames = {
    "local_food",      "livestock",     "guinea_pigs",  "dairy",           "bakery_food",
    "textiles_crafts", "rural_tourism", "fish_farming", "cattle_fattening"};
constexpr int good_index(Good g) { return static_cast<int>(g); }
// The market where a Haku Wiñay business of type t sells (t must not be none).
constexpr Good good_of(BusinessType t) { return static_cast<Good>(2 + business_index(t)); }

inline constexpr double kUnlimited = std::numeric_limits<double>::infinity();

// Half-width of a market's price band as a share of the outside price: tau = base + remote * (1 - access),
// so the band is widest where market access is worst. `market_access` in [0, 1].
double transport_margin(double margin_base, double margin_remote, double market_access);

// One group of sellers in one market: the households of a centre, the businesses of one type... Members of
// a group share one elasticity; a caller pays them in proportion to their own supply at the outside price.
struct Seller {
  double supply_ref = 0;               // quantity offered at the outside price this period, >= 0
  double elasticity = 0;               // supply elasticity to the local price, >= 0 (0: fixed supply)
  double capacity = kUnlimited;        // most the group can offer (land, labour, capital), >= 0
  double labour_share = 0;             // share of revenue paid as wages for hired local labour
  double outside_input_share = 0;      // share of revenue spent on inputs bought outside the economy
};

// Supply of one seller group at the relative price x = p / p*: min(supply_ref * x^elasticity, capacity).
double seller_supply(const Seller& s, double relative_price);

// One market's data for the period. For goods, quantities are in the good's unit (the caller may choose
// "PEN's worth at the outside price", so that the outside price is 1); for labour, in days.
struct MarketInput {
  double outside_price_pen = 1;        // p*: outside price (wage), fixed, > 0
  double margin = 0;                   // tau in [0, 1): the band is [p* (1 - tau), p* (1 + tau)]
  double export_limit = kUnlimited;    // most the outside buys at the lower bound (labour: outside work)
  double final_spending_pen = 0;       // money local buyers spend on it as consumption (households...)
  double intermediate_spending_pen = 0;  // money local producers spend on it as an input (a cost)
  double cpi_weight = 0;               // its share in households' reference basket (goods only)
  std::vector<Seller> sellers;         // in a fixed order (the caller's index order)
};

// Everything one local economy brings to one period. Demand is Cobb-Douglas: the money spent on a good is
// fixed for the period and the quantity bought is money / price.
struct PeriodInput {
  std::vector<MarketInput> goods;      // kGoodCount for the standard list; any number is accepted
  MarketInput labour;                  // demand: its own spending plus the wages the goods' sellers pay
  double leakage_pen = 0;              // households' spending on goods from outside (not in `goods`)
  double transfers_pen = 0;            // programme payments into the economy (Juntos, Pension 65, HW)
  double remittances_pen = 0;          // private transfers from outside
  double other_inflows_pen = 0;        // money in that is not income (credit from outside lenders...)
  double other_outflows_pen = 0;       // money out that is not a purchase (repayments, deposits outside)
};

// Where a market ends up: exports at the lower bound, local clearing inside the band, imports at the upper.
enum class Regime : std::uint8_t { exports = 0, local = 1, imports = 2 };

struct SellerOutcome {
  double quantity = 0;            // sold, locally or outside
  double revenue_pen = 0;         // price * quantity
  double share = 0;               // of the market's revenue
  double wages_pen = 0;           // labour_share * revenue, paid into the labour market
  double outside_inputs_pen = 0;  // outside_input_share * revenue, paid outside
  double net_income_pen = 0;      // revenue - wages - outside inputs: the group's income
};

struct MarketOutcome {
  double price_pen = 0;           // local price (the wage, for labour)
  double lower_price_pen = 0;     // export parity p* (1 - tau)
  double upper_price_pen = 0;     // import parity p* (1 + tau)
  Regime regime = Regime::local;
  double demand_pen = 0;          // money local buyers spend (labour: the whole wage bill)
  double bought = 0;              // quantity local buyers get: demand / price
  double supplied = 0;            // quantity local sellers offer at the price
  double local_sales = 0;         // quantity local sellers sell to local buyers (labour: employment)
  double imports = 0;             // quantity bought from outside (labour: days of outside workers)
  double exports = 0;             // quantity sold outside (labour: days worked outside)
  double unsold = 0;              // offered at the lower bound beyond the export limit (labour: idle days)
  double revenue_pen = 0;         // local sellers' revenue, locally and outside
  double import_value_pen = 0;    // money paid outside for imports (at the upper bound)
  double export_value_pen = 0;    // money received from outside for exports (at the lower bound)
  std::vector<SellerOutcome> sellers;
};

// Money flows across the economy's boundary in one period, and the change of the money its households and
// businesses hold. The market fills every flow; the caller sets money_change_pen after paying everyone.
struct MoneyAccounts {
  // Inflows.
  double transfers_pen = 0;
  double remittances_pen = 0;
  double exports_pen = 0;           // goods sold outside
  double outside_wages_pen = 0;     // local labour paid outside
  double other_inflows_pen = 0;
  // Outflows.
  double imports_pen = 0;           // goods bought outside, transport margin included
  double leakage_pen = 0;           // households' spending on outside goods
  double outside_inputs_pen = 0;    // producers' purchases outside
  double outside_labour_pen = 0;    // wages paid to workers from outside
  double other_outflows_pen = 0;
  // Stock change (caller): cash plus spending committed but not yet cleared, summed in index order.
  double money_change_pen = 0;
};

struct PeriodOutcome {
  std::vector<MarketOutcome> goods;
  MarketOutcome labour;
  double cpi = 1;                   // Laspeyres on the CPI weights, base = outside prices
  double local_income_pen = 0;      // net money income of the economy's households and businesses
  MoneyAccounts accounts;
};

// Every problem with an input, all at once ("goods[2].sellers[0].elasticity: -1 is negative"); empty if
// the input is valid.
std::vector<std::string> input_problems(const PeriodInput& in);

// Relative price x = p / p* at which the money `demand_pen` buys what the sellers offer,
// p* x S(x) = demand_pen, for x in [lo, hi] where p* lo S(lo) < demand_pen < p* hi S(hi). Closed form when
// every seller has elasticity 0, or all share one elasticity and none is at capacity; otherwise the
// bracketing solver below.
double clearing_relative_price(std::span<const Seller> sellers, double outside_price_pen, double demand_pen,
                               double lo, double hi);
// The same root by Alefeld-Potra-Shi bracketing (TOMS 748, Boost.Math) alone, to a relative width of
// 4 machine epsilons: the reference that the closed forms are tested against.
double clearing_relative_price_bracketed(std::span<const Seller> sellers, double outside_price_pen,
                                         double demand_pen, double lo, double hi);

// Clears one market for money demand `demand_pen` (> = 0) and fills `out` (its vectors are reused).
void clear_market(const MarketInput& in, double demand_pen, MarketOutcome& out);

// Clears every good, then labour (whose demand includes the wages that the goods' sellers pay), and fills
// the CPI, local income and money accounts. Throws std::invalid_argument listing input_problems(in).
// Reusing `out` across periods allocates nothing.
void clear_period(const PeriodInput& in, PeriodOutcome& out);
PeriodOutcome clear_period(const PeriodInput& in);

// 1 + sum_g w_g (p_g / p*_g - 1): the basket's cost at local prices over its cost at outside prices, the
// share 1 - sum_g w_g bought outside at fixed prices.
double consumer_price_index(std::span<const MarketInput> goods, std::span<const MarketOutcome> outcomes);

struct Conservation {
  double net_inflow_pen = 0;    // inflows - outflows
  double money_change_pen = 0;
  double imbalance_pen = 0;     // net inflow - money change
  bool holds = false;           // |imbalance| <= tolerance
};
// Money in = money out: inflows - outflows = the change in local money, within `tolerance_pen` (half a
// cent by default). Sums in a fixed order.
Conservation check_conservation(const MoneyAccounts& a, double tolerance_pen = 0.005);

// A programme's effect on one local economy from two runs over the same periods, with and without it.
struct Multipliers {
  double injection_pen = 0;            // sum over periods of the change in transfers_pen
  double income_change_pen = 0;        // sum of the change in local income
  double real_income_change_pen = 0;   // sum of the change in local income / CPI
  double nominal = 0;                  // income change / injection (NaN without an injection)
  double real = 0;                     // real income change / (injection deflated by the reference CPI)
  std::vector<double> price_change;    // per good: mean over periods of p / p_ref - 1
  double wage_change = 0;              // mean over periods of w / w_ref - 1
  double cpi_change = 0;               // mean over periods of CPI / CPI_ref - 1
  double employment_change = 0;        // total local employment / reference total - 1 (0 if both 0)
};
// Throws std::invalid_argument if the runs differ in length or in their number of goods.
Multipliers local_multipliers(std::span<const PeriodOutcome> with_programme,
                              std::span<const PeriodOutcome> reference);

}  // namespace chacra::models::markets
