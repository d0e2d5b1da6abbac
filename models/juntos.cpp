// File: models/juntos.cpp
// Juntos: targeting, rollout, co-responsibility checks, payments, exit, coordination with HW and costs.
// See juntos.hpp for the month's timing. Every household makes the same draws every month (one
// certification and one compliance uniform, from streams keyed by month and household) whatever its
// state or the parameters, so Juntos arms stay on common random numbers. Because a draw's value is fixed
// by its key, the phases compute a Philox block only where its value is used.
#include "models/juntos.hpp"

#include "models/haku_winay.hpp"
#include "models/lanes.hpp"
#include "models/livelihood.hpp"
#include "models/row_ops.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <vector>

namespace chacra::models {

namespace {

double logit(double p) {
  p = std::clamp(p, 1e-9, 1.0 - 1e-9);
  return std::log(p / (1.0 - p));
}

double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }

// Members aged 15-64, whose time the household's programme duties take.
int working_age_members(const std::int16_t* ages) { return rows::members_aged(ages, 15 * 12, 65 * 12); }

}  // namespace

template <class V>
void JuntosParams::describe(V& v) {
  const std::string calib = "Assumption (docs/calibration.md, Juntos)";
  v.boolean("juntos.enabled", enabled,
            "Juntos operates in this arm (false: nobody enrols, no transfers and no cost; columns still exist)",
            "Scenario choice");
  v.integer("juntos.start_month", start_month, {0, 2400}, "months since run start",
            "First month in which Juntos enrols households (e.g. 36 for an arm where HW comes first)",
            "Scenario choice");
  v.choice("juntos.rollout", rollout, kJuntosRolloutChoices,
           "How coverage reaches the eligible districts: all from start_month (Juntos has covered the poor "
           "rural districts since 2005-2012), or phased: a share of eligible districts enters each January, "
           "poorest first",
           "Scenario choice (MIDIS: Juntos reached the poor rural districts in stages from 2005)");
  v.real("juntos.phased_initial_share", phased_initial_share, {0, 1}, "share of eligible districts",
         "Phased rollout: share of eligible districts (poorest first) covered from start_month", calib);
  v.real("juntos.phased_share_per_year", phased_share_per_year, {0, 1}, "share of eligible districts per year",
         "Phased rollout: further share of eligible districts entering every 12 months after start_month", calib);
  v.choice("juntos.areas", areas, kJuntosAreasChoices,
           "Where Juntos enrols: all (every covered district), or new_to_both: only in population centres that Haku "
           "Winay had not reached (haku_winay hw_reached_year) before Juntos entered their district, so that with "
           "HW first and Juntos later (juntos.start_month) the transfer goes only to areas that had neither "
           "programme",
           "Scenario choice (the HW-first arm in areas new to both programmes, docs/policy_arms.md)");
  v.real("juntos.district_poverty_threshold", district_poverty_threshold, {0, 1}, "share of people",
         "Only districts with a poverty rate above this are eligible",
         "MIDIS, Juntos eligibility rules: districts with over 40% poverty (INEI poverty map)");
  v.years_as_months("juntos.max_child_age_years", max_child_age_months, {1, 30},
                    "A member counts as an eligible child while younger than this and not done with secondary school",
                    "MIDIS, Juntos eligibility rules: until the last child finishes secondary school or turns 19");
  v.real("juntos.pmt_ubn_weight", pmt_ubn_weight, {0, 5}, "score units",
         "Proxy-means test: weight of having an unmet basic need (lowers the score) beside the wealth index",
         calib);
  v.real("juntos.pmt_land_weight", pmt_land_weight, {0, 5}, "score units per log ha",
         "Proxy-means test: weight of log(land / 1.3 ha) in the score", calib);
  v.real("juntos.pmt_cutoff", pmt_cutoff, {-10, 10}, "score units",
         "Households whose PMT score (wealth_index - w_ubn*has_ubn + w_land*ln(land_ha/1.3)) is below this are "
         "the PMT's target (extremely poor); with the default population about 59% of households in eligible "
         "districts",
         calib + "; chosen so that about a third of households in poor districts are affiliated");
  v.real("juntos.pmt_exclusion_error", pmt_exclusion_error, {0, 1}, "probability",
         "At each certification, probability that a target (extremely poor) household is classified not poor",
         "Assumption: order of magnitude of undercoverage reported for SISFOH-based targeting");
  v.real("juntos.pmt_inclusion_error", pmt_inclusion_error, {0, 1}, "probability",
         "At each certification, probability that a non-target household is classified extremely poor",
         "Assumption: order of magnitude of leakage reported for SISFOH-based targeting");
  v.integer("juntos.recertification_months", recertification_months, {0, 600}, "months",
            "The poverty classification expires and is redone every this many months, staggered by household "
            "(0: never re-certified)",
            "Assumption: the SISFOH household classification is valid for about three years");
  v.real("juntos.take_up", take_up, {0, 1}, "probability",
         "Probability that an eligible household in a covered district enrols (a fixed household trait: those "
         "who decline never enrol)",
         calib);
  v.real("juntos.exit_taper_share", exit_taper_share, {0, 1}, "share of juntos.transfer_pen",
         "HW as the exit with a tapering transfer: a household that has left Juntos and is in its Haku Winay "
         "programme years (hw_stage 1-3) is paid this share of the base transfer every payment month, with the "
         "monthly administration cost, for at most juntos.exit_taper_months after its exit (0: off)",
         "Policy choice: consumption support while the household builds its productive assets, as in the "
         "graduation approach (Banerjee et al. 2015, Science 348(6236)), stepped down as in Chile Solidario's "
         "declining protection bonus (Ley 19.949, 2004); 0.5 in the graduation_taper arm");
  v.integer("juntos.exit_taper_months", exit_taper_months, {0, 600}, "months",
            "Longest time after the exit from Juntos during which the tapering transfer is paid "
            "(juntos.exit_taper_share)",
            "Policy choice: two years, the first two of Haku Winay's three programme years (World Bank, Haku "
            "Winay: An Economic Inclusion Program in Peru (case study))");
  v.real("juntos.transfer_pen", transfer_pen, {0, 100000}, "PEN per two months",
         "Base transfer paid every two months (odd month indices: February, April...) to compliant households",
         "MIDIS, Juntos fact sheet: PEN 200 every two months");
  v.real("juntos.compliance_base", compliance_base, {0, 1}, "probability per check",
         "Probability of meeting all co-responsibilities in a two-month period (school attendance from age 3, "
         "health check-ups for children under 5 and pregnant women) for a household of median propensity in a "
         "centre with market access 0.5",
         "Calibrated so that about 92% of affiliated households are paid per round (MIDIS, Juntos payment "
         "rounds: 85-95%, 93.8% in one region)");
  v.real("juntos.compliance_access_effect", compliance_access_effect, {-10, 10}, "log-odds per unit of market access",
         "Effect of the centre's market access (proxy for access to schools and health posts) on compliance",
         calib);
  v.real("juntos.compliance_propensity_sd", compliance_propensity_sd, {0, 5}, "log-odds",
         "Standard deviation of the household's persistent compliance propensity (some households fail "
         "repeatedly)",
         calib);
  v.boolean("juntos.top_ups", top_ups,
            "Pay the top-ups for pregnant women and infants and for upper-secondary students",
            "MIDIS, Juntos: top-ups since about 2019; the default is the period before them");
  v.real("juntos.top_up_early_childhood_pen", top_up_early_childhood_pen, {0, 100000}, "PEN per two months",
         "Top-up per household with a pregnant woman or an infant (paid with the base transfer)",
         "MIDIS, Juntos: PEN 100 per two months for pregnant women and infants");
  v.integer("juntos.top_up_infant_age_months", top_up_infant_age_months, {1, 120}, "months",
            "A child younger than this counts as an infant for the early-childhood top-up",
            "Assumption: infant = first year of life");
  v.real("juntos.top_up_secondary_pen", top_up_secondary_pen, {0, 100000}, "PEN per two months per student",
         "Top-up per upper-secondary student (member from top_up_secondary_min_age_years to the child age limit "
         "who has not finished secondary school)",
         "MIDIS, Juntos: PEN 80 per two months per upper-secondary student");
  v.years_as_months("juntos.top_up_secondary_min_age_years", top_up_secondary_min_age_months, {0, 30},
                    "Youngest age counted as an upper-secondary student",
                    "Assumption: upper secondary = third to fifth year of secondary school, from about age 14");
  v.real("juntos.admin_cost_pen_per_month", admin_cost_pen_per_month, {0, 100000}, "PEN per affiliated household-month",
         "Administrative cost of Juntos per affiliated household and month (besides the transfers)",
         "Assumption: a budget of about PEN 0.9-1.0 billion a year for about 700k affiliated households, of "
         "which about 85-90% is transfers");
  v.choice("juntos.coordination", coordination, kJuntosCoordinationChoices,
           "How strongly Juntos local managers promote HW practices (home gardens, waste pits, savings) to "
           "affiliated households in centres where HW operates",
           "Building bridges between social and productive inclusion policies (World Bank economic inclusion "
           "series): Juntos managers informally promote some HW practices; formal is a policy lever");
  v.real("juntos.coordination_push_informal", coordination_push_informal, {0, 1}, "probability per month",
         "Extra monthly adoption hazard of vegetable gardens and waste pits under informal coordination", calib);
  v.real("juntos.coordination_push_formal", coordination_push_formal, {0, 1}, "probability per month",
         "Extra monthly adoption hazard of vegetable gardens and waste pits under formal coordination", calib);
  v.real("juntos.coordination_saving_boost_informal", coordination_saving_boost_informal, {0, 1}, "share of income",
         "Increase in the saving rate under informal coordination", calib);
  v.real("juntos.coordination_saving_boost_formal", coordination_saving_boost_formal, {0, 1}, "share of income",
         "Increase in the saving rate under formal coordination", calib);
  // The graduation channel.
  const std::string when_on = " (economy.graduation.enabled)";
  v.real("juntos.pmt_consumption_weight", pmt_weights.consumption, {0, 10}, "score units per log point",
         "At a re-certification the score moves by this weight times the log change of the household's 12-month "
         "consumption per person since baseline" + when_on + "; prior range 0.4-1.2",
         "Assumption: SISFOH's household targeting index predicts consumption from dwelling, assets and "
         "services, so a household's score moves with its consumption (World Bank 2014, Peru Improves Social "
         "Inclusion, on MIDIS/INEI targeting)");
  v.real("juntos.pmt_asset_weight", pmt_weights.assets_per_1000_pen, {0, 10}, "score units per PEN 1,000",
         "At a re-certification the score moves by this weight per PEN 1,000 of change in net assets since "
         "baseline (herd value + up-front value of the adopted technologies - debt)" + when_on +
             "; prior range 0-0.3",
         "Assumption: the targeting index counts durable and productive assets");
  v.real("juntos.pmt_dwelling_weight", pmt_weights.dwelling, {0, 10}, "score units per improvement",
         "At a re-certification the score moves by this weight per visible dwelling improvement (improved stove, "
         "safe water, waste pit) gained since baseline" + when_on + "; prior range 0-0.3",
         "Assumption: the targeting index scores the dwelling's fuel, water source and sanitation");
  v.real("juntos.compliance_time_effect", compliance_response.time_effect, {0, 100}, "log-odds per share of adult time",
         "Compliance log-odds lost per unit share of the household's adult time taken by programme duties last "
         "month (time_burden)" + when_on + "; prior range 0-5",
         "Assumption: Juntos evaluations report the time and cost of reaching schools and health posts as the "
         "main barrier to the co-responsibilities");
  v.real("juntos.compliance_travel_cost_pen", compliance_response.travel_cost_pen, {0, 100000}, "PEN per check",
         "Cash a household needs to travel to the health post and school for a period's co-responsibilities; with "
         "less, its compliance log-odds fall by up to compliance_liquidity_effect" + when_on + "; prior range 5-40",
         "Assumption: Juntos evaluations report travel cost as a barrier to compliance");
  v.real("juntos.compliance_liquidity_effect", compliance_response.liquidity_effect, {0, 100}, "log-odds",
         "Compliance log-odds lost by a household without cash for the travel (in proportion to the shortfall)" +
             when_on + "; prior range 0-2",
         "Assumption");
  v.real("juntos.duty_hours_per_month", duty_hours_per_month, {0, 1000}, "hours per month",
         "Adult time an affiliated household spends on Juntos a month: health check-ups, school meetings, "
         "collecting the payment (enters time_burden)" + when_on + "; prior range 2-16",
         "Assumption from the co-responsibilities (MIDIS, Juntos): check-ups and school attendance, and a trip to "
         "the payment point every two months");
  v.real("time_use.adult_hours_per_month", adult_hours_per_month, {1, 744}, "hours per adult and month",
         "Working time of one adult (member aged 15-64) a month: time_burden is programme hours over this times "
         "the adults" + when_on,
         "Assumption: about 40 hours a week");
  v.borrow("economy.graduation.enabled", graduation);
  v.borrow("economy.risk.enabled", risk);
  for (int s = 0; s < kSpeciesCount; ++s)
    v.borrow(std::string("livestock.") + kSpeciesNames[static_cast<std::size_t>(s)] + ".price_pen",
             animal_price_pen[static_cast<std::size_t>(s)]);
  for (int t = 0; t < kTechCount; ++t)
    v.borrow(std::string("adoption.") + kTechNames[static_cast<std::size_t>(t)] + ".upfront_pen",
             upfront_pen[static_cast<std::size_t>(t)]);
  v.constraint(
      "juntos.coordination_formal_at_least_informal",
      [](const JuntosParams& p) -> std::optional<std::string> {
        if (p.coordination_push_formal < p.coordination_push_informal ||
            p.coordination_saving_boost_formal < p.coordination_saving_boost_informal)
          return "formal coordination must be at least as strong as informal coordination";
        return std::nullopt;
      },
      coordination_push_informal, coordination_push_formal, coordination_saving_boost_informal,
      coordination_saving_boost_formal);
  v.constraint(
      "juntos.top_up_secondary_below_child_age",
      [](const JuntosParams& p) -> std::optional<std::string> {
        if (p.top_up_secondary_min_age_months >= p.max_child_age_months)
          return "juntos.top_up_secondary_min_age_years must be below juntos.max_child_age_years";
        return std::nullopt;
      },
      top_up_secondary_min_age_months, max_child_age_months);
}

JuntosParams JuntosParams::from(const ParamSet& params) { return read_params<JuntosParams>(params); }

AssetValues JuntosParams::asset_values() const {
  AssetValues v;
  for (std::size_t s = 0; s < kSpeciesCount; ++s) v.animal_pen[s] = static_cast<float>(animal_price_pen[s]);
  for (std::size_t t = 0; t < kTechCount; ++t) v.tech_pen[t] = static_cast<float>(upfront_pen[t]);
  return v;
}

void Juntos::register_params(Registry& r) { declare_params<JuntosParams>(r); }

int Juntos::district_entry_month(const JuntosParams& p, std::size_t rank, std::size_t n_eligible) {
  if (!p.enabled || rank >= n_eligible) return -1;
  if (p.rollout == JuntosRollout::all_at_start) return p.start_month;
  // Covered after y years: the poorest floor((initial + y * per_year) * n) districts.
  const double n = static_cast<double>(n_eligible);
  for (int y = 0; y <= 1000; ++y) {
    const double share = std::min(1.0, p.phased_initial_share + y * p.phased_share_per_year);
    if (static_cast<double>(rank) + 1.0 <= share * n + 1e-9) return p.start_month + 12 * y;
    if (p.phased_share_per_year <= 0.0) break;
  }
  return -1;
}

void Juntos::setup(World& world, const ParamSet& params, const rng::StreamSeed& seed) {
  p_ = JuntosParams::from(params);
  add_shared_columns(world);  // idempotent; makes the module usable on its own

  // District coverage: eligible districts ranked poorest first (ties by index).
  auto& d = world.districts;
  const float* poverty = d.get(col::district_poverty_rate);
  auto* entry = d.add(col::district_juntos_entry_month);
  std::vector<std::uint32_t> eligible;
  for (std::uint32_t i = 0; i < d.rows(); ++i) {
    entry[i] = -1;
    if (poverty[i] > p_.district_poverty_threshold) eligible.push_back(i);
  }
  std::stable_sort(eligible.begin(), eligible.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return poverty[a] > poverty[b]; });
  for (std::size_t r = 0; r < eligible.size(); ++r) entry[eligible[r]] = district_entry_month(p_, r, eligible.size());

  auto& h = world.households;
  auto* status = h.add(col::juntos_status);
  h.add(col::juntos_eligible);
  auto* compliant = h.add(col::juntos_compliant);
  auto* exit_month = h.add(col::juntos_exit_month);
  h.add(col::juntos_exit_reason);
  h.add(col::cost_juntos_pen);
  auto* classified = h.add(col::juntos_classified_poor);
  auto* target = h.add(col::juntos_pmt_target);
  auto* prob = h.add(col::juntos_compliance_prob);
  auto* takes_up = h.add(col::juntos_takes_up);
  h.add(col::juntos_saving_boost);
  auto* offset = h.add(col::juntos_recert_offset);
  auto* score_col = h.add(col::juntos_score);
  auto* baseline = h.add(col::juntos_pmt_baseline);
  auto* propensity = h.add(col::juntos_compliance_logit);
  h.add(col::juntos_transfer_avg_pen);
  h.add(col::juntos_ever);
  h.add(col::juntos_exits_aged_out);
  h.add(col::juntos_exits_lost_classification);
  h.add(col::juntos_payments);

  const float* wealth = h.get(col::wealth_index);
  const std::uint8_t* ubn = h.get(col::has_ubn);
  const float* land = h.get(col::land_ha);
  const std::uint32_t* centre = h.get(col::centre);
  const float* access = world.centres.get(col::centre_market_access);
  float* transfer = h.get(col::juntos_transfer_pen);
  std::uint8_t* enrolled = h.get(col::juntos_enrolled);

  // With the graduation channel the score moves from its baseline with consumption and assets: the moving
  // part at baseline, from the columns the livelihood, adoption, livestock and finance modules set up.
  const bool graduation = p_.graduation;
  const float* c12 = graduation ? h.get(col::consumption_pc_12m_pen) : nullptr;
  const float* herd = graduation ? h.get(col::herd) : nullptr;
  const std::uint8_t* tech = graduation ? h.get(col::tech_state) : nullptr;
  const float* debt = graduation ? h.get(col::debt_pen) : nullptr;
  const AssetValues values = p_.asset_values();

  const double base_logit = logit(p_.compliance_base);
  for (auto i = static_cast<std::uint32_t>(world.household_begin()); i < world.household_end(); ++i) {
    auto s = seed.open(kSetupDomain, 0, i);
    const double u_take_up = s.uniform();
    const double u_offset = s.uniform();
    const double u_class = s.uniform();
    const double z = s.normal();
    const double score = pmt_static_score(wealth[i], ubn[i], land[i], p_.pmt_ubn_weight, p_.pmt_land_weight);
    score_col[i] = static_cast<float>(score);
    if (graduation) {
      const unsigned adopted =
          rows::tech_mask(tech + static_cast<std::size_t>(i) * kTechCount, static_cast<std::uint8_t>(TechState::adopted));
      baseline[i] = pmt_moving_part(p_.pmt_weights, c12[i],
                                    net_assets_pen(values, herd + static_cast<std::size_t>(i) * kSpeciesCount,
                                                   adopted, debt[i]),
                                    adopted);
    }
    target[i] = score < p_.pmt_cutoff ? 1 : 0;
    classified[i] = target[i] ? (u_class >= p_.pmt_exclusion_error) : (u_class < p_.pmt_inclusion_error);
    offset[i] = p_.recertification_months > 0
                    ? static_cast<std::int16_t>(std::min<double>(u_offset * p_.recertification_months,
                                                                 p_.recertification_months - 1))
                    : std::int16_t{-1};
    takes_up[i] = u_take_up < p_.take_up ? 1 : 0;
    const double fixed = base_logit + p_.compliance_access_effect * (access[centre[i]] - 0.5) +
                         p_.compliance_propensity_sd * z;
    propensity[i] = static_cast<float>(fixed);
    prob[i] = static_cast<float>(logistic(fixed));
    status[i] = status_u8(JuntosStatus::not_eligible);
    compliant[i] = 1;
    exit_month[i] = -1;
    transfer[i] = 0.0f;
    enrolled[i] = 0;
  }
}

Phase Juntos::eligibility_phase() const {
  return Phase::per_block("juntos.eligibility", [this](World& w, const StepContext& ctx, const Block& b) {
    eligibility(w, ctx, b);
  });
}

Phase Juntos::payment_phase() const {
  return Phase::per_block("juntos.payment",
                          [this](World& w, const StepContext& ctx, const Block& b) { payment(w, ctx, b); });
}

namespace {

// The re-certification of the graduation channel: household i's score on its current consumption, net assets
// and dwelling (written to juntos_score) and whether it is the PMT's target. Empty (false) without the channel.
class Rescore {
 public:
  Rescore() = default;
  Rescore(World& world, const JuntosParams& p)
      : p_(&p), values_(p.asset_values()) {
    auto& h = world.households;
    wealth_ = h.get(col::wealth_index);
    ubn_ = h.get(col::has_ubn);
    land_ = h.get(col::land_ha);
    c12_ = h.get(col::consumption_pc_12m_pen);
    herd_ = h.get(col::herd);
    tech_ = h.get(col::tech_state);
    debt_ = h.get(col::debt_pen);
    baseline_ = h.get(col::juntos_pmt_baseline);
    score_ = h.get(col::juntos_score);
  }
  explicit operator bool() const { return p_ != nullptr; }
  std::uint8_t operator()(std::uint32_t i) const {
    const JuntosParams& p = *p_;
    const unsigned adopted = rows::tech_mask(tech_ + static_cast<std::size_t>(i) * kTechCount,
                                             static_cast<std::uint8_t>(TechState::adopted));
    const float assets = net_assets_pen(values_, herd_ + static_cast<std::size_t>(i) * kSpeciesCount, adopted, debt_[i]);
    const double score = pmt_score(pmt_static_score(wealth_[i], ubn_[i], land_[i], p.pmt_ubn_weight, p.pmt_land_weight),
                                   pmt_moving_part(p.pmt_weights, c12_[i], assets, adopted), baseline_[i]);
    score_[i] = static_cast<float>(score);
    return score < p.pmt_cutoff ? 1 : 0;
  }

 private:
  const JuntosParams* p_ = nullptr;
  AssetValues values_;
  const float *wealth_ = nullptr, *land_ = nullptr, *c12_ = nullptr, *herd_ = nullptr, *debt_ = nullptr,
              *baseline_ = nullptr;
  const std::uint8_t *ubn_ = nullptr, *tech_ = nullptr;
  float* score_ = nullptr;
};

}  // namespace

void Juntos::eligibility(World& world, const StepContext& ctx, const Block& block) const {
  auto& h = world.households;
  const std::int16_t* age = h.get(col::member_age_months);
  const std::uint8_t* secondary_done = h.get(col::member_secondary_done);
  const std::uint8_t* pregnancy = h.get(col::pregnancy_month);
  const std::uint32_t* district = h.get(col::district);
  std::uint8_t* target = h.get(col::juntos_pmt_target);
  const std::uint8_t* takes_up = h.get(col::juntos_takes_up);
  const std::int16_t* offset = h.get(col::juntos_recert_offset);
  std::uint8_t* compliant = h.get(col::juntos_compliant);
  std::uint8_t* classified = h.get(col::juntos_classified_poor);
  std::uint8_t* status = h.get(col::juntos_status);
  std::uint8_t* eligible_col = h.get(col::juntos_eligible);
  std::uint8_t* enrolled = h.get(col::juntos_enrolled);
  std::int32_t* exit_month = h.get(col::juntos_exit_month);
  std::uint8_t* exit_reason = h.get(col::juntos_exit_reason);
  std::uint8_t* ever = h.get(col::juntos_ever);
  std::uint8_t* exits_aged_out = h.get(col::juntos_exits_aged_out);
  std::uint8_t* exits_lost = h.get(col::juntos_exits_lost_classification);
  const float* poverty = world.districts.get(col::district_poverty_rate);
  const std::int32_t* entry = world.districts.get(col::district_juntos_entry_month);

  // Parameters as locals: the loops store bytes, which may alias anything, so members read in them would be
  // read again after every store.
  const int m = ctx.month;
  const int cycle_month = p_.recertification_months > 0 ? m % p_.recertification_months : -2;
  const auto poverty_threshold = static_cast<float>(p_.district_poverty_threshold);
  const double exclusion = p_.pmt_exclusion_error, inclusion = p_.pmt_inclusion_error;
  const int max_child_age = p_.max_child_age_months;
  // The graduation channel: a re-certification scores the household's current welfare and assets (the
  // target moves; the classification errors are the same draws).
  const Rescore rescore = p_.graduation ? Rescore(world, p_) : Rescore();
  // Areas new to both programmes (juntos.areas: new_to_both): a household's centre is covered only if HW had
  // not reached it (in a January, its selection month) before Juntos entered the district; a centre HW reaches
  // later stays covered.
  const bool new_areas = p_.areas == JuntosAreas::new_to_both;
  const std::uint32_t* hh_centre = new_areas ? h.get(col::centre) : nullptr;
  const std::int16_t* hw_reached = new_areas ? world.centres.get(col::centre_hw_reached_year) : nullptr;
  const int start_year = world.calendar.start_year;

  // The certifications of the month first. The certification uniform is a pure function of (seed, domain,
  // month, household): the Philox block is computed only for the households re-certified this month (the
  // others would discard it), which leaves every result unchanged (docs/performance.md). They are about one
  // household in recertification_months, listed without a branch, 256 at a time, then certified one after
  // the other: their rows (and, with the graduation channel, the columns the score reads) are scattered
  // cache misses that overlap when no other household's work lies between them, and their Philox blocks'
  // multiply chains overlap too. Only classified, target and the score are written, which the status rule
  // below reads, so doing them first changes nothing.
  {
    const rng::FirstBlocks certification_draws(ctx.seed, kCertificationDomain, static_cast<std::uint64_t>(m));
    constexpr std::uint32_t kWindow = 256;
    std::array<std::uint32_t, kWindow> due;
    for (std::uint32_t w0 = block.household_begin; w0 < block.household_end; w0 += kWindow) {
      const std::uint32_t w1 = std::min(block.household_end, w0 + kWindow);
      const std::uint32_t n_due = list_due(offset, w0, w1, cycle_month, due.data());
      if (rescore)
        for (std::uint32_t k = 0; k < n_due; ++k) target[due[k]] = rescore(due[k]);
      for (std::uint32_t k = 0; k < n_due; ++k) {
        const std::uint32_t i = due[k];
        const double u_cert = certification_draws.uniform(i);
        classified[i] = target[i] ? (u_cert >= exclusion) : (u_cert < inclusion);
      }
    }
  }

  // Sixteen households at a time: first household by household, the inputs that need a row or a district
  // (member criterion, district poverty, coverage); then the status transitions of all sixteen at once in
  // byte lanes (statuses differ from household to household, so branches on them would often be
  // mispredicted).
  const auto chunk = [&](std::uint32_t i0, int n) {
    alignas(16) std::uint8_t member_ok[bytes::kLanes] = {}, district_ok[bytes::kLanes] = {},
                             covered[bytes::kLanes] = {};
    for (int j = 0; j < n; ++j) {
      const std::uint32_t i = i0 + static_cast<std::uint32_t>(j);
      const std::size_t base = static_cast<std::size_t>(i) * kMaxMembers;
      member_ok[j] = (pregnancy[i] > 0) | rows::any_child(age + base, secondary_done + base, max_child_age);
    }
    // The district's values: once for a whole group in one district (without areas new to both programmes,
    // where coverage is the centre's), else household by household.
    const std::uint32_t d0 = district[i0];
    if (n == bytes::kLanes && !new_areas && rows::one_district<bytes::kLanes>(district, i0)) {
      std::memset(district_ok, poverty[d0] > poverty_threshold ? 1 : 0, bytes::kLanes);
      std::memset(covered, (entry[d0] >= 0) & (m >= entry[d0]) ? 1 : 0, bytes::kLanes);
    } else {
      for (int j = 0; j < n; ++j) {
        const std::uint32_t i = i0 + static_cast<std::uint32_t>(j);
        const std::uint32_t d = district[i];
        district_ok[j] = poverty[d] > poverty_threshold;
        covered[j] = (entry[d] >= 0) & (m >= entry[d]);
        if (new_areas) {
          const int y = hw_reached[hh_centre[i]];
          covered[j] = static_cast<std::uint8_t>(covered[j] & ((y < 0) | ((y - start_year) * 12 >= entry[d])));
        }
      }
    }
    // The status rule (juntos_month, models/juntos_rules.hpp) for the sixteen at once.
    const unsigned leaves = juntos_month_lanes(status + i0, compliant + i0, enrolled + i0, eligible_col + i0,
                                               classified + i0, takes_up + i0, member_ok, district_ok, covered, n);
    {  // ever: bit 0 eligible, bit 1 affiliated, in byte lanes
      const bytes::u8 was_eligible = bytes::load(eligible_col + i0, n) != 0 ? bytes::splat(1) : bytes::splat(0);
      const bytes::u8 affiliated = is_affiliated(bytes::load(status + i0, n)) ? bytes::splat(2) : bytes::splat(0);
      bytes::store(ever + i0, bytes::load(ever + i0, n) | was_eligible | affiliated, n);
    }
    // Exits are rare: their month and reason household by household.
    for (unsigned left = leaves; left != 0; left &= left - 1) {
      const int j = __builtin_ctz(left);
      exit_month[i0 + j] = m;
      exit_reason[i0 + j] = static_cast<std::uint8_t>(member_ok[j] ? JuntosExitReason::lost_classification
                                                                    : JuntosExitReason::aged_out);
      std::uint8_t& count = member_ok[j] ? exits_lost[i0 + j] : exits_aged_out[i0 + j];
      count = static_cast<std::uint8_t>(count + (count < 255 ? 1 : 0));
    }
  };
  std::uint32_t i = block.household_begin;
  for (; i + bytes::kLanes <= block.household_end; i += bytes::kLanes) chunk(i, bytes::kLanes);
  if (i < block.household_end) chunk(i, static_cast<int>(block.household_end - i));
}

void Juntos::payment(World& world, const StepContext& ctx, const Block& block) const {
  auto& h = world.households;
  const std::uint8_t* status = h.get(col::juntos_status);
  float* prob = h.get(col::juntos_compliance_prob);
  std::uint8_t* compliant = h.get(col::juntos_compliant);
  float* transfer = h.get(col::juntos_transfer_pen);
  float* cost = h.get(col::cost_juntos_pen);
  float* push = h.get(col::adoption_push);
  float* saving_boost = h.get(col::saving_boost);
  float* own_boost = h.get(col::juntos_saving_boost);
  const std::uint8_t* hw_active = world.centres.get(col::centre_hw_active);
  // Only needed for the top-ups.
  const bool top_ups = p_.top_ups;
  const std::int16_t* age = top_ups ? h.get(col::member_age_months) : nullptr;
  const std::uint8_t* secondary_done = top_ups ? h.get(col::member_secondary_done) : nullptr;
  const std::uint8_t* pregnancy = top_ups ? h.get(col::pregnancy_month) : nullptr;

  // Parameters as locals (byte stores may alias members; see eligibility).
  const int m = ctx.month;
  const bool pay_month = payment_month(m);
  const bool coordinate = p_.coordination_push() > 0.0 || p_.coordination_saving_boost() > 0.0;
  const auto push_pen = static_cast<float>(p_.coordination_push());
  const auto boost = static_cast<float>(p_.coordination_saving_boost());
  const double transfer_pen = p_.transfer_pen, admin = p_.admin_cost_pen_per_month;
  const std::uint32_t begin = block.household_begin, end = block.household_end;
  constexpr auto enrolled = status_u8(JuntosStatus::enrolled);

  // The phase in three sweeps over the block, each over its own columns, so that the common ones have no
  // branch per household. Transfers and costs: without top-ups they take three values, computed as the
  // general formula (in double, rounded to float).
  if (!(pay_month && top_ups)) {
    const auto paid_transfer = static_cast<float>(transfer_pen);
    const auto paid_cost = static_cast<float>(admin + transfer_pen), admin_cost = static_cast<float>(admin + 0.0);
    for (std::uint32_t i = begin; i < end; ++i) {
      const std::uint8_t st = status[i];
      const bool affiliated = is_affiliated(st);
      const bool paid_now = pay_month & (st == enrolled);
      transfer[i] = paid_now ? paid_transfer : 0.0f;
      cost[i] = paid_now ? paid_cost : (affiliated ? admin_cost : 0.0f);
    }
  } else {
    for (std::uint32_t i = begin; i < end; ++i) {
      const std::uint8_t st = status[i];
      const bool affiliated = is_affiliated(st);
      double paid = 0.0;
      if (st == enrolled) {
        const std::size_t base = static_cast<std::size_t>(i) * kMaxMembers;
        bool early_childhood = pregnancy[i] > 0;
        int students = 0;
        for (int k = 0; k < kMaxMembers; ++k) {
          const int a = age[base + k];
          if (a < 0) continue;
          early_childhood |= a < p_.top_up_infant_age_months;
          students += a >= p_.top_up_secondary_min_age_months && a < p_.max_child_age_months &&
                      secondary_done[base + k] == 0;
        }
        paid = transfer_pen;
        paid += (early_childhood ? p_.top_up_early_childhood_pen : 0.0) + students * p_.top_up_secondary_pen;
      }
      transfer[i] = static_cast<float>(paid);
      cost[i] = static_cast<float>((affiliated ? admin : 0.0) + paid);
    }
  }

  // HW as the exit with a tapering transfer (juntos.exit_taper_share): households out of Juntos, within
  // exit_taper_months of their exit and in their HW programme years are paid the reduced transfer and cost the
  // monthly administration. Status and exit month are this month's, the HW stage last month's (HW's stages run
  // later in the month).
  if (p_.exit_taper_share > 0.0) {
    const std::int32_t* exit_month = h.get(col::juntos_exit_month);
    const std::uint8_t* stage = h.get(col::hw_stage);
    const std::uint8_t* participant = h.get(col::hw_participant);
    const auto tapered = static_cast<float>(p_.exit_taper_share * transfer_pen);
    const auto paid_cost = static_cast<float>(admin + p_.exit_taper_share * transfer_pen);
    const auto admin_cost = static_cast<float>(admin);
    const int taper_months = p_.exit_taper_months;
    std::uint8_t* ever = h.get(col::juntos_ever);
    for (std::uint32_t i = begin; i < end; ++i) {
      const int s = stage[i];
      if (is_affiliated(status[i]) || exit_month[i] < 0 || m - exit_month[i] >= taper_months || participant[i] == 0 ||
          s < static_cast<int>(HwStage::year1) || s > static_cast<int>(HwStage::year3))
        continue;
      transfer[i] = pay_month ? tapered : 0.0f;
      cost[i] = pay_month ? paid_cost : admin_cost;
      if (pay_month && tapered > 0.0f) ever[i] = static_cast<std::uint8_t>(ever[i] | 4u);
    }
  }

  if (pay_month) {
    std::int16_t* payments = h.get(col::juntos_payments);
    for (std::uint32_t i = begin; i < end; ++i)
      payments[i] = static_cast<std::int16_t>(payments[i] + (status[i] == enrolled));
  }

  // The transfer received, averaged over about a year, for the portfolio choice (economy.risk.enabled).
  if (p_.risk) {
    float* __restrict average = h.get(col::juntos_transfer_avg_pen);
    const float* __restrict paid = transfer;
    constexpr float kWeight = 1.0f / 12.0f;
    for (std::uint32_t i = begin; i < end; ++i) average[i] += kWeight * (paid[i] - average[i]);
  }

  // The co-responsibility check of the period ending now decides the next period's payment: drawn for the
  // affiliated households in a payment month. As for certification, the compliance block is computed only
  // where the check is drawn. The affiliated households are listed first without a branch (whether a
  // household is affiliated is as good as random, so a branch on it would often be mispredicted), then drawn.
  // With the graduation channel the probability is recomputed at each check from the household's fixed
  // propensity, last month's programme time and its cash (compliance_probability, juntos_rules.hpp); then the
  // month's programme time starts with Juntos's duties (affiliated households; 0 for the others), to which Haku
  // Winay's stages add visits and group work later in the month, before income.
  const bool graduation = p_.graduation;
  if (pay_month || graduation) {
    float* time_burden = graduation ? h.get(col::time_burden) : nullptr;
    const float* propensity = graduation ? h.get(col::juntos_compliance_logit) : nullptr;
    const float* cash = graduation ? h.get(col::cash_pen) : nullptr;
    const std::int16_t* ages = graduation ? h.get(col::member_age_months) : nullptr;
    const ComplianceResponse response = p_.compliance_response;
    // The duties' share of adult time by the number of adults (time_share, for 0 to kMaxMembers adults).
    std::array<float, kMaxMembers + 1> duty_share{};
    for (int a = 0; a <= kMaxMembers; ++a)
      duty_share[static_cast<std::size_t>(a)] = time_share(p_.duty_hours_per_month, p_.adult_hours_per_month, a);
    // Each checked household's uniform: its stream's first, with what does not depend on the household computed once.
    const rng::FirstBlocks compliance_draws(ctx.seed, kComplianceDomain, static_cast<std::uint64_t>(m));
    constexpr std::uint32_t kChunk = 256;
    std::uint32_t listed[kChunk];
    for (std::uint32_t c0 = begin; c0 < end; c0 += kChunk) {
      const std::uint32_t c1 = std::min(end, c0 + kChunk);
      const std::uint32_t n = list_affiliated(status, c0, c1, listed);
      if (pay_month) {
        for (std::uint32_t k = 0; k < n; ++k) {
          const std::uint32_t i = listed[k];
          if (graduation) prob[i] = compliance_probability(propensity[i], time_burden[i], cash[i], response);
          compliant[i] = compliance_draws.uniform(i) < prob[i] ? 1 : 0;
        }
      }
      if (!graduation) continue;
      std::fill(time_burden + c0, time_burden + c1, 0.0f);
      for (std::uint32_t k = 0; k < n; ++k) {
        const std::uint32_t i = listed[k];
        time_burden[i] =
            duty_share[static_cast<std::size_t>(working_age_members(ages + static_cast<std::size_t>(i) * kMaxMembers))];
      }
    }
  }

  // The coordination push and saving boost. saving_boost is a persistent stock that other programmes add to
  // (HW's financial education), so Juntos keeps its own share in juntos_saving_boost and applies only the
  // change: the promotion lifts the saving rate while it lasts and is withdrawn when the household leaves
  // or HW leaves the centre. Without coordination there is nothing to do: the own share is zero from set-up
  // (a new column) and only this sweep writes it. Centre by centre: where HW is not active nobody is
  // promoted.
  if (!coordinate) return;
  constexpr int garden = tech_index(Tech::vegetable_garden);
  constexpr int waste_pit = tech_index(Tech::waste_pit);
  const auto apply_boost = [&](std::uint32_t i, float boost_now) {
    if (boost_now != own_boost[i]) {
      saving_boost[i] += boost_now - own_boost[i];
      own_boost[i] = boost_now;
    }
  };
  for (std::uint32_t c = block.centre_begin; c < block.centre_end; ++c) {
    const std::uint32_t h0 = world.centre_first[c], h1 = world.centre_first[c + 1];  // blocks are whole centres
    if (hw_active[c] == 0) {
      for (std::uint32_t i = h0; i < h1; ++i) apply_boost(i, 0.0f);
      continue;
    }
    for (std::uint32_t i = h0; i < h1; ++i) {
      const bool promoted = is_affiliated(status[i]);
      if (promoted) {
        float* p = push + static_cast<std::size_t>(i) * kTechCount;
        p[garden] += push_pen;
        p[waste_pit] += push_pen;
      }
      apply_boost(i, promoted ? boost : 0.0f);
    }
  }
}

std::vector<ReachItem> Juntos::reach(const World& w) const {
  const auto& h = w.households;
  const auto* ever = h.get(col::juntos_ever);
  const auto* aged_out = h.get(col::juntos_exits_aged_out);
  const auto* lost = h.get(col::juntos_exits_lost_classification);
  const auto* payments = h.get(col::juntos_payments);
  const auto* status = h.get(col::juntos_status);
  enum : std::size_t { kEligible, kEnrolled, kPayments, kAgedOut, kLost, kReentries, kAffiliated, kTaper, kCount };
  std::vector<std::uint64_t> n(kCount, 0);
  for (std::size_t i = w.household_begin(); i < w.household_end(); ++i) {
    n[kEligible] += ever[i] & 1u;
    n[kEnrolled] += (ever[i] >> 1) & 1u;
    n[kPayments] += static_cast<std::uint64_t>(payments[i]);
    n[kAgedOut] += aged_out[i];
    n[kLost] += lost[i];
    // Every re-entry follows an exit and is followed by another exit or by the household's being affiliated at
    // the end: re-entries are the exits after the first plus the leavers affiliated now.
    const unsigned exits = static_cast<unsigned>(aged_out[i]) + lost[i];
    const bool affiliated = is_affiliated(status[i]);
    n[kReentries] += exits > 0 ? exits - 1 + (affiliated ? 1u : 0u) : 0u;
    n[kAffiliated] += affiliated ? 1 : 0;
    n[kTaper] += (ever[i] >> 2) & 1u;
  }
  w.comm().sum(n);
  // Payment rounds: the odd months from the programme's start to the end of the run.
  const int months = w.calendar.months, first = std::max(0, p_.start_month);
  // Payment rounds are the odd months: those below `months` less those below `first`.
  const int rounds = p_.enabled && months > first ? months / 2 - first / 2 : 0;
  const auto d = [](std::uint64_t v) { return static_cast<double>(v); };
  return {
      {"eligible_households", "Households ever eligible (member criterion, poverty classification, poor district)",
       "households", d(n[kEligible])},
      {"enrolled_households", "Households ever enrolled", "households", d(n[kEnrolled])},
      {"payment_rounds", "Two-monthly payment rounds in the run", "rounds", static_cast<double>(rounds)},
      {"paid_per_round", "Households paid per round, mean over the rounds", "households per round",
       rounds > 0 ? d(n[kPayments]) / rounds : 0.0},
      {"exits_aged_out", "Exits because no member qualified any more", "exits", d(n[kAgedOut])},
      {"exits_lost_classification", "Exits after losing the poverty classification at re-certification", "exits",
       d(n[kLost])},
      {"reentries", "Re-enrolments after an exit", "enrolments", d(n[kReentries])},
      {"affiliated_at_end", "Households affiliated (enrolled or suspended) in the last month", "households",
       d(n[kAffiliated])},
      {"taper_recipients",
       "Households paid the tapering transfer after their exit, during their Haku Winay years "
       "(juntos.exit_taper_share; 0 when it is off)",
       "households", d(n[kTaper])}};
}

}  // namespace chacra::models
