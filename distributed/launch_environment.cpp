// Whether an MPI launcher started this process, and where it put it, from the variables the
// launchers set: Open MPI's mpirun (OMPI_COMM_WORLD_*), PMIx-based launchers such as
// Slurm's srun --mpi=pmix (PMIX_RANK with the sizes in PMI_SIZE or not at all), and MPICH's
// Hydra (PMI_RANK, PMI_SIZE). Reading them before MPI_Init lets a plain run skip MPI
// entirely, and lets a build without MPI refuse to run as N separate worlds of one.
#include <cstdlib>
#include <string>

#include "graft/core/error.h"
#include "graft/distributed/backend.h"

namespace graft::distributed::detail {
namespace {

// The integer value of environment variable `name`, or `fallback` when it is unset.
int read_int(const char* name, int fallback) {
  const char* text = std::getenv(name);
  if (text == nullptr) return fallback;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  GRAFT_CHECK(end != text && *end == '\0' && value >= 0 && value < (1L << 30),
              "init_process_group(): the environment variable ", name, "=\"", text,
              "\" is not a rank or a size; was this process started by an MPI launcher?");
  return static_cast<int>(value);
}

}  // namespace

LaunchInfo read_launch_environment() {
  LaunchInfo info;
  info.launched = std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr ||
                  std::getenv("PMI_SIZE") != nullptr || std::getenv("PMIX_RANK") != nullptr;
  if (!info.launched) return info;
  info.world_size = read_int("OMPI_COMM_WORLD_SIZE", read_int("PMI_SIZE", 1));
  info.rank = read_int("OMPI_COMM_WORLD_RANK", read_int("PMI_RANK", read_int("PMIX_RANK", 0)));
  info.local_rank = read_int("OMPI_COMM_WORLD_LOCAL_RANK", read_int("MPI_LOCALRANKID", 0));
  info.local_world_size = read_int("OMPI_COMM_WORLD_LOCAL_SIZE", read_int("MPI_LOCALNRANKS", 1));
  return info;
}

}  // namespace graft::distributed::detail
