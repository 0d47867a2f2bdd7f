// Training throughput on a busy machine: does graft's default thread count hold up when
// another process wants a core? (Issue 16's goal: with one busy process at the same
// priority beside it, the default gives at least 0.9 of the best fixed thread count and
// never less than one thread.)
//
// The program starts its own neighbour: a child process that spins on one core, killed at
// the end and in any case after --limit seconds (an alarm), or with this process. It times
// training steps of an example model (model_step.h) with every fixed thread count from 1
// to the default team's size (graft::get_num_threads() at start) and with the default
// setting itself (set_num_threads(0): automatic unless OMP_NUM_THREADS is set), first on an
// idle machine and then beside the neighbour. The settings take turns in rounds, so that
// each sees the same machine, and each figure is the median over the rounds.
//
//   busy_machine_bench [--model mlp|cnn] [--rounds R] [--seconds S] [--limit L]
//                      [--neighbour-nice N] [--neighbour-session same|own]
//
// The neighbour runs at nice N (default 0), in this process's session or in one of its own
// (setsid), as a job started from another terminal or run as a service is: where the kernel
// groups processes by session (autogroup), nice orders the processes of one group only.
//
// prints a Markdown table: images per second, and each setting's throughput as a fraction
// of the best fixed count and of one thread in the same conditions.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "model_step.h"

namespace graft::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string model = "mlp";
  int rounds = 9;
  double seconds = 0.3;  // per thread count per round
  int limit = 600;       // the neighbour's life, at most
  int neighbour_nice = 0;
  bool neighbour_own_session = false;
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) throw std::invalid_argument("usage: see the top of busy_machine_bench.cpp");
    const std::string value = argv[++i];
    if (arg == "--model") {
      options.model = value;
    } else if (arg == "--rounds") {
      options.rounds = std::max(1, std::stoi(value));
    } else if (arg == "--seconds") {
      options.seconds = std::stod(value);
    } else if (arg == "--limit") {
      options.limit = std::max(1, std::stoi(value));
    } else if (arg == "--neighbour-nice") {
      options.neighbour_nice = std::clamp(std::stoi(value), 0, 19);
    } else if (arg == "--neighbour-session") {
      if (value != "same" && value != "own")
        throw std::invalid_argument("--neighbour-session takes same or own, not " + value);
      options.neighbour_own_session = value == "own";
    } else {
      throw std::invalid_argument("unknown option " + arg);
    }
  }
  return options;
}

// A process that keeps one core busy until it is killed, its parent dies, or `limit`
// seconds pass, at nice `niceness`, in a session of its own if asked. Only system calls and a
// busy loop after fork(): nothing that could need a lock the parent's other threads held.
class Neighbour {
 public:
  Neighbour(int limit, int niceness, bool own_session) : pid_(fork()) {
    if (pid_ < 0) throw std::runtime_error("fork() failed");
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      alarm(static_cast<unsigned>(limit));
      if (own_session) setsid();
      if (niceness > 0) (void)nice(niceness);
      for (uint64_t spins = 0;; ++spins) benchmark::DoNotOptimize(spins);
    }
  }
  Neighbour(const Neighbour&) = delete;
  Neighbour& operator=(const Neighbour&) = delete;
  ~Neighbour() {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }

 private:
  pid_t pid_;
};

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// The settings measured: fixed counts 1..max_threads, then the default (0).
std::vector<int> settings(int max_threads) {
  std::vector<int> out;
  for (int threads = 1; threads <= max_threads; ++threads) out.push_back(threads);
  out.push_back(0);
  return out;
}

// Images per second under each setting, the settings taking turns.
std::vector<double> throughputs(const Options& options, int max_threads, int64_t batch) {
  ModelStep step(options.model, batch);
  const std::vector<int> all = settings(max_threads);
  std::vector<std::vector<double>> rates(all.size());
  for (int round = 0; round < options.rounds; ++round) {
    for (size_t s = 0; s < all.size(); ++s) {
      set_num_threads(all[s]);
      // Untimed steps first: a new team's threads start, and the automatic setting measures
      // the machine's load over its first interval (100 ms).
      const auto warm = Clock::now() + std::chrono::milliseconds(all[s] == 0 ? 250 : 0);
      do {
        step.run();
      } while (Clock::now() < warm);
      const auto start = Clock::now();
      int64_t steps = 0;
      double elapsed = 0;
      while (elapsed < options.seconds) {
        step.run();
        ++steps;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      }
      rates[s].push_back(static_cast<double>(steps * batch) / elapsed);
    }
  }
  std::vector<double> result;
  for (auto& rate : rates) result.push_back(median(rate));
  return result;
}

// The best of the fixed counts (all but the last entry).
double best_fixed(const std::vector<double>& rates) {
  return *std::max_element(rates.begin(), rates.end() - 1);
}

void print_rows(const char* condition, const std::vector<double>& rates) {
  const double best = best_fixed(rates);
  for (size_t i = 0; i < rates.size(); ++i) {
    const std::string setting = i + 1 < rates.size() ? std::to_string(i + 1) : "default";
    std::printf("| %s | %s | %.0f | %.2f | %.2f |\n", condition, setting.c_str(), rates[i],
                rates[i] / best, rates[i] / rates[0]);
  }
}

int run(int argc, char** argv) {
  const Options options = parse(argc, argv);
  const int team_threads = get_num_threads();
  const char* omp = std::getenv("OMP_NUM_THREADS");
  const int64_t batch = 64;
  std::printf(
      "model %s, batch %lld, default team %d threads (%s), median of %d rounds of %.2f s; the "
      "busy process at nice %d, in %s\n\n",
      options.model.c_str(), static_cast<long long>(batch), team_threads,
      omp != nullptr ? "fixed by OMP_NUM_THREADS" : "automatic", options.rounds, options.seconds,
      options.neighbour_nice,
      options.neighbour_own_session ? "a session of its own" : "this process's session");
  const std::vector<double> idle = throughputs(options, team_threads, batch);
  std::vector<double> busy;
  {
    const Neighbour neighbour(options.limit, options.neighbour_nice, options.neighbour_own_session);
    busy = throughputs(options, team_threads, batch);
  }
  set_num_threads(0);
  std::printf("| neighbour | threads | images/s | of the best count | of one thread |\n");
  std::printf("|---|---|---:|---:|---:|\n");
  print_rows("none", idle);
  print_rows("one busy process", busy);
  std::printf(
      "\nthe default gives %.2f of the best fixed count on the idle machine; beside a busy "
      "process %.2f of the best count (goal >= 0.9) and %.2f of one thread (goal >= 1)\n",
      idle.back() / best_fixed(idle), busy.back() / best_fixed(busy), busy.back() / busy[0]);
  return 0;
}

}  // namespace
}  // namespace graft::bench

int main(int argc, char** argv) {
  try {
    return graft::bench::run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "busy_machine_bench: %s\n", e.what());
    return 2;
  }
}
