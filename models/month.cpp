// The month, in order: every phase of every module, as one readable list. This is the only place the
// order of processes is decided (docs/architecture.md, "The month").
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
#include "models/registry.hpp"
#include "models/shared_state.hpp"

namespace chacra::models {

namespace {

// Creates the columns shared between modules before any module's own setup.
class SharedState : public Module {
 public:
  std::string name() const override { return "shared_state"; }
  void setup(World& world, const ParamSet&, const rng::StreamSeed&) override { add_shared_columns(world); }
};

template <class M> M& add(Model& model) {
  auto m = std::make_unique<M>();
  M& ref = *m;
  model.modules.push_back(std::move(m));
  return ref;
}

}  // namespace

Model build_model(const ParamSet& params) {
  const EconomyParams economy = EconomyParams::from(params);
  const bool any_channel = economy.welfare || economy.liquidity || economy.risk || economy.graduation ||
                           economy.persistence || economy.poverty_trap;
  Model model;
  add<SharedState>(model);
  auto& demography = add<Demography>(model);
  auto& livelihood = add<Livelihood>(model);
  auto& adoption = add<Adoption>(model);
  auto& juntos = add<Juntos>(model);
  auto& haku_winay = add<HakuWinay>(model);
  auto& portfolio = add<Portfolio>(model);
  auto& finance = add<Finance>(model);
  auto& livestock = add<Livestock>(model);
  auto& markets = add<LocalMarkets>(model);
  const bool markets_on = MarketsParams::from(params).enabled;

  // With every channel of the household economy off (models/economy.hpp) the month is the earlier one, phase
  // for phase.
  if (any_channel) model.month.push_back(finance.open_phase());  // 0. The month's money flows start at zero.
  model.month.insert(model.month.end(), {
      // 1. Members age, pregnancies and births, school progress.
      demography.step_phase(),
      // 2. Juntos: re-certification and enrolment; every two months the co-responsibility check and payment.
      juntos.eligibility_phase(),
      juntos.payment_phase(),
      // 3-7. Haku Wiñay: yearly cohort selection (January), stages of each cohort (trainer visits, assets,
      //      groups, financial education, coaching), the CLAR competition, then businesses in their markets.
      haku_winay.rollout_phase(),
      haku_winay.stages_phase(),
      haku_winay.competition_phase(),
      haku_winay.business_phase(),
      // 8. The district's crop prices; in September each household chooses its crops' market orientation by a
      //    safety-first rule and pays the commercial land's inputs (economy.risk.enabled).
      portfolio.plan_phase(),
      // 9. Technology adoption: programme pushes, peers in the centre, constraints, dropping out.
      adoption.update_phase(),
      // 10. Herds (economy.persistence.enabled; idle without it): births, disease, what is kept, eaten and sold,
      //     distress sales, breeding stock for a shed.
      livestock.step_phase(),
      // 11. Income by source (with the herd's flows); consumption and savings: with the welfare channel the budget
      //     with credit (finance.budget), else the earlier rule with a fixed per-person term; poverty status.
      livelihood.income_phase(),
      economy.welfare ? finance.budget_phase() : livelihood.consumption_phase(),
  });
  // 12. Local markets (economy.markets.enabled; absent without it): each household's spending and output summed
  //     per centre, each local economy clears its goods and wage (in its block's pass where blocks are cut between
  //     economies, else serially), and households are paid the difference from farm-gate values.
  if (markets_on)
    for (Phase& ph : markets.phases()) model.month.push_back(std::move(ph));
  // 13. Poverty status.
  model.month.push_back(livelihood.welfare_phase());
  return model;
}

}  // namespace chacra::models
