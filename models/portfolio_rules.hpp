// File: models/portfolio_rules.hpp
// The risk channel's rules as plain code (economy.risk.enabled), the code the portfolio phase runs: the
// safety-first choice of the share of crop land in the commercial line, the mean and spread of the year's
// income it implies, and the district price process that the commercial line is exposed to. Formulas:
// models/portfolio.hpp.
#pragma once

#include <algorithm>
#include <cmath>

namespace chacra::models {

// What the planner knows of the commercial line and the risks of a crop year (the same for every household).
struct PortfolioRisk {
  double premium = 0.35;              // extra crop value per unit of output moved to the commercial line
  double commercial_sold_share = 0.8;  // share of the commercial line's output sold
  double ordinary_sold_share = 0.3;    // share of the ordinary crops' output sold
  double yield_cv = 0.0;               // CV of the year's crop value from climate and yield shocks
  double ordinary_price_sd = 0.0;      // SD of the year's price (sales-weighted) of ordinary crops
  double commercial_price_sd = 0.0;    // the same for the commercial line
  double input_pen_per_ha = 300.0;     // up-front inputs per ha of commercial land
  double safety_z = 1.28;              // the safety-first quantile: P(income < threshold) <= alpha
};

// One household at planting, over the coming crop year (PEN a year).
struct PortfolioHousehold {
  double crop_value_pen = 0.0;  // expected value of its crops (sold and eaten) with no commercial line
  double land_ha = 0.0;
  double resources_pen = 0.0;   // expected income of its own economy with no commercial line (incl. own produce)
  double secure_pen = 0.0;      // income it can count on: predictable transfers, a share of its cash
  double need_pen = 0.0;        // the year's spending at the poverty line
};

// Net gain of moving all crop land to the commercial line: premium * crop value - inputs.
inline double commercial_gain_pen(const PortfolioRisk& k, const PortfolioHousehold& h) {
  return k.premium * h.crop_value_pen - k.input_pen_per_ha * h.land_ha;
}

// The variance of the year's income with share m in the commercial line, per unit of squared crop value V^2:
// a quadratic q0 + 2 q1 m + q2 m^2 from yield risk on all crop value, (1 + premium m) yield_cv, and price risk
// on what is sold, (1 - m) s0 sd0 + m (1 + premium) s_c sd_c, both prices moving with the district's price.
// The same for every household: a household's variance is V^2 times it.
struct UnitVariance {
  double q0, q1, q2;
  explicit UnitVariance(const PortfolioRisk& k) {
    const double y0 = k.yield_cv, y1 = k.yield_cv * k.premium;  // yield SD per unit of V: y0 + y1 m
    const double a = k.ordinary_sold_share * k.ordinary_price_sd;
    const double b = (1.0 + k.premium) * k.commercial_sold_share * k.commercial_price_sd - a;  // price SD: a + b m
    q0 = y0 * y0 + a * a;
    q1 = y0 * y1 + a * b;
    q2 = y1 * y1 + b * b;
  }
  double at(double m) const { return q0 + 2.0 * q1 * m + q2 * m * m; }
};

struct PortfolioMoments {
  double mean;  // E[y(m)] = resources + gain m
  double sd;    // SD[y(m)] = V sqrt(q0 + 2 q1 m + q2 m^2)
};
inline PortfolioMoments portfolio_moments(const PortfolioRisk& k, const PortfolioHousehold& h, double m) {
  return {h.resources_pen + commercial_gain_pen(k, h) * m,
          h.crop_value_pen * std::sqrt(std::max(0.0, UnitVariance(k).at(m)))};
}

// The safety-first choice (Roy 1952; Telser's form: the most expected income subject to a bound on the
// chance of disaster): the largest m in [0, 1] with
//   E[y(m)] - z SD[y(m)] >= need - secure,
// or 0 when even m = 0 fails it or the commercial line does not pay (gain g <= 0). f(m) = E - z SD - (need -
// secure) is concave, so with f(0) >= 0 > f(1) its largest zero in [0, 1] is the largest root in [0, 1] of
//   (c0 + g m)^2 = z^2 V^2 (q0 + 2 q1 m + q2 m^2),   c0 = resources + secure - need
// (closed form; c0 >= 0 and g > 0 there, so no root of the squared equation in [0, 1] has c0 + g m < 0).
// Constructed once per crop year (the risks are the same for every household); safety_first_share is the
// same rule for one household.
class SafetyFirst {
 public:
  explicit SafetyFirst(const PortfolioRisk& k)
      : k_(k), q_(k), sd0_(std::sqrt(std::max(0.0, q_.at(0.0)))), sd1_(std::sqrt(std::max(0.0, q_.at(1.0)))) {}

  double operator()(const PortfolioHousehold& h) const {
    const double g = commercial_gain_pen(k_, h);
    const double c0 = h.resources_pen + h.secure_pen - h.need_pen;
    const double zV = k_.safety_z * h.crop_value_pen;
    if (!(g > 0.0) || c0 - zV * sd0_ < 0.0) return 0.0;
    if (c0 + g - zV * sd1_ >= 0.0) return 1.0;
    const double zV2 = zV * zV;
    const double A = g * g - zV2 * q_.q2, B = 2.0 * (g * c0 - zV2 * q_.q1), C = c0 * c0 - zV2 * q_.q0;
    double roots[2] = {-1.0, -1.0};
    if (A == 0.0) {
      roots[0] = B != 0.0 ? -C / B : -1.0;
    } else {
      // The numerically stable pair q / A and C / q.
      const double q = -0.5 * (B + std::copysign(std::sqrt(std::max(0.0, B * B - 4.0 * A * C)), B));
      roots[0] = q / A;
      roots[1] = q != 0.0 ? C / q : roots[0];
    }
    constexpr double kSlack = 1e-9;  // rounding around the interval's ends
    double m = 0.0;
    for (double r : roots)
      if (r >= -kSlack && r <= 1.0 + kSlack) m = std::max(m, r);
    return std::clamp(m, 0.0, 1.0);
  }

 private:
  PortfolioRisk k_;
  UnitVariance q_;
  double sd0_, sd1_;  // unit SDs at m = 0 and m = 1
};

inline double safety_first_share(const PortfolioRisk& k, const PortfolioHousehold& h) { return SafetyFirst(k)(h); }

// The district's price state, a stationary AR(1) in standard-normal units:
//   x_m = persistence x_{m-1} + sqrt(1 - persistence^2) e_m,   e_m standard normal,
// and the mean-one price multiplier of output whose log price has standard deviation sd: exp(sd x - sd^2/2).
inline double price_state_step(double previous, double innovation, double persistence) {
  return persistence * previous + std::sqrt(1.0 - persistence * persistence) * innovation;
}
inline float price_factor(double state, double sd) { return static_cast<float>(std::exp(sd * state - 0.5 * sd * sd)); }

// The standard deviation of a year's sales-weighted price multiplier, sum_j w_j F_j / sum_j w_j, when the
// month's multipliers F_j = exp(sd x_j - sd^2/2) follow the AR(1) state above:
//   Cov(F_j, F_k) = exp(sd^2 persistence^|j-k|) - 1.
template <class Weights>
double annual_price_sd(const Weights& w, double sd, double persistence) {
  double var = 0.0, total = 0.0;
  for (std::size_t j = 0; j < w.size(); ++j) {
    total += w[j];
    for (std::size_t k = 0; k < w.size(); ++k) {
      const double lag = static_cast<double>(j > k ? j - k : k - j);
      var += w[j] * w[k] * std::expm1(sd * sd * std::pow(persistence, lag));
    }
  }
  return total > 0.0 ? std::sqrt(var) / total : 0.0;
}

}  // namespace chacra::models
