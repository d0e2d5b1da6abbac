// Group checksums (see sim/output/checksum.hpp): CRC-32 over the stored bytes, read back from the file.
#include "sim/output/checksum.hpp"

#include "sim/output/h5.hpp"
#include "sim/output/layout.hpp"

#include <libdeflate.h>
#include <zlib.h>

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <vector>

namespace chacra::output {

namespace {

// A running CRC-32 over a canonical serialisation: every variable-length piece is preceded by its length, so
// that no two different contents serialise to the same bytes.
class Crc {
 public:
  // libdeflate's CRC-32 (the same values as zlib's, several times faster with PCLMUL).
  void bytes(const void* data, std::size_t n) { crc_ = libdeflate_crc32(static_cast<std::uint32_t>(crc_), data, n); }
  // As if the `n` bytes whose CRC-32 is `crc` were passed to bytes().
  void combine(std::uint32_t crc, std::uint64_t n) {
    crc_ = crc32_combine(crc_, crc, static_cast<z_off_t>(n));
  }
  void number(std::uint64_t v) { bytes(&v, sizeof v); }
  void text(const std::string& s) {
    number(s.size());
    bytes(s.data(), s.size());
  }
  std::string value() const {
    char buf[24];
    std::snprintf(buf, sizeof buf, "crc32:%08" PRIx32, static_cast<std::uint32_t>(crc_));
    return buf;
  }

 private:
  uLong crc_ = crc32(0L, Z_NULL, 0);
};

void check(herr_t status, const std::string& what) {
  if (status < 0) throw h5::Error("HDF5: cannot " + what);
}

void attributes(hid_t obj, Crc& crc, bool skip_marks) {
  for (const auto& name : h5::attr_names(obj)) {
    if (skip_marks && (name == layout::kChecksum || name == layout::kComplete)) continue;
    crc.text(name);
    // Opened once by the name the iteration gave (read_attr would look it up again): what read_attr reads.
    const h5::Handle attr(H5Aopen(obj, name.c_str(), H5P_DEFAULT));
    const auto value = attr.valid() ? h5::read_attr_value(attr, name) : std::nullopt;
    if (!value) {
      crc.number(0);  // not a scalar text or number: chacra writes none
    } else if (const auto* s = std::get_if<std::string>(&*value)) {
      crc.number(1);
      crc.text(*s);
    } else if (const auto* i = std::get_if<long long>(&*value)) {
      crc.number(2);
      crc.number(static_cast<std::uint64_t>(*i));
    } else {
      const double d = std::get<double>(*value);
      std::uint64_t bits;
      std::memcpy(&bits, &d, sizeof bits);
      crc.number(3);
      crc.number(bits);
    }
  }
}

void dataset(hid_t ds, const std::string& path, Crc& crc, const KnownChunks& known) {
  h5::Handle type(H5Dget_type(ds)), space(H5Dget_space(ds)), dcpl(H5Dget_create_plist(ds));
  if (!type.valid() || !space.valid() || !dcpl.valid()) throw h5::Error("HDF5: cannot read the layout of " + path);
  crc.number(static_cast<std::uint64_t>(H5Tget_class(type)));
  crc.number(H5Tget_size(type));
  const int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0) throw h5::Error("HDF5: cannot read the shape of " + path);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  crc.number(dims.size());
  hsize_t points = 1;
  for (hsize_t d : dims) crc.number(d), points *= d;
  if (H5Pget_layout(dcpl) == H5D_CHUNKED) {
    // Every chunk of the grid in row-major order, as stored; chunks never written (all zero) are marked.
    std::vector<hsize_t> chunk(dims.size());
    if (H5Pget_chunk(dcpl, rank, chunk.data()) != rank) throw h5::Error("HDF5: cannot read the chunks of " + path);
    std::vector<hsize_t> grid(dims.size()), at(dims.size(), 0), offset(dims.size());
    hsize_t chunks = 1;
    for (std::size_t k = 0; k < dims.size(); ++k) grid[k] = (dims[k] + chunk[k] - 1) / chunk[k], chunks *= grid[k];
    std::vector<unsigned char> buf;
    const std::vector<StoredChunk>* kept = known ? known(path) : nullptr;
    for (hsize_t n = 0; n < chunks; ++n) {
      const StoredChunk* stored = kept != nullptr && n < kept->size() ? &(*kept)[n] : nullptr;
      if (stored != nullptr && stored->absent) {
        crc.number(~std::uint64_t{0});
      } else if (stored != nullptr && stored->known) {
        crc.number(stored->mask);
        crc.number(stored->size);
        crc.combine(stored->crc, stored->size);
      } else {
        for (std::size_t k = 0; k < dims.size(); ++k) offset[k] = at[k] * chunk[k];
        unsigned mask = 0;
        haddr_t addr = HADDR_UNDEF;
        hsize_t size = 0;
        check(H5Dget_chunk_info_by_coord(ds, offset.data(), &mask, &addr, &size), "find a chunk of " + path);
        if (addr == HADDR_UNDEF) {
          crc.number(~std::uint64_t{0});
        } else {
          buf.resize(size);
          std::uint32_t read_mask = 0;
          check(H5Dread_chunk(ds, H5P_DEFAULT, offset.data(), &read_mask, buf.data()), "read a chunk of " + path);
          crc.number(read_mask);
          crc.number(size);
          crc.bytes(buf.data(), buf.size());
        }
      }
      for (std::size_t k = dims.size(); k-- > 0;) {  // next grid position, last dimension fastest
        if (++at[k] < grid[k]) break;
        at[k] = 0;
      }
    }
  } else if (H5Tget_class(type) == H5T_STRING && H5Tis_variable_str(type) > 0) {
    for (const auto& s : h5::read_string_dataset(ds, path)) crc.text(s);
  } else if (points > 0) {
    std::vector<unsigned char> buf(points * H5Tget_size(type));
    check(H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()), "read " + path);
    crc.bytes(buf.data(), buf.size());
  }
  attributes(ds, crc, false);
}

void group(hid_t g, const std::string& shown, Crc& crc, bool top, const KnownChunks& known) {
  attributes(g, crc, top);
  for (const auto& name : h5::list(g)) {
    const std::string member = layout::member(shown, name);
    h5::Handle obj(H5Oopen(g, name.c_str(), H5P_DEFAULT));
    if (!obj.valid()) throw h5::Error("HDF5: cannot open " + member);
    crc.text(name);
    switch (H5Iget_type(obj)) {
      case H5I_GROUP:
        crc.number(1);
        group(obj, member, crc, false, known);
        break;
      case H5I_DATASET:
        crc.number(2);
        dataset(obj, member, crc, known);
        break;
      default:
        throw h5::Error("HDF5: " + member + " is neither a group nor a dataset");
    }
  }
}

}  // namespace

std::string group_checksum(hid_t group_id, const KnownChunks& known) {
  Crc crc;
  char name[1024] = {0};
  H5Iget_name(group_id, name, sizeof name - 1);
  group(group_id, name, crc, true, known);
  return crc.value();
}

void seal_group(hid_t file, const std::string& path) {
  const h5::Handle g = h5::open_group(file, path);
  h5::write_attr(g, layout::kChecksum, group_checksum(g));
}

SealState check_seal(hid_t file, const std::string& path) {
  try {
    if (!h5::exists(file, path) || h5::object_type(file, path) != H5I_GROUP) return SealState::unreadable;
    const std::string stored = h5::read_attr_string_or(h5::open_group(file, path), layout::kChecksum, "");
    if (stored.empty()) return SealState::missing;
    return group_checksum(h5::open_group(file, path)) == stored ? SealState::valid : SealState::mismatch;
  } catch (const h5::Error&) {
    return SealState::unreadable;
  }
}

}  // namespace chacra::output
