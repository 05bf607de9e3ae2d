// Reusable per-thread scratch memory: hot paths ask for a buffer every call, but after the first call on a
// thread no allocation happens (buffers are kept on a small thread-local free list).
#pragma once
#include <cstddef>
#include <memory>
#include <vector>

#include "modarith.h"

namespace hefty::rlwe {

template <typename T>
class Scratch {
 public:
  explicit Scratch(std::size_t count) : buffer_(take(count)) {
    if (buffer_.size() < count) buffer_.resize(count);
  }
  ~Scratch() {
    auto& pool = free_list();
    if (pool.size() < 16) pool.push_back(std::move(buffer_));
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  T* data() { return buffer_.data(); }
  const T* data() const { return buffer_.data(); }

 private:
  static std::vector<std::vector<T>>& free_list() {
    thread_local std::vector<std::vector<T>> pool;
    return pool;
  }
  // The smallest kept buffer that holds `count`, else the largest: growing a buffer allocates and touches fresh
  // pages, which costs more than the work on it for the megabyte buffers of key switching.
  static std::vector<T> take(std::size_t count) {
    auto& pool = free_list();
    if (pool.empty()) return {};
    std::size_t best = 0;
    for (std::size_t i = 1; i < pool.size(); i++) {
      const std::size_t size = pool[i].size(), best_size = pool[best].size();
      const bool better = size >= count ? (best_size < count || size < best_size) : (best_size < count && size > best_size);
      if (better) best = i;
    }
    std::vector<T> v = std::move(pool[best]);
    pool.erase(pool.begin() + static_cast<std::ptrdiff_t>(best));
    return v;
  }
  std::vector<T> buffer_;
};

using ScratchBuffer = Scratch<u64>;
using ScratchU128 = Scratch<u128>;

}  // namespace hefty::rlwe
