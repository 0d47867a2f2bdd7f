// A program of core/ alone: every object of libgraft_core.a and nothing above it, so that
// it links proves core/ calls no upper layer directly. Run by ctest, it checks what a
// program without graft::graft sees: CPU memory works, and whatever needs an upper layer
// (a view, which autograd records; CUDA memory, which kernels/ allocates) is a graft::Error
// naming both ways out, never a call through a null hook.
#include <functional>
#include <iostream>
#include <string>

#include "graft/core/error.h"
#include "graft/core/tensor.h"

namespace {
// True when `use` throws a graft::Error that names graft::graft and graft::init().
bool refused(const char* what, const std::function<void()>& use) {
  try {
    use();
  } catch (const graft::Error& e) {
    const std::string message = e.what();
    if (message.find("graft::graft") != std::string::npos &&
        message.find("graft::init()") != std::string::npos)
      return true;
    std::cerr << what << ": the error does not say how to install the hooks: " << message << "\n";
    return false;
  }
  std::cerr << what << ": worked without the upper layers' hooks\n";
  return false;
}
}  // namespace

int main() {
  namespace g = graft;
  const g::Tensor t = g::empty({2, 3});
  const bool views = refused("view", [&] { (void)t.view({3, 2}); });
  const bool cuda = refused("CUDA memory", [] { (void)g::empty({2}, g::Device::cuda()); });
  if (!views || !cuda) return 1;
  std::cout << "core alone: CPU memory works; views and CUDA memory ask for graft::init()\n";
  return 0;
}
