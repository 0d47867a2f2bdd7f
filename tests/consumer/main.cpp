// A user's program: includes the umbrella header, links graft::graft, computes something
// small and checks the answer, so a broken install or add_subdirectory fails loudly.
#include <graft/graft.h>

#include <cmath>
#include <iostream>

int main() {
  namespace g = graft;
  Eigen::Matrix<float, 2, 3, Eigen::RowMajor> host;
  host << 1, 2, 3, 4, 5, 6;
  const g::Tensor x = g::from_eigen(host);  // a zero-copy view of `host`
  const g::Tensor bias = g::tensor({10.f, 20.f, 30.f});

  // sum over rows of (x + bias): (1+2+3 + 4+5+6) + 2 * (10+20+30) = 21 + 120 = 141
  const float got = (x + bias).sum().item<float>();
  if (std::abs(got - 141.f) > 1e-4f) {
    std::cerr << "consumer: expected 141, got " << got << "\n";
    return 1;
  }
  std::cout << "consumer: graft " << (x + bias).shape() << " sum = " << got << " (ok)\n";
  return 0;
}
