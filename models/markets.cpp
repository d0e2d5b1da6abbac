// File: models/markets.cpp
// Local markets of one local economy for one period: price bands, clearing, money accounts, CPI and
// multipliers (docs/markets.md gives the equations this file implements).
#include "models/markets.hpp"

#include <boost/math/tools/toms748_solve.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <stdexcept>

namespace chacra::models::markets {

namespace {

// Sum of the sellers' supplies at relative price x, in seller order. Consecutive sellers with the same
// elasticity share one pow (a caller usually lists its groups by kind), which changes no bit.
double total_supply(std::span<const Seller> sellers, double x) {
  double total = 0;
  double last_elasticity = 0;
  double factor = 1;
  for (const Seller& s : sellers) {
    if (s.elasticity != last_elasticity) {
      last_elasticity = s.elasticity;
      factor = std::pow(x, s.elasticity);
    }
    total += std::min(s.supply_ref * factor, s.capacity);
  }
  return total;
}

void check_share(std::vector<std::string>& problems, const std::string& where, const char* name, double v) {
  if (!(v >= 0 && v <= 1)) {
    std::ostringstream os;
    os << where << '.' << name << ": " << v << " is not a share in [0, 1]";
    problems.push_back(os.str());
  }
}

void check_amount(std::vector<std::string>& problems, const std::string& where, const char* name, double v,
                  bool infinity_allowed = false) {
  const bool ok = v >= 0 && (infinity_allowed ? !std::isnan(v) : std::isfinite(v));
  if (!ok) {
    std::ostringstream os;
    os << where << '.' << name << ": " << v << " is not a " << (infinity_allowed ? "" : "finite ")
       << "number >= 0";
    problems.push_back(os.str());
  }
}

void check_market(std::vector<std::string>& problems, const std::string& where, const MarketInput& m,
                  bool labour) {
  if (!(std::isfinite(m.outside_price_pen) && m.outside_price_pen > 0)) {
    std::ostringstream os;
    os << where << ".outside_price_pen: " << m.outside_price_pen << " is not a finite price > 0";
    problems.push_back(os.str());
  }
  if (!(m.margin >= 0 && m.margin < 1)) {
    std::ostringstream os;
    os << where << ".margin: " << m.margin << " is not in [0, 1) (the lower bound p* (1 - margin) must be > 0)";
    problems.push_back(os.str());
  }
  check_amount(problems, where, "export_limit", m.export_limit, true);
  check_amount(problems, where, "final_spending_pen", m.final_spending_pen);
  check_amount(problems, where, "intermediate_spending_pen", m.intermediate_spending_pen);
  check_share(problems, where, "cpi_weight", m.cpi_weight);
  if (labour && m.cpi_weight != 0) problems.push_back(where + ".cpi_weight: labour is not in the CPI basket; use 0");
  for (std::size_t i = 0; i < m.sellers.size(); ++i) {
    const Seller& s = m.sellers[i];
    const std::string at = where + ".sellers[" + std::to_string(i) + "]";
    check_amount(problems, at, "supply_ref", s.supply_ref);
    check_amount(problems, at, "elasticity", s.elasticity);
    check_amount(problems, at, "capacity", s.capacity, true);
    check_share(problems, at, "labour_share", s.labour_share);
    check_share(problems, at, "outside_input_share", s.outside_input_share);
    if (s.labour_share + s.outside_input_share > 1) {
      std::ostringstream os;
      os << at << ": labour_share + outside_input_share = " << s.labour_share + s.outside_input_share
         << " exceeds 1 (costs above revenue)";
      problems.push_back(os.str());
    }
    if (labour && (s.labour_share != 0 || s.outside_input_share != 0))
      problems.push_back(at + ": a worker pays no wages or inputs out of wages; set both shares to 0");
  }
}

std::string good_label(std::size_t g, std::size_t n) {
  std::string label = "goods[" + std::to_string(g) + "]";
  if (n == static_cast<std::size_t>(kGoodCount)) label += " (" + std::string(kGoodNames[g]) + ")";
  return label;
}

}  // namespace

double transport_margin(double margin_base, double margin_remote, double market_access) {
  return margin_base + margin_remote * (1.0 - market_access);
}

double seller_supply(const Seller& s, double relative_price) {
  return std::min(s.supply_ref * std::pow(relative_price, s.elasticity), s.capacity);
}

std::vector<std::string> input_problems(const PeriodInput& in) {
  std::vector<std::string> problems;
  double weights = 0;
  for (std::size_t g = 0; g < in.goods.size(); ++g) {
    check_market(problems, good_label(g, in.goods.size()), in.goods[g], false);
    weights += in.goods[g].cpi_weight;
  }
  if (weights > 1 + 1e-12) {
    std::ostringstream os;
    os << "goods: the CPI weights sum to " << weights << ", above 1 (they are shares of one basket)";
    problems.push_back(os.str());
  }
  check_market(problems, "labour", in.labour, true);
  check_amount(problems, "period", "leakage_pen", in.leakage_pen);
  check_amount(problems, "period", "transfers_pen", in.transfers_pen);
  check_amount(problems, "period", "remittances_pen", in.remittances_pen);
  check_amount(problems, "period", "other_inflows_pen", in.other_inflows_pen);
  check_amount(problems, "period", "other_outflows_pen", in.other_outflows_pen);
  return problems;
}

double clearing_relative_price_bracketed(std::span<const Seller> sellers, double outside_price_pen,
                                         double demand_pen, double lo, double hi) {
  const double m = demand_pen / outside_price_pen;
  auto excess_revenue = [&](double x) { return x * total_supply(sellers, x) - m; };
  const double f_lo = excess_revenue(lo);
  const double f_hi = excess_revenue(hi);
  if (f_lo >= 0) return lo;
  if (f_hi <= 0) return hi;
  // x S(x) is increasing, so the bracket holds one root; 200 iterations are never reached (TOMS 748
  // converges at least as fast as bisection, which needs 53 halvings to exhaust a double).
  std::uintmax_t iterations = 200;
  const auto [a, b] = boost::math::tools::toms748_solve(excess_revenue, lo, hi, f_lo, f_hi,
                                                        boost::math::tools::eps_tolerance<double>(), iterations);
  return a + (b - a) / 2;
}

double clearing_relative_price(std::span<const Seller> sellers, double outside_price_pen, double demand_pen,
                               double lo, double hi) {
  bool all_fixed = true;
  bool common = true;
  const double elasticity = sellers.empty() ? 0 : sellers.front().elasticity;
  double reference = 0;
  for (const Seller& s : sellers) {
    all_fixed = all_fixed && s.elasticity == 0;
    common = common && s.elasticity == elasticity;
    reference += s.supply_ref;
  }
  const double m = demand_pen / outside_price_pen;
  if (all_fixed) return std::clamp(m / total_supply(sellers, 1.0), lo, hi);  // x S = m with S fixed
  if (common && reference > 0) {
    // x^(1+e) A = m while no seller is at capacity.
    const double x = std::pow(m / reference, 1.0 / (1.0 + elasticity));
    const double factor = std::pow(x, elasticity);
    const bool uncapped = std::all_of(sellers.begin(), sellers.end(),
                                      [&](const Seller& s) { return s.supply_ref * factor <= s.capacity; });
    if (uncapped && x >= lo && x <= hi) return x;
  }
  return clearing_relative_price_bracketed(sellers, outside_price_pen, demand_pen, lo, hi);
}

void clear_market(const MarketInput& in, double demand_pen, MarketOutcome& out) {
  const std::span<const Seller> sellers(in.sellers);
  const double p_star = in.outside_price_pen;
  const double lo = 1.0 - in.margin;
  const double hi = 1.0 + in.margin;
  out.lower_price_pen = p_star * lo;
  out.upper_price_pen = p_star * hi;
  out.demand_pen = demand_pen;
  out.imports = out.exports = out.unsold = 0;
  out.import_value_pen = out.export_value_pen = 0;
  out.regime = Regime::local;

  double x = 1.0;  // the relative price the market settles at
  const double supply_hi = total_supply(sellers, hi);
  const double revenue_hi = out.upper_price_pen * supply_hi;
  if (demand_pen == 0 && supply_hi == 0) {
    // No market: nothing offered at any price and nothing wanted. The price is the outside price.
    out.price_pen = p_star;
    out.supplied = out.bought = out.local_sales = out.revenue_pen = 0;
  } else if (demand_pen >= revenue_hi) {
    // Import parity: local sellers sell all they offer, the rest comes from outside.
    x = hi;
    out.price_pen = out.upper_price_pen;
    out.supplied = out.local_sales = supply_hi;
    out.bought = demand_pen / out.price_pen;
    out.import_value_pen = demand_pen - revenue_hi;
    out.imports = std::max(0.0, out.bought - supply_hi);
    out.revenue_pen = revenue_hi;
    if (out.import_value_pen > 0) out.regime = Regime::imports;
  } else {
    const double supply_lo = total_supply(sellers, lo);
    const double revenue_lo = out.lower_price_pen * supply_lo;
    if (demand_pen <= revenue_lo) {
      // Export parity: local buyers get what they want, the outside takes the surplus up to its limit.
      x = lo;
      out.price_pen = out.lower_price_pen;
      out.supplied = supply_lo;
      out.bought = out.local_sales = demand_pen / out.price_pen;
      const double surplus = std::max(0.0, supply_lo - out.bought);
      out.exports = std::min(surplus, in.export_limit);
      out.unsold = surplus - out.exports;
      out.export_value_pen = out.price_pen * out.exports;
      out.revenue_pen = demand_pen + out.export_value_pen;
      if (out.exports > 0) out.regime = Regime::exports;
    } else {
      // Inside the band: every sol of local spending goes to local sellers.
      x = clearing_relative_price(sellers, p_star, demand_pen, lo, hi);
      out.price_pen = p_star * x;
      out.supplied = total_supply(sellers, x);
      out.bought = out.local_sales = demand_pen / out.price_pen;
      out.revenue_pen = demand_pen;
    }
  }

  // Sellers sell the same fraction of what they offer (all of it unless exports are limited), at one price.
  out.sellers.resize(in.sellers.size());
  const double sold = out.local_sales + out.exports;
  const double sold_fraction = out.supplied > 0 ? sold / out.supplied : 0.0;
  double last_elasticity = 0;
  double factor = 1;
  for (std::size_t i = 0; i < in.sellers.size(); ++i) {
    const Seller& s = in.sellers[i];
    if (s.elasticity != last_elasticity) {
      last_elasticity = s.elasticity;
      factor = std::pow(x, s.elasticity);
    }
    const double offered = std::min(s.supply_ref * factor, s.capacity);
    SellerOutcome& o = out.sellers[i];
    o.share = out.supplied > 0 ? offered / out.supplied : 0.0;
    o.quantity = offered * sold_fraction;
    o.revenue_pen = out.revenue_pen * o.share;
    o.wages_pen = s.labour_share * o.revenue_pen;
    o.outside_inputs_pen = s.outside_input_share * o.revenue_pen;
    o.net_income_pen = o.revenue_pen - o.wages_pen - o.outside_inputs_pen;
  }
}

double consumer_price_index(std::span<const MarketInput> goods, std::span<const MarketOutcome> outcomes) {
  double cpi = 1;
  for (std::size_t g = 0; g < goods.size(); ++g)
    cpi += goods[g].cpi_weight * (outcomes[g].price_pen / goods[g].outside_price_pen - 1.0);
  return cpi;
}

void clear_period(const PeriodInput& in, PeriodOutcome& out) {
  if (const auto problems = input_problems(in); !problems.empty()) {
    std::string message = "markets: invalid period input:";
    for (const auto& p : problems) message += "\n  " + p;
    throw std::invalid_argument(message);
  }
  out.goods.resize(in.goods.size());
  double wage_bill = 0, outside_inputs = 0, imports = 0, exports = 0, net_income = 0, intermediate = 0;
  for (std::size_t g = 0; g < in.goods.size(); ++g) {
    const MarketInput& m = in.goods[g];
    MarketOutcome& o = out.goods[g];
    clear_market(m, m.final_spending_pen + m.intermediate_spending_pen, o);
    for (const SellerOutcome& s : o.sellers) {
      wage_bill += s.wages_pen;
      outside_inputs += s.outside_inputs_pen;
      net_income += s.net_income_pen;
    }
    imports += o.import_value_pen;
    exports += o.export_value_pen;
    intermediate += m.intermediate_spending_pen;
  }
  const MarketInput& l = in.labour;
  clear_market(l, l.final_spending_pen + l.intermediate_spending_pen + wage_bill, out.labour);
  for (const SellerOutcome& s : out.labour.sellers) net_income += s.net_income_pen;
  intermediate += l.intermediate_spending_pen;

  out.cpi = consumer_price_index(in.goods, out.goods);
  // Wages paid among locals and producers' local purchases are one agent's income and another's cost;
  // what remains is income from outside plus the value the economy adds.
  out.local_income_pen = in.transfers_pen + in.remittances_pen + net_income - intermediate;

  MoneyAccounts& a = out.accounts;
  a.transfers_pen = in.transfers_pen;
  a.remittances_pen = in.remittances_pen;
  a.exports_pen = exports;
  a.outside_wages_pen = out.labour.export_value_pen;
  a.other_inflows_pen = in.other_inflows_pen;
  a.imports_pen = imports;
  a.leakage_pen = in.leakage_pen;
  a.outside_inputs_pen = outside_inputs;
  a.outside_labour_pen = out.labour.import_value_pen;
  a.other_outflows_pen = in.other_outflows_pen;
  a.money_change_pen = 0;
}

PeriodOutcome clear_period(const PeriodInput& in) {
  PeriodOutcome out;
  clear_period(in, out);
  return out;
}

Conservation check_conservation(const MoneyAccounts& a, double tolerance_pen) {
  Conservation c;
  const double inflows = a.transfers_pen + a.remittances_pen + a.exports_pen + a.outside_wages_pen + a.other_inflows_pen;
  const double outflows =
      a.imports_pen + a.leakage_pen + a.outside_inputs_pen + a.outside_labour_pen + a.other_outflows_pen;
  c.net_inflow_pen = inflows - outflows;
  c.money_change_pen = a.money_change_pen;
  c.imbalance_pen = c.net_inflow_pen - c.money_change_pen;
  c.holds = std::abs(c.imbalance_pen) <= tolerance_pen;
  return c;
}

Multipliers local_multipliers(std::span<const PeriodOutcome> with_programme,
                              std::span<const PeriodOutcome> reference) {
  if (with_programme.size() != reference.size())
    throw std::invalid_argument("markets: the two runs cover " + std::to_string(with_programme.size()) + " and " +
                                std::to_string(reference.size()) + " periods; multipliers need the same periods");
  const std::size_t periods = reference.size();
  const std::size_t goods = periods > 0 ? reference.front().goods.size() : 0;
  for (std::size_t t = 0; t < periods; ++t)
    if (with_programme[t].goods.size() != goods || reference[t].goods.size() != goods)
      throw std::invalid_argument("markets: period " + std::to_string(t) +
                                  " has a different number of goods from period 0 of the reference run");
  Multipliers m;
  m.price_change.assign(goods, 0.0);
  double real_injection = 0, employment = 0, employment_ref = 0;
  for (std::size_t t = 0; t < periods; ++t) {
    const PeriodOutcome& p = with_programme[t];
    const PeriodOutcome& r = reference[t];
    const double injection = p.accounts.transfers_pen - r.accounts.transfers_pen;
    m.injection_pen += injection;
    real_injection += injection / r.cpi;
    m.income_change_pen += p.local_income_pen - r.local_income_pen;
    m.real_income_change_pen += p.local_income_pen / p.cpi - r.local_income_pen / r.cpi;
    for (std::size_t g = 0; g < goods; ++g) m.price_change[g] += p.goods[g].price_pen / r.goods[g].price_pen - 1.0;
    m.wage_change += p.labour.price_pen / r.labour.price_pen - 1.0;
    m.cpi_change += p.cpi / r.cpi - 1.0;
    employment += p.labour.local_sales;
    employment_ref += r.labour.local_sales;
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  m.nominal = m.injection_pen != 0 ? m.income_change_pen / m.injection_pen : nan;
  m.real = real_injection != 0 ? m.real_income_change_pen / real_injection : nan;
  if (periods > 0) {
    const double n = static_cast<double>(periods);
    for (double& c : m.price_change) c /= n;
    m.wage_change /= n;
    m.cpi_change /= n;
  }
  m.employment_change = employment_ref > 0 ? employment / employment_ref - 1.0 : (employment > 0 ? nan : 0.0);
  return m;
}

}  // namespace chacra::models::markets
