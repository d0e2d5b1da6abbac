// File: models/portfolio.cpp
// The risk channel: district crop prices and the safety-first choice of market orientation (see portfolio.hpp).
#include "models/portfolio.hpp"

#include "models/juntos.hpp"
#include "models/livelihood.hpp"

#include "sim/parallel.hpp"

#include <oneapi/tbb/blocked_range.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace chacra::models {

namespace {

constexpr std::uint64_t kSetupPeriod = 0xFFFF'FFFF'FFFF'0000ull;

// The most finance::pay would pay now: cash above the reserve, then the credit headroom if allowed.
float most_payable(float cash, float debt, float limit, float reserve, bool allow_credit) {
  const float spare = std::max(0.0f, cash - std::max(0.0f, reserve));
  const float headroom = allow_credit ? std::max(0.0f, limit - debt) : 0.0f;
  return spare + headroom;
}

// A standard normal from one uniform of the stream (one Philox block).
double standard_normal(rng::Stream s) { return Livelihood::inverse_normal(s.uniform()); }

}  // namespace

// The columns a planting reads and writes, looked up once per phase.
struct Portfolio::Columns {
  const float *c12, *transfer_avg, *crop_potential, *land, *compliance, *permanent;
  const std::uint8_t *size, *status, *secondary, *pregnancy;
  const std::int16_t* ages;
  float *cash, *debt, *orientation, *investment, *borrowed;
  explicit Columns(World& world) {
    auto& h = world.households;
    c12 = h.get(col::consumption_pc_12m_pen);
    transfer_avg = h.get(col::juntos_transfer_avg_pen);
    crop_potential = h.get(col::crop_potential_pen);
    land = h.get(col::land_ha);
    compliance = h.get(col::juntos_compliance_prob);
    permanent = h.get(col::permanent_income_pen);
    size = h.get(col::household_size);
    status = h.get(col::juntos_status);
    secondary = h.get(col::member_secondary_done);
    pregnancy = h.get(col::pregnancy_month);
    ages = h.get(col::member_age_months);
    cash = h.get(col::cash_pen);
    debt = h.get(col::debt_pen);
    orientation = h.get(col::market_orientation);
    investment = h.get(col::investment_pen);
    borrowed = h.get(col::borrowed_pen);
  }
};

template <class V>
void RiskParams::describe(V& v) {
  const std::string when_on = " (economy.risk.enabled)";
  v.real("risk.commercial_premium", commercial_premium, {0, 10}, "share of crop value",
         "Extra value of a unit of crop output moved to the commercial line (market varieties sold to traders)" +
             when_on + "; prior range 0.2-0.6",
         "Assumption: market-oriented crops pay more and are riskier; magnitudes to compare, not fitted: "
         "Rosenzweig and Binswanger (1993, Economic Journal): weather risk lowers the poorest farmers' profits "
         "by about a third");
  v.real("risk.commercial_sold_share", commercial_sold_share, {0, 1}, "share",
         "Share of the commercial line's output that is sold (the rest is eaten at home)" + when_on, "Assumption");
  v.real("risk.commercial_price_sd", commercial_price_sd, {0, 5}, "log",
         "Standard deviation of the log price of the commercial line's output around its mean" + when_on +
             "; prior range 0.15-0.5",
         "Assumption: farm-gate prices of market crops in the highlands swing by a third from one season to "
         "the next");
  v.real("risk.price_shock_sd", price_shock_sd, {0, 5}, "log",
         "Standard deviation of the log price of other sold crops (moved by the same district price state)" +
             when_on + "; prior range 0-0.3",
         "Assumption: local produce prices vary less than those of market crops");
  v.real("risk.price_persistence", price_persistence, {0, 0.999}, "autocorrelation per month",
         "Month-to-month persistence of the district's price state (an AR(1) in standard-normal units; one Philox "
         "block per district-month)" + when_on + "; prior range 0.5-0.95",
         "Assumption: crop prices move over a season rather than from month to month");
  v.real("risk.commercial_input_pen_per_ha", commercial_input_pen_per_ha, {0, 1e6}, "PEN 2017 per ha",
         "Up-front inputs (certified seed, fertiliser, pesticides) of a hectare of commercial land, paid at "
         "planting from cash above the reserve or credit" + when_on + "; prior range 150-600",
         "Assumption; Karlan, Osei, Osei-Akoto and Udry (2014, QJE): insured farmers raised cultivation spending");
  v.real("risk.safety_z", safety_z, {0, 10}, "standard deviations",
         "Safety-first: the household keeps E[income] - z SD[income] above its need net of secure income; 1.28 "
         "bounds the chance of falling short at about 10%" + when_on,
         "Roy (1952), the safety-first principle; the standard model of poor farmers' portfolio choice");
  v.real("risk.cash_insurance_share", cash_insurance_share, {0, 1}, "share of cash",
         "Share of the household's cash it counts as secure income for the coming year" + when_on +
             "; prior range 0.2-1",
         "Assumption: savings are the first line of insurance (Deaton 1991)");
  v.integer("risk.planting_month", planting_month, {1, 12}, "month of year",
            "Calendar month in which households choose their crops' market orientation and pay its inputs" + when_on,
            "Andean agricultural calendar: planting with the first rains, September-November");
}

RiskParams RiskParams::from(const ParamSet& params) { return read_params<RiskParams>(params); }

void RiskParams::register_params(Registry& registry) { declare_params<RiskParams>(registry); }

template <class V>
void PortfolioInputs::describe(V& v) {
  v.borrow("economy.risk.enabled", enabled);
  v.borrow("livelihood.crop_sold_share", crop_sold_share);
  v.borrow("livelihood.harvest_seasonality", harvest_seasonality);
  v.borrow("livelihood.farm_shock_sd", farm_shock_sd);
  v.borrow("livelihood.covariate_shock_prob", covariate_shock_prob);
  v.borrow("livelihood.covariate_shock_loss", covariate_shock_loss);
  v.borrow("livelihood.poverty_line_2017_pen", poverty_line_2017);
  v.borrow("livelihood.poverty_line_2018_pen", poverty_line_2018);
  v.borrow("livelihood.poverty_line_2019_pen", poverty_line_2019);
  v.borrow("juntos.transfer_pen", transfer_pen);
  v.borrow("juntos.max_child_age_years", max_child_age_years);
}

PortfolioInputs PortfolioInputs::from(const ParamSet& params) { return read_params<PortfolioInputs>(params); }

void Portfolio::register_params(Registry& registry) { declare_params<PortfolioInputs>(registry); }

void Portfolio::setup(World& world, const ParamSet& params, const rng::StreamSeed& seed) {
  risk_ = RiskParams::from(params);
  in_ = PortfolioInputs::from(params);
  credit_ = CreditTerms::from(params);
  add_shared_columns(world);

  // The planner's view of a crop year. Sales follow the harvest profile over the twelve months after planting.
  std::array<double, 12> sales{};
  for (int k = 0; k < 12; ++k) {
    const int month_of_year = (risk_.planting_month + k) % 12;  // 0-based month after planting
    sales[static_cast<std::size_t>(k)] =
        1.0 + in_.harvest_seasonality * (Livelihood::kHarvestProfile[static_cast<std::size_t>(month_of_year)] - 1.0);
  }
  const double p = in_.covariate_shock_prob, loss = in_.covariate_shock_loss;
  expected_crop_keep_ = 1.0 - p * loss;
  // Climate: a loss of loss * (0.5 + u) with probability p, so E[loss^2] = p loss^2 13/12; idiosyncratic yield
  // shocks are monthly, mean one, independent, and weighted by the harvest profile over the year.
  const double climate_var = p * loss * loss * 13.0 / 12.0 - (p * loss) * (p * loss);
  double sum = 0.0, sum_sq = 0.0;
  for (double w : sales) {
    sum += w;
    sum_sq += w * w;
  }
  const double idiosyncratic_cv = std::sqrt(std::expm1(in_.farm_shock_sd * in_.farm_shock_sd) * sum_sq) / sum;
  planner_.premium = risk_.commercial_premium;
  planner_.commercial_sold_share = risk_.commercial_sold_share;
  planner_.ordinary_sold_share = in_.crop_sold_share;
  planner_.yield_cv =
      std::sqrt(std::max(0.0, climate_var) / (expected_crop_keep_ * expected_crop_keep_) + idiosyncratic_cv * idiosyncratic_cv);
  planner_.ordinary_price_sd = annual_price_sd(sales, risk_.price_shock_sd, risk_.price_persistence);
  planner_.commercial_price_sd = annual_price_sd(sales, risk_.commercial_price_sd, risk_.price_persistence);
  planner_.input_pen_per_ha = risk_.commercial_input_pen_per_ha;
  planner_.safety_z = risk_.safety_z;
  choice_ = SafetyFirst(planner_);

  auto& d = world.districts;
  float* state = d.add(col::district_price_state);
  float* commercial = d.add(col::district_commercial_price_factor);
  float* market = d.add(col::district_market_price_factor);
  for (std::size_t k = 0; k < d.rows(); ++k) {
    commercial[k] = market[k] = 1.0f;
    if (!in_.enabled) continue;
    // The state before the first month, from its stationary distribution.
    state[k] = static_cast<float>(standard_normal(seed.open(kPriceDomain, kSetupPeriod, k)));
    commercial[k] = price_factor(state[k], risk_.commercial_price_sd);
    market[k] = price_factor(state[k], risk_.price_shock_sd);
  }
  // Orientation at the start: the rule as at the last planting, before any programme (its inputs are sunk).
  if (!in_.enabled) return;
  const Columns columns(world);
  for (auto i = static_cast<std::uint32_t>(world.household_begin()); i < world.household_end(); ++i)
    choose(columns, i, 0, world.calendar.year(0), false);
}

Phase Portfolio::plan_phase() const {
  // Switched off, plan() returns at once: the phase does not split the month (the switch is a parameter, the
  // same on every process).
  return Phase::serial("portfolio.plan", [this](World& w, const StepContext& ctx) { plan(w, ctx); })
      .idle_when([this](const StepContext&) { return !in_.enabled; });
}

void Portfolio::plan(World& world, const StepContext& ctx) const {
  if (!in_.enabled) return;
  // The month's district prices: every process computes every district (a few per block of households), in
  // district order, from draws keyed by (month, district).
  auto& d = world.districts;
  float* state = d.get(col::district_price_state);
  float* commercial = d.get(col::district_commercial_price_factor);
  float* market = d.get(col::district_market_price_factor);
  for (std::size_t k = 0; k < d.rows(); ++k) {
    const double e = standard_normal(ctx.seed.open(kPriceDomain, static_cast<std::uint64_t>(ctx.month), k));
    state[k] = static_cast<float>(price_state_step(state[k], e, risk_.price_persistence));
    commercial[k] = price_factor(state[k], risk_.commercial_price_sd);
    market[k] = price_factor(state[k], risk_.price_shock_sd);
  }
  if (ctx.month_of_year() != risk_.planting_month) return;
  // Planting: households are independent, so blocks run in parallel with the serial result.
  const Columns columns(world);
  parallel_for(0, world.blocks.size(), 1, [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t b = r.begin(); b != r.end(); ++b)
      for (std::uint32_t i = world.blocks[b].household_begin; i < world.blocks[b].household_end; ++i)
        choose(columns, i, ctx.month, ctx.year(), true);
  });
}

void Portfolio::choose(const Columns& c, std::uint32_t i, int month, int year, bool pay) const {
  const double persons = std::max<int>(1, c.size[i]);
  PortfolioHousehold hh;
  hh.crop_value_pen = c.crop_potential[i] * expected_crop_keep_;
  hh.land_ha = c.land[i];
  const double gain = commercial_gain_pen(planner_, hh);
  hh.resources_pen = 12.0 * persons * c.c12[i] - 12.0 * c.transfer_avg[i] - gain * c.orientation[i];
  double transfers = 0.0;
  if (is_affiliated(c.status[i])) {
    const std::size_t row = static_cast<std::size_t>(i) * kMaxMembers;
    const int left =
        months_of_eligibility_left(c.ages + row, c.secondary + row, c.pregnancy[i], 12 * in_.max_child_age_years);
    transfers = expected_transfers_next_year(true, month, left, in_.transfer_pen, c.compliance[i]);
  }
  hh.secure_pen = transfers + risk_.cash_insurance_share * std::max(0.0f, c.cash[i]);
  hh.need_pen = 12.0 * persons * in_.poverty_line(year);
  double m = choice_(hh);

  // The commercial land's inputs, paid now: as much commercial land as the household can pay for.
  const double per_share = planner_.input_pen_per_ha * hh.land_ha;
  if (pay && m > 0.0 && per_share > 0.0) {
    const float permanent = c.permanent[i];
    const float limit = credit_.limit(permanent);
    const float reserve = static_cast<float>(credit_.reserve_months) * std::max(0.0f, permanent);
    const bool allow = credit_.credit_for_investment;
    const float amount =
        std::min(static_cast<float>(per_share * m), most_payable(c.cash[i], c.debt[i], limit, reserve, allow));
    m = amount / per_share;
    const finance::Accounts accounts{c.cash, c.debt, c.investment, c.borrowed};
    accounts.book(i, amount, finance::pay(c.cash[i], c.debt[i], limit, reserve, amount, allow));
  }
  c.orientation[i] = static_cast<float>(m);
}

}  // namespace chacra::models
