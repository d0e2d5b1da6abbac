// Communication between the processes that hold one world split by blocks of whole districts (MPI ranks;
// docs/cluster.md, "Splitting by districts"). The engine and the models call it where a computation reads
// more than one district; the base class is the single-process implementation (every operation is the
// identity), so the serial build needs no MPI. The MPI implementation is in sim/mpi_runner.cpp.
//
// Every operation is collective: every process of the group calls it, in the same order, with arguments
// of the same shape. Processes are numbered in the order of their district blocks (rank 0 holds the first
// districts), so "in rank order" is "in household order".
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

namespace chacra {

class Collective {
 public:
  virtual ~Collective() = default;
  // Processes sharing the world, and this one's place among them.
  virtual int size() const { return 1; }
  virtual int rank() const { return 0; }

  // Floating-point sums in the order of the whole population, bit-identical to one loop over every
  // household: `add` adds this process's terms, in its order, to the running sums `acc`, which arrive
  // holding the sums over every lower rank (zeros on rank 0). On return `acc` holds the totals on every
  // process. (A pipeline across the ranks: one message per rank, once per call.)
  virtual void ordered_sum(std::vector<double>& acc, const std::function<void(std::vector<double>&)>& add) const {
    add(acc);
  }
  // Element-wise sums of counts over the processes, in place (exact whatever the order).
  virtual void sum(std::vector<std::uint64_t>&) const {}
  // Every process's bytes, concatenated in rank order, on every process.
  virtual std::vector<char> all_gather(const void* data, std::size_t bytes) const {
    std::vector<char> out(bytes);
    if (bytes > 0) std::memcpy(out.data(), data, bytes);
    return out;
  }
  // Every process's bytes, concatenated in rank order, into `out` on rank 0, with each process's byte count
  // in `sizes` if given; `out` and `sizes` are left alone elsewhere.
  virtual void gather(const void* data, std::size_t bytes, std::vector<char>& out,
                      std::vector<std::uint64_t>* sizes = nullptr) const {
    out.resize(bytes);
    if (bytes > 0) std::memcpy(out.data(), data, bytes);
    if (sizes != nullptr) sizes->assign(1, bytes);
  }
  // Rank 0's bytes to every process (resized to rank 0's size).
  virtual void broadcast(std::vector<char>&) const {}

  // Typed conveniences over the byte operations.
  template <class T> std::vector<T> all_gather(const std::vector<T>& mine) const {
    const std::vector<char> bytes = all_gather(mine.data(), mine.size() * sizeof(T));
    std::vector<T> out(bytes.size() / sizeof(T));
    if (!bytes.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
  }
  template <class T> void broadcast(std::vector<T>& values) const {
    if (size() == 1) return;
    std::vector<char> bytes(values.size() * sizeof(T));
    if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    broadcast(bytes);
    values.resize(bytes.size() / sizeof(T));
    if (!bytes.empty()) std::memcpy(values.data(), bytes.data(), bytes.size());
  }

  // The single-process instance (what a world that is not split uses).
  static const Collective& serial() {
    static const Collective instance;
    return instance;
  }
};

}  // namespace chacra
