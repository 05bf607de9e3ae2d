// Word storage for polynomials that every producer writes in full: resizing and sized construction leave the
// words uninitialized instead of zero-filling them (a pass over megabytes, and the page faults behind it, for
// nothing). Copies, iterator ranges and explicit fill values initialize as usual.
#pragma once
#include <cstdint>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace hefty::rlwe {

template <typename T>
struct DefaultInitAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() = default;
  template <typename U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}

  template <typename U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;  // default-initialization: no value for trivial types
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

using Words = std::vector<std::uint64_t, DefaultInitAllocator<std::uint64_t>>;

}  // namespace hefty::rlwe
