// The team behind thread_pool.h.
//
// A region is published as a count of tasks left (`remaining_`) and the task to run
// (`task_`). A thread claims the next task by decrementing the count with a
// compare-and-swap and only then reads `task_`: a successful claim proves the region has
// not ended (the claimed task is not yet done), so what the thread reads is the region it
// claimed from, however late it woke. A worker that wakes after the region has ended finds
// nothing to claim and goes back to waiting, so the caller never waits for a thread that is
// off its core unless that thread holds one of its tasks.
//
// In automatic mode (the default) only the first `active_` threads of the team, the caller
// counted, take part: as many as the CPUs that other processes left free over the last
// interval the load monitor measured. The default team has one thread per CPU this process
// may run on, within its control groups' CPU limit (cpu_quota.h).
#include "graft/kernels/cpu/thread_pool.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "graft/core/error.h"
#include "graft/kernels/cpu/cpu_load.h"
#include "graft/kernels/cpu/cpu_quota.h"

namespace graft::kernels::cpu {
namespace {

using Clock = std::chrono::steady_clock;

// How long a thread with nothing to do spins before it sleeps. Waking a sleeping thread
// costs a system call and a few microseconds, so the workers keep spinning for a while
// between the regions of one op or of consecutive ops; longer than this, the core is
// worth more to whatever else wants it (docs/performance.md measures the choice).
constexpr auto kSpin = std::chrono::microseconds(200);

void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spins until done() holds or kSpin has passed; returns done().
template <class Done>
bool spin_until(const Done& done) {
  const auto deadline = Clock::now() + kSpin;
  for (int spins = 1;; ++spins) {
    if (done()) return true;
    cpu_relax();
    if (spins % 64 == 0 && Clock::now() >= deadline) return done();
  }
}

// Where a thread sleeps until a condition on some atomics holds (std::atomic::wait watches
// one); the mutex is taken only when someone sleeps. Every change that a sleeper waits
// for, and its check, is a seq_cst operation.
class Doorbell {
 public:
  // Sleeps until changed() holds.
  template <class Changed>
  void wait(const Changed& changed) {
    std::unique_lock lock(mutex_);
    sleepers_.fetch_add(1);  // seq_cst, paired with ring()'s load
    wakeup_.wait(lock, changed);
    sleepers_.fetch_sub(1);
  }

  // Wakes every sleeper; call after the change, itself made with a seq_cst operation. Either
  // this load sees a sleeper's count, or that sleeper's check sees the change.
  void ring() {
    if (sleepers_.load() == 0) return;
    { const std::lock_guard lock(mutex_); }  // a sleeper is now either asleep or yet to check
    wakeup_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable wakeup_;
  std::atomic<int> sleepers_{0};
};

// Whether this thread is inside a region (running a task, or waiting for its own region):
// a region started there runs on the thread alone.
thread_local bool t_in_region = false;

// OMP_NUM_THREADS's thread count, if it is set to one: "4", or a list such as "4,2" whose
// first entry is the outermost level.
std::optional<int> omp_num_threads() {
  const char* env = std::getenv("OMP_NUM_THREADS");
  if (env == nullptr) return std::nullopt;
  char* end = nullptr;
  const long threads = std::strtol(env, &end, 10);
  if (end == env || threads < 1 || (*end != '\0' && *end != ',')) return std::nullopt;
  return static_cast<int>(std::min(threads, 4096L));
}

class Team {
 public:
  explicit Team(int requested) { configure(requested); }
  Team(const Team&) = delete;
  Team& operator=(const Team&) = delete;

  int threads() const { return threads_.load(std::memory_order_relaxed); }
  int requested() const { return requested_.load(std::memory_order_relaxed); }

  // Sizes the team: `requested` threads, or the default for 0 (thread_pool.h).
  void resize(int requested) {
    std::lock_guard lock(region_mutex_);
    stop();
    configure(requested);
  }

  // The threads a region would use now; in automatic mode the load monitor's latest count,
  // sampled anew once its interval has passed, by one caller at a time.
  int active_threads() {
    if (automatic_.load(std::memory_order_relaxed)) {
      std::unique_lock lock(monitor_mutex_, std::try_to_lock);
      if (lock.owns_lock())
        active_.store(std::min(threads(), monitor_.free_cpus()), std::memory_order_relaxed);
    }
    return active_.load(std::memory_order_relaxed);
  }

  // Before a fork, from the forking thread: waits until no region runs on the team (holding
  // the region lock keeps new ones off it until after the fork) and every worker has started,
  // so that no worker is inside a task or its thread's start-up, where it may hold a lock of
  // the allocator's or the C library's that the child would find held forever.
  // AddressSanitizer's allocator (GCC 12's libasan) is such a lock: a worker just created
  // by set_num_threads, still starting, hung the sanitized CI's fork test twice
  // (2026-12-05). A thread forking from inside a region cannot wait for its own region: it
  // forks as it is.
  void park_for_fork() {
    if (t_in_region) return;
    region_mutex_.lock();
    parked_for_fork_ = true;
    while (started_workers_.load() < static_cast<int>(workers_.size())) std::this_thread::yield();
  }

  // After the fork, in the parent and in the child (whose copy of the lock is held too,
  // until restart_after_fork builds it anew: a child forking again before its first region
  // takes it once more).
  void resume_after_fork() {
    if (!std::exchange(parked_for_fork_, false)) return;
    region_mutex_.unlock();
  }

  // A forked child has none of its parent's threads: forget them (they cannot be joined),
  // the sleepers the doorbells count (a condition variable would wait for them) and the
  // locks they held (held forever otherwise), and start again as configured. The child has
  // one thread, so nothing runs meanwhile; configure() also starts the load monitor afresh,
  // as the child's CPU time starts again from zero.
  void restart_after_fork() {
    static std::vector<std::thread>* orphans = new std::vector<std::thread>;
    for (auto& worker : workers_) orphans->push_back(std::move(worker));
    workers_.clear();
    // Built anew over the old ones, whose destructors might wait for the phantom sleepers.
    std::construct_at(&region_started_);
    std::construct_at(&region_finished_);
    std::construct_at(&region_mutex_);
    std::construct_at(&monitor_mutex_);
    started_workers_.store(0);
    configure(requested());
  }

  // Runs the region on the team; false, having run nothing, when another region holds it.
  bool try_run(int64_t tasks, TaskRef task) {
    std::unique_lock lock(region_mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return false;
    error_ = nullptr;
    finished_.store(0, std::memory_order_relaxed);
    tasks_.store(tasks, std::memory_order_relaxed);
    task_.store(&task, std::memory_order_relaxed);
    remaining_.store(tasks);  // seq_cst: the change a sleeping worker waits for
    region_started_.ring();

    t_in_region = true;
    while (run_one()) {
    }
    // Every task is claimed; wait for the ones other threads still run.
    const auto all_finished = [&] { return finished_.load() == tasks; };
    if (!spin_until(all_finished)) region_finished_.wait(all_finished);
    t_in_region = false;
    if (error_) std::rethrow_exception(error_);
    return true;
  }

 private:
  void configure(int requested) {
    requested_.store(requested, std::memory_order_relaxed);
    const std::optional<int> omp = omp_num_threads();
    {
      // Measured afresh: the last interval may be from long ago, under another setting.
      const std::lock_guard lock(monitor_mutex_);
      monitor_ = LoadMonitor();
    }
    automatic_.store(requested == 0 && !omp, std::memory_order_relaxed);
    if (requested > 0) return start(requested);
    if (omp) return start(*omp);
    // The control groups' files are read only for the default team, which they size.
    start(cpus_within_limit(static_cast<int>(affinity_cpus().size()), cgroup_cpu_limit()));
  }

  void start(int threads) {
    threads_.store(threads, std::memory_order_relaxed);
    active_.store(threads, std::memory_order_relaxed);
    for (int i = 1; i < threads; ++i) workers_.emplace_back([this, i] { work(i); });
  }

  void stop() {
    stopping_.store(true);
    region_started_.ring();
    for (auto& worker : workers_) worker.join();
    workers_.clear();
    started_workers_.store(0);
    stopping_.store(false);
  }

  // A worker's life: run what it can claim, wait for the next region, again. It checks
  // for the end in every wait: stop() may come before a new worker has even started. The
  // caller is thread 0; worker `index` takes part while index < active_ (a worker left out
  // is still woken by each region's doorbell, and goes back to sleep).
  void work(int index) {
    t_in_region = true;
    started_workers_.fetch_add(1);
    const auto taking_part = [&] { return index < active_.load(std::memory_order_relaxed); };
    const auto woken = [&] { return (remaining_.load() > 0 && taking_part()) || stopping_.load(); };
    for (;;) {
      while (taking_part() && run_one()) {
      }
      if (!spin_until(woken)) region_started_.wait(woken);
      if (stopping_.load()) return;
    }
  }

  // Claims the next task of the running region and runs it; false when none is left.
  bool run_one() {
    int64_t left = remaining_.load(std::memory_order_acquire);
    do {
      if (left <= 0) return false;
    } while (!remaining_.compare_exchange_weak(left, left - 1, std::memory_order_acq_rel,
                                               std::memory_order_acquire));
    // Safe to read now: the region cannot end before this task is done (see the top).
    const int64_t tasks = tasks_.load(std::memory_order_relaxed);
    const TaskRef& task = *task_.load(std::memory_order_relaxed);
    try {
      task(tasks - left);
    } catch (...) {
      std::lock_guard lock(error_mutex_);
      if (!error_) error_ = std::current_exception();
    }
    if (finished_.fetch_add(1) + 1 == tasks) region_finished_.ring();
    return true;
  }

  std::mutex region_mutex_;  // held by the thread whose region runs, and by resize()
  std::atomic<int> threads_{1};
  std::atomic<int> requested_{0};  // as set_pool_threads was given it
  std::atomic<bool> automatic_{false};
  std::atomic<int> active_{1};  // threads that take part in a region, the caller counted
  std::mutex monitor_mutex_;
  LoadMonitor monitor_;
  std::atomic<int64_t> remaining_{0};  // tasks of the region not yet claimed
  std::atomic<int64_t> finished_{0};   // tasks of the region done
  Doorbell region_started_;            // workers sleep here between regions
  Doorbell region_finished_;           // the caller sleeps here for the last tasks
  std::atomic<int64_t> tasks_{0};
  std::atomic<const TaskRef*> task_{nullptr};
  std::atomic<bool> stopping_{false};
  std::mutex error_mutex_;
  std::exception_ptr error_;
  std::vector<std::thread> workers_;
  std::atomic<int> started_workers_{0};  // workers that have entered work()
  bool parked_for_fork_ = false;         // park_for_fork() holds region_mutex_
};

std::atomic<bool> g_forked{false};
Team* g_team = nullptr;  // set once, when team() first runs

Team& team() {
  // Never destroyed: kernels may run in other objects' destructors at exit, and the
  // workers, asleep, end with the process.
  static Team* const instance = [] {
    g_team = new Team(0);
    pthread_atfork([] { g_team->park_for_fork(); }, [] { g_team->resume_after_fork(); },
                   [] {
                     g_team->resume_after_fork();
                     g_forked.store(true, std::memory_order_relaxed);
                   });
    return g_team;
  }();
  if (g_forked.load(std::memory_order_relaxed)) [[unlikely]] {
    static std::mutex restart_mutex;
    std::lock_guard lock(restart_mutex);
    if (g_forked.exchange(false)) instance->restart_after_fork();
  }
  return *instance;
}

}  // namespace

void set_pool_threads(int threads) {
  GRAFT_CHECK(threads >= 0,
              "set_num_threads(): the thread count must be at least 1 (or 0 for the default), got ",
              threads);
  GRAFT_CHECK(!t_in_region, "set_num_threads(): called from inside a parallel region");
  team().resize(threads);
}

int pool_threads() { return team().threads(); }

int requested_pool_threads() { return team().requested(); }

int available_threads() { return t_in_region ? 1 : team().active_threads(); }

void run_tasks(int64_t tasks, TaskRef task) {
  if (tasks <= 0) return;
  if (tasks == 1 || t_in_region || available_threads() == 1 || !team().try_run(tasks, task)) {
    for (int64_t i = 0; i < tasks; ++i) task(i);
  }
}

}  // namespace graft::kernels::cpu
