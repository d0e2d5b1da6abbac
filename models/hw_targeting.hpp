// File: models/hw_targeting.hpp
// Haku Winay targeting: the centre-level eligibility rule as a list of criteria, the
// presets of the policy debate (the 2017 rule, the earlier rule that required Juntos presence, and the
// counterfactual that focalises on centres with many Juntos households), and the per-rule report of how
// many centres and households each rule makes eligible and how many of them are Juntos households.
#pragma once

#include "sim/param_spec.hpp"
#include "sim/params.hpp"
#include "sim/world.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chacra::models {

// The rule presets of haku_winay.targeting.
enum class HwTargetingPreset : std::uint8_t { rule_2017 = 0, pre_2017 = 1, juntos_focalised = 2 };
inline constexpr Choice<HwTargetingPreset> kHwTargetingChoices[] = {{"rule_2017", HwTargetingPreset::rule_2017},
                                                                    {"pre_2017", HwTargetingPreset::pre_2017},
                                                                    {"juntos_focalised", HwTargetingPreset::juntos_focalised}};
const char* to_string(HwTargetingPreset p);

// One eligibility rule: a centre is eligible when it meets every active criterion. Its fields are the
// haku_winay.* targeting parameters (describe(), models/hw_targeting.cpp; defaults are the initial values
// here); a preset then adds criteria (with_preset).
struct TargetingRule {
  std::string name = "rule_2017";            // the preset's name, for reports (not a parameter)
  HwTargetingPreset chosen = HwTargetingPreset::rule_2017;  // haku_winay.targeting
  int min_households = 40;                   // at least this many households (0 drops the criterion)
  double min_ubn_share = 0.6;                // at least this share with an unmet basic need (0 drops it)
  double min_district_poverty = 0.4;         // district poverty strictly above this (0 drops it)
  bool require_malnutrition_priority = false;  // district must be a chronic-malnutrition priority
  double subsistence_share = 0.2;            // share of subsistence farms at least this (0 drops it)
  double subsistence_max_land_ha = 1.3;      // a subsistence farm has less land than this...
  double subsistence_min_farm_labour_share = 0.75;  // ...and at least this share of its labour in farming
  bool require_juntos_presence = false;      // at least one Juntos household in the centre
  double min_juntos_share = 0.0;             // share of Juntos households at least this (0 drops it)
  double focalised_min_juntos_share = 0.3;   // the juntos_focalised preset's minimum Juntos share
  bool rank_by_juntos_share = false;         // rollout priority by Juntos share (not an eligibility test)
  bool border_exception = false;             // border-area centres skip the household and UBN minimums
  int only_district = -1;                    // >= 0: only centres of this district (controlled experiments)

  template <class V> void describe(V& v);
  // This rule's thresholds and toggles under a preset: pre_2017 adds the Juntos-presence requirement;
  // juntos_focalised adds it, ranks by Juntos share and requires at least focalised_min_juntos_share Juntos
  // households. Toggles can only add criteria to a preset.
  TargetingRule with_preset(HwTargetingPreset which) const;
  // The rule configured by the haku_winay.* parameters (the preset haku_winay.targeting applied).
  static TargetingRule from(const ParamSet& params);
  // A preset with the thresholds and toggles of `params`.
  static TargetingRule preset(HwTargetingPreset which, const ParamSet& params);
};

// What the rule looks at in one centre (from the engine's census columns and the current Juntos roll).
struct CentreProfile {
  std::uint32_t households = 0;  // census count (centre column "households")
  std::uint32_t rows = 0;        // simulated households of the centre
  double ubn_share = 0.0;
  double district_poverty = 0.0;
  bool malnutrition_priority = false;
  bool border_area = false;
  double subsistence_share = 0.0;  // share of the centre's households that are subsistence farms
  std::uint32_t juntos_households = 0;
  double juntos_share = 0.0;
  std::uint32_t district = 0;
};

// Profiles of every centre; subsistence farms are defined by the rule's land and labour thresholds.
// juntos_enrolled is read if the column exists (else counted as 0). In a world split by districts only the
// centres held here (World::holds_centre) get their household counts; the others keep zeros.
std::vector<CentreProfile> centre_profiles(const World& world, const TargetingRule& rule);
bool centre_eligible(const TargetingRule& rule, const CentreProfile& centre);

// How many centres and households a rule makes eligible, and how Juntos households fare under it.
struct EligibilityReport {
  std::string rule;
  std::size_t centres = 0;
  std::size_t eligible_centres = 0;
  std::size_t households = 0;            // simulated households, all centres
  std::size_t eligible_households = 0;   // simulated households in eligible centres
  std::size_t juntos_households = 0;     // Juntos households, all centres
  std::size_t eligible_juntos_households = 0;
  double juntos_share_of_eligible = 0.0;  // eligible_juntos_households / eligible_households
  double juntos_coverage = 0.0;           // eligible_juntos_households / juntos_households
};

EligibilityReport eligibility_report(const World& world, const TargetingRule& rule);
// One report per preset (rule_2017, pre_2017, juntos_focalised) and one for the configured rule
// ("configured"), all with the thresholds of `params`. Juntos figures use the current juntos_enrolled
// column, so call it after Juntos has enrolled households (e.g. after the first month).
std::vector<EligibilityReport> eligibility_reports(const World& world, const ParamSet& params);
// A fixed-width text table of the reports, one line per rule.
std::string format_eligibility_reports(const std::vector<EligibilityReport>& reports);

}  // namespace chacra::models
