// Micro-benchmarks of the output: compression choices for one period of the default household panel
// (real values from a warmed-up world), HDF5 writes of that period with HDF5's own filters, and
// run_scenario with and without the HDF5 file (docs/performance.md, "Output").
//
//   build/benchmarks/chacra_microbench --benchmark_filter='Codec|H5|Run'
#include "models/registry.hpp"
#include "sim/engine.hpp"
#include "sim/output/codec.hpp"
#include "sim/output/h5.hpp"
#include "sim/population.hpp"
#include "sim/runner.hpp"
#include "sim/scenario.hpp"

#include <benchmark/benchmark.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using chacra::ColumnType;
using chacra::ParamSet;
using chacra::World;

constexpr std::int64_t kHouseholds = 32'768;  // one panel chunk per variable

// The default panel variables of a world stepped 14 months (Haku Winay's first cohort active), as one
// period's raw bytes per variable. Flows are taken as this month's values.
struct PanelPeriod {
  std::vector<std::string> names;
  std::vector<ColumnType> types;
  std::vector<std::vector<unsigned char>> bytes;
  std::size_t total = 0;
  PanelPeriod() {
    ParamSet p(chacra::models::registry());
    p.set("population.households", kHouseholds);
    p.set("population.districts", std::int64_t{65});
    World w = chacra::generate_population(p, 0);
    chacra::Model m = chacra::models::build_model(p);
    const chacra::rng::StreamSeed seed{1, 0};
    for (auto& mod : m.modules) mod->setup(w, p, seed);
    chacra::Stepper st(w, m.month, p, seed);
    for (int month = 0; month < 14; ++month) st.step(month);
    for (const auto& name : chacra::resolve_panel_variables(w, {}, "bench")) {
      const std::size_t i = w.households.index(name);
      const auto& info = w.households.info(i);
      const std::size_t n = w.household_count() * static_cast<std::size_t>(info.width) * chacra::column_type_size(info.type);
      const auto* src = static_cast<const unsigned char*>(w.households.data(i));
      names.push_back(name);
      types.push_back(info.type);
      bytes.emplace_back(src, src + n);
      total += n;
    }
  }
};

const PanelPeriod& panel() {
  static const PanelPeriod p;
  return p;
}

enum Codec : int {
  kNone = 0,           // memcpy: the cost of handing raw chunks over
  kDeflate1 = 1,       // HDF5's former choice: shuffle + deflate level 1 on every chunk
  kDeflate1NoShuffle,  // deflate level 1 without shuffle
  kDeflate4,           // shuffle + deflate level 4
  kDeflate6,           // shuffle + deflate level 6 (h5py's gzip default is 4)
  kRle,                // shuffle + deflate level 1, Z_RLE strategy
  kHuffman,            // shuffle + Huffman coding only
  kChacra,             // the writer's choice (codec::encode_chunk): raw, or shuffle + codec::deflate_runs
};
const char* codec_name(int c) {
  switch (c) {
    case kNone: return "none";
    case kDeflate1: return "shuffle+deflate1";
    case kDeflate1NoShuffle: return "deflate1";
    case kDeflate4: return "shuffle+deflate4";
    case kDeflate6: return "shuffle+deflate6";
    case kRle: return "shuffle+rle";
    case kHuffman: return "shuffle+huffman";
    case kChacra: return "chacra(raw or shuffle+deflate_runs)";
  }
  return "?";
}

// Compresses every variable of one panel period with a codec; reports input bytes per second and the ratio.
void BM_Codec(benchmark::State& state) {
  namespace codec = chacra::output::codec;
  const PanelPeriod& p = panel();
  const int c = static_cast<int>(state.range(0));
  const int level = c == kDeflate4 ? 4 : (c == kDeflate6 ? 6 : 1);
  const int strategy = c == kRle ? Z_RLE : (c == kHuffman ? Z_HUFFMAN_ONLY : Z_DEFAULT_STRATEGY);
  codec::Deflater deflater(level, strategy);
  std::vector<unsigned char> shuffled, out;
  codec::EncodedChunk chunk;
  std::size_t stored = 0;
  for (auto _ : state) {
    stored = 0;
    for (std::size_t v = 0; v < p.bytes.size(); ++v) {
      const auto& b = p.bytes[v];
      const std::size_t esize = chacra::column_type_size(p.types[v]);
      if (c == kNone) {
        out.assign(b.begin(), b.end());
        stored += b.size();
        continue;
      }
      if (c == kChacra) {  // the period as one chunk, as the writer encodes it (an all-zero chunk is not stored)
        const std::size_t row_bytes = b.size() / static_cast<std::size_t>(kHouseholds);
        codec::encode_chunk(b.data(), kHouseholds, kHouseholds, row_bytes, esize, chunk);
        stored += chunk.zero ? 0 : chunk.size();
        continue;
      }
      const unsigned char* in = b.data();
      if (c != kDeflate1NoShuffle && esize > 1) {
        shuffled.resize(b.size());
        codec::shuffle(b.data(), shuffled.data(), b.size(), esize);
        in = shuffled.data();
      }
      stored += deflater.compress(in, b.size(), out) ? out.size() : b.size();
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::DoNotOptimize(chunk.data());
  }
  state.SetLabel(codec_name(c));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(p.total));
  state.counters["ratio"] = static_cast<double>(p.total) / static_cast<double>(stored);
  state.counters["bytes_per_household"] = static_cast<double>(stored) / static_cast<double>(kHouseholds);
}
BENCHMARK(BM_Codec)->DenseRange(kNone, kChacra)->Unit(benchmark::kMillisecond);

// One period of the panel written to an HDF5 file through HDF5's own filters (chunk = the period):
// 0 no filter, 1 shuffle + deflate(1), 2 deflate(1).
void BM_H5Period(benchmark::State& state) {
  const PanelPeriod& p = panel();
  const int mode = static_cast<int>(state.range(0));
  const std::string path = "/tmp/chacra_microbench_" + std::to_string(getpid()) + ".h5";
  chacra::h5::quiet_errors();
  for (auto _ : state) {
    chacra::h5::Handle file = chacra::h5::create_file(path);
    for (std::size_t v = 0; v < p.bytes.size(); ++v) {
      const std::size_t esize = chacra::column_type_size(p.types[v]);
      const hsize_t n = p.bytes[v].size() / esize;
      chacra::h5::Handle space(H5Screate_simple(1, &n, nullptr));
      chacra::h5::Handle dcpl(H5Pcreate(H5P_DATASET_CREATE));
      H5Pset_chunk(dcpl, 1, &n);
      if (mode == 1) H5Pset_shuffle(dcpl);
      if (mode >= 1) H5Pset_deflate(dcpl, 1);
      chacra::h5::Handle ds(H5Dcreate2(file, p.names[v].c_str(), chacra::h5::native_type(p.types[v]), space,
                                       H5P_DEFAULT, dcpl, H5P_DEFAULT));
      H5Dwrite(ds, chacra::h5::native_type(p.types[v]), H5S_ALL, H5S_ALL, H5P_DEFAULT, p.bytes[v].data());
    }
  }
  std::filesystem::remove(path);
  state.SetLabel(mode == 0 ? "no filter" : (mode == 1 ? "shuffle+deflate1" : "deflate1"));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(p.total));
}
BENCHMARK(BM_H5Period)->DenseRange(0, 2)->Unit(benchmark::kMillisecond);

// run_scenario on one replicate of the 'both' arm (default parameters), 20,000 households, 2 years, one
// thread: without (0) and with (1) the HDF5 file and its yearly panel.
void BM_RunScenario(benchmark::State& state) {
  const bool write = state.range(0) != 0;
  const chacra::Scenario s = chacra::load_scenario_text(
      "name: bench\npopulation: {households: 20000, districts: 40}\nrun: {years: 2, replicates: 1}\n",
      "<bench>", chacra::models::registry());
  const std::string path = "/tmp/chacra_microbench_run_" + std::to_string(getpid()) + ".h5";
  for (auto _ : state) {
    chacra::RunOptions o;
    o.threads = 1;
    if (write) {
      o.output_path = path;
      o.force = true;
    }
    benchmark::DoNotOptimize(chacra::run_scenario(s, [](const ParamSet& p) { return chacra::models::build_model(p); }, o));
  }
  std::filesystem::remove(path);
  state.SetLabel(write ? "with HDF5 panel" : "without output");
  state.SetItemsProcessed(state.iterations() * 20'000 * 24);
}
BENCHMARK(BM_RunScenario)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

}  // namespace
