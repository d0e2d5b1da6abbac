// File: models/livestock.cpp
// Livestock herds and the poverty trap's asset threshold: parameters, baseline herds and the monthly phase
// (see livestock.hpp; the rules in livestock_rules.hpp).
#include "models/livestock.hpp"

#include "models/adoption.hpp"
#include "models/livelihood.hpp"
#include "models/lanes.hpp"
#include "models/livestock_rules.hpp"
#include "models/row_ops.hpp"
#include "sim/param_spec.hpp"

#include <algorithm>
#include <limits>

namespace chacra::models {

namespace {

constexpr std::uint64_t kSetupPeriod = 0xFFFF'FFFF'FFFF'0000ull;
constexpr auto kAdopted = static_cast<std::uint8_t>(TechState::adopted);
constexpr int kShed = tech_index(Tech::small_animal_shed);
static_assert(Livestock::kDiseaseGroup % lanes::kLanes == 0, "four lanes from one word of a disease group's block");

// The disease uniforms (bits + 0.5) / 4096 of four households from the four 16-bit fields of one word of their
// group's block (12 bits each), lane j from field j: the scalar rule's exact int-to-float conversion and its two
// float operations, in lanes.
inline lanes::vf disease_uniforms(std::uint64_t word) {
  lanes::vi bits;
#if defined(CHACRA_BYTES_SSE2)
  bits = reinterpret_cast<lanes::vi>(
      _mm_unpacklo_epi16(_mm_cvtsi64_si128(static_cast<long long>(word)), _mm_setzero_si128()));
#else
  for (int j = 0; j < lanes::kLanes; ++j) bits[j] = static_cast<std::int32_t>((word >> (16 * j)) & 0xFFFFu);
#endif
  bits &= 0xFFF;
  return (__builtin_convertvector(bits, lanes::vf) + 0.5f) * (1.0f / 4096.0f);
}

}  // namespace

template <class V>
void LivestockParams::describe(V& v) {
  const std::string cenagro =
      "Assumption; order of magnitude from CENAGRO 2012 (INEI): highland smallholders keep about 10-20 guinea "
      "pigs, 5-10 sheep and 1-2 cattle, fewer in the Amazon";
  const std::string market = "Assumption from rural market prices (PEN 2017)";
  for (int s = 0; s < kSpeciesCount; ++s) {
    const std::string name = kSpeciesNames[static_cast<std::size_t>(s)];
    const std::string base = "livestock." + name + ".";
    SpeciesParams& q = species[static_cast<std::size_t>(s)];
    v.real(base + "price_pen", q.price_pen, {0, 1e6}, "PEN 2017 per head",
           "Price of one head of " + name + " (sales, purchases and the value of animals eaten)",
           market + ": guinea pig 20, sheep 180, cattle 1,800 (prior range +-50%)");
    v.real(base + "birth_rate", q.birth_rate, {0, 1}, "heads per head and month",
           "Monthly births net of natural deaths per head of " + name + " (before the climate shock and the "
           "poverty trap)",
           "Assumption: guinea pigs 0.12 (litters of 2-4 every three months), sheep 0.025, cattle 0.012 a month "
           "(prior range +-50%)");
    v.real(base + "eaten_per_month", q.eaten_per_month, {0, 1000}, "heads per household and month",
           "Heads of " + name + " a household eats in a month when the herd's increase (or surplus) allows; "
           "households do not eat their breeding stock",
           "Assumption: guinea pigs 2 a month; sheep 0.05 a month per household (per head of the flock it would "
           "exceed the net birth rate and empty every flock); cattle are sold, not eaten");
    v.real(base + "capacity_per_household", q.capacity_per_household, {0, 1e5}, "heads",
           "Heads of " + name + " any household can keep at stocking rate 1, whatever its land", cenagro);
    v.real(base + "capacity_per_ha", q.capacity_per_ha, {0, 1e4}, "heads per ha",
           "Heads of " + name + " a hectare of the household's land carries at stocking rate 1", cenagro);
    v.real(base + "capacity_per_pasture_ha", q.capacity_per_pasture_ha, {0, 1e4}, "heads per ha",
           "Extra heads of " + name + " a hectare of cultivated pasture carries",
           "Assumption: sown pasture (alfalfa, ryegrass) carries about 2-6 times the natural range");
    v.real(base + "capacity_shed", q.capacity_shed, {0, 1e5}, "heads",
           "Extra heads of " + name + " the small-animal shed houses",
           "Assumption from Haku Winay's guinea-pig sheds (Escobal and Ponce 2016: households raise 40-80)");
    v.real(base + "product_pen", q.product_pen, {0, 1e4}, "PEN 2017 per head and month",
           "Monthly products per head of " + name + " (wool, milk) without cultivated pasture",
           "Assumption: wool PEN 2 a month per sheep, milk PEN 25 a month per cow on natural pasture");
    v.real(base + "product_pasture_pen", q.product_pasture_pen, {0, 1e4}, "PEN 2017 per head and month",
           "Monthly products per head of " + name + " where the household sows cultivated pasture",
           "Assumption: milk PEN 60 a month per cow with sown pasture");
    v.real(base + "baseline_fill", q.baseline_fill, {0, 2}, "share of capacity",
           "Mean baseline herd of " + name + " as a share of the household's carrying capacity", cenagro);
  }
  v.real("livestock.disease_prob", disease_prob, {0, 1}, "probability per month",
         "Monthly probability that disease strikes a household's guinea pigs",
         "Assumption (prior range 0.005-0.03)");
  v.real("livestock.disease_loss", disease_loss, {0, 1}, "share of the herd",
         "Share of the guinea-pig herd an outbreak kills", "Assumption (prior range 0.1-0.6)");
  v.real("livestock.distress_discount", distress_discount, {0, 1}, "share of the price",
         "Price discount on animals sold in distress (a household short of cash sells when everyone does)",
         "Assumption (prior range 0.1-0.4); Fafchamps, Udry and Czukas (1998) on distress sales of livestock");
  v.real("livestock.distress_floor_pc_pen", distress_floor_pc_pen, {0, 1e5}, "PEN 2017 per person",
         "Cash per person below which a household sells animals to eat (one month of the cash part of "
         "subsistence spending)",
         "Assumption: about half the extreme poverty line, the part of food bought for cash (prior range 50-183)");
  v.real("livestock.shed_breeding_stock", shed_breeding_stock, {0, 1e4}, "heads",
         "Guinea pigs a household with the small-animal shed keeps at least, buying the rest as breeding stock",
         "Assumption from Haku Winay's guinea-pig modules (a starting stock of about 20 breeders)");
  v.real("livestock.amazon_capacity_factor", amazon_capacity_factor, {0, 10}, "multiplier",
         "Stocking rate of Amazon households relative to the highlands (Andean species do less well; poultry "
         "and pigs are not modelled)",
         cenagro);
  v.real("livestock.stocking_wealth_slope", stocking_wealth_slope, {0, 10}, "per unit of wealth index",
         "How the stocking rate rises with the household's wealth index (clamped to 0.2-3)", cenagro);
  v.real("poverty_trap.asset_threshold_pen", trap.asset_threshold_pen, {0, 1e7}, "PEN 2017",
         "Productive assets (herd value + up-front value of the productive technologies adopted) below which "
         "accumulation does not pay (economy.poverty_trap.enabled; prior range 1,000-6,000)",
         "Assumption; Carter and Barrett (2006), the asset-based approach to poverty traps; Lybbert et al. "
         "(2004), herd dynamics with a threshold");
  v.real("poverty_trap.width_pen", trap.width_pen, {1, 1e7}, "PEN 2017",
         "Width of the logistic around the threshold (the share below it is 1 / (1 + exp((a - threshold) / "
         "width)))",
         "Assumption");
  v.real("poverty_trap.low_return_factor", trap.low_return_factor, {0, 1}, "multiplier",
         "Returns to productive assets (births, products, technology returns) far below the threshold",
         "Assumption (prior range 0.4-0.9)");
  v.real("poverty_trap.destock_rate", trap.destock_rate, {0, 1}, "share per month",
         "Share of the herd above its target that a household below the threshold sells or eats each month",
         "Assumption");
  v.borrow("economy.persistence.enabled", persistence);
  v.borrow("economy.poverty_trap.enabled", poverty_trap);
  v.borrow("livelihood.covariate_shock_prob", covariate_shock_prob);
  v.borrow("livelihood.covariate_shock_loss", covariate_shock_loss);
  for (int t = 0; t < kTechCount; ++t)
    v.borrow("adoption." + std::string(kTechNames[t]) + ".upfront_pen", upfront_pen[static_cast<std::size_t>(t)]);
}

LivestockParams LivestockParams::from(const ParamSet& params) { return read_params<LivestockParams>(params); }

void Livestock::register_params(Registry& r) { declare_params<LivestockParams>(r); }

void Livestock::setup(World& world, const ParamSet& params, const rng::StreamSeed& seed) {
  p_ = LivestockParams::from(params);
  credit_ = CreditTerms::from(params);
  auto& h = world.households;
  h.add(col::livestock_sales_pen);
  h.add(col::livestock_own_pen);
  h.add(col::livestock_products_pen);
  auto* factor = h.add(col::asset_return_factor);
  std::fill(factor + world.household_begin(), factor + world.household_end(), 1.0f);
  if (!p_.persistence) return;
  // Baseline states may not exist yet (setup order does not matter): Adoption draws the same ones.
  if (!h.has(col::tech_state)) Adoption::init_states(world, AdoptionParams::from(params), seed);
  auto* herd = h.get(col::herd);
  const auto* land = h.get(col::land_ha);
  const auto* pasture = h.get(col::pasture_ha);
  const auto* state = h.get(col::tech_state);
  const auto* wealth = h.get(col::wealth_index);
  const auto* district = h.get(col::district);
  const auto* region = world.districts.get(col::district_region);
  const LivestockConstants k(p_, false);
  for (std::size_t i = world.household_begin(); i < world.household_end(); ++i) {
    auto s = seed.open(kSetupDomain, kSetupPeriod, i);
    const float u = static_cast<float>(s.uniform());
    const bool shed = state[i * kTechCount + kShed] == kAdopted;
    const float stocking = stocking_rate(k, wealth[i], region[district[i]] == 2);
    for (int sp = 0; sp < kSpeciesCount; ++sp) {
      const float fill = static_cast<float>(p_.species[static_cast<std::size_t>(sp)].baseline_fill) *
                         (sp == kGuineaPigs ? 0.75f + 0.5f * u : 1.0f);
      herd[i * kSpeciesCount + sp] = capacity(k, sp, land[i], pasture[i], shed, stocking) * fill;
    }
  }
}

Phase Livestock::step_phase() const {
  return Phase::per_block("livestock.step", [this](World& world, const StepContext& ctx, const Block& block) {
    const LivestockParams& p = p_;
    if (!p.persistence) return;
    auto& h = world.households;
    auto* herd = h.get(col::herd);
    auto* sales = h.get(col::livestock_sales_pen);
    auto* own = h.get(col::livestock_own_pen);
    auto* products = h.get(col::livestock_products_pen);
    auto* factor = h.get(col::asset_return_factor);
    auto* cash = h.get(col::cash_pen);
    auto* debt = h.get(col::debt_pen);
    auto* investment = h.get(col::investment_pen);
    auto* borrowed = h.get(col::borrowed_pen);
    const auto* perm = h.get(col::permanent_income_pen);
    const auto* land = h.get(col::land_ha);
    const auto* pasture = h.get(col::pasture_ha);
    const auto* state = h.get(col::tech_state);
    const auto* wealth = h.get(col::wealth_index);
    const auto* size = h.get(col::household_size);
    const auto* district = h.get(col::district);
    const auto* region = world.districts.get(col::district_region);
    const finance::Accounts accounts{cash, debt, investment, borrowed};

    const LivestockConstants k(p, p.poverty_trap);
    const float floor_pc = static_cast<float>(p.distress_floor_pc_pen);
    const float reserve_months = static_cast<float>(credit_.reserve_months);
    const int year = ctx.year();
    std::uint32_t cached_district = std::numeric_limits<std::uint32_t>::max();
    float climate_keep = 1.0f;
    std::uint32_t cached_group = std::numeric_limits<std::uint32_t>::max();
    std::uint64_t disease_words[4] = {0, 0, 0, 0};

    const auto disease_bits = [&](std::uint32_t i) {
      // The month's disease bits: 16 per household from its group's block, drawn whatever the herd.
      const std::uint32_t group = i / kDiseaseGroup;
      if (group != cached_group) {
        cached_group = group;
        const auto b = ctx.seed.first_block(kDiseaseDomain, static_cast<std::uint64_t>(ctx.month), group);
        for (int w = 0; w < 4; ++w) disease_words[w] = b.v[w];
      }
      const unsigned slot = i % kDiseaseGroup;
      return static_cast<unsigned>((disease_words[slot / 4] >> (16 * (slot % 4))) & 0xFFFu);
    };
    // One household (V = float) or lanes::kLanes households (V = lanes::vf) from household i: the draws, the
    // district's climate shock and the rows gathered household by household, the month of the herds in lanes
    // (herd_month_of, the plain rules' bits), then breeding stock bought household by household.
    const auto step = [&](std::uint32_t i, auto kind) {
      using V = decltype(kind);
      using T = lanes::Traits<V>;
      constexpr int n = T::width;
      // The district's climate shock and the Amazon's stocking factor (or 1), once for the lanes when their
      // households share a district (households are sorted by district: almost always), else lane by lane.
      const auto district_keep = [&](std::uint32_t d) {
        if (d != cached_district) {
          cached_district = d;
          climate_keep = static_cast<float>(
              1.0 - Livelihood::climate_loss(ctx.seed, year, d, p.covariate_shock_prob, p.covariate_shock_loss));
        }
        return climate_keep;
      };
      V keep_v, amazon_v, disease_v;
      if (rows::one_district<n>(district, i)) {
        keep_v = V{} + district_keep(district[i]);
        amazon_v = V{} + (region[district[i]] == 2 ? k.amazon : 1.0f);
      } else {
        float keep_s[n], amazon_s[n];
        for (int j = 0; j < n; ++j) {
          const std::uint32_t d = district[i + static_cast<std::uint32_t>(j)];
          keep_s[j] = district_keep(d);
          amazon_s[j] = region[d] == 2 ? k.amazon : 1.0f;
        }
        keep_v = T::load(keep_s);
        amazon_v = T::load(amazon_s);
      }
      // The disease uniforms: four households that start a quarter of their disease group hold the four 16-bit
      // fields of one word, converted in one vector (the same exact int-to-float and the same two operations).
      if constexpr (n == lanes::kLanes) {
        if (i % 4 == 0) {
          disease_bits(i);  // the group's block
          disease_v = disease_uniforms(disease_words[(i % kDiseaseGroup) / 4]);
        } else {
          float disease_s[n];
          for (int j = 0; j < n; ++j)
            disease_s[j] = (static_cast<float>(disease_bits(i + static_cast<std::uint32_t>(j))) + 0.5f) * (1.0f / 4096.0f);
          disease_v = T::load(disease_s);
        }
      } else {
        disease_v = (static_cast<float>(disease_bits(i)) + 0.5f) * (1.0f / 4096.0f);
      }
      HerdLanes<V, typename T::Mask> in;
      // The lanes' adopted technologies (the shed is one of their bits) and the cash below which each sells in
      // distress: floor_pc * persons (at least 1), the byte column widened in lanes.
      if constexpr (n == lanes::kLanes) {
        // The four households' technology rows at once (row j's mask in bits [10 j, 10 j + 10)).
        const std::uint64_t on4 = rows::tech_masks4(state + static_cast<std::size_t>(i) * kTechCount, kAdopted);
        in.adopted = rows::tech_mask_lanes(on4);
        in.shed = lanes::has_bit(in.adopted, kShed);
      } else {
        const std::uint8_t* si = state + static_cast<std::size_t>(i) * kTechCount;
        in.shed = si[kShed] == kAdopted ? ~0u : 0u;
        in.adopted = k.trap ? rows::tech_mask(si, kAdopted) : 0u;
      }
      in.distress_need = floor_pc * lanes::persons(size + i, V{});
      const auto load = [i](const float* column) { return T::load(column + i); };
      float* const rows = herd + static_cast<std::size_t>(i) * kSpeciesCount;  // the lanes' herds, species by species
      in.herd = herd_columns(rows, V{});
      in.land_ha = load(land);
      in.pasture_ha = load(pasture);
      // stocking_rate, with the Amazon's factor (or 1) gathered per household.
      in.stocking = lanes::clamp_of(1.0f + k.wealth_slope * load(wealth), splat_as<V>(0.2f), splat_as<V>(3.0f)) *
                    amazon_v;
      in.climate_keep = keep_v;
      in.disease_u = disease_v;
      // Cash on hand before this month's income is known: savings plus the month's expected income.
      in.cash = load(cash) + lanes::max_of(0.0f, load(perm));
      const HerdLanesMonth<V> m = herd_month_of(k, in);
      lanes::store(sales + i, m.sales_pen);
      lanes::store(own + i, m.own_pen);
      lanes::store(products + i, m.products_pen);
      if (k.trap) lanes::store(factor + i, m.return_factor);  // else it stays 1 (set up so)
      store_herd_columns(rows, m.herd);
      // Breeding stock for a shed, if the household can pay for it (few lanes buy: none in most groups).
      if (!any_positive(m.buy)) return;
      for (int j = 0; j < n; ++j) {
        const std::uint32_t hh = i + static_cast<std::uint32_t>(j);
        float* hi = herd + static_cast<std::size_t>(hh) * kSpeciesCount;
        const float buy = lanes::lane(m.buy, j);
        if (buy > 0.0f) {
          const float amount = buy * k.price[kGuineaPigs];
          const float pm = perm[hh];
          const finance::Payment pay = finance::pay(cash[hh], debt[hh], credit_.limit(pm),
                                                    reserve_months * std::max(0.0f, pm), amount,
                                                    credit_.credit_for_investment);
          if (pay.paid) {
            accounts.book(hh, amount, pay);
            hi[kGuineaPigs] += buy;
          }
        }
      }
    };
    std::uint32_t i = block.household_begin;
    for (; i + lanes::kLanes <= block.household_end; i += lanes::kLanes) step(i, lanes::vf{});
    for (; i < block.household_end; ++i) step(i, 0.0f);  // the last few households of the block
  });
}

}  // namespace chacra::models
