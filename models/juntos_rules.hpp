// Juntos's monthly status rule as plain code (juntos_month), and the driver that applies it to sixteen
// households at once in byte lanes in the eligibility phase (juntos_month_lanes). A test checks that the
// two agree on random inputs, so the rule an auditor reads is the rule the model runs.
#pragma once

#include "models/lanes.hpp"
#include "models/shared_state.hpp"

#include <cstdint>

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

}  // namespace chacra::models
