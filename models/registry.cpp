// The model's parameter registry: the engine's parameters and every module's, registered once (the study
// tools add theirs in study/registry.cpp).
#include "models/registry.hpp"

#include "models/adoption.hpp"
#include "models/demography.hpp"
#include "models/economy.hpp"
#include "models/finance.hpp"
#include "models/haku_winay.hpp"
#include "models/juntos.hpp"
#include "models/livelihood.hpp"
#include "models/local_markets.hpp"
#include "models/portfolio.hpp"
#include "models/livestock.hpp"
#include "sim/engine_params.hpp"

namespace chacra::models {

const Registry& registry() {
  static const Registry reg = [] {
    Registry r;
    register_engine_params(r);
    // The economy's switches and terms first: modules borrow them.
    EconomyParams::register_params(r);
    Demography::register_params(r);
    Adoption::register_params(r);
    Livelihood::register_params(r);
    BusinessParams::register_params(r);
    Livestock::register_params(r);
    Juntos::register_params(r);
    Portfolio::register_params(r);
    Finance::register_params(r);
    HakuWinay::register_params(r);
    LocalMarkets::register_params(r);
    return r;
  }();
  return reg;
}

}  // namespace chacra::models
