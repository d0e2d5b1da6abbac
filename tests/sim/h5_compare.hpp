// Test helper: reads every dataset under a group of an HDF5 file as raw bytes, for bit-for-bit comparisons.
#pragma once

#include "sim/output/h5.hpp"

#include <map>
#include <string>
#include <vector>

namespace h5test {

inline std::map<std::string, std::vector<unsigned char>> read_all(const std::string& file, const std::string& root) {
  std::map<std::string, std::vector<unsigned char>> out;
  chacra::h5::Handle f = chacra::h5::open_file_readonly(file);
  chacra::h5::Handle g = chacra::h5::open_group(f, root);
  struct Ctx {
    hid_t group;
    std::map<std::string, std::vector<unsigned char>>* out;
  } ctx{g.id(), &out};
  H5Ovisit(
      g, H5_INDEX_NAME, H5_ITER_INC,
      [](hid_t obj, const char* name, const H5O_info_t* info, void* op) -> herr_t {
        if (info->type != H5O_TYPE_DATASET) return 0;
        auto* c = static_cast<Ctx*>(op);
        chacra::h5::Handle ds(H5Dopen2(obj, name, H5P_DEFAULT));
        chacra::h5::Handle type(H5Dget_type(ds));
        if (H5Tget_class(type) == H5T_STRING) return 0;
        chacra::h5::Handle space(H5Dget_space(ds));
        const auto n = static_cast<std::size_t>(H5Sget_simple_extent_npoints(space));
        std::vector<unsigned char> bytes(n * H5Tget_size(type));
        if (n > 0) H5Dread(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, bytes.data());
        (*c->out)[name] = std::move(bytes);
        return 0;
      },
      &ctx);
  return out;
}

}  // namespace h5test
