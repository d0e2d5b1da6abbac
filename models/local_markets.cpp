// File: models/local_markets.cpp
// The local markets channel in the month (see models/local_markets.hpp and docs/markets.md): economies from the
// centres, the period's flows per household, clearing by models/markets.hpp, settlement and the money check.
#include "models/local_markets.hpp"

#include "models/haku_winay.hpp"
#include "models/lanes.hpp"
#include "models/livelihood.hpp"
#include "models/livestock_rules.hpp"
#include "models/row_ops.hpp"
#include "sim/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <sstream>
#include <stdexcept>

#if defined(__SSE2__) && !defined(CHACRA_NO_SIMD)
#include <emmintrin.h>
#define CHACRA_MARKETS_SSE2 1
#endif

namespace chacra::models {

namespace {

constexpr Choice<markets::Scope> kScopeChoices[] = {{"district", markets::Scope::district},
                                                    {"cluster", markets::Scope::cluster}};
constexpr Choice<markets::Period> kPeriodChoices[] = {{"month", markets::Period::month},
                                                      {"quarter", markets::Period::quarter}};

// Slots of market_pending_pen.
enum Pending : int { kSpend = 0, kCrops, kAnimals, kBusiness, kWage, kTransfers, kRemittances, kOther };

constexpr int kFood = markets::good_index(markets::Good::local_food);
constexpr int kLivestock = markets::good_index(markets::Good::livestock);

}  // namespace

std::array<MarketGoodParams, markets::kGoodCount> MarketsParams::default_goods() {
  // budget_share, margin_base, margin_remote, elasticity, labour_share, outside_input_share
  // (docs/markets.md, "Parameters": assumptions with their prior ranges).
  return {{
      {0.20, 0.15, 0.25, 0.5, 0.10, 0.15},  // local_food
      {0.06, 0.10, 0.20, 0.3, 0.05, 0.10},  // livestock
      {0.01, 0.10, 0.20, 1.0, 0.05, 0.15},  // guinea_pigs
      {0.02, 0.20, 0.40, 0.3, 0.10, 0.10},  // dairy
      {0.05, 0.15, 0.30, 1.5, 0.20, 0.45},  // bakery_food
      {0.01, 0.05, 0.10, 1.0, 0.15, 0.30},  // textiles_crafts
      {0.00, 0.30, 0.50, 0.5, 0.25, 0.30},  // rural_tourism
      {0.01, 0.10, 0.20, 0.5, 0.15, 0.40},  // fish_farming
      {0.02, 0.05, 0.10, 0.5, 0.05, 0.40},  // cattle_fattening
  }};
}

template <class V>
void MarketsParams::describe(V& v) {
  v.boolean("economy.markets.enabled", enabled,
            "Local markets: each local economy clears its markets for local food, livestock, Haku Winay business "
            "products and hired labour every period inside price bands set by transport costs; households buy their "
            "consumption and sell their output at local prices and a share of spending leaks outside (needs "
            "economy.welfare.enabled)",
            "Scenario choice (docs/markets.md; Taylor and Filipski 2014, LEWIE)");
  v.borrow("economy.welfare.enabled", welfare);
  v.choice("markets.scope", scope, kScopeChoices,
           "What one local economy is: a district, or a cluster (consecutive centres of a district in one proposed "
           "executing nucleus, the population's neighbouring centres of about 130 households)",
           "Scenario choice; a cluster never spans districts");
  v.choice("markets.period", period, kPeriodChoices,
           "Clearing period: every month, or every quarter (March, June, September, December) on the quarter's "
           "summed flows, paid at its end",
           "Scenario choice");
  const std::string assumption = "Assumption (docs/markets.md, prior range there)";
  for (int g = 0; g < markets::kGoodCount; ++g) {
    const std::string k = std::string("markets.") + markets::kGoodNames[static_cast<std::size_t>(g)] + ".";
    MarketGoodParams& m = goods[static_cast<std::size_t>(g)];
    v.real(k + "budget_share", m.budget_share, {0, 1}, "share of cash spending",
           "Share of households' cash consumption spending on the good (its weight in the local price index); the "
           "rest of spending buys goods from outside",
           "Assumption: food is the largest item of rural spending (INEI, ENAHO) but part is own produce and part "
           "processed food from outside");
    v.real(k + "margin_base", m.margin_base, {0, 0.9}, "share of the outside price",
           "Transport and marketing margin at the best market access (half-width of the price band)", assumption);
    v.real(k + "margin_remote", m.margin_remote, {0, 0.9}, "share of the outside price",
           "Extra margin at the worst market access (centre market_access 0)",
           "Assumption; Escobal and Ponce (2002, GRADE) on access and transport costs in rural Peru");
    v.real(k + "elasticity", m.elasticity, {0, 10}, "elasticity",
           "Supply elasticity of the good's sellers to its local price (0: fixed supply)",
           "Assumption; LEWIE's Cobb-Douglas producers with fixed land and capital have s / (1 - s) for a "
           "variable-input share s");
    v.real(k + "labour_share", m.labour_share, {0, 0.9}, "share of revenue",
           "Share of the sellers' revenue paid as wages for hired local labour", assumption);
    v.real(k + "outside_input_share", m.outside_input_share, {0, 0.9}, "share of revenue",
           "Share of the sellers' revenue spent on inputs bought outside the local economy", assumption);
  }
  v.real("markets.labour.margin_base", labour.margin_base, {0, 0.9}, "share of the outside wage",
         "Cost of taking work outside (migration, travel) at the best market access: the band of the local wage",
         assumption);
  v.real("markets.labour.margin_remote", labour.margin_remote, {0, 0.9}, "share of the outside wage",
         "Extra cost of outside work at the worst market access", assumption);
  v.real("markets.labour.elasticity", labour.elasticity, {0, 10}, "elasticity",
         "Elasticity of the days households offer for hire to the local wage", assumption);
  v.real("markets.local_food.land_output_pen_per_ha", land_output_pen_per_ha, {0, 1e6}, "PEN 2017 per ha and year",
         "Most a hectare yields in a year at farm-gate prices, fully cropped with improved practice: a household "
         "offers at most its land's output less what it eats of its own produce (the cap on the supply of local "
         "food); prior range 7,000-15,000",
         "MINAGRI / INEI (Encuesta Nacional Agropecuaria): highland potato yields of 10-15 t/ha, farm-gate prices "
         "of PEN 0.7-1.0 a kg; the upper yield at PEN 0.8");
  // Holdings that bound the other markets' supply, read from the modules that own them.
  for (int s = 0; s < kSpeciesCount; ++s) {
    const std::string k = std::string("livestock.") + kSpeciesNames[static_cast<std::size_t>(s)] + ".";
    v.borrow(k + "price_pen", animal_price_pen[static_cast<std::size_t>(s)]);
    v.borrow(k + "birth_rate", animal_birth_rate[static_cast<std::size_t>(s)]);
    v.borrow(k + "product_pen", animal_product_pen[static_cast<std::size_t>(s)]);
  }
  v.borrow("haku_winay.prize_late_pen", prize_pen);
  v.borrow("haku_winay.prize_equipment_share", equipment_share);
  v.borrow("haku_winay.group_mean_size", group_mean_size);
  for (int t = 0; t < kBusinessTypeCount; ++t)
    v.borrow(std::string("haku_winay.business_return.") + kBusinessTypeNames[static_cast<std::size_t>(t)],
             business_return[static_cast<std::size_t>(t)]);
  v.borrow("livelihood.wage_month_pen", wage_month_pen);
  v.constraint(
      "markets.needs_welfare",
      [](const MarketsParams& p) -> std::optional<std::string> {
        if (p.enabled && !p.welfare)
          return "economy.markets.enabled needs economy.welfare.enabled: households buy in the local markets with "
                 "the cash spending of the welfare channel's budget (set economy.welfare.enabled: true)";
        return std::nullopt;
      },
      enabled, welfare);
  v.constraint(
      "markets.budget_shares_at_most_one",
      [](const MarketsParams& p) -> std::optional<std::string> {
        double s = 0.0;
        for (const auto& g : p.goods) s += g.budget_share;
        if (s > 1.0) return "markets.<good>.budget_share must sum to at most 1 (they sum to " + std::to_string(s) + ")";
        return std::nullopt;
      },
      goods[0].budget_share, goods[1].budget_share, goods[2].budget_share, goods[3].budget_share,
      goods[4].budget_share, goods[5].budget_share, goods[6].budget_share, goods[7].budget_share,
      goods[8].budget_share);
  for (int g = 0; g < markets::kGoodCount; ++g) {
    const std::string name = markets::kGoodNames[static_cast<std::size_t>(g)];
    v.constraint(
        "markets." + name + ".costs_below_revenue",
        [g, name](const MarketsParams& p) -> std::optional<std::string> {
          const auto& m = p.goods[static_cast<std::size_t>(g)];
          if (m.labour_share + m.outside_input_share >= 1.0)
            return "markets." + name + ".labour_share + outside_input_share must be below 1";
          if (m.margin_base + m.margin_remote >= 1.0)
            return "markets." + name + ".margin_base + margin_remote must be below 1";
          return std::nullopt;
        },
        goods[static_cast<std::size_t>(g)].labour_share, goods[static_cast<std::size_t>(g)].outside_input_share,
        goods[static_cast<std::size_t>(g)].margin_base, goods[static_cast<std::size_t>(g)].margin_remote);
  }
  v.constraint(
      "markets.labour.margin_below_one",
      [](const MarketsParams& p) -> std::optional<std::string> {
        if (p.labour.margin_base + p.labour.margin_remote >= 1.0)
          return "markets.labour.margin_base + margin_remote must be below 1";
        return std::nullopt;
      },
      labour.margin_base, labour.margin_remote);
}

MarketsParams MarketsParams::from(const ParamSet& params) { return read_params<MarketsParams>(params); }

void LocalMarkets::register_params(Registry& registry) { declare_params<MarketsParams>(registry); }

void LocalMarkets::setup(World& world, const ParamSet& params, const rng::StreamSeed&) {
  p_ = MarketsParams::from(params);
  economies_.clear();
  if (!p_.enabled) return;  // no column, no state: the month without the channel, bit for bit
  auto& h = world.households;
  h.add(col::market_spending_pen);
  h.add(col::local_price_index);
  h.add(col::local_wage_index);
  h.add(col::local_prices);
  h.add(col::real_income_pen);
  h.add(col::market_gain_pen);
  if (p_.period == markets::Period::quarter) h.add(col::market_pending_pen);  // monthly: flows stay in the task
  std::fill_n(h.get(col::local_price_index) + world.household_begin(), world.household_count(), 1.0f);
  std::fill_n(h.get(col::local_wage_index) + world.household_begin(), world.household_count(), 1.0f);
  std::fill_n(h.get(col::local_prices) + world.household_begin() * markets::kGoodCount,
              world.household_count() * markets::kGoodCount, 1.0f);
  // Economies: the districts held here, each whole or cut where the proposed nucleus changes.
  const auto* nucleus = world.centres.get(col::centre_nucleus);
  for (std::uint32_t d = world.district_begin(); d < world.district_end(); ++d) {
    const std::uint32_t first = world.district_first[d], last = world.district_first[d + 1];
    std::uint32_t begin = first;
    for (std::uint32_t c = first; c < last; ++c) {
      const bool cut = p_.scope == markets::Scope::cluster && c + 1 < last && nucleus[c + 1] != nucleus[c];
      if (c + 1 == last || cut) {
        economies_.push_back({begin, c + 1, d});
        begin = c + 1;
      }
    }
  }
  // Each economy's price bands: its centres' household-weighted market access does not change in a run, so the
  // margins, outside prices and (1 - tau)^elasticity are set once here rather than at every clearing.
  const auto* access = world.centres.get(col::centre_market_access);
  bands_.assign(economies_.size(), Bands{});
  for (std::size_t e = 0; e < economies_.size(); ++e) {
    double weighted = 0.0, count = 0.0;
    for (std::uint32_t c = economies_[e].centre_begin; c < economies_[e].centre_end; ++c) {
      const double n = world.centre_first[c + 1] - world.centre_first[c];
      weighted += n * access[c];
      count += n;
    }
    const double a = count > 0.0 ? weighted / count : 0.5;
    for (int g = 0; g <= markets::kGoodCount; ++g) {
      const auto k = static_cast<std::size_t>(g);
      const MarketGoodParams& q = g < markets::kGoodCount ? p_.goods[k] : p_.labour;
      const double tau = markets::transport_margin(q.margin_base, q.margin_remote, a);
      bands_[e].tau[k] = tau;
      bands_[e].outside_price[k] = 1.0 / (1.0 - tau);
      bands_[e].at_farm_gate[k] = std::pow(1.0 - tau, q.elasticity);
    }
  }
  last_->assign(economies_.size(), EconomyPeriod{});
  history_->assign(economies_.size(), {});
  // A row per clearing period (a month, or a quarter and the run's last partial one): reserved, so that recording
  // a clearing never reallocates.
  if (world.calendar.months > 0) {
    const int months = world.calendar.months;
    const int periods = p_.period == markets::Period::month ? months : (months + 2) / 3;
    const std::size_t values = static_cast<std::size_t>(periods) * economy_columns().size();
    for (auto& rows : *history_) rows.reserve(values);
  }
  inputs_->assign(economies_.size(), markets::PeriodInput{});
  settlements_->assign(economies_.size(), Settlement{});
  first_centre_ = world.centre_begin();
  centres_->assign(world.centre_end() - world.centre_begin(), CentreFlows{});
  centre_economy_.assign(world.centre_end() - world.centre_begin(), 0);
  for (std::size_t e = 0; e < economies_.size(); ++e)
    for (std::uint32_t c = economies_[e].centre_begin; c < economies_[e].centre_end; ++c)
      centre_economy_[c - first_centre_] = static_cast<std::uint32_t>(e);
  // Economies no larger than a block: cut the blocks between economies so each block clears its own (no barrier,
  // and settle finds the block's rows still in cache). Blocks only partition the work, so the bits are the same.
  std::uint32_t largest = 0;
  for (const Economy& econ : economies_)
    largest = std::max(largest, world.centre_first[econ.centre_end] - world.centre_first[econ.centre_begin]);
  per_block_ = world.block_households > 0 && largest <= world.block_households;
  if (per_block_)
    world.make_blocks(world.block_households, [this](std::uint32_t c) {
      return economies_[centre_economy_[c - first_centre_]].centre_end == c + 1;
    });
}

namespace {

// The economies table: identification, then per good its price, demand, supply and regime, then labour, then the
// money across the economy's boundary (economy_columns() lists them in this order).
void record(const LocalMarkets::Economy& econ, int months, int month, std::uint32_t households,
            const EconomyPeriod& out, const std::array<double, markets::kGoodCount>& capacity, double work_capacity,
            std::vector<double>& rows) {
  const markets::PeriodOutcome& o = out.outcome;
  const markets::MoneyAccounts& a = o.accounts;
  rows.insert(rows.end(), {static_cast<double>(econ.centre_begin), static_cast<double>(econ.district),
                           static_cast<double>(econ.centre_end - econ.centre_begin), static_cast<double>(households),
                           static_cast<double>(month), static_cast<double>(months), o.cpi});
  for (std::size_t g = 0; g < o.goods.size(); ++g) {
    const markets::MarketOutcome& m = o.goods[g];
    rows.insert(rows.end(), {m.price_pen, m.demand_pen, m.supplied, capacity[g], static_cast<double>(m.regime)});
  }
  const markets::MarketOutcome& l = o.labour;
  rows.insert(rows.end(), {l.price_pen, l.demand_pen, l.supplied, work_capacity, static_cast<double>(l.regime),
                           a.leakage_pen, a.imports_pen, a.exports_pen, a.outside_inputs_pen, a.outside_wages_pen,
                           a.outside_labour_pen, a.transfers_pen, a.remittances_pen, a.other_inflows_pen,
                           a.other_outflows_pen, out.received_pen, out.spent_pen, out.conservation.imbalance_pen});
}

}  // namespace

std::vector<UnitTable::Column> LocalMarkets::economy_columns() {
  std::vector<UnitTable::Column> c = {
      {"economy", "index", "First centre of the local economy (row of the centres table; identifies the economy)", true},
      {"district", "index", "District of the local economy", true},
      {"centres", "centres", "Population centres in the local economy", true},
      {"households", "households", "Households in the local economy", true},
      {"month", "months since the start", "Last month of the clearing period", true},
      {"months", "months", "Months in the clearing period (1, or 1-3 for a quarter; the run's last may be partial)", true},
      {"price_index", "index (outside prices = 1)", "Local consumer price index after the clearing", false}};
  const std::string at_farm_gate = "PEN at farm-gate prices";
  for (const char* g : markets::kGoodNames) {
    const std::string n = g;
    c.push_back({"price_" + n, "index (farm-gate price = 1)", "Local price of " + n + " over its farm-gate price", false});
    c.push_back({"demand_" + n + "_pen", "PEN", "Money local buyers spent on " + n + " in the period", false});
    c.push_back({"supply_" + n, at_farm_gate, "What local sellers of " + n + " offered at the local price", false});
    c.push_back({"capacity_" + n, at_farm_gate,
                 "Most the sellers' holdings (land, herd, equipment) yield of " + n + " in the period", false});
    c.push_back({"regime_" + n, "code", "Where " + n + " cleared: 0 exports (export parity), 1 locally, 2 imports", true});
  }
  const std::vector<UnitTable::Column> rest = {
      {"wage_index", "index (farm-gate wage = 1)", "Local day wage over the wage outside work pays", false},
      {"demand_labour_pen", "PEN", "Wage bill of local employers in the period", false},
      {"supply_labour", at_farm_gate, "Days offered for hire at the local wage, valued at the farm-gate wage", false},
      {"capacity_labour", at_farm_gate, "Working-age members' time off their farms, valued at the farm-gate wage", false},
      {"regime_labour", "code", "Where labour cleared: 0 work outside, 1 locally, 2 workers from outside", true},
      {"leakage_pen", "PEN", "Households' spending on goods from outside", false},
      {"imports_pen", "PEN", "Local goods bought from outside (at import parity)", false},
      {"exports_pen", "PEN", "Local goods sold outside (at export parity)", false},
      {"outside_inputs_pen", "PEN", "Sellers' inputs bought outside", false},
      {"outside_wages_pen", "PEN", "Wages locals earned outside", false},
      {"outside_labour_pen", "PEN", "Wages paid to workers from outside", false},
      {"transfers_pen", "PEN", "Programme transfers received (Juntos, Pension 65)", false},
      {"remittances_pen", "PEN", "Remittances received", false},
      {"other_inflows_pen", "PEN", "Other income from outside the markets", false},
      {"other_outflows_pen", "PEN", "Losses paid outside the markets", false},
      {"received_pen", "PEN", "Money households received in the period (local income)", false},
      {"spent_pen", "PEN", "Households' cash spending in the period", false},
      {"imbalance_pen", "PEN", "Inflows - outflows - change of households' money (conservation: within half a cent)",
       false}};
  c.insert(c.end(), rest.begin(), rest.end());
  return c;
}

std::vector<UnitTable> LocalMarkets::unit_tables(const World& world) const {
  if (!p_.enabled) return {};
  UnitTable t;
  t.name = "economies";
  t.description = "Local markets (docs/markets.md): each local economy's prices, demand, supply, leakage and trade "
                  "with the outside in each clearing period";
  t.columns = economy_columns();
  std::vector<double> mine;
  for (const auto& rows : *history_) mine.insert(mine.end(), rows.begin(), rows.end());
  if (!world.split()) {
    t.values = std::move(mine);
  } else {
    std::vector<char> bytes;
    world.comm().gather(mine.data(), mine.size() * sizeof(double), bytes);
    t.values.resize(bytes.size() / sizeof(double));
    if (!bytes.empty()) std::memcpy(t.values.data(), bytes.data(), bytes.size());
  }
  return {std::move(t)};
}

std::vector<Phase> LocalMarkets::phases() const {
  return {Phase::per_block("markets.flows",
                           [this](World& w, const StepContext& ctx, const Block& b) { flows(w, ctx, b); }),
          Phase::per_block("markets.clear",
                           [this](World& w, const StepContext& ctx, const Block& b) { clear_block(w, ctx, b); }),
          Phase::serial("markets.clear_all", [this](World& w, const StepContext& ctx) { clear(w, ctx); })
              .idle_when([this](const StepContext& ctx) { return per_block_ || !period_end(ctx); }),
          Phase::per_block("markets.settle",
                           [this](World& w, const StepContext& ctx, const Block& b) { settle(w, ctx, b); })};
}

// A quarter ends in March, June, September and December, and the run's last month settles the quarter it is in;
// runs start in January, so the quarter so far holds (month of year - 1) % 3 + 1 months.
bool LocalMarkets::period_end(const StepContext& ctx) const {
  if (p_.period == markets::Period::month || ctx.month_of_year() % 3 == 0) return true;
  return ctx.calendar.months > 0 && ctx.month == ctx.calendar.months - 1;
}

int LocalMarkets::period_months(const StepContext& ctx) const {
  return p_.period == markets::Period::month ? 1 : (ctx.month_of_year() - 1) % 3 + 1;
}

namespace {

// Two households' doubles in one SSE2 register (GCC vector extensions): each lane performs the IEEE operations of
// the one-household code in the same order, and the conversions round as static_cast does, so the flows and
// the settlement have the same bits either way (the build sets -ffp-contract=off). -DCHACRA_NO_SIMD keeps the
// one-household loops.
using vd = double __attribute__((vector_size(16)));

// The same loads and stores of float columns as doubles, for one household (double) and two (vd).
inline double load_at(const float* p, double) { return *p; }
inline void store_at(float* p, double v) { *p = static_cast<float>(v); }
#if defined(CHACRA_MARKETS_SSE2)
inline vd load_at(const float* p, vd) {  // two floats, widened (cvtps2pd)
  return reinterpret_cast<vd>(_mm_cvtps_pd(_mm_castpd_ps(_mm_load_sd(reinterpret_cast<const double*>(p)))));
}
inline void store_at(float* p, vd v) {  // rounded to two floats (cvtpd2ps)
  _mm_store_sd(reinterpret_cast<double*>(p), _mm_castps_pd(_mm_cvtpd_ps(reinterpret_cast<__m128d>(v))));
}
#endif
// std::max(0.0f, x) of the float x, in double (the conversion is exact, so it commutes with the max).
inline double positive(double x) { return std::max(0.0, x); }
#if defined(CHACRA_MARKETS_SSE2)
inline vd positive(vd x) { return reinterpret_cast<vd>(_mm_max_pd(reinterpret_cast<__m128d>(x), _mm_setzero_pd())); }  // x > 0 ? x : 0
#endif
// The value stored as a float and read back.
inline double as_float(double x) { return static_cast<float>(x); }
#if defined(CHACRA_MARKETS_SSE2)
inline vd as_float(vd x) { return reinterpret_cast<vd>(_mm_cvtps_pd(_mm_cvtpd_ps(reinterpret_cast<__m128d>(x)))); }
#endif

// One household's month at farm-gate prices (marketed output is never negative: a loss is other income), for one
// household (V = double) or two (V = vd).
template <class V>
struct HouseholdFlows {
  V spend, crops, animals, business, wage, transfers, remittances, other;
};

struct Columns {
  const float *own, *in_kind, *crops, *animals, *business, *wage, *transfers, *pension, *remittance, *profit;
  const std::uint8_t* type;
  explicit Columns(const Table& h)
      : own(h.get(col::own_production_pen)), in_kind(h.get(col::in_kind_pen)), crops(h.get(col::income_crops_pen)),
        animals(h.get(col::income_animals_pen)), business(h.get(col::income_business_pen)),
        wage(h.get(col::income_wage_pen)), transfers(h.get(col::income_transfers_pen)), pension(h.get(col::pension_pen)),
        remittance(h.get(col::remittance_pen)), profit(h.get(col::business_profit_pen)), type(h.get(col::business_type)) {}
  // The HW business's sales: its profit, where the household has one and it is positive.
  float hw(std::uint32_t i) const { return type[i] != 0 && profit[i] > 0.0f ? profit[i] : 0.0f; }
  // Household i's flows (and i + 1's for vd), with `hw_sales` = hw(i) (and hw(i + 1)).
  template <class V>
  HouseholdFlows<V> of(std::uint32_t i, const float* consumption, V hw_sales) const {
    const V zero{};
    const V c = load_at(crops + i, zero), a = load_at(animals + i, zero), w = load_at(wage + i, zero);
    const V crop = positive(c), animal = positive(a), work = positive(w);
    return {positive(load_at(consumption + i, zero) - load_at(own + i, zero) - load_at(in_kind + i, zero)),
            crop,
            animal,
            hw_sales,
            work,
            load_at(transfers + i, zero) + load_at(pension + i, zero),
            load_at(remittance + i, zero),
            (load_at(business + i, zero) - hw_sales) + (c - crop) + (a - animal) + (w - work)};
  }
};

}  // namespace

// Per household: the month's flows (kept for a quarter in market_pending_pen) and its holdings' capacity, summed
// per centre; outside a period's end, consumption deflated by the last clearing's price index.
void LocalMarkets::flows(World& world, const StepContext& ctx, const Block& block) const {
  auto& h = world.households;
  const Columns cols(h);
  auto* consumption = h.get(col::consumption_pen);
  auto* spending = h.get(col::market_spending_pen);
  auto* gain = h.get(col::market_gain_pen);
  auto* real = h.get(col::real_income_pen);
  const auto* lpi = h.get(col::local_price_index);
  const auto* monetary = h.get(col::income_monetary_pen);
  const auto* land = h.get(col::land_ha);
  const auto* herd = h.has(col::herd) ? h.get(col::herd) : nullptr;
  const auto* age = h.get(col::member_age_months);
  const auto* farm = h.get(col::farm_labour_share);
  double* pending = p_.period == markets::Period::quarter ? h.get(col::market_pending_pen) : nullptr;
  const bool start = p_.period == markets::Period::month || ctx.month_of_year() % 3 == 1;
  const bool end = period_end(ctx);
  // Capacity terms that do not depend on the household: gross revenue per sol of net income, each species'
  // monthly yield per head, a HW member's equipment.
  std::array<double, markets::kGoodCount> to_gross{};
  for (int g = 0; g < markets::kGoodCount; ++g) {
    const auto& q = p_.goods[static_cast<std::size_t>(g)];
    to_gross[static_cast<std::size_t>(g)] = 1.0 / (1.0 - q.labour_share - q.outside_input_share);
  }
  std::array<float, kSpeciesCount> per_head{};
  for (int s = 0; s < kSpeciesCount; ++s) {
    const auto k = static_cast<std::size_t>(s);
    per_head[k] = static_cast<float>(p_.animal_price_pen[k] * p_.animal_birth_rate[k] + p_.animal_product_pen[k]);
  }
  const double equipment = p_.prize_pen * p_.equipment_share / p_.group_mean_size;
  const auto land_month = static_cast<float>(p_.land_output_pen_per_ha / 12.0);
  static_assert(kSpeciesCount == 3);
  for (std::uint32_t c = block.centre_begin; c < block.centre_end; ++c) {
    CentreFlows& cf = (*centres_)[c - first_centre_];
    if (start) cf = CentreFlows{};
    // The centre's month in local sums (kept in registers), added to the period's at the end. Sales and spending
    // in double (the settlement's check compares them to the cent); capacities, which only bound supply, in float.
    double spend = 0, crops = 0, animals = 0, wage = 0, transfers = 0, remittances = 0, other_in = 0, other_out = 0;
    CentreFlows month;  // the businesses' sums, and the month's sums at the end
    // What the holdings yield at most this month (the economy's capacity is never below its offer): a HW
    // member's equipment, with the HW businesses' sales by type (the land, herds and adults' time are summed in
    // a loop of their own below).
    auto holdings = [&](std::uint32_t i, double hw_sales) {
      if (cols.type[i] != 0) {
        const auto t = static_cast<BusinessType>(cols.type[i]);
        const auto b = static_cast<std::size_t>(business_index(t));
        const auto g = static_cast<std::size_t>(markets::good_index(markets::good_of(t)));
        month.business[b] += hw_sales;
        if (hw_sales > 0.0) month.capacity[g] += equipment * p_.business_return[b] * (to_gross[g] / 12.0);
      }
    };
    const std::uint32_t last = world.centre_first[c + 1];
    std::uint32_t i = world.centre_first[c];
#if defined(CHACRA_MARKETS_SSE2)
    if (pending == nullptr) {  // a month's period (no quarter's flows to keep, and always its end): two at a time
      // The eight sums two to a register: each pair of households' values regrouped by sum (first household, then
      // second), so each lane still adds household by household in index order.
      vd spend_crops{spend, crops}, animals_wage{animals, wage}, received{transfers, remittances},
          other{other_in, other_out};
      const auto add_two = [](vd& sums, vd a, vd b) {
        sums += __builtin_shufflevector(a, b, 0, 2);
        sums += __builtin_shufflevector(a, b, 1, 3);
      };
      for (; i + 2 <= last; i += 2) {
        const HouseholdFlows<vd> f = cols.of<vd>(i, consumption, vd{cols.hw(i), cols.hw(i + 1)});
        store_at(spending + i, f.spend);
        add_two(spend_crops, f.spend, f.crops);
        add_two(animals_wage, f.animals, f.wage);
        add_two(received, f.transfers, f.remittances);
        add_two(other, positive(f.other), positive(-f.other));
        holdings(i, f.business[0]);
        holdings(i + 1, f.business[1]);
      }
      spend = spend_crops[0], crops = spend_crops[1], animals = animals_wage[0], wage = animals_wage[1];
      transfers = received[0], remittances = received[1], other_in = other[0], other_out = other[1];
    }
#endif
    for (; i < last; ++i) {
      const HouseholdFlows<double> f = cols.of<double>(i, consumption, cols.hw(i));
      spending[i] = static_cast<float>(f.spend);
      spend += f.spend;
      crops += f.crops;
      animals += f.animals;
      wage += f.wage;
      transfers += f.transfers;
      remittances += f.remittances;
      other_in += std::max(0.0, f.other);
      other_out += std::max(0.0, -f.other);
      holdings(i, f.business);
      if (pending != nullptr) {
        double* r = pending + static_cast<std::size_t>(i) * col::kPendingWidth;
        r[kSpend] += f.spend;
        r[kCrops] += f.crops;
        r[kAnimals] += f.animals;
        r[kBusiness] += f.business;
        r[kWage] += f.wage;
        r[kTransfers] += f.transfers;
        r[kRemittances] += f.remittances;
        r[kOther] += f.other;
      }
      if (!end) {  // inside a quarter: no settlement this month
        gain[i] = 0.0f;
        const double p = lpi[i];
        consumption[i] = static_cast<float>(static_cast<double>(cols.own[i]) + cols.in_kind[i] + spending[i] / p);
        real[i] = static_cast<float>(monetary[i] / p);
      }
    }
    // The land's, the herds' and the adults' capacity, four households at a time in float lanes (each lane the
    // one-household code's operations; each sum still adds household by household in index order).
    const auto capacities = [&](std::uint32_t j, auto kind) {
      using V = decltype(kind);
      constexpr int n = lanes::Traits<V>::width;
      const V food = lanes::max_of(0.0f, lanes::load<V>(land + j) * land_month - lanes::load<V>(cols.own + j));
      V yield{};
      if (herd != nullptr) {
        const auto hd = herd_columns(herd + static_cast<std::size_t>(j) * kSpeciesCount, V{});
        yield = hd[0] * per_head[0] + hd[1] * per_head[1] + hd[2] * per_head[2];
      }
      V adults;
      if constexpr (n == 1) {
        adults = static_cast<float>(rows::members_aged(age + static_cast<std::size_t>(j) * kMaxMembers, 15 * 12, 65 * 12));
      } else {
        const std::array<int, 4> c = rows::members_aged_of4(age + static_cast<std::size_t>(j) * kMaxMembers, 15 * 12, 65 * 12);
        adults = __builtin_convertvector((lanes::vi{c[0], c[1], c[2], c[3]}), lanes::vf);  // exact, as static_cast<float>
      }
      return std::array<V, 3>{food, yield, adults * (1.0f - lanes::load<V>(farm + j))};
    };
    // The three sums in the lanes of one register (the fourth adds zeros): four households' values transposed so
    // that each addition adds one household's three capacities. Without herds, the herds' lane adds +0.0 to +0.0.
    lanes::vf sums{};
    std::uint32_t j = world.centre_first[c];
    for (; j + lanes::kLanes <= last; j += lanes::kLanes) {
      const auto [food, yield, time] = capacities(j, lanes::vf{});
      const lanes::vf zero{};
      const lanes::vf fy01 = __builtin_shufflevector(food, yield, 0, 4, 1, 5), fy23 = __builtin_shufflevector(food, yield, 2, 6, 3, 7);
      const lanes::vf t01 = __builtin_shufflevector(time, zero, 0, 4, 1, 5), t23 = __builtin_shufflevector(time, zero, 2, 6, 3, 7);
      sums += __builtin_shufflevector(fy01, t01, 0, 1, 4, 5);
      sums += __builtin_shufflevector(fy01, t01, 2, 3, 6, 7);
      sums += __builtin_shufflevector(fy23, t23, 0, 1, 4, 5);
      sums += __builtin_shufflevector(fy23, t23, 2, 3, 6, 7);
    }
    float food_cap = sums[0], herd_cap = sums[1], adult_time = sums[2];
    for (; j < last; ++j) {
      const auto [food, yield, time] = capacities(j, 0.0f);
      food_cap += food;
      if (herd != nullptr) herd_cap += yield;
      adult_time += time;
    }
    month.spend = spend;
    month.crops = crops;
    month.animals = animals;
    month.wage = wage;
    month.transfers = transfers;
    month.remittances = remittances;
    month.other_in = other_in;
    month.other_out = other_out;
    month.capacity[kFood] = food_cap;
    month.capacity[kLivestock] = herd_cap;
    month.labour_capacity = adult_time;
    cf.add(month);
  }
}

void LocalMarkets::CentreFlows::add(const CentreFlows& o) {
  spend += o.spend;
  crops += o.crops;
  animals += o.animals;
  wage += o.wage;
  transfers += o.transfers;
  remittances += o.remittances;
  other_in += o.other_in;
  other_out += o.other_out;
  for (std::size_t b = 0; b < business.size(); ++b) business[b] += o.business[b];
  for (std::size_t g = 0; g < capacity.size(); ++g) capacity[g] += o.capacity[g];
  labour_capacity += o.labour_capacity;
}

void LocalMarkets::clear(World& world, const StepContext& ctx) const {
  const int months = period_months(ctx);
  // Economies are independent (each reads its own centres' sums), so they clear in parallel.
  parallel_for(0, economies_.size(), 1, [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t e = r.begin(); e != r.end(); ++e) clear_economy(world, e, months, ctx.month);
  });
}

// The block's own economies (blocks are cut between economies), in index order.
void LocalMarkets::clear_block(World& world, const StepContext& ctx, const Block& block) const {
  if (!per_block_ || !period_end(ctx) || block.centre_begin == block.centre_end) return;
  const int months = period_months(ctx);
  for (std::size_t e = centre_economy_[block.centre_begin - first_centre_];
       e < economies_.size() && economies_[e].centre_end <= block.centre_end; ++e)
    clear_economy(world, e, months, ctx.month);
}

// Sums the economy's centres in index order, clears its markets, checks its money and keeps what a sol of
// farm-gate output earns at the new prices for the settlement.
void LocalMarkets::clear_economy(World& world, std::size_t e, int months, int month) const {
  const Economy& econ = economies_[e];
  constexpr int G = markets::kGoodCount;
  CentreFlows sum;
  for (std::uint32_t c = econ.centre_begin; c < econ.centre_end; ++c) sum.add((*centres_)[c - first_centre_]);
  const Bands& bands = bands_[e];
  std::array<double, G> supply{};
  supply[kFood] = sum.crops;
  supply[kLivestock] = sum.animals;
  for (int b = 0; b < kBusinessTypeCount; ++b)
    supply[static_cast<std::size_t>(markets::good_index(markets::good_of(static_cast<BusinessType>(b + 1))))] =
        sum.business[static_cast<std::size_t>(b)];

  markets::PeriodInput& in = (*inputs_)[e];
  // Offer G at the farm-gate price (the band's lower bound, x = 1 - tau), up to the holdings' capacity K.
  auto market = [&bands](int k, const MarketGoodParams& q, double net, double cap, markets::MarketInput& m) {
    const auto b = static_cast<std::size_t>(k);
    m.outside_price_pen = bands.outside_price[b];
    m.margin = bands.tau[b];
    m.export_limit = markets::kUnlimited;
    m.intermediate_spending_pen = 0.0;
    m.sellers.resize(1);
    markets::Seller& s = m.sellers[0];
    const double offer = net / (1.0 - q.labour_share - q.outside_input_share);
    s.supply_ref = offer / bands.at_farm_gate[b];
    s.elasticity = q.elasticity;
    s.capacity = std::max(cap, offer);
    s.labour_share = q.labour_share;
    s.outside_input_share = q.outside_input_share;
  };
  // Demand by budget shares of the economy's cash spending; what the shares leave buys goods from outside.
  in.goods.resize(G);
  double local = 0.0;
  for (int g = 0; g < G; ++g) {
    const auto k = static_cast<std::size_t>(g);
    market(g, p_.goods[k], supply[k], sum.capacity[k], in.goods[k]);
    in.goods[k].final_spending_pen = p_.goods[k].budget_share * sum.spend;
    in.goods[k].cpi_weight = p_.goods[k].budget_share;
    local += in.goods[k].final_spending_pen;
  }
  sum.labour_capacity *= p_.wage_month_pen;  // adult-months off the farm, at the farm-gate wage
  market(G, p_.labour, sum.wage, sum.labour_capacity, in.labour);
  in.labour.final_spending_pen = 0.0;
  in.labour.cpi_weight = 0.0;
  in.leakage_pen = sum.spend - local;
  in.transfers_pen = sum.transfers;
  in.remittances_pen = sum.remittances;
  in.other_inflows_pen = sum.other_in;
  in.other_outflows_pen = sum.other_out;

  EconomyPeriod& out = (*last_)[e];
  markets::clear_period(in, out.outcome);
  Settlement& st = (*settlements_)[e];
  double received = sum.transfers + sum.remittances + sum.other_in - sum.other_out;
  for (int g = 0; g < G; ++g) {
    const auto k = static_cast<std::size_t>(g);
    const double net = out.outcome.goods[k].sellers[0].net_income_pen;
    st.per_net[k] = supply[k] > 0.0 ? net / supply[k] : 0.0;
    st.price[k] = out.outcome.goods[k].price_pen;
    received += supply[k] * st.per_net[k];
  }
  st.per_wage = sum.wage > 0.0 ? out.outcome.labour.sellers[0].net_income_pen / sum.wage : 0.0;
  received += sum.wage * st.per_wage;
  st.cpi = out.outcome.cpi;
  st.wage = out.outcome.labour.price_pen;
  // The households' copies of the prices are rewritten only when a price changed (as floats): at export or import
  // parity, where most markets clear, the band and so the price stay the same from period to period.
  std::array<float, G> price_column;
  for (int g = 0; g < G; ++g) price_column[static_cast<std::size_t>(g)] = static_cast<float>(st.price[static_cast<std::size_t>(g)]);
  const auto cpi_column = static_cast<float>(st.cpi), wage_column = static_cast<float>(st.wage);
  st.columns_changed = std::memcmp(price_column.data(), st.price_column.data(), sizeof(price_column)) != 0 ||
                       std::memcmp(&cpi_column, &st.cpi_column, sizeof(float)) != 0 ||
                       std::memcmp(&wage_column, &st.wage_column, sizeof(float)) != 0;
  st.price_column = price_column;
  st.cpi_column = cpi_column;
  st.wage_column = wage_column;
  out.month = month;
  out.transfers_pen = sum.transfers;
  out.received_pen = received;
  out.spent_pen = sum.spend;
  out.local_income_pen = received;
  out.outcome.accounts.money_change_pen = received - sum.spend;
  out.conservation = markets::check_conservation(out.outcome.accounts);
  std::array<double, G> capacity{};
  for (int g = 0; g < G; ++g) capacity[static_cast<std::size_t>(g)] = in.goods[static_cast<std::size_t>(g)].sellers[0].capacity;
  record(econ, months, month, world.centre_first[econ.centre_end] - world.centre_first[econ.centre_begin], out,
         capacity, in.labour.sellers[0].capacity, (*history_)[e]);
  if (!out.conservation.holds) {
    std::ostringstream msg;
    msg.precision(17);
    msg << "markets: money not conserved in local economy " << e << " (district " << econ.district << ", month "
        << month << "): inflows - outflows = " << out.conservation.net_inflow_pen
        << " PEN, change of households' money = " << out.conservation.money_change_pen << " PEN";
    throw std::logic_error(msg.str());
  }
}

namespace {

// One household's (or two households') settlement at the economy's prices: its farm-gate flows (crops, animals, HW
// business, wage), the earnings per sol of each (`biz_per_net` by the household's business type). Returns what it
// was paid at local prices, crop + animal + business + labour, for the centre's check.
struct SettleColumns {
  float *crops, *animals, *business, *wage, *monetary, *cash, *gain, *consumption, *real;
  const float *own, *in_kind, *spending;
  double per_food, per_livestock, per_wage, deflator;
  template <class V>
  V pay(std::uint32_t i, V f_crops, V f_animals, V f_business, V f_wage, V biz_per_net) const {
    const V crop = f_crops * per_food, animal = f_animals * per_livestock, biz = f_business * biz_per_net,
            labour = f_wage * per_wage;
    const V d_crop = crop - f_crops, d_animal = animal - f_animals, d_biz = biz - f_business, d_wage = labour - f_wage;
    const V d = d_crop + d_animal + d_biz + d_wage;
    const V zero{};
    store_at(crops + i, load_at(crops + i, zero) + d_crop);
    store_at(animals + i, load_at(animals + i, zero) + d_animal);
    store_at(business + i, load_at(business + i, zero) + d_biz);
    store_at(wage + i, load_at(wage + i, zero) + d_wage);
    const V money = as_float(load_at(monetary + i, zero) + d);
    store_at(monetary + i, money);
    store_at(cash + i, positive(as_float(load_at(cash + i, zero) + d)));
    store_at(gain + i, d);
    store_at(consumption + i, load_at(own + i, zero) + load_at(in_kind + i, zero) + load_at(spending + i, zero) * deflator);
    store_at(real + i, money * deflator);
    return crop + animal + biz + labour;
  }
};

// n rows of the economy's kGoodCount prices: four rows (36 floats) at a time as nine stores of a pattern held in
// registers, where row by row took a nine-float copy each.
inline void fill_rows(float* rows, std::uint32_t n, const std::array<float, markets::kGoodCount>& price) {
  constexpr int G = markets::kGoodCount;
  std::uint32_t i = 0;
#if defined(CHACRA_MARKETS_SSE2)
  static_assert(G == 9, "four rows of nine prices are nine vectors");
  float four[4 * G];
  for (int m = 0; m < 4 * G; ++m) four[m] = price[m % G];
  __m128 v[G];
  for (int k = 0; k < G; ++k) v[k] = _mm_loadu_ps(four + 4 * k);
  for (; i + 4 <= n; i += 4) {
    float* r = rows + static_cast<std::size_t>(i) * G;
    for (int k = 0; k < G; ++k) _mm_storeu_ps(r + 4 * k, v[k]);
  }
#endif
  for (; i < n; ++i) std::copy_n(price.data(), G, rows + static_cast<std::size_t>(i) * G);
}

}  // namespace

// At a period's end, each household is paid its farm-gate flows at local prices: the difference is added to its
// incomes and cash; it carries the economy's prices, and its consumption is deflated by the new price index. Per
// centre, what households were paid must be what the clearing owes the centre (the caller's bookkeeping).
void LocalMarkets::settle(World& world, const StepContext& ctx, const Block& block) const {
  if (!period_end(ctx)) return;
  auto& h = world.households;
  const Columns cols(h);
  auto* lpi = h.get(col::local_price_index);
  auto* wage_index = h.get(col::local_wage_index);
  auto* prices = h.get(col::local_prices);
  double* pending = p_.period == markets::Period::quarter ? h.get(col::market_pending_pen) : nullptr;
  constexpr int G = markets::kGoodCount;
  SettleColumns one{};
  one.crops = h.get(col::income_crops_pen);
  one.animals = h.get(col::income_animals_pen);
  one.business = h.get(col::income_business_pen);
  one.wage = h.get(col::income_wage_pen);
  one.monetary = h.get(col::income_monetary_pen);
  one.cash = h.get(col::cash_pen);
  one.gain = h.get(col::market_gain_pen);
  one.consumption = h.get(col::consumption_pen);
  one.real = h.get(col::real_income_pen);
  one.own = cols.own;
  one.in_kind = cols.in_kind;
  one.spending = h.get(col::market_spending_pen);
  for (std::uint32_t c = block.centre_begin; c < block.centre_end; ++c) {
    const std::uint32_t e = centre_economy_[c - first_centre_];
    const Settlement& st = (*settlements_)[e];
    const CentreFlows& cf = (*centres_)[c - first_centre_];
    const auto cpi = st.cpi_column;
    one.per_food = st.per_net[kFood];
    one.per_livestock = st.per_net[kLivestock];
    one.per_wage = st.per_wage;
    one.deflator = 1.0 / double{cpi};
    // What the clearing owes the centre's sellers and workers, and what they were paid.
    double paid = 0.0, owed = cf.crops * st.per_net[kFood] + cf.animals * st.per_net[kLivestock] + cf.wage * st.per_wage;
    // What a sol of business output earns, by business_type code (0: no business, 0.0).
    std::array<double, 1 + kBusinessTypeCount> type_per_net{};
    for (int b = 0; b < kBusinessTypeCount; ++b) {
      type_per_net[static_cast<std::size_t>(b) + 1] =
          st.per_net[static_cast<std::size_t>(markets::good_index(markets::good_of(static_cast<BusinessType>(b + 1))))];
      owed += cf.business[static_cast<std::size_t>(b)] * type_per_net[static_cast<std::size_t>(b) + 1];
    }
    const std::uint32_t first = world.centre_first[c], last = world.centre_first[c + 1];
    // The economy's prices, for the panel (the rows already hold them unless this clearing changed them).
    if (st.columns_changed) {
      std::fill(lpi + first, lpi + last, cpi);
      std::fill(wage_index + first, wage_index + last, st.wage_column);
      fill_rows(prices + static_cast<std::size_t>(first) * G, last - first, st.price_column);
    }
    // The month's sales again, as the flows phase read them (a quarter: the quarter's, kept per household).
    std::uint32_t i = first;
#if defined(CHACRA_MARKETS_SSE2)
    if (pending == nullptr) {
      for (; i + 2 <= last; i += 2) {
        const vd zero{};
        const vd business{cols.hw(i), cols.hw(i + 1)}, biz_per_net{type_per_net[cols.type[i]], type_per_net[cols.type[i + 1]]};
        const vd pay = one.pay<vd>(i, positive(load_at(cols.crops + i, zero)), positive(load_at(cols.animals + i, zero)),
                               business, positive(load_at(cols.wage + i, zero)), biz_per_net);
        paid += pay[0];
        paid += pay[1];
      }
    }
#endif
    for (; i < last; ++i) {
      double f_crops, f_animals, f_business, f_wage;
      if (pending != nullptr) {
        double* r = pending + static_cast<std::size_t>(i) * col::kPendingWidth;
        f_crops = r[kCrops];
        f_animals = r[kAnimals];
        f_business = r[kBusiness];
        f_wage = r[kWage];
        std::fill_n(r, col::kPendingWidth, 0.0);
      } else {
        f_crops = std::max(0.0f, cols.crops[i]);
        f_animals = std::max(0.0f, cols.animals[i]);
        f_wage = std::max(0.0f, cols.wage[i]);
        f_business = cols.hw(i);
      }
      paid += one.pay<double>(i, f_crops, f_animals, f_business, f_wage, type_per_net[cols.type[i]]);
    }
    if (std::abs(paid - owed) > 0.005) {
      std::ostringstream msg;
      msg.precision(17);
      msg << "markets: households of centre " << c << " (local economy " << e << ", month " << ctx.month
          << ") were paid " << paid << " PEN, the clearing owes them " << owed << " PEN";
      throw std::logic_error(msg.str());
    }
  }
}

}  // namespace chacra::models
