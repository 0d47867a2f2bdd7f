// graft's CPU threads: a team of workers that, with the calling thread, share the tasks of
// one parallel region by taking them one at a time from a counter.
//
// Why graft's own and not OpenMP, which it used before: an OpenMP loop gives each thread
// one equal share and waits for the last, while its idle threads spin. On a machine shared
// with a busy process one thread of the team is often off its core for a whole scheduler
// slice, so every region waited for it while the others spun: two threads trained the MLP
// 2.6 times slower than one beside a single busy neighbour (docs/performance.md, "Threads
// on a busy machine"). Here a thread that is off its core simply takes fewer tasks, the
// caller takes part, and a waiting thread spins only briefly before it sleeps in the kernel,
// handing its core to whichever thread has work. And by default the team measures the
// machine's load and uses only the cores that other processes leave free (cpu_load.h).
#pragma once

#include <cstdint>

namespace graft::kernels::cpu {

// A borrowed callable taking a task index: what run_tasks runs, without std::function's
// allocation. It must outlive the call it is passed to.
class TaskRef {
 public:
  template <class Fn>
  TaskRef(const Fn& fn)  // NOLINT(google-explicit-constructor): passed as a lambda
      : object_(&fn),
        call_([](const void* object, int64_t task) { (*static_cast<const Fn*>(object))(task); }) {}
  void operator()(int64_t task) const { call_(object_, task); }

 private:
  const void* object_;
  void (*call_)(const void*, int64_t);
};

// The team's size, the caller included (graft::set_num_threads / get_num_threads).
// set_pool_threads(n >= 1) fixes it at n. set_pool_threads(0) returns to the default:
// OMP_NUM_THREADS when set (as PyTorch reads it), else automatic, a team of one thread per
// CPU this process may run on (no more than its control groups' CPU limit allows, rounded up:
// cpu_quota.h), of which each region uses as many as other processes leave free (cpu_load.h,
// measured every 100 ms). Resizing waits for a running region to finish.
void set_pool_threads(int threads);
int pool_threads();

// What set_pool_threads was last given: 0 for the default.
int requested_pool_threads();

// The threads a region started here and now would get: 1 inside a task (regions do not
// nest), else pool_threads(), or in automatic mode the CPUs left free (at least 1).
int available_threads();

// Runs task(i) for every i in [0, tasks) on the team and the caller, in no fixed order,
// and returns when every task has finished. The first exception a task throws is rethrown
// here after all tasks have run. The tasks run on the caller alone, in order, inside a
// task, with one thread (or one free CPU), or while another thread's region holds the team.
void run_tasks(int64_t tasks, TaskRef task);

}  // namespace graft::kernels::cpu
