// multinomial: category indices drawn from rows of probabilities.
//
// The op checks what it can see without reading the values (dims, dtype, num_samples against
// the number of categories), reserves from the global Philox stream the blocks the draws read
// (one float64 uniform per draw, two per block), and runs the device's kernel with a scratch
// row of doubles per row of probs. The kernel checks the values themselves (finite,
// non-negative, positive sum, enough non-zero categories without replacement) and throws
// PyTorch's errors naming the row; kernels/multinomial.h has the sampler, the same on every
// device. Not differentiable: the result is int64.
#include "graft/autograd/op_utils.h"
#include "graft/core/random.h"
#include "graft/kernels/multinomial.h"

namespace graft {

Tensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement) {
  GRAFT_CHECK(probs.dim() == 1 || probs.dim() == 2,
              "multinomial(): prob_dist must be 1 or 2 dim, got shape ", probs.shape(),
              " (one distribution of n categories, or a row of n per distribution)");
  GRAFT_CHECK(is_floating_point(probs.dtype()),
              "multinomial(): only floating-point probabilities are supported, got ", probs.dtype(),
              "; convert them with .to(graft::kFloat32)");
  GRAFT_CHECK(num_samples > 0, "multinomial(): cannot sample num_samples <= 0 samples (got ",
              num_samples, ")");
  const int64_t n = probs.size(-1);
  GRAFT_CHECK(n > 0, "multinomial(): the distribution has no categories (probs of shape ",
              probs.shape(), ")");
  GRAFT_CHECK(replacement || num_samples <= n, "multinomial(): cannot sample num_samples (",
              num_samples, ") > prob_dist.size(-1) (", n,
              ") samples without replacement; pass replacement = true");
  const int64_t rows = probs.dim() == 2 ? probs.size(0) : 1;
  const Shape shape = probs.dim() == 2 ? Shape{rows, num_samples} : Shape{num_samples};
  Tensor out = empty(shape, TensorOptions(kInt64).device(probs.device()));
  if (rows == 0) return out;
  autograd::NoGradGuard no_grad;
  const Tensor input = probs.contiguous();  // 16-bit too: the kernels read doubles
  const Tensor scratch = empty({rows, n}, TensorOptions(kFloat64).device(probs.device()));
  const PhiloxPosition position =
      default_generator().reserve(kernels::multinomial_blocks(rows * num_samples));
  kernels::MultinomialArgs args;
  args.dtype = input.dtype();
  args.probs = input.data_ptr();
  args.rows = rows;
  args.n = n;
  args.num_samples = num_samples;
  args.replacement = replacement;
  args.seed = position.seed;
  args.offset = position.offset;
  args.scratch = static_cast<double*>(scratch.data_ptr());
  args.out = static_cast<int64_t*>(out.data_ptr());
  kernels::lookup(kernels::kernel_table().multinomial, probs.device(), "multinomial")(args);
  return out;
}

}  // namespace graft
