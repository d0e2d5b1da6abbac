// The virtual evaluation of the 2017 Haku Winay cohort: design parameters, sampling frame and sampler,
// estimators, the per-replicate run and the summary over replicates (see study/evaluation.hpp).
#include "study/evaluation.hpp"

#include "models/haku_winay.hpp"
#include "models/hw_targeting.hpp"
#include "models/registry.hpp"
#include "study/registry.hpp"
#include "models/shared_state.hpp"
#include "sim/engine.hpp"
#include "sim/population.hpp"
#include "sim/scenario.hpp"
#include "study/stats.hpp"

#include <oneapi/tbb/parallel_for.h>

#include <algorithm>
#include <mutex>
#include <numeric>

namespace chacra::study::evaluation {

// The virtual evaluation runs the model and reads its columns, technologies and targeting rule throughout.
using namespace chacra::models;
namespace col = models::col;  // the model's columns (the engine's included)

namespace {
const char* kSource = "IEP / UC Davis evaluation of the 2017 HW cohort (Rural Synergies Peru brief)";
}

// ---------------------------------------------------------------------------------------------------------
// Design

void register_params(Registry& r) {
  r.real("evaluation.cutoff", 0.6, 0, 1, "UBN share", "UBN threshold of the 2017 rule (the RD cutoff)", kSource);
  r.real("evaluation.band", 0.1, 0.001, 0.5, "UBN share",
         "Width of each band: control centres in [cutoff - band, cutoff), ITT centres in [cutoff, cutoff + band)",
         std::string(kSource) + ": control 50-60%, ITT 60-70%");
  r.integer("evaluation.cohort_year", 2017, 1990, 2100, "year", "HW cohort evaluated (ITT centres: selected that year)",
            kSource);
  r.integer("evaluation.itt_centres", 26, 1, 100000, "centres", "ITT centres sampled", std::string(kSource) + ": 26 centres");
  r.integer("evaluation.itt_households", 661, 1, 10000000, "households", "Juntos households sampled in ITT centres",
            std::string(kSource) + ": 661 households");
  r.integer("evaluation.control_centres", 23, 1, 100000, "centres", "Control centres sampled", std::string(kSource) + ": 23 centres");
  r.integer("evaluation.control_households", 338, 1, 10000000, "households",
            "Juntos households sampled in control centres", std::string(kSource) + ": 338 households");
  r.integer("evaluation.min_juntos_per_centre", 5, 1, 100000, "households",
            "A centre enters the sampling frame only with at least this many Juntos households at baseline",
            "Assumption: a survey does not visit centres with hardly any Juntos household");
  r.boolean("evaluation.study_departments_only", true,
            "Sample only centres of the five departments of the study (Ayacucho, Cajamarca, Cusco, Huanuco, Ancash)",
            std::string(kSource) + ": 11 districts in these five departments");
  r.boolean("evaluation.same_districts", true,
            "Control centres only in districts that also hold an ITT frame centre", "Assumption: the study's "
            "treated and control centres came from the same 11 districts");
  r.integer("evaluation.baseline_year", 2017, 1990, 2100, "year", "Year of the baseline snapshot", kSource);
  r.integer("evaluation.baseline_month_of_year", 6, 1, 12, "month of year",
            "Month of the baseline snapshot (states at its end; baseline income summed from January to it). The "
            "default is the last month before the 2017 cohort's first programme month (haku_winay.start_month_of_year "
            "= 7), so the baseline is pre-treatment as the study's was",
            std::string(kSource) + ": baseline late 2017 to early 2018, before HW reached households");
  r.integer("evaluation.outcome_year", 2019, 1990, 2100, "year",
            "Calendar year the follow-up measured (income summed over it, states at its end)",
            std::string(kSource) + ": follow-up March-April 2020 about the year 2019");
  r.real("evaluation.rd_bandwidth", 0.1, 0.001, 1, "UBN share", "Bandwidth of the local-linear RD (triangular kernel)",
         "Assumption: the width of the study's bands");
  r.integer("evaluation.max_frame_draws", 50, 1, 4095, "draws",
            "Population draws a replicate may take until its sampling frame holds the design's centres (each redraw "
            "is a fresh population and fresh streams; a replicate whose first draw holds them is unchanged)",
            "Assumption: the study's frame had the centres it sampled; a population that does not is redrawn rather "
            "than the design shrunk");
  r.integer("evaluation.quantile_bootstrap_draws", 199, 0, 100000, "draws",
            "Cluster-bootstrap draws (centres resampled within each arm) for the standard errors of the quantile "
            "effects (0: no interval)",
            "Assumption: the study's sample was drawn by centre, so its quantile effects vary by centre");
  r.boolean("evaluation.rd_on_frame", true,
            "RD on every Juntos household of the sampling frame (false: on the sampled households only)", "Assumption");
}

// evaluation.* is part of the full registry (study/registry.cpp); this alias keeps call sites explicit.
const Registry& registry() { return study::registry(); }

Design Design::from(const ParamSet& p) {
  Design d;
  d.cutoff = p.real("evaluation.cutoff");
  d.band = p.real("evaluation.band");
  d.cohort_year = static_cast<int>(p.integer("evaluation.cohort_year"));
  d.itt_centres = static_cast<int>(p.integer("evaluation.itt_centres"));
  d.itt_households = static_cast<int>(p.integer("evaluation.itt_households"));
  d.control_centres = static_cast<int>(p.integer("evaluation.control_centres"));
  d.control_households = static_cast<int>(p.integer("evaluation.control_households"));
  d.min_juntos_per_centre = static_cast<int>(p.integer("evaluation.min_juntos_per_centre"));
  d.study_departments_only = p.boolean("evaluation.study_departments_only");
  d.same_districts = p.boolean("evaluation.same_districts");
  d.baseline_year = static_cast<int>(p.integer("evaluation.baseline_year"));
  d.baseline_month_of_year = static_cast<int>(p.integer("evaluation.baseline_month_of_year"));
  d.outcome_year = static_cast<int>(p.integer("evaluation.outcome_year"));
  d.rd_bandwidth = p.real("evaluation.rd_bandwidth");
  d.rd_on_frame = p.boolean("evaluation.rd_on_frame");
  d.max_frame_draws = static_cast<int>(p.integer("evaluation.max_frame_draws"));
  d.bootstrap_draws = static_cast<int>(p.integer("evaluation.quantile_bootstrap_draws"));
  return d;
}

void check_design(const ParamSet& p) {
  const Design d = Design::from(p);
  const int start = static_cast<int>(p.integer("run.start_year"));
  const int months = static_cast<int>(p.integer("run.years")) * 12;
  std::vector<ConfigIssue> issues;
  auto add = [&](const std::string& key, const std::string& msg, const std::string& hint) {
    issues.push_back(ConfigIssue{"<evaluation>", 0, 0, key, msg, hint});
  };
  if (d.baseline_month(start) < 0)
    add("evaluation.baseline_year", "the baseline falls before run.start_year", "start the run earlier");
  if (d.outcome_first_month(start) + 12 > months)
    add("evaluation.outcome_year", "the outcome year ends after the run (run.start_year + run.years)",
        "set run.years to at least " + std::to_string(d.outcome_year - start + 1));
  if (d.baseline_month(start) >= d.outcome_first_month(start))
    add("evaluation.baseline_year", "the baseline must come before the outcome year", "");
  // The ITT centres are those Haku Winay selects in the cohort year: without that cohort there are none, and
  // every replicate would run to its end before the sample found so.
  if (!p.boolean("haku_winay.enabled"))
    add("haku_winay.enabled", "the evaluation needs Haku Winay (its ITT centres are the cohort it selects)",
        "set haku_winay.enabled: true");
  const auto first = p.integer("haku_winay.first_cohort_year"), last = p.integer("haku_winay.last_cohort_year");
  if (d.cohort_year < first || d.cohort_year > last)
    add("evaluation.cohort_year",
        "no Haku Winay cohort starts in " + std::to_string(d.cohort_year) + " (cohorts start " + std::to_string(first) +
            " to " + std::to_string(last) + "), so there would be no ITT centres",
        "set evaluation.cohort_year within haku_winay.first_cohort_year and haku_winay.last_cohort_year");
  if (d.cohort_year < start || d.cohort_year >= start + months / 12)
    add("evaluation.cohort_year", "the cohort year is outside the run, so there would be no ITT centres",
        "set run.start_year and run.years to cover it");
  if (!issues.empty()) throw ConfigError(std::move(issues));
}

// ---------------------------------------------------------------------------------------------------------
// Sampling

Frame build_frame(const World& w, const Design& d, const std::vector<std::uint8_t>& juntos,
                  const std::vector<std::uint8_t>& rest_of_rule) {
  Frame f;
  const auto* ubn = w.centres.get<float>(col::centre_ubn_share);
  const auto* c_district = w.centres.get<std::uint32_t>(col::centre_district);
  const auto* selected = w.centres.get<std::int16_t>(col::centre_hw_selected_year);
  const auto* department = w.districts.get<std::uint8_t>(col::district_department);
  const std::size_t nc = w.centre_count();
  auto juntos_of = [&](std::size_t c) {
    std::vector<std::uint32_t> hh;
    for (std::uint32_t i = w.centre_first[c]; i < w.centre_first[c + 1]; ++i)
      if (juntos[i]) hh.push_back(i);
    return hh;
  };
  std::vector<std::uint8_t> itt_district(w.district_count(), 0);
  for (std::size_t c = 0; c < nc; ++c) {
    const double u = ubn[c];
    if (d.study_departments_only && department[c_district[c]] >= 5) continue;
    const bool itt_band = u >= d.cutoff && u < d.cutoff + d.band;
    if (!itt_band || selected[c] != d.cohort_year) continue;
    auto hh = juntos_of(c);
    if (static_cast<int>(hh.size()) < d.min_juntos_per_centre) continue;
    itt_district[c_district[c]] = 1;
    f.itt.push_back(FrameCentre{static_cast<std::uint32_t>(c), c_district[c], u, std::move(hh)});
  }
  for (std::size_t c = 0; c < nc; ++c) {
    const double u = ubn[c];
    if (d.study_departments_only && department[c_district[c]] >= 5) continue;
    const bool control_band = u >= d.cutoff - d.band && u < d.cutoff;
    if (!control_band || selected[c] >= 0 || !rest_of_rule[c]) continue;
    if (d.same_districts && !itt_district[c_district[c]]) continue;
    auto hh = juntos_of(c);
    if (static_cast<int>(hh.size()) < d.min_juntos_per_centre) continue;
    f.control.push_back(FrameCentre{static_cast<std::uint32_t>(c), c_district[c], u, std::move(hh)});
  }
  return f;
}

namespace {

// The first k elements of v become a uniform random k-subset (partial Fisher-Yates).
template <class T> void partial_shuffle(std::vector<T>& v, std::size_t k, rng::Stream& s) {
  for (std::size_t i = 0; i < k && i + 1 < v.size(); ++i) {
    const std::size_t j = i + static_cast<std::size_t>(s.below(v.size() - i));
    std::swap(v[i], v[j]);
  }
}

// Draws `n_centres` centres and `n_households` households from `centres`, appending to the sample.
void draw_arm(const std::vector<FrameCentre>& centres, int n_centres, int n_households, bool itt, rng::Stream& s,
              Sample& out, std::vector<std::uint32_t>& chosen_ids) {
  const char* arm = itt ? "ITT" : "control";
  if (static_cast<int>(centres.size()) < n_centres)
    throw SampleError(std::string("evaluation sample: the population has ") + std::to_string(centres.size()) + " " +
                      arm + " centres in the frame but the design needs " + std::to_string(n_centres) +
                      "; raise population.households (or lower evaluation.min_juntos_per_centre)");
  std::vector<std::size_t> idx(centres.size());
  std::iota(idx.begin(), idx.end(), std::size_t{0});
  partial_shuffle(idx, static_cast<std::size_t>(n_centres), s);
  idx.resize(static_cast<std::size_t>(n_centres));
  std::sort(idx.begin(), idx.end());
  std::size_t available = 0;
  for (std::size_t i : idx) available += centres[i].households.size();
  if (available < static_cast<std::size_t>(n_households))
    throw SampleError(std::string("evaluation sample: the ") + std::to_string(n_centres) + " " + arm +
                      " centres drawn hold " + std::to_string(available) + " Juntos households but the design needs " +
                      std::to_string(n_households) + "; raise population.mean_centre_households or population.households");
  // Water filling: equal takes, capped by each centre's households.
  std::vector<std::size_t> take(idx.size(), 0);
  std::size_t left = static_cast<std::size_t>(n_households);
  while (left > 0) {
    std::size_t open = 0;
    for (std::size_t k = 0; k < idx.size(); ++k) open += take[k] < centres[idx[k]].households.size() ? 1 : 0;
    const std::size_t each = std::max<std::size_t>(1, left / std::max<std::size_t>(open, 1));
    for (std::size_t k = 0; k < idx.size() && left > 0; ++k) {
      const std::size_t room = centres[idx[k]].households.size() - take[k];
      const std::size_t add = std::min({room, each, left});
      take[k] += add;
      left -= add;
    }
  }
  for (std::size_t k = 0; k < idx.size(); ++k) {
    const FrameCentre& fc = centres[idx[k]];
    chosen_ids.push_back(fc.centre);
    std::vector<std::uint32_t> hh = fc.households;
    partial_shuffle(hh, take[k], s);
    hh.resize(take[k]);
    std::sort(hh.begin(), hh.end());
    for (std::uint32_t i : hh) {
      out.households.push_back(i);
      out.itt.push_back(itt ? 1 : 0);
      out.centre.push_back(fc.centre);
    }
  }
}

}  // namespace

Sample draw_sample(const Frame& frame, const Design& d, rng::Stream& s) {
  Sample out;
  draw_arm(frame.itt, d.itt_centres, d.itt_households, true, s, out, out.itt_centres);
  draw_arm(frame.control, d.control_centres, d.control_households, false, s, out, out.control_centres);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Estimators

double Effect::low() const { return has_ci() ? estimate - stats::t_critical_95(dof) * se : kNaN; }
double Effect::high() const { return has_ci() ? estimate + stats::t_critical_95(dof) * se : kNaN; }

namespace {

bool constant(const std::vector<double>& v) {
  return v.empty() || std::all_of(v.begin(), v.end(), [&](double x) { return x == v.front(); });
}

std::size_t distinct_clusters(const std::vector<int>& clusters) {
  std::vector<int> c = clusters;
  std::sort(c.begin(), c.end());
  return static_cast<std::size_t>(std::unique(c.begin(), c.end()) - c.begin());
}

}  // namespace

Effect itt_ancova(const std::vector<double>& y, const std::vector<double>& itt,
                  const std::vector<std::vector<double>>& covariates, const std::vector<int>& clusters) {
  Effect e;
  if (y.size() < 3 || constant(itt) || distinct_clusters(clusters) < 2) return e;
  std::vector<std::vector<double>> X = {itt};
  std::vector<std::string> names = {"itt"};
  for (std::size_t k = 0; k < covariates.size(); ++k) {
    if (constant(covariates[k])) continue;
    X.push_back(covariates[k]);
    names.push_back("x" + std::to_string(k));
  }
  // Drop covariates collinear with earlier columns, one at a time (stats::ols names the offending column).
  for (;;) {
    try {
      const stats::OlsResult r = stats::ols(X, y, &clusters, true, names);
      e.estimate = r.coef("itt");
      e.se = r.se_of("itt");
      e.dof = r.dof;
      return e;
    } catch (const std::invalid_argument&) {
      if (X.size() <= 1) return e;
      X.pop_back();
      names.pop_back();
    }
  }
}

Effect cluster_mean(const std::vector<double>& y, const std::vector<int>& clusters) {
  Effect e;
  if (y.empty()) return e;
  e.estimate = stats::mean(y);
  if (y.size() < 2 || distinct_clusters(clusters) < 2) return e;
  try {
    const stats::OlsResult r = stats::ols({}, y, &clusters, true);
    e.se = r.se[0];
    e.dof = r.dof;
  } catch (const std::invalid_argument&) {
  }
  return e;
}

std::vector<double> quantile_effects(const std::vector<double>& y, const std::vector<double>& itt,
                                     const std::vector<double>& qs) {
  std::vector<double> t, c;
  for (std::size_t i = 0; i < y.size(); ++i) (itt[i] != 0 ? t : c).push_back(y[i]);
  if (t.empty() || c.empty()) return std::vector<double>(qs.size(), kNaN);
  return stats::quantile_treatment_effects(t, c, qs).effects;
}

std::vector<Effect> quantile_effects_clustered(const std::vector<double>& y, const std::vector<double>& itt,
                                               const std::vector<int>& clusters, const std::vector<double>& qs,
                                               int draws, rng::Stream& stream) {
  std::vector<Effect> out(qs.size());
  const auto point = quantile_effects(y, itt, qs);
  for (std::size_t j = 0; j < qs.size(); ++j) out[j].estimate = point[j];
  // Centres of each arm, with their households' outcomes, in order of first appearance.
  std::vector<std::vector<std::vector<double>>> arm(2);
  {
    std::vector<std::pair<int, int>> seen;  // (cluster, arm index) -> slot by linear search: few centres
    std::vector<std::size_t> slot_of;
    for (std::size_t i = 0; i < y.size(); ++i) {
      const int a = itt[i] != 0 ? 1 : 0;
      std::size_t slot = arm[a].size();
      for (std::size_t k = 0; k < seen.size(); ++k)
        if (seen[k].first == clusters[i] && seen[k].second == a) slot = slot_of[k];
      if (slot == arm[a].size()) {
        seen.emplace_back(clusters[i], a);
        slot_of.push_back(slot);
        arm[a].emplace_back();
      }
      arm[a][slot].push_back(y[i]);
    }
  }
  if (draws < 2 || arm[0].size() < 2 || arm[1].size() < 2) return out;
  // Cluster bootstrap: centres resampled with replacement within each arm, as the design sampled them.
  std::vector<std::vector<double>> boot(qs.size());
  std::vector<double> t, c;
  for (int b = 0; b < draws; ++b) {
    for (int a = 0; a < 2; ++a) {
      auto& v = a ? t : c;
      v.clear();
      for (std::size_t k = 0; k < arm[a].size(); ++k) {
        const auto& centre = arm[a][static_cast<std::size_t>(stream.below(arm[a].size()))];
        v.insert(v.end(), centre.begin(), centre.end());
      }
    }
    const auto e = stats::quantile_treatment_effects(t, c, qs).effects;
    for (std::size_t j = 0; j < qs.size(); ++j) boot[j].push_back(e[j]);
  }
  for (std::size_t j = 0; j < qs.size(); ++j) {
    const double m = stats::mean(boot[j]);
    double ss = 0.0;
    for (double v : boot[j]) ss += (v - m) * (v - m);
    out[j].se = std::sqrt(ss / static_cast<double>(boot[j].size() - 1));
    out[j].dof = static_cast<double>(arm[0].size() + arm[1].size() - 2);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Outcomes

namespace {

// Technologies reported, with their published ITT effects (share points).
struct TechTarget {
  Tech tech;
  double published;
  const char* label;
};
const TechTarget kTechTargets[] = {
    {Tech::vegetable_garden, 0.22, "share growing vegetables (garden adopted)"},
    {Tech::organic_fertiliser_use, 0.33, "share using organic fertiliser"},
    {Tech::organic_fertiliser_prep, 0.11, "share preparing organic fertiliser"},
    {Tech::sprinkler_irrigation, 0.20, "share using sprinkler irrigation"},
    {Tech::cultivated_pasture, 0.11, "share growing cultivated pasture"},
    {Tech::small_animal_shed, 0.23, "share using sheds for small animals"},
};
const double kQuantiles[] = {0.10, 0.25, 0.50, 0.75, 0.90};

}  // namespace

const std::vector<OutcomeSpec>& outcomes() {
  static const std::vector<OutcomeSpec> list = [] {
    std::vector<OutcomeSpec> v;
    v.push_back({"income", "PEN/year", 1400.0, false,
                 "ITT on monetary household income in the outcome year (sum of income_monetary_pen, transfers "
                 "included)"});
    for (const auto& t : kTechTargets)
      v.push_back({kTechNames[static_cast<std::size_t>(tech_index(t.tech))], "share", t.published, false,
                   std::string("ITT on the ") + t.label + " at the end of the outcome year"});
    v.push_back({"pasture_ha", "ha", 0.3, false,
                 "ITT on pasture area over all households, as the study estimated every effect (published: +0.3 "
                 "ha of pasture grown)"});
    v.push_back({"control_mean_income", "PEN/year", 4500.0, true,
                 "Mean monetary income of the control group in the outcome year (published: about 4,500, the "
                 "+1,400 being more than 30% of it)"});
    v.push_back({"pasture_ha_per_adopter", "ha", std::nullopt, false,
                 "Mean pasture area of ITT-group pasture adopters at the end of the outcome year (descriptive: no "
                 "published counterpart)"});
    v.push_back({"hw_reach_itt", "share", 0.72, true, "Share of ITT households reached by HW (HW coverage)"});
    v.push_back({"hw_reach_control", "share", 0.24, true,
                 "Share of control households reached by HW (HW coverage: spill-in below the threshold)"});
    v.push_back({"hw_business_income", "PEN/year", std::nullopt, false,
                 "ITT on the household's share of HW business profit in the outcome year (part of income)"});
    for (double q : kQuantiles) {
      const int pct = static_cast<int>(std::lround(q * 100));
      v.push_back({"income_q" + std::to_string(pct), "PEN/year", std::nullopt, false,
                   "Unconditional quantile ITT effect on income at the " + std::to_string(pct) +
                       "th percentile (ITT minus control quantile)"});
    }
    v.push_back({"income_gini_itt_minus_control", "Gini", std::nullopt, false,
                 "Gini of outcome-year income, ITT group minus control group (> 0: HW raises inequality)"});
    v.push_back({"income_gap_locus_control", "PEN/year", std::nullopt, false,
                 "Control group: mean income of households above the sample's median baseline locus of control "
                 "minus below"});
    v.push_back({"income_gap_locus_itt", "PEN/year", std::nullopt, false,
                 "ITT group: mean income above minus below the median baseline locus of control"});
    v.push_back({"income_itt_by_capacity_top_minus_bottom", "PEN/year", std::nullopt, false,
                 "ITT on income among households above the median productive capacity minus the ITT below it "
                 "(heterogeneity of the effect)"});
    v.push_back({"reach_itt_by_capacity_top_minus_bottom", "share", std::nullopt, false,
                 "HW reach of ITT households above the median productive capacity minus below (0: the better-off "
                 "do not participate more)"});
    return v;
  }();
  return list;
}

std::size_t outcome_index(const std::string& name) {
  const auto& o = outcomes();
  for (std::size_t i = 0; i < o.size(); ++i)
    if (o[i].name == name) return i;
  throw std::invalid_argument("evaluation: unknown outcome '" + name + "'");
}

// ---------------------------------------------------------------------------------------------------------
// One replicate

namespace {

// One draw of replicate `replicate`'s world: draw `draw` uses population and stream key
// replicate + draw * kDrawStride (draw 0 is the replicate itself, so a frame that holds the design on its first
// draw gives the same bits as before redraws existed). Returns nullopt when the frame cannot hold the design
// (checked at the baseline month on the centres not yet selected, an upper bound, and again after the run).
std::optional<ReplicateResult> draw_replicate(const ParamSet& params, std::uint32_t replicate, std::uint32_t draw) {
  const Design d = Design::from(params);
  const std::uint32_t key = replicate + draw * kDrawStride;
  World world = generate_population(params, key);
  Model model = build_model(params);
  const rng::StreamSeed seed{static_cast<std::uint64_t>(params.integer("run.seed")), key};
  for (auto& m : model.modules) m->setup(world, params, seed);
  Stepper stepper(world, model.month, params, seed);

  const int start_year = world.calendar.start_year;
  const int base_m = d.baseline_month(start_year);
  const int out_first = d.outcome_first_month(start_year), out_last = out_first + 11;
  const int base_first = (d.baseline_year - start_year) * 12;
  const std::size_t n = world.household_count(), nc = world.centre_count();
  auto& h = world.households;

  std::vector<double> income_base(n, 0.0), income_out(n, 0.0), business_out(n, 0.0);
  std::vector<std::uint8_t> juntos_base(n, 0), size_base(n, 0), adopted_base(n * kTechCount, 0);
  std::vector<double> pasture_base(n, 0.0);
  std::vector<std::uint8_t> rest_of_rule(nc, 0);

  for (int month = 0; month <= out_last; ++month) {
    stepper.step(month);
    const float* income = h.get<float>(col::income_monetary_pen);
    if (month >= base_first && month <= base_m)
      for (std::size_t i = 0; i < n; ++i) income_base[i] += income[i];
    if (month >= out_first) {
      const float* business = h.get<float>(col::business_profit_pen);
      for (std::size_t i = 0; i < n; ++i) {
        income_out[i] += income[i];
        business_out[i] += business[i];
      }
    }
    if (month == base_m) {
      const auto* juntos = h.get<std::uint8_t>(col::juntos_enrolled);
      const auto* size = h.get<std::uint8_t>(col::household_size);
      const auto* state = h.get<std::uint8_t>(col::tech_state);
      const auto* pasture = h.get<float>(col::pasture_ha);
      std::copy(juntos, juntos + n, juntos_base.begin());
      std::copy(size, size + n, size_base.begin());
      for (std::size_t k = 0; k < n * kTechCount; ++k)
        adopted_base[k] = state[k] == static_cast<std::uint8_t>(TechState::adopted) ? 1 : 0;
      for (std::size_t i = 0; i < n; ++i) pasture_base[i] = pasture[i];
      TargetingRule rule = TargetingRule::from(params);
      rule.min_ubn_share = 0.0;
      rule.border_exception = false;
      const auto profiles = centre_profiles(world, rule);
      for (std::size_t c = 0; c < nc; ++c) rest_of_rule[c] = centre_eligible(rule, profiles[c]) ? 1 : 0;
      // The cohort is selected by now: a frame short of the design's centres here (where control centres are
      // those not yet selected, a superset of the final ones) is short at the end too, so redraw at once.
      const Frame early = build_frame(world, d, juntos_base, rest_of_rule);
      if (static_cast<int>(early.itt.size()) < d.itt_centres || static_cast<int>(early.control.size()) < d.control_centres)
        return std::nullopt;
    }
  }

  ReplicateResult res;
  const auto& specs = outcomes();
  res.effects.assign(specs.size(), Effect{});
  res.rd.assign(specs.size(), kNaN);
  const Frame frame = build_frame(world, d, juntos_base, rest_of_rule);
  res.frame_itt_centres = frame.itt.size();
  res.frame_control_centres = frame.control.size();
  res.frame_draws = draw + 1;
  if (static_cast<int>(frame.itt.size()) < d.itt_centres || static_cast<int>(frame.control.size()) < d.control_centres)
    return std::nullopt;
  rng::Stream stream = seed.open(kSampleDomain, 0, 0);
  const Sample sample = draw_sample(frame, d, stream);

  // Household data of a list of households.
  const auto* state = h.get<std::uint8_t>(col::tech_state);
  const auto* pasture = h.get<float>(col::pasture_ha);
  const auto* land = h.get<float>(col::land_ha);
  const auto* water = h.get<std::uint8_t>(col::water_access);
  const auto* participant = h.get<std::uint8_t>(col::hw_participant);
  const auto* locus = h.get<float>(col::baseline_locus_of_control);
  const auto* capacity = h.get<float>(col::productive_capacity);
  const auto* ubn = world.centres.get<float>(col::centre_ubn_share);
  auto adopted = [&](std::uint32_t i, int t) {
    return state[static_cast<std::size_t>(i) * kTechCount + static_cast<std::size_t>(t)] ==
                   static_cast<std::uint8_t>(TechState::adopted)
               ? 1.0
               : 0.0;
  };

  const std::size_t m = sample.households.size();
  std::vector<double> itt(m), y_income(m), b_income(m), y_business(m), hh_size(m), hh_land(m), hh_water(m),
      y_part(m), b_locus(m), b_capacity(m);
  std::vector<int> clusters(m);
  for (std::size_t k = 0; k < m; ++k) {
    const std::uint32_t i = sample.households[k];
    itt[k] = sample.itt[k];
    y_income[k] = income_out[i];
    b_income[k] = income_base[i];
    y_business[k] = business_out[i];
    hh_size[k] = size_base[i];
    hh_land[k] = land[i];
    hh_water[k] = water[i];
    y_part[k] = participant[i];
    b_locus[k] = locus[i];
    b_capacity[k] = capacity[i];
    clusters[k] = static_cast<int>(sample.centre[k]);
  }
  auto covariates_with = [&](const std::vector<double>& baseline) {
    return std::vector<std::vector<double>>{baseline, hh_size, hh_land, hh_water};
  };

  // RD data: every Juntos household of the frame (or the sample), running variable the centre UBN share.
  std::vector<std::uint32_t> rd_households;
  if (d.rd_on_frame) {
    for (const auto* arm : {&frame.itt, &frame.control})
      for (const auto& fc : *arm) rd_households.insert(rd_households.end(), fc.households.begin(), fc.households.end());
  } else {
    rd_households = sample.households;
  }
  const auto* hh_centre = h.get<std::uint32_t>(col::centre);
  std::vector<double> rd_running(rd_households.size());
  std::vector<int> rd_clusters(rd_households.size());
  for (std::size_t k = 0; k < rd_households.size(); ++k) {
    rd_running[k] = ubn[hh_centre[rd_households[k]]];
    rd_clusters[k] = static_cast<int>(hh_centre[rd_households[k]]);
  }
  auto rd = [&](const std::function<double(std::uint32_t)>& value) {
    std::vector<double> y(rd_households.size());
    for (std::size_t k = 0; k < rd_households.size(); ++k) y[k] = value(rd_households[k]);
    try {
      return stats::local_linear_rd(rd_running, y, d.cutoff, d.rd_bandwidth, &rd_clusters).estimate;
    } catch (const std::invalid_argument&) {
      return kNaN;
    }
  };

  // Income.
  const std::size_t i_income = outcome_index("income");
  res.effects[i_income] = itt_ancova(y_income, itt, covariates_with(b_income), clusters);
  res.rd[i_income] = rd([&](std::uint32_t i) { return income_out[i]; });
  // Technologies.
  for (const auto& t : kTechTargets) {
    const int ti = tech_index(t.tech);
    std::vector<double> y(m), b(m);
    for (std::size_t k = 0; k < m; ++k) {
      y[k] = adopted(sample.households[k], ti);
      b[k] = adopted_base[static_cast<std::size_t>(sample.households[k]) * kTechCount + static_cast<std::size_t>(ti)];
    }
    const std::size_t o = outcome_index(kTechNames[static_cast<std::size_t>(ti)]);
    res.effects[o] = itt_ancova(y, itt, covariates_with(b), clusters);
    res.rd[o] = rd([&](std::uint32_t i) { return adopted(i, ti); });
  }
  // Pasture area over all households.
  {
    std::vector<double> y(m), b(m);
    for (std::size_t k = 0; k < m; ++k) {
      y[k] = pasture[sample.households[k]];
      b[k] = pasture_base[sample.households[k]];
    }
    const std::size_t o = outcome_index("pasture_ha");
    res.effects[o] = itt_ancova(y, itt, covariates_with(b), clusters);
    res.rd[o] = rd([&](std::uint32_t i) { return static_cast<double>(pasture[i]); });
  }
  // Levels by arm.
  auto subset = [&](const std::vector<double>& v, const std::function<bool(std::size_t)>& keep,
                    std::vector<int>* cl = nullptr) {
    std::vector<double> out;
    for (std::size_t k = 0; k < m; ++k)
      if (keep(k)) {
        out.push_back(v[k]);
        if (cl) cl->push_back(clusters[k]);
      }
    return out;
  };
  {
    std::vector<int> cl;
    const auto y = subset(y_income, [&](std::size_t k) { return itt[k] == 0; }, &cl);
    res.effects[outcome_index("control_mean_income")] = cluster_mean(y, cl);
  }
  {
    std::vector<double> area;
    std::vector<int> cl;
    for (std::size_t k = 0; k < m; ++k)
      if (itt[k] != 0 && adopted(sample.households[k], tech_index(Tech::cultivated_pasture)) != 0) {
        area.push_back(pasture[sample.households[k]]);
        cl.push_back(clusters[k]);
      }
    res.effects[outcome_index("pasture_ha_per_adopter")] = cluster_mean(area, cl);
  }
  for (int arm = 1; arm >= 0; --arm) {
    std::vector<int> cl;
    const auto y = subset(y_part, [&](std::size_t k) { return itt[k] == arm; }, &cl);
    res.effects[outcome_index(arm ? "hw_reach_itt" : "hw_reach_control")] = cluster_mean(y, cl);
  }
  res.effects[outcome_index("hw_business_income")] =
      itt_ancova(y_business, itt, covariates_with(b_income), clusters);
  {
    const std::vector<double> qs(std::begin(kQuantiles), std::end(kQuantiles));
    rng::Stream boot = seed.open(kSampleDomain, 1, 0);
    const auto q = quantile_effects_clustered(y_income, itt, clusters, qs, d.bootstrap_draws, boot);
    for (std::size_t j = 0; j < qs.size(); ++j)
      res.effects[outcome_index("income_q" + std::to_string(static_cast<int>(std::lround(qs[j] * 100))))] = q[j];
  }
  {
    const auto yt = subset(y_income, [&](std::size_t k) { return itt[k] != 0; });
    const auto yc = subset(y_income, [&](std::size_t k) { return itt[k] == 0; });
    try {
      res.effects[outcome_index("income_gini_itt_minus_control")].estimate = stats::gini(yt) - stats::gini(yc);
    } catch (const std::invalid_argument&) {
    }
  }
  // Locus of control: income above minus below the sample's median baseline locus, within each arm.
  {
    const double median_locus = stats::quantile(b_locus, 0.5);
    std::vector<double> above(m);
    for (std::size_t k = 0; k < m; ++k) above[k] = b_locus[k] > median_locus ? 1.0 : 0.0;
    for (int arm = 0; arm <= 1; ++arm) {
      std::vector<int> cl;
      const auto y = subset(y_income, [&](std::size_t k) { return itt[k] == arm; }, &cl);
      const auto a = subset(above, [&](std::size_t k) { return itt[k] == arm; });
      res.effects[outcome_index(arm ? "income_gap_locus_itt" : "income_gap_locus_control")] =
          itt_ancova(y, a, {}, cl);
    }
  }
  // Heterogeneity by productive capacity.
  {
    const double median_capacity = stats::quantile(b_capacity, 0.5);
    std::vector<double> top(m), itt_top(m);
    for (std::size_t k = 0; k < m; ++k) {
      top[k] = b_capacity[k] > median_capacity ? 1.0 : 0.0;
      itt_top[k] = top[k] * itt[k];
    }
    // y = a + b itt + c top + g itt*top + covariates: g is the difference of the ITT between the halves.
    auto cov = covariates_with(b_income);
    cov.insert(cov.begin(), itt);
    cov.insert(cov.begin() + 1, top);
    res.effects[outcome_index("income_itt_by_capacity_top_minus_bottom")] = itt_ancova(y_income, itt_top, cov, clusters);
    std::vector<int> cl;
    const auto reach = subset(y_part, [&](std::size_t k) { return itt[k] != 0; }, &cl);
    const auto top_itt = subset(top, [&](std::size_t k) { return itt[k] != 0; });
    res.effects[outcome_index("reach_itt_by_capacity_top_minus_bottom")] = itt_ancova(reach, top_itt, {}, cl);
  }
  return res;
}

}  // namespace

ReplicateResult run_replicate(const ParamSet& params, std::uint32_t replicate) {
  const Design d = Design::from(params);
  for (std::uint32_t draw = 0; draw < static_cast<std::uint32_t>(d.max_frame_draws); ++draw)
    if (auto r = draw_replicate(params, replicate, draw)) return std::move(*r);
  throw SampleError("evaluation sample: " + std::to_string(d.max_frame_draws) +
                    " draws of the population never held " + std::to_string(d.itt_centres) + " ITT and " +
                    std::to_string(d.control_centres) + " control centres in the frame; raise population.households "
                    "or evaluation.max_frame_draws (or lower evaluation.min_juntos_per_centre)");
}

std::vector<ReplicateResult> run_evaluation(const ParamSet& params, int replicates,
                                            const std::function<void(int, int)>& progress,
                                            const posterior::Ensemble* ensemble) {
  check_design(params);
  std::vector<ReplicateResult> results(static_cast<std::size_t>(std::max(replicates, 0)));
  std::vector<std::string> errors(results.size());
  std::mutex mutex;
  int done = 0;
  tbb::parallel_for(std::size_t{0}, results.size(), [&](std::size_t r) {
    try {
      if (ensemble) {
        const auto rep = static_cast<std::uint32_t>(r);
        const std::size_t row =
            posterior::row_for_replicate(*ensemble, static_cast<std::uint64_t>(params.integer("run.seed")), rep);
        ParamSet drawn = params;
        posterior::apply(*ensemble, row, drawn);
        results[r] = run_replicate(drawn, rep);
        results[r].posterior_row = static_cast<long long>(row);
      } else {
        results[r] = run_replicate(params, static_cast<std::uint32_t>(r));
      }
    } catch (const SampleError& e) {
      errors[r] = e.what();
    }
    if (progress) {
      std::lock_guard<std::mutex> lock(mutex);
      progress(++done, replicates);
    }
  });
  for (std::size_t r = 0; r < errors.size(); ++r)
    if (!errors[r].empty()) throw SampleError("replicate " + std::to_string(r) + ": " + errors[r]);
  return results;
}

// ---------------------------------------------------------------------------------------------------------
// Summary

bool OutcomeSummary::in_band() const {
  return spec.published && std::isfinite(p2_5) && *spec.published >= p2_5 && *spec.published <= p97_5;
}
bool OutcomeSummary::within_25pct() const {
  return spec.published && std::isfinite(model_mean) &&
         std::abs(model_mean - *spec.published) <= 0.25 * std::abs(*spec.published);
}

std::vector<OutcomeSummary> summarise(const std::vector<ReplicateResult>& results,
                                      const posterior::Ensemble* ensemble) {
  const auto& specs = outcomes();
  std::vector<OutcomeSummary> out;
  for (std::size_t o = 0; o < specs.size(); ++o) {
    OutcomeSummary s;
    s.spec = specs[o];
    std::vector<double> est, rd;
    std::size_t with_ci = 0, covered = 0;
    for (const auto& r : results) {
      const Effect& e = r.effects[o];
      if (std::isfinite(e.estimate)) est.push_back(e.estimate);
      if (std::isfinite(r.rd[o])) rd.push_back(r.rd[o]);
      if (s.spec.published && e.has_ci()) {
        ++with_ci;
        covered += e.covers(*s.spec.published) ? 1 : 0;
      }
    }
    s.n_replicates = est.size();
    if (!est.empty()) {
      const auto iv = stats::percentile_interval(est, 0.95);
      s.model_mean = iv.mean;
      s.p2_5 = iv.low;
      s.p97_5 = iv.high;
    }
    if (with_ci > 0) s.coverage = static_cast<double>(covered) / static_cast<double>(with_ci);
    if (!rd.empty()) s.rd_mean = stats::mean(rd);
    if (!ensemble && s.spec.published) s.role = s.spec.calibration_target ? "fitted" : "validation";
    if (ensemble) {
      std::vector<double> by_replicate;
      for (const auto& r : results) by_replicate.push_back(r.effects[o].estimate);
      const auto split = posterior::split_variance(by_replicate);
      s.sd_parameter = split.sd_parameter;
      s.sd_sampling = split.sd_sampling;
      for (const auto& t : ensemble->targets)
        if (posterior::Ensemble::evaluate_outcome(t) == s.spec.name)
          s.role = t.role == "calibration" ? "fitted" : "validation";
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace chacra::study::evaluation
