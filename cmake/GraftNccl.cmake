# GRAFT_NCCL: whether graft::distributed exchanges CUDA tensors through NCCL (distributed/nccl/).
# It needs the CUDA backend (GRAFT_HAS_CUDA) and NCCL's header, which CUDA toolkits ship
# beside their own (elsewhere NVIDIA's libnccl-dev puts it in /usr/include). AUTO builds it
# when both are there, ON requires them, OFF leaves CUDA tensors an error in collectives.
# Nothing links NCCL's library: the backend opens libnccl.so.2 when the first collective on a
# CUDA tensor needs it (nccl_backend.cpp says why). Sets GRAFT_HAS_NCCL;
# graft_add_nccl_backend(<target>) adds the backend to the distributed layer.
set(GRAFT_NCCL AUTO CACHE STRING
  "Collectives on CUDA tensors through NCCL: AUTO (with the CUDA backend, when nccl.h is found), ON or OFF")
set_property(CACHE GRAFT_NCCL PROPERTY STRINGS AUTO ON OFF)

set(GRAFT_HAS_NCCL OFF)
if(NOT GRAFT_NCCL STREQUAL "OFF")
  if(GRAFT_HAS_CUDA)
    find_path(GRAFT_NCCL_INCLUDE_DIR nccl.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
  endif()
  if(GRAFT_HAS_CUDA AND GRAFT_NCCL_INCLUDE_DIR)
    set(GRAFT_HAS_NCCL ON)
  elseif(GRAFT_NCCL STREQUAL "ON")
    message(FATAL_ERROR "GRAFT_NCCL=ON needs the CUDA backend (GRAFT_CUDA) and NCCL's header "
                        "nccl.h (beside the CUDA toolkit's, or NVIDIA's libnccl-dev)")
  endif()
endif()
message(STATUS "graft: NCCL backend ${GRAFT_HAS_NCCL} (${GRAFT_NCCL_INCLUDE_DIR})")

function(graft_add_nccl_backend target)
  if(GRAFT_HAS_NCCL)
    target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/distributed/nccl/nccl_backend.cpp)
    # PRIVATE: NCCL's and CUDA's headers stay out of graft's public ones. The CUDA runtime
    # is the one the CUDA backend links already; dlopen is libc's (glibc 2.34 on).
    target_include_directories(${target} PRIVATE ${GRAFT_NCCL_INCLUDE_DIR})
    target_link_libraries(${target} PRIVATE CUDA::cudart ${CMAKE_DL_LIBS})
    target_compile_definitions(${target} PRIVATE GRAFT_HAS_NCCL=1)
  else()
    target_compile_definitions(${target} PRIVATE GRAFT_HAS_NCCL=0)
  endif()
endfunction()
