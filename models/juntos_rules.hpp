// Juntos's monthly status rule as plain code (juntos_month), and the driver that applies it to sixteen
// households at once in byte lanes in the eligibility phase (juntos_month_lanes). A test checks that the
// two agree on random inputs, so the rule an auditor reads is the rule the model runs. Below it, the rules of
// the graduation channel (economy.graduation.enabled), each the code the phases call: the proxy-means score
// on current welfare and assets, compliance that responds to time, distance and liquidity, the share of adult
// time that programme duties take, and the transfers a household can count on over the coming year.
#pragma once

#include "models/economy.hpp"
#include "models/lanes.hpp"
#include "models/shared_state.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace chacra::models {

// Why a household last left Juntos (column juntos_exit_reason).
enum class JuntosExitReason : std::uint8_t { none = 0, aged_out = 1, lost_classification = 2 };
inline constexpr Code kJuntosExitReasonCodes[] = {{static_cast<int>(JuntosExitReason::none), "none"},
                                                  {static_cast<int>(JuntosExitReason::aged_out), "aged_out"},
                                                  {static_cast<int>(JuntosExitReason::lost_classification),
                                                   "lost_classification"}};

constexpr std::uint8_t status_u8(JuntosStatus s) { return static_cast<std::uint8_t>(s); }

// Whether a status (a byte, or sixteen in byte lanes) is an affiliation: enrolled or suspended.
template <class S>
auto is_affiliated(S st) {
  return (st == status_u8(JuntosStatus::enrolled)) | (st == status_u8(JuntosStatus::suspended));
}

// What the rule reads of one household in one month (after this month's re-certification).
struct JuntosMonthInputs {
  JuntosStatus status = JuntosStatus::not_eligible;  // at the start of the month
  bool was_compliant = true;  // result of the last co-responsibility check
  bool enrolled = false;      // juntos_enrolled at the start of the month
  bool member_ok = false;     // a pregnant woman, or a child under the age limit still in school
  bool classified = false;    // classified extremely poor by the proxy-means test
  bool district_ok = false;   // district poverty above the threshold
  bool covered = false;       // Juntos enrols in the district this month
  bool takes_up = false;      // the household enrols when it can
};

struct JuntosMonthOutcome {
  JuntosStatus status = JuntosStatus::not_eligible;
  bool eligible = false;
  bool enrolled = false;
  bool compliant = true;
  JuntosExitReason exit = JuntosExitReason::none;  // the reason when the household leaves this month
};

// The month's status rule: eligible = member criterion and PMT classification and district poverty. An
// affiliated household (enrolled or suspended) that stays eligible is enrolled if it met its last check and
// suspended if not; one that is no longer eligible exits (it lost the classification if it still has a
// member who qualifies, else it aged out). A household that is not affiliated enrols when eligible, covered
// and willing, in good standing (its first check is at the end of this period); otherwise it is eligible,
// or not eligible, and one that exited stays exited until it is eligible again.
constexpr JuntosMonthOutcome juntos_month(const JuntosMonthInputs& in) {
  JuntosMonthOutcome out;
  out.eligible = in.member_ok && in.classified && in.district_ok;
  out.enrolled = in.enrolled;
  out.compliant = in.was_compliant;
  const bool affiliated = in.status == JuntosStatus::enrolled || in.status == JuntosStatus::suspended;
  if (affiliated && out.eligible) {
    out.status = in.was_compliant ? JuntosStatus::enrolled : JuntosStatus::suspended;
  } else if (affiliated) {
    out.status = JuntosStatus::exited;
    out.enrolled = false;
    out.exit = in.member_ok ? JuntosExitReason::lost_classification : JuntosExitReason::aged_out;
  } else if (out.eligible && in.covered && in.takes_up) {
    out.status = JuntosStatus::enrolled;
    out.enrolled = true;
    out.compliant = true;
  } else if (out.eligible) {
    out.status = JuntosStatus::eligible;
  } else {
    out.status = in.status == JuntosStatus::exited ? JuntosStatus::exited : JuntosStatus::not_eligible;
  }
  return out;
}

// juntos_month for n <= 16 households at once, in byte lanes (statuses differ from household to household,
// so branches on them would often be mispredicted). status, compliant and enrolled (n bytes each) are read
// and updated, eligible (n bytes) written, classified and takes_up (n bytes) read; member_ok, district_ok and
// covered are 16 bytes each (lanes from n on zero). Returns the lanes (bit j) of the households that leave
// this month, whose exit month and reason the caller records.
inline unsigned juntos_month_lanes(std::uint8_t* status, std::uint8_t* compliant, std::uint8_t* enrolled,
                                   std::uint8_t* eligible_out, const std::uint8_t* classified,
                                   const std::uint8_t* takes_up, const std::uint8_t* member_ok,
                                   const std::uint8_t* district_ok, const std::uint8_t* covered, int n) {
  using bytes::load;
  using bytes::splat;
  const bytes::m8 zero{}, child = load(member_ok, bytes::kLanes) != 0;
  const bytes::m8 eligible = child & (load(classified, n) != 0) & (load(district_ok, bytes::kLanes) != 0);
  const bytes::u8 st = load(status, n), was_compliant = load(compliant, n);
  const bytes::m8 affiliated = is_affiliated(st);
  const bytes::m8 leaves = affiliated & ~eligible;
  const bytes::m8 enters = ~affiliated & eligible & (load(covered, bytes::kLanes) != 0) & (load(takes_up, n) != 0);
  bytes::u8 next = st == status_u8(JuntosStatus::exited) ? st : splat(status_u8(JuntosStatus::not_eligible));
  next = eligible ? splat(status_u8(JuntosStatus::eligible)) : next;
  next = enters ? splat(status_u8(JuntosStatus::enrolled)) : next;
  const bytes::u8 standing = was_compliant != 0 ? splat(status_u8(JuntosStatus::enrolled))
                                                : splat(status_u8(JuntosStatus::suspended));
  next = affiliated ? (eligible ? standing : splat(status_u8(JuntosStatus::exited))) : next;
  bytes::store(status, next, n);
  bytes::store(eligible_out, eligible ? splat(1) : splat(0), n);
  bytes::store(enrolled, leaves ? splat(0) : (enters ? splat(1) : load(enrolled, n)), n);
  bytes::store(compliant, enters ? splat(1) : was_compliant, n);
  return bytes::lane_bits(leaves != zero);
}

// The lists of the eligibility and payment phases. They give the households that rows::list_households would
// list (a test checks it), with less work per household.
// The households i of [begin, end) whose re-certification offset is `cycle_month`, in order (room for
// end - begin), eight offsets per compare: about one household in recertification_months is due, so most
// groups of eight have none and their work is one vector compare.
inline std::uint32_t list_due(const std::int16_t* offset, std::uint32_t begin, std::uint32_t end, int cycle_month,
                              std::uint32_t* out) {
  std::uint32_t n = 0, i = begin;
  if (cycle_month < INT16_MIN || cycle_month > INT16_MAX) return 0;  // no offset can equal it
  using i16x8 = std::int16_t __attribute__((vector_size(16)));
  const i16x8 value = i16x8{} + static_cast<std::int16_t>(cycle_month);
  for (; i + 8 <= end; i += 8) {
    i16x8 x;
    std::memcpy(&x, offset + i, sizeof x);
    const i16x8 hit = x == value;
    std::uint64_t lo, hi;  // a lane set is all ones: test the vector as two words first
    std::memcpy(&lo, &hit, 8);
    std::memcpy(&hi, reinterpret_cast<const char*>(&hit) + 8, 8);
    if ((lo | hi) == 0) continue;
    for (int j = 0; j < 8; ++j) {
      out[n] = i + static_cast<std::uint32_t>(j);
      n += hit[j] != 0 ? 1 : 0;
    }
  }
  for (; i < end; ++i) {
    out[n] = i;
    n += offset[i] == cycle_month ? 1 : 0;
  }
  return n;
}

// The affiliated households (enrolled or suspended) of [begin, end), in order (room for end - begin), sixteen
// statuses per compare in byte lanes.
inline std::uint32_t list_affiliated(const std::uint8_t* status, std::uint32_t begin, std::uint32_t end,
                                     std::uint32_t* out) {
  std::uint32_t n = 0, i = begin;
  for (; i + bytes::kLanes <= end; i += bytes::kLanes) {
    for (unsigned m = bytes::lane_bits(is_affiliated(bytes::load(status + i, bytes::kLanes))); m != 0; m &= m - 1)
      out[n++] = i + static_cast<std::uint32_t>(std::countr_zero(m));
  }
  for (; i < end; ++i) {
    out[n] = i;
    n += is_affiliated(status[i]) ? 1 : 0;
  }
  return n;
}

// ---- The graduation channel (economy.graduation.enabled) ----

// The proxy-means test's score of a household at baseline, from what the classification reads (the wealth
// index, unmet basic needs and land): wealth - w_ubn * has_ubn + w_land * ln(max(land, 0.01 ha) / 1.3 ha).
inline double pmt_static_score(float wealth_index, std::uint8_t has_ubn, float land_ha, double ubn_weight,
                               double land_weight) {
  return wealth_index - ubn_weight * has_ubn + land_weight * std::log(std::max(land_ha, 0.01f) / 1.3);
}

// Technologies that improve the dwelling where the enumerator sees them: improved stove, safe water, waste pit.
inline constexpr unsigned kDwellingTechs = (1u << tech_index(Tech::improved_stove)) |
                                           (1u << tech_index(Tech::safe_water)) | (1u << tech_index(Tech::waste_pit));

// How the score values what a household owns (PEN 2017): a head of each species, and each technology at its
// up-front cost.
struct AssetValues {
  std::array<float, kSpeciesCount> animal_pen{};
  std::array<float, kTechCount> tech_pen{};
};

// Net assets the score counts: herd value + up-front value of the adopted technologies (bit t of `adopted`)
// - debt, in PEN.
inline float net_assets_pen(const AssetValues& v, const float* herd, unsigned adopted, float debt) {
  float assets = 0.0f;
  for (int s = 0; s < kSpeciesCount; ++s) assets += herd[s] * v.animal_pen[static_cast<std::size_t>(s)];
  for (unsigned m = adopted; m != 0; m &= m - 1) assets += v.tech_pen[static_cast<std::size_t>(std::countr_zero(m))];
  return assets - debt;
}

// The weights of the score's moving part: per log point of 12-month consumption per person, per PEN 1,000
// of net assets, per visible dwelling improvement.
struct PmtWeights {
  double consumption = 0.8;
  double assets_per_1000_pen = 0.1;
  double dwelling = 0.1;
};

// The part of the score that moves with current welfare and assets:
//   w_c ln(c12) + w_a net assets / 1000 + w_d (visible dwelling improvements adopted),
// c12 the per-capita consumption of the last 12 months (floored at PEN 1). Rounded to float, so that the same
// inputs give the same value at baseline (stored) and at a re-certification.
inline float pmt_moving_part(const PmtWeights& w, float c12_pc_pen, float net_assets, unsigned adopted) {
  const double c = std::max(c12_pc_pen, 1.0f);
  return static_cast<float>(w.consumption * std::log(c) + w.assets_per_1000_pen * (net_assets / 1000.0) +
                            w.dwelling * std::popcount(adopted & kDwellingTechs));
}

// The score at a re-certification: score(t) = score_0 + moving(t) - moving(0). At baseline the difference
// is exactly zero, so targeting at baseline is the static score's.
inline double pmt_score(double static_score, float moving_now, float moving_baseline) {
  return static_score + static_cast<double>(moving_now - moving_baseline);
}

// How compliance responds to the month's circumstances (besides the fixed propensity): a unit share of adult
// time taken by programme duties lowers the log-odds by time_effect; a household with less cash than the cost
// of travelling to the school or health post loses up to liquidity_effect.
struct ComplianceResponse {
  double time_effect = 2.0;
  double travel_cost_pen = 15.0;
  double liquidity_effect = 0.5;
};

// Probability of meeting the co-responsibilities in a period:
//   logit p = propensity - time_effect * time_burden + liquidity_effect * (min(1, cash / travel_cost) - 1),
// where propensity = logit(compliance_base) + access_effect * (market_access - 0.5) + sd * z_i is the
// household's fixed part (distance to services through market access).
// In float: it runs for every affiliated household at every check.
inline float compliance_probability(float propensity_logit, float time_burden, float cash_pen,
                                    const ComplianceResponse& r) {
  const float travel = static_cast<float>(r.travel_cost_pen);
  const float liquid = travel > 0.0f ? std::min(1.0f, std::max(0.0f, cash_pen) / travel) : 1.0f;
  const float x = propensity_logit - static_cast<float>(r.time_effect) * time_burden +
                  static_cast<float>(r.liquidity_effect) * (liquid - 1.0f);
  return 1.0f / (1.0f + std::exp(-x));
}

// Share of the household's adult time that `hours` a month take: hours / (hours per adult * adults), with at
// least one adult (members aged 15-64).
inline float time_share(double hours, double hours_per_adult, int adults) {
  return static_cast<float>(hours / (hours_per_adult * std::max(1, adults)));
}

// Months from now during which the household still qualifies through its members: a pregnant woman
// qualifies for a whole childhood (max_child_age months); else the youngest member under the age limit who
// has not finished secondary school qualifies until that limit; 0 if none.
inline int months_of_eligibility_left(const std::int16_t* ages, const std::uint8_t* secondary_done,
                                      std::uint8_t pregnancy_month, int max_child_age_months) {
  if (pregnancy_month > 0) return max_child_age_months;
  int youngest = -1;
  for (int k = 0; k < kMaxMembers; ++k) {
    const int a = ages[k];
    if (a >= 0 && a < max_child_age_months && secondary_done[k] == 0 && (youngest < 0 || a < youngest)) youngest = a;
  }
  return youngest < 0 ? 0 : max_child_age_months - youngest;
}

// The Juntos transfers an affiliated household can count on over months (month, month + 12]: the payment
// months (odd indices) while it still qualifies (months_left from now), each paid with its compliance
// probability. Not affiliated: nothing (enrolment is not predictable).
inline double expected_transfers_next_year(bool affiliated, int month, int months_left, double transfer_pen,
                                           double compliance_probability) {
  if (!affiliated || months_left <= 1) return 0.0;
  const int first = month + 1, last = month + std::min(12, months_left - 1);
  const int payments = (last + 1) / 2 - first / 2;  // odd indices in [first, last]
  return payments * transfer_pen * compliance_probability;
}

}  // namespace chacra::models
