// Matrix products: matmul (torch.matmul's rules), mm and bmm.
//
// All three come down to gemm(): a stack of (m, k) x (k, n) products over operands whose
// batch dims already agree, handed to the kernel as strides (kernels/matmul.h), so
// transposed, sliced and broadcast operands are read in place. matmul adds PyTorch's
// rules on top: a 1-D first operand gets a dim of 1 prepended (a 1-D second one, appended)
// and removed from the result again, and batch dims broadcast. A batched first operand
// times a matrix is folded into one tall GEMM when its batch dims are evenly strided over
// its rows (the usual `x @ weight`), which is faster than a batch of small products.
//
// Backward: one formula serves all three (product_grads), written with matmul itself, so
// create_graph differentiates it again.
#include <algorithm>
#include <optional>
#include <sstream>
#include <tuple>
#include <utility>

#include "graft/autograd/autocast.h"
#include "graft/autograd/op_utils.h"
#include "graft/autograd/record.h"
#include "graft/core/op_context.h"
#include "graft/kernels/matmul.h"

namespace graft {

using kernels::kernel_table;
using kernels::lookup;

namespace {

// "2x3x4", the way PyTorch names matrix shapes in its messages.
std::string dims_text(const Shape& shape) {
  std::ostringstream out;
  for (int64_t i = 0; i < shape.size(); ++i) out << (i > 0 ? "x" : "") << shape[i];
  return out.str();
}

// Dtypes and devices: both operands alike, and a dtype the kernels multiply.
void check_operands(const char* op, const Tensor& a, const Tensor& b) {
  ops::check_same_device(op, {&a, &b});
  GRAFT_CHECK(a.dtype() == b.dtype(), op,
              "(): expected both operands to have the same dtype, but got ", a.dtype(), " and ",
              b.dtype(), "; convert one with .to(", promote_types(a.dtype(), b.dtype()), ")");
  GRAFT_CHECK(a.dtype() != kBool && a.dtype() != kUInt8, op, "(): ", a.dtype(),
              " tensors are not supported (float32, float64, int32 and int64 are); convert "
              "them with .to(graft::kFloat32)");
}

void check_inner_sizes(const char* op, const char* names, const Tensor& a, const Tensor& b,
                       int64_t ka, int64_t kb) {
  GRAFT_CHECK(ka == kb, op, "(): ", names, " shapes cannot be multiplied (", dims_text(a.shape()),
              " and ", dims_text(b.shape()), "): the first's last dim (", ka,
              ") must equal the second's ", b.dim() == 1 ? "only" : "second-to-last", " dim (", kb,
              ")");
}

// The strides of the last two dims of `t`, with dims of size 1 given stride 1 (any stride
// addresses them), so that a row or column vector always has a unit stride.
std::pair<int64_t, int64_t> matrix_strides(const Tensor& t) {
  const int64_t nd = t.dim();
  return {t.shape()[nd - 2] == 1 ? 1 : t.strides()[nd - 2],
          t.shape()[nd - 1] == 1 ? 1 : t.strides()[nd - 1]};
}

// `t` itself when its matrices have a unit stride the GEMM can read along, else a copy.
Tensor with_unit_stride(const Tensor& t) {
  const auto [rows, cols] = matrix_strides(t);
  return rows == 1 || cols == 1 ? t : t.contiguous();
}

// out (batch..., m, n) = a (batch..., m, k) x b (batch..., k, n), contiguous; a and b have the
// same batch sizes (expand()ed where broadcast) and unit-strided matrices.
Tensor gemm(const char* op, const Tensor& a, const Tensor& b) {
  // The CPU's kernel is Eigen's GEMM for float32 and float64, and graft's own for float16 and
  // bfloat16 where the CPU has the instructions: elsewhere 16-bit operands go through float32
  // copies. CUDA's
  // kernels load 16-bit elements and accumulate in float themselves.
  if (a.is_cpu() && !kernels::cpu_matmul_takes(a.dtype()))
    return ops::narrowed(gemm(op, ops::widened(a), ops::widened(b)), a.dtype());
  const int64_t nd = a.dim();
  Shape out_shape = a.shape();
  out_shape[nd - 1] = b.shape()[nd - 1];
  Tensor out = empty(out_shape, TensorOptions(a.dtype()).device(a.device()));
  if (out.numel() == 0) return out;

  kernels::MatmulArgs args;
  args.dtype = a.dtype();
  args.m = a.shape()[nd - 2];
  args.k = a.shape()[nd - 1];
  args.n = b.shape()[nd - 1];
  args.batch_ndim = static_cast<int>(nd - 2);
  for (int64_t d = 0; d < nd - 2; ++d) {
    args.batch_sizes[d] = out_shape[d];
    args.a.batch_strides[d] = a.strides()[d];
    args.b.batch_strides[d] = b.strides()[d];
  }
  args.a.data = a.data_ptr();
  args.b.data = b.data_ptr();
  std::tie(args.a.row_stride, args.a.col_stride) = matrix_strides(a);
  std::tie(args.b.row_stride, args.b.col_stride) = matrix_strides(b);
  args.out = out.data_ptr();
  lookup(kernel_table().matmul, a.device(), op)(args);
  return out;
}

// `a` (batch..., m, k) as one (batch * m, k) matrix when its batch and row dims form one
// evenly strided run with a unit stride left for the GEMM; nullopt otherwise.
std::optional<Tensor> fold_rows(const Tensor& a) {
  const int64_t nd = a.dim();
  std::optional<int64_t> row_stride;
  int64_t expected = 0, rows = 1;
  for (int64_t d = nd - 2; d >= 0; --d) {
    rows *= a.shape()[d];
    if (a.shape()[d] == 1) continue;
    if (!row_stride) {
      row_stride = expected = a.strides()[d];
    } else if (a.strides()[d] != expected) {
      return std::nullopt;
    }
    expected *= a.shape()[d];
  }
  Tensor tall = a.as_strided({rows, a.shape()[nd - 1]},
                             {row_stride.value_or(1), a.strides()[nd - 1]}, a.storage_offset());
  const auto [row_step, col_step] = matrix_strides(tall);
  if (row_step != 1 && col_step != 1) return std::nullopt;
  return tall;
}

// ---- backward

// The gradients of a @ b under matmul's rules, on the (batch..., m, n) form of g (the dims
// that vector operands dropped put back as 1): grad_a = g @ b^T, grad_b = a^T @ g, then the
// vector dims dropped again. Batch dims that were broadcast come out at full size and the
// engine sums them back to each operand's shape (sum_to), as for elementwise ops. `x @ weight`
// (a batched a, a matrix b) folds a's batch into rows instead, so weight's gradient is one
// (k, rows) x (rows, n) product rather than a batch of them summed afterwards.
// lhs @ rhs, the gradient of the matrix `operand`, laid out as operand is (as PyTorch's mm
// backward does): for a transposed view, such as the weight.t() that linear() multiplies
// by, it is computed as (rhs^T @ lhs^T)^T, a transposed view of a contiguous product. The
// view's own backward transposes it back, so the weight's gradient arrives contiguous and
// AccumulateGrad takes it as .grad rather than copying it on every step.
Tensor product_in_layout_of(const Tensor& operand, const Tensor& lhs, const Tensor& rhs) {
  const bool transposed = operand.dim() == 2 && lhs.dim() == 2 && rhs.dim() == 2 &&
                          operand.stride(0) == 1 && operand.stride(1) != 1;
  return transposed ? matmul(rhs.t(), lhs.t()).t() : matmul(lhs, rhs);
}

autograd::TensorList product_grads(const Tensor& g, const Tensor& a, const Tensor& b, bool need_a,
                                   bool need_b) {
  const Tensor a2 = a.dim() == 1 ? a.unsqueeze(0) : a, b2 = b.dim() == 1 ? b.unsqueeze(1) : b;
  Shape matrices = g.shape();
  if (a.dim() == 1) matrices.insert(matrices.size() - (b.dim() == 1 ? 0 : 1), 1);
  if (b.dim() == 1) matrices.push_back(1);
  const Tensor g2 = g.reshape(matrices);  // (batch..., m, n)
  Tensor grad_a, grad_b;
  if (need_a) {
    grad_a = product_in_layout_of(a2, g2, b2.transpose(-2, -1));  // (batch..., m, k)
    if (a.dim() == 1) grad_a = grad_a.squeeze(-2);
  }
  if (need_b) {
    if (b2.dim() == 2 && a2.dim() > 2) {
      int64_t rows = 1;
      for (int64_t d = 0; d < a2.dim() - 1; ++d) rows *= a2.shape()[d];
      const int64_t k = a2.shape()[a2.dim() - 1], n = g2.shape()[g2.dim() - 1];
      grad_b = product_in_layout_of(b2, a2.reshape({rows, k}).t(), g2.reshape({rows, n}));
    } else {
      grad_b = product_in_layout_of(b2, a2.transpose(-2, -1), g2);  // (batch..., k, n)
    }
    if (b.dim() == 1) grad_b = grad_b.squeeze(-1);
  }
  return {grad_a, grad_b};
}

// out = a @ b, computed by `forward` below autograd (its reshapes and copies of a and b
// are part of this one op), then recorded with product_grads as its backward.
template <class Forward>
Tensor product(const char* op, const Tensor& a, const Tensor& b, Forward forward) {
  const OpContext context(op);
  Tensor out;
  {
    autograd::NoGradGuard no_grad;
    out = forward();
  }
  return autograd::record(
      out, autograd::backward_name(op), {a, b},
      [sa = autograd::save(a), sb = autograd::save(b), need_a = a.requires_grad(),
       need_b = b.requires_grad()](const Tensor& g) {
        return product_grads(g, sa.get(), sb.get(), need_a, need_b);
      });
}

Tensor matmul_forward(const Tensor& a, const Tensor& b) {
  GRAFT_CHECK(a.dim() >= 1 && b.dim() >= 1,
              "matmul(): both arguments to matmul need to be at least 1D, but they are ", a.dim(),
              "D and ", b.dim(), "D");
  check_operands("matmul", a, b);
  // a2 (..., m, k) and b2 (..., k, n): vectors become a row / a column.
  const Tensor a1 = a.dim() == 1 ? a.unsqueeze(0) : a, b1 = b.dim() == 1 ? b.unsqueeze(1) : b;
  const int64_t m = a1.shape()[a1.dim() - 2], k = a1.shape()[a1.dim() - 1];
  const int64_t n = b1.shape()[b1.dim() - 1];
  check_inner_sizes("matmul", "mat1 and mat2", a, b, k, b1.shape()[b1.dim() - 2]);
  const Tensor a2 = with_unit_stride(a1), b2 = with_unit_stride(b1);

  // Batch dims broadcast as in elementwise ops; the result keeps m and n only for >= 2-D.
  const Shape batch_a(std::vector<int64_t>(a2.shape().begin(), a2.shape().end() - 2));
  const Shape batch_b(std::vector<int64_t>(b2.shape().begin(), b2.shape().end() - 2));
  for (int64_t i = 1; i <= std::min(batch_a.size(), batch_b.size()); ++i) {
    const int64_t sa = batch_a[batch_a.size() - i], sb = batch_b[batch_b.size() - i];
    GRAFT_CHECK(sa == sb || sa == 1 || sb == 1, "matmul(): the batch dims of shapes ", a.shape(),
                " and ", b.shape(), " cannot be broadcast (sizes ", sa, " and ", sb,
                " in the batch dim ", i, " from the right)");
  }
  const Shape batch = broadcast_shapes(batch_a, batch_b, "matmul");
  Shape result_shape = batch;
  if (a.dim() > 1) result_shape.push_back(m);
  if (b.dim() > 1) result_shape.push_back(n);

  if (b2.dim() == 2 && a2.dim() > 2) {
    if (const std::optional<Tensor> tall = fold_rows(a2))
      return gemm("matmul", *tall, b2).view(result_shape);
  }
  Shape shape_a = batch, shape_b = batch;
  shape_a.push_back(m);
  shape_a.push_back(k);
  shape_b.push_back(k);
  shape_b.push_back(n);
  return gemm("matmul", a2.expand(shape_a), b2.expand(shape_b)).view(result_shape);
}

}  // namespace

Tensor matmul(const Tensor& a_in, const Tensor& b_in) {
  const Tensor a = autocast::to_low_precision(a_in);
  const Tensor b = autocast::to_low_precision(b_in);
  return product("matmul", a, b, [&] { return matmul_forward(a, b); });
}

Tensor mm(const Tensor& a_in, const Tensor& b_in) {
  const Tensor a = autocast::to_low_precision(a_in);
  const Tensor b = autocast::to_low_precision(b_in);
  GRAFT_CHECK(a.dim() == 2 && b.dim() == 2, "mm(): expected 2-D tensors, got ", a.dim(), "-D and ",
              b.dim(), "-D; use matmul() for other ranks");
  check_operands("mm", a, b);
  check_inner_sizes("mm", "mat1 and mat2", a, b, a.shape()[1], b.shape()[0]);
  return product("mm", a, b, [&] { return gemm("mm", with_unit_stride(a), with_unit_stride(b)); });
}

Tensor bmm(const Tensor& a_in, const Tensor& b_in) {
  const Tensor a = autocast::to_low_precision(a_in);
  const Tensor b = autocast::to_low_precision(b_in);
  GRAFT_CHECK(a.dim() == 3 && b.dim() == 3, "bmm(): expected 3-D tensors, got ", a.dim(), "-D and ",
              b.dim(), "-D; use matmul() for other ranks");
  check_operands("bmm", a, b);
  GRAFT_CHECK(a.shape()[0] == b.shape()[0],
              "bmm(): batch1 and batch2 must have the same batch size, but got shapes ", a.shape(),
              " and ", b.shape(), "; use matmul() to broadcast batch dims");
  check_inner_sizes("bmm", "batch1 and batch2", a, b, a.shape()[2], b.shape()[1]);
  return product("bmm", a, b,
                 [&] { return gemm("bmm", with_unit_stride(a), with_unit_stride(b)); });
}

}  // namespace graft
