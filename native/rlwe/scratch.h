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
  explicit Scratch(std::size_t count) : buffer_(take()) {
    if (buffer_.size() < count) buffer_.resize(count);
  }
  ~Scratch() {
    auto& pool = free_list();
    if (pool.size() < 16) pool.push_back(std::move(buffer_));
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

  T* data() { return buffer_.data(); }

 private:
  static std::vector<std::vector<T>>& free_list() {
    thread_local std::vector<std::vector<T>> pool;
    return pool;
  }
  static std::vector<T> take() {
    auto& pool = free_list();
    if (pool.empty()) return {};
    std::vector<T> v = std::move(pool.back());
    pool.pop_back();
    return v;
  }
  std::vector<T> buffer_;
};

using ScratchBuffer = Scratch<u64>;
using ScratchU128 = Scratch<u128>;

}  // namespace hefty::rlwe
