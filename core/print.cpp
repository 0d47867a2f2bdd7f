// operator<< for Tensor: the repr PyTorch prints, so graft output reads like a Python session.
//
// The rules are those of PyTorch's torch/_tensor_str.py under its default print options
// (4 decimals, 80 columns, 3 edge items, summarised above 1000 elements):
//   - one format serves every element of a tensor, chosen from the elements that are shown
//     (PyTorch's _Formatter): integer-valued floats print as `1.`; other floats with 4 fixed
//     decimals, or in scientific notation when the nonzero finite magnitudes span more than
//     1000x, exceed 1e8 or go below 1e-4; every element is padded to the widest one;
//   - rows nest under their opening bracket, dims beyond 2 are separated by blank lines, and
//     a long 1-D row wraps at 80 columns;
//   - above 1000 elements each dim shows its first and last 3 entries around `...`;
//   - suffixes name what the values cannot show: a device other than the CPU, a dtype other
//     than the defaults (float32, int64, bool), and the size of an empty tensor that is not
//     simply (0,). graft's dtype names print without PyTorch's `torch.` prefix.
// Values are read from a contiguous host copy, so views print their logical values and device
// tensors print after a copy to the CPU.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "graft/core/tensor.h"

namespace graft {
namespace {

constexpr int kPrecision = 4;
constexpr int64_t kLineWidth = 80;
constexpr int64_t kEdgeItems = 3;
constexpr int64_t kSummariseAbove = 1000;
constexpr int64_t kGap = -1;  // marks the `...` among the shown indices of a dim

// The indices of a dim of `size` that are printed, with kGap where `...` stands.
std::vector<int64_t> shown_indices(int64_t size, bool summarise) {
  std::vector<int64_t> out;
  const bool cut = summarise && size > 2 * kEdgeItems;
  for (int64_t i = 0; i < size; ++i) {
    if (cut && i == kEdgeItems) {
      out.push_back(kGap);
      i = size - kEdgeItems;
    }
    out.push_back(i);
  }
  return out;
}

// Flat indices (into the contiguous host copy) of every element that is printed.
void collect_shown(const Shape& shape, const Shape& strides, int64_t dim, int64_t offset,
                   bool summarise, std::vector<int64_t>& out) {
  if (dim == shape.size()) {
    out.push_back(offset);
    return;
  }
  for (int64_t i : shown_indices(shape[dim], summarise))
    if (i != kGap)
      collect_shown(shape, strides, dim + 1, offset + i * strides[dim], summarise, out);
}

// One double as Python's "{:.4f}" / "{:.4e}" write it (printf agrees, except for "-nan").
std::string format_double(double value, int precision, bool scientific) {
  if (std::isnan(value)) return "nan";
  char buffer[512];  // room for the 309 digits of %f on 1e308
  std::snprintf(buffer, sizeof buffer, scientific ? "%.*e" : "%.*f", precision, value);
  return buffer;
}

// Element `index` of a contiguous host tensor, converted to T.
template <class T>
T element(const Tensor& host, int64_t index) {
  return visit_dtype(host.dtype(), [&](auto tag) {
    return static_cast<T>(static_cast<const decltype(tag)*>(host.data_ptr())[index]);
  });
}

// The one format of a tensor's elements, chosen from the shown ones (PyTorch's _Formatter).
class Formatter {
 public:
  Formatter(const Tensor& host, const std::vector<int64_t>& shown) : host_(host) {
    if (!is_floating_point(host.dtype())) {
      for (int64_t i : shown) widen(unpadded(i));
      return;
    }
    std::vector<double> values;  // the nonzero finite ones decide the format
    for (int64_t i : shown) {
      const double v = element<double>(host, i);
      if (std::isfinite(v) && v != 0) values.push_back(v);
    }
    if (values.empty()) return;
    double lo = std::abs(values[0]), hi = lo;
    for (double v : values) {
      lo = std::min(lo, std::abs(v));
      hi = std::max(hi, std::abs(v));
      if (v != std::ceil(v)) int_mode_ = false;
    }
    sci_mode_ = hi / lo > 1000.0 || hi > 1.0e8 || (!int_mode_ && lo < 1.0e-4);
    for (double v : values) widen(format_float(v));
  }

  int64_t width() const { return width_; }

  // Element `index`, right-aligned to width().
  std::string format(int64_t index) const {
    const std::string s = unpadded(index);
    return std::string(std::max<int64_t>(width_ - static_cast<int64_t>(s.size()), 0), ' ') + s;
  }

 private:
  void widen(const std::string& s) { width_ = std::max<int64_t>(width_, s.size()); }

  std::string unpadded(int64_t index) const {
    if (host_.dtype() == kBool) return element<bool>(host_, index) ? "True" : "False";
    if (is_floating_point(host_.dtype())) return format_float(element<double>(host_, index));
    return std::to_string(element<int64_t>(host_, index));
  }

  std::string format_float(double v) const {
    if (sci_mode_ || !int_mode_) return format_double(v, kPrecision, sci_mode_);
    // The trailing '.' tells integer-valued floats from integers (nan and inf need no hint).
    return format_double(v, 0, false) + (std::isfinite(v) ? "." : "");
  }

  const Tensor& host_;
  bool int_mode_ = true;
  bool sci_mode_ = false;
  int64_t width_ = 1;
};

// parts[0] + separator + parts[1] + ..., built by appending: GCC 12 warns falsely
// (-Wrestrict) on chains of std::string operator+ once they are inlined.
std::string join(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += separator;
    out += parts[i];
  }
  return out;
}

std::string bracketed(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out = "[";
  out += join(parts, separator);
  out += ']';
  return out;
}

// The bracketed values of the sub-tensor at (dim, offset); `indent` is the column of its '['.
std::string values_str(const Formatter& f, const Shape& shape, const Shape& strides, int64_t dim,
                       int64_t offset, int64_t indent, bool summarise) {
  if (dim == shape.size()) return f.format(offset);
  const std::vector<int64_t> shown = shown_indices(shape[dim], summarise);
  if (dim == shape.size() - 1) {
    // A row: elements (and " ...") wrapped so that each line fits kLineWidth.
    const int64_t per_line = std::max<int64_t>(1, (kLineWidth - indent) / (f.width() + 2));
    std::vector<std::string> lines, line;
    for (int64_t i : shown) {
      line.push_back(i == kGap ? " ..." : f.format(offset + i * strides[dim]));
      if (static_cast<int64_t>(line.size()) == per_line) {
        lines.push_back(join(line, ", "));
        line.clear();
      }
    }
    if (!line.empty()) lines.push_back(join(line, ", "));
    return bracketed(lines, std::string(",\n").append(indent + 1, ' '));
  }
  std::vector<std::string> slices;
  for (int64_t i : shown)
    slices.push_back(i == kGap ? "..."
                               : values_str(f, shape, strides, dim + 1, offset + i * strides[dim],
                                            indent + 1, summarise));
  // Rows of a matrix on consecutive lines; each further dim adds a blank line between blocks.
  const int64_t breaks = shape.size() - dim - 1;
  return bracketed(slices, std::string(",").append(breaks, '\n').append(indent + 1, ' '));
}

// PyTorch's _add_suffixes: ", suffix" on the last line while it fits, else on a new line.
std::string add_suffixes(std::string body, const std::vector<std::string>& suffixes,
                         int64_t indent) {
  int64_t last_line = static_cast<int64_t>(body.size() - (body.rfind('\n') + 1)) + 2;
  for (const std::string& suffix : suffixes) {
    const int64_t n = static_cast<int64_t>(suffix.size());
    if (last_line + n + 2 > kLineWidth) {
      body += ",\n" + std::string(indent, ' ') + suffix;
      last_line = indent + n;
    } else {
      body += ", " + suffix;
      last_line += n + 2;
    }
  }
  return body + ")";
}

std::string repr(const Tensor& t) {
  const std::string prefix = "tensor(";
  const int64_t indent = static_cast<int64_t>(prefix.size());
  std::vector<std::string> suffixes;
  if (!t.is_cpu()) suffixes.push_back("device='" + t.device().str() + "'");
  std::string body;
  if (t.numel() == 0) {
    // No values to show the dtype or the shape, so the suffixes say them.
    if (t.dim() != 1) suffixes.push_back("size=" + t.shape().str());
    if (t.dtype() != get_default_dtype())
      suffixes.push_back(std::string("dtype=") + dtype_name(t.dtype()));
    body = "[]";
  } else {
    if (t.dtype() != get_default_dtype() && t.dtype() != kInt64 && t.dtype() != kBool)
      suffixes.push_back(std::string("dtype=") + dtype_name(t.dtype()));
    const Tensor host = detail::host_contiguous(t);
    const Shape strides = contiguous_strides(host.shape());
    const bool summarise = host.numel() > kSummariseAbove;
    std::vector<int64_t> shown;
    collect_shown(host.shape(), strides, 0, 0, summarise, shown);
    const Formatter formatter(host, shown);
    body = values_str(formatter, host.shape(), strides, 0, 0, indent, summarise);
  }
  return add_suffixes(prefix + body, suffixes, indent);
}

}  // namespace

std::ostream& operator<<(std::ostream& out, const Tensor& t) {
  return out << (t.defined() ? repr(t) : std::string("tensor(undefined)"));
}

}  // namespace graft
