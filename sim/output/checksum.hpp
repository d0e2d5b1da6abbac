// Checksums of the groups of chacra's HDF5 output: each arm x replicate unit and each replicate's population
// carries a CRC-32 of everything stored under it, written when the group is finished and verified by
// `--resume` before the group is reused, so that bytes damaged on disk are run again rather than carried into
// a resumed output (docs/reliability.md, "Files").
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace chacra::output {

// The checksum of an open group ("crc32:0123abcd"): a CRC-32 (zlib) over its members in name order,
// recursively; for each dataset its type, shape and stored bytes (chunks as stored, i.e. compressed, with their
// filter masks; an unwritten chunk as such), and every attribute's name and value, except the group's own
// checksum and complete marks. Reading chunks as stored costs no decompression. Throws h5::Error when the group
// cannot be read.
// `known` gives, where the writer kept them, a dataset's chunks by its path (as H5Iget_name gives it), indexed
// in the row-major grid of chunks: a chunk the writer stored has its CRC-32 folded in (crc32_combine) and one it
// skipped (every byte zero) is marked unwritten, neither read back nor looked up in the dataset's chunk index,
// which gives the same checksum while the file holds what the writer handed to HDF5 (H5Dwrite_chunk reported
// success for each). The index lookups were most of the cost of sealing a unit of many small chunks.
struct StoredChunk {
  bool known = false;      // stored by the writer, as below
  bool absent = false;     // skipped by the writer: not in the file
  std::uint32_t mask = 0;  // filter mask
  std::uint64_t size = 0;  // stored bytes
  std::uint32_t crc = 0;   // CRC-32 (zlib) of the stored bytes
};
using KnownChunks = std::function<const std::vector<StoredChunk>*(const std::string& dataset)>;
std::string group_checksum(hid_t group, const KnownChunks& known = {});

// Writes the checksum attribute (layout::kChecksum) of the group at `path`.
void seal_group(hid_t file, const std::string& path);

enum class SealState {
  valid,       // the stored checksum matches the contents
  missing,     // no checksum stored (a file of an earlier chacra)
  mismatch,    // the contents changed since the checksum was written
  unreadable,  // the group or one of its members cannot be read
};
SealState check_seal(hid_t file, const std::string& path);

}  // namespace chacra::output
