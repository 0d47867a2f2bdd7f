// The switches of settings.h: the thread count is the size of graft's CPU team
// (kernels/cpu/thread_pool.h), the deterministic switch one flag that the kernels read at
// each call, the CPU capability cpu_features.h's answer.
#include "graft/kernels/settings.h"

#include <atomic>

#include "graft/kernels/cpu/cpu_features.h"
#include "graft/kernels/cpu/thread_pool.h"

namespace graft {

namespace {
std::atomic<bool> g_deterministic{false};
}  // namespace

void set_num_threads(int threads) { kernels::cpu::set_pool_threads(threads); }
int get_num_threads() { return kernels::cpu::pool_threads(); }

void use_deterministic_algorithms(bool enabled) { g_deterministic.store(enabled); }
bool are_deterministic_algorithms_enabled() { return g_deterministic.load(); }

std::string get_cpu_capability() { return kernels::cpu::cpu_capability_in_use(); }

}  // namespace graft
