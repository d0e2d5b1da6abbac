// Shared by the engine tests: one process's view of a world split across ranks, without communication.
#pragma once

#include "sim/collective.hpp"

namespace chacra::test {

// Rank `rank` of `size` (for the generator's district blocks).
class FakeRanks : public Collective {
 public:
  FakeRanks(int rank, int size) : rank_(rank), size_(size) {}
  int size() const override { return size_; }
  int rank() const override { return rank_; }

 private:
  int rank_, size_;
};

}  // namespace chacra::test
