// graft::distributed measured against its engine, under mpirun:
//   mpirun -np 2 build/benchmarks/distributed_bench
//
// 1. All-reduce bandwidth, 4 KB to 256 MB of float32: graft's all_reduce (argument check,
//    queue, communication thread) against MPI_Allreduce called directly on the same buffer.
//    MPI is the ceiling, so the ratio of the two is graft's overhead. Bandwidths are NCCL's
//    "bus bandwidth", bytes * 2 (n - 1) / n / time, which is comparable across rank counts.
// 2. Overlap: a DistributedDataParallel step of the examples' CNN against its parts measured
//    alone, the local forward + backward (compute) and the all-reduce of every gradient
//    (communication): the share of the communication the step hides is
//    (compute + communication - step) / communication. With one 25 MB bucket (the default;
//    the CNN's gradients are 200 KB) the all-reduce can only start at the end of the pass,
//    so a second run uses buckets of 50 KB; and since 200 KB take a tenth of a millisecond,
//    a third model, an MLP of 67 MB of parameters, has communication worth measuring.
//
// No Google Benchmark: its adaptive iteration counts would differ between ranks, and every
// rank must make the same collectives. Each figure is the median of a fixed number of
// repetitions, every one started together after a barrier and timed by the slowest rank
// (a synchronised step ends when the last rank is done). Rank 0 prints. Run alone, without
// mpirun, part 2 shows what the wrapper costs a step that communicates nothing.
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "graft/graft.h"
#include "models.h"

namespace g = graft;
namespace dist = graft::distributed;

namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Median seconds of `reps` runs of `body`, each started after a barrier on every rank and
// timed by the slowest rank: a synchronised step ends when the last rank is done, so the
// parts measured alone must be compared on the same footing.
double median_seconds(int reps, const std::function<void()>& body) {
  std::vector<double> times;
  for (int r = 0; r < reps; ++r) {
    dist::barrier();
    const double start = now_seconds();
    body();
    const g::Tensor slowest = g::full({}, now_seconds() - start, g::kFloat64);
    dist::all_reduce(slowest, dist::ReduceOp::kMax);
    times.push_back(slowest.item<double>());
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

void all_reduce_bandwidth(int rank, int world) {
  if (rank == 0) {
    std::printf("\nall_reduce, float32, %d ranks (bus bandwidth, GB/s)\n", world);
    std::printf("%10s %12s %12s %14s\n", "bytes", "graft", "MPI", "graft / MPI");
  }
  for (int64_t bytes = 4096; bytes <= (int64_t{256} << 20); bytes *= 4) {
    const int64_t count = bytes / 4;
    g::Tensor t = g::ones({count});
    float* data = t.data_ptr<float>();
    const int reps = static_cast<int>(std::clamp<int64_t>((int64_t{64} << 20) / bytes, 5, 200));
    const auto mpi = [&] {
      MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(count), MPI_FLOAT, MPI_SUM,
                    MPI_COMM_WORLD);
    };
    const auto ours = [&] { dist::all_reduce(t); };
    mpi();  // warm up both paths (connections, buffers)
    ours();
    const double mpi_s = median_seconds(reps, mpi);
    const double ours_s = median_seconds(reps, ours);
    const double factor = 2.0 * (world - 1) / world / 1e9 * static_cast<double>(bytes);
    if (rank == 0)
      std::printf("%10lld %12.2f %12.2f %14.3f\n", static_cast<long long>(bytes), factor / ours_s,
                  factor / mpi_s, mpi_s / ours_s);
  }
}

// One overlap measurement of `net` on this rank's batch `x` (labels `y`).
void overlap(int rank, int world, const std::string& name, g::nn::Module& net, const g::Tensor& x,
             const g::Tensor& y, double bucket_cap_mb) {
  const auto loss = [&](const g::Tensor& logits) {
    return g::nn::functional::cross_entropy(logits, y);
  };
  const int reps = 20;
  const double compute = median_seconds(reps, [&] {
    net.zero_grad();
    loss(net(x)).backward();
  });
  int64_t numel = 0;
  for (const g::Tensor& p : net.parameters()) numel += p.numel();
  g::Tensor flat = g::zeros({numel});
  const double communicate =
      median_seconds(reps, [&] { dist::all_reduce(flat, dist::ReduceOp::kAvg); });
  g::nn::parallel::DistributedDataParallel ddp(net, {.bucket_cap_mb = bucket_cap_mb});
  const double step = median_seconds(reps, [&] {
    net.zero_grad();
    loss(ddp(x)).backward();
  });
  if (rank == 0) {
    std::printf("\nDDP step, %s, batch %lld per rank, %d ranks, %zu buckets of <= %.2f MB\n",
                name.c_str(), static_cast<long long>(x.size(0)), world,
                ddp.bucket_assignment().size(), bucket_cap_mb);
    std::printf("  compute (forward + backward)   %9.3f ms\n", compute * 1e3);
    std::printf("  communication (%9lld floats) %9.3f ms\n", static_cast<long long>(numel),
                communicate * 1e3);
    std::printf("  DDP step                       %9.3f ms\n", step * 1e3);
    std::printf("  hidden share of communication  %9.1f %%\n",
                100.0 * (compute + communicate - step) / communicate);
  }
}

void overlaps(int rank, int world) {
  const int64_t batch = 32;  // per rank
  g::manual_seed(2 + static_cast<uint64_t>(rank));
  const g::Tensor images = g::randn({batch, 1, 28, 28});
  const g::Tensor labels = g::randint(0, 10, {batch});
  g::manual_seed(1);
  auto cnn = g::examples::make_model("cnn");
  overlap(rank, world, "examples' CNN", *cnn, images, labels, 25.0);
  overlap(rank, world, "examples' CNN", *cnn, images, labels, 0.05);
  // Communication the CNN's 0.2 MB cannot show: 16.8 million parameters (67 MB).
  g::manual_seed(1);
  g::nn::Sequential wide(g::nn::Linear(2048, 2048), g::nn::ReLU(), g::nn::Linear(2048, 2048),
                         g::nn::ReLU(), g::nn::Linear(2048, 2048), g::nn::ReLU(),
                         g::nn::Linear(2048, 2048));
  g::manual_seed(3 + static_cast<uint64_t>(rank));
  const g::Tensor features = g::randn({batch, 2048});
  const g::Tensor classes = g::randint(0, 2048, {batch});
  overlap(rank, world, "MLP 4 x Linear(2048, 2048)", wide, features, classes, 25.0);
}

}  // namespace

int main() {
  dist::init_process_group();
  const int rank = dist::get_rank();
  const int world = dist::get_world_size();
  if (rank == 0)
    std::printf("graft distributed_bench: %d ranks, backend %s, %d threads per rank\n", world,
                dist::get_backend().c_str(), g::get_num_threads());
  if (world > 1) all_reduce_bandwidth(rank, world);
  overlaps(rank, world);
  dist::destroy_process_group();
  return 0;
}
