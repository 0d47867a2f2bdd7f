// The communication thread and Work's waiting; comm_thread.h says how a collective is split.
#include "graft/distributed/comm_thread.h"

#include <sstream>

#include "graft/autograd/grad_mode.h"

namespace graft::distributed {
namespace detail {

CommThread::CommThread() : thread_([this] { loop(); }) {}

CommThread::~CommThread() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  queue_changed_.notify_all();
  thread_.join();
}

void CommThread::submit(std::shared_ptr<Work::State> work) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(work));
  }
  queue_changed_.notify_one();
}

void CommThread::loop() {
  for (;;) {
    std::shared_ptr<Work::State> work;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      queue_changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued has run
      work = std::move(queue_.front());
      queue_.pop_front();
    }
    std::exception_ptr error;
    try {
      work->run();
    } catch (...) {
      error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(work->mutex);
      work->done = true;
      work->error = error;
    }
    work->done_changed.notify_all();
  }
}

}  // namespace detail

void Work::wait() const {
  if (!state_) return;
  State& state = *state_;
  std::unique_lock<std::mutex> lock(state.mutex);
  if (!state.done_changed.wait_until(lock, state.deadline, [&] { return state.done; })) {
    // Nothing brings a rank back from a collective its peers will never join: end the job
    // with a message that says what this rank was waiting for.
    std::ostringstream message;
    message << "graft::distributed: rank " << state.backend->rank() << " of "
            << state.backend->world_size() << " waited for " << state.description
            << " past its timeout: another rank has stopped, failed, or is in a different "
               "collective. Aborting the job (set InitOptions::timeout to wait longer)";
    state.backend->abort(message.str());
  }
  if (state.error) std::rethrow_exception(state.error);
  if (!state.finished) {
    state.finished = true;
    if (state.finish) {
      // The result is the collective's, not an op to differentiate (grads are reduced in
      // place, under the optimizer's feet).
      autograd::NoGradGuard no_grad;
      state.finish();
    }
  }
}

bool Work::is_completed() const {
  if (!state_) return true;
  std::lock_guard<std::mutex> lock(state_->mutex);
  return state_->done;
}

}  // namespace graft::distributed
