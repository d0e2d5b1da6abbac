// File: models/local_markets.hpp
// The local markets channel (economy.markets.enabled; docs/markets.md, "The markets in the month"): each local
// economy (a district, or a cluster of centres of one executing nucleus) clears its markets for local food,
// livestock, Haku Winay business products and hired labour once a period with the pure functions of
// models/markets.hpp, from its households' cash spending and their marketed output, and pays households the
// difference between what they earn at local prices and at farm-gate prices.
//
// markets.clear (after finance.budget and before livelihood.welfare: per block on the block's own economies where
// setup could cut the blocks between economies, else the serial markets.clear_all; each economy sums its centres and
// households in index order, so the bits depend neither on the thread count nor on the blocks; an economy never
// spans districts, so neither on the rank count). Per household h and month, in PEN 2017:
//   c_h  cash spending on consumption = consumption_pen - own_production_pen - in_kind_pen (finance.budget's)
//   supply at farm-gate prices (the income phase's values): crops income_crops_pen, animals income_animals_pen,
//        Haku Winay business max(0, business_profit_pen) in the market of its business_type, wage income_wage_pen
// accumulated over the period (markets.period: a month or a quarter). At the period's end, per economy e:
//   demand for good g: M_g = sum_h beta_g c_h (markets.<good>.budget_share); leakage sum_h (c_h - sum_g beta_g c_h)
//   band: tau = margin_base + margin_remote (1 - a_e), a_e the household-weighted mean market_access of e's
//        centres; the outside price is p* = 1 / (1 - tau), so the lower bound of the band (export parity, what the
//        outside pays a local seller) is the farm-gate price 1 at which the model values output without markets
//   sellers of g: one group per economy, gross revenue at farm-gate prices G = sum_h net_h / (1 - l_g - o_g)
//        (labour_share l, outside_input_share o), supply S(x) = min(S0 x^eps, K), S0 = G / (1 - tau)^eps so
//        S = G at the farm-gate price, K = max(G, sum over the period's months and households of K_h): what the
//        households hold yields at most in a month at farm-gate prices (gross revenue, as G):
//          local food  K_h = max(0, land_ha land_output_pen_per_ha / 12 - own_production_pen)   (land)
//          livestock   K_h = sum_s herd_s (price_s birth_rate_s + product_s)   (the herd's increase and products;
//                      0 without the herd column: the animal output of the model without herds is fixed)
//          HW business K_h = equipment business_return_t / 12 / (1 - l - o) in a month with a profit, equipment =
//                      prize_late x equipment_share / group_mean_size (a member's share of a lone business's output)
//          labour      K_h = adults (15-64) (1 - farm_labour_share) wage_month_pen   (their time off the farm)
//   labour: the days households work for a wage, valued at the farm-gate (export-parity) wage; demand the goods'
//        sellers' wage bills; the outside takes any surplus at export parity (markets.labour.*)
//   clear_period (models/markets.hpp); household h gets net_h / sum net of its group's net income (the groups'
//   members share one elasticity, so this is its share of the group's supply).
// Settlement: D_h = sum over its markets of (net income at local prices - net_h), added to income_crops_pen,
// income_animals_pen, income_business_pen, income_wage_pen, income_monetary_pen and cash_pen in the period's
// last month (markets.period quarter: March, June, September, December, and the run's last month, which settles
// a partial quarter). Prices never fall below the farm-gate price, so D_h >= 0 and cash stays non-negative.
// Consumption at local prices: consumption_pen = in-kind + c_h / P_e with P_e = 1 + sum_g w_g (p_g / p*_g - 1) the
// local price index against outside prices (w_g = beta_g; the share 1 - sum w bought outside at p* = 1), from the
// last clearing (1 before it);
// market_spending_pen keeps c_h, so the welfare channel's identity holds with c_h in place of the monetary part of
// consumption. With no local demand (every good at export parity) sellers earn exactly their farm-gate incomes.
// Conservation, every period and economy, to the cent (checked in the phase; a failure throws): inflows
// (transfers income_transfers_pen + pension_pen, remittances remittance_pen, other income income_business_pen
// less the HW business part, exports, wages earned outside) - outflows (imports, leakage, outside inputs, outside
// labour) = sum_h (money received - c_h), the change of the money households hold through the markets.
#pragma once

#include "models/economy.hpp"
#include "models/markets.hpp"
#include "models/shared_state.hpp"
#include "sim/engine.hpp"
#include "sim/param_spec.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace chacra::models {

// One market's parameters (markets.<good>.* and markets.labour.*).
struct MarketGoodParams {
  double budget_share = 0.0;
  double margin_base = 0.1;
  double margin_remote = 0.2;
  double elasticity = 0.5;
  double labour_share = 0.05;
  double outside_input_share = 0.1;
};

struct MarketsParams {
  bool enabled = false;          // economy.markets.enabled
  bool welfare = false;          // economy.welfare.enabled (borrowed: the markets need its budget)
  markets::Scope scope = markets::Scope::district;
  markets::Period period = markets::Period::month;
  std::array<MarketGoodParams, markets::kGoodCount> goods = default_goods();
  MarketGoodParams labour{0.0, 0.10, 0.15, 0.3, 0.0, 0.0};
  // What bounds supply: the most each household's holdings yield in a month at farm-gate prices.
  double land_output_pen_per_ha = 12000.0;  // markets.local_food.land_output_pen_per_ha (a year)
  // Borrowed from the modules that own them: herds (livestock.<species>.*), Haku Winay businesses' equipment and
  // returns (haku_winay.*), adults' full-time off-farm earnings (livelihood.wage_month_pen).
  std::array<double, kSpeciesCount> animal_price_pen{}, animal_birth_rate{}, animal_product_pen{};
  double prize_pen = 19500.0, equipment_share = 0.6, group_mean_size = 3.9;
  std::array<double, kBusinessTypeCount> business_return{};
  double wage_month_pen = 550.0;

  static std::array<MarketGoodParams, markets::kGoodCount> default_goods();
  template <class V> void describe(V& v);
  static MarketsParams from(const ParamSet& params);
};

// What one local economy did in one period: the market outcome, and the money the phase booked to households
// (for the conservation check and the tests).
struct EconomyPeriod {
  int month = -1;                  // the period's last month; -1 before the first clearing
  double transfers_pen = 0.0;      // programme money received (Juntos, Pension 65)
  double received_pen = 0.0;       // sum over households of the money they received in the period
  double spent_pen = 0.0;          // sum over households of their cash spending c_h
  double local_income_pen = 0.0;   // received: transfers, remittances, other income and market incomes
  markets::PeriodOutcome outcome;  // prices, regimes, accounts (money_change_pen = received - spent)
  markets::Conservation conservation;
};

class LocalMarkets : public Module {
 public:
  static void register_params(Registry& registry);

  std::string name() const override { return "markets"; }
  // With the channel on: the channel's columns, the economies (centres grouped by scope) and their state.
  void setup(World& world, const ParamSet& params, const rng::StreamSeed& seed) override;

  // The channel's phases, in the month after finance.budget: markets.flows (per block: each household's spending
  // and output, summed per centre), markets.clear (each economy sums its centres, clears and checks its money;
  // idle in the months inside a quarter), markets.settle (per block: pays each household at local prices). Where
  // no economy holds more households than a block's target, setup cuts the blocks only between economies and
  // markets.clear runs per block on the block's own economies: the three phases run in the budget's pass with
  // livelihood.welfare, with no barrier. Otherwise markets.clear does nothing and markets.clear_all, a serial
  // phase (a barrier), clears every economy; markets.settle then runs in the welfare phase's pass.
  std::vector<Phase> phases() const;
  // Whether markets.clear runs per block (blocks cut between economies) rather than markets.clear_all.
  bool clears_per_block() const { return per_block_; }

  const MarketsParams& params() const { return p_; }
  // Economies as runs of centres [first, last) in index order, and each one's last period (the tests read them).
  struct Economy {
    std::uint32_t centre_begin = 0, centre_end = 0;
    std::uint32_t district = 0;
  };
  const std::vector<Economy>& economies() const { return economies_; }
  const std::vector<EconomyPeriod>& last_periods() const { return *last_; }
  // The unit's "economies" table (docs/output.md): one row per local economy and clearing period, economies in
  // index order (the whole population's on rank 0 of a split world), each one's periods in order.
  std::vector<UnitTable> unit_tables(const World& world) const override;
  static std::vector<UnitTable::Column> economy_columns();

 private:
  // A centre's flows of the current period, summed over its households in index order (the flows phase), and
  // what the settlement paid them (the settle phase).
  struct CentreFlows {
    double spend = 0, crops = 0, animals = 0, wage = 0, transfers = 0, remittances = 0, other_in = 0, other_out = 0;
    std::array<double, kBusinessTypeCount> business{};
    std::array<double, markets::kGoodCount> capacity{};  // gross, at farm-gate prices
    double labour_capacity = 0;
    void add(const CentreFlows& o);
  };
  // An economy's prices and what a sol of farm-gate output earns at them, from its last clearing; the prices as
  // its households' columns hold them (1 before the first clearing), and whether the last clearing changed them.
  struct Settlement {
    std::array<double, markets::kGoodCount> per_net{}, price{};
    double per_wage = 1, cpi = 1, wage = 1;
    std::array<float, markets::kGoodCount> price_column = filled(1.0f);
    float cpi_column = 1.0f, wage_column = 1.0f;
    bool columns_changed = false;
    static std::array<float, markets::kGoodCount> filled(float v) {
      std::array<float, markets::kGoodCount> a;
      a.fill(v);
      return a;
    }
  };
  // An economy's price band per market (the goods, then labour): the margin tau, the outside price 1 / (1 - tau)
  // and (1 - tau)^elasticity, what a unit of reference supply offers at the farm-gate price.
  struct Bands {
    std::array<double, markets::kGoodCount + 1> tau{}, outside_price{}, at_farm_gate{};
  };
  bool period_end(const StepContext& ctx) const;
  int period_months(const StepContext& ctx) const;
  void flows(World& world, const StepContext& ctx, const Block& block) const;
  void clear(World& world, const StepContext& ctx) const;
  void clear_block(World& world, const StepContext& ctx, const Block& block) const;
  void clear_economy(World& world, std::size_t e, int months, int month) const;
  void settle(World& world, const StepContext& ctx, const Block& block) const;

  MarketsParams p_;
  std::vector<Economy> economies_;
  std::vector<Bands> bands_;  // per economy, set at setup
  bool per_block_ = false;  // markets.clear per block (see phases())
  // Per economy, reused every period; the phase writes them (a std::function holds the module by const pointer).
  std::shared_ptr<std::vector<EconomyPeriod>> last_ = std::make_shared<std::vector<EconomyPeriod>>();
  std::shared_ptr<std::vector<markets::PeriodInput>> inputs_ = std::make_shared<std::vector<markets::PeriodInput>>();
  std::uint32_t first_centre_ = 0;  // world.centre_begin(): centres here are numbered from it
  std::vector<std::uint32_t> centre_economy_;  // per centre held here, its economy
  std::shared_ptr<std::vector<CentreFlows>> centres_ = std::make_shared<std::vector<CentreFlows>>();
  std::shared_ptr<std::vector<Settlement>> settlements_ = std::make_shared<std::vector<Settlement>>();
  // Per economy, its rows of the unit's economies table so far (economy_columns() values per clearing period).
  std::shared_ptr<std::vector<std::vector<double>>> history_ = std::make_shared<std::vector<std::vector<double>>>();
};

// Columns of the engine and shared ones this module reads or writes: cash_pen, centre_market_access,
// consumption_pen, income_animals_pen, income_business_pen, income_crops_pen, income_monetary_pen,
// income_transfers_pen, income_wage_pen, own_production_pen, business_profit_pen; livelihood's in_kind_pen,
// pension_pen, remittance_pen; Haku Winay's business_type.
//
// Columns owned by this module (created only when the channel is on in the arm).
namespace col {
inline constexpr Col<float> market_spending_pen{
    .name = "market_spending_pen", .unit = "PEN",
    .description = "Cash spent on consumption this month at local prices (local goods and goods from outside)",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> local_price_index{
    .name = "local_price_index", .unit = "index (outside prices = 1)",
    .description = "Consumer price index of the household's local economy at its last clearing (1 before it)",
    .panel = true};
inline constexpr Col<float> local_wage_index{
    .name = "local_wage_index", .unit = "index (farm-gate wage = 1)",
    .description = "Day wage of the household's local economy at its last clearing over the wage outside work pays",
    .panel = true};
inline constexpr Col<float> local_prices{
    .name = "local_prices", .unit = "index (farm-gate price = 1)",
    .description = "Prices of the local economy's goods at its last clearing",
    .width = markets::kGoodCount, .panel = true, .labels = markets::kGoodNames};
inline constexpr Col<float> real_income_pen{
    .name = "real_income_pen", .unit = "PEN",
    .description = "Monetary income deflated by the local price index",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> market_gain_pen{
    .name = "market_gain_pen", .unit = "PEN",
    .description = "Income from selling at local prices above farm-gate prices (crops, animals, HW business, wage)",
    .panel = true, .aggregation = PeriodAggregation::sum};
// The period's flows so far, for a quarter: cash spending, crops, animals, HW business, wage at farm-gate prices,
// transfers, remittances, other income.
inline constexpr int kPendingWidth = 8;
inline constexpr Col<double> market_pending_pen{
    .name = "market_pending_pen", .unit = "PEN",
    .description = "Flows of the current clearing period so far (spending, crops, animals, HW business, wage, "
                   "transfers, remittances, other income)",
    .width = kPendingWidth};
}  // namespace col

}  // namespace chacra::models
