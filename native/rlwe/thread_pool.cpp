#include "thread_pool.h"

#include <algorithm>
#include <chrono>
#include <exception>

namespace hefty::rlwe {

struct ThreadPool::Job {
  const std::function<void(std::size_t)>* fn;
  std::size_t count;
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> finished{0};
  std::size_t max_helpers = 0;  // workers allowed to join besides the caller
  std::size_t helpers = 0;      // guarded by the pool mutex
  std::mutex done_mutex;
  std::condition_variable done;
  std::exception_ptr error;
};

namespace {
thread_local std::size_t t_limit = 0;  // 0: use the process default
}

void ThreadPool::set_thread_limit(std::size_t threads) { t_limit = threads; }

std::size_t ThreadPool::threads() const { return t_limit != 0 ? t_limit : threads_.load(); }

ThreadPool& ThreadPool::instance() {
  static ThreadPool pool;
  return pool;
}

ThreadPool::ThreadPool() = default;

ThreadPool::~ThreadPool() { stop_workers(); }

void ThreadPool::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  stopping_ = false;
}

std::size_t ThreadPool::set_threads(std::size_t threads) {
  if (threads == 0) threads = std::max<std::size_t>(1, std::thread::hardware_concurrency());
  t_limit = threads;
  std::lock_guard<std::mutex> guard(mutex_);
  if (threads > threads_) threads_ = threads;
  // Workers are only ever added; each job admits at most (caller's setting - 1) of them.
  while (workers_.size() + 1 < threads) workers_.emplace_back([this] { worker_loop(); });
  return threads;
}

void ThreadPool::run_share(Job& job) {
  for (;;) {
    const std::size_t i = job.next.fetch_add(1);
    if (i >= job.count) return;
    try {
      (*job.fn)(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(job.done_mutex);
      if (!job.error) job.error = std::current_exception();
    }
    if (job.finished.fetch_add(1) + 1 == job.count) {
      std::lock_guard<std::mutex> lock(job.done_mutex);
      job.done.notify_all();
    }
  }
}

namespace {

// A key switch runs several parallel phases back to back: a worker that just finished one spins this long
// for the next before sleeping, which saves a wake-up per phase.
constexpr auto kSpin = std::chrono::microseconds(50);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

}  // namespace

void ThreadPool::worker_loop() {
  for (;;) {
    const auto until = std::chrono::steady_clock::now() + kSpin;
    while (queued_.load(std::memory_order_relaxed) == 0 && std::chrono::steady_clock::now() < until) cpu_relax();
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = queue_.front();
      if (job->next.load() >= job->count || job->helpers >= job->max_helpers) {
        queue_.pop_front();
        queued_--;
        continue;
      }
      job->helpers++;
    }
    run_share(*job);
  }
}

void ThreadPool::parallel_for(std::size_t count, const std::function<void(std::size_t)>& fn) {
  if (count == 0) return;
  const std::size_t limit = threads();
  if (count == 1 || limit <= 1) {
    for (std::size_t i = 0; i < count; i++) fn(i);
    return;
  }
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->count = count;
  job->max_helpers = std::min(limit, count) - 1;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(job);
    queued_++;
  }
  wake_.notify_all();
  run_share(*job);
  // A helper still on its last task usually finishes within microseconds: wait for it spinning first, since
  // sleeping costs a wake-up of several times that.
  const auto until = std::chrono::steady_clock::now() + kSpin;
  while (job->finished.load(std::memory_order_acquire) != job->count && std::chrono::steady_clock::now() < until) {
    cpu_relax();
  }
  if (job->finished.load() != job->count) {
    std::unique_lock<std::mutex> lock(job->done_mutex);
    job->done.wait(lock, [&] { return job->finished.load() == job->count; });
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (*it == job) {
        queue_.erase(it);
        queued_--;
        break;
      }
    }
  }
  if (job->error) std::rethrow_exception(job->error);
}

}  // namespace hefty::rlwe
