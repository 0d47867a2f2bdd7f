// Training throughput on a busy machine: does graft's default thread count hold up when
// another process wants a core? (Issue 16's goal: with one busy process at the same
// priority beside it, the default gives at least 0.9 of the best fixed thread count and
// never less than one thread.)
//
// The program starts its own neighbour: a child process that spins on one core, killed at
// the end and in any case after --limit seconds (an alarm), or with this process. It times
// training steps of an example model (model_step.h) with every fixed thread count from 1
// to the default (graft::get_num_threads() at start), first on an idle machine and then
// beside the neighbour. The thread counts take turns in rounds, so that each sees the same
// machine, and each figure is the median over the rounds.
//
//   busy_machine_bench [--model mlp|cnn] [--rounds R] [--seconds S] [--limit L]
//
// prints a Markdown table: images per second, and each count's throughput as a fraction of
// the best fixed count and of one thread in the same conditions.
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
    } else {
      throw std::invalid_argument("unknown option " + arg);
    }
  }
  return options;
}

// A process that keeps one core busy until it is killed, its parent dies, or `limit`
// seconds pass. Only a busy loop after fork(): nothing that could need a lock the parent's
// other threads held.
class Neighbour {
 public:
  explicit Neighbour(int limit) : pid_(fork()) {
    if (pid_ < 0) throw std::runtime_error("fork() failed");
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      alarm(static_cast<unsigned>(limit));
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

// Images per second at each thread count 1..max_threads, the counts taking turns.
std::vector<double> throughputs(const Options& options, int max_threads, int64_t batch) {
  ModelStep step(options.model, batch);
  std::vector<std::vector<double>> rates(max_threads);
  for (int round = 0; round < options.rounds; ++round) {
    for (int threads = 1; threads <= max_threads; ++threads) {
      set_num_threads(threads);
      step.run();  // the first step after a change starts the new team's threads
      const auto start = Clock::now();
      int64_t steps = 0;
      double elapsed = 0;
      while (elapsed < options.seconds) {
        step.run();
        ++steps;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      }
      rates[threads - 1].push_back(static_cast<double>(steps * batch) / elapsed);
    }
  }
  std::vector<double> result;
  for (auto& rate : rates) result.push_back(median(rate));
  return result;
}

void print_rows(const char* condition, const std::vector<double>& rates, int default_threads) {
  const double best = *std::max_element(rates.begin(), rates.end());
  for (size_t i = 0; i < rates.size(); ++i) {
    const int threads = static_cast<int>(i) + 1;
    std::printf("| %s | %d%s | %.0f | %.2f | %.2f |\n", condition, threads,
                threads == default_threads ? " (default)" : "", rates[i], rates[i] / best,
                rates[i] / rates[0]);
  }
}

int run(int argc, char** argv) {
  const Options options = parse(argc, argv);
  const int default_threads = get_num_threads();
  const int64_t batch = 64;
  std::printf("model %s, batch %lld, %d default threads, median of %d rounds of %.2f s\n\n",
              options.model.c_str(), static_cast<long long>(batch), default_threads, options.rounds,
              options.seconds);
  const std::vector<double> idle = throughputs(options, default_threads, batch);
  std::vector<double> busy;
  {
    const Neighbour neighbour(options.limit);
    busy = throughputs(options, default_threads, batch);
  }
  set_num_threads(default_threads);
  std::printf("| neighbour | threads | images/s | of the best count | of one thread |\n");
  std::printf("|---|---|---:|---:|---:|\n");
  print_rows("none", idle, default_threads);
  print_rows("one busy process", busy, default_threads);
  const double best = *std::max_element(busy.begin(), busy.end());
  std::printf(
      "\nbeside a busy process the default gives %.2f of the best count (goal >= 0.9) "
      "and %.2f of one thread (goal >= 1)\n",
      busy[default_threads - 1] / best, busy[default_threads - 1] / busy[0]);
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
