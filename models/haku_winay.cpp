// File: models/haku_winay.cpp
// Haku Winay: parameters, rollout of cohorts and executing nuclei, the three programme years, the business
// competition and the businesses' market, soft-skills coaching, and costs (see haku_winay.hpp for timing).
#include "models/haku_winay.hpp"

#include "models/juntos.hpp"
#include "models/juntos_rules.hpp"
#include "models/livelihood.hpp"
#include "models/row_ops.hpp"
#include "sim/parallel.hpp"

#include <oneapi/tbb/blocked_range.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <numbers>
#include <optional>
#include <span>
#include <stdexcept>

namespace chacra::models {

namespace {

constexpr double kEps = 1e-6;

double logistic(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double logit(double p) {
  p = std::clamp(p, 1e-9, 1.0 - 1e-9);
  return std::log(p / (1.0 - p));
}

// Marks a centre's flows as written (State::flows_written) from the phases that run nuclei or businesses in
// parallel: two of their tasks may mark the same centre, so the store is atomic.
void mark_flows_written(std::vector<std::uint8_t>& flags, std::uint32_t centre) {
  std::atomic_ref<std::uint8_t>(flags[centre]).store(1, std::memory_order_relaxed);
}

// Nucleus priorities over the menu before suitability (higher first); sprinkler and pasture enter only
// where the area suits them, sheds and Andean crops rise with market access.
constexpr std::array<double, kTechCount> kMenuPriority = {0.95, 0.90, 1.00, 0.92, 0.80, 0.85, 0.60, 0.75, 0.70, 0.50};

// Whether shares (of business lines, of coaching goals) sum to one; the error text names them as `what`.
template <std::size_t N>
std::optional<std::string> sums_to_one(const std::array<double, N>& shares, const std::string& what) {
  double s = 0.0;
  for (double x : shares) s += x;
  if (std::abs(s - 1.0) > 1e-6) return what + " must sum to 1 (they sum to " + format_value(s) + ")";
  return std::nullopt;
}

inline bool on_menu(std::uint16_t menu, int k) { return (menu >> k) & 1u; }

// Which technologies each coaching goal targets.
inline void plan_techs(CoachingPlan plan, int out[2], int& n) {
  n = 0;
  switch (plan) {
    case CoachingPlan::guinea_pigs: out[n++] = tech_index(Tech::small_animal_shed); break;
    case CoachingPlan::pasture: out[n++] = tech_index(Tech::cultivated_pasture); break;
    case CoachingPlan::crop_diversification:
      out[n++] = tech_index(Tech::vegetable_garden);
      out[n++] = tech_index(Tech::improved_andean_crops);
      break;
    default: break;
  }
}

// Members aged 15-64, whose time programme duties take.
int working_age_members(const std::int16_t* ages) { return rows::members_aged(ages, 15 * 12, 65 * 12); }

// Months until the youngest member under 19 turns 19 (the end of Juntos eligibility), or -1 if none.
int months_to_juntos_age_out(const std::int16_t* ages) {
  constexpr int kLimit = 19 * 12;
  int youngest = -1;
  for (int k = 0; k < kMaxMembers; ++k) {
    const int a = ages[k];
    if (a >= 0 && a < kLimit && (youngest < 0 || a < youngest)) youngest = a;
  }
  return youngest < 0 ? -1 : kLimit - youngest;
}

// Graduation route: months until the household's last qualifying child is expected to stop qualifying for
// Juntos (a child still in school at the secondary-completion age, a child past it at the age limit), -1 if no
// member qualifies; a pregnancy (a new child to come) puts the end beyond any window.
int months_to_juntos_end(const std::int16_t* ages, const std::uint8_t* done, bool pregnant, int limit_months,
                         int secondary_months) {
  if (pregnant) return std::numeric_limits<int>::max();
  int left = -1;
  for (int k = 0; k < kMaxMembers; ++k) {
    const int a = ages[k];
    if (a < 0 || a >= limit_months || done[k]) continue;
    left = std::max(left, (a < secondary_months ? secondary_months : limit_months) - a);
  }
  return left;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------
// Parameters.

template <class V>
void HakuWinayParams::describe(V& v) {
  const std::string assumption = "Assumption (docs/calibration.md, Haku Winay)";
  const std::string evaluation = "IEP/UC Davis evaluation of the 2017 HW cohort (Rural Synergies Peru brief)";
  const std::string design = "World Bank, Haku Winay: An Economic Inclusion Program in Peru (case study)";
  // Targeting (the centre rule's parameters are TargetingRule's, models/hw_targeting.cpp).
  v.boolean("haku_winay.enabled", enabled,
            "Run Haku Winay in this arm (false: no centre is selected; columns still exist)", "Scenario choice");
  rule.describe(v);
  v.choice("haku_winay.household_offer", household_offer, kHwHouseholdOfferChoices,
           "Households of a selected centre offered HW: all (the real design: open to all), juntos_only (Juntos "
           "households), juntos_exiting (Juntos households whose youngest child turns 19 within "
           "exit_window_months: HW as the exit from Juntos)",
           "Scenario choice: the policy arms of HW as the exit from Juntos (HW was designed as Juntos's exit "
           "strategy; " + design + ")");
  v.integer("haku_winay.exit_window_months", exit_window_months, {0, 600}, "months",
            "Under juntos_exiting: months before ageing out of Juntos in which a household is offered HW", assumption);
  v.choice("haku_winay.selection", selection, kHwSelectionChoices,
           "Who is selected each year: centres (centres eligible under the targeting rule start in yearly cohorts, "
           "each once: the real design) or juntos_exit (the graduation route: households approaching or leaving the "
           "end of Juntos, in any centre, pooled each year into nuclei across neighbouring centres of a district; a "
           "centre hosts a new cohort whenever it has newly entitled households; the targeting rule and "
           "household_offer do not apply, spill-in neither)",
           "Scenario choice: HW was designed as Juntos's exit strategy (" + design + ")");
  v.integer("haku_winay.exit_window_before_months", exit_window_before_months, {0, 600}, "months",
            "Graduation route: a household affiliated to Juntos is entitled when its last qualifying child is expected "
            "to stop qualifying within this many months (a child qualifies until it finishes secondary school, "
            "expected at demography.secondary_completion_age_years, or reaches juntos.max_child_age_years; a "
            "pregnancy keeps the household far from the end)",
            "Scenario choice; MIDIS, Juntos eligibility rules: until the last child finishes secondary school or "
            "turns 19");
  v.integer("haku_winay.exit_window_after_months", exit_window_after_months, {0, 600}, "months",
            "Graduation route: a household that left Juntos (for a reason exit_reasons admits) and is not "
            "affiliated again is entitled for this many months after its exit",
            "Scenario choice");
  v.choice("haku_winay.exit_reasons", exit_reasons, kHwExitReasonsChoices,
           "Graduation route: which exits entitle a household after it left: any (aged out, or lost the poverty "
           "classification at re-certification: the programme cannot tell a graduate from a classification error, "
           "and most exits are of the second kind) or aged_out",
           "Scenario choice");
  v.integer("haku_winay.district_waves", district_waves, {1, 100}, "waves",
            "Districts enter HW in this many yearly waves from first_cohort_year, in a random order fixed for the "
            "replicate (1: every district at once): a rollout staggered by district",
            "Scenario choice: FONCODES expanded HW district by district");
  v.borrow("juntos.max_child_age_years", juntos_max_child_age_years);
  v.borrow("demography.secondary_completion_age_years", secondary_completion_age_years);

  // Rollout.
  v.integer("haku_winay.first_cohort_year", first_cohort_year, {1990, 2100}, "year",
            "First year in which a cohort of centres starts", evaluation + ": the evaluated cohort starts in 2017");
  v.integer("haku_winay.last_cohort_year", last_cohort_year, {1990, 2100}, "year", "Last year in which a cohort starts",
            assumption);
  v.integer("haku_winay.start_month_of_year", start_month_of_year, {1, 12}, "month of year",
            "Calendar month in which a cohort's first programme month falls (the cohort is chosen in January)",
            "Assumption: nuclei sign agreements mid-year; the evaluation's baseline was late 2017 to early 2018");
  v.choice("haku_winay.rollout_limit", rollout_limit, kHwRolloutLimitChoices,
           "What limits a yearly cohort: eligible_share (a share of the households offered in eligible centres), "
           "households (households_per_year offered households), budget (budget_pen_per_year of expected "
           "three-year cost)",
           design + ": a yearly budget limits how many households start each year");
  v.real("haku_winay.eligible_share_per_year", eligible_share_per_year, {0, 1}, "share of eligible households",
         "Cohort size under eligible_share: share of the offered households in eligible centres started per year",
         "Assumption: with 72% take-up, five cohorts reach about half of eligible households (MIDIS, Haku Winay "
         "fact sheet: about 47% of eligible households reached by 2020)");
  v.real("haku_winay.households_per_year", households_per_year, {0, 1e9}, "households",
         "Cohort size under households: offered households started per year", "Scenario choice");
  v.real("haku_winay.budget_pen_per_year", budget_pen_per_year, {0, 1e12}, "PEN",
         "Cohort size under budget: expected total three-year cost of the centres started per year",
         "MIDIS, Haku Winay fact sheet: budget PEN 178 million in 2017 (national; scale to the synthetic "
         "population)");
  v.choice("haku_winay.priority", priority, kHwPriorityChoices,
           "Order in which eligible centres start (overridden by juntos share under rank_by_juntos_share)",
           "Assumption: allocation among eligible centres was not by UBN rank");
  v.real("haku_winay.nucleus_min_participants", nucleus_min_participants, {1, 100000}, "households",
         "An executing nucleus gathers neighbouring selected centres until it expects this many participants",
         design + ": nuclei of about 80-110 households");
  v.real("haku_winay.nucleus_max_participants", nucleus_max_participants, {1, 100000}, "households",
         "A centre is not added to a nucleus if that would take it above this many expected participants",
         design + ": nuclei of about 80-110 households");

  // Participation.
  v.real("haku_winay.takeup_rate", takeup_rate, {0, 1}, "share of offered households",
         "Mean take-up in a selected centre (the intercept is set so each centre's expected take-up is this); "
         "with economy.graduation.enabled take-up comes from takeup_intercept instead, and this is only the "
         "participation the rollout plans nuclei and budgets for",
         evaluation + ": HW reached 72% of households in the ITT group");
  v.real("haku_winay.takeup_interest_sd", takeup_interest_sd, {0, 10}, "log-odds", "Spread of unobserved interest in HW",
         assumption);
  v.real("haku_winay.takeup_juntos_logit", takeup_juntos_logit, {-10, 10}, "log-odds",
         "Higher take-up of Juntos households (promoted by Juntos managers)",
         "Fitted (was 0.3): HW reached 72% of the evaluation's ITT group, Juntos households (" + evaluation +
             "); 0.3 gave 75%");
  v.real("haku_winay.takeup_farm_labour_logit", takeup_farm_labour_logit, {-10, 10}, "log-odds per unit share",
         "Higher take-up with more labour in farming", assumption);
  v.real("haku_winay.takeup_locus_logit", takeup_locus_logit, {-10, 10}, "log-odds per z",
         "Take-up by locus of control (0: the better-off do not select in)",
         evaluation + ": the inequality of effects is not because better-off households participate more");
  v.real("haku_winay.spill_in_share", spill_in_share, {0, 1}, "probability",
         "Imperfect assignment: probability that a household of a non-selected centre just below the UBN "
         "threshold (within spill_in_band) in a district with a new cohort is reached anyway",
         evaluation + ": HW reached 24% of the control group (set 0.24 for the virtual evaluation)");
  v.real("haku_winay.spill_in_band", spill_in_band, {0, 1}, "share",
         "Width of the UBN band below the threshold where spill-in happens",
         evaluation + ": control centres had a 50-60% UBN share");

  // Year 1: trainers and assets.
  const char* year_names[3] = {"year1", "year2", "year3"};
  for (int y = 0; y < 3; ++y) {
    const std::string visits_source = y == 0 ? design + ": 2-4 trainer visits a month in year 1" : assumption;
    v.integer(std::string("haku_winay.visits_") + year_names[y] + "_min", visits_min[static_cast<std::size_t>(y)],
              {0, 31}, "visits per month", std::string("Fewest trainer (yachachiq) visits per month in programme ") +
                                                year_names[y],
              visits_source);
    v.integer(std::string("haku_winay.visits_") + year_names[y] + "_max", visits_max[static_cast<std::size_t>(y)],
              {0, 31}, "visits per month", std::string("Most trainer visits per month in programme ") + year_names[y],
              visits_source);
  }
  v.real("haku_winay.trainer_cost_per_visit_pen", trainer_cost_per_visit_pen, {0, 10000}, "PEN per visit",
         "Trainer cost per household visit (yachachiq fee and materials)", assumption);
  v.real("haku_winay.visit_push", visit_push, {0, 1}, "probability per visit",
         "Extra monthly adoption hazard per trainer visit, for each technology on the nucleus's menu", assumption);
  v.real("haku_winay.asset_push", asset_push, {0, 1}, "probability per month",
         "Extra monthly adoption hazard of a technology whose asset was delivered, while under support", assumption);
  for (std::size_t k = 0; k < kTechCount; ++k) {
    const std::string tech = kTechNames[k];
    v.real("haku_winay.asset_cost_pen." + tech, asset_cost_pen[k], {0, 100000}, "PEN",
           "Cost of the HW asset for " + tech,
           "Assumption: the menu totals PEN 3,500-6,200 per household with trainers (" + design + ")");
    v.real("haku_winay.asset_take_share." + tech, asset_take_share[k], {0, 1}, "share of participants",
           "Share of participants who take the " + tech + " asset when it is on the menu and suits them",
           "Fitted to the published ITT adoption effects by tools/calibrate.py, so not evidence: kept as the default "
           "of scenarios without the household economy; the calibrated evaluation scenario sets a neutral 0.5 "
           "(docs/calibration.md)");
  }
  v.real("haku_winay.sprinkler_min_water_share", sprinkler_min_water_share, {0, 1}, "share of households",
         "Sprinklers are on a nucleus's menu only if at least this share of its households has year-round water "
         "(and are delivered only to households with it)",
         design + ": sprinkler irrigation needs year-round water");
  v.real("haku_winay.pasture_min_altitude_m", pasture_min_altitude_m, {0, 7000}, "m",
         "Cultivated pasture is on the menu of nuclei at least this high (or with enough land)", assumption);
  v.real("haku_winay.pasture_min_mean_land_ha", pasture_min_mean_land_ha, {0, 100}, "ha",
         "Cultivated pasture is on the menu of nuclei with at least this mean land (or high enough)", assumption);
  v.real("haku_winay.pasture_min_land_ha", pasture_min_land_ha, {0, 100}, "ha",
         "Pasture assets go only to households with at least this much land", assumption);
  v.real("haku_winay.budget_cap_per_household_pen", budget_cap_per_household_pen, {0, 1e6}, "PEN per household",
         "Cap on what HW spends on one household's assets, trainer visits and financial education over the "
         "three years (prizes, coaching and administration are outside the cap)",
         design + ": about USD 1,700 per household (PEN 3,500-6,200 realised)");
  const std::string trainers = "Assumption: HW relies on community trainers (yachachiqs), a tradition of the "
                               "southern highlands that the northern highlands and the Amazon lack";
  v.real("haku_winay.region_effect_northern_highlands", region_effect[1], {0, 2}, "multiplier",
         "Programme pushes and business returns in the northern highlands relative to the southern highlands",
         trainers);
  v.real("haku_winay.region_effect_amazon", region_effect[2], {0, 2}, "multiplier",
         "Programme pushes and business returns in the Amazon relative to the southern highlands", trainers);

  // Year 2: business competition.
  v.real("haku_winay.group_join_prob", group_join_prob, {0, 1}, "probability",
         "Participant joins a business group in year 2",
         "Assumption: Escobal and Ponce (2016) find gains mostly among households in the business component");
  v.real("haku_winay.group_mean_size", group_mean_size, {3, 5}, "households",
         "Target mean size of business groups (3-5 members)", design + ": groups of 3-5, about 3.9 on average");
  v.real("haku_winay.plan_weight_capacity", plan_weight_capacity, {-10, 10}, "score per log capacity",
         "Plan score per unit of the members' mean log productive capacity", assumption);
  v.real("haku_winay.plan_weight_technologies", plan_weight_technologies, {-10, 10}, "score per share",
         "Plan score per unit of the members' mean share of menu technologies adopted", assumption);
  v.real("haku_winay.plan_weight_coaching", plan_weight_coaching, {-10, 10}, "score per share",
         "Plan score per unit share of coached members", assumption);
  v.real("haku_winay.plan_weight_locus", plan_weight_locus, {-10, 10}, "score per z",
         "Plan score per unit of members' mean locus of control", assumption);
  v.real("haku_winay.plan_noise_sd", plan_noise_sd, {0, 10}, "score", "Noise in the committee's scoring of a plan",
         assumption);
  v.real("haku_winay.clar_award_share", clar_award_share, {0, 1}, "share of competing groups",
         "The CLAR budget funds this share of a nucleus's competing groups (rounded) at the cohort's prize",
         design + ": 56% and 89% of competing groups won in the two cases reported");
  v.real("haku_winay.clar_min_score", clar_min_score, {-1000, 1000}, "score", "Plans scoring below this are not funded",
         assumption);
  v.real("haku_winay.prize_early_pen", prize_early_pen, {0, 1e6}, "PEN per business",
         "Prize per funded business, early cohorts", design + ": about PEN 7,500 per business early on");
  v.real("haku_winay.prize_late_pen", prize_late_pen, {0, 1e6}, "PEN per business",
         "Prize per funded business, later cohorts", design + ": PEN 18,800-20,300 later");
  v.integer("haku_winay.prize_change_year", prize_change_year, {1990, 2100}, "year",
            "Cohorts starting from this year get the later prize", assumption);
  v.real("haku_winay.prize_equipment_share", prize_equipment_share, {0, 1}, "share of prize",
         "Share of the prize spent on equipment and inputs (the business's capital); the rest is technical assistance",
         design + ": 60% equipment and inputs, 40% technical assistance");
  for (std::size_t t = 0; t < kBusinessTypeCount; ++t) {
    const std::string type = kBusinessTypeNames[t];
    v.real("haku_winay.business_share." + type, business_share[t], {0, 1}, "share of businesses",
           "Base share of winning groups that start a " + type +
               " business (adjusted by members' pasture/sheds, water and market access)",
           design + ": the common business lines; shares an assumption");
    v.real("haku_winay.business_return." + type, business_return[t], {0, 10}, "PEN per PEN of capital per year",
           "Annual profit per PEN of equipment of a lone " + type + " business with average members", assumption);
  }
  v.real("haku_winay.business_productivity_sd", business_productivity_sd, {0, 5}, "log",
         "Spread of business productivity (log-normal, mean 1)",
         "Assumption: heterogeneous returns (Escobal and Ponce 2016: gains concentrated among some households)");
  v.real("haku_winay.business_market_crowding", business_market_crowding, {0, 10}, "per business",
         "Each extra business of the same type in the district cuts each one's returns: 1/(1 + crowding (n-1))",
         "Assumption: returns fall when many similar subsidised businesses sell into the same local market");
  v.real("haku_winay.business_dynamism_effect", business_dynamism_effect, {0, 10}, "per unit",
         "Business returns scale by 1 + effect (market_dynamism - 0.5)", assumption);
  v.real("haku_winay.business_failure_rate_year", business_failure_rate_year, {0, 1}, "probability per year",
         "Annual failure probability of a lone business (raised by crowding)",
         "Assumption: some funded businesses fail (" + design + ")");
  v.real("haku_winay.business_support_failure_reduction", business_support_failure_reduction, {0, 1}, "share",
         "Reduction of the failure hazard while HW supports the business (year 3)", assumption);
  v.real("haku_winay.business_profit_sd_month", business_profit_sd_month, {0, 5}, "share",
         "Month-to-month noise of business profit", assumption);

  // Year 3: financial education; costs.
  v.real("haku_winay.fin_ed_attendance", fin_ed_attendance, {0, 1}, "probability",
         "Participant attends financial education in year 3", assumption);
  v.real("haku_winay.fin_ed_saving_boost", fin_ed_saving_boost, {0, 1}, "share of income",
         "Added to saving_boost of attending households (persists)",
         design + ": financial education and savings promotion in year 3; size assumed");
  v.real("haku_winay.fin_ed_cost_pen", fin_ed_cost_pen, {0, 100000}, "PEN per attending household",
         "Cost of financial education (booked with trainers, inside the cap)", assumption);
  v.real("haku_winay.admin_share", admin_share, {0, 5}, "share of direct cost",
         "FONCODES administration as a share of the direct costs (assets, trainers, prizes, coaching)", assumption);

  // The graduation channel: take-up and attendance respond to time, distance and liquidity.
  const std::string when_on = " (economy.graduation.enabled)";
  v.real("haku_winay.takeup_intercept", takeup_intercept, {-20, 20}, "log-odds",
         "Population-wide intercept of take-up when it responds to labour, distance and liquidity" + when_on +
             ": centres differ by their households' composition (takeup_rate and the per-centre centring are not "
             "used then)",
         "Posterior median, calibrated against baseline and control-group moments including HW's reach of 72% of "
         "the evaluation's ITT group (" + evaluation + "; configs/calibration/chacra_2017.yaml, docs/calibration.md); "
         "prior uniform -0.5 to 2.0 (assumption)");
  v.real("haku_winay.takeup_labour_logit", takeup_labour_logit, {-10, 10}, "log-odds per adult short of two",
         "Lower take-up of households short of working-age members: the logit loses this times (1 - adults/2)" +
             when_on + "; prior range 0-1.5",
         "Assumption: year 1's visits and year 2's group work take household labour");
  v.real("haku_winay.takeup_distance_logit", takeup_distance_logit, {-10, 10}, "log-odds per unit of remoteness",
         "Lower take-up in remote centres: the logit loses this times (1 - market_access)" + when_on +
             "; prior range 0-2",
         "Assumption: trainers and meetings are harder to reach far from roads and markets");
  v.real("haku_winay.takeup_liquidity_logit", takeup_liquidity_logit, {-10, 10}, "log-odds",
         "Lower take-up of households without cash for the complementary share of the assets: the logit loses "
         "this times (1 - min(1, cash / expected complement)); the complement is charged only with "
         "economy.liquidity.enabled" + when_on + "; prior range 0-1.5",
         "Assumption");
  v.real("haku_winay.attendance_time_effect", attendance_time_effect, {0, 100}, "per share of adult time",
         "Visits received = visits offered * max(0, 1 - effect * share of adult time taken by other programme "
         "duties this month: Juntos's co-responsibilities and business-group meetings)" + when_on +
             "; prior range 0-3",
         "Assumption: a visit is missed when it collides with other duties");
  v.real("haku_winay.visit_hours", visit_hours, {0, 100}, "hours per visit",
         "Adult time a trainer visit takes (enters time_burden)" + when_on + "; prior range 2-4",
         "Assumption: yachachiqs work with the household on its plot or in its home");
  v.real("haku_winay.group_meeting_hours_per_month", group_meeting_hours_per_month, {0, 744}, "hours per month",
         "Adult time a business group's meetings and plan take a member in programme year 2 (enters time_burden)" +
             when_on + "; prior range 4-16",
         assumption);
  v.real("haku_winay.business_counterpart_share", business_counterpart_share, {0, 1}, "share of the prize",
         "Counterpart the members of a funded group pay before their business starts, split equally among them, "
         "from cash above the reserve or credit; a group that cannot pay starts late (economy.liquidity.enabled; "
         "prior range 0-0.3)",
         "Assumption from the counterpart contributions FONCODES asks of business groups (" + design + ")");
  v.borrow("economy.graduation.enabled", graduation);
  v.borrow("economy.liquidity.enabled", liquidity);
  v.borrow("haku_winay.complement_share", complement_share);
  v.borrow("time_use.adult_hours_per_month", adult_hours_per_month);

  // Constraints across parameters (coaching's after these).
  v.constraint(
      "haku_winay.cohort_years_ordered",
      [](const HakuWinayParams& p) -> std::optional<std::string> {
        if (p.first_cohort_year > p.last_cohort_year)
          return "haku_winay.first_cohort_year must not be after haku_winay.last_cohort_year";
        return std::nullopt;
      },
      first_cohort_year, last_cohort_year);
  v.constraint(
      "haku_winay.nucleus_bounds_ordered",
      [](const HakuWinayParams& p) -> std::optional<std::string> {
        if (p.nucleus_min_participants > p.nucleus_max_participants)
          return "haku_winay.nucleus_min_participants must not exceed nucleus_max_participants";
        return std::nullopt;
      },
      nucleus_min_participants, nucleus_max_participants);
  for (std::size_t y = 0; y < 3; ++y) {
    const std::string lo = std::string("haku_winay.visits_") + year_names[y] + "_min";
    const std::string hi = std::string("haku_winay.visits_") + year_names[y] + "_max";
    v.constraint(
        lo + "_not_above_max",
        [y, lo, hi](const HakuWinayParams& p) -> std::optional<std::string> {
          if (p.visits_min[y] > p.visits_max[y]) return lo + " must not exceed " + hi;
          return std::nullopt;
        },
        visits_min[y], visits_max[y]);
  }
  v.constraint(
      "haku_winay.business_shares_sum_to_one",
      [](const HakuWinayParams& p) { return sums_to_one(p.business_share, "haku_winay.business_share.*"); },
      business_share[0], business_share[1], business_share[2], business_share[3], business_share[4],
      business_share[5], business_share[6]);

  coaching.describe(v);
}

template <class V>
void CoachingParams::describe(V& v) {
  const std::string assumption = "Assumption (docs/calibration.md, Haku Winay)";
  const std::string pilot = "IEP/UC Davis soft-skills coaching pilot with the 2017 HW cohort (Rural Synergies Peru brief)";
  v.boolean("coaching.enabled", enabled, "Offer soft-skills coaching to HW households",
            "Scenario choice: the optional add-on of the " + pilot);
  v.real("coaching.saturation", saturation, {0, 1}, "share of participants",
         "Share of HW participants in a coached centre who are offered coaching",
         pilot + ": offered to 50% of households");
  v.real("coaching.centre_share", centre_share, {0, 1}, "share of HW centres", "Share of HW centres where coaching is offered",
         pilot + ": 13 centres");
  v.real("coaching.attendance", attendance, {0, 1}, "share of offered",
         "Offered households attending at least four sessions (coached)", pilot + ": 84% attended 4+ sessions");
  v.integer("coaching.start_month", start_month, {0, 35}, "months since HW start", "First month of the coaching sessions",
            assumption);
  v.integer("coaching.duration_months", duration_months, {1, 36}, "months", "Months over which the sessions run",
            assumption);
  v.real("coaching.cost_per_offered_household_pen", cost_per_offered_household_pen, {0, 100000}, "PEN",
         "Coaching cost per offered household", assumption);
  v.real("coaching.practice_push", practice_push, {0, 1}, "probability per month",
         "Extra monthly adoption hazard on each practice in a coached household's plan",
         pilot + ": coaching acts on the practices a household put in its plan; size assumed");
  v.integer("coaching.push_months", push_months, {0, 240}, "months", "Months the push lasts after the sessions end",
            assumption);
  v.real("coaching.locus_gain", locus_gain, {-5, 5}, "z-score", "Gain in locus of control of coached households",
         pilot + ": coaching acts through aspirations and locus of control; size assumed");
  v.real("coaching.spillover", spillover, {0, 1}, "share",
         "Uncoached households in a coached centre get this share of the practice push, times the coached share",
         "Assumption: spillovers to uncoached neighbours, a parameter to explore");
  v.real("coaching.business_plan_score", business_plan_score, {-10, 10}, "score per share",
         "CLAR score added per unit share of group members with a small-business goal", assumption);
  for (std::size_t k = 0; k < kCoachingPlanCount; ++k) {
    const std::string goal = kCoachingPlanNames[k];
    v.real("coaching.plan_share_" + goal, plan_share[k], {0, 1}, "share of plans",
           "Share of coached households whose goal is " + goal,
           k == 0 ? pilot + ": guinea-pig production in nearly 30% of plans" : assumption);
  }
  v.constraint(
      "coaching.plan_shares_sum_to_one",
      [](const CoachingParams& p) { return sums_to_one(p.plan_share, "coaching.plan_share_*"); }, plan_share[0],
      plan_share[1], plan_share[2], plan_share[3]);
}

HakuWinayParams HakuWinayParams::from(const ParamSet& params) {
  HakuWinayParams p = read_params<HakuWinayParams>(params);
  p.rule = p.rule.with_preset(p.rule.chosen);
  return p;
}

void HakuWinay::register_params(Registry& r) { declare_params<HakuWinayParams>(r); }

double HakuWinayParams::expected_capped_cost_pen() const {
  double cost = 0.0;
  for (int k = 0; k < kTechCount; ++k)
    cost += asset_take_share[static_cast<std::size_t>(k)] * asset_cost_pen[static_cast<std::size_t>(k)];
  for (int y = 0; y < 3; ++y)
    cost += 12.0 * 0.5 * (visits_min[static_cast<std::size_t>(y)] + visits_max[static_cast<std::size_t>(y)]) *
            trainer_cost_per_visit_pen;
  cost += fin_ed_attendance * fin_ed_cost_pen;
  return std::min(cost, budget_cap_per_household_pen);
}

double HakuWinayParams::expected_cost_per_participant_pen(int cohort_year) const {
  double cost = expected_capped_cost_pen();
  cost += group_join_prob * clar_award_share * prize_pen(cohort_year) / std::max(group_mean_size, 1.0);
  if (coaching.enabled) cost += coaching.centre_share * coaching.saturation * coaching.cost_per_offered_household_pen;
  return cost * (1.0 + admin_share);
}

double HakuWinayParams::expected_complement_pen(std::uint16_t menu) const {
  if (!liquidity) return 0.0;
  double spend = 0.0;
  for (std::size_t k = 0; k < kTechCount; ++k)
    if ((menu >> k) & 1u) spend += asset_take_share[k] * asset_cost_pen[k];
  return complement_share * spend;
}

TakeupResponse HakuWinayParams::takeup_response() const {
  return {takeup_intercept,      takeup_farm_labour_logit, takeup_juntos_logit,    takeup_locus_logit,
          takeup_labour_logit,   takeup_distance_logit,    takeup_liquidity_logit, takeup_interest_sd};
}

// ---------------------------------------------------------------------------------------------------------
// Module state and setup.

struct HakuWinay::State {
  std::vector<HwNucleus> nuclei;
  std::vector<HwGroup> groups;
  std::vector<std::uint32_t> members;
  std::vector<HwBusiness> businesses;
  std::vector<std::int32_t> centre_nucleus;      // -1: never in HW
  // Graduation route: the nuclei each centre has hosted, oldest first (a centre hosts a cohort whenever it has
  // newly entitled households); households ever entitled (held households); each district's first year.
  std::vector<std::vector<std::int32_t>> centre_cohorts;
  std::vector<std::uint8_t> entitled_ever;
  std::vector<int> district_first_year;
  std::vector<std::uint8_t> coaching_centre;     // coaching offered in the centre (drawn at coaching start)
  // 1 when some household of the centre may hold a nonzero monthly flow (visits, costs, business profit) or
  // support flag since stages last reset them; 0 when all are zero, so stages need not write them again.
  std::vector<std::uint8_t> flows_written;
  std::vector<double> priority_key;              // random rollout order, fixed for the run
  std::vector<std::uint32_t> market_count;       // district x business type, scratch of the business phase
  // Business groups numbered so far over the whole population (hw_group). Equal to groups.size() in a whole
  // world; in a world split by districts `groups` holds only the groups of this process's nuclei.
  std::uint64_t group_ids = 0;
};

HakuWinay::HakuWinay() : state_(std::make_unique<State>()) {}
HakuWinay::~HakuWinay() = default;

const std::vector<HwNucleus>& HakuWinay::nuclei() const { return state_->nuclei; }
const std::vector<HwGroup>& HakuWinay::groups() const { return state_->groups; }
const std::vector<std::uint32_t>& HakuWinay::group_members() const { return state_->members; }
const std::vector<HwBusiness>& HakuWinay::businesses() const { return state_->businesses; }

void HakuWinay::setup(World& world, const ParamSet& params, const rng::StreamSeed& seed) {
  p_ = HakuWinayParams::from(params);
  credit_ = CreditTerms::from(params);
  business_ = BusinessParams::from(params);
  add_shared_columns(world);
  *state_ = State{};

  auto& h = world.households;
  auto* cohort = h.add(col::hw_cohort);
  h.add(col::hw_stage);
  h.add(col::hw_participant);
  h.add(col::hw_offered);
  h.add(col::hw_visits);
  auto* hh_nucleus = h.add(col::hw_nucleus);
  auto* group = h.add(col::hw_group);
  h.add(col::hw_award);
  h.add(col::business_type);
  h.add(col::business_status);
  h.add(col::coached);
  h.add(col::coaching_offered);
  h.add(col::coaching_plan);
  h.add(col::hw_asset_spend_pen);
  h.add(col::hw_capped_spend_pen);
  h.add(col::cost_hw_assets_pen);
  h.add(col::cost_hw_trainers_pen);
  h.add(col::cost_hw_prizes_pen);
  h.add(col::cost_hw_coaching_pen);
  h.add(col::cost_hw_admin_pen);
  h.add(col::cost_hw_pen);
  for (std::size_t i = world.household_begin(); i < world.household_end(); ++i) {
    cohort[i] = -1;
    group[i] = -1;
    hh_nucleus[i] = -1;
  }

  auto& c = world.centres;
  auto* eligible = c.add(col::centre_hw_eligible);
  auto* selected = c.add(col::centre_hw_selected_year);
  auto* reached = c.add(col::centre_hw_reached_year);
  auto* nucleus = c.add(col::centre_hw_nucleus);
  auto* spill = c.add(col::centre_hw_spill_in);
  const std::size_t nc = c.rows();
  state_->centre_nucleus.assign(nc, -1);
  state_->coaching_centre.assign(nc, 0);
  state_->flows_written.assign(nc, 1);  // unknown until the first reset
  state_->priority_key.resize(nc);
  state_->centre_cohorts.assign(nc, {});
  state_->entitled_ever.assign(world.household_end(), 0);
  // The staggered rollout: each district's wave from a key drawn per district (the same in every arm).
  const std::size_t nd = world.districts.rows();
  state_->district_first_year.assign(nd, p_.first_cohort_year);
  for (std::size_t d = 0; d < nd && p_.district_waves > 1; ++d) {
    const double u = seed.open(kWaveDomain, 0, d).uniform();
    state_->district_first_year[d] =
        p_.first_cohort_year + std::min(p_.district_waves - 1, static_cast<int>(u * p_.district_waves));
  }
  const auto profiles = centre_profiles(world, p_.rule);
  for (std::size_t ci = 0; ci < nc; ++ci) {
    selected[ci] = -1;
    reached[ci] = -1;
    nucleus[ci] = -1;
    spill[ci] = 0;
    eligible[ci] = world.holds_centre(ci) && centre_eligible(p_.rule, profiles[ci]) ? 1 : 0;
    state_->priority_key[ci] = seed.open(kPriorityDomain, 0, ci).uniform();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Phases.

Phase HakuWinay::rollout_phase() const {
  // Cohorts are selected in January only (rollout() returns at once in any other month).
  return Phase::serial("haku_winay.rollout", [this](World& w, const StepContext& ctx) { rollout(w, ctx); })
      .idle_when([](const StepContext& ctx) { return ctx.month_of_year() != 1; });
}
Phase HakuWinay::stages_phase() const {
  return Phase::per_block("haku_winay.stages",
                          [this](World& w, const StepContext& ctx, const Block& b) { stages(w, ctx, b); });
}
Phase HakuWinay::competition_phase() const {
  // Groups form 12 months and the CLAR judges 23 months after a nucleus starts; the nucleus list is the same on
  // every process of a split world, so all of them skip the same months (competition() sums across them).
  return Phase::serial("haku_winay.competition", [this](World& w, const StepContext& ctx) { competition(w, ctx); })
      .idle_when([this](const StepContext& ctx) {
        if (!p_.enabled) return true;
        // With the liquidity channel, funded groups still owing their counterpart try to pay every month.
        if (p_.liquidity && std::any_of(state_->businesses.begin(), state_->businesses.end(),
                                        [](const HwBusiness& b) { return b.start_month == kAwaitingCounterpart; }))
          return false;
        for (const HwNucleus& nu : state_->nuclei)
          if (ctx.month - nu.start_month == 12 || ctx.month - nu.start_month == 23) return false;
        return true;
      });
}
Phase HakuWinay::business_phase() const {
  // Without a business (before the first CLAR, or on a process whose districts funded none) business() does
  // nothing and takes part in no collective step.
  return Phase::serial("haku_winay.business", [this](World& w, const StepContext& ctx) { business(w, ctx); })
      .idle_when([this](const StepContext&) { return state_->businesses.empty(); });
}

namespace {

// Whether a household of a selected centre is offered HW under the household rule.
struct OfferRule {
  HwHouseholdOffer rule;
  int window;
  const std::uint8_t* juntos;
  const std::int16_t* ages;
  bool operator()(std::uint32_t i) const {
    if (rule == HwHouseholdOffer::all) return true;
    if (juntos == nullptr || juntos[i] == 0) return false;
    if (rule == HwHouseholdOffer::juntos_only) return true;
    const int left = months_to_juntos_age_out(ages + static_cast<std::size_t>(i) * kMaxMembers);
    return left >= 0 && left <= window;
  }
};

OfferRule offer_rule(const HakuWinayParams& p, const World& w) {
  const auto& h = w.households;
  return {p.household_offer, p.exit_window_months,
          h.has(col::juntos_enrolled) ? h.get(col::juntos_enrolled) : nullptr,
          h.has(col::member_age_months) ? h.get(col::member_age_months) : nullptr};
}

// The nucleus's technology menu: by priority (raised for sheds and Andean crops by market access), only
// the technologies that suit the area, while the expected asset spend per household (take-up share times
// cost) fits the per-household allowance; each delivery is checked against the allowance again.
std::uint16_t choose_menu(const HakuWinayParams& p, double water_share, double altitude_m, double mean_land_ha,
                          double market_access, double asset_budget) {
  std::array<double, kTechCount> score = kMenuPriority;
  score[tech_index(Tech::small_animal_shed)] += 0.1 * market_access;
  score[tech_index(Tech::improved_andean_crops)] += 0.1 * market_access;
  if (water_share < p.sprinkler_min_water_share) score[tech_index(Tech::sprinkler_irrigation)] = -1.0;
  if (altitude_m < p.pasture_min_altitude_m && mean_land_ha < p.pasture_min_mean_land_ha)
    score[tech_index(Tech::cultivated_pasture)] = -1.0;
  std::array<int, kTechCount> order;
  for (int k = 0; k < kTechCount; ++k) order[static_cast<std::size_t>(k)] = k;
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return score[static_cast<std::size_t>(a)] > score[static_cast<std::size_t>(b)]; });
  std::uint16_t menu = 0;
  double spent = 0.0;
  for (int k : order) {
    if (score[static_cast<std::size_t>(k)] < 0.0) continue;
    const double cost = p.asset_take_share[static_cast<std::size_t>(k)] * p.asset_cost_pen[static_cast<std::size_t>(k)];
    if (spent + cost > asset_budget + kEps) continue;
    spent += cost;
    menu = static_cast<std::uint16_t>(menu | (1u << k));
  }
  return menu;
}

}  // namespace

void HakuWinay::rollout(World& w, const StepContext& ctx) const {
  if (ctx.month_of_year() != 1) return;
  State& s = *state_;
  const int year = ctx.year();
  const std::size_t nc = w.centre_count();
  auto& c = w.centres;
  auto* eligible_col = c.get(col::centre_hw_eligible);
  auto profiles = centre_profiles(w, p_.rule);
  for (std::size_t ci = w.centre_begin(); ci < w.centre_end(); ++ci)
    eligible_col[ci] = centre_eligible(p_.rule, profiles[ci]) ? 1 : 0;
  if (!p_.enabled || year < p_.first_cohort_year || year > p_.last_cohort_year) return;

  auto* selected_year = c.get(col::centre_hw_selected_year);
  auto* reached_year = c.get(col::centre_hw_reached_year);
  auto* nucleus_col = c.get(col::centre_hw_nucleus);
  auto* spill_col = c.get(col::centre_hw_spill_in);
  const auto* c_district = c.get(col::centre_district);
  const auto* c_altitude = c.get(col::centre_altitude_m);
  const auto* c_market = c.get(col::centre_market_access);
  const auto* water = w.households.get(col::water_access);
  const auto* land = w.households.get(col::land_ha);

  // Households offered HW in each centre (the quota's unit): under the graduation route the households
  // entitled this January (never offered before, in a district whose wave has come, and within the window
  // before the expected end of Juntos or after an admitted exit).
  const OfferRule offered_household = offer_rule(p_, w);
  std::vector<std::uint8_t> entitled;
  std::int32_t* hh_nucleus = w.households.get(col::hw_nucleus);
  const auto& h = w.households;
  const bool exit_route = p_.selection == HwSelection::juntos_exit;
  const bool has_juntos = h.has(col::juntos_enrolled);
  const std::uint8_t* enrolled = has_juntos ? h.get(col::juntos_enrolled) : nullptr;
  const bool has_exits = h.has(col::juntos_exit_month);  // the Juntos module's columns
  const std::int32_t* exit_month = has_exits ? h.get(col::juntos_exit_month) : nullptr;
  const std::uint8_t* exit_reason = has_exits ? h.get(col::juntos_exit_reason) : nullptr;
  const std::int16_t* ages = exit_route ? h.get(col::member_age_months) : nullptr;
  const std::uint8_t* done = exit_route ? h.get(col::member_secondary_done) : nullptr;
  const auto* pregnancy = exit_route ? h.get(col::pregnancy_month) : nullptr;
  const int limit_months = 12 * p_.juntos_max_child_age_years;
  const int secondary_months = 12 * p_.secondary_completion_age_years;
  auto is_entitled = [&](std::uint32_t i) {
    if (!has_juntos || hh_nucleus[i] >= 0) return false;
    if (enrolled[i]) {
      const int left = months_to_juntos_end(ages + static_cast<std::size_t>(i) * kMaxMembers,
                                            done + static_cast<std::size_t>(i) * kMaxMembers, pregnancy[i] > 0,
                                            limit_months, secondary_months);
      return left >= 0 && left <= p_.exit_window_before_months;
    }
    if (!has_exits) return false;
    const bool admitted = p_.exit_reasons == HwExitReasons::any ||
                          exit_reason[i] == static_cast<std::uint8_t>(JuntosExitReason::aged_out);
    return exit_month[i] >= 0 && admitted && ctx.month - exit_month[i] <= p_.exit_window_after_months;
  };
  auto district_open = [&](std::uint32_t d) { return year >= s.district_first_year[d]; };
  if (exit_route) entitled.assign(w.household_end(), 0);
  // Centres are independent (whole integer counts): parallel, the same result on any thread count.
  std::vector<double> offered(nc, 0.0);
  parallel_for(w.centre_begin(), w.centre_end(), 1, [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t ci = r.begin(); ci != r.end(); ++ci) {
      std::uint32_t n = 0;
      if (exit_route) {
        if (!district_open(c_district[ci])) continue;
        for (std::uint32_t i = w.centre_first[ci]; i < w.centre_first[ci + 1]; ++i) {
          entitled[i] = is_entitled(i) ? 1 : 0;
          s.entitled_ever[i] |= entitled[i];
          n += entitled[i];
        }
      } else {
        for (std::uint32_t i = w.centre_first[ci]; i < w.centre_first[ci + 1]; ++i) n += offered_household(i) ? 1u : 0u;
      }
      offered[ci] = n;
    }
  });
  // The cohort is chosen nationally: every process gets what the selection reads of every centre (the only
  // household-derived inputs below) and runs the same selection and nucleus formation on the whole list, so
  // the nuclei and their numbering are the same everywhere (a world split by districts, World::split()).
  w.share_by_centre(std::span<std::uint8_t>(eligible_col, nc));
  w.share_by_centre(offered);
  w.share_by_centre(profiles);
  double eligible_total = 0.0;
  for (std::size_t ci = 0; ci < nc; ++ci)
    if (eligible_col[ci] || exit_route) eligible_total += offered[ci];
  double quota = 0.0;
  const double cost_per_participant = p_.expected_cost_per_participant_pen(year);
  switch (p_.rollout_limit) {
    case HwRolloutLimit::eligible_share: quota = p_.eligible_share_per_year * eligible_total; break;
    case HwRolloutLimit::households: quota = p_.households_per_year; break;
    case HwRolloutLimit::budget: quota = p_.budget_pen_per_year; break;
  }
  auto centre_cost = [&](std::size_t ci) {
    return p_.rollout_limit == HwRolloutLimit::budget ? offered[ci] * p_.takeup_rate * cost_per_participant
                                                      : offered[ci];
  };

  // Candidates in priority order (ties by centre index), then greedy: a centre starts if it fits the
  // remaining quota, else it is skipped for this year.
  std::vector<std::uint32_t> candidates;
  for (std::size_t ci = 0; ci < nc; ++ci)
    if (exit_route ? offered[ci] > 0
                   : eligible_col[ci] && selected_year[ci] < 0 && reached_year[ci] < 0 && offered[ci] > 0 &&
                         district_open(c_district[ci]))
      candidates.push_back(static_cast<std::uint32_t>(ci));
  const bool by_juntos = p_.rule.rank_by_juntos_share || p_.priority == HwPriority::juntos_share;
  std::stable_sort(candidates.begin(), candidates.end(), [&](std::uint32_t a, std::uint32_t b) {
    if (by_juntos) return profiles[a].juntos_share > profiles[b].juntos_share;
    if (p_.priority == HwPriority::ubn_share) return profiles[a].ubn_share > profiles[b].ubn_share;
    return s.priority_key[a] < s.priority_key[b];
  });
  std::vector<std::uint32_t> chosen;
  double used = 0.0;
  for (std::uint32_t ci : candidates) {
    const double cost = centre_cost(ci);
    if (used + cost > quota + kEps) continue;
    used += cost;
    chosen.push_back(ci);
  }
  std::sort(chosen.begin(), chosen.end());

  // Executing nuclei: neighbouring (consecutive) selected centres of a district, gathered until they expect
  // nucleus_min_participants; a centre that would take a nucleus above the maximum opens a new one; a
  // district's short last nucleus joins the previous one if that stays within the maximum. A centre that
  // alone expects more than the maximum hosts several nuclei over contiguous neighbourhoods (household
  // ranges). Households belong to a nucleus through the household column hw_nucleus.
  const int start_month = ctx.month + p_.start_month_of_year - 1;
  const std::size_t first_new = s.nuclei.size();
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ranges;  // household range of new nuclei, {0,0}: whole centres
  std::optional<HwNucleus> open;
  auto new_nucleus = [&](std::uint32_t district) {
    HwNucleus nu;
    nu.cohort_year = year;
    nu.start_month = start_month;
    nu.district = district;
    return nu;
  };
  auto close = [&]() {
    if (!open) return;
    HwNucleus* prev = s.nuclei.size() > first_new ? &s.nuclei.back() : nullptr;
    if (prev != nullptr && ranges.back().second == 0 && open->expected_participants < p_.nucleus_min_participants &&
        prev->district == open->district &&
        prev->expected_participants + open->expected_participants <= p_.nucleus_max_participants + kEps) {
      prev->centres.insert(prev->centres.end(), open->centres.begin(), open->centres.end());
      prev->expected_participants += open->expected_participants;
    } else {
      s.nuclei.push_back(std::move(*open));
      ranges.emplace_back(0, 0);
    }
    open.reset();
  };
  for (std::uint32_t ci : chosen) {
    const double e = offered[ci] * p_.takeup_rate;
    if (e > p_.nucleus_max_participants + kEps) {
      close();
      const auto k = static_cast<std::uint32_t>(std::ceil(e / std::max(p_.nucleus_max_participants, 1.0)));
      const std::uint32_t h0 = w.centre_first[ci], rows = w.centre_first[ci + 1] - h0;
      for (std::uint32_t j = 0; j < k; ++j) {
        HwNucleus nu = new_nucleus(c_district[ci]);
        nu.centres.push_back(ci);
        nu.expected_participants = e / k;
        s.nuclei.push_back(std::move(nu));
        ranges.emplace_back(h0 + static_cast<std::uint32_t>(std::uint64_t{rows} * j / k),
                            h0 + static_cast<std::uint32_t>(std::uint64_t{rows} * (j + 1) / k));
      }
      continue;
    }
    if (open && (open->district != c_district[ci] ||
                 open->expected_participants + e > p_.nucleus_max_participants + kEps))
      close();
    if (!open) open = new_nucleus(c_district[ci]);
    open->centres.push_back(ci);
    open->expected_participants += e;
    if (open->expected_participants >= p_.nucleus_min_participants) close();
  }
  close();

  // Menus, and the programme columns of the centres and households (under the graduation route only the
  // entitled households join the nucleus).
  double reserved = p_.fin_ed_cost_pen;
  for (int y = 0; y < 3; ++y)
    reserved += 12.0 * 0.5 * (p_.visits_min[static_cast<std::size_t>(y)] + p_.visits_max[static_cast<std::size_t>(y)]) *
                p_.trainer_cost_per_visit_pen;
  const double asset_budget = std::max(0.0, p_.budget_cap_per_household_pen - reserved);
  for (std::size_t n = first_new; n < s.nuclei.size(); ++n) {
    HwNucleus& nu = s.nuclei[n];
    const auto [r0, r1] = ranges[n - first_new];
    // A nucleus lies in one district: its households (and its menu, read only by them) are held by the
    // process that holds the district; every process records the centres' programme columns.
    const bool here = w.holds_district(nu.district);
    double rows = 0, water_n = 0, land_sum = 0, altitude = 0, market = 0;
    for (std::uint32_t ci : nu.centres) {
      const std::uint32_t h0 = r1 > 0 ? r0 : w.centre_first[ci], h1 = r1 > 0 ? r1 : w.centre_first[ci + 1];
      double r = exit_route ? 0.0 : h1 - h0;
      for (std::uint32_t i = h0; here && i < h1; ++i) {
        if (exit_route && !entitled[i]) continue;
        water_n += water[i];
        land_sum += land[i];
        hh_nucleus[i] = static_cast<std::int32_t>(n);
        if (exit_route) r += 1.0;
      }
      rows += r;
      altitude += r * c_altitude[ci];
      market += r * c_market[ci];
      selected_year[ci] = static_cast<std::int16_t>(year);
      if (reached_year[ci] < 0) reached_year[ci] = static_cast<std::int16_t>(year);
      if (exit_route) s.centre_cohorts[ci].push_back(static_cast<std::int32_t>(n));
      if (s.centre_nucleus[ci] < 0) {
        nucleus_col[ci] = static_cast<std::int32_t>(n);
        s.centre_nucleus[ci] = static_cast<std::int32_t>(n);
      }
    }
    const double denom = std::max(rows, 1.0);
    nu.asset_budget_pen = asset_budget;
    nu.menu = here ? choose_menu(p_, water_n / denom, altitude / denom, land_sum / denom, market / denom, asset_budget)
                   : std::uint16_t{0};
  }

  // Imperfect assignment: non-selected centres just below the UBN threshold, in a district with a new
  // nucleus, join the nucleus with the nearest centre; each household is reached with spill_in_share.
  if (p_.spill_in_share > 0.0 && !exit_route && s.nuclei.size() > first_new) {
    const double hi = p_.rule.min_ubn_share, lo = hi - p_.spill_in_band;
    for (std::size_t ci = 0; ci < nc; ++ci) {
      if (selected_year[ci] >= 0 || reached_year[ci] >= 0) continue;
      if (!(profiles[ci].ubn_share >= lo && profiles[ci].ubn_share < hi)) continue;
      std::int64_t best = -1, best_dist = std::numeric_limits<std::int64_t>::max();
      for (std::size_t n = first_new; n < s.nuclei.size(); ++n) {
        if (s.nuclei[n].district != c_district[ci]) continue;
        for (std::uint32_t cj : s.nuclei[n].centres) {
          const std::int64_t dist = std::llabs(static_cast<std::int64_t>(cj) - static_cast<std::int64_t>(ci));
          if (dist < best_dist) {
            best_dist = dist;
            best = static_cast<std::int64_t>(n);
          }
        }
      }
      if (best < 0) continue;
      auto& centres = s.nuclei[static_cast<std::size_t>(best)].centres;
      centres.insert(std::upper_bound(centres.begin(), centres.end(), static_cast<std::uint32_t>(ci)),
                     static_cast<std::uint32_t>(ci));
      for (std::uint32_t i = w.centre_first[ci]; w.holds_centre(ci) && i < w.centre_first[ci + 1]; ++i)
        hh_nucleus[i] = static_cast<std::int32_t>(best);
      reached_year[ci] = static_cast<std::int16_t>(year);
      nucleus_col[ci] = static_cast<std::int32_t>(best);
      spill_col[ci] = 1;
      s.centre_nucleus[ci] = static_cast<std::int32_t>(best);
    }
  }
}

void HakuWinay::stages(World& w, const StepContext& ctx, const Block& block) const {
  auto& h = w.households;
  float* visits_col = h.get(col::hw_visits);
  float* cost_assets = h.get(col::cost_hw_assets_pen);
  float* cost_trainers = h.get(col::cost_hw_trainers_pen);
  float* cost_prizes = h.get(col::cost_hw_prizes_pen);
  float* cost_coaching = h.get(col::cost_hw_coaching_pen);
  float* cost_admin = h.get(col::cost_hw_admin_pen);
  float* cost_total = h.get(col::cost_hw_pen);
  float* profit = h.get(col::business_profit_pen);
  std::uint8_t* support = h.get(col::support_active);
  std::uint8_t* hw_active = w.centres.get(col::centre_hw_active);
  State& s = *state_;
  // The month's first uniforms of a household's visits and financial-education streams (StreamSeed::open's first
  // uniform), with what does not depend on the household computed once.
  const rng::FirstBlocks visit_draws(ctx.seed, kVisitsDomain, static_cast<std::uint64_t>(ctx.month));
  const rng::FirstBlocks fin_ed_draws(ctx.seed, kFinancialEducationDomain, static_cast<std::uint64_t>(ctx.month));
  // The month's flows start at zero. Only centres where something was written since the last reset are
  // written again: most households never take part, and rewriting their nine zeros every month was most
  // of this phase's time (stores to lines that are not in cache). The values are the same either way.
  for (std::uint32_t ci = block.centre_begin; ci < block.centre_end; ++ci) {
    hw_active[ci] = 0;
    if (!s.flows_written[ci]) continue;
    s.flows_written[ci] = 0;
    for (std::uint32_t i = w.centre_first[ci]; i < w.centre_first[ci + 1]; ++i) {
      visits_col[i] = 0.0f;
      cost_assets[i] = cost_trainers[i] = cost_prizes[i] = cost_coaching[i] = cost_admin[i] = cost_total[i] = 0.0f;
      profit[i] = 0.0f;
      support[i] = 0;
    }
  }
  if (!p_.enabled) return;

  std::int16_t* cohort = h.get(col::hw_cohort);
  std::uint8_t* stage = h.get(col::hw_stage);
  std::uint8_t* participant = h.get(col::hw_participant);
  std::uint8_t* offered = h.get(col::hw_offered);
  std::uint8_t* coached = h.get(col::coached);
  std::uint8_t* offered_coaching = h.get(col::coaching_offered);
  std::uint8_t* plan = h.get(col::coaching_plan);
  float* asset_spend = h.get(col::hw_asset_spend_pen);
  float* capped_spend = h.get(col::hw_capped_spend_pen);
  float* push = h.get(col::adoption_push);
  std::uint8_t* delivered = h.get(col::asset_delivered);
  float* saving_boost = h.get(col::saving_boost);
  float* locus = h.get(col::locus_of_control);
  const float* farm = h.get(col::farm_labour_share);
  const float* land = h.get(col::land_ha);
  const std::uint8_t* water = h.get(col::water_access);
  const std::uint8_t* juntos = h.has(col::juntos_enrolled) ? h.get(col::juntos_enrolled) : nullptr;
  const std::int32_t* hh_nucleus = h.get(col::hw_nucleus);
  const auto* c_district = w.centres.get(col::centre_district);
  const auto* c_spill = w.centres.get(col::centre_hw_spill_in);
  const auto* region = w.districts.get(col::district_region);
  const OfferRule offer_rule_of_centre = offer_rule(p_, w);
  const bool exit_route = p_.selection == HwSelection::juntos_exit;
  const CoachingParams& cp = p_.coaching;
  const double cap = p_.budget_cap_per_household_pen;
  const double interest_sd = p_.takeup_interest_sd;
  const double intercept =
      logit(p_.takeup_rate) * std::sqrt(1.0 + std::numbers::pi * interest_sd * interest_sd / 8.0);
  // The graduation channel's inputs (take-up, attendance, programme time).
  const bool graduation = p_.graduation;
  const TakeupResponse response = p_.takeup_response();
  const auto* c_market = w.centres.get(col::centre_market_access);
  const std::int16_t* ages = h.get(col::member_age_months);
  const float* cash = graduation ? h.get(col::cash_pen) : nullptr;
  float* time_burden = graduation ? h.get(col::time_burden) : nullptr;
  const std::int32_t* group = h.get(col::hw_group);

  for (std::uint32_t ci = block.centre_begin; ci < block.centre_end; ++ci) {
    // The centre's cohorts: its one nucleus, or under the graduation route every nucleus it has hosted (each
    // with its own households, hw_nucleus).
    const std::int32_t first = s.centre_nucleus[ci];
    if (first < 0) continue;
    const std::span<const std::int32_t> hosted =
        exit_route ? std::span<const std::int32_t>(s.centre_cohorts[ci]) : std::span<const std::int32_t>(&first, 1);
    for (const std::int32_t n : hosted) {
      const HwNucleus& nu = s.nuclei[static_cast<std::size_t>(n)];
      const int m = ctx.month - nu.start_month;
      // Who this cohort offers HW to, and whose programme months these are.
      const auto offered_household = [&](std::uint32_t i) {
        return exit_route ? hh_nucleus[i] == n : offer_rule_of_centre(i);
      };
      if (m < 0) continue;
      if (m < 36) hw_active[ci] = s.flows_written[ci] = 1;  // participants get support, visits and costs
      const std::uint32_t h0 = w.centre_first[ci], h1 = w.centre_first[ci + 1];
      const double rf = p_.region_effect[std::min<std::size_t>(region[c_district[ci]], 2)];

      // Take-up at the cohort's first month: covariates centred on the centre's offered households, so each
      // centre's expected take-up is takeup_rate (interest is integrated out by the probit approximation).
      // With the graduation channel take-up responds to labour, distance and liquidity around one
      // population-wide intercept instead (takeup_probability, models/haku_winay_rules.hpp).
      if (m == 0) {
        double farm_mean = 0, juntos_mean = 0, locus_mean = 0;
        if (!graduation) {
          double n_off = 0, farm_sum = 0, juntos_sum = 0, locus_sum = 0;
          for (std::uint32_t i = h0; i < h1; ++i) {
            if (!offered_household(i)) continue;
            n_off += 1;
            farm_sum += farm[i];
            juntos_sum += juntos != nullptr ? juntos[i] : 0;
            locus_sum += locus[i];
          }
          const double k = std::max(n_off, 1.0);
          farm_mean = farm_sum / k, juntos_mean = juntos_sum / k, locus_mean = locus_sum / k;
        }
        const double complement = graduation ? p_.expected_complement_pen(nu.menu) : 0.0;
        for (std::uint32_t i = h0; i < h1; ++i) {
          auto st = ctx.seed.open(kTakeupDomain, static_cast<std::uint64_t>(ctx.month), i);
          const double z = st.normal();
          const double u = st.uniform();
          if (!offered_household(i)) continue;
          offered[i] = 1;
          double p_take;
          if (c_spill[ci]) {
            p_take = p_.spill_in_share;
          } else if (graduation) {
            const TakeupHousehold household{farm[i], juntos != nullptr && juntos[i] != 0, locus[i],
                                            working_age_members(ages + static_cast<std::size_t>(i) * kMaxMembers),
                                            c_market[ci], cash[i], complement};
            p_take = takeup_probability(response, household, z);
          } else {
            const double j = juntos != nullptr ? juntos[i] : 0;
            p_take = logistic(intercept + p_.takeup_farm_labour_logit * (farm[i] - farm_mean) +
                              p_.takeup_juntos_logit * (j - juntos_mean) + p_.takeup_locus_logit * (locus[i] - locus_mean) +
                              interest_sd * z);
          }
          if (u < p_take) {
            participant[i] = 1;
            cohort[i] = static_cast<std::int16_t>(nu.cohort_year);
          }
        }
      }

      // Coaching: the centre is drawn at the first session month; coached shares by goal feed the spillover.
      const bool coaching_window = cp.enabled && m >= cp.start_month &&
                                   m < cp.start_month + cp.duration_months + cp.push_months;
      if (cp.enabled && m == cp.start_month) {
        const double u = ctx.seed.open(kCoachingCentreDomain, static_cast<std::uint64_t>(ctx.month), ci).uniform();
        state_->coaching_centre[ci] = u < cp.centre_share ? 1 : 0;
      }
      const bool coaching_here = coaching_window && s.coaching_centre[ci];
      std::array<double, kCoachingPlanCount + 1> coached_share{};
      if (coaching_here && cp.spillover > 0.0 && h1 > h0) {
        for (std::uint32_t i = h0; i < h1; ++i)
          if (coached[i]) coached_share[std::min<std::size_t>(plan[i], kCoachingPlanCount)] += 1.0;
        for (auto& v : coached_share) v /= static_cast<double>(h1 - h0);
      }
      const bool asset_month = m < 12 && std::find(kDeliveryMonth.begin(), kDeliveryMonth.end(), m) != kDeliveryMonth.end();

      // Coaching's spillover onto the centre's households that are not coached (before their own pushes,
      // household by household, as the sums' order requires).
      if (coaching_here && cp.spillover > 0.0) {
        for (std::uint32_t i = h0; i < h1; ++i) {
          if (coached[i]) continue;
          float* hp = push + static_cast<std::size_t>(i) * kTechCount;
          for (int g = 1; g <= kCoachingPlanCount; ++g) {
            int techs[2], nt;
            plan_techs(static_cast<CoachingPlan>(g), techs, nt);
            for (int t = 0; t < nt; ++t)
              hp[techs[t]] += static_cast<float>(cp.spillover * cp.practice_push * coached_share[static_cast<std::size_t>(g)]);
          }
        }
      }

      // The participants, listed without a branch (who takes part is as good as random, so a branch per
      // household would often be mispredicted), a chunk of households at a time.
      constexpr std::uint32_t kChunk = 256;
      std::array<std::uint32_t, kChunk> listed;
      for (std::uint32_t c0 = h0; c0 < h1; c0 += kChunk) {
        const std::uint32_t n_listed = rows::list_households(c0, std::min(h1, c0 + kChunk), listed.data(),
                                                             [&](std::uint32_t i) {
                                                               return participant[i] != 0 &&
                                                                      (!exit_route || hh_nucleus[i] == n);
                                                             });
        for (std::uint32_t li = 0; li < n_listed; ++li) {
          const std::uint32_t i = listed[li];
          float* hp = push + static_cast<std::size_t>(i) * kTechCount;
          const HwNucleus& hn = s.nuclei[static_cast<std::size_t>(hh_nucleus[i])];  // the household's own nucleus
          if (m >= 36) {
            stage[i] = static_cast<std::uint8_t>(HwStage::finished);
            if (coaching_here && coached[i]) {  // a coaching push outlasting the programme
              int techs[2], nt;
              plan_techs(static_cast<CoachingPlan>(plan[i]), techs, nt);
              for (int t = 0; t < nt; ++t) hp[techs[t]] += static_cast<float>(cp.practice_push);
            }
            continue;
          }
          const int year_idx = m / 12;
          stage[i] = static_cast<std::uint8_t>(year_idx + 1);
          support[i] = 1;
          double assets_cost = 0.0, trainers_cost = 0.0, coaching_cost = 0.0;
          double remaining = std::max(0.0, cap - capped_spend[i]);

          // Trainer visits, paid within the cap (the trainer's round is paid whether or not the household is in).
          // With the graduation channel the household receives fewer of them when other programme duties take
          // its time (Juntos's, set earlier this month, and its business group's meetings in year 2), and the
          // visits it receives add to its programme time.
          {
            const double u = visit_draws.uniform(i);
            const int lo = p_.visits_min[static_cast<std::size_t>(year_idx)], hi = p_.visits_max[static_cast<std::size_t>(year_idx)];
            int v = std::min(hi, lo + static_cast<int>(u * (hi - lo + 1)));
            if (p_.trainer_cost_per_visit_pen > 0.0)
              v = std::min(v, static_cast<int>(std::floor((remaining + kEps) / p_.trainer_cost_per_visit_pen)));
            v = std::max(v, 0);
            trainers_cost += v * p_.trainer_cost_per_visit_pen;
            remaining -= v * p_.trainer_cost_per_visit_pen;
            double received = v;
            if (graduation) {
              const int adults = working_age_members(ages + static_cast<std::size_t>(i) * kMaxMembers);
              const float meetings = year_idx == 1 && group[i] >= 0
                                         ? time_share(p_.group_meeting_hours_per_month, p_.adult_hours_per_month, adults)
                                         : 0.0f;
              const float other = time_burden[i] + meetings;
              received = visits_received(v, other, p_.attendance_time_effect);
              time_burden[i] = other + time_share(p_.visit_hours * received, p_.adult_hours_per_month, adults);
            }
            visits_col[i] = static_cast<float>(received);
            const float vp = static_cast<float>(p_.visit_push * received * rf);
            for (int k = 0; k < kTechCount; ++k)
              if (on_menu(hn.menu, k)) hp[k] += vp;
          }

          // Assets of year 1 at their delivery month, to households they suit, within the allowance and cap.
          std::uint8_t* hd = delivered + static_cast<std::size_t>(i) * kTechCount;
          if (asset_month) {
            auto st = ctx.seed.open(kAssetsDomain, static_cast<std::uint64_t>(ctx.month), i);
            std::array<double, kTechCount> u;
            for (auto& x : u) x = st.uniform();
            for (int k = 0; k < kTechCount; ++k) {
              if (kDeliveryMonth[static_cast<std::size_t>(k)] != m || !on_menu(hn.menu, k) || hd[k]) continue;
              if (k == tech_index(Tech::sprinkler_irrigation) && !water[i]) continue;
              if (k == tech_index(Tech::cultivated_pasture) && land[i] < p_.pasture_min_land_ha) continue;
              if (u[static_cast<std::size_t>(k)] >= p_.asset_take_share[static_cast<std::size_t>(k)]) continue;
              const double cost = p_.asset_cost_pen[static_cast<std::size_t>(k)];
              if (asset_spend[i] + assets_cost + cost > hn.asset_budget_pen + kEps || cost > remaining + kEps) continue;
              hd[k] = 1;
              assets_cost += cost;
              remaining -= cost;
            }
          }
          const float ap = static_cast<float>(p_.asset_push * rf);
          for (int k = 0; k < kTechCount; ++k)
            if (hd[k]) hp[k] += ap;

          // Year 3: financial education.
          if (m == 24) {
            const double u = fin_ed_draws.uniform(i);
            if (u < p_.fin_ed_attendance) {
              saving_boost[i] += static_cast<float>(p_.fin_ed_saving_boost);
              const double cost = std::min(p_.fin_ed_cost_pen, remaining);
              trainers_cost += cost;
              remaining -= cost;
            }
          }

          // Coaching: offer, attendance and goal at the first session month; cost over the sessions; push on the
          // goal's practices; locus of control at the end of the sessions.
          if (coaching_here) {
            if (m == cp.start_month) {
              auto st = ctx.seed.open(kCoachingDomain, static_cast<std::uint64_t>(ctx.month), i);
              const double u_offer = st.uniform(), u_attend = st.uniform(), u_plan = st.uniform();
              offered_coaching[i] = u_offer < cp.saturation ? 1 : 0;
              coached[i] = offered_coaching[i] && u_attend < cp.attendance ? 1 : 0;
              if (coached[i]) {
                int g = 0;
                double acc = 0.0;
                for (; g < kCoachingPlanCount - 1; ++g) {
                  acc += cp.plan_share[static_cast<std::size_t>(g)];
                  if (u_plan < acc) break;
                }
                plan[i] = static_cast<std::uint8_t>(g + 1);
              }
            }
            if (offered_coaching[i] && m < cp.start_month + cp.duration_months)
              coaching_cost += cp.cost_per_offered_household_pen / cp.duration_months;
            if (coached[i]) {
              int techs[2], nt;
              plan_techs(static_cast<CoachingPlan>(plan[i]), techs, nt);
              for (int t = 0; t < nt; ++t) hp[techs[t]] += static_cast<float>(cp.practice_push);
              if (m == cp.start_month + cp.duration_months - 1) locus[i] += static_cast<float>(cp.locus_gain);
            }
          }

          const double admin = p_.admin_share * (assets_cost + trainers_cost + coaching_cost);
          asset_spend[i] += static_cast<float>(assets_cost);
          capped_spend[i] = static_cast<float>(std::min<double>(cap, capped_spend[i] + assets_cost + trainers_cost));
          cost_assets[i] = static_cast<float>(assets_cost);
          cost_trainers[i] = static_cast<float>(trainers_cost);
          cost_coaching[i] = static_cast<float>(coaching_cost);
          cost_admin[i] = static_cast<float>(admin);
          cost_total[i] = cost_assets[i] + cost_trainers[i] + cost_coaching[i] + cost_admin[i];
        }
      }
    }
  }
}

void HakuWinay::competition(World& w, const StepContext& ctx) const {
  if (!p_.enabled) return;
  State& s = *state_;
  // Groups form in the first month of year 2. Their numbers (hw_group) run over the whole population in
  // nucleus order; in a world split by districts each process forms the groups of its own nuclei and the
  // counts are summed across processes (the nucleus list, hence which nuclei form groups, is the same on
  // every process), so that every process knows where each nucleus's numbers start.
  std::vector<std::uint32_t> forming;
  for (std::uint32_t n = 0; n < s.nuclei.size(); ++n)
    if (ctx.month - s.nuclei[n].start_month == 12) forming.push_back(n);
  if (!forming.empty()) {
    // Each nucleus's groups are planned in parallel (its draws are keyed by household), then appended to
    // the group list in nucleus order, as a serial loop would.
    std::vector<Groups> planned(forming.size());
    parallel_for(0, forming.size(), 1, [&](const tbb::blocked_range<std::size_t>& r) {
      for (std::size_t k = r.begin(); k != r.end(); ++k)
        if (w.holds_district(s.nuclei[forming[k]].district)) planned[k] = plan_groups(w, ctx, forming[k]);
    });
    std::vector<std::uint64_t> counts(forming.size(), 0);
    for (std::size_t k = 0; k < forming.size(); ++k)
      if (w.holds_district(s.nuclei[forming[k]].district)) counts[k] = add_groups(forming[k], planned[k]);
    w.comm().sum(counts);
    std::int32_t* group_col = w.households.get(col::hw_group);
    for (std::size_t k = 0; k < forming.size(); ++k) {
      HwNucleus& nu = s.nuclei[forming[k]];
      nu.first_group_id = static_cast<std::uint32_t>(s.group_ids);
      s.group_ids += counts[k];
      if (!w.holds_district(nu.district)) continue;
      for (std::uint32_t g = 0; g < nu.group_count; ++g) {
        const HwGroup& grp = s.groups[nu.first_group + g];
        for (std::uint8_t j = 0; j < grp.size; ++j)
          group_col[s.members[grp.first_member + j]] = static_cast<std::int32_t>(nu.first_group_id + g);
      }
    }
  }
  // The CLAR at the end of year 2, within each nucleus (a district): only the process holding it acts.
  // Nuclei are independent (their groups and members are their own), so their CLARs run in parallel; the
  // businesses they fund are appended in nucleus order, as a serial loop would.
  std::vector<std::uint32_t> judging;
  for (std::uint32_t n = 0; n < s.nuclei.size(); ++n)
    if (ctx.month - s.nuclei[n].start_month == 23 && w.holds_district(s.nuclei[n].district)) judging.push_back(n);
  std::vector<std::vector<HwBusiness>> funded(judging.size());
  parallel_for(0, judging.size(), 1, [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t k = r.begin(); k != r.end(); ++k) funded[k] = run_clar(w, ctx, judging[k]);
  });
  for (const auto& list : funded)
    for (const HwBusiness& b : list) {
      s.groups[b.group].business = static_cast<std::int32_t>(s.businesses.size());
      s.businesses.push_back(b);
    }
  if (p_.liquidity) collect_counterparts(w, ctx);
}

// The liquidity channel: each member of a funded group owes business_counterpart_share of the prize, split
// equally, before the business starts. Every month each member who has not paid yet pays if it can (cash above
// its reserve, then credit: finance::pay); the business starts the month after its last member has paid, so a
// group that cannot pay starts late and loses months of the programme's support. Businesses belong to their
// district, so only the process holding it acts; members of different businesses are different households.
void HakuWinay::collect_counterparts(World& w, const StepContext& ctx) const {
  State& s = *state_;
  if (std::none_of(s.businesses.begin(), s.businesses.end(),
                   [](const HwBusiness& b) { return b.start_month == kAwaitingCounterpart; }))
    return;
  auto& h = w.households;
  float* cash = h.get(col::cash_pen);
  float* debt = h.get(col::debt_pen);
  const float* permanent = h.get(col::permanent_income_pen);
  const finance::Accounts accounts{cash, debt, h.get(col::investment_pen), h.get(col::borrowed_pen)};
  std::uint8_t* bstatus = h.get(col::business_status);
  const auto reserve_months = static_cast<float>(credit_.reserve_months);
  for (HwBusiness& b : s.businesses) {
    if (b.start_month != kAwaitingCounterpart) continue;
    const HwGroup& grp = s.groups[b.group];
    const std::uint32_t* mem = s.members.data() + grp.first_member;
    const HwNucleus& nucleus = s.nuclei[grp.nucleus];
    const auto owed = static_cast<float>(p_.business_counterpart_share * p_.prize_pen(nucleus.cohort_year) / grp.size);
    const std::uint8_t everyone = static_cast<std::uint8_t>((1u << grp.size) - 1u);
    for (std::uint8_t j = 0; j < grp.size; ++j) {
      if ((b.counterpart_paid >> j) & 1u) continue;
      const std::uint32_t i = mem[j];
      const finance::Payment pay = finance::pay(cash[i], debt[i], credit_.limit(permanent[i]),
                                                reserve_months * std::max(0.0f, permanent[i]), owed,
                                                credit_.credit_for_investment);
      if (!pay.paid) continue;
      accounts.book(i, owed, pay);
      b.counterpart_paid = static_cast<std::uint8_t>(b.counterpart_paid | (1u << j));
    }
    if (b.counterpart_paid != everyone) continue;
    b.start_month = ctx.month + 1;
    for (std::uint8_t j = 0; j < grp.size; ++j) bstatus[mem[j]] = static_cast<std::uint8_t>(BusinessStatus::active);
  }
}

// Groups form by neighbourhood: consecutive joining participants of a centre; centres with fewer than three
// joiners pool them across the nucleus; one or two left over join the nucleus's last groups with room.
// Returns the groups' members (added to the group list by add_groups, numbered by competition()).
HakuWinay::Groups HakuWinay::plan_groups(const World& w, const StepContext& ctx, std::uint32_t n) const {
  const State& s = *state_;
  const HwNucleus& nu = s.nuclei[n];
  const auto& h = w.households;
  const std::uint8_t* participant = h.get(col::hw_participant);
  const std::int32_t* hh_nucleus = h.get(col::hw_nucleus);
  Groups groups;
  std::vector<std::uint32_t> joiners, pool;
  auto split = [&](const std::vector<std::uint32_t>& list) {
    std::size_t at = 0;
    for (int size : partition_group_sizes(static_cast<int>(list.size()), p_.group_mean_size)) {
      groups.emplace_back(list.begin() + static_cast<std::ptrdiff_t>(at), list.begin() + static_cast<std::ptrdiff_t>(at + size));
      at += static_cast<std::size_t>(size);
    }
  };
  for (std::uint32_t ci : nu.centres) {
    joiners.clear();
    for (std::uint32_t i = w.centre_first[ci]; i < w.centre_first[ci + 1]; ++i) {
      if (!participant[i] || hh_nucleus[i] != static_cast<std::int32_t>(n)) continue;
      const double u = ctx.seed.open(kGroupJoinDomain, static_cast<std::uint64_t>(ctx.month), i).uniform();
      if (u < p_.group_join_prob) joiners.push_back(i);
    }
    if (joiners.size() >= static_cast<std::size_t>(kMinGroupSize))
      split(joiners);
    else
      pool.insert(pool.end(), joiners.begin(), joiners.end());
  }
  if (pool.size() >= static_cast<std::size_t>(kMinGroupSize)) {
    split(pool);
  } else {
    for (std::uint32_t i : pool) {
      for (auto g = groups.rbegin(); g != groups.rend(); ++g) {
        if (g->size() < static_cast<std::size_t>(kMaxGroupSize)) {
          g->push_back(i);
          break;
        }
      }
    }
  }
  return groups;
}

// Appends nucleus n's planned groups to the group list; returns their number.
std::uint32_t HakuWinay::add_groups(std::uint32_t n, const Groups& groups) const {
  State& s = *state_;
  HwNucleus& nu = s.nuclei[n];
  nu.first_group = static_cast<std::uint32_t>(s.groups.size());
  nu.group_count = static_cast<std::uint32_t>(groups.size());
  for (auto& members : groups) {
    HwGroup g;
    g.nucleus = n;
    g.first_member = static_cast<std::uint32_t>(s.members.size());
    g.size = static_cast<std::uint8_t>(members.size());
    for (std::uint32_t i : members) s.members.push_back(i);
    s.groups.push_back(g);
  }
  return nu.group_count;
}

// The CLAR: each group's plan is scored from its members (capacity, technologies adopted, coaching, locus
// of control) plus noise; the committee funds the best within its budget; winners start a business.
// Touches only nucleus n, its groups and their members; returns the businesses it funds, for competition()
// to number and add.
std::vector<HwBusiness> HakuWinay::run_clar(World& w, const StepContext& ctx, std::uint32_t n) const {
  State& s = *state_;
  HwNucleus& nu = s.nuclei[n];
  std::vector<HwBusiness> started;
  if (nu.group_count == 0) return started;
  auto& h = w.households;
  const float* capacity = h.get(col::productive_capacity);
  const float* locus = h.get(col::locus_of_control);
  const std::uint8_t* tech = h.has(col::tech_state) ? h.get(col::tech_state) : nullptr;
  const std::uint8_t* coached = h.get(col::coached);
  const std::uint8_t* plan = h.get(col::coaching_plan);
  std::uint8_t* award = h.get(col::hw_award);
  std::uint8_t* btype = h.get(col::business_type);
  std::uint8_t* bstatus = h.get(col::business_status);
  float* cost_prizes = h.get(col::cost_hw_prizes_pen);
  float* cost_admin = h.get(col::cost_hw_admin_pen);
  float* cost_total = h.get(col::cost_hw_pen);
  const std::uint32_t* h_centre = h.get(col::centre);
  const float* c_water = w.centres.get(col::centre_water_share);
  const float* c_market = w.centres.get(col::centre_market_access);
  const float* dynamism = w.districts.get(col::district_market_dynamism);
  const std::uint8_t* region = w.districts.get(col::district_region);

  const std::size_t ng = nu.group_count;
  std::vector<double> scores(ng), prizes(ng), u_type(ng), z_prod(ng);
  std::vector<std::array<double, 3>> traits(ng);  // mean capacity, share with sheds, share with pasture
  const double prize = p_.prize_pen(nu.cohort_year);
  int menu_size = 0;
  for (int k = 0; k < kTechCount; ++k) menu_size += on_menu(nu.menu, k) ? 1 : 0;
  const auto adopted = [&](std::uint32_t i, int k) {
    return tech != nullptr && tech[static_cast<std::size_t>(i) * kTechCount + static_cast<std::size_t>(k)] ==
                                  static_cast<std::uint8_t>(TechState::adopted);
  };
  for (std::size_t g = 0; g < ng; ++g) {
    const HwGroup& grp = s.groups[nu.first_group + g];
    const std::uint32_t* mem = s.members.data() + grp.first_member;
    const std::uint32_t first = mem[0];
    const double z_plan = ctx.seed.open(kPlanDomain, static_cast<std::uint64_t>(ctx.month), first).normal();
    auto st = ctx.seed.open(kBusinessStartDomain, static_cast<std::uint64_t>(ctx.month), first);
    u_type[g] = st.uniform();
    z_prod[g] = st.normal();
    double log_cap = 0, cap_sum = 0, tech_share = 0, coached_share = 0, business_goal = 0, locus_sum = 0, sheds = 0,
           pasture = 0;
    for (std::uint8_t j = 0; j < grp.size; ++j) {
      const std::uint32_t i = mem[j];
      log_cap += std::log(std::max(capacity[i], 1e-3f));
      cap_sum += capacity[i];
      int on = 0;
      for (int k = 0; k < kTechCount; ++k) on += (on_menu(nu.menu, k) && adopted(i, k)) ? 1 : 0;
      tech_share += menu_size > 0 ? static_cast<double>(on) / menu_size : 0.0;
      coached_share += coached[i];
      business_goal += plan[i] == static_cast<std::uint8_t>(CoachingPlan::small_business) ? 1.0 : 0.0;
      locus_sum += locus[i];
      sheds += adopted(i, tech_index(Tech::small_animal_shed)) ? 1.0 : 0.0;
      pasture += adopted(i, tech_index(Tech::cultivated_pasture)) ? 1.0 : 0.0;
    }
    const double k = grp.size;
    scores[g] = p_.plan_weight_capacity * log_cap / k + p_.plan_weight_technologies * tech_share / k +
                p_.plan_weight_coaching * coached_share / k + p_.coaching.business_plan_score * business_goal / k +
                p_.plan_weight_locus * locus_sum / k + p_.plan_noise_sd * z_plan;
    prizes[g] = prize;
    traits[g] = {cap_sum / k, sheds / k, pasture / k};
  }
  const double fundable = std::round(p_.clar_award_share * static_cast<double>(ng));
  nu.clar_budget_pen = fundable * prize;
  const auto funded = clar_select(scores, prizes, nu.clar_budget_pen, p_.clar_min_score);

  const double rf = p_.region_effect[std::min<std::size_t>(region[nu.district], 2)];
  const double dyn = std::max(0.0, 1.0 + p_.business_dynamism_effect * (dynamism[nu.district] - 0.5));
  const double sd = p_.business_productivity_sd;
  for (std::size_t g = 0; g < ng; ++g) {
    HwGroup& grp = s.groups[nu.first_group + g];
    grp.score = scores[g];
    if (!funded[g]) continue;
    grp.awarded = true;
    const std::uint32_t* mem = s.members.data() + grp.first_member;
    const std::uint32_t centre = h_centre[mem[0]];
    // Business line: base shares adjusted by what the members and the area offer.
    std::array<double, kBusinessTypeCount> weight = p_.business_share;
    weight[business_index(BusinessType::guinea_pigs)] *= 0.5 + traits[g][1];
    weight[business_index(BusinessType::dairy)] *= 0.5 + traits[g][2];
    weight[business_index(BusinessType::cattle_fattening)] *= 0.5 + traits[g][2];
    weight[business_index(BusinessType::fish_farming)] *= 2.0 * c_water[centre];
    weight[business_index(BusinessType::rural_tourism)] *= 2.0 * c_market[centre];
    double total = 0.0;
    for (double x : weight) total += x;
    int t = 0;
    if (total > 0.0) {
      double acc = 0.0;
      for (; t < kBusinessTypeCount - 1; ++t) {
        acc += weight[static_cast<std::size_t>(t)] / total;
        if (u_type[g] < acc) break;
      }
    }
    HwBusiness b;
    b.group = nu.first_group + static_cast<std::uint32_t>(g);
    b.district = nu.district;
    b.type = static_cast<BusinessType>(t + 1);
    b.status = BusinessStatus::active;
    // With the liquidity channel the business starts once its members have paid their counterpart
    // (collect_counterparts); otherwise next month.
    const bool counterpart = p_.liquidity && p_.business_counterpart_share > 0.0;
    b.start_month = counterpart ? kAwaitingCounterpart : ctx.month + 1;
    b.support_end_month = nu.start_month + 36;
    b.capital_pen = p_.prize_equipment_share * prize;
    b.annual_profit_pen = b.capital_pen * p_.business_return[static_cast<std::size_t>(t)] *
                          std::exp(sd * z_prod[g] - 0.5 * sd * sd) * traits[g][0] * rf * dyn;
    started.push_back(b);
    const double share = prize / grp.size;
    for (std::uint8_t j = 0; j < grp.size; ++j) {
      const std::uint32_t i = mem[j];
      award[i] = 1;
      btype[i] = static_cast<std::uint8_t>(b.type);
      if (!counterpart) bstatus[i] = static_cast<std::uint8_t>(BusinessStatus::active);
      cost_prizes[i] += static_cast<float>(share);
      cost_admin[i] += static_cast<float>(p_.admin_share * share);
      cost_total[i] += static_cast<float>(share) + static_cast<float>(p_.admin_share * share);
      mark_flows_written(s.flows_written, h_centre[i]);
    }
  }
  return started;
}

void HakuWinay::business(World& w, const StepContext& ctx) const {
  State& s = *state_;
  if (s.businesses.empty()) return;
  auto& h = w.households;
  float* profit = h.get(col::business_profit_pen);
  std::uint8_t* bstatus = h.get(col::business_status);
  const std::uint32_t* h_centre = h.get(col::centre);
  const float* market = w.districts.get(col::district_market_dynamism);
  const std::size_t nd = w.district_count();
  s.market_count.assign(nd * kBusinessTypeCount, 0);
  auto slot = [&](const HwBusiness& b) {
    return static_cast<std::size_t>(b.district) * kBusinessTypeCount + static_cast<std::size_t>(business_index(b.type));
  };
  for (const auto& b : s.businesses)
    if (b.status == BusinessStatus::active && ctx.month >= b.start_month) ++s.market_count[slot(b)];
  const auto step_business = [&](HwBusiness& b) {
    if (b.status != BusinessStatus::active || ctx.month < b.start_month) return;
    const HwGroup& grp = s.groups[b.group];
    const std::uint32_t* mem = s.members.data() + grp.first_member;
    auto st = ctx.seed.open(kBusinessMonthDomain, static_cast<std::uint64_t>(ctx.month), mem[0]);
    const double u_fail = st.uniform();
    const double z = st.normal();
    const int same = static_cast<int>(s.market_count[slot(b)]);
    // With survival from profit (economy.persistence.enabled) the fixed failure rate gives way to a background
    // rate (still raised by crowding), and the business closes once its members' expected share of the profit
    // has stayed below their outside option for business.loss_months months.
    const double rate = business_.persistence ? business_.background_exit_rate_year : p_.business_failure_rate_year;
    const double hazard = monthly_failure_hazard(rate, same, p_.business_market_crowding,
                                                 ctx.month < b.support_end_month, p_.business_support_failure_reduction);
    const auto fail = [&] {
      b.status = BusinessStatus::failed;
      b.end_month = ctx.month;
      for (std::uint8_t j = 0; j < grp.size; ++j) bstatus[mem[j]] = static_cast<std::uint8_t>(BusinessStatus::failed);
    };
    if (u_fail < hazard) return fail();
    const double monthly = b.annual_profit_pen / 12.0 * market_competition_factor(same, p_.business_market_crowding) *
                           std::max(0.0, 1.0 + p_.business_profit_sd_month * z);
    const auto per_member = static_cast<float>(monthly / grp.size);
    if (business_.persistence) {
      if (ctx.month == b.start_month) b.expected_profit_pen = per_member;  // the first month's profit is the prior
      BusinessBook book{b.expected_profit_pen, b.loss_months};
      const bool losing = business_month(book, per_member, static_cast<float>(business_.profit_memory),
                                         business_.outside_option(market[b.district]), business_.loss_months);
      b.expected_profit_pen = book.expected_profit;
      b.loss_months = book.loss_months;
      if (losing) return fail();
    }
    for (std::uint8_t j = 0; j < grp.size; ++j) {
      profit[mem[j]] += per_member;
      mark_flows_written(s.flows_written, h_centre[mem[j]]);
    }
  };
  // Each business touches only its own record and its own members (a household is in at most one group),
  // and its draws are keyed by its first member, so businesses run in parallel with the serial result: the
  // phase is serial in the month, and a serial loop here holds up every other thread.
  parallel_for(0, s.businesses.size(), 1, [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t bi = r.begin(); bi != r.end(); ++bi) step_business(s.businesses[bi]);
  });
}

std::vector<HwCohortSummary> HakuWinay::cohort_summary(const World& w) const {
  const State& s = *state_;
  const auto& h = w.households;
  const auto* participant = h.get(col::hw_participant);
  const auto* hh_nucleus = h.get(col::hw_nucleus);
  const auto* juntos = h.has(col::juntos_enrolled) ? h.get(col::juntos_enrolled) : nullptr;
  const auto* spill = w.centres.get(col::centre_hw_spill_in);
  std::map<int, HwCohortSummary> by_year;
  for (std::size_t n = 0; n < s.nuclei.size(); ++n) {
    const HwNucleus& nu = s.nuclei[n];
    HwCohortSummary& r = by_year[nu.cohort_year];
    r.cohort_year = nu.cohort_year;
    ++r.nuclei;
    for (std::uint32_t ci : nu.centres) {
      if (s.centre_nucleus[ci] == static_cast<std::int32_t>(n)) (spill[ci] ? r.spill_in_centres : r.selected_centres) += 1;
      for (std::uint32_t i = w.centre_first[ci]; i < w.centre_first[ci + 1]; ++i) {
        if (hh_nucleus[i] != static_cast<std::int32_t>(n)) continue;
        ++r.households_in_centres;
        if (!participant[i]) continue;
        ++r.participants;
        if (juntos != nullptr && juntos[i]) ++r.juntos_participants;
      }
    }
    r.groups += nu.group_count;
    for (std::uint32_t g = nu.first_group; g < nu.first_group + nu.group_count; ++g) {
      const HwGroup& grp = s.groups[g];
      if (!grp.awarded) continue;
      ++r.awards;
      if (grp.business < 0) continue;
      const HwBusiness& b = s.businesses[static_cast<std::size_t>(grp.business)];
      const auto status = b.status;
      if (status == BusinessStatus::active && b.start_month != kAwaitingCounterpart) ++r.businesses_active;
      if (status == BusinessStatus::failed) ++r.businesses_failed;
    }
  }
  std::vector<HwCohortSummary> out;
  for (auto& [year, r] : by_year) out.push_back(r);
  return out;
}

std::vector<ReachItem> HakuWinay::reach(const World& w) const {
  const State& s = *state_;
  const auto& h = w.households;
  const auto* offered = h.get(col::hw_offered);
  const auto* participant = h.get(col::hw_participant);
  const auto* eligible = w.centres.get(col::centre_hw_eligible);
  const auto* selected = w.centres.get(col::centre_hw_selected_year);
  const auto* spill = w.centres.get(col::centre_hw_spill_in);
  const int months = w.calendar.months;
  constexpr int kSurvivalYears[] = {1, 3, 5};
  // Counts held by this process (households, its centres' eligibility, its nuclei's groups and businesses),
  // summed over the processes of a split world; the nuclei and the centres' selection are known everywhere.
  enum : std::size_t { kEligible, kOffered, kParticipants, kAwarded, kBusinesses, kObserved, kSurviving = kObserved + 3,
                       kEntitled = kSurviving + 3, kCount };
  std::vector<std::uint64_t> n(kCount, 0);
  for (std::size_t ci = w.centre_begin(); ci < w.centre_end(); ++ci) n[kEligible] += eligible[ci] ? 1 : 0;
  for (std::size_t i = w.household_begin(); i < w.household_end(); ++i) {
    n[kOffered] += offered[i];
    n[kParticipants] += participant[i];
    n[kEntitled] += s.entitled_ever[i];
  }
  for (const HwGroup& g : s.groups) n[kAwarded] += g.awarded ? 1 : 0;
  for (const HwBusiness& b : s.businesses) {
    ++n[kBusinesses];
    for (std::size_t k = 0; k < 3; ++k) {
      const int at = b.start_month + 12 * kSurvivalYears[k];
      if (at > months) continue;  // not yet that old when the run ended
      ++n[kObserved + k];
      n[kSurviving + k] += b.end_month < 0 || b.end_month >= at ? 1 : 0;
    }
  }
  w.comm().sum(n);
  std::uint64_t selected_centres = 0, spill_centres = 0;
  for (std::size_t ci = 0; ci < w.centre_count(); ++ci) {
    selected_centres += selected[ci] >= 0 ? 1 : 0;
    spill_centres += spill[ci] ? 1 : 0;
  }
  const auto d = [](std::uint64_t v) { return static_cast<double>(v); };
  std::vector<ReachItem> r = {
      {"eligible_centres", "Centres eligible under the arm's targeting rule in the last January", "centres",
       d(n[kEligible])},
      {"selected_centres", "Centres selected for a cohort", "centres", d(selected_centres)},
      {"spill_in_centres", "Centres reached without being selected (imperfect assignment)", "centres",
       d(spill_centres)},
      {"nuclei", "Executing nuclei formed", "nuclei", d(s.nuclei.size())},
      {"entitled_households",
       "Graduation route (haku_winay.selection: juntos_exit): households entitled in some January (within the "
       "window around the end of Juntos, in a district whose wave had come); 0 under the centres route",
       "households", d(n[kEntitled])},
      {"offered_households", "Households offered the programme in their nucleus's first month", "households",
       d(n[kOffered])},
      {"participants", "Households that took part", "households", d(n[kParticipants])},
      {"business_groups", "Business groups formed for the CLAR competition", "groups", d(s.group_ids)},
      {"awarded_groups", "Business groups that won the CLAR competition", "groups", d(n[kAwarded])},
      {"businesses", "Businesses funded", "businesses", d(n[kBusinesses])}};
  for (std::size_t k = 0; k < 3; ++k) {
    const std::string y = std::to_string(kSurvivalYears[k]);
    r.push_back({"businesses_observed_" + y + "y",
                 "Businesses started at least " + y + " year" + (k ? "s" : "") + " before the end of the run",
                 "businesses", d(n[kObserved + k])});
    r.push_back({"businesses_surviving_" + y + "y",
                 "Of those, businesses still active " + y + " year" + (k ? "s" : "") + " after they started",
                 "businesses", d(n[kSurviving + k])});
  }
  return r;
}

}  // namespace chacra::models
