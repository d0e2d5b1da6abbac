// File: models/adoption.cpp
// Technology adoption, peer learning, constraints and dropping (see adoption.hpp).
#include "models/adoption.hpp"

#include "models/adoption_rules.hpp"
#include "models/livelihood.hpp"
#include "models/row_ops.hpp"
#include "sim/param_spec.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace chacra::models {

namespace {

constexpr std::uint64_t kSetupPeriod = 0xFFFF'FFFF'FFFF'0000ull;
constexpr int kWorkingAgeMin = 15 * 12;
constexpr int kWorkingAgeMax = 65 * 12;  // exclusive

inline void draw12(rng::Stream& s, float* u) {
  std::uint64_t w[4];
  for (auto& x : w) x = s();
  for (int k = 0; k < 12; ++k) u[k] = uniform21(w, k);
}

// What each technology's upkeep pays for (in its parameter's description).
constexpr std::array<const char*, kTechCount> kUpkeepItems = {
    "seeds and tools", "own manure and labour", "transport and materials", "maintenance, hoses and water fees",
    "seed and fencing", "feed and veterinary care for guinea pigs", "improved seed", "repairs",
    "chlorine and filters", "labour only"};

// What each technology's up-front cost pays for (in its parameter's description).
constexpr std::array<const char*, kTechCount> kUpfrontItems = {
    "fencing, seed and tools", "a compost bin and tools", "nothing: it uses the household's own preparation",
    "kit, hoses and a small reservoir", "seed and soil preparation", "the shed (breeding stock is bought apart)",
    "certified seed", "the stove", "tank, pipes and filter", "digging and a cover"};

}  // namespace

template <class V>
void AdoptionParams::describe(V& v) {
  const std::string calib = "Calibration assumption (docs/calibration.md, Livelihoods)";
  for (int t = 0; t < kTechCount; ++t) {
    const std::string name = kTechNames[t];
    const std::string base = "adoption." + name + ".";
    TechAdoptionParams& d = tech[t];
    v.real(base + "baseline_share", d.baseline_share, {0, 1}, "share of households",
           "Share of all households with " + name + " adopted at the start of the run (drawn among households "
           "that satisfy its hard constraint)",
           "Assumption for control Juntos households of the IEP/UC Davis evaluation of the 2017 HW cohort, "
           "leaving room below 100% for its published adoption effects");
    v.real(base + "baseline_hazard", d.baseline_hazard, {0, 1}, "probability per month",
           "Monthly adoption hazard of " + name + " without programme or peers",
           calib + ": with the peer term, keeps the baseline share about stationary without programmes");
    v.real(base + "drop_hazard_supported", d.drop_hazard_supported, {0, 1}, "probability per month",
           "Monthly drop hazard of " + name + " while the household is under programme support",
           "Assumption: trainers' visits keep practices going (few drops during HW's three years)");
    v.real(base + "drop_hazard_after", d.drop_hazard_after, {0, 1}, "probability per month",
           "Monthly drop hazard of " + name + " without programme support (after the programme or never "
           "supported)",
           "Assumption: about 40% of ever-adopters have dropped three to four years after support ends "
           "(1 - exp(-0.012*42) = 0.40), the share reported for an analogue extension programme");
    v.real(base + "upkeep_pen", d.upkeep_pen, {0, 100000}, "PEN per month",
           "Monthly cash cost of keeping " + name + " going (" + kUpkeepItems[t] +
               "); paid from cash by the livelihood module, and cash below a few months of it lowers adoption "
               "and raises dropping",
           "Assumption");
    v.real(base + "upfront_pen", d.upfront_pen, {0, 1e6}, "PEN 2017",
           "One-off cost of adopting " + name + " (" + kUpfrontItems[t] + "); financed from cash above the "
           "reserve, then credit, before the household adopts (economy.liquidity.enabled); a delivered Haku Winay "
           "asset pays all but haku_winay.complement_share of it",
           "Assumption; the ten sum to about PEN 4,000, within Haku Winay's asset spending per household (PEN "
           "3,500-6,200 over three years, World Bank economic inclusion case study)");
    v.real(base + "reference_profit_pen", d.reference_profit_pen, {-1e6, 1e6}, "PEN 2017 per month",
           "Monthly profit of " + name + " that an adopter expects before it has seen any, and the profit at which "
           "neighbours' results neither raise nor lower the peer term (0: no income, the peer term is not scaled)",
           "Assumption: the average adopter's return less upkeep and the labour it takes at the off-farm wage");
  }
  v.real("adoption.peer_threshold", peer_threshold, {0, 1000}, "adopters known",
         "Complex-contagion threshold: no learning from neighbours when fewer adopters than this are known",
         "Beaman, BenYishay, Magruder and Mobarak (2021): farmers need to hear from two or more adopters");
  v.real("adoption.peer_strength", peer_strength, {0, 1}, "probability per month",
         "Peak of the peer term of the monthly adoption hazard, reached at peer_scale adopters known; "
         "peer(k) = strength * (k/scale) * exp(1 - k/scale) for k >= threshold",
         calib + ": about half of the no-programme adoption flow comes from neighbours");
  v.real("adoption.peer_scale", peer_scale, {0.01, 1000}, "adopters known",
         "Number of adopters known at which the peer term peaks (inverse-U: more adopters beyond it add "
         "little new information and crowd local markets)",
         "Bandiera and Rasul (2006): adoption rises then falls with the number of adopters known; peak "
         "assumed at 6");
  v.real("adoption.peer_contacts", peer_contacts, {1, 100000}, "households",
         "Households a household knows well enough to learn from; in larger centres the adopters known are "
         "the centre's adopters times contacts / (households - 1)",
         "Assumption");
  v.real("adoption.asset_drop_factor", asset_drop_factor, {0, 10}, "multiplier",
         "Multiplier on drop_hazard_after when a programme asset for the technology was delivered (hardware "
         "such as sprinkler kits, sheds and stoves lasts)",
         "Assumption");
  v.real("adoption.liquidity_cover_months", liquidity_cover_months, {0, 120}, "months of upkeep",
         "A household holding at least this many months of a technology's upkeep in cash is not "
         "liquidity-constrained for it; below, adoption falls and dropping rises linearly in the shortfall",
         "Assumption");
  v.real("adoption.liquidity_adopt_floor", liquidity_adopt_floor, {0, 1}, "multiplier",
         "Multiplier on the adoption hazard of a household with no cash (1 at full cover)",
         "Assumption: the liquidity channel through which a cash transfer can help a credit-constrained household "
         "pay for inputs and upkeep");
  v.real("adoption.liquidity_drop_factor", liquidity_drop_factor, {1, 100}, "multiplier",
         "Multiplier on the drop hazard of a household with no cash (1 at full cover)", "Assumption");
  v.real("adoption.labour_shortfall_factor", labour_shortfall_factor, {0, 1}, "multiplier per missing adult",
         "Multiplier on the adoption hazard for each working-age member (15-64) short of two", "Assumption");
  v.real("adoption.readopt_factor", readopt_factor, {0, 10}, "multiplier",
         "Multiplier on the adoption hazard of a household that dropped the technology before", "Assumption");
  v.real("adoption.baseline_dropped_ratio", baseline_dropped_ratio, {0, 10}, "dropped per adopter",
         "Households that had dropped a technology at the start of the run, per household using it",
         "Assumption: a third of baseline ever-adopters have dropped");
  v.real("adoption.cultivated_pasture_min_land_ha", pasture_min_land_ha, {0, 100}, "ha",
         "Households with less land than this cannot grow cultivated pasture",
         "Assumption, the same minimum as HW's pasture asset");
  v.real("adoption.pasture_mean_ha", pasture_mean_ha, {0, 100}, "ha",
         "Mean area of cultivated pasture sown by an adopter (uniform on 0.5-1.5 times this, capped by "
         "pasture_max_land_share of the land)",
         "IEP/UC Davis evaluation of the 2017 HW cohort: pasture area +0.3 ha, read per adopter; 0.335 gives a realised "
         "0.3 ha per adopter after the land cap (chacra evaluate, row pasture_ha_per_adopter)");
  v.real("adoption.pasture_max_land_share", pasture_max_land_share, {0, 1}, "share of land",
         "Largest share of a household's land put under cultivated pasture", "Assumption");
  v.real("persistence.profit_memory", profit_memory, {0, 1}, "weight per month",
         "Weight of this month's profit in a technology's or business's expected profit (an exponential average "
         "over about 1/weight months)",
         "Assumption: about a year of results");
  v.real("persistence.unprofitable_drop_hazard", unprofitable_drop_hazard, {0, 1}, "probability per month",
         "Monthly drop hazard of an income-earning technology whose expected profit is below zero "
         "(economy.persistence.enabled)",
         "Assumption (prior range 0.05-0.3)");
  v.real("persistence.background_drop_factor", background_drop_factor, {0, 10}, "multiplier",
         "Multiplier on drop_hazard_after for a profitable income-earning technology (drops for reasons other "
         "than profit; economy.persistence.enabled)",
         "Assumption (prior range 0.1-0.5)");
  v.real("liquidity.intent_decay", intent_decay, {0, 1}, "probability per month",
         "Monthly chance that a household's wish to adopt a technology it could not yet pay for lapses "
         "(economy.liquidity.enabled)",
         "Assumption (prior range 0.05-0.3)");
  v.borrow("economy.persistence.enabled", persistence);
  v.borrow("economy.liquidity.enabled", liquidity);
}

AdoptionParams AdoptionParams::from(const ParamSet& params) { return read_params<AdoptionParams>(params); }

void Adoption::register_params(Registry& r) { declare_params<AdoptionParams>(r); }

double Adoption::peer_hazard(double k, double threshold, double strength, double scale) {
  if (k < threshold || k <= 0.0 || strength <= 0.0) return 0.0;
  const double x = k / scale;
  return strength * x * std::exp(1.0 - x);
}

double Adoption::known_adopters(double adopters, double centre_households, double contacts) {
  if (centre_households <= 1.0) return 0.0;
  return adopters * std::min(1.0, contacts / (centre_households - 1.0));
}

bool Adoption::feasible(int tech, bool water_access, double land_ha, double pasture_min_land_ha) {
  if (tech == kSprinkler) return water_access;
  if (tech == kPasture) return land_ha >= pasture_min_land_ha;
  return true;
}

void Adoption::setup(World& world, const ParamSet& params, const rng::StreamSeed& seed) {
  p_ = AdoptionParams::from(params);
  credit_ = CreditTerms::from(params);
  financing_ = AssetFinancing::from(params);
  business_ = BusinessParams::from(params);
  init_states(world, p_, seed);
  // The channels' state, in every arm: a baseline adopter expects the reference profit; a business owner the
  // reference business profit.
  auto& h = world.households;
  auto* expected = h.add(col::tech_expected_profit_pen);
  h.add(col::tech_pending);
  auto* business_expected = h.add(col::business_expected_profit_pen);
  h.add(col::business_loss_months);
  if (!p_.persistence) return;
  const auto* state = h.get(col::tech_state);
  for (std::size_t i = world.household_begin(); i < world.household_end(); ++i) {
    for (int t = 0; t < kTechCount; ++t)
      if (state[i * kTechCount + t] == static_cast<std::uint8_t>(TechState::adopted))
        expected[i * kTechCount + t] = static_cast<float>(p_.tech[t].reference_profit_pen);
    business_expected[i] = static_cast<float>(business_.business_profit_pen);
  }
}

void Adoption::init_states(World& world, const AdoptionParams& p, const rng::StreamSeed& seed) {
  auto& h = world.households;
  auto* state = h.add(col::tech_state);
  auto* pasture = h.add(col::pasture_ha);
  const auto* water = h.get(col::water_access);
  const auto* land = h.get(col::land_ha);

  // Households of the whole population (a world split by districts holds [household_begin, household_end)).
  const std::uint64_t n = world.total_households();
  const std::size_t i0 = world.household_begin(), i1 = world.household_end();
  // Share of households that satisfy each technology's hard constraint (summed in household order across ranks).
  std::vector<double> eligible(kTechCount, 0.0);
  world.comm().ordered_sum(eligible, [&](std::vector<double>& acc) {
    for (std::size_t i = i0; i < i1; ++i)
      for (int t = 0; t < kTechCount; ++t) acc[t] += feasible(t, water[i], land[i], p.pasture_min_land_ha);
  });
  std::array<float, kTechCount> p_adopt{}, p_dropped{};
  for (int t = 0; t < kTechCount; ++t) {
    const double e = n > 0 ? eligible[t] / static_cast<double>(n) : 0.0;
    const double pa = e > 0 ? std::min(1.0, p.tech[t].baseline_share / e) : 0.0;
    p_adopt[t] = static_cast<float>(pa);
    p_dropped[t] = static_cast<float>(std::min(1.0 - pa, p.baseline_dropped_ratio * pa));
  }
  for (std::size_t i = i0; i < i1; ++i) {
    auto s = seed.open(kSetupDomain, kSetupPeriod, i);
    float u[12];
    draw12(s, u);
    std::uint8_t* si = state + i * kTechCount;
    for (int t = 0; t < kTechCount; ++t) {
      TechState v = TechState::never;
      if (feasible(t, water[i], land[i], p.pasture_min_land_ha)) {
        if (u[t] < p_adopt[t])
          v = TechState::adopted;
        else if (u[t] < p_adopt[t] + p_dropped[t])
          v = TechState::dropped;
      }
      si[t] = static_cast<std::uint8_t>(v);
    }
    pasture[i] = si[kPasture] == static_cast<std::uint8_t>(TechState::adopted)
                     ? static_cast<float>(std::min(p.pasture_max_land_share * land[i],
                                                   p.pasture_mean_ha * (0.5 + u[10])))
                     : 0.0f;
  }
}

Phase Adoption::update_phase() const {
  return Phase::per_block("adoption.update", [this](World& world, const StepContext& ctx, const Block& block) {
    const AdoptionParams& p = p_;
    auto& h = world.households;
    auto* state = h.get(col::tech_state);
    auto* pasture = h.get(col::pasture_ha);
    auto* push = h.get(col::adoption_push);
    const auto* asset = h.get(col::asset_delivered);
    const auto* support = h.get(col::support_active);
    const auto* cash = h.get(col::cash_pen);
    const auto* water = h.get(col::water_access);
    const auto* land = h.get(col::land_ha);
    const auto* age = h.get(col::member_age_months);

    const AdoptionConstants k(p, financing_.complement_share);  // the rule's constants (models/adoption_rules.hpp)
    constexpr auto kAdopted = static_cast<std::uint8_t>(TechState::adopted);

    // The channels' columns (economy.persistence.enabled, economy.liquidity.enabled); null when off.
    const bool economy = p.persistence || p.liquidity;
    float* expected = p.persistence ? h.get(col::tech_expected_profit_pen) : nullptr;
    const float* profit = p.persistence ? h.get(col::tech_profit_pen) : nullptr;
    std::uint16_t* pending = p.liquidity ? reinterpret_cast<std::uint16_t*>(h.get(col::tech_pending)) : nullptr;
    std::uint8_t* has_business = p.persistence ? h.get(col::has_business) : nullptr;
    float* business_expected = p.persistence ? h.get(col::business_expected_profit_pen) : nullptr;
    std::uint8_t* business_loss = p.persistence ? h.get(col::business_loss_months) : nullptr;
    const float* business_income = p.persistence ? h.get(col::income_business_pen) : nullptr;
    const float* hw_profit = p.persistence ? h.get(col::business_profit_pen) : nullptr;
    const std::uint32_t* district = p.persistence ? h.get(col::district) : nullptr;
    const float* market = p.persistence ? world.districts.get(col::district_market_dynamism) : nullptr;
    const float* perm = economy ? h.get(col::permanent_income_pen) : nullptr;
    const finance::Accounts accounts =
        economy ? finance::Accounts{h.get(col::cash_pen), h.get(col::debt_pen), h.get(col::investment_pen),
                                    h.get(col::borrowed_pen)}
                : finance::Accounts{nullptr, nullptr, nullptr, nullptr};
    const BusinessConstants bk(business_);
    const bool observed = ctx.month > 0;  // no profit has been seen before the run's first month
    // Each household's block of the month, with what does not depend on the household computed once.
    const rng::FirstBlocks first_blocks(ctx.seed, kUpdateDomain, static_cast<std::uint64_t>(ctx.month));
    // The credit limit and the reserve are computed only when the household pays (AdoptionFinance::terms).
    const auto finance_of = [&](std::uint32_t i) {
      return AdoptionFinance{accounts, i, 0.0f, 0.0f, credit_.credit_for_investment, &credit_, perm[i]};
    };

    // The baseline business's outside option, a function of the district's market (computed again only where the
    // district changes).
    std::uint32_t outside_district = ~0u;
    float outside = 0.0f;

    for (std::uint32_t c = block.centre_begin; c < block.centre_end; ++c) {
      const std::uint32_t h0 = world.centre_first[c], h1 = world.centre_first[c + 1];
      // Adopters in the centre from last month's states, before anyone here is updated.
      std::array<int, kTechCount> adopters{};
      rows::add_tech_counts(state + static_cast<std::size_t>(h0) * kTechCount, h1 - h0, kAdopted, adopters.data());
      // The peer term only matters for non-adopters, for whom the other adopters are all the adopters.
      // Persistence from profitability: each adopter's expected profit takes last month's profit, and the centre's
      // adopters' mean expected profit scales the peer term (neighbours show whether it pays).
      std::array<float, kTechCount> expected_sum{};
      unsigned unprofitable = 0;
      if (p.persistence) {
        const float memory = observed ? k.memory : 0.0f;
        for (std::uint32_t i = h0; i < h1; ++i) {
          const std::size_t row = static_cast<std::size_t>(i) * kTechCount;
          unprofitable |= update_expected_profit_and_sum(memory, state + row, profit + row, expected + row, expected_sum);
        }
      }
      std::array<float, kTechCount> peer{};
      for (int t = 0; t < kTechCount; ++t) {
        const double known = known_adopters(adopters[t], static_cast<double>(h1 - h0), p.peer_contacts);
        peer[t] = static_cast<float>(peer_hazard(known, p.peer_threshold, p.peer_strength, p.peer_scale));
        if (p.persistence) peer[t] *= peer_profit_factor(k, t, expected_sum[t], adopters[t]);
      }
      const ScreenBounds bounds = screen_bounds(k, peer, unprofitable);

      // The Philox blocks of a batch of households first: without branches between them their long
      // multiply chains overlap. Then every household of the batch is screened: events are rare, so each
      // technology is first screened against an upper bound of its hazard (labour and liquidity factors are
      // at most 1) plus its push, and only when the draw falls under the bound is the exact hazard computed.
      // The outcome is the same as computing every hazard. Households with a candidate, and those whose push
      // row needs a reset, are listed without a branch (which households they are is as good as random, so
      // a branch per household would often be mispredicted) and handled after the screen.
      constexpr std::uint32_t kBatch = 16;
      std::array<rng::Stream::Philox::ctr_type, kBatch> blocks;
      std::array<std::uint32_t, kBatch> candidate_of{}, to_reset{};
      std::array<unsigned, kBatch> candidates_of{};
      for (std::uint32_t b0 = h0; b0 < h1; b0 += kBatch) {
        const std::uint32_t nb = std::min(kBatch, h1 - b0);
        for (std::uint32_t j = 0; j < nb; ++j)
          blocks[j] = first_blocks(b0 + j);
        std::uint32_t n_candidates = 0, n_reset = 0;
        for (std::uint32_t j = 0; j < nb; ++j) {
          const std::size_t row = static_cast<std::size_t>(b0 + j) * kTechCount;
          const Screened sc = screen(blocks[j].v, push + row, adopted_mask(state + row), bounds, k.readopt_max);
          // Technologies waiting for financing are tried every month.
          const unsigned candidates = sc.candidates | (p.liquidity ? pending[b0 + j] : 0u);
          candidate_of[n_candidates] = j;
          candidates_of[n_candidates] = candidates;
          n_candidates += candidates != 0 ? 1 : 0;
          to_reset[n_reset] = b0 + j;
          n_reset += sc.pushed ? 1 : 0;
        }
        for (std::uint32_t c = 0; c < n_candidates; ++c) {
          const std::uint32_t j = candidate_of[c], i = b0 + j;
          const std::size_t row = static_cast<std::size_t>(i) * kTechCount;
          const AdoptionFinance fin = p.liquidity ? finance_of(i) : AdoptionFinance{accounts};
          const AdoptionHousehold household{
              state + row,
              push + row,
              asset + row,
              pasture + i,
              rows::members_aged(age + static_cast<std::size_t>(i) * kMaxMembers, kWorkingAgeMin, kWorkingAgeMax),
              cash[i],
              support[i] != 0,
              water[i] != 0,
              land[i],
              p.persistence ? expected + row : nullptr,
              p.liquidity ? pending + i : nullptr,
              p.liquidity ? &fin : nullptr};
          update_candidates(k, peer, blocks[j].v, household, candidates_of[c]);
        }
        // The baseline business (economy.persistence.enabled), on the block's spare uniform u11. Only an owner's
        // month changes anything without a start: for a household without a business owner_month stores its
        // values back unchanged and returns whether u11 falls under the start hazard. So the owners (about a
        // fifth of households) are listed without a branch (ownership is as good as random from one household to
        // the next) and their month computed (owner_month); the others only compare u11 with the start hazard,
        // and one that starts (rare) goes through the rule itself. Households are independent, so handling the
        // owners before the starts changes nothing.
        if (p.persistence) {
          std::array<std::uint32_t, kBatch> owner_of;
          std::uint32_t n_owners = 0;
          unsigned starting = 0;  // bit j: lane j has no business and its u11 falls under the start hazard
          for (std::uint32_t j = 0; j < nb; ++j) {
            const bool owner = has_business[b0 + j] != 0;
            owner_of[n_owners] = j;
            n_owners += owner ? 1 : 0;
            starting |= static_cast<unsigned>(!owner & (uniform21(blocks[j].v, 11) < bk.start_hazard)) << j;
          }
          const auto outside_of = [&](std::uint32_t i) {
            if (district[i] != outside_district) {  // households are sorted by district: almost never taken
              outside_district = district[i];
              outside = business_.outside_option(market[outside_district]);
            }
            return outside;
          };
          for (std::uint32_t o = 0; o < n_owners; ++o) {
            const std::uint32_t j = owner_of[o], i = b0 + j;
            owner_month(bk, uniform21(blocks[j].v, 11), has_business + i, business_expected + i, business_loss + i,
                        business_income[i] - hw_profit[i], outside_of(i), observed);
          }
          for (unsigned m = starting; m != 0; m &= m - 1) [[unlikely]] {
            const std::uint32_t j = static_cast<std::uint32_t>(std::countr_zero(m)), i = b0 + j;
            const AdoptionFinance fin = p.liquidity ? finance_of(i) : AdoptionFinance{accounts};
            const BaselineBusiness b{has_business + i, business_expected + i, business_loss + i,
                                     business_income[i] - hw_profit[i], outside_of(i), observed};
            baseline_business_month(bk, uniform21(blocks[j].v, 11), b, p.liquidity ? &fin : nullptr);
          }
        }
        // The push is a monthly flow: reset after use (most households without a programme push have none).
        for (std::uint32_t r = 0; r < n_reset; ++r) {
          float* pi = push + static_cast<std::size_t>(to_reset[r]) * kTechCount;
          std::fill(pi, pi + kTechCount, 0.0f);
        }
      }
    }
  });
}

}  // namespace chacra::models
