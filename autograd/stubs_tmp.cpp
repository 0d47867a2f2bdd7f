// TODO-STUB: temporary definitions so the tree links while the op families are written.
// Each helper deletes the functions it implements from this file; the file must be gone
// before anything is committed.
#include "graft/autograd/ops.h"
#include "graft/kernels/cpu/cpu_kernels.h"

#define GRAFT_STUB { graft::detail::fail("not yet implemented (stub): ", __func__); }
namespace graft {
// -- reductions (ops_reduce.cpp, kernels/cpu/reduce.cpp)
Tensor sum(const Tensor&, const Dims&, bool) GRAFT_STUB
Tensor mean(const Tensor&, const Dims&, bool) GRAFT_STUB
Tensor prod(const Tensor&, const Dims&, bool) GRAFT_STUB
Tensor max(const Tensor&, const Dims&, bool) GRAFT_STUB
Tensor min(const Tensor&, const Dims&, bool) GRAFT_STUB
Tensor logsumexp(const Tensor&, const Dims&, bool) GRAFT_STUB
Tensor all(const Tensor&, const Dims&, bool) GRAFT_STUB
Tensor any(const Tensor&, const Dims&, bool) GRAFT_STUB
Tensor var(const Tensor&, const Dims&, bool, int64_t) GRAFT_STUB
Tensor std(const Tensor&, const Dims&, bool, int64_t) GRAFT_STUB
Tensor argmax(const Tensor&, std::optional<int64_t>, bool) GRAFT_STUB
Tensor argmin(const Tensor&, std::optional<int64_t>, bool) GRAFT_STUB
namespace kernels::cpu { void register_reduce(KernelTable&) {} }
// -- matmul / softmax (ops_matmul.cpp, ops_softmax.cpp, kernels/cpu/matmul.cpp, softmax.cpp)
Tensor matmul(const Tensor&, const Tensor&) GRAFT_STUB
Tensor mm(const Tensor&, const Tensor&) GRAFT_STUB
Tensor bmm(const Tensor&, const Tensor&) GRAFT_STUB
Tensor softmax(const Tensor&, int64_t) GRAFT_STUB
Tensor log_softmax(const Tensor&, int64_t) GRAFT_STUB
namespace kernels::cpu { void register_matmul(KernelTable&) {} }
namespace kernels::cpu { void register_softmax(KernelTable&) {} }
// -- index (ops_index.cpp, kernels/cpu/index.cpp)
Tensor cat(const std::vector<Tensor>&, int64_t) GRAFT_STUB
Tensor stack(const std::vector<Tensor>&, int64_t) GRAFT_STUB
Tensor gather(const Tensor&, int64_t, const Tensor&) GRAFT_STUB
Tensor index_select(const Tensor&, int64_t, const Tensor&) GRAFT_STUB
Tensor scatter_add(const Tensor&, int64_t, const Tensor&, const Tensor&) GRAFT_STUB
const Tensor& scatter_add_(const Tensor&, int64_t, const Tensor&, const Tensor&) GRAFT_STUB
namespace kernels::cpu { void register_index(KernelTable&) {} }
// -- factories and random (ops_factory.cpp, ops_random.cpp, core/random.h, kernels/cpu/random.cpp)
Tensor zeros(const Shape&, TensorOptions) GRAFT_STUB
Tensor ones(const Shape&, TensorOptions) GRAFT_STUB
Tensor full(const Shape&, Scalar, TensorOptions) GRAFT_STUB
Tensor zeros_like(const Tensor&) GRAFT_STUB
Tensor ones_like(const Tensor&) GRAFT_STUB
Tensor full_like(const Tensor&, Scalar) GRAFT_STUB
Tensor arange(Scalar, TensorOptions) GRAFT_STUB
Tensor arange(Scalar, Scalar, Scalar, TensorOptions) GRAFT_STUB
Tensor linspace(double, double, int64_t, TensorOptions) GRAFT_STUB
Tensor eye(int64_t, TensorOptions) GRAFT_STUB
Tensor eye(int64_t, int64_t, TensorOptions) GRAFT_STUB
void manual_seed(uint64_t) GRAFT_STUB
Tensor rand(const Shape&, TensorOptions) GRAFT_STUB
Tensor randn(const Shape&, TensorOptions) GRAFT_STUB
Tensor randint(int64_t, int64_t, const Shape&, TensorOptions) GRAFT_STUB
namespace kernels::cpu { void register_random(KernelTable&) {} }
// -- printing and comparison (core/print.cpp, autograd/ops_compare.cpp)
bool allclose(const Tensor&, const Tensor&, double, double) GRAFT_STUB
bool equal(const Tensor&, const Tensor&) GRAFT_STUB
std::ostream& operator<<(std::ostream&, const Tensor&) GRAFT_STUB
}  // namespace graft
