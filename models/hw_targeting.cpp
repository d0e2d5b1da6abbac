// File: models/hw_targeting.cpp
// Centre eligibility under the Haku Winay targeting rules and the per-rule eligibility report.
#include "models/hw_targeting.hpp"

#include "models/shared_state.hpp"
#include "sim/parallel.hpp"

#include <oneapi/tbb/blocked_range.h>

#include <algorithm>
#include <cstdio>

namespace chacra::models {

const char* to_string(HwTargetingPreset p) { return choice_name(kHwTargetingChoices, p); }

template <class V>
void TargetingRule::describe(V& v) {
  const std::string assumption = "Assumption (docs/calibration.md, Haku Winay)";
  const std::string rule_2017 = "FONCODES targeting rule of 2017 (World Bank, Haku Winay: An Economic Inclusion Program in Peru)";
  v.choice("haku_winay.targeting", chosen, kHwTargetingChoices,
           "Centre targeting rule: rule_2017 (>=40 households, UBN share >=60%, district poverty >40%, "
           "subsistence farms); pre_2017 (also requires Juntos households in the centre); juntos_focalised "
           "(requires a minimum Juntos share and starts centres with the highest Juntos share first). The "
           "toggles below set the thresholds of every preset and can add criteria to it",
           "FONCODES targeting rules before and from 2017 (World Bank Haku Winay case study); juntos_focalised "
           "is a counterfactual of the policy debate on HW as Juntos's exit strategy");
  v.integer("haku_winay.min_households", min_households, {0, 1'000'000}, "households",
            "Minimum households in a centre (0 drops the criterion)", rule_2017 + ": at least 40 households");
  v.real("haku_winay.min_ubn_share", min_ubn_share, {0, 1}, "share of households",
         "Minimum share of households with an unmet basic need (0 drops it); the evaluation's threshold",
         rule_2017 + ": at least 60%");
  v.real("haku_winay.min_district_poverty", min_district_poverty, {0, 1}, "share of people",
         "District poverty rate must be above this (0 drops it)", rule_2017 + ": above 40%");
  v.boolean("haku_winay.require_malnutrition_priority", require_malnutrition_priority,
            "Require the district to be a chronic child malnutrition priority district", assumption);
  v.real("haku_winay.subsistence_share", subsistence_share, {0, 1}, "share of households",
         "Predominance of subsistence farms: minimum share of a centre's households farming under "
         "subsistence_max_land_ha with at least subsistence_min_farm_labour_share of their labour in farming "
         "(0 drops it). At 0.2 it removes about one eligible centre in eight of the default synthetic population",
         rule_2017 + ": predominance of subsistence farms (under 1.3 ha, 75%+ labour in farming); the share is an "
                     "assumption");
  v.real("haku_winay.subsistence_max_land_ha", subsistence_max_land_ha, {0, 100}, "ha",
         "A subsistence farm has less land than this", rule_2017 + ": under 1.3 ha");
  v.real("haku_winay.subsistence_min_farm_labour_share", subsistence_min_farm_labour_share, {0, 1},
         "share of labour", "A subsistence farm puts at least this share of household labour in farming",
         rule_2017 + ": 75% or more");
  v.boolean("haku_winay.require_juntos_presence", require_juntos_presence,
            "Require at least one Juntos household in the centre (always on under pre_2017 and juntos_focalised)",
            "FONCODES targeting rules before 2017 required Juntos presence (World Bank Haku Winay case study)");
  v.real("haku_winay.min_juntos_share", min_juntos_share, {0, 1}, "share of households",
         "Minimum share of Juntos households in the centre, any rule (0 drops it)", assumption);
  v.real("haku_winay.focalised_min_juntos_share", focalised_min_juntos_share, {0, 1}, "share of households",
         "Minimum Juntos share of a centre under the juntos_focalised rule", assumption);
  v.boolean("haku_winay.rank_by_juntos_share", rank_by_juntos_share,
            "Start eligible centres with the highest Juntos share first (always on under juntos_focalised)",
            "Scenario choice: the counterfactual that focalises HW on centres with many Juntos households");
  v.boolean("haku_winay.border_exception", border_exception,
            "Centres in border areas are exempt from the household minimum and the UBN share", assumption);
  v.integer("haku_winay.only_district", only_district, {-1, 2'000'000}, "district index",
            "Restrict Haku Winay to the centres of one district (-1: no restriction); for controlled experiments "
            "and tests of common random numbers",
            "Scenario choice");
}
template void TargetingRule::describe(ParamDeclarer&);
template void TargetingRule::describe(ParamReader&);

TargetingRule TargetingRule::with_preset(HwTargetingPreset which) const {
  TargetingRule r = *this;
  r.chosen = which;
  r.name = to_string(which);
  switch (which) {
    case HwTargetingPreset::rule_2017: break;
    case HwTargetingPreset::pre_2017: r.require_juntos_presence = true; break;
    case HwTargetingPreset::juntos_focalised:
      r.require_juntos_presence = true;
      r.rank_by_juntos_share = true;
      r.min_juntos_share = std::max(r.min_juntos_share, r.focalised_min_juntos_share);
      break;
  }
  return r;
}

TargetingRule TargetingRule::preset(HwTargetingPreset which, const ParamSet& p) {
  return read_params<TargetingRule>(p).with_preset(which);
}

TargetingRule TargetingRule::from(const ParamSet& p) {
  const TargetingRule configured = read_params<TargetingRule>(p);
  return configured.with_preset(configured.chosen);
}

std::vector<CentreProfile> centre_profiles(const World& w, const TargetingRule& rule) {
  const auto& c = w.centres;
  const auto& h = w.households;
  const auto* census = c.get(col::centre_households);
  const auto* ubn = c.get(col::centre_ubn_share);
  const auto* border = c.has(col::centre_border_area) ? c.get(col::centre_border_area) : nullptr;
  const auto* c_district = c.get(col::centre_district);
  const auto* poverty = w.districts.get(col::district_poverty_rate);
  const auto* malnutrition = w.districts.has(col::district_malnutrition_priority)
                                 ? w.districts.get(col::district_malnutrition_priority)
                                 : nullptr;
  const auto* land = h.get(col::land_ha);
  const auto* farm = h.get(col::farm_labour_share);
  const auto* juntos = h.has(col::juntos_enrolled) ? h.get(col::juntos_enrolled) : nullptr;

  const auto max_land = static_cast<float>(rule.subsistence_max_land_ha);
  const auto min_farm = static_cast<float>(rule.subsistence_min_farm_labour_share);
  std::vector<CentreProfile> out(w.centre_count());
  // Centres are independent (integer counts per centre): parallel, the same result on any thread count.
  // Haku Wiñay's yearly rollout calls this inside the month, where a serial sweep of every household would
  // hold up all the other threads.
  const auto profile = [&](std::size_t ci) {
    CentreProfile& p = out[ci];
    const std::uint32_t d = c_district[ci];
    p.households = census[ci];
    p.ubn_share = ubn[ci];
    p.district_poverty = poverty[d];
    p.district = d;
    p.malnutrition_priority = malnutrition != nullptr && malnutrition[d] != 0;
    p.border_area = border != nullptr && border[ci] != 0;
    // A world split by districts holds only its own centres' households: the others keep zero counts.
    if (!w.holds_centre(ci)) return;
    std::uint32_t subsistence = 0, enrolled = 0;
    for (std::uint32_t i = w.centre_first[ci]; i < w.centre_first[ci + 1]; ++i) {
      subsistence += (land[i] < max_land && farm[i] >= min_farm) ? 1u : 0u;
      enrolled += (juntos != nullptr && juntos[i] != 0) ? 1u : 0u;
    }
    p.rows = w.centre_first[ci + 1] - w.centre_first[ci];
    p.subsistence_share = p.rows > 0 ? static_cast<double>(subsistence) / p.rows : 0.0;
    p.juntos_households = enrolled;
    p.juntos_share = p.rows > 0 ? static_cast<double>(enrolled) / p.rows : 0.0;
  };
  parallel_for(0, out.size(), 1, [&](const tbb::blocked_range<std::size_t>& r) {
    for (std::size_t ci = r.begin(); ci != r.end(); ++ci) profile(ci);
  });
  return out;
}

bool centre_eligible(const TargetingRule& r, const CentreProfile& c) {
  if (r.only_district >= 0 && c.district != static_cast<std::uint32_t>(r.only_district)) return false;
  const bool exempt = r.border_exception && c.border_area;
  if (!exempt && r.min_households > 0 && c.households < static_cast<std::uint32_t>(r.min_households)) return false;
  if (!exempt && r.min_ubn_share > 0.0 && c.ubn_share < r.min_ubn_share) return false;
  if (r.min_district_poverty > 0.0 && !(c.district_poverty > r.min_district_poverty)) return false;
  if (r.require_malnutrition_priority && !c.malnutrition_priority) return false;
  if (r.subsistence_share > 0.0 && c.subsistence_share < r.subsistence_share) return false;
  if (r.require_juntos_presence && c.juntos_households == 0) return false;
  if (r.min_juntos_share > 0.0 && c.juntos_share < r.min_juntos_share) return false;
  return true;
}

EligibilityReport eligibility_report(const World& w, const TargetingRule& rule) {
  EligibilityReport rep;
  rep.rule = rule.name;
  const auto profiles = centre_profiles(w, rule);
  rep.centres = profiles.size();
  for (const auto& c : profiles) {
    rep.households += c.rows;
    rep.juntos_households += c.juntos_households;
    if (!centre_eligible(rule, c)) continue;
    ++rep.eligible_centres;
    rep.eligible_households += c.rows;
    rep.eligible_juntos_households += c.juntos_households;
  }
  rep.juntos_share_of_eligible =
      rep.eligible_households > 0 ? static_cast<double>(rep.eligible_juntos_households) / rep.eligible_households
                                  : 0.0;
  rep.juntos_coverage = rep.juntos_households > 0
                            ? static_cast<double>(rep.eligible_juntos_households) / rep.juntos_households
                            : 0.0;
  return rep;
}

std::vector<EligibilityReport> eligibility_reports(const World& w, const ParamSet& params) {
  std::vector<EligibilityReport> out;
  for (auto preset : {HwTargetingPreset::rule_2017, HwTargetingPreset::pre_2017,
                      HwTargetingPreset::juntos_focalised}) {
    out.push_back(eligibility_report(w, TargetingRule::preset(preset, params)));
  }
  TargetingRule configured = TargetingRule::from(params);
  configured.name = "configured (" + configured.name + ")";
  out.push_back(eligibility_report(w, configured));
  return out;
}

std::string format_eligibility_reports(const std::vector<EligibilityReport>& reports) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-30s %9s %9s %11s %11s %12s %12s\n", "rule", "centres", "eligible",
                "households", "eligible_hh", "juntos_share", "juntos_cover");
  out += line;
  for (const auto& r : reports) {
    std::snprintf(line, sizeof line, "%-30s %9zu %9zu %11zu %11zu %12.3f %12.3f\n", r.rule.c_str(), r.centres,
                  r.eligible_centres, r.households, r.eligible_households, r.juntos_share_of_eligible,
                  r.juntos_coverage);
    out += line;
  }
  return out;
}

}  // namespace chacra::models
