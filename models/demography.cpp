// File: models/demography.cpp
// Aging, births, schooling, young adults leaving and old-age deaths (see demography.hpp).
#include "models/demography.hpp"

#include "models/shared_state.hpp"

#include <algorithm>
#include <array>
#include <cmath>

namespace chacra::models {

namespace {

// Setup draws use a period no month can reach, so they never coincide with a monthly stream.
constexpr std::uint64_t kSetupPeriod = 0xFFFF'FFFF'FFFF'0000ull;

// Eight uniforms on (0, 1) with 32-bit resolution from one Philox block (four 64-bit words).
inline void draw8(rng::Stream& s, double* u) {
  for (int i = 0; i < 4; ++i) {
    const std::uint64_t w = s();
    u[2 * i] = (static_cast<double>(w & 0xFFFF'FFFFull) + 0.5) * 0x1.0p-32;
    u[2 * i + 1] = (static_cast<double>(w >> 32) + 0.5) * 0x1.0p-32;
  }
}

// P(at least one event) among n members each with hazard h, for n = 0..kMaxMembers.
std::array<double, kMaxMembers + 1> any_event_table(double h) {
  std::array<double, kMaxMembers + 1> t{};
  for (int n = 0; n <= kMaxMembers; ++n) t[n] = 1.0 - std::pow(1.0 - h, n);
  return t;
}

}  // namespace

DemographyParams DemographyParams::from(const ParamSet& p) {
  DemographyParams d;
  d.conception_hazard = p.real("demography.conception_hazard");
  d.fertile_min_months = static_cast<int>(p.integer("demography.fertile_min_age_years") * 12);
  d.fertile_max_months = static_cast<int>(p.integer("demography.fertile_max_age_years") * 12);
  d.female_birth_share = p.real("demography.female_birth_share");
  d.school_start_months = static_cast<int>(p.integer("demography.school_start_age_years") * 12);
  d.secondary_age_months = static_cast<int>(p.integer("demography.secondary_completion_age_years") * 12);
  d.secondary_completion = p.real("demography.secondary_completion_prob");
  d.leave_min_months = static_cast<int>(p.integer("demography.leave_min_age_years") * 12);
  d.leave_max_months = static_cast<int>(p.integer("demography.leave_max_age_years") * 12);
  d.parent_gap_months = static_cast<int>(p.integer("demography.parent_age_gap_years") * 12);
  d.leave_hazard = p.real("demography.leave_hazard");
  d.old_age_months = static_cast<int>(p.integer("demography.old_age_years") * 12);
  d.old_age_mortality = p.real("demography.old_age_mortality");
  d.child_max_months = static_cast<int>(p.integer("demography.child_max_age_years") * 12);
  return d;
}

void Demography::register_params(Registry& r) {
  r.real("demography.conception_hazard", 0.009, 0, 1, "probability per woman and month",
         "Monthly probability that a woman of fertile age conceives (at most one pregnancy per household at a "
         "time; a household with n fertile women conceives with probability 1-(1-h)^n)",
         "Rural total fertility of about 3 children per woman (INEI, ENDES 2017-2018) spread over 30 fertile "
         "years: 3/360 per month, raised for the months spent pregnant");
  r.integer("demography.fertile_min_age_years", 15, 10, 60, "years", "Youngest age at which women conceive",
            "Convention of fertility statistics (15-49); assumption");
  r.integer("demography.fertile_max_age_years", 45, 11, 60, "years",
            "Age from which women no longer conceive (exclusive)", "Assumption (brief: women 15-45)");
  r.real("demography.female_birth_share", 0.488, 0, 1, "share", "Probability that a newborn is a girl",
         "Sex ratio at birth of about 105 boys per 100 girls");
  r.integer("demography.school_start_age_years", 3, 0, 10, "years",
            "Age from which children attend school (Juntos co-responsibility from age 3)",
            "Juntos rules (MODEL.md, Process 2)");
  r.integer("demography.secondary_completion_age_years", 17, 10, 25, "years",
            "Age at which a child who completes secondary school does so",
            "Peruvian school system: 6 years primary from 6, 5 years secondary");
  r.real("demography.secondary_completion_prob", 0.6, 0, 1, "probability",
         "Probability that a child finishes secondary school (decided at the completion age; those who do not "
         "remain Juntos-eligible until 19)",
         "Assumption: rural secondary completion at 17-19 of about 60% (INEI/ENAHO 2018, Escale MINEDU)");
  r.integer("demography.leave_min_age_years", 19, 14, 40, "years",
            "Youngest age at which a member living with a parent may leave the household", "Assumption");
  r.integer("demography.leave_max_age_years", 30, 15, 60, "years",
            "Age from which members who stayed are treated as settled adults (exclusive)", "Assumption");
  r.integer("demography.parent_age_gap_years", 15, 10, 40, "years",
            "A member is the child of the household (and may leave) when someone at least this much older lives "
            "in it",
            "Assumption (relationships are not recorded)");
  r.real("demography.leave_hazard", 0.015, 0, 1, "probability per month",
         "Monthly probability that an eligible young adult leaves (one at most per month; the oldest goes)",
         "Assumption: about 17% a year, so most children who do not form the household's next generation "
         "leave by their mid-twenties (rural out-migration of youth, INEI census 2017)");
  r.integer("demography.old_age_years", 60, 30, 120, "years", "Age from which old-age mortality applies",
            "Assumption");
  r.real("demography.old_age_mortality", 0.003, 0, 1, "probability per member and month",
         "Monthly death probability of members aged over old_age_years (one at most per month; the oldest; the "
         "last member of a household never dies, so households persist)",
         "Assumption: about 3.5% a year, rural Peru life expectancy in the low seventies (INEI)");
  r.integer("demography.child_max_age_years", 19, 5, 30, "years",
            "Children under this age who have not finished secondary attend school", "Juntos rules: until 19");
}

void Demography::setup(World& world, const ParamSet& params, const rng::StreamSeed& seed) {
  p_ = DemographyParams::from(params);
  auto& h = world.households;
  ColumnInfo sec;
  sec.name = col::member_secondary_done;
  sec.unit = "0/1";
  sec.description = "Member slot has finished secondary school";
  sec.width = kMaxMembers;
  auto* secondary = h.add<std::uint8_t>(sec);
  auto* pregnancy = h.add<std::uint8_t>(col::pregnancy_month, "month of pregnancy",
                                        "Month of the household's current pregnancy (0 none, 1..9)");
  auto* size = h.add<std::uint8_t>(col::household_size, "persons", "Members of the household", 1, true);
  auto* school = h.add<std::uint8_t>(col::school_children, "children",
                                     "Members from the school-start age up to 19 who have not finished "
                                     "secondary school (expected to attend school)");
  const auto* age = h.get<std::int16_t>(col::member_age_months);
  const auto* female = h.get<std::uint8_t>(col::member_female);

  // Stationary probability of being pregnant for a single fertile woman: nine months pregnant, then a
  // geometric wait with mean 1/hazard.
  const auto any_conception = any_event_table(p_.conception_hazard);
  const std::size_t n = world.household_count();
  for (std::size_t i = 0; i < n; ++i) {
    auto s = seed.open(kSetupDomain, kSetupPeriod, i);
    double u[8];
    draw8(s, u);
    double member_u[kMaxMembers];
    for (double& v : member_u) v = s.uniform();
    const std::int16_t* a = age + i * kMaxMembers;
    std::uint8_t* sd = secondary + i * kMaxMembers;
    int fertile = 0, members = 0, pupils = 0;
    for (int k = 0; k < kMaxMembers; ++k) {
      if (a[k] < 0) continue;
      ++members;
      if (female[i * kMaxMembers + k] && a[k] >= p_.fertile_min_months && a[k] < p_.fertile_max_months) ++fertile;
      // Secondary completion of members already past the completion age.
      sd[k] = a[k] >= p_.secondary_age_months && member_u[k] < p_.secondary_completion ? 1 : 0;
      if (a[k] >= p_.school_start_months && a[k] < p_.child_max_months && !sd[k]) ++pupils;
    }
    const double hz = any_conception[fertile];
    const double pregnant = hz > 0 ? 9.0 * hz / (9.0 * hz + 1.0) : 0.0;
    pregnancy[i] = u[0] < pregnant ? static_cast<std::uint8_t>(1 + std::min(8, static_cast<int>(u[1] * 9))) : 0;
    size[i] = static_cast<std::uint8_t>(members);
    school[i] = static_cast<std::uint8_t>(pupils);
  }
}

Phase Demography::step_phase() const {
  return Phase::per_block("demography.step", [this](World& world, const StepContext& ctx, const Block& block) {
    const DemographyParams& p = p_;
    auto& h = world.households;
    auto* age = h.get<std::int16_t>(col::member_age_months);
    auto* female = h.get<std::uint8_t>(col::member_female);
    auto* secondary = h.get<std::uint8_t>(col::member_secondary_done);
    auto* pregnancy = h.get<std::uint8_t>(col::pregnancy_month);
    auto* size = h.get<std::uint8_t>(col::household_size);
    auto* school = h.get<std::uint8_t>(col::school_children);
    // Small tables of P(any event among n members); built per block call, a few dozen flops.
    const auto any_conception = any_event_table(p.conception_hazard);
    const auto any_leave = any_event_table(p.leave_hazard);
    const auto any_death = any_event_table(p.old_age_mortality);

    const auto sec_age = static_cast<std::int16_t>(p.secondary_age_months);
    const int fmin = p.fertile_min_months, fmax = p.fertile_max_months;
    const int lmin = p.leave_min_months, lmax = p.leave_max_months, gap = p.parent_gap_months;
    const int old_age = p.old_age_months, smin = p.school_start_months, cmax = p.child_max_months;

    // The common case (no event) runs without data-dependent branches: counts are sums of comparisons
    // and the rare events (birth, leaving, death) take a branch that is almost always not taken.
    for (std::uint32_t i = block.household_begin; i < block.household_end; ++i) {
      auto s = ctx.seed.open(kStepDomain, static_cast<std::uint64_t>(ctx.month), i);
      double u[8];
      draw8(s, u);
      std::int16_t* a = age + static_cast<std::size_t>(i) * kMaxMembers;
      std::uint8_t* fem = female + static_cast<std::size_t>(i) * kMaxMembers;
      std::uint8_t* sd = secondary + static_cast<std::size_t>(i) * kMaxMembers;

      // Aging and secondary completion at the completion age (twins share the draw).
      const std::uint8_t completes = u[2] < p.secondary_completion ? 1 : 0;
      int oldest = -1;
      for (int k = 0; k < kMaxMembers; ++k) {
        const std::int16_t ak = static_cast<std::int16_t>(a[k] + (a[k] >= 0 && a[k] < 32767));
        a[k] = ak;
        sd[k] = ak == sec_age ? completes : sd[k];
        oldest = std::max<int>(oldest, ak);
      }

      // Pregnancy: month 9 ends in a birth this month (into an empty slot, if there is one).
      const std::uint8_t pm = pregnancy[i];
      if (pm >= 9) {
        for (int k = 0; k < kMaxMembers; ++k) {
          if (a[k] < 0) {
            a[k] = 0;
            fem[k] = u[1] < p.female_birth_share ? 1 : 0;
            sd[k] = 0;
            break;
          }
        }
      }
      pregnancy[i] = static_cast<std::uint8_t>(pm >= 9 ? 0 : pm + (pm > 0));

      // Young adults who live with a parent leave (the oldest of them); old members die (the oldest).
      int leavers = 0, old = 0, members = 0;
      for (int k = 0; k < kMaxMembers; ++k) {
        const int ak = a[k];
        members += ak >= 0;
        leavers += ak >= lmin && ak < lmax && oldest - ak >= gap;
        old += ak >= old_age;
      }
      if (leavers > 0 && u[3] < any_leave[leavers]) {
        int leaver = -1;
        for (int k = 0; k < kMaxMembers; ++k)
          if (a[k] >= lmin && a[k] < lmax && oldest - a[k] >= gap && (leaver < 0 || a[k] > a[leaver])) leaver = k;
        if (a[leaver] >= old_age) --old;
        a[leaver] = -1;
        fem[leaver] = 0;
        sd[leaver] = 0;
        --members;
      }
      if (old > 0 && members > 1 && u[4] < any_death[old]) {
        int eldest = -1;
        for (int k = 0; k < kMaxMembers; ++k)
          if (a[k] >= old_age && (eldest < 0 || a[k] > a[eldest])) eldest = k;
        a[eldest] = -1;
        fem[eldest] = 0;
        sd[eldest] = 0;
        --members;
      }

      // Conception, only in a household without a pregnancy at the start of the month; counted after
      // leaving and deaths, so a woman who left this month no longer counts.
      int fertile = 0, pupils = 0;
      for (int k = 0; k < kMaxMembers; ++k) {
        const int ak = a[k];
        fertile += (fem[k] != 0) & (ak >= fmin) & (ak < fmax);
        pupils += (ak >= smin) & (ak < cmax) & (sd[k] == 0);
      }
      if (pm == 0 && u[0] < any_conception[fertile]) pregnancy[i] = 1;
      size[i] = static_cast<std::uint8_t>(members);
      school[i] = static_cast<std::uint8_t>(pupils);
    }
  });
}

}  // namespace chacra::models
