// File: models/haku_winay.hpp
// Haku Winay / Noa Jayatai, FONCODES's three-year productive programme,
// with the soft-skills coaching add-on:
//   targeting and rollout  centres eligible under a configurable rule (models/hw_targeting.hpp) start in
//                          yearly cohorts within a household quota or budget, grouped into executing nuclei
//                          of about 80-110 expected participants; households take part voluntarily.
//   year 1 (components 1-2) trainer (yachachiq) visits 2-4 times a month; the nucleus picks technologies
//                          suited to its area within the per-household cap; assets raise adoption.
//   year 2 (component 3)   participants form business groups of 3-5; at the end of the year the CLAR
//                          funds the best plans within its budget (models/hw_business.hpp).
//   year 3 (component 4)   financial education (saving_boost) and support to the new businesses; then
//                          the programme leaves. Businesses go on, compete in their district and may fail.
//   coaching (add-on)      goal-setting sessions for a share of HW households: practice-specific adoption
//                          push and a higher locus of control, spilling over to uncoached neighbours.
// Every component books its cost on the household (cost_hw_*_pen flows).
//
// Month timing (wire in this order, after Juntos and before adoption and income):
//   haku_winay.rollout      serial   January of each cohort year: eligibility, cohort, nuclei, menus.
//   haku_winay.stages       block    zeroes this module's flows and business_profit_pen; take-up at the
//                                    cohort's first month; visits, assets, financial education, coaching,
//                                    adoption_push, support_active, hw_active, costs.
//   haku_winay.competition  serial   group formation (first month of year 2) and CLAR (last month of
//                                    year 2); prize costs.
//   haku_winay.business     serial   profits of the active businesses (business_profit_pen), failures.
// A cohort whose first month is s is in stage 1 during months s..s+11, 2 during s+12..s+23, 3 during
// s+24..s+35 and finished from s+36: nobody is under HW support for more than 36 months.
//
// The graduation channel (economy.graduation.enabled; rules in haku_winay_rules.hpp):
//   take-up  logit p = takeup_intercept + b_f farm_labour_share + b_j juntos + b_l locus - tau (1 - adults/2)
//            - delta (1 - market_access) + l (min(1, cash / complement) - 1) + sd z, one intercept for the whole
//            population (no per-centre centring), complement = complement_share * the nucleus's expected asset
//            spend per household (0 without the liquidity channel);
//   visits   received = offered * max(0, 1 - attendance_time_effect * other), other = time_burden (Juntos's
//            duties, set earlier this month) + group meetings in year 2 (hours / adult hours); time_burden then
//            = other + visit_hours * received / adult hours. The trainer is paid for the visits offered.
// The liquidity channel (economy.liquidity.enabled): each member of a funded group pays business_counterpart_share
// of the prize / group size through finance::pay (cash above the reserve, then credit) in the competition phase;
// the business starts the month after its last member has paid (kAwaitingCounterpart until then).
//
// In a world split by blocks of districts across MPI ranks (World::split(), docs/cluster.md) the serial
// phases read across districts only where the programme is national: the rollout gathers every centre's
// eligibility, offered households and profile (World::share_by_centre) and every rank runs the same
// selection and nucleus formation, so the nucleus list is identical everywhere; a nucleus (one district)
// is then served by the rank holding its district. Group formation sums the new groups per nucleus across
// ranks to number them over the whole population. The CLAR and the businesses' markets stay within a
// district: local, no communication (each rank keeps only its own groups, members and businesses).
#pragma once

#include "models/economy.hpp"
#include "models/haku_winay_rules.hpp"
#include "models/hw_business.hpp"
#include "models/hw_targeting.hpp"
#include "models/shared_state.hpp"
#include "sim/engine.hpp"
#include "sim/param_spec.hpp"
#include "sim/params.hpp"
#include "sim/rng.hpp"

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace chacra::models {

enum class HwStage : std::uint8_t { none = 0, year1 = 1, year2 = 2, year3 = 3, finished = 4 };
inline constexpr Code kHwStageCodes[] = {{static_cast<int>(HwStage::none), "none"},
                                         {static_cast<int>(HwStage::year1), "year_1"},
                                         {static_cast<int>(HwStage::year2), "year_2"},
                                         {static_cast<int>(HwStage::year3), "year_3"},
                                         {static_cast<int>(HwStage::finished), "finished"}};
// How the yearly cohort is limited.
enum class HwRolloutLimit : std::uint8_t { eligible_share = 0, households = 1, budget = 2 };
// Order in which eligible centres enter the programme.
enum class HwPriority : std::uint8_t { random = 0, ubn_share = 1, juntos_share = 2 };
// Which households of a selected centre are offered the programme.
enum class HwHouseholdOffer : std::uint8_t { all = 0, juntos_only = 1, juntos_exiting = 2 };
inline constexpr Choice<HwRolloutLimit> kHwRolloutLimitChoices[] = {{"eligible_share", HwRolloutLimit::eligible_share},
                                                                    {"households", HwRolloutLimit::households},
                                                                    {"budget", HwRolloutLimit::budget}};
inline constexpr Choice<HwPriority> kHwPriorityChoices[] = {
    {"random", HwPriority::random}, {"ubn_share", HwPriority::ubn_share}, {"juntos_share", HwPriority::juntos_share}};
inline constexpr Choice<HwHouseholdOffer> kHwHouseholdOfferChoices[] = {{"all", HwHouseholdOffer::all},
                                                                        {"juntos_only", HwHouseholdOffer::juntos_only},
                                                                        {"juntos_exiting", HwHouseholdOffer::juntos_exiting}};
// Who is selected each year: the households of centres eligible under the targeting rule (the real design), or
// the graduation route: households approaching or leaving the end of Juntos wherever they live, pooled each
// year into nuclei across neighbouring centres of a district, a centre hosting a new cohort whenever it has
// newly entitled households.
enum class HwSelection : std::uint8_t { centres = 0, juntos_exit = 1 };
// Which Juntos exits open the graduation route after the household left: any (aged out, or lost the poverty
// classification at re-certification), or ageing out only.
enum class HwExitReasons : std::uint8_t { any = 0, aged_out = 1 };
inline constexpr Choice<HwSelection> kHwSelectionChoices[] = {{"centres", HwSelection::centres},
                                                              {"juntos_exit", HwSelection::juntos_exit}};
inline constexpr Choice<HwExitReasons> kHwExitReasonsChoices[] = {{"any", HwExitReasons::any},
                                                                  {"aged_out", HwExitReasons::aged_out}};
// The goal a coached household sets (column coaching_plan).
enum class CoachingPlan : std::uint8_t {
  none = 0,
  guinea_pigs = 1,           // small_animal_shed
  pasture = 2,               // cultivated_pasture
  crop_diversification = 3,  // vegetable_garden, improved_andean_crops
  small_business = 4,        // a stronger business plan in the CLAR competition
};
inline constexpr int kCoachingPlanCount = 4;  // excluding none
inline constexpr std::array<const char*, kCoachingPlanCount> kCoachingPlanNames = {"guinea_pigs", "pasture",
                                                                                   "crop_diversification", "small_business"};
inline constexpr Code kCoachingPlanCodes[] = {
    {static_cast<int>(CoachingPlan::none), "none"},
    {static_cast<int>(CoachingPlan::guinea_pigs), kCoachingPlanNames[0]},
    {static_cast<int>(CoachingPlan::pasture), kCoachingPlanNames[1]},
    {static_cast<int>(CoachingPlan::crop_diversification), kCoachingPlanNames[2]},
    {static_cast<int>(CoachingPlan::small_business), kCoachingPlanNames[3]}};

// Parameters of the soft-skills coaching add-on (coaching.*); each field's name, range, unit, description
// and source are in describe() (models/haku_winay.cpp), its default is its initial value here.
struct CoachingParams {
  bool enabled = false;
  double saturation = 0.5;    // share of HW participants in a coached centre who are offered coaching
  double centre_share = 1.0;  // share of HW centres where coaching is offered
  double attendance = 0.84;   // offered households attending 4+ sessions (coached)
  int start_month = 12;       // months after the cohort's first month
  int duration_months = 6;
  double cost_per_offered_household_pen = 300.0;
  double practice_push = 0.05;  // extra monthly adoption hazard on each practice of the plan
  int push_months = 12;         // months the push lasts after the sessions end
  double locus_gain = 0.2;      // z-score added to locus_of_control at the end of the sessions
  double spillover = 0.25;      // uncoached neighbours get this share of the push, times the coached share
  double business_plan_score = 0.25;  // CLAR score added per unit share of members with a business goal
  std::array<double, kCoachingPlanCount> plan_share = {0.30, 0.20, 0.30, 0.20};  // by CoachingPlan (none excluded)

  template <class V> void describe(V& v);
};

// Parameters of the module (haku_winay.* and coaching.*), read once in setup; each field's name, range,
// unit, description and source are in describe() (models/haku_winay.cpp), its default is its initial
// value here.
struct HakuWinayParams {
  bool enabled = true;
  TargetingRule rule;  // the targeting parameters; from() applies the chosen preset
  HwHouseholdOffer household_offer = HwHouseholdOffer::all;
  int exit_window_months = 36;
  // The graduation route (selection: juntos_exit): the window around the end of Juntos, in months.
  HwSelection selection = HwSelection::centres;
  int exit_window_before_months = 12;  // before the last qualifying child is expected to leave Juntos
  int exit_window_after_months = 24;   // after an exit of a reason exit_reasons admits
  HwExitReasons exit_reasons = HwExitReasons::any;
  int district_waves = 1;  // districts enter in this many yearly waves from first_cohort_year (1: all at once)
  // Borrowed: when a child stops counting for Juntos (age limit; expected end of secondary school).
  int juntos_max_child_age_years = 19;
  int secondary_completion_age_years = 17;
  int first_cohort_year = 2017, last_cohort_year = 2021;
  int start_month_of_year = 7;
  HwRolloutLimit rollout_limit = HwRolloutLimit::eligible_share;
  double eligible_share_per_year = 0.15;
  double households_per_year = 2000.0;
  double budget_pen_per_year = 10e6;
  HwPriority priority = HwPriority::random;
  double nucleus_min_participants = 80.0, nucleus_max_participants = 110.0;
  double takeup_rate = 0.72;
  double takeup_interest_sd = 1.0;
  double takeup_juntos_logit = 0.1;
  double takeup_farm_labour_logit = 1.0;
  double takeup_locus_logit = 0.0;
  double spill_in_share = 0.0;
  double spill_in_band = 0.1;
  std::array<int, 3> visits_min = {2, 1, 0}, visits_max = {4, 3, 2};  // per programme year
  double trainer_cost_per_visit_pen = 20.0;
  double visit_push = 0.001;
  double asset_push = 0.3;
  // Per technology (Tech order): cost of the asset, and share of participants who take it when it is on the
  // nucleus's menu and suits them (near the published ITT effect / 0.72 participation / 0.9 adoption given
  // the asset for the evaluated technologies; fitted by tools/calibrate.py).
  std::array<double, kTechCount> asset_cost_pen = {500, 250, 150, 1200, 450, 900, 300, 450, 400, 150};
  std::array<double, kTechCount> asset_take_share = {0.60, 0.15, 0.99, 1.00, 0.23, 0.53, 0.30, 0.50, 0.40, 0.40};
  double sprinkler_min_water_share = 0.1;
  double pasture_min_altitude_m = 3200.0;
  double pasture_min_mean_land_ha = 1.5;
  double pasture_min_land_ha = 0.3;
  double budget_cap_per_household_pen = 5700.0;
  std::array<double, 3> region_effect = {1.0, 0.7, 0.6};  // by Region; the southern highlands are the reference
  double group_join_prob = 0.8;
  double group_mean_size = 3.9;
  double plan_weight_capacity = 1.0, plan_weight_technologies = 1.0, plan_weight_coaching = 0.5,
         plan_weight_locus = 0.3, plan_noise_sd = 0.5;
  double clar_award_share = 0.7;
  double clar_min_score = -100.0;
  double prize_early_pen = 7500.0, prize_late_pen = 19500.0;
  int prize_change_year = 2015;
  double prize_equipment_share = 0.6;
  // Per business type (BusinessType order, none excluded): base share of funded groups, and annual profit
  // per PEN of equipment for a lone business in its market.
  std::array<double, kBusinessTypeCount> business_share = {0.30, 0.15, 0.14, 0.12, 0.06, 0.08, 0.15};
  std::array<double, kBusinessTypeCount> business_return = {0.55, 0.60, 0.70, 0.45, 0.50, 0.60, 0.55};
  double business_productivity_sd = 0.6;
  double business_market_crowding = 0.3;
  double business_dynamism_effect = 0.5;
  double business_failure_rate_year = 0.12;
  double business_support_failure_reduction = 0.5;
  double business_profit_sd_month = 0.3;
  double fin_ed_attendance = 0.8;
  double fin_ed_saving_boost = 0.03;
  double fin_ed_cost_pen = 150.0;
  double admin_share = 0.12;
  CoachingParams coaching;
  // The graduation channel (economy.graduation.enabled): take-up and attendance respond to time, distance and
  // liquidity (models/haku_winay_rules.hpp), and programme time enters time_burden.
  double takeup_intercept = 0.76;  // posterior median (configs/calibration/chacra_2017.yaml)
  double takeup_labour_logit = 0.5;
  double takeup_distance_logit = 1.0;
  double takeup_liquidity_logit = 0.5;
  double attendance_time_effect = 1.0;
  double visit_hours = 3.0;
  double group_meeting_hours_per_month = 8.0;
  // The liquidity channel (economy.liquidity.enabled): members pay a counterpart before their business starts.
  double business_counterpart_share = 0.1;
  // Borrowed: the switches, the household's share of an asset's cost and an adult's hours.
  bool graduation = false;
  bool liquidity = false;
  double complement_share = 0.15;
  double adult_hours_per_month = 160.0;

  template <class V> void describe(V& v);
  static HakuWinayParams from(const ParamSet& params);
  // Prize per funded business for a cohort starting in `cohort_year`.
  double prize_pen(int cohort_year) const { return cohort_year < prize_change_year ? prize_early_pen : prize_late_pen; }
  // Expected capped spend (assets, trainers, financial education) per participant, at most the cap.
  double expected_capped_cost_pen() const;
  // Expected total cost per participant of a cohort (capped spend, prizes, coaching, administration):
  // what the budget rollout commits when it starts a centre.
  double expected_cost_per_participant_pen(int cohort_year) const;
  // What a participant of a nucleus with this menu expects to pay towards its assets: complement_share of the
  // expected asset spend (take share times cost over the menu); 0 without the liquidity channel.
  double expected_complement_pen(std::uint16_t menu) const;
  // The coefficients of take-up under the graduation channel.
  TakeupResponse takeup_response() const;
};

// An executing nucleus: neighbouring centres of one district and cohort that hold the budget, choose the
// technology menu, and run one CLAR competition.
struct HwNucleus {
  int cohort_year = 0;
  int start_month = 0;  // run month of stage 1's first month
  std::uint32_t district = 0;
  std::vector<std::uint32_t> centres;  // ascending index, spill-in centres included; a large centre hosts
                                       // several nuclei (its households' hw_nucleus says which)
  std::uint16_t menu = 0;              // bit k: technology k is on the nucleus's menu
  double asset_budget_pen = 0.0;       // per-household asset allowance (cap less reserved trainer costs)
  double expected_participants = 0.0;  // at formation (selected centres only)
  double clar_budget_pen = 0.0;        // set at the competition
  std::uint32_t first_group = 0, group_count = 0;  // its groups are contiguous in the group list
  // Number (hw_group) of its first group. Equal to first_group in a whole world; in a world split by
  // districts (World::split()) the group list holds only the groups of this process's nuclei and
  // first_group indexes it, while numbers run over the whole population.
  std::uint32_t first_group_id = 0;
};

struct HwGroup {
  std::uint32_t nucleus = 0;
  std::uint32_t first_member = 0;  // offset into the member list
  std::uint8_t size = 0;
  double score = 0.0;
  bool awarded = false;
  std::int32_t business = -1;
};

struct HwBusiness {
  std::uint32_t group = 0;
  std::uint32_t district = 0;
  BusinessType type = BusinessType::none;
  BusinessStatus status = BusinessStatus::active;
  int start_month = 0;          // first month with profits
  int support_end_month = 0;    // technical support (year 3) until this month, exclusive
  double capital_pen = 0.0;     // equipment and inputs (the prize's equipment share)
  double annual_profit_pen = 0.0;  // for a business alone in its market, before monthly noise
  std::uint8_t counterpart_paid = 0;  // bit j: member j has paid its counterpart (economy.liquidity.enabled)
  // Survival from profit (economy.persistence.enabled): expected monthly profit per member household and the
  // consecutive months it has been below the members' outside option.
  float expected_profit_pen = 0.0f;
  int loss_months = 0;
  int end_month = -1;  // month it failed, -1 while active (for the reach's survival counts)
};
// start_month of a funded business whose members have not all paid their counterpart yet.
inline constexpr int kAwaitingCounterpart = std::numeric_limits<int>::max();

// Per-cohort counts for reports (computed from the world and the module's state).
struct HwCohortSummary {
  int cohort_year = 0;
  std::size_t selected_centres = 0, spill_in_centres = 0, nuclei = 0;
  std::size_t households_in_centres = 0, participants = 0, juntos_participants = 0;
  std::size_t groups = 0, awards = 0, businesses_active = 0, businesses_failed = 0;
};

class HakuWinay : public Module {
 public:
  static constexpr std::uint32_t kPriorityDomain = rng::domain_id("haku_winay.priority");
  static constexpr std::uint32_t kWaveDomain = rng::domain_id("haku_winay.district_wave");
  static constexpr std::uint32_t kTakeupDomain = rng::domain_id("haku_winay.takeup");
  static constexpr std::uint32_t kVisitsDomain = rng::domain_id("haku_winay.visits");
  static constexpr std::uint32_t kAssetsDomain = rng::domain_id("haku_winay.assets");
  static constexpr std::uint32_t kFinancialEducationDomain = rng::domain_id("haku_winay.financial_education");
  static constexpr std::uint32_t kGroupJoinDomain = rng::domain_id("haku_winay.group_join");
  static constexpr std::uint32_t kPlanDomain = rng::domain_id("haku_winay.plan");
  static constexpr std::uint32_t kBusinessStartDomain = rng::domain_id("haku_winay.business_start");
  static constexpr std::uint32_t kBusinessMonthDomain = rng::domain_id("haku_winay.business_month");
  static constexpr std::uint32_t kCoachingCentreDomain = rng::domain_id("coaching.centre");
  static constexpr std::uint32_t kCoachingDomain = rng::domain_id("coaching.household");

  // Month (since the cohort's first month) in which each technology's asset is delivered in year 1.
  static constexpr std::array<int, kTechCount> kDeliveryMonth = {2, 3, 4, 5, 6, 4, 7, 8, 9, 10};

  HakuWinay();
  ~HakuWinay() override;

  static void register_params(Registry& registry);

  std::string name() const override { return "haku_winay"; }
  // Creates the module's columns (also when disabled) and resets its state.
  void setup(World& world, const ParamSet& params, const rng::StreamSeed& seed) override;

  Phase rollout_phase() const;      // "haku_winay.rollout" (serial)
  Phase stages_phase() const;       // "haku_winay.stages" (per block)
  Phase competition_phase() const;  // "haku_winay.competition" (serial)
  Phase business_phase() const;     // "haku_winay.business" (serial)

  const HakuWinayParams& params() const { return p_; }
  const std::vector<HwNucleus>& nuclei() const;
  const std::vector<HwGroup>& groups() const;
  const std::vector<std::uint32_t>& group_members() const;  // household indices, by HwGroup::first_member
  const std::vector<HwBusiness>& businesses() const;
  std::vector<HwCohortSummary> cohort_summary(const World& world) const;
  // The programme's reach at the end of a unit: eligible and selected centres, cohorts hosted, nuclei, offered
  // households, participants, business groups and awards, businesses surviving 1, 3 and 5 years.
  std::vector<ReachItem> reach(const World& world) const override;

 private:
  struct State;
  void rollout(World& world, const StepContext& ctx) const;
  void stages(World& world, const StepContext& ctx, const Block& block) const;
  void competition(World& world, const StepContext& ctx) const;
  void business(World& world, const StepContext& ctx) const;
  using Groups = std::vector<std::vector<std::uint32_t>>;  // members of each group
  Groups plan_groups(const World& world, const StepContext& ctx, std::uint32_t nucleus) const;
  std::uint32_t add_groups(std::uint32_t nucleus, const Groups& groups) const;
  std::vector<HwBusiness> run_clar(World& world, const StepContext& ctx, std::uint32_t nucleus) const;
  void collect_counterparts(World& world, const StepContext& ctx) const;

  HakuWinayParams p_;
  CreditTerms credit_;
  BusinessParams business_;  // survival of businesses from profit (models/hw_business.hpp)
  // The run's programme state (nuclei, groups, businesses, per-centre flags). Held by pointer so the const
  // phase factories can hand out phases that update it; serial phases append, block phases touch only
  // their own centres' entries.
  std::unique_ptr<State> state_;
};

// Columns of the engine (sim/population.hpp) and shared ones (shared_state.hpp) that this module reads or writes:
// adoption_push, asset_delivered, borrowed_pen, business_profit_pen, cash_pen, centre, centre_altitude_m,
// centre_border_area, centre_district, centre_households, centre_hw_active, centre_market_access, centre_ubn_share,
// centre_water_share, debt_pen, district_malnutrition_priority, district_market_dynamism, district_poverty_rate,
// district_region, farm_labour_share, investment_pen, juntos_enrolled, juntos_exit_month, juntos_exit_reason,
// land_ha, locus_of_control, member_age_months, member_secondary_done, permanent_income_pen, pregnancy_month,
// productive_capacity, saving_boost, support_active, tech_state, time_burden, water_access.
//
// Columns owned by this module.
namespace col {
// Household columns.
inline constexpr Col<std::int16_t> hw_cohort{
    .name = "hw_cohort", .unit = "year",
    .description = "Haku Winay cohort (year of selection) of the household, -1 none",
    .panel = true, .category = true};
inline constexpr Col<std::uint8_t> hw_stage{
    .name = "hw_stage", .unit = "HwStage",
    .description = "Haku Winay stage: 0 none, 1-3 programme year, 4 finished",
    .panel = true, .category = true, .codes = kHwStageCodes};
inline constexpr Col<std::uint8_t> hw_participant{
    .name = "hw_participant", .unit = "0/1",
    .description = "Household takes part in Haku Winay (reached)",
    .panel = true};
inline constexpr Col<float> hw_visits{
    .name = "hw_visits", .unit = "visits",
    .description = "Haku Winay trainer (yachachiq) visits",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<std::int32_t> hw_nucleus{
    .name = "hw_nucleus", .unit = "index",
    .description = "HW executing nucleus of the household's centre or neighbourhood, -1 none",
    .panel = true, .category = true};
inline constexpr Col<std::uint8_t> hw_offered{
    .name = "hw_offered", .unit = "0/1",
    .description = "The household was offered Haku Winay (in its nucleus's first month)"};
inline constexpr Col<std::int32_t> hw_group{
    .name = "hw_group", .unit = "index",
    .description = "Haku Winay business group of the household, -1 none",
    .panel = true, .category = true};
inline constexpr Col<std::uint8_t> hw_award{
    .name = "hw_award", .unit = "0/1",
    .description = "The household's business group won the CLAR competition",
    .panel = true};
inline constexpr Col<std::uint8_t> business_type{
    .name = "business_type", .unit = "BusinessType",
    .description = "Type of the household's HW business: 0 none, 1 guinea pigs, 2 dairy, 3 bakery/food, 4 "
                   "textiles/crafts, 5 rural tourism, 6 fish farming, 7 cattle fattening",
    .panel = true, .category = true, .codes = kBusinessTypeCodes};
inline constexpr Col<std::uint8_t> business_status{
    .name = "business_status", .unit = "BusinessStatus",
    .description = "HW business: 0 none, 1 active, 2 failed",
    .panel = true, .category = true, .codes = kBusinessStatusCodes};
inline constexpr Col<std::uint8_t> coached{
    .name = "coached", .unit = "0/1",
    .description = "Attended at least four soft-skills coaching sessions",
    .panel = true};
inline constexpr Col<std::uint8_t> coaching_offered{
    .name = "coaching_offered", .unit = "0/1", .description = "Offered soft-skills coaching"};
inline constexpr Col<std::uint8_t> coaching_plan{
    .name = "coaching_plan", .unit = "CoachingPlan",
    .description = "Goal of the coaching plan: 0 none, 1 guinea pigs, 2 pasture, 3 crop diversification, 4 small "
                   "business",
    .category = true, .codes = kCoachingPlanCodes};
inline constexpr Col<float> hw_asset_spend_pen{
    .name = "hw_asset_spend_pen", .unit = "PEN", .description = "Cumulative HW spending on the household's assets"};
inline constexpr Col<float> hw_capped_spend_pen{
    .name = "hw_capped_spend_pen", .unit = "PEN",
    .description = "Cumulative HW spending on the household under the per-household cap (assets, trainers, "
                   "financial education)"};
inline constexpr Col<float> cost_hw_assets_pen{
    .name = "cost_hw_assets_pen", .unit = "PEN",
    .description = "HW spending on assets for the household",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> cost_hw_trainers_pen{
    .name = "cost_hw_trainers_pen", .unit = "PEN",
    .description = "HW spending on trainer visits and financial education",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> cost_hw_prizes_pen{
    .name = "cost_hw_prizes_pen", .unit = "PEN",
    .description = "HW business prize, household's share of its group's prize",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> cost_hw_coaching_pen{
    .name = "cost_hw_coaching_pen", .unit = "PEN",
    .description = "Soft-skills coaching spending on the household",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> cost_hw_admin_pen{
    .name = "cost_hw_admin_pen", .unit = "PEN",
    .description = "HW administration attributed to the household",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<float> cost_hw_pen{
    .name = "cost_hw_pen", .unit = "PEN",
    .description = "Total HW spending on the household (sum of the cost_hw_* components)",
    .panel = true, .aggregation = PeriodAggregation::sum};
// Centre columns, recorded per arm at the end of every output period (arms/<arm>/replicate_R/centres).
inline constexpr Col<std::uint8_t> centre_hw_eligible{
    .name = "hw_eligible", .unit = "0/1",
    .description = "Centre eligible for Haku Winay under the arm's rule (as of the last January)",
    .panel = true};
inline constexpr Col<std::int16_t> centre_hw_selected_year{
    .name = "hw_selected_year", .unit = "year",
    .description = "Year the centre was selected for HW, -1 never",
    .panel = true, .category = true};
inline constexpr Col<std::int16_t> centre_hw_reached_year{
    .name = "hw_reached_year", .unit = "year",
    .description = "Year HW started operating in the centre (selected or spill-in), -1 never",
    .panel = true, .category = true};
inline constexpr Col<std::int32_t> centre_hw_nucleus{
    .name = "hw_nucleus", .unit = "index",
    .description = "HW executing nucleus of the centre, -1 none", .panel = true, .category = true};
inline constexpr Col<std::uint8_t> centre_hw_spill_in{
    .name = "hw_spill_in", .unit = "0/1",
    .description = "Centre reached by HW without being selected (imperfect assignment)", .panel = true};
}  // namespace col

}  // namespace chacra::models
