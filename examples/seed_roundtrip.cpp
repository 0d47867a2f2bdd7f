// The seed article's story in C++. The article (a Japanese piece on how NumPy and PyTorch
// relate) says PyTorch is "NumPy on the GPU plus autograd", that NumPy stays the
// ecosystem's common language on the host, and that the two share memory without
// copying. In C++ the host's common language is Eigen and raw buffers, so here:
//   1. the same NumPy-style API: tensor([...]), shape, view / reshape
//   2. the same semantics: broadcasting, reductions, softmax, matmul
//   3. zero-copy sharing: from_eigen() and eigen() are windows onto the same memory
//   4. the whole round trip: a uint8 HWC image -> float / 255 -> CHW -> batch dim ->
//      device -> model -> softmax -> back to the host -> argmax
//   5. know which world you are in: crossings are explicit, and errors say how to cross
// Run it with `bash scripts/run.sh`; it works with or without a CUDA backend.
#include <graft/graft.h>

#include <array>
#include <cstdint>
#include <iostream>
#include <vector>

namespace g = graft;

namespace {

void section(const char* title) { std::cout << "\n== " << title << "\n"; }

// "np.array([...]) -> torch.tensor([...]), x_np.shape -> x_torch.shape, np.reshape(x, ...)
// -> x_torch.view(...) / x_torch.reshape(...)": graft spells them as libtorch does.
void numpy_style_api() {
  section("1. a NumPy-style API");
  const g::Tensor x = g::tensor({{1.f, 2.f, 3.f}, {4.f, 5.f, 6.f}});
  std::cout << "x = " << x << "\n";
  std::cout << "x.shape() = " << x.shape() << ", x.dtype() = " << x.dtype() << "\n";
  std::cout << "x.view({3, 2}) = " << x.view({3, 2}) << "\n";
  std::cout << "x.reshape({-1}) = " << x.reshape({-1}) << "\n";
}

// "Shapes, broadcasting and indexing behave almost the same in NumPy and PyTorch", so
// learning one teaches the other.
void same_semantics() {
  section("2. broadcasting, reductions, softmax, matmul");
  const g::Tensor x = g::arange(6, g::kFloat32).reshape({2, 3});
  std::cout << "x = " << x << "\n";
  // (2, 3) - (2, 1): the row means are broadcast along each row.
  std::cout << "x - x.mean({1}, true) = " << x - x.mean({1}, /*keepdim=*/true) << "\n";
  std::cout << "x.sum() = " << x.sum() << ", x.max({0}) = " << x.max({0}) << "\n";
  std::cout << "softmax(x, 1) = " << g::softmax(x, 1) << "\n";
  std::cout << "matmul(x, x.t()) = " << g::matmul(x, x.t()) << "\n";
}

// "torch.from_numpy() copies nothing: the tensor and the array are windows onto the same
// data." The article's own example: x_np = np.zeros((2, 2)); x_tensor[0, 0] = 1 changes
// x_np too.
void zero_copy() {
  section("3. zero-copy sharing between Eigen and graft");
  Eigen::MatrixXd m = Eigen::MatrixXd::Zero(2, 2);
  const g::Tensor t = g::from_eigen(m);  // torch.from_numpy(x_np)
  t.index_put_({0, 0}, 1.0);             // x_tensor[0, 0] = 1
  std::cout << "after t[0, 0] = 1, the Eigen matrix m is\n" << m << "\n";
  auto v = t.eigen<double>();  // x_tensor.numpy(): an Eigen::Map over t's memory
  v(1, 1) = 7;
  std::cout << "after v(1, 1) = 7 through t.eigen<double>(), t = " << t << "\n";
}

// A 4x4 RGB image the way an image loader (OpenCV, stb_image) hands it over: uint8,
// height x width x channel, in memory the loader owns. This one is mostly red.
constexpr int64_t kHeight = 4, kWidth = 4, kChannels = 3;
std::vector<uint8_t> load_image() {
  std::vector<uint8_t> pixels(kHeight * kWidth * kChannels);
  for (int64_t i = 0; i < kHeight * kWidth; ++i) {
    pixels[kChannels * i + 0] = static_cast<uint8_t>(200 + i);     // R
    pixels[kChannels * i + 1] = static_cast<uint8_t>(40 + 2 * i);  // G
    pixels[kChannels * i + 2] = 90;                                // B
  }
  return pixels;
}

// A fixed linear "model": class c scores the mean of channel c over the image, scaled so
// the softmax is confident. Its weight is (C*H*W, 3): eye(3) repeated over the pixels.
g::Tensor model(const g::Tensor& images) {  // (N, C, H, W) -> logits (N, 3)
  const int64_t pixels = kHeight * kWidth;
  const g::Tensor weight = g::eye(kChannels, g::TensorOptions(g::kFloat32).device(images.device()))
                               .unsqueeze(1)
                               .expand({kChannels, pixels, kChannels})
                               .reshape({kChannels * pixels, kChannels});
  return g::matmul(images.flatten(1), weight) * (10.0 / pixels);
}

// The article's whole flow (section 5 there), step by step.
void image_round_trip() {
  section("4. the whole round trip: uint8 image -> model -> class");
  std::vector<uint8_t> img = load_image();  // img = cv2.imread("cat.png"): (H, W, C)

  // NumPy's world: preprocessing on the host. from_blob wraps the loader's buffer without
  // copying; .to(kFloat32) / 255 is img.astype(np.float32) / 255.0.
  g::Tensor x = g::from_blob(img.data(), {kHeight, kWidth, kChannels}, g::kUInt8);
  x = x.to(g::kFloat32) / 255;
  x = x.permute({2, 0, 1});  // np.transpose(img, (2, 0, 1)): (C, H, W), a view
  x = x.unsqueeze(0);        // x.unsqueeze(0): the batch dim, (1, C, H, W)
  std::cout << "x.shape() = " << x.shape() << " (N, C, H, W)\n";

  // PyTorch's world: x.to("cuda"). Without a CUDA backend the move fails with an error
  // that says so, and the example carries on with the CPU.
  try {
    x = x.to(g::kCUDA);
  } catch (const g::Error& e) {
    std::cout << "x.to(kCUDA) failed, staying on the CPU:\n  " << e.what() << "\n";
  }
  const g::Tensor probs = g::softmax(model(x), 1);  // torch.softmax(model(x), dim=1)
  std::cout << "probabilities on " << probs.device() << ": " << probs << "\n";

  // Back in NumPy's world: probs.cpu().numpy(), then np.argmax(probs_np, axis=1)[0].
  const g::Tensor probs_host = probs.cpu();
  const auto probs_np = probs_host.eigen<float>();
  Eigen::Index pred_class = 0;
  probs_np.row(0).maxCoeff(&pred_class);
  const std::array<const char*, kChannels> classes = {"red", "green", "blue"};
  std::cout << "predicted class (argmax on the Eigen side): " << classes[pred_class] << "\n";
  std::cout << "graft's own argmax agrees: " << classes[probs.argmax(1).item<int64_t>()] << "\n";
}

// "Tensors on the GPU that need gradients are PyTorch's world; host arrays are NumPy's."
// Crossing is explicit, and crossing wrongly is an error that says what to do, like
// PyTorch's "can't convert cuda:0 device type tensor to numpy".
void know_your_world() {
  section("5. know which world you are in");
  const g::Tensor t = g::ones({2, 2});
  try {
    std::cout << t.to(g::kCUDA).eigen<float>() << "\n";
  } catch (const g::Error& e) {
    std::cout << "t.to(kCUDA).eigen<float>():\n  " << e.what() << "\n";
  }
  try {
    std::cout << t.eigen<double>() << "\n";
  } catch (const g::Error& e) {
    std::cout << "t.eigen<double>() on a float32 tensor:\n  " << e.what() << "\n";
  }
}

}  // namespace

int main() {
  numpy_style_api();
  same_semantics();
  zero_copy();
  image_round_trip();
  know_your_world();
}
