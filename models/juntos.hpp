// File: models/juntos.hpp
// Juntos, Peru's conditional cash transfer (MIDIS): proxy-means-test targeting with
// inclusion and exclusion errors and periodic re-certification, district rollout and take-up, the
// two-monthly co-responsibility check and payment (a failed check suspends the next payment), exit
// when no member is eligible any more, the coordination lever with Haku Winay, and Juntos's costs.
//
// Month timing (month index m; a two-month period k covers months 2k and 2k+1):
//   eligibility phase, every month: re-certify the households whose certification falls this month,
//     apply demographic/PMT/district eligibility, exit households that lost it, enrol newly eligible
//     households in covered districts, and set the status of affiliated households for the current
//     period (suspended if the last check failed): the rule juntos_month of models/juntos_rules.hpp.
//   payment phase, every month: the transfer is paid in odd months (m % 2 == 1, the even calendar
//     months) to affiliated households that are not suspended; then the co-responsibility check of
//     the period that ends this month is drawn; its result decides the status (and so the payment) of
//     the next period. Costs and the coordination push are booked every month: adoption_push is a
//     monthly flow (adoption resets it) so Juntos adds to it; saving_boost is a persistent stock (HW's
//     financial education adds to it once), so Juntos applies only the change of its own share.
//
// The graduation channel (economy.graduation.enabled; rules in juntos_rules.hpp):
//   re-certification  the target is recomputed from the household's current welfare and assets:
//       score(t) = score_0 + w_c ln(c12(t) / c12(0)) + w_a (A(t) - A(0)) / 1000 + w_d (D(t) - D(0)),
//     score_0 the static score (wealth - w_ubn has_ubn + w_land ln(land / 1.3)), c12 the per-capita consumption
//     of the last 12 months, A net assets (herd at livestock prices + up-front cost of adopted technologies -
//     debt), D the visible dwelling improvements adopted (improved stove, safe water, waste pit); the
//     classification errors are the same draws (juntos_score records the score).
//   check  p = logistic(propensity - tau time_burden + l (min(1, cash / travel cost) - 1)), propensity =
//     logit(compliance_base) + access (market_access - 0.5) + sd z fixed at setup, time_burden last month's.
//   time   after the check the payment phase sets time_burden = duty_hours / (adult_hours * adults aged
//     15-64) for affiliated households, 0 for the others; Haku Winay's stages add visits and group work.
// Sequencing variants (off by default; they read Haku Winay's columns):
//   juntos.areas: new_to_both  the eligibility phase covers a household only if HW had not reached its centre
//     (centres' hw_reached_year, a January) before Juntos entered its district.
//   juntos.exit_taper_share > 0  the payment phase pays that share of the base transfer (and the monthly
//     administration) to households out of Juntos, within exit_taper_months of their exit (juntos_exit_month)
//     and in their HW programme years (hw_participant, hw_stage 1-3, as of last month).
// With the risk channel the payment phase also keeps juntos_transfer_avg_pen, the transfer averaged with
// weight 1/12 a month, which the portfolio choice reads.
#pragma once

#include "models/juntos_rules.hpp"
#include "models/shared_state.hpp"
#include "sim/engine.hpp"
#include "sim/param_spec.hpp"
#include "sim/params.hpp"
#include "sim/rng.hpp"

#include <array>
#include <cstdint>
#include <string>

namespace chacra::models {

// How strongly Juntos local managers promote HW practices to Juntos households.
enum class JuntosCoordination : std::uint8_t { none = 0, informal = 1, formal = 2 };
// How Juntos coverage reaches the eligible districts.
enum class JuntosRollout : std::uint8_t { all_at_start = 0, phased = 1 };
// Where Juntos enrols: every covered district, or (HW first) only the centres HW had not reached before
// Juntos entered their district (juntos.areas).
enum class JuntosAreas : std::uint8_t { all = 0, new_to_both = 1 };

// The words of the choice parameters (in a scenario) and the values they stand for.
inline constexpr Choice<JuntosCoordination> kJuntosCoordinationChoices[] = {
    {"none", JuntosCoordination::none}, {"informal", JuntosCoordination::informal}, {"formal", JuntosCoordination::formal}};
inline constexpr Choice<JuntosRollout> kJuntosRolloutChoices[] = {{"all_at_start", JuntosRollout::all_at_start},
                                                                  {"phased", JuntosRollout::phased}};
inline constexpr Choice<JuntosAreas> kJuntosAreasChoices[] = {{"all", JuntosAreas::all},
                                                              {"new_to_both", JuntosAreas::new_to_both}};

// Parameters of the module, read once in setup; each field's name, range, unit, description and source
// are in describe() (models/juntos.cpp), its default is its initial value here.
struct JuntosParams {
  bool enabled = true;
  int start_month = 0;
  JuntosRollout rollout = JuntosRollout::all_at_start;
  double phased_initial_share = 0.2;
  double phased_share_per_year = 0.2;
  JuntosAreas areas = JuntosAreas::all;
  double district_poverty_threshold = 0.40;
  int max_child_age_months = 19 * 12;  // juntos.max_child_age_years
  double pmt_ubn_weight = 0.3;
  double pmt_land_weight = 0.2;
  double pmt_cutoff = -0.2;
  double pmt_exclusion_error = 0.15;
  double pmt_inclusion_error = 0.10;
  int recertification_months = 36;
  double take_up = 0.9;
  double transfer_pen = 200.0;
  double compliance_base = 0.94;
  double compliance_access_effect = 1.0;
  double compliance_propensity_sd = 0.8;
  bool top_ups = false;
  double top_up_early_childhood_pen = 100.0;
  int top_up_infant_age_months = 12;
  double top_up_secondary_pen = 80.0;
  int top_up_secondary_min_age_months = 14 * 12;  // juntos.top_up_secondary_min_age_years
  double admin_cost_pen_per_month = 15.0;
  // HW as the exit with a tapering transfer: after leaving Juntos, a household in its HW programme years is
  // paid this share of the base transfer, for at most exit_taper_months after its exit (0: off).
  double exit_taper_share = 0.0;
  int exit_taper_months = 24;
  JuntosCoordination coordination = JuntosCoordination::informal;
  double coordination_push_informal = 0.002;
  double coordination_push_formal = 0.008;
  double coordination_saving_boost_informal = 0.005;
  double coordination_saving_boost_formal = 0.02;
  // The graduation channel (economy.graduation.enabled): the score on current welfare and assets, compliance
  // that responds to time, distance and liquidity, and the time the duties take.
  PmtWeights pmt_weights;
  ComplianceResponse compliance_response;
  double duty_hours_per_month = 6.0;
  double adult_hours_per_month = 160.0;  // time_use.adult_hours_per_month
  // Borrowed: the switches, and what the score values a household's animals and technologies at.
  bool graduation = false;
  bool risk = false;
  std::array<double, kSpeciesCount> animal_price_pen{};
  std::array<double, kTechCount> upfront_pen{};

  // The extra adoption hazard and saving rate of the chosen coordination level (0 without coordination).
  double coordination_push() const {
    return coordination == JuntosCoordination::formal     ? coordination_push_formal
           : coordination == JuntosCoordination::informal ? coordination_push_informal
                                                          : 0.0;
  }
  double coordination_saving_boost() const {
    return coordination == JuntosCoordination::formal     ? coordination_saving_boost_formal
           : coordination == JuntosCoordination::informal ? coordination_saving_boost_informal
                                                          : 0.0;
  }

  // What the score values a head of each species and each technology at.
  AssetValues asset_values() const;

  template <class V> void describe(V& v);
  static JuntosParams from(const ParamSet& params);
};

class Juntos : public Module {
 public:
  static constexpr std::uint32_t kCertificationDomain = rng::domain_id("juntos.certification");
  static constexpr std::uint32_t kComplianceDomain = rng::domain_id("juntos.compliance");
  // Setup draws (take-up, compliance propensity, certification offset, first classification).
  static constexpr std::uint32_t kSetupDomain = rng::domain_id("juntos.setup");

  static void register_params(Registry& registry);

  std::string name() const override { return "juntos"; }
  // Creates the Juntos columns (also when Juntos is disabled) and draws each household's fixed traits.
  void setup(World& world, const ParamSet& params, const rng::StreamSeed& seed) override;

  Phase eligibility_phase() const;  // "juntos.eligibility"
  Phase payment_phase() const;      // "juntos.payment"

  const JuntosParams& params() const { return p_; }
  // The programme's reach at the end of a unit: households ever eligible and ever enrolled, payments per round,
  // exits by reason and re-entries.
  std::vector<ReachItem> reach(const World& world) const override;

  // Pure helpers, exposed for tests.
  static bool payment_month(int month) { return month % 2 == 1; }
  // The month (>= start_month) from which district rank r of n eligible districts (0 = poorest) is
  // covered, or -1 if it never is.
  static int district_entry_month(const JuntosParams& p, std::size_t rank, std::size_t n_eligible);

 private:
  void eligibility(World& world, const StepContext& ctx, const Block& block) const;
  void payment(World& world, const StepContext& ctx, const Block& block) const;

  JuntosParams p_;
};

// Columns of the engine (sim/population.hpp) and other modules (shared_state.hpp, economy.hpp,
// livelihood.hpp) that this module reads or writes: adoption_push, cash_pen, centre, centre_hw_active, centre_market_access,
// consumption_pc_12m_pen, debt_pen, district, district_poverty_rate, has_ubn, herd, juntos_enrolled,
// juntos_transfer_pen, land_ha, member_age_months, member_secondary_done, pregnancy_month, saving_boost,
// tech_state, time_burden, wealth_index, centre_hw_reached_year, hw_participant, hw_stage. The last three are
// Haku Winay's, read by the sequencing variants above.
//
// Columns owned by this module (juntos_transfer_pen and juntos_enrolled are in shared_state.hpp).
namespace col {
inline constexpr Col<std::uint8_t> juntos_status{
    .name = "juntos_status", .unit = "JuntosStatus",
    .description = "Juntos status: 0 not eligible, 1 eligible, 2 enrolled, 3 suspended, 4 exited",
    .panel = true, .category = true, .codes = kJuntosStatusCodes};
inline constexpr Col<std::uint8_t> juntos_eligible{
    .name = "juntos_eligible", .unit = "0/1",
    .description = "Meets Juntos eligibility (member criterion, PMT classification, district poverty)",
    .panel = true};
inline constexpr Col<std::uint8_t> juntos_compliant{
    .name = "juntos_compliant", .unit = "0/1",
    .description = "Met the co-responsibilities at the last two-monthly check",
    .panel = true};
inline constexpr Col<std::int32_t> juntos_exit_month{
    .name = "juntos_exit_month", .unit = "month",
    .description = "Month of the household's most recent exit from Juntos (-1: never left)",
    .panel = true, .category = true};
inline constexpr Col<std::uint8_t> juntos_exit_reason{
    .name = "juntos_exit_reason", .unit = "JuntosExitReason",
    .description = "Reason of the most recent exit: 0 none, 1 aged out, 2 lost the poverty classification",
    .panel = true, .category = true, .codes = kJuntosExitReasonCodes};
inline constexpr Col<float> cost_juntos_pen{
    .name = "cost_juntos_pen", .unit = "PEN",
    .description = "Juntos spending on the household: transfers and administration",
    .panel = true, .aggregation = PeriodAggregation::sum};
inline constexpr Col<std::uint8_t> juntos_classified_poor{
    .name = "juntos_classified_poor", .unit = "0/1",
    .description = "Currently classified extremely poor by the proxy-means test"};
inline constexpr Col<std::uint8_t> juntos_pmt_target{
    .name = "juntos_pmt_target", .unit = "0/1",
    .description = "Extremely poor by the noiseless PMT score (the classification's target)"};
inline constexpr Col<float> juntos_compliance_prob{
    .name = "juntos_compliance_prob", .unit = "probability",
    .description = "Probability of meeting the co-responsibilities in a two-month period"};
inline constexpr Col<std::uint8_t> juntos_takes_up{
    .name = "juntos_takes_up", .unit = "0/1", .description = "Household enrols when eligible in a covered district"};
inline constexpr Col<float> juntos_saving_boost{
    .name = "juntos_saving_boost", .unit = "share of income",
    .description = "Part of saving_boost that comes from Juntos's coordination (savings promotion by local "
                   "managers)"};
inline constexpr Col<std::int16_t> juntos_recert_offset{
    .name = "juntos_recert_offset", .unit = "month",
    .description = "Month of the re-certification cycle in which the household is re-certified"};
// The graduation channel's columns (created in every arm; written only with the channel on unless noted).
inline constexpr Col<float> juntos_score{
    .name = "juntos_score", .unit = "score units",
    .description = "The household's proxy-means score at its last (re-)certification: the baseline score, "
                   "moving with 12-month consumption per person, net assets and dwelling improvements when "
                   "economy.graduation.enabled (below juntos.pmt_cutoff: the PMT's target)",
    .panel = true};
inline constexpr Col<float> juntos_pmt_baseline{
    .name = "juntos_pmt_baseline", .unit = "score units",
    .description = "The moving part of the proxy-means score at baseline (consumption, net assets, dwelling)"};
inline constexpr Col<float> juntos_compliance_logit{
    .name = "juntos_compliance_logit", .unit = "log-odds",
    .description = "The household's fixed compliance propensity: logit(base) + access effect + persistent "
                   "propensity"};
inline constexpr Col<float> juntos_transfer_avg_pen{
    .name = "juntos_transfer_avg_pen", .unit = "PEN per month",
    .description = "Juntos transfer received, exponential average over about a year (economy.risk.enabled: what "
                   "the portfolio choice deducts from past consumption to find the household's own resources)"};
// The household's history in the programme, for the reach (Juntos::reach).
inline constexpr Col<std::uint8_t> juntos_ever{
    .name = "juntos_ever", .unit = "bits",
    .description = "Ever in Juntos: bit 0 ever eligible, bit 1 ever affiliated (enrolled or suspended), bit 2 ever paid the "
                   "tapering transfer after the exit (juntos.exit_taper_share)"};
inline constexpr Col<std::uint8_t> juntos_exits_aged_out{
    .name = "juntos_exits_aged_out", .unit = "exits",
    .description = "Exits from Juntos because no member qualified any more (saturating at 255)"};
inline constexpr Col<std::uint8_t> juntos_exits_lost_classification{
    .name = "juntos_exits_lost_classification", .unit = "exits",
    .description = "Exits from Juntos after losing the poverty classification at re-certification (saturating at "
                   "255)"};
inline constexpr Col<std::int16_t> juntos_payments{
    .name = "juntos_payments", .unit = "payments", .description = "Two-monthly transfers the household received"};
// District column.
inline constexpr Col<std::int32_t> district_juntos_entry_month{
    .name = "juntos_entry_month", .unit = "month",
    .description = "First month Juntos enrols households in the district (-1: never)"};
}  // namespace col

}  // namespace chacra::models
