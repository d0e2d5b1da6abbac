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
#include <string_view>

namespace chacra::models::markets {

namespace {

// The business goods are the Haku Wiñay business types, in the same order (good_of relies on it).
constexpr bool business_goods_match_business_types() {
  for (int t = 0; t < kBusinessTypeCount; ++t)
    if (std::string_view(kGoodNames[2 + t]) != std::string_view(kBusinessTypeNames[t])) return false;
  return true;
}
static_assert(business_goods_match_business_types());

// x^elasticity at one relative price x, remembering the last elasticity asked for: consecutive seller groups
// of one elasticity (a caller lists its groups by kind) share one pow. Caching changes no bit.
class Powers {
 public:
  explicit Powers(double x, double elasticity = 0, double factor = 1)
      : x_(x), elasticity_(elasticity), factor_(factor) {}
  double operator()(double elasticity) {
    if (elasticity != elasticity_) {
      elasticity_ = elasticity;
      factor_ = std::pow(x_, elasticity);
    }
    return factor_;
  }

 private:
  double x_, elasticity_, factor_;
};

// Sum of the sellers' supplies, in seller order.
double total_supply(std::span<const Seller> sellers, Powers& powers) {
  double total = 0;
  for (const Seller& s : sellers) total += std::min(s.supply_ref * powers(s.elasticity), s.capacity);
  return total;
}
double total_supply(std::span<const Seller> sellers, double x) {
  Powers powers(x);
  return total_supply(sellers, powers);
}

// What the closed forms need to know about a market's sellers, in one pass.
struct SupplySummary {
  bool common = true;        // every group has the elasticity of the first
  double elasticity = 0;     // the first group's
  double reference = 0;      // sum of supply_ref
  double capacity = 0;       // sum of the capacities of the groups that offer something
  double fixed_supply = 0;   // sum of min(supply_ref, capacity): > 0 iff anything is offered at any price
};

SupplySummary summarize(std::span<const Seller> sellers) {
  SupplySummary sum;
  if (!sellers.empty()) sum.elasticity = sellers.front().elasticity;
  for (const Seller& s : sellers) {
    sum.common = sum.common && s.elasticity == sum.elasticity;
    sum.reference += s.supply_ref;
    if (s.supply_ref > 0) sum.capacity += s.capacity;  // a group that offers nothing adds nothing at capacity
    sum.fixed_supply += std::min(s.supply_ref, s.capacity);
  }
  return sum;
}

// The root of x S(x) = m on (0, inf) where a closed form gives it, with x^e for the common elasticity e in
// `factor`; NaN where none does. Supply is fixed when every elasticity is 0 (x = m / S). With one elasticity
// e, x = (m / sum S0)^(1/(1+e)) while no group is at capacity, and x = m / sum K once every group is (one
// capacity ratio K / S0 for all groups, the usual case, makes one of the two hold). Otherwise groups at and
// below capacity mix and x^(1+e) A + x B = m has no closed form.
double closed_form_relative_price(std::span<const Seller> sellers, const SupplySummary& sum, double m,
                                  double& factor) {
  factor = 1;
  const double e = sum.elasticity;
  if (!sum.common || !(sum.fixed_supply > 0)) return std::numeric_limits<double>::quiet_NaN();
  if (e == 0) return m / sum.fixed_supply;
  double x = std::pow(m / sum.reference, 1.0 / (1.0 + e));
  factor = m / sum.reference / x;  // x^e, from x^(1+e) = m / A without a second pow
  if (std::all_of(sellers.begin(), sellers.end(),
                  [&](const Seller& s) { return s.supply_ref * factor <= s.capacity; }))
    return x;
  if (std::isfinite(sum.capacity)) {
    x = m / sum.capacity;
    factor = std::pow(x, e);
    if (std::all_of(sellers.begin(), sellers.end(),
                    [&](const Seller& s) { return s.supply_ref == 0 || s.supply_ref * factor >= s.capacity; }))
      return x;
  }
  factor = 1;
  return std::numeric_limits<double>::quiet_NaN();
}

// Where an input value sits ("goods[2] (bakery_food).sellers[0]"); the text is built only for a problem.
struct Where {
  const char* market = "labour";  // "goods" or "labour"; "period" for the period's own amounts
  std::size_t good = 0;
  std::size_t goods = 0;
  std::ptrdiff_t seller = -1;

  std::string str() const {
    std::ostringstream os;
    os << market;
    if (market == std::string_view("goods") && goods > 0) {  // goods == 0: all goods together
      os << '[' << good << ']';
      if (goods == static_cast<std::size_t>(kGoodCount)) os << " (" << kGoodNames[good] << ')';
    }
    if (seller >= 0) os << ".sellers[" << seller << ']';
    return os.str();
  }
};

// The rules an input must satisfy, written once and run with one of two reporters: Verdict only records
// whether every rule held (no text, no allocation: clear_period runs it every period), Problems writes a
// message for each rule that failed.
struct Verdict {
  bool ok = true;
  void operator()(bool holds, const Where&, const char*, double, const char*) { ok &= holds; }
};

struct Problems {
  std::vector<std::string> list;
  void operator()(bool holds, const Where& where, const char* name, double v, const char* expected) {
    if (holds) return;
    std::ostringstream os;
    os << where.str() << (name[0] ? "." : "") << name << ": " << v << ' ' << expected;
    list.push_back(os.str());
  }
};

bool is_share(double v) { return v >= 0 && v <= 1; }
bool is_amount(double v) { return v >= 0 && std::isfinite(v); }
bool is_amount_or_unlimited(double v) { return v >= 0 && !std::isnan(v); }

template <class Report>
void check_market(Report& report, Where where, const MarketInput& m) {
  const bool labour = where.market == std::string_view("labour");
  report(std::isfinite(m.outside_price_pen) && m.outside_price_pen > 0, where, "outside_price_pen",
         m.outside_price_pen, "is not a finite price > 0");
  report(m.margin >= 0 && m.margin < 1, where, "margin", m.margin,
         "is not in [0, 1) (the lower bound p* (1 - margin) must be > 0)");
  report(is_amount_or_unlimited(m.export_limit), where, "export_limit", m.export_limit, "is not a number >= 0");
  report(is_amount(m.final_spending_pen), where, "final_spending_pen", m.final_spending_pen,
         "is not a finite number >= 0");
  report(is_amount(m.intermediate_spending_pen), where, "intermediate_spending_pen", m.intermediate_spending_pen,
         "is not a finite number >= 0");
  report(is_share(m.cpi_weight), where, "cpi_weight", m.cpi_weight, "is not a share in [0, 1]");
  report(!labour || m.cpi_weight == 0, where, "cpi_weight", m.cpi_weight, "is not 0 (labour is not in the CPI basket)");
  for (std::size_t i = 0; i < m.sellers.size(); ++i) {
    const Seller& s = m.sellers[i];
    where.seller = static_cast<std::ptrdiff_t>(i);
    report(is_amount(s.supply_ref), where, "supply_ref", s.supply_ref, "is not a finite number >= 0");
    report(is_amount(s.elasticity), where, "elasticity", s.elasticity, "is not a finite number >= 0");
    report(is_amount_or_unlimited(s.capacity), where, "capacity", s.capacity, "is not a number >= 0");
    report(is_share(s.labour_share), where, "labour_share", s.labour_share, "is not a share in [0, 1]");
    report(is_share(s.outside_input_share), where, "outside_input_share", s.outside_input_share,
           "is not a share in [0, 1]");
    const double costs = s.labour_share + s.outside_input_share;
    report(!(costs > 1), where, "", costs, "= labour_share + outside_input_share exceeds 1 (costs above revenue)");
    report(!labour || costs == 0, where, "", costs,
           "= labour_share + outside_input_share of a worker is not 0 (no wages or inputs are paid out of wages)");
  }
}

template <class Report>
void check_period(Report& report, const PeriodInput& in) {
  double weights = 0;
  for (std::size_t g = 0; g < in.goods.size(); ++g) {
    check_market(report, Where{"goods", g, in.goods.size()}, in.goods[g]);
    weights += in.goods[g].cpi_weight;
  }
  report(!(weights > 1 + 1e-12), Where{"goods"}, "cpi_weight", weights,
         "is the sum of the CPI weights, above 1 (they are shares of one basket)");
  check_market(report, Where{}, in.labour);
  const Where period{"period"};
  report(is_amount(in.leakage_pen), period, "leakage_pen", in.leakage_pen, "is not a finite number >= 0");
  report(is_amount(in.transfers_pen), period, "transfers_pen", in.transfers_pen, "is not a finite number >= 0");
  report(is_amount(in.remittances_pen), period, "remittances_pen", in.remittances_pen, "is not a finite number >= 0");
  report(is_amount(in.other_inflows_pen), period, "other_inflows_pen", in.other_inflows_pen,
         "is not a finite number >= 0");
  report(is_amount(in.other_outflows_pen), period, "other_outflows_pen", in.other_outflows_pen,
         "is not a finite number >= 0");
}

}  // namespace

double transport_margin(double margin_base, double margin_remote, double market_access) {
  return margin_base + margin_remote * (1.0 - market_access);
}

double seller_supply(const Seller& s, double relative_price) {
  return std::min(s.supply_ref * std::pow(relative_price, s.elasticity), s.capacity);
}

std::vector<std::string> input_problems(const PeriodInput& in) {
  Problems problems;
  check_period(problems, in);
  return problems.list;
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
  double factor = 1;
  const double x = closed_form_relative_price(sellers, summarize(sellers), demand_pen / outside_price_pen, factor);
  if (x >= lo && x <= hi) return x;
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

  // Where the closed form exists it also says which regime holds, x S(x) being increasing: below the band,
  // exports; above it, imports. Otherwise the revenues at the bounds say it.
  double factor = 1;
  const SupplySummary summary = summarize(sellers);
  const double root = closed_form_relative_price(sellers, summary, demand_pen / p_star, factor);
  const bool closed = !std::isnan(root);
  const bool any_supply = summary.fixed_supply > 0;
  double x = 1.0;  // the relative price the market settles at
  Powers powers(x);
  auto settle_at = [&](double at) {
    x = at;
    powers = Powers(x);
    return total_supply(sellers, powers);
  };
  if (!any_supply) {
    // Nothing offered at any price: all demand is imported (no market at all without demand either).
    out.supplied = out.local_sales = out.revenue_pen = 0;
    out.price_pen = demand_pen > 0 ? out.upper_price_pen : p_star;
    x = out.price_pen / p_star;
    out.bought = out.imports = demand_pen / out.price_pen;
    out.import_value_pen = demand_pen;
    if (demand_pen > 0) out.regime = Regime::imports;
  } else {
    double supply_hi = 0, supply_lo = 0;
    bool upper = false, lower = false;
    if (closed) {
      upper = root > hi;
      lower = root < lo;
      if (upper) supply_hi = settle_at(hi);
      if (lower) supply_lo = settle_at(lo);
    } else {
      supply_hi = settle_at(hi);
      upper = demand_pen >= out.upper_price_pen * supply_hi;
      if (!upper) {
        supply_lo = settle_at(lo);
        lower = demand_pen <= out.lower_price_pen * supply_lo;
      }
    }
    if (upper) {
      // Import parity: local sellers sell all they offer, the rest comes from outside.
      out.price_pen = out.upper_price_pen;
      out.supplied = out.local_sales = supply_hi;
      out.revenue_pen = std::min(demand_pen, out.price_pen * supply_hi);  // min: rounding at the bound
      out.bought = demand_pen / out.price_pen;
      out.import_value_pen = demand_pen - out.revenue_pen;
      out.imports = std::max(0.0, out.bought - supply_hi);
      if (out.import_value_pen > 0) out.regime = Regime::imports;
    } else if (lower) {
      // Export parity: local buyers get what they want, the outside takes the surplus up to its limit.
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
      if (closed) {
        x = root;
        powers = Powers(x, sellers.front().elasticity, factor);
        out.supplied = total_supply(sellers, powers);
      } else {
        out.supplied = settle_at(clearing_relative_price_bracketed(sellers, p_star, demand_pen, lo, hi));
      }
      out.price_pen = p_star * x;
      out.bought = out.local_sales = demand_pen / out.price_pen;
      out.revenue_pen = demand_pen;
    }
  }

  // Sellers sell the same fraction of what they offer (all of it unless exports are limited), at one price.
  out.sellers.resize(in.sellers.size());
  const double sold = out.local_sales + out.exports;
  const double per_offered = out.supplied > 0 ? 1.0 / out.supplied : 0.0;
  const double sold_fraction = sold * per_offered;
  for (std::size_t i = 0; i < in.sellers.size(); ++i) {
    const Seller& s = in.sellers[i];
    const double offered = std::min(s.supply_ref * powers(s.elasticity), s.capacity);
    SellerOutcome& o = out.sellers[i];
    o.share = offered * per_offered;
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
  Verdict verdict;
  check_period(verdict, in);
  if (!verdict.ok) {
    const auto problems = input_problems(in);
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
