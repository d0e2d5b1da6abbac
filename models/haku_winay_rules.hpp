// File: models/haku_winay_rules.hpp
// Haku Winay's household rules of the graduation channel (economy.graduation.enabled) as plain code, the code
// the stages phase calls: take-up that responds to the household's labour, its distance to markets and
// services and its cash for the complementary share of the assets, and attendance of trainer visits that
// falls with the time other programme duties take. Formulas: models/haku_winay.hpp.
#pragma once

#include <algorithm>
#include <cmath>

namespace chacra::models {

// Take-up's log-odds per unit of each household characteristic. One population-wide intercept: centres
// differ by the composition of their households (no re-centring per centre).
struct TakeupResponse {
  double intercept = 0.0;
  double farm_labour = 0.0;  // per unit share of labour in farming
  double juntos = 0.0;       // Juntos households (promoted by Juntos managers)
  double locus = 0.0;        // per z of locus of control
  double labour = 0.0;       // per adult short of two (members aged 15-64): 1 - adults/2
  double distance = 0.0;     // per unit of (1 - market access) of the centre
  double liquidity = 0.0;    // lost by a household without cash for the complementary share
  double interest_sd = 0.0;  // unobserved interest (z standard normal)
};

struct TakeupHousehold {
  float farm_labour_share = 0.0f;
  bool juntos = false;
  float locus = 0.0f;
  int adults = 2;
  float market_access = 0.5f;
  float cash_pen = 0.0f;
  double complement_pen = 0.0;  // what the household expects to pay towards its assets (0: nothing)
};

// Probability that an offered household takes part:
//   logit p = intercept + b_f farm + b_j juntos + b_l locus - tau (1 - adults/2) - delta (1 - market access)
//             + l (min(1, cash / complement) - 1) + sd z.
inline double takeup_probability(const TakeupResponse& r, const TakeupHousehold& h, double z) {
  const double liquid = h.complement_pen > 0.0 ? std::min(1.0, std::max(0.0f, h.cash_pen) / h.complement_pen) : 1.0;
  const double x = r.intercept + r.farm_labour * h.farm_labour_share + r.juntos * (h.juntos ? 1.0 : 0.0) +
                   r.locus * h.locus - r.labour * (1.0 - 0.5 * h.adults) - r.distance * (1.0 - h.market_access) +
                   r.liquidity * (liquid - 1.0) + r.interest_sd * z;
  return 1.0 / (1.0 + std::exp(-x));
}

// Trainer visits a household actually receives of those offered: offered * max(0, 1 - effect * other_time),
// other_time the share of its adult time that other programme duties take this month (Juntos's
// co-responsibilities, business-group meetings).
inline float visits_received(int offered, float other_time, double attendance_time_effect) {
  return static_cast<float>(offered * std::max(0.0, 1.0 - attendance_time_effect * other_time));
}

}  // namespace chacra::models
