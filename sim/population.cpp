// Deterministic synthetic population generator: every entity draws from its own counter-based stream,
// so a household's attributes depend only on (population.seed, replicate, its index).
#include "sim/population.hpp"

#include "sim/engine_params.hpp"

#include "sim/rng.hpp"

#include <algorithm>
#include <cmath>

namespace chacra {

namespace {

constexpr std::uint32_t kDistrictDomain = rng::domain_id("population.district");
constexpr std::uint32_t kCentreDomain = rng::domain_id("population.centre");
constexpr std::uint32_t kHouseholdDomain = rng::domain_id("population.household");
// The correlated geography's own draws (the independent generator never opens these streams).
constexpr std::uint32_t kGeographyDistrictDomain = rng::domain_id("population.geography.district");
constexpr std::uint32_t kGeographyCentreDomain = rng::domain_id("population.geography.centre");

float clampf(double x, double lo, double hi) { return static_cast<float>(std::clamp(x, lo, hi)); }

// A district's department (col::kDepartmentCodes) given its region.
std::uint8_t draw_department(Region region, double u) {
  switch (region) {
    case Region::southern_highlands: return u < 0.4 ? 0 : (u < 0.8 ? 2 : 5);
    case Region::northern_highlands: return u < 0.4 ? 1 : (u < 0.7 ? 4 : 3);
    case Region::amazon: return u < 0.3 ? 3 : 5;
  }
  return 5;
}

}  // namespace

const char* department_name(std::uint8_t department) {
  return department < std::size(col::kDepartmentCodes) ? col::kDepartmentCodes[department].meaning.data() : "other";
}

WorldPart district_block(const std::vector<std::uint32_t>& centre_first, const std::vector<std::uint32_t>& district_first,
                         int rank, int ranks) {
  const std::size_t n_districts = district_first.empty() ? 0 : district_first.size() - 1;
  const std::uint64_t total = centre_first.empty() ? 0 : centre_first.back();
  auto households_before = [&](std::size_t d) -> std::uint64_t { return centre_first[district_first[d]]; };
  // Boundary k (district index) for k = 0..ranks, each at least the previous one.
  auto boundary = [&](int k, std::size_t previous) -> std::size_t {
    if (k <= 0) return 0;
    if (k >= ranks) return n_districts;
    const std::uint64_t target = total * static_cast<std::uint64_t>(k) / static_cast<std::uint64_t>(ranks);
    std::size_t d = previous;
    while (d < n_districts && households_before(d) < target) ++d;
    if (d > previous && target - households_before(d - 1) < households_before(d) - target) --d;
    return d;
  };
  std::size_t begin = 0, end = 0;
  for (int k = 1; k <= rank + 1; ++k) {
    begin = end;
    end = boundary(k, begin);
  }
  WorldPart part;
  part.district_begin = static_cast<std::uint32_t>(begin);
  part.district_end = static_cast<std::uint32_t>(end);
  part.centre_begin = n_districts ? district_first[begin] : 0;
  part.centre_end = n_districts ? district_first[end] : 0;
  part.household_begin = centre_first.empty() ? 0 : centre_first[part.centre_begin];
  part.household_end = centre_first.empty() ? 0 : centre_first[part.centre_end];
  part.total_households = total;
  return part;
}

namespace {

World generate(const ParamSet& p, std::uint32_t replicate, const Collective* collective);

}  // namespace

World generate_population(const ParamSet& p, std::uint32_t replicate) { return generate(p, replicate, nullptr); }

World generate_population(const ParamSet& p, std::uint32_t replicate, const Collective& collective) {
  return generate(p, replicate, &collective);
}

namespace {

// What the household draws read of their centre: the probability of an unmet basic need, the shifts of the
// centre's wealth index and mean log land, and the households' own spreads around them.
struct CentreTraits {
  std::vector<double> target_ubn;
  std::vector<double> wealth_shift;
  std::vector<double> land_shift;
  std::vector<double> share_with_children;
  double wealth_sd = 0.85;
  double land_sd = 0.8;
};

// The latent district draws of the correlated geography, standard normal: deprivation (which sets poverty)
// and remoteness.
struct DistrictLatent {
  std::vector<double> deprivation;
  std::vector<double> remoteness;
};

// A region's offset, centred on the population's mix of regions so that the mean stays where its parameter says.
double centred_offset(const PopulationParams& pop, Region region, double northern, double amazon) {
  const double mix = pop.share_northern_highlands * northern + pop.share_amazon * amazon;
  const double own = region == Region::northern_highlands ? northern : region == Region::amazon ? amazon : 0.0;
  return own - mix;
}

// Proposed executing nuclei: neighbouring centres of a district grouped to about 130 households.
void assign_nuclei(World& w, const std::vector<std::uint32_t>& sizes) {
  const auto* c_district = w.centres.get(col::centre_district);
  auto* c_nucleus = w.centres.add(col::centre_nucleus);
  std::uint32_t nucleus = 0, nucleus_households = 0, nucleus_district = 0;
  for (std::size_t c = 0; c < sizes.size(); ++c) {
    const std::uint32_t d = c_district[c];
    if (c > 0 && (d != nucleus_district || nucleus_households >= 130)) {
      ++nucleus;
      nucleus_households = 0;
    }
    nucleus_district = d;
    nucleus_households += sizes[c];
    c_nucleus[c] = nucleus;
  }
}

// The district columns both geographies fill, added in the order of the population file's tables.
struct DistrictColumns {
  float* poverty;
  std::uint8_t* malnutrition;
  float* market;
  std::uint8_t* region;
  std::uint8_t* department;
  explicit DistrictColumns(World& w)
      : poverty(w.districts.add(col::district_poverty_rate)),
        malnutrition(w.districts.add(col::district_malnutrition_priority)),
        market(w.districts.add(col::district_market_dynamism)),
        region(w.districts.add(col::district_region)),
        department(w.districts.add(col::district_department)) {}
  // District d's region and department: the first two draws of its stream, in both geographies.
  Region draw_region_and_department(std::size_t d, const PopulationParams& pop, rng::Stream& s) const {
    const double u_region = s.uniform();
    const Region r = u_region < pop.share_southern_highlands ? Region::southern_highlands
                     : u_region < pop.share_southern_highlands + pop.share_northern_highlands
                         ? Region::northern_highlands
                         : Region::amazon;
    region[d] = static_cast<std::uint8_t>(r);
    department[d] = draw_department(r, s.uniform());
    return r;
  }
  // A chronic-malnutrition priority district: likelier the poorer the district is than the mean.
  void draw_malnutrition_priority(std::size_t d, double mean_poverty, rng::Stream& s) const {
    const double logit = -0.5 + 6.0 * (poverty[d] - mean_poverty);
    malnutrition[d] = s.bernoulli(1.0 / (1.0 + std::exp(-logit))) ? 1 : 0;
  }
};

// The centre columns both geographies fill (after district, households and UBN share; before the nucleus).
struct CentreColumns {
  float* market;
  float* water;
  float* altitude;
  std::uint8_t* border;
  explicit CentreColumns(World& w)
      : market(w.centres.add(col::centre_market_access)),
        water(w.centres.add(col::centre_water_share)),
        altitude(w.centres.add(col::centre_altitude_m)),
        border(w.centres.add(col::centre_border_area)) {}
};

// ---- The independent geography: the generator before the correlated one, draw for draw ----

void draw_districts_independent(World& w, const DistrictColumns& cols, const PopulationParams& pop,
                                const rng::StreamSeed& seed) {
  const double mean_poverty = pop.mean_district_poverty;
  for (std::size_t d = 0; d < w.district_count(); ++d) {
    auto s = seed.open(kDistrictDomain, 0, d);
    const Region region = cols.draw_region_and_department(d, pop, s);
    cols.poverty[d] = clampf(s.normal(mean_poverty, 0.12), 0.05, 0.95);
    cols.draw_malnutrition_priority(d, mean_poverty, s);
    cols.market[d] = clampf(s.uniform() * 0.8 + (region == Region::amazon ? 0.0 : 0.1), 0.0, 1.0);
  }
}

CentreTraits draw_centres_independent(World& w, const CentreColumns& cols, const PopulationParams& pop,
                                      const rng::StreamSeed& seed) {
  const std::size_t n_centres = w.centre_count();
  const auto* c_district = w.centres.get(col::centre_district);
  const auto* d_poverty = w.districts.get(col::district_poverty_rate);
  const auto* d_market = w.districts.get(col::district_market_dynamism);
  const auto* d_region = w.districts.get(col::district_region);
  float* c_market = cols.market;
  float* c_water = cols.water;
  float* c_altitude = cols.altitude;
  std::uint8_t* c_border = cols.border;
  const double mean_poverty = pop.mean_district_poverty;
  CentreTraits t;
  t.target_ubn.resize(n_centres);
  t.wealth_shift.resize(n_centres);
  t.land_shift.assign(n_centres, 0.0);
  t.share_with_children.assign(n_centres, pop.share_with_children);
  for (std::size_t c = 0; c < n_centres; ++c) {
    auto s = seed.open(kCentreDomain, 1, c);
    const std::uint32_t d = c_district[c];
    const auto region = static_cast<Region>(d_region[d]);
    t.target_ubn[c] =
        std::clamp(s.normal(pop.mean_ubn_share + 0.6 * (d_poverty[d] - mean_poverty), pop.sd_ubn_share), 0.02, 0.99);
    c_market[c] = clampf(d_market[d] + s.normal(0.0, 0.15), 0.0, 1.0);
    c_water[c] = clampf(s.normal(pop.share_water_access, 0.15), 0.0, 1.0);
    c_altitude[c] = region == Region::amazon ? clampf(s.normal(800, 300), 150, 2000)
                                             : clampf(s.normal(3300, 450), 2000, 4600);
    c_border[c] = s.bernoulli(0.04) ? 1 : 0;
    // The district's poverty lowers every household's wealth index alike.
    t.wealth_shift[c] = -1.2 * (d_poverty[d] - mean_poverty);
  }
  return t;
}

// ---- The correlated geography (docs/population.md) ----

// Market access and market dynamism: the independent generator's means (0.5 in the highlands, 0.4 in the
// Amazon) and spreads, lowered by remoteness.
constexpr double kMarketSpreadCentre = 0.275;
constexpr double kMarketSpreadDistrict = 0.231;
constexpr double kWaterSpread = 0.15;
double market_base(Region region) { return region == Region::amazon ? 0.4 : 0.5; }

DistrictLatent draw_districts_correlated(World& w, const DistrictColumns& cols, const PopulationParams& pop,
                                        const rng::StreamSeed& seed) {
  const double mean_poverty = pop.mean_district_poverty;
  const double rho = pop.remoteness_deprivation_correlation;
  DistrictLatent latent;
  latent.deprivation.resize(w.district_count());
  latent.remoteness.resize(w.district_count());
  for (std::size_t d = 0; d < w.district_count(); ++d) {
    auto s = seed.open(kDistrictDomain, 0, d);
    const Region region = cols.draw_region_and_department(d, pop, s);
    auto g = seed.open(kGeographyDistrictDomain, 0, d);
    const double z = g.normal();
    const double q = rho * z + std::sqrt(1.0 - rho * rho) * g.normal();
    latent.deprivation[d] = z;
    latent.remoteness[d] = q;
    const double offset =
        centred_offset(pop, region, pop.poverty_offset_northern_highlands, pop.poverty_offset_amazon);
    cols.poverty[d] = clampf(mean_poverty + offset + pop.sd_district_poverty * z, 0.05, 0.95);
    cols.draw_malnutrition_priority(d, mean_poverty, g);
    cols.market[d] = clampf(market_base(region) - kMarketSpreadDistrict * q, 0.0, 1.0);
  }
  return latent;
}

CentreTraits draw_centres_correlated(World& w, const CentreColumns& cols, const PopulationParams& pop,
                                     const rng::StreamSeed& seed, const DistrictLatent& latent) {
  const std::size_t n_centres = w.centre_count();
  const auto* c_district = w.centres.get(col::centre_district);
  const auto* d_region = w.districts.get(col::district_region);
  float* c_market = cols.market;
  float* c_water = cols.water;
  float* c_altitude = cols.altitude;
  std::uint8_t* c_border = cols.border;
  const double k = pop.district_share_of_deprivation;
  const double rho = pop.remoteness_deprivation_correlation;
  const double lambda = pop.ubn_deprivation_correlation;
  const double alpha = pop.altitude_remoteness_correlation;
  const double beta = pop.land_remoteness_correlation;
  const double slope = pop.water_altitude_slope_per_km;
  // Altitude explains part of a highland centre's water; its own noise keeps the spread at 0.15.
  const double water_noise_highlands = std::sqrt(std::max(0.0, kWaterSpread * kWaterSpread - std::pow(slope * 0.45, 2)));
  CentreTraits t;
  t.target_ubn.resize(n_centres);
  t.wealth_shift.resize(n_centres);
  t.land_shift.resize(n_centres);
  t.share_with_children.resize(n_centres);
  t.wealth_sd = std::sqrt(0.85 * 0.85 - pop.sd_centre_wealth * pop.sd_centre_wealth);
  t.land_sd = std::sqrt(0.8 * 0.8 - pop.sd_log_centre_land * pop.sd_log_centre_land);
  for (std::size_t c = 0; c < n_centres; ++c) {
    auto g = seed.open(kGeographyCentreDomain, 0, c);
    const std::uint32_t d = c_district[c];
    const auto region = static_cast<Region>(d_region[d]);
    // Every centre makes the same draws, in this order, whatever its region.
    const double e = g.normal();
    const double f = rho * e + std::sqrt(1.0 - rho * rho) * g.normal();
    const double own_ubn = g.normal(), own_altitude = g.normal(), own_water = g.normal(), own_land = g.normal();
    const bool border = g.bernoulli(0.04);
    const double deprivation = std::sqrt(k) * latent.deprivation[d] + std::sqrt(1.0 - k) * e;
    const double remoteness = std::sqrt(k) * latent.remoteness[d] + std::sqrt(1.0 - k) * f;

    t.target_ubn[c] = std::clamp(
        pop.mean_ubn_share + pop.sd_ubn_share * (lambda * deprivation + std::sqrt(1.0 - lambda * lambda) * own_ubn),
        0.02, 0.99);
    t.wealth_shift[c] = -pop.sd_centre_wealth * deprivation;
    t.land_shift[c] = pop.sd_log_centre_land * (beta * remoteness + std::sqrt(1.0 - beta * beta) * own_land);
    t.share_with_children[c] =
        std::clamp(pop.share_with_children + pop.children_deprivation_slope * deprivation, 0.05, 0.98);
    c_market[c] = clampf(market_base(region) - kMarketSpreadCentre * remoteness, 0.0, 1.0);
    const double water_mean =
        pop.share_water_access +
        centred_offset(pop, region, pop.water_offset_northern_highlands, pop.water_offset_amazon);
    if (region == Region::amazon) {
      c_altitude[c] = clampf(800 + 300 * own_altitude, 150, 2000);
      c_water[c] = clampf(water_mean + kWaterSpread * own_water, 0.0, 1.0);
    } else {
      c_altitude[c] =
          clampf(3300 + 450 * (alpha * remoteness + std::sqrt(1.0 - alpha * alpha) * own_altitude), 2000, 4600);
      c_water[c] = clampf(water_mean + slope * (c_altitude[c] - 3300.0) / 1000.0 + water_noise_highlands * own_water,
                          0.0, 1.0);
    }
    c_border[c] = border ? 1 : 0;
  }
  return t;
}

World generate(const ParamSet& p, std::uint32_t replicate, const Collective* collective) {
  const PopulationParams pop = PopulationParams::from(p);
  const RunParams run = RunParams::from(p);
  const rng::StreamSeed seed{static_cast<std::uint64_t>(pop.seed), replicate};
  const auto n_households = static_cast<std::size_t>(pop.households);
  const auto n_districts = static_cast<std::size_t>(pop.districts);
  const double mean_centre = pop.mean_centre_households;
  const double sd_log_centre = pop.sd_log_centre_households;
  const double mean_land = pop.mean_land_ha;
  const double mean_size = pop.mean_household_size;
  const double sd_log_capacity = pop.sd_log_capacity;
  const bool correlated = pop.geography == PopulationGeography::correlated;

  World w;
  w.calendar.start_year = run.start_year;
  w.calendar.months = run.years * 12;

  // Districts.
  w.districts.resize(n_districts);
  const DistrictColumns district_columns(w);
  DistrictLatent latent;
  if (correlated) {
    latent = draw_districts_correlated(w, district_columns, pop, seed);
  } else {
    draw_districts_independent(w, district_columns, pop, seed);
  }
  const auto* d_region = w.districts.get(col::district_region);

  // Centre sizes: log-normal, drawn until the households are placed (the last centre takes the rest).
  std::vector<std::uint32_t> sizes;
  const double mu_centre = std::log(mean_centre) - 0.5 * sd_log_centre * sd_log_centre;
  for (std::size_t placed = 0; placed < n_households;) {
    auto s = seed.open(kCentreDomain, 0, sizes.size());
    auto size = static_cast<std::size_t>(std::max(3.0, std::round(s.lognormal(mu_centre, sd_log_centre))));
    size = std::min(size, n_households - placed);
    sizes.push_back(static_cast<std::uint32_t>(size));
    placed += size;
  }
  const std::size_t n_centres = sizes.size();
  w.centres.resize(n_centres);
  auto* c_district = w.centres.add(col::centre_district);
  auto* c_households = w.centres.add(col::centre_households);
  auto* c_ubn = w.centres.add(col::centre_ubn_share);
  w.centre_first.assign(n_centres + 1, 0);
  w.district_first.assign(n_districts + 1, 0);
  for (std::size_t c = 0; c < n_centres; ++c) {
    // Contiguous ranges of centres per district keep centres sorted by district.
    c_district[c] = static_cast<std::uint32_t>(c * n_districts / n_centres);
    c_households[c] = sizes[c];
    w.centre_first[c + 1] = w.centre_first[c] + sizes[c];
  }
  for (std::size_t d = 0, c = 0; d <= n_districts; ++d) {
    while (c < n_centres && c_district[c] < d) ++c;
    w.district_first[d] = static_cast<std::uint32_t>(c);
  }
  // Centre attributes (the realised UBN share is filled in after the households are drawn).
  const CentreColumns centre_columns(w);
  const CentreTraits traits = correlated ? draw_centres_correlated(w, centre_columns, pop, seed, latent)
                                         : draw_centres_independent(w, centre_columns, pop, seed);
  assign_nuclei(w, sizes);
  const auto* c_market = w.centres.get(col::centre_market_access);
  const auto* c_water = w.centres.get(col::centre_water_share);

  // Households: all of them, or those of this process's block of districts.
  std::size_t centre_begin = 0, centre_end = n_centres;
  if (collective != nullptr) {
    w.collective = collective;
    w.part = district_block(w.centre_first, w.district_first, collective->rank(), collective->size());
    centre_begin = w.part.centre_begin;
    centre_end = w.part.centre_end;
  }
  auto& h = w.households;
  h.resize(w.centre_first[centre_end] - w.centre_first[centre_begin]);
  h.set_first_row(w.centre_first[centre_begin]);
  auto* h_centre = h.add(col::centre);
  auto* h_district = h.add(col::district);
  auto* h_age = h.add(col::member_age_months);
  auto* h_female = h.add(col::member_female);
  auto* h_land = h.add(col::land_ha);
  auto* h_water = h.add(col::water_access);
  auto* h_capacity = h.add(col::productive_capacity);
  auto* h_locus = h.add(col::locus_of_control);
  auto* h_locus0 = h.add(col::baseline_locus_of_control);
  auto* h_farm = h.add(col::farm_labour_share);
  auto* h_ubn = h.add(col::has_ubn);
  auto* h_wealth = h.add(col::wealth_index);
  const double mu_land = std::log(mean_land) - 0.5 * 0.8 * 0.8;
  const double mu_capacity = -0.5 * sd_log_capacity * sd_log_capacity;
  for (std::size_t c = centre_begin; c < centre_end; ++c) {
    std::uint32_t ubn_count = 0;
    for (std::uint32_t i = w.centre_first[c]; i < w.centre_first[c + 1]; ++i) {
      auto s = seed.open(kHouseholdDomain, 0, i);
      const std::uint32_t d = c_district[c];
      h_centre[i] = static_cast<std::uint32_t>(c);
      h_district[i] = d;
      h_ubn[i] = s.bernoulli(traits.target_ubn[c]) ? 1 : 0;
      ubn_count += h_ubn[i];
      h_wealth[i] = static_cast<float>(s.normal(h_ubn[i] ? -0.5 : 0.5, traits.wealth_sd) + traits.wealth_shift[c]);
      const double land_mu = mu_land + (d_region[d] == static_cast<std::uint8_t>(Region::amazon) ? 0.5 : 0.0);
      h_land[i] = clampf(s.lognormal(land_mu + traits.land_shift[c], traits.land_sd), 0.02, 60.0);
      h_water[i] = s.bernoulli(c_water[c]) ? 1 : 0;
      const double z_capacity = s.normal();
      h_capacity[i] = static_cast<float>(std::exp(mu_capacity + sd_log_capacity * z_capacity));
      // Locus of control correlates mildly with capacity (rho 0.3).
      h_locus[i] = static_cast<float>(0.3 * z_capacity + std::sqrt(1 - 0.09) * s.normal());
      h_locus0[i] = h_locus[i];
      h_farm[i] = clampf(s.normal(0.82 - 0.15 * c_market[c], 0.12), 0.0, 1.0);

      // Members: a head, usually a spouse, children under 19 for most, sometimes other adults or elders.
      std::int16_t* age = h_age + static_cast<std::size_t>(i) * kMaxMembers;
      std::uint8_t* fem = h_female + static_cast<std::size_t>(i) * kMaxMembers;
      std::fill(age, age + kMaxMembers, std::int16_t{-1});
      std::fill(fem, fem + kMaxMembers, std::uint8_t{0});
      const int size = std::clamp(1 + s.poisson(mean_size - 1.0), 1, kMaxMembers);
      const bool with_children = s.bernoulli(traits.share_with_children[c]);
      const double head_age_years = with_children ? 24 + s.uniform() * 28 : 25 + s.uniform() * 50;
      const bool head_female = s.bernoulli(0.2);
      int slot = 0;
      auto put = [&](double years, bool is_female) {
        if (slot >= kMaxMembers) return;
        age[slot] = static_cast<std::int16_t>(std::min(years * 12.0, 1200.0));
        fem[slot] = is_female ? 1 : 0;
        ++slot;
      };
      put(head_age_years, head_female);
      const bool spouse = size >= 2 && s.bernoulli(0.85);
      const double spouse_age = std::max(16.0, head_age_years + s.normal(-2.0, 4.0));
      if (spouse) put(spouse_age, !head_female);
      const double mother_age = spouse ? std::min(head_age_years, spouse_age) : head_age_years;
      const int others = size - slot;
      for (int k = 0; k < others; ++k) {
        const double u = s.uniform();
        if (with_children && k < std::max(1, others - 1)) {
          // Children born after the mother turned 16, under 19.
          const double max_child = std::min(18.99, mother_age - 16.0);
          put(std::max(0.0, u * std::max(0.5, max_child)), s.bernoulli(0.5));
        } else {
          put(19 + u * 55, s.bernoulli(0.5));
        }
      }
    }
    c_ubn[c] = c_households[c] > 0 ? static_cast<float>(ubn_count) / static_cast<float>(c_households[c]) : 0.0f;
  }
  w.make_blocks(static_cast<std::size_t>(pop.block_households));
  return w;
}

}  // namespace

}  // namespace chacra
