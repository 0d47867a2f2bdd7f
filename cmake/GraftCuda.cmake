# The CUDA backend (kernels/cuda/): built when GRAFT_CUDA is ON, or AUTO and nvcc is found.
# Without it, kernels/no_cuda/ supplies graft::cuda's answers for a machine with no backend.
include(CheckLanguage)
set(GRAFT_HAS_CUDA OFF)
if(GRAFT_CUDA STREQUAL "ON" OR GRAFT_CUDA STREQUAL "AUTO")
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(GRAFT_HAS_CUDA ON)
  elseif(GRAFT_CUDA STREQUAL "ON")
    message(FATAL_ERROR "GRAFT_CUDA=ON but no CUDA compiler (nvcc) was found")
  endif()
endif()
message(STATUS "graft: CUDA backend ${GRAFT_HAS_CUDA}")

if(GRAFT_HAS_CUDA)
  # CUDA 13 targets sm_75 and newer; `native` would need a visible GPU, which CI lacks.
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES 75 80 86 89 90)
  endif()
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  # CMake 3.25 knows nvcc's dialect flags only up to C++17, and would otherwise derive a
  # C++20 requirement it cannot meet. Ask for 17 with an empty flag and pass -std=c++20
  # ourselves (graft_add_cuda_backend).
  set(CMAKE_CUDA_STANDARD 17)
  set(CMAKE_CUDA17_STANDARD_COMPILE_OPTION "")
  set(CMAKE_CUDA17_EXTENSION_COMPILE_OPTION "")
endif()

function(graft_add_cuda_backend target)
  if(NOT GRAFT_HAS_CUDA)
    file(GLOB no_cuda_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kernels/no_cuda/*.cpp)
    target_sources(${target} PRIVATE ${no_cuda_sources})
    return()
  endif()
  file(GLOB cuda_sources CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/kernels/cuda/*.cu
                                           ${PROJECT_SOURCE_DIR}/kernels/cuda/*.cpp)
  target_sources(${target} PRIVATE ${cuda_sources})
  target_compile_options(${target} PRIVATE
    $<$<COMPILE_LANGUAGE:CUDA>:-std=c++20 --expt-relaxed-constexpr -Xcompiler=-Wall,-Wextra,-Wno-unused-parameter>
    $<$<AND:$<COMPILE_LANGUAGE:CUDA>,$<BOOL:${GRAFT_WARNINGS_AS_ERRORS}>>:-Werror=all-warnings>)
  target_compile_definitions(${target} PUBLIC GRAFT_HAS_CUDA)
  target_link_libraries(${target} PUBLIC CUDA::cudart CUDA::cublas)
endfunction()
