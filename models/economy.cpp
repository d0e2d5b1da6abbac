// File: models/economy.cpp
// The channel switches, the credit terms and the payment rule shared by every phase that spends money.
#include "models/economy.hpp"

#include "models/portfolio.hpp"

#include <algorithm>
#include <cmath>

namespace chacra::models {

template <class V>
void EconomyParams::describe(V& v) {
  const std::string src = "Scenario choice (docs/model.md, the household economy)";
  v.boolean("economy.welfare.enabled", welfare,
            "Consumption is financed by the household's own economy (income by source in real 2017 soles, "
            "remittances, pensions, in-kind food programmes and imputed rent, savings and credit) and poverty "
            "is measured against regional lines constant in real terms; off: the earlier rule with a fixed "
            "per-person 'other consumption' term and nominal lines",
            src);
  v.boolean("economy.liquidity.enabled", liquidity,
            "Technologies and businesses have up-front costs that the household must finance from cash or "
            "credit before it adopts (a profitable technology waits without cash; Haku Winay assets pay most "
            "of it)",
            src);
  v.boolean("economy.risk.enabled", risk,
            "Activities carry price, disease and climate risk, and households choose their crops' market "
            "orientation by a safety-first rule that counts a predictable transfer as secure income",
            src);
  v.boolean("economy.graduation.enabled", graduation,
            "Juntos re-certification scores current welfare and assets (so gains can move households out and "
            "shocks back in); compliance, Haku Winay take-up and attendance respond to time, distance and "
            "liquidity",
            src);
  v.boolean("economy.persistence.enabled", persistence,
            "Technologies are kept while they pay and re-adopted when neighbours show they pay; businesses "
            "survive while profit covers costs and the owners' outside option; livestock are herds that grow, "
            "are sold and eaten",
            src);
  v.boolean("economy.poverty_trap.enabled", poverty_trap,
            "Hypothesis to test: below an asset threshold the returns to productive assets are lower and "
            "households consume their herds' growth, so only a push above the threshold lasts",
            "Carter and Barrett (2006), the asset-based approach to poverty traps; off by default");
}

EconomyParams EconomyParams::from(const ParamSet& params) { return read_params<EconomyParams>(params); }

template <class V>
void PriceParams::describe(V& v) {
  v.real("prices.inflation_rate", inflation_rate, {-0.5, 1}, "share a year",
         "Consumer price inflation: with economy.welfare.enabled amounts are in real 2017 soles and an amount fixed "
         "in nominal soles (Juntos transfer, Pension 65) is deflated by (1 + rate)^(years since mid-2017)",
         "BCRP's inflation target of 2% (realised CPI inflation 1.4-2.2% a year in 2017-2019, BCRP)");
}

PriceParams PriceParams::from(const ParamSet& params) { return read_params<PriceParams>(params); }

namespace prices {

double index(double inflation_rate, const Calendar& calendar, int month) {
  const double months_from_mid_2017 = 12.0 * (calendar.start_year - 2017) + month + 0.5 - 6.0;
  return std::pow(1.0 + inflation_rate, months_from_mid_2017 / 12.0);
}

}  // namespace prices

template <class V>
void CreditTerms::describe(V& v) {
  const std::string informal =
      "Assumption: rural households borrow small sums from shops, relatives, rural banks and savings groups";
  v.real("credit.limit_months", limit_months, {0, 60}, "months of permanent income",
         "Most a household may owe, in months of its permanent monthly income (prior range 0-6)", informal);
  v.real("credit.max_pen", max_pen, {0, 1e6}, "PEN 2017", "Most a household may owe, whatever its income",
         informal);
  v.real("credit.monthly_rate", monthly_rate, {0, 1}, "share per month",
         "Interest charged each month on the debt (prior range 0.01-0.06)",
         "Assumption: rural microfinance and informal lenders charge about 30-60% a year");
  v.integer("credit.term_months", term_months, {1, 600}, "months",
            "A debt is repaid in equal shares over this many months", "Assumption");
  v.real("liquidity.reserve_months", reserve_months, {0, 60}, "months of permanent income",
         "Cash a household keeps for consumption before it spends on an investment", "Assumption (prior range 0-3)");
  v.boolean("liquidity.credit_for_investment", credit_for_investment,
            "Households may borrow to pay up-front costs (false: only cash above the reserve)", "Scenario choice");
}

CreditTerms CreditTerms::from(const ParamSet& params) { return read_params<CreditTerms>(params); }

float CreditTerms::limit(float permanent_pen) const {
  return static_cast<float>(std::min(max_pen, limit_months * std::max(0.0, static_cast<double>(permanent_pen))));
}

template <class V>
void AssetFinancing::describe(V& v) {
  v.real("haku_winay.complement_share", complement_share, {0, 1}, "share of the up-front cost",
         "Share of a delivered Haku Winay asset's up-front cost that the household pays itself when it puts the "
         "asset to use (inputs, hoses, breeding stock, hired labour); without it the asset waits unused "
         "(economy.liquidity.enabled; prior range 0.05-0.3)",
         "Assumption from the counterpart contributions FONCODES asks of the executing nuclei's households");
}

AssetFinancing AssetFinancing::from(const ParamSet& params) { return read_params<AssetFinancing>(params); }

void EconomyParams::register_params(Registry& registry) {
  declare_params<EconomyParams>(registry);
  declare_params<CreditTerms>(registry);
  declare_params<AssetFinancing>(registry);
  declare_params<PriceParams>(registry);
  // The risk channel's terms: the income phase and the portfolio choice both read them.
  RiskParams::register_params(registry);
}

namespace finance {

Payment pay(float cash, float debt, float credit_limit, float reserve, float amount, bool allow_credit) {
  Payment p;
  if (!(amount > 0.0f)) {
    p.paid = true;  // nothing to pay
    return p;
  }
  const float spare = std::max(0.0f, cash - std::max(0.0f, reserve));
  if (spare >= amount) {
    p.from_cash = amount;
    p.paid = true;
    return p;
  }
  const float headroom = allow_credit ? std::max(0.0f, credit_limit - debt) : 0.0f;
  if (spare + headroom >= amount) {
    p.from_cash = spare;
    p.borrowed = amount - spare;
    p.paid = true;
  }
  return p;
}

void Accounts::book(std::uint32_t i, float amount, const Payment& p) const {
  if (!p.paid) return;
  cash[i] -= p.from_cash;
  debt[i] += p.borrowed;
  investment[i] += amount;
  borrowed[i] += p.borrowed;
}

}  // namespace finance

}  // namespace chacra::models
