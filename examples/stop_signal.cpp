// SIGINT / SIGTERM handlers that ask graft-train to stop (see stop_signal.h).
#include "stop_signal.h"

#include <unistd.h>

#include <csignal>

#include "graft/core/error.h"

namespace graft::examples {
namespace {

volatile std::sig_atomic_t g_stop_signal = 0;

void on_stop_signal(int signal) {
  if (g_stop_signal != 0) _exit(128 + signal);  // the second one: the shell's convention
  g_stop_signal = signal;
}

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // a read or write under way carries on
  for (const int signal : {SIGINT, SIGTERM})
    GRAFT_CHECK(sigaction(signal, &action, nullptr) == 0,
                "graft-train: cannot install the handler of signal ", signal);
}

int stop_signal() { return g_stop_signal; }

}  // namespace graft::examples
