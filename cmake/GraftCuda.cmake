# The CUDA backend (kernels/cuda/). GRAFT_CUDA=ON builds it (for CMAKE_CUDA_ARCHITECTURES,
# default: the visible GPU's, else every architecture CUDA 13 targets); AUTO builds it only
# when nvcc is found *and* a GPU is visible, for that GPU alone, so that a newcomer without
# a GPU does not wait a quarter of an hour for kernels nothing can run (five architectures
# took about 17 minutes of a fresh `scripts/run.sh` on 2 cores); OFF skips it. Without it,
# kernels/no_cuda/ supplies graft::cuda's answers for a machine with no backend.
include(CheckLanguage)

# The compute capability of the first visible GPU as CMake spells it ("90"), or empty.
function(graft_visible_gpu_architecture out)
  set(arch "")
  find_program(GRAFT_NVIDIA_SMI nvidia-smi)
  if(GRAFT_NVIDIA_SMI)
    execute_process(COMMAND ${GRAFT_NVIDIA_SMI} --query-gpu=compute_cap --format=csv,noheader
                    OUTPUT_VARIABLE caps RESULT_VARIABLE failed ERROR_QUIET
                    OUTPUT_STRIP_TRAILING_WHITESPACE TIMEOUT 20)
    if(NOT failed AND caps MATCHES "^([0-9]+)\\.([0-9]+)")
      set(arch "${CMAKE_MATCH_1}${CMAKE_MATCH_2}")
    endif()
  endif()
  set(${out} "${arch}" PARENT_SCOPE)
endfunction()

set(GRAFT_HAS_CUDA OFF)
if(GRAFT_CUDA STREQUAL "ON" OR GRAFT_CUDA STREQUAL "AUTO")
  check_language(CUDA)
  graft_visible_gpu_architecture(graft_gpu_arch)
  if(NOT CMAKE_CUDA_COMPILER)
    if(GRAFT_CUDA STREQUAL "ON")
      message(FATAL_ERROR "GRAFT_CUDA=ON but no CUDA compiler (nvcc) was found")
    endif()
  elseif(GRAFT_CUDA STREQUAL "ON" OR graft_gpu_arch)
    set(GRAFT_HAS_CUDA ON)
  else()
    message(STATUS "graft: nvcc found but no GPU visible (nvidia-smi): skipping the CUDA "
                   "backend; -DGRAFT_CUDA=ON builds it anyway")
  endif()
endif()
message(STATUS "graft: CUDA backend ${GRAFT_HAS_CUDA}")

if(GRAFT_HAS_CUDA)
  # CUDA 13 targets sm_75 and newer; `native` would need a visible GPU, which CI lacks.
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    if(graft_gpu_arch)
      set(CMAKE_CUDA_ARCHITECTURES ${graft_gpu_arch})
    else()
      set(CMAKE_CUDA_ARCHITECTURES 75 80 86 89 90)
    endif()
  endif()
  message(STATUS "graft: CUDA architectures ${CMAKE_CUDA_ARCHITECTURES}")
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  # CMake 3.25 knows nvcc's dialect flags only up to C++17, and would otherwise derive a
  # C++20 requirement it cannot meet. Ask for 17 with an empty flag and pass -std=c++20
  # ourselves (graft_add_cuda_backend).
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA17_STANDARD_COMPILE_OPTION "")
  set(CMAKE_CUDA17_EXTENSION_COMPILE_OPTION "")
endif()

# nvcc's options for a target's .cu sources (the library's, and cuda_bench's): C++20, which
# CMake 3.25 cannot ask nvcc for (above), constexpr calls across host and device, and the
# host compiler's warnings.
function(graft_cuda_options target)
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:-std=c++20 --expt-relaxed-constexpr -Xcompiler=-Wall,-Wextra,-Wno-unused-parameter>
    $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${GRAFT_WARNINGS_AS_ERRORS}>>:-Werror=all-warnings>)
endfunction()

function(graft_add_cuda_backend target)
  if(NOT GRAFT_HAS_CUDA)
    file(GLOB no_cuda_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kernels/no_cuda/*.cpp)
    target_sources(${target} PRIVATE ${no_cuda_sources})
    return()
  endif()
  file(GLOB cuda_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kernels/cuda/*.cu
                                           ${PROJECT_SOURCE_DIR}/kernels/cuda/*.cpp)
  target_sources(${target} PRIVATE ${cuda_sources})
  graft_cuda_options(${target})
  # PUBLIC: kernels/dispatch.h tests it. The CUDA libraries are PRIVATE: no header of graft
  # includes CUDA's, so only the link needs them.
  target_compile_definitions(${target} PUBLIC GRAFT_HAS_CUDA)
  target_link_libraries(${target} PRIVATE CUDA::cudart CUDA::cublas)
endfunction()
