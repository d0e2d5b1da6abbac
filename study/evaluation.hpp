// File: study/evaluation.hpp
// The virtual evaluation of the 2017 Haku Winay cohort (IEP / UC Davis, the evaluation that the default
// parameters must reproduce), run inside the model:
//   1. a synthetic population with centres on both sides of the 60% UBN threshold runs the history month by
//      month (Juntos from the start, HW cohorts from 2017 with imperfect assignment: spill-in below the
//      threshold, voluntary take-up above it);
//   2. the study's sample is drawn: ITT centres are 2017-cohort centres with a UBN share in [cutoff,
//      cutoff + band), control centres are never-selected centres in [cutoff - band, cutoff) of the same
//      districts that meet every other criterion of the 2017 rule; Juntos households (affiliated at the
//      baseline month) are sampled within the chosen centres;
//   3. outcomes are measured as the follow-up survey did (income summed over the calendar outcome year,
//      technology states at its end) with baseline covariates at the baseline month;
//   4. effects are estimated as the study did: ANCOVA y = a + b ITT + c y_baseline + d'x + e with standard
//      errors clustered by centre (CR1), plus a local-linear RD on the centre UBN share and unconditional
//      quantile effects of income;
//   5. this is repeated over replicates (fresh population and random streams) and summarised beside the
//      published values.
// Documentation: docs/evaluation.md.
#pragma once

#include "sim/errors.hpp"
#include "sim/params.hpp"
#include "sim/rng.hpp"
#include "sim/world.hpp"
#include "study/posterior.hpp"

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace chacra::study::evaluation {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr std::uint32_t kSampleDomain = rng::domain_id("evaluation.sample");
// Replicate r's draw k of the population and streams is keyed r + k * kDrawStride (replicates stay below it).
inline constexpr std::uint32_t kDrawStride = 1u << 20;

// The study design (parameters evaluation.*).
struct Design {
  double cutoff = 0.6;             // UBN threshold of the 2017 rule
  double band = 0.1;               // width of each band: control [cutoff-band, cutoff), ITT [cutoff, cutoff+band)
  int cohort_year = 2017;          // the evaluated cohort
  int itt_centres = 26, itt_households = 661;
  int control_centres = 23, control_households = 338;
  int min_juntos_per_centre = 5;   // a centre enters the frame only with this many Juntos households
  bool study_departments_only = true;  // only the five departments of the study (district column department 0..4)
  bool same_districts = true;      // control centres only in districts that hold an ITT frame centre
  int baseline_year = 2017, baseline_month_of_year = 6;
  int outcome_year = 2019;
  double rd_bandwidth = 0.1;
  bool rd_on_frame = true;         // RD on every Juntos household of the frame (false: the sample only)
  int max_frame_draws = 50;        // population draws until the frame holds the design's centres
  int bootstrap_draws = 199;       // cluster-bootstrap draws for the quantile effects' standard errors

  static Design from(const ParamSet& params);
  // Months since the run's start of the baseline snapshot and of the outcome year's first month.
  int baseline_month(int start_year) const { return (baseline_year - start_year) * 12 + baseline_month_of_year - 1; }
  int outcome_first_month(int start_year) const { return (outcome_year - start_year) * 12; }
};

// Registers the evaluation.* parameters.
void register_params(Registry& registry);
// The registry the evaluation scenario is loaded with (study::registry(), which includes evaluation.*).
const Registry& registry();

// ---------------------------------------------------------------------------------------------------------
// Sampling

struct FrameCentre {
  std::uint32_t centre = 0;
  std::uint32_t district = 0;
  double ubn_share = 0.0;
  std::vector<std::uint32_t> households;  // Juntos households (at baseline) of the centre, ascending
};

struct Frame {
  std::vector<FrameCentre> itt, control;
};

struct Sample {
  std::vector<std::uint32_t> households;  // sampled households: ITT ones first, then controls
  std::vector<std::uint8_t> itt;          // 1 for a household of an ITT centre
  std::vector<std::uint32_t> centre;      // its centre
  std::vector<std::uint32_t> itt_centres, control_centres;  // chosen centres, ascending
};

// Too few centres or households in the frame for the design: the scenario's population does not fit the
// design (bad input, exit status 2).
class SampleError : public BadInput {
 public:
  using BadInput::BadInput;
};

// The sampling frame of a world after the run: `juntos_at_baseline` (one per household) marks Juntos
// households at the baseline month and `rest_of_rule_at_baseline` (one per centre) the centres that met
// every criterion of the 2017 rule but the UBN share at the baseline month.
Frame build_frame(const World& world, const Design& design, const std::vector<std::uint8_t>& juntos_at_baseline,
                  const std::vector<std::uint8_t>& rest_of_rule_at_baseline);

// Draws design.itt_centres and design.control_centres centres at random from the frame (simple random
// sampling of centres), then exactly itt_households / control_households Juntos households within them: an
// equal take per centre, a centre with fewer households gives all of them and the rest is spread over the
// others ("water filling"), households chosen at random within a centre. Throws SampleError naming what is
// missing when the frame has too few centres or the chosen centres too few households.
Sample draw_sample(const Frame& frame, const Design& design, rng::Stream& stream);

// ---------------------------------------------------------------------------------------------------------
// Estimators

struct Effect {
  double estimate = kNaN, se = kNaN, dof = kNaN;
  double low() const;   // estimate - t_{0.975, dof} se (NaN without an SE)
  double high() const;
  bool has_ci() const { return std::isfinite(se) && std::isfinite(dof) && dof > 0; }
  bool covers(double v) const { return has_ci() && low() <= v && v <= high(); }
};

// ITT by ANCOVA: OLS of y on [itt, covariates...] with an intercept, CR1 standard errors clustered by
// `clusters`; returns the coefficient on itt. Covariate columns that are constant are dropped (e.g. a
// technology nobody had at baseline), as are later columns collinear with earlier ones.
Effect itt_ancova(const std::vector<double>& y, const std::vector<double>& itt,
                  const std::vector<std::vector<double>>& covariates, const std::vector<int>& clusters);
// Mean of y with a CR1 clustered standard error (OLS on a constant).
Effect cluster_mean(const std::vector<double>& y, const std::vector<int>& clusters);
// Unconditional quantile differences (ITT minus control) of y at qs.
std::vector<double> quantile_effects(const std::vector<double>& y, const std::vector<double>& itt,
                                     const std::vector<double>& qs);
// The same with standard errors from a cluster bootstrap (`draws` resamples of the centres within each arm;
// dof = centres - 2); no SE with fewer than 2 draws or 2 centres an arm.
std::vector<Effect> quantile_effects_clustered(const std::vector<double>& y, const std::vector<double>& itt,
                                               const std::vector<int>& clusters, const std::vector<double>& qs,
                                               int draws, rng::Stream& stream);

// ---------------------------------------------------------------------------------------------------------
// Outcomes and the evaluation

struct OutcomeSpec {
  std::string name;
  std::string unit;
  std::optional<double> published;  // the published value it is compared with, if any
  bool calibration_target = false;  // one of the fitted moments (band and 25% criteria apply)
  std::string description;
};

// Every reported row, in print order.
const std::vector<OutcomeSpec>& outcomes();
std::size_t outcome_index(const std::string& name);  // throws std::invalid_argument if unknown

// One virtual evaluation: one estimate per outcome (NaN where it could not be computed).
struct ReplicateResult {
  std::vector<Effect> effects;  // by outcome index
  std::vector<double> rd;       // RD estimate by outcome index, NaN where none
  std::size_t frame_itt_centres = 0, frame_control_centres = 0;
  std::uint32_t frame_draws = 1;  // population draws until the frame held the design (1: the first did)
  long long posterior_row = -1;   // the row of the posterior ensemble this replicate ran (-1: none)
};

// Runs replicate r of the evaluation: generate_population(params, r), the model on StreamSeed{run.seed, r},
// month by month to the end of the outcome year, then the sample and the estimates. When the sampling frame
// cannot hold the design's centres, the population and streams are drawn again (key r + k kDrawStride, draw k)
// up to evaluation.max_frame_draws times (SampleError after that).
ReplicateResult run_replicate(const ParamSet& params, std::uint32_t replicate);

// Checks the design against the calendar (run.start_year, run.years); throws ConfigError when the baseline
// or the outcome year falls outside the run.
void check_design(const ParamSet& params);

// Runs replicates 0..n-1 (in parallel over replicates with TBB; the caller limits threads with
// tbb::global_control). `progress` (may be empty) is called after each finished replicate, serially.
// With `ensemble`, replicate r runs the parameters of row posterior::row_for_replicate(ensemble, run.seed, r)
// (pairs of replicates share a row), so the spread over replicates includes parameter uncertainty.
std::vector<ReplicateResult> run_evaluation(const ParamSet& params, int replicates,
                                            const std::function<void(int done, int total)>& progress = {},
                                            const posterior::Ensemble* ensemble = nullptr);

struct OutcomeSummary {
  OutcomeSpec spec;
  std::size_t n_replicates = 0;  // replicates with a finite estimate
  double model_mean = kNaN, p2_5 = kNaN, p97_5 = kNaN;
  double coverage = kNaN;        // share of replicates whose 95% CI covers the published value
  double rd_mean = kNaN;
  // With a posterior: the replicate spread split into parameter and sampling parts (posterior::split_variance).
  double sd_parameter = kNaN, sd_sampling = kNaN;
  std::string role;              // with a posterior: "fitted" (a calibration target), "validation" or ""
  bool in_band() const;          // published inside [p2_5, p97_5]
  bool within_25pct() const;     // |model_mean - published| <= 0.25 |published|
  // A published value lands when it lies inside the model's 2.5-97.5% interval of the study's estimate.
  bool lands() const { return in_band(); }
};

std::vector<OutcomeSummary> summarise(const std::vector<ReplicateResult>& results,
                                      const posterior::Ensemble* ensemble = nullptr);

// What `chacra evaluate` prints: the summary beside the published effects, and the design it came from.
struct Report {
  std::string scenario;
  int replicates = 0;
  long long seed = 0;
  double seconds = 0.0;
  double cutoff = 0.0, bandwidth = 0.0;              // evaluation.cutoff, evaluation.rd_bandwidth
  long long itt_centres = 0, control_centres = 0;    // the design's sample of centres
  double frame_itt_centres = kNaN, frame_control_centres = kNaN;  // mean per replicate of the sampling frame
  std::string posterior;  // the ensemble's file and problem ("" without --posterior)
  std::vector<std::string> fitted_targets, validation_targets;  // from the ensemble: every target, by role
  long long redraws = 0;  // population draws beyond the first, over all replicates (frames short of the design)
  std::vector<OutcomeSummary> summary;
};
Report make_report(const std::string& scenario, const ParamSet& params, const std::vector<ReplicateResult>& results,
                   double seconds, const posterior::Ensemble* ensemble = nullptr);
// format "table" (for a terminal), "csv" or "json" (one row per outcome); throws std::invalid_argument for another.
std::string format_report(const Report& report, const std::string& format);

}  // namespace chacra::study::evaluation
