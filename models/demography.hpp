// File: models/demography.hpp
// Demography: members age one month per step; women of fertile age conceive with a
// monthly hazard and give birth nine months later into an empty member slot; children attend school from
// age 3 and finish secondary school at about 17 with a probability; young adults who live with a parent
// leave the household from age 19 with a monthly hazard (the others stay on as adults); members aged 60
// or more die with a monthly hazard. Juntos reads the ages, pregnancy and secondary-school flags to
// decide eligibility and aging out.
//
// Random numbers: one stream per (domain "demography.step", month, household) and always the same eight
// 32-bit uniforms from one Philox block, whatever the household's state or the parameters:
//   u0 conception, u1 sex of a newborn, u2 secondary completion, u3 leaving, u4 death (u5..u7 unused).
#pragma once

#include "models/shared_state.hpp"
#include "sim/engine.hpp"
#include "sim/params.hpp"

#include <cstdint>
#include <string>

namespace chacra::models {

// Parameters of the module, read once in setup; each field's name, range, unit, description and source
// are in describe() (models/demography.cpp), its default is its initial value here. Ages are held in months.
struct DemographyParams {
  double conception_hazard = 0.009;  // per fertile woman and month, while the household has no pregnancy
  int fertile_min_months = 15 * 12;
  int fertile_max_months = 45 * 12;  // exclusive upper bound (a woman of 45 years no longer conceives)
  double female_birth_share = 0.488;
  int school_start_months = 3 * 12;
  int secondary_age_months = 17 * 12;
  double secondary_completion = 0.6;
  int leave_min_months = 19 * 12;
  int leave_max_months = 30 * 12;  // exclusive
  int parent_gap_months = 15 * 12;
  double leave_hazard = 0.015;
  int old_age_months = 60 * 12;
  double old_age_mortality = 0.003;
  int child_max_months = 19 * 12;  // exclusive: a member under 19 is a child for school

  template <class V> void describe(V& v);
  static DemographyParams from(const ParamSet& params);
};

class Demography : public Module {
 public:
  static constexpr std::uint32_t kStepDomain = rng::domain_id("demography.step");
  static constexpr std::uint32_t kSetupDomain = rng::domain_id("demography.setup");

  static void register_params(Registry& registry);

  std::string name() const override { return "demography"; }
  // Creates member_secondary_done, pregnancy_month, household_size, school_children and members_left, and draws the
  // initial pregnancies and secondary-school completion of members already 17 or older.
  void setup(World& world, const ParamSet& params, const rng::StreamSeed& seed) override;

  // "demography.step", per block. The phase reads this module's parameters when it runs, so setup must
  // have run and the module must outlive the phase.
  Phase step_phase() const;

  const DemographyParams& params() const { return p_; }

 private:
  DemographyParams p_;
};

// Columns of the engine (sim/population.hpp) and shared ones (shared_state.hpp) that this module reads or writes:
// household_size, member_age_months, member_female, member_secondary_done, pregnancy_month.
//
// Columns owned by this module besides those in shared_state.hpp.
namespace col {
inline constexpr Col<std::uint8_t> school_children{
    .name = "school_children", .unit = "children",
    .description = "Members from the school-start age up to 19 who have not finished secondary school (expected to "
                   "attend school)"};
inline constexpr Col<std::uint8_t> members_left{
    .name = "members_left", .unit = "members",
    .description = "Young adults who have left the household since the start of the run (out-migration; "
                   "they may send remittances)"};
}  // namespace col

}  // namespace chacra::models
