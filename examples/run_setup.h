// What graft's training programs (graft-train, graft-gpt) settle the same way before a run:
// the device, the output folder, the autocast dtype, and an option that meets the checkpoint
// being resumed.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "graft/core/device.h"
#include "graft/core/dtype.h"
#include "graft/core/error.h"

namespace graft::examples {

// --device auto|cpu|cuda: auto is CUDA when graft::cuda::is_available(); cuda without it is
// an error saying why and what to use instead. In a distributed run (init_process_group done)
// each rank's GPU is cuda:(local rank % visible GPUs), the one its NCCL collectives use.
Device choose_device(const std::string& program, const std::string& choice);

// --amp: "bf16" and "fp16" name autocast's dtype; "none" (float32, no autocast) is nullopt.
std::optional<DType> amp_dtype(const std::string& amp);

// --out when given; else, resuming, the checkpoint's folder (the run carries on there); else
// a new runs/<prefix><UTC date-time>. The folder is created.
std::filesystem::path choose_out_folder(const std::string& out, const std::string& resume,
                                        const std::string& prefix);

// A setting of a resumed run: an option given on the command line must agree with the
// checkpoint (the run stays the one that was started); a new run takes the option or the
// default.
template <class T>
T reconcile(const std::string& program, const std::optional<T>& given, const T& saved,
            const T& fallback, bool resuming, const char* option) {
  if (!resuming) return given.value_or(fallback);
  if (given && *given != saved) {
    detail::fail(program, ": ", option, " ", *given, " but the checkpoint was trained with ", saved,
                 "; leave ", option, " out when resuming");
  }
  return saved;
}

}  // namespace graft::examples
