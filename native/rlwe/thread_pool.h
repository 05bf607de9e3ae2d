// A small process-wide pool for intra-op parallelism across RNS limbs. parallel_for may be called from any
// thread, concurrently and recursively: the caller always works on its own job too, so nothing can deadlock.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace hefty::rlwe {

class ThreadPool {
 public:
  static ThreadPool& instance();

  // Parallelism (including the calling thread) for parallel_for calls made from the calling thread; 1 runs
  // everything inline, 0 means hardware cores. Each thread keeps its own setting (a JS worker thread can run
  // single-threaded while the main thread splits work); threads that never set one use the process default,
  // which is the largest setting made so far. Returns the setting in effect.
  std::size_t set_threads(std::size_t threads);
  // The setting in effect for the calling thread.
  std::size_t threads() const;
  // Applies `threads` to the calling thread only (used to carry a JS thread's setting onto a libuv worker).
  static void set_thread_limit(std::size_t threads);

  // Runs fn(0..count-1), possibly in parallel, and returns when all calls finished. Exceptions propagate
  // (the first one thrown).
  void parallel_for(std::size_t count, const std::function<void(std::size_t)>& fn);

  ~ThreadPool();

 private:
  struct Job;
  ThreadPool();
  void worker_loop();
  void stop_workers();
  static void run_share(Job& job);

  std::atomic<std::size_t> threads_{1};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::atomic<std::size_t> queued_{0};  // queue_.size(), readable without the lock
  std::vector<std::thread> workers_;
  bool stopping_ = false;
};

// Convenience: ThreadPool::instance().parallel_for(...)
inline void parallel_for(std::size_t count, const std::function<void(std::size_t)>& fn) {
  ThreadPool::instance().parallel_for(count, fn);
}

}  // namespace hefty::rlwe
