// The communication thread: runs a process's collectives one after another, in the order
// they were issued, so that every rank's MPI calls match; and the state a Work waits on.
//
// A collective is split in two. `run` is the exchange itself, on dense buffers, made by this
// thread through a backend. `finish` is what turns the exchanged buffers into the caller's
// result (kAvg's division, copying into a non-contiguous tensor or a list of tensors); it
// runs on the thread that waits, once, so that graft's ops never run on two threads for one
// collective and the result appears exactly when wait() returns.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "graft/distributed/backend.h"
#include "graft/distributed/distributed.h"

namespace graft::distributed {

struct Work::State {
  std::string description;  // "all_reduce(float32 [3, 4], kSum)", for errors and timeouts
  std::function<void()> run;
  std::function<void()> finish;
  std::chrono::steady_clock::time_point deadline;
  detail::Backend* backend = nullptr;  // the host backend: aborts the job when the deadline passes

  std::mutex mutex;
  std::condition_variable done_changed;
  bool done = false;         // run has returned or thrown
  std::exception_ptr error;  // what run threw
  bool finished = false;     // finish has run
};

namespace detail {

class CommThread {
 public:
  CommThread();
  // Runs what is queued, then stops.
  ~CommThread();
  CommThread(const CommThread&) = delete;
  CommThread& operator=(const CommThread&) = delete;

  void submit(std::shared_ptr<Work::State> work);

 private:
  void loop();

  std::mutex mutex_;
  std::condition_variable queue_changed_;
  std::deque<std::shared_ptr<Work::State>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace detail
}  // namespace graft::distributed
