// Device, output folder and autocast dtype of a training run (see run_setup.h).
#include "run_setup.h"

#include <ctime>

#include "graft/distributed/distributed.h"
#include "graft/kernels/cuda/runtime.h"

namespace graft::examples {

Device choose_device(const std::string& program, const std::string& choice) {
  const bool cuda = cuda::is_available();
  GRAFT_CHECK(choice != "cuda" || cuda, program,
              ": --device cuda, but graft::cuda::is_available() is false (a build without the "
              "CUDA backend, or no GPU); use --device cpu or auto");
  if (choice == "cpu" || !cuda) return Device::cpu();
  const int rank_gpu =
      distributed::is_initialized() ? distributed::get_local_rank() % cuda::device_count() : 0;
  return Device(kCUDA, rank_gpu);
}

std::optional<DType> amp_dtype(const std::string& amp) {
  if (amp == "bf16") return kBFloat16;
  if (amp == "fp16") return kFloat16;
  GRAFT_CHECK(amp == "none", "--amp ", amp, ": expected none, bf16 or fp16");
  return std::nullopt;
}

std::filesystem::path choose_out_folder(const std::string& out, const std::string& resume,
                                        const std::string& prefix) {
  std::filesystem::path folder;
  if (!out.empty()) {
    folder = out;
  } else if (!resume.empty()) {
    folder = std::filesystem::path(resume).parent_path();
  } else {
    const std::time_t now = std::time(nullptr);
    char stamp[32];
    std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", std::gmtime(&now));
    folder = std::filesystem::path("runs") / (prefix + stamp);
  }
  std::filesystem::create_directories(folder);
  return folder;
}

}  // namespace graft::examples
