// File: models/adoption.hpp
// Technology adoption and dropping for the ten technologies of the Haku Winay menu (the hazards as plain
// code: models/adoption_rules.hpp).
//
// Each month, per population centre, the adopters of each technology are counted from the states left by
// the previous month (before anyone in the centre is updated, so the order of households does not
// matter). Then, per household and technology:
//   never/dropped -> adopted with hazard
//       (baseline_hazard[t] + adoption_push[t] + peer(k_t)) * labour * liquidity_t [* readopt_factor]
//     where adoption_push is what programmes added this month (reset to 0 here after use), and
//       peer(k) = 0 if k < peer_threshold, else peer_strength * (k/peer_scale) * exp(1 - k/peer_scale):
//       complex contagion (no learning from fewer than `threshold` adopters known) and an inverse-U in the
//       number of adopters known, peaking at k = peer_scale with value peer_strength;
//       k_t = adopters of t in the centre * min(1, peer_contacts / (households in the centre - 1)), the
//       adopters a household knows when it knows peer_contacts of its neighbours;
//       labour = labour_shortfall_factor ^ max(0, 2 - members aged 15-64);
//       liquidity_t = floor + (1 - floor) * min(1, cash_pen / (liquidity_cover_months * upkeep_pen[t]));
//     hard constraints: sprinkler_irrigation needs water_access; cultivated_pasture needs land_ha of at
//     least cultivated_pasture_min_land_ha (the hazard is then zero whatever the push);
//   adopted -> dropped with hazard
//       (support_active ? drop_hazard_supported[t] : drop_hazard_after[t] * (asset_delivered ? asset_drop_factor : 1))
//       * (1 + (liquidity_drop_factor - 1) * (1 - min(1, cash_pen / (liquidity_cover_months * upkeep_pen[t])))).
// With the household economy's channels (models/economy.hpp):
//   economy.persistence.enabled  E_t <- E_t + profit_memory * (tech_profit_pen_t - E_t) for each adopted
//       income-earning technology (the first seven; E_t = reference_profit_pen_t at adoption); such a technology
//       is dropped with unprofitable_drop_hazard when E_t < 0, else with the hazard above where drop_hazard_after
//       is multiplied by background_drop_factor (both times the liquidity factor); the peer term is multiplied by
//       clamp(mean E_t of the centre's adopters / reference_profit_pen_t, 0, 2). A baseline business updates its
//       expected profit the same way from last month's business income (less the Haku Winay share) and closes
//       after business.loss_months months below the owners' outside option (business.time_share x the expected
//       off-farm wage of an adult) or with the background hazard; a household without one starts one with
//       business.start_hazard (uniform u11 of the block).
//   economy.liquidity.enabled  a draw under the adoption hazard (liquidity factor 1) is an intent: the household
//       pays upfront_pen_t (times haku_winay.complement_share where the asset was delivered) through finance::pay
//       from cash above liquidity.reserve_months x permanent income, then credit, and adopts; otherwise bit t of
//       tech_pending is set and retried every month until it is paid or lapses (u_t >= 1 - intent_decay). A
//       business costs business.startup_pen the same way.
// Adopting cultivated pasture sets pasture_ha = min(pasture_max_land_share * land_ha,
// pasture_mean_ha * (0.5 + u)); dropping it sets pasture_ha to 0.
//
// Random numbers: one stream per (domain "adoption.update", month, household), one Philox block split into
// twelve 21-bit uniforms: u0..u9 one per technology, u10 pasture area; always drawn, whatever the state.
#pragma once

#include "models/economy.hpp"
#include "models/hw_business.hpp"
#include "models/shared_state.hpp"
#include "sim/engine.hpp"
#include "sim/params.hpp"

#include <array>
#include <cstdint>
#include <string>

namespace chacra::models {

// Columns of the engine (sim/population.hpp) and shared ones (shared_state.hpp, economy.hpp, livelihood.hpp)
// that this module reads or writes, besides its own at the end of this file: adoption_push, asset_delivered, borrowed_pen,
// business_profit_pen, cash_pen, debt_pen, district, district_market_dynamism, has_business, income_business_pen,
// investment_pen, land_ha, member_age_months, pasture_ha, permanent_income_pen, support_active, tech_profit_pen,
// tech_state, water_access.

struct TechAdoptionParams {
  double baseline_share = 0.0;         // share of all households with the technology adopted at setup
  double baseline_hazard = 0.0;        // monthly adoption hazard without programme or peers
  double drop_hazard_supported = 0.0;  // monthly drop hazard while under programme support
  double drop_hazard_after = 0.0;      // monthly drop hazard without support
  double upkeep_pen = 0.0;             // monthly cash cost of keeping the technology going
  double upfront_pen = 0.0;            // one-off cost of adopting (materials, animals, equipment)
  double reference_profit_pen = 0.0;   // monthly profit an adopter expects before seeing any (0: no income)
};

// Parameters of the module, read once in setup; each field's name, range, unit, description and source
// are in describe() (models/adoption.cpp), its default is its initial value here.
struct AdoptionParams {
  // Per technology (Tech order). Baseline shares are for control Juntos households; baseline hazards keep
  // them about stationary without programmes, given the peer term and the drop hazard (docs/calibration.md).
  std::array<TechAdoptionParams, kTechCount> tech = {{
      {0.25, 0.0030, 0.002, 0.012, 5.0, 250.0, 48.0},    // vegetable_garden
      {0.12, 0.0012, 0.002, 0.012, 0.0, 100.0, 0.0},     // organic_fertiliser_prep
      {0.30, 0.0038, 0.002, 0.012, 3.0, 0.0, 44.0},      // organic_fertiliser_use
      {0.10, 0.0035, 0.002, 0.012, 15.0, 1200.0, 180.0},  // sprinkler_irrigation
      {0.15, 0.0012, 0.002, 0.012, 10.0, 600.0, 104.0},   // cultivated_pasture
      {0.20, 0.0019, 0.002, 0.012, 15.0, 800.0, 97.0},    // small_animal_shed
      {0.15, 0.0012, 0.002, 0.012, 8.0, 200.0, 45.0},     // improved_andean_crops
      {0.25, 0.0030, 0.002, 0.012, 2.0, 400.0, 0.0},      // improved_stove
      {0.20, 0.0019, 0.002, 0.012, 3.0, 300.0, 0.0},      // safe_water
      {0.15, 0.0012, 0.002, 0.012, 0.0, 80.0, 0.0},       // waste_pit
  }};
  double peer_threshold = 2.0;
  double peer_strength = 0.0015;
  double peer_scale = 6.0;
  double peer_contacts = 20.0;
  double asset_drop_factor = 0.6;
  double liquidity_cover_months = 3.0;
  double liquidity_adopt_floor = 0.4;
  double liquidity_drop_factor = 2.0;
  double labour_shortfall_factor = 0.6;
  double readopt_factor = 1.0;
  double baseline_dropped_ratio = 0.5;
  double pasture_min_land_ha = 0.3;
  double pasture_mean_ha = 0.335;
  double pasture_max_land_share = 0.4;
  // Persistence from profitability (economy.persistence.enabled) and the financing of adoption
  // (economy.liquidity.enabled).
  double profit_memory = 1.0 / 12.0;
  double unprofitable_drop_hazard = 0.15;
  double background_drop_factor = 0.25;
  double intent_decay = 0.1;
  bool persistence = false;  // borrowed: economy.persistence.enabled
  bool liquidity = false;    // borrowed: economy.liquidity.enabled

  template <class V> void describe(V& v);
  static AdoptionParams from(const ParamSet& params);
};

class Adoption : public Module {
 public:
  static constexpr std::uint32_t kUpdateDomain = rng::domain_id("adoption.update");
  static constexpr std::uint32_t kSetupDomain = rng::domain_id("adoption.setup");

  static void register_params(Registry& registry);

  std::string name() const override { return "adoption"; }
  // Creates tech_state and pasture_ha and draws the baseline states: among households that satisfy the
  // hard constraint of a technology, adopted with probability baseline_share / (eligible share of all
  // households), capped at 1; dropped with baseline_dropped_ratio times that probability.
  void setup(World& world, const ParamSet& params, const rng::StreamSeed& seed) override;

  // "adoption.update", per block. Reads cash_pen (created by Livelihood::setup). Reads this module's
  // parameters when it runs, so setup must have run and the module must outlive the phase.
  Phase update_phase() const;

  const AdoptionParams& params() const { return p_; }

  // The peer term of the monthly adoption hazard for k adopters known (see the file comment).
  static double peer_hazard(double known_adopters, double threshold, double strength, double scale);
  // Adopters known to a household of a centre of `centre_households` households where `adopters` other
  // households have adopted.
  static double known_adopters(double adopters, double centre_households, double contacts);
  // Creates tech_state and pasture_ha and draws the baseline states (what setup does besides reading the
  // parameters). Deterministic in (seed, household), so calling it twice gives the same states; the
  // livelihood module calls it when it is set up first.
  static void init_states(World& world, const AdoptionParams& params, const rng::StreamSeed& seed);
  // Whether a household with this water access and land may adopt technology t at all.
  static bool feasible(int tech, bool water_access, double land_ha, double pasture_min_land_ha);

 private:
  AdoptionParams p_;
  CreditTerms credit_;
  AssetFinancing financing_;
  BusinessParams business_;
};

// Columns owned by this module (created in setup for every arm; used only with the channels on).
namespace col {
inline constexpr Col<float> tech_expected_profit_pen{
    .name = "tech_expected_profit_pen", .unit = "PEN 2017 per month",
    .description = "Profit the household expects from each technology: an exponential average of its monthly "
                   "profit since it adopted (economy.persistence.enabled)",
    .width = kTechCount, .labels = kTechNames};
// Bits in a 16-bit integer (the tables have no unsigned 16-bit type; the phase reads it as unsigned, which may
// alias it).
inline constexpr Col<std::int16_t> tech_pending{
    .name = "tech_pending", .unit = "bit t",
    .description = "Technologies the household wants but could not yet pay for (economy.liquidity.enabled)"};
inline constexpr Col<float> business_expected_profit_pen{
    .name = "business_expected_profit_pen", .unit = "PEN 2017 per month",
    .description = "Expected monthly profit of the household's baseline business (economy.persistence.enabled)"};
inline constexpr Col<std::uint8_t> business_loss_months{
    .name = "business_loss_months", .unit = "months",
    .description = "Consecutive months the baseline business's expected profit has been below its owners' "
                   "outside option"};
}  // namespace col

}  // namespace chacra::models
