// Names and promotion for graft's dtypes; see dtype.h.
#include "graft/core/dtype.h"

#include <algorithm>
#include <atomic>

namespace graft {

const char* dtype_name(DType dtype) {
  switch (dtype) {
    case kBool:
      return "bool";
    case kUInt8:
      return "uint8";
    case kInt32:
      return "int32";
    case kInt64:
      return "int64";
    case kFloat16:
      return "float16";
    case kBFloat16:
      return "bfloat16";
    case kFloat32:
      return "float32";
    case kFloat64:
      return "float64";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& out, DType dtype) { return out << dtype_name(dtype); }

namespace {
// Relaxed is enough: the value is the whole state, read and written in one piece.
std::atomic<DType> default_dtype_setting{kFloat32};
}  // namespace

DType get_default_dtype() { return default_dtype_setting.load(std::memory_order_relaxed); }

void set_default_dtype(DType dtype) {
  GRAFT_CHECK(is_floating_point(dtype),
              "set_default_dtype(): only floating-point types are supported as the default type, "
              "got ",
              dtype);
  default_dtype_setting.store(dtype, std::memory_order_relaxed);
}

namespace {

enum class Category : uint8_t { kBool, kInteger, kFloating };

Category category(DType dtype) {
  if (dtype == kBool) return Category::kBool;
  return is_floating_point(dtype) ? Category::kFloating : Category::kInteger;
}

// The dtype a lower-priority operand of category `c` brings in when it wins on category.
DType default_dtype(Category c) {
  switch (c) {
    case Category::kBool:
      return kBool;
    case Category::kInteger:
      return kInt64;
    case Category::kFloating:
      return get_default_dtype();
  }
  return get_default_dtype();
}

}  // namespace

DType result_type(std::initializer_list<Operand> operands) {
  // Promote within each priority level first, then let lower levels raise the category.
  bool seen[3] = {false, false, false};
  DType level[3] = {kBool, kBool, kBool};
  for (const Operand& op : operands) {
    auto i = static_cast<int>(op.kind);
    // 0-d tensors promote among themselves fully; plain numbers too (their dtype is
    // already the category default: int64, float64 -> treated as the category below).
    level[i] = seen[i] ? promote_types(level[i], op.dtype) : op.dtype;
    seen[i] = true;
  }
  DType result = kBool;
  bool have = false;
  for (int i = 2; i >= 0; --i) {
    if (!seen[i]) continue;
    if (!have) {
      // The highest level present decides the dtype; plain numbers use category defaults.
      result = i == static_cast<int>(OperandKind::kScalar) ? default_dtype(category(level[i]))
                                                           : level[i];
      have = true;
    } else if (category(level[i]) > category(result)) {
      result = i == static_cast<int>(OperandKind::kScalar) ? default_dtype(category(level[i]))
                                                           : level[i];
    }
  }
  return result;
}

}  // namespace graft
