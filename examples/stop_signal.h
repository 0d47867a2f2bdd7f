// Stopping graft-train cleanly: SIGINT (Ctrl-C) and SIGTERM (kill, a job scheduler's
// notice) ask the run to stop after the current step, so it can write a resumable
// checkpoint; a second signal ends the process at once, for a run stuck elsewhere.
//
// The handler, installed with sigaction, only records the signal in a volatile
// std::sig_atomic_t (or, the second time, calls _exit): both are async-signal-safe, unlike
// anything that allocates, locks or writes a file. The training loop polls the flag
// between steps.
#pragma once

namespace graft::examples {

// Installs the handlers for SIGINT and SIGTERM.
void install_stop_handlers();

// The signal that asked to stop (SIGINT or SIGTERM), or 0 when none has come.
int stop_signal();

}  // namespace graft::examples
