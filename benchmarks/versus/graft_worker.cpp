// versus_graft: graft's half of the versus benchmark (benchmarks/versus/README.md).
//
//   versus_graft [--device cpu|cuda]
//
// A long-lived worker driven by versus.py, which talks to it and to torch_worker.py in
// turns, so the two frameworks are timed interleaved on the same machine state. It prints
// one JSON line when ready, then answers each request line "<workload> <target_seconds>"
// with one JSON line:
//   {"workload": "add_16M", "seconds": 0.0123, "runs": 17}            (seconds per op)
//   {"workload": "mlp_epoch", "seconds": 3.2, "runs": 1, "accuracy": 0.85}
//   {"workload": "nope", "error": "..."}
// Timing: one warm-up run, one run to size the batch, then as many runs as fill
// target_seconds, timed together and divided; a GPU is synchronised before each clock
// read. Training epochs run once per request, untimed warm-up excluded.
#include <graft/graft.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>

#include "graft/kernels/cuda/runtime.h"
#include "workload.h"

namespace g = graft;
namespace versus = graft::versus;

namespace {

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Seconds for `runs` runs, the GPU's queue drained at both ends.
double time_runs(const versus::Workload& workload, int64_t runs, bool cuda) {
  if (cuda) g::cuda::synchronize();
  const auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < runs; ++i) workload.run();
  if (cuda) g::cuda::synchronize();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string measure(const std::string& name, const versus::Workload& workload,
                    double target_seconds, bool cuda) {
  std::ostringstream reply;
  reply.precision(6);
  reply << "{\"workload\": " << json_string(name);
  if (workload.single_run) {
    reply << ", \"seconds\": " << time_runs(workload, 1, cuda) << ", \"runs\": 1";
  } else {
    time_runs(workload, 1, cuda);  // first-use costs: caches, pages, the allocator's pool
    const double estimate = std::max(time_runs(workload, 1, cuda), 1e-9);
    const auto runs =
        std::clamp<int64_t>(static_cast<int64_t>(target_seconds / estimate), 1, 1'000'000);
    reply << ", \"seconds\": " << time_runs(workload, runs, cuda) / runs / workload.ops_per_run
          << ", \"runs\": " << runs;
  }
  if (workload.accuracy) reply << ", \"accuracy\": " << workload.accuracy();
  return reply.str() + "}";
}

}  // namespace

int main(int argc, char** argv) {
  const std::string device_name = argc == 3 && std::string(argv[1]) == "--device" ? argv[2] : "cpu";
  if (argc != 1 && argc != 3) {
    std::cerr << "usage: versus_graft [--device cpu|cuda]\n";
    return 2;
  }
  std::map<std::string, versus::WorkloadFactory> registry;
  versus::add_op_workloads(registry);
  versus::add_training_workloads(registry);

  try {
    const g::Device device(device_name);
    const bool cuda = device.is_cuda();
    GRAFT_CHECK(!cuda || g::cuda::is_available(), "versus_graft: --device ", device_name,
                " but this build of graft has no CUDA backend or the machine shows no GPU");
    std::cout << "{\"ready\": true, \"framework\": \"graft\", \"device\": "
              << json_string(device.str()) << ", \"threads\": " << graft::get_num_threads()
              << ", \"cpu_capability\": " << json_string(graft::get_cpu_capability()) << "}"
              << std::endl;

    // Requests for one workload come in a row (its rounds), so only the latest is kept:
    // the 16M-element inputs of forty workloads would not all fit comfortably.
    std::string current_name;
    std::optional<versus::Workload> current;
    std::string line;
    while (std::getline(std::cin, line)) {
      std::istringstream request(line);
      std::string name;
      double target_seconds = 0.2;
      request >> name >> target_seconds;
      try {
        const auto factory = registry.find(name);
        GRAFT_CHECK(factory != registry.end(), "versus_graft: unknown workload '", name, "'");
        if (name != current_name) {
          current.reset();
          current = factory->second(device);
          current_name = name;
        }
        std::cout << measure(name, *current, target_seconds, cuda) << std::endl;
      } catch (const std::exception& e) {
        current.reset();
        current_name.clear();
        std::cout << "{\"workload\": " << json_string(name)
                  << ", \"error\": " << json_string(e.what()) << "}" << std::endl;
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "versus_graft: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
