// The switches of settings.h: the thread count is the size of graft's CPU team
// (kernels/cpu/thread_pool.h), the deterministic switch one flag that the kernels read at
// each call.
#include "graft/kernels/settings.h"

#include <atomic>

#include "graft/kernels/cpu/thread_pool.h"

namespace graft {

namespace {
std::atomic<bool> g_deterministic{false};
}  // namespace

void set_num_threads(int threads) { kernels::cpu::set_pool_threads(threads); }
int get_num_threads() { return kernels::cpu::pool_threads(); }

void use_deterministic_algorithms(bool enabled) { g_deterministic.store(enabled); }
bool are_deterministic_algorithms_enabled() { return g_deterministic.load(); }

}  // namespace graft
