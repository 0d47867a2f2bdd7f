// graft::Error and the GRAFT_CHECK macro: the one way graft reports bad input.
//
// Every message names the op, the shapes / dtypes / devices involved and, when there
// is one, the fix, in the manner of PyTorch's messages. Messages are built only when a
// check fails, so a passing check costs one branch.
#pragma once

#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace graft {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// An allocator could not get the memory a tensor needs (PyTorch's torch.OutOfMemoryError):
// its own type so that a program can catch it and retry with a smaller batch. The message
// names the op (core/op_context.h), the tensor's dtype and shape, the size and the device.
class OutOfMemoryError : public Error {
 public:
  using Error::Error;
};

// An index past the end of a dimension (PyTorch's c10::IndexError): its own type so that
// Python sees an IndexError, which `for x in t` and `except IndexError` rely on.
class IndexError : public Error {
 public:
  using Error::Error;
};

namespace detail {

// Streams every argument into one string: make_message("got ", 3, " dims").
template <class... Args>
std::string make_message(const Args&... args) {
  std::ostringstream out;
  (out << ... << args);
  return out.str();
}

// "<op>(): index <index> is out of bounds for dimension <dim> with size <size>".
[[noreturn]] inline void fail_index(const char* op, int64_t index, int64_t dim, int64_t size) {
  throw IndexError(make_message(op, "(): index ", index, " is out of bounds for dimension ", dim,
                                " with size ", size));
}

template <class... Args>
[[noreturn]] void fail(const Args&... args) {
  throw Error(make_message(args...));
}

}  // namespace detail
}  // namespace graft

// GRAFT_CHECK(cond, "op(): message parts ", value, ...) throws graft::Error when cond is false.
#define GRAFT_CHECK(cond, ...)            \
  do {                                    \
    if (!(cond)) [[unlikely]]             \
      ::graft::detail::fail(__VA_ARGS__); \
  } while (false)
