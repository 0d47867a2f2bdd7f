// Sharing memory with NumPy and any DLPack library: graft.from_numpy(a), t.numpy(),
// t.__dlpack__(), t.__dlpack_device__(), graft.from_dlpack(obj).
//
// Lifetimes: a tensor made from an array holds a reference to the array (released under the
// GIL when the tensor's storage dies); an array made from a tensor holds a copy of the
// tensor handle in a capsule set as the array's base. So either side can be dropped first.
//
// CUDA streams: graft queues its kernels on the legacy default stream. A consumer on that
// stream (DLPack's stream=1, or None) is ordered after graft's work already; for any other
// stream graft waits for its device to finish before handing the tensor over, which is
// always correct and costs one synchronisation.
#include <pybind11/numpy.h>

#include <string>

#include "bindings.h"

namespace graft::python {
namespace {

constexpr const char* kLegacyCapsule = "dltensor";
constexpr const char* kUsedLegacyCapsule = "used_dltensor";
constexpr const char* kVersionedCapsule = "dltensor_versioned";
constexpr const char* kUsedVersionedCapsule = "used_dltensor_versioned";

// A dtype's item size in bytes, read as the Python attribute: pybind11 2.10 (Debian 12's)
// reads the C struct's field, which NumPy 2 moved, and got a wrong size for every dtype there.
int64_t itemsize_of(const py::dtype& dt) { return dt.attr("itemsize").cast<int64_t>(); }

DType dtype_of_numpy(const py::dtype& dt) {
  const char kind = dt.attr("kind").cast<std::string>().at(0);
  const int64_t size = itemsize_of(dt);
  const bool native = dt.attr("isnative").cast<bool>();
  if (native) {
    if (kind == 'b' && size == 1) return kBool;
    if (kind == 'u' && size == 1) return kUInt8;
    if (kind == 'i' && size == 4) return kInt32;
    if (kind == 'i' && size == 8) return kInt64;
    if (kind == 'f' && size == 2) return kFloat16;
    if (kind == 'f' && size == 4) return kFloat32;
    if (kind == 'f' && size == 8) return kFloat64;
  }
  throw py::type_error("can't convert np.ndarray of type " +
                       py::str(static_cast<const py::handle&>(dt)).cast<std::string>() +
                       (native ? "" : " (non-native byte order)") +
                       ". The only supported types are: float64, float32, float16, int64, int32, "
                       "uint8, and bool.");
}

py::dtype numpy_dtype_of(DType dtype) {
  if (dtype == kBFloat16)
    throw py::type_error("NumPy has no bfloat16 type: convert first (t.to(graft.float32))");
  return py::dtype(std::string(dtype_name(dtype)));
}

// Drops a Python reference from whatever thread a tensor's storage dies on.
struct ReleaseWithGil {
  void operator()(py::object* object) const {
    if (!Py_IsInitialized()) return;  // at interpreter exit, Python has freed it already
    py::gil_scoped_acquire gil;
    delete object;
  }
};

Tensor from_numpy(const py::array& array, bool allow_negative_strides) {
  const DType dtype = dtype_of_numpy(array.dtype());
  const int64_t itemsize = itemsize_of(array.dtype());
  std::vector<int64_t> shape, strides;
  bool negative = false;
  for (py::ssize_t i = 0; i < array.ndim(); ++i) {
    shape.push_back(array.shape(i));
    const auto stride = array.strides(i);
    if (stride % itemsize != 0)
      throw py::value_error(
          "from_numpy(): the array's strides (in bytes) are not multiples of "
          "its item size; make a copy with numpy.ascontiguousarray first");
    negative = negative || (stride < 0 && array.shape(i) > 1);
    strides.push_back(stride / itemsize);
  }
  if (negative) {
    if (allow_negative_strides) {
      return from_numpy(py::module_::import("numpy").attr("ascontiguousarray")(array), false);
    }
    throw py::value_error(
        "At least one stride in the given numpy array is negative, and graft tensors cannot "
        "have negative strides. (Make a copy of the array with array.copy() first.)");
  }
  if (!array.writeable()) {
    // PyTorch's choice: share and warn, since graft tensors are always writable.
    if (PyErr_WarnEx(PyExc_UserWarning,
                     "The given NumPy array is not writable, and graft tensors are always "
                     "writable: writing through the tensor is undefined behaviour. Copy the "
                     "array (array.copy()) to protect its data.",
                     1) != 0)
      throw py::error_already_set();
  }
  std::shared_ptr<py::object> keep(new py::object(array), ReleaseWithGil());
  return from_blob(const_cast<void*>(array.data()), Shape(shape), Shape(strides),
                   TensorOptions(dtype), [keep](void*) mutable { keep.reset(); });
}

py::array to_numpy(const Tensor& t) {
  if (t.device().is_cuda())
    throw py::type_error("can't convert " + t.device().str() +
                         " device type tensor to numpy. Use Tensor.cpu() to copy the tensor to "
                         "host memory first.");
  if (t.requires_grad())
    throw Error(
        "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
        "instead.");
  const auto itemsize = element_size(t.dtype());
  std::vector<py::ssize_t> shape, strides;
  for (int64_t i = 0; i < t.dim(); ++i) {
    shape.push_back(t.size(i));
    strides.push_back(t.stride(i) * itemsize);
  }
  py::capsule owner(new Tensor(t), [](void* p) { delete static_cast<Tensor*>(p); });
  return py::array(numpy_dtype_of(t.dtype()), shape, strides, t.numel() ? t.data_ptr() : nullptr,
                   owner);
}

// ---- DLPack capsules (https://dmlc.github.io/dlpack/latest/python_spec.html)

template <class Managed>
void delete_unconsumed(PyObject* capsule, const char* name) {
  // A consumer renames the capsule when it takes the tensor over; otherwise it is ours to free.
  if (PyCapsule_IsValid(capsule, name)) {
    auto* managed = static_cast<Managed*>(PyCapsule_GetPointer(capsule, name));
    if (managed->deleter != nullptr) managed->deleter(managed);
  }
}

py::object to_capsule(const Tensor& t, bool versioned, bool copied) {
  if (versioned) {
    DLManagedTensorVersioned* managed = to_dlpack_versioned(t);
    if (copied) managed->flags |= DLPACK_FLAG_BITMASK_IS_COPIED;
    return py::reinterpret_steal<py::object>(PyCapsule_New(
        managed, kVersionedCapsule,
        [](PyObject* c) { delete_unconsumed<DLManagedTensorVersioned>(c, kVersionedCapsule); }));
  }
  return py::reinterpret_steal<py::object>(
      PyCapsule_New(to_dlpack(t), kLegacyCapsule,
                    [](PyObject* c) { delete_unconsumed<DLManagedTensor>(c, kLegacyCapsule); }));
}

Tensor from_capsule(py::handle capsule) {
  const char* name = PyCapsule_GetName(capsule.ptr());
  if (name == nullptr) throw py::error_already_set();
  const std::string label = name;
  if (label == kVersionedCapsule) {
    auto* managed =
        static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(capsule.ptr(), name));
    PyCapsule_SetName(capsule.ptr(), kUsedVersionedCapsule);  // ours now, even if refused
    return from_dlpack(managed);
  }
  if (label == kLegacyCapsule) {
    auto* managed = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), name));
    PyCapsule_SetName(capsule.ptr(), kUsedLegacyCapsule);
    return from_dlpack(managed);
  }
  throw py::value_error(
      "from_dlpack(): expected a DLPack capsule named 'dltensor' or "
      "'dltensor_versioned', got '" +
      label + "' (a capsule can be consumed only once)");
}

Device device_from_dlpack_pair(const py::tuple& device) {
  const auto type = device[0].cast<int>();
  const auto index = device[1].cast<int>();
  if (type == kDLCPU) return Device::cpu();
  if (type == kDLCUDA) return Device::cuda(index);
  throw py::buffer_error("graft tensors live on the CPU (1) or CUDA (2), not DLPack device type " +
                         std::to_string(type));
}

py::object dlpack(const Tensor& self, const py::object& stream, const py::object& max_version,
                  const py::object& dl_device, const py::object& copy) {
  if (self.requires_grad())
    throw Error("Can't export tensors that require gradient, use tensor.detach()");
  Tensor out = self;
  bool copied = false;
  if (!dl_device.is_none()) {
    const Device target = device_from_dlpack_pair(dl_device.cast<py::tuple>());
    if (!(target == self.device())) {
      if (!copy.is_none() && !copy.cast<bool>())
        throw py::buffer_error("__dlpack__(): the tensor is on " + self.device().str() + ", not " +
                               target.str() + ", and copy=False forbids a copy");
      out = self.to(target);
      copied = true;
    }
  }
  if (!copy.is_none() && copy.cast<bool>() && !copied) {
    out = self.clone();
    copied = true;
  }
  if (out.device().is_cuda() && !stream.is_none()) {
    const auto s = stream.cast<int64_t>();
    if (s != -1 && s != 1) cuda::synchronize();
  }
  const bool versioned =
      !max_version.is_none() && max_version.cast<py::tuple>()[0].cast<int>() >= 1;
  return to_capsule(out, versioned, copied);
}

}  // namespace

bool is_array(py::handle value) {
  return py::isinstance<py::array>(value) || py::hasattr(value, "__dlpack__");
}

Tensor borrow_array(py::handle array) {
  if (py::isinstance<py::array>(array))
    return from_numpy(py::reinterpret_borrow<py::array>(array), true);
  return py::module_::import("graft").attr("from_dlpack")(array).cast<Tensor>();
}

void bind_interop(py::module_& m) {
  m.def(
      "from_numpy",
      [](py::handle a) {
        // Strict, as torch.from_numpy: a list would become a temporary array to share with.
        if (!py::isinstance<py::array>(a))
          throw py::type_error("expected np.ndarray (got " +
                               py::str(py::type::of(a).attr("__name__")).cast<std::string>() + ")");
        return from_numpy(py::reinterpret_borrow<py::array>(a), false);
      },
      py::arg("ndarray"),
      "A tensor sharing the array's memory: writes through either are seen by the other.");
  auto tensor = py::reinterpret_borrow<py::class_<Tensor>>(m.attr("Tensor"));
  tensor.def(
      "numpy", [](const Tensor& t, bool force) { return to_numpy(force ? t.detach().cpu() : t); },
      py::arg("force") = false,
      "An array sharing the tensor's memory (CPU tensors only; .cpu() first otherwise); "
      "force=True detaches and copies to the host first, as torch's.");
  tensor.def(
      "__array__",
      [](const Tensor& t, const py::object& dtype) -> py::object {
        py::object a = to_numpy(t.detach().cpu());
        return dtype.is_none() ? a : a.attr("astype")(dtype);
      },
      py::arg("dtype") = py::none());
  tensor.def("__dlpack__", &dlpack, py::kw_only(), py::arg("stream") = py::none(),
             py::arg("max_version") = py::none(), py::arg("dl_device") = py::none(),
             py::arg("copy") = py::none());
  tensor.def("__dlpack_device__", [](const Tensor& t) {
    const DLDevice d = to_dlpack_device(t.device());
    return py::make_tuple(static_cast<int>(d.device_type), d.device_id);
  });
  m.def(
      "_from_dlpack_capsule", [](const py::capsule& c) { return from_capsule(c); },
      py::arg("capsule"));
}

}  // namespace graft::python
