# GRAFT_DISTRIBUTED: whether graft::distributed talks to other processes through MPI.
# AUTO uses MPI when find_package finds it (Debian: libopenmpi-dev), ON requires it, OFF
# leaves the layer a world of one. Sets GRAFT_HAS_MPI, which graftConfig.cmake and the
# tests read, and graft_add_mpi_backend(<target>) adds distributed/mpi/ to the layer.
set(GRAFT_HAS_MPI OFF)
# graft calls MPI's C API from C++ (MPI_CXX_SKIP_MPICXX: without the deprecated C++ bindings).
set(MPI_CXX_SKIP_MPICXX ON)
if(NOT GRAFT_DISTRIBUTED STREQUAL "OFF")
  if(GRAFT_DISTRIBUTED STREQUAL "ON")
    find_package(MPI REQUIRED COMPONENTS CXX)
  else()
    find_package(MPI QUIET COMPONENTS CXX)
  endif()
  if(MPI_CXX_FOUND)
    set(GRAFT_HAS_MPI ON)
  endif()
endif()
message(STATUS "graft: distributed backend ${GRAFT_HAS_MPI} (MPI ${MPI_CXX_VERSION})")

function(graft_add_mpi_backend target)
  if(GRAFT_HAS_MPI)
    target_sources(${target} PRIVATE ${PROJECT_SOURCE_DIR}/distributed/mpi/mpi_backend.cpp)
    # PRIVATE: MPI's headers stay out of graft's public ones; the static library's users
    # still link it (graftConfig.cmake finds it for them).
    target_link_libraries(${target} PRIVATE MPI::MPI_CXX)
    target_compile_definitions(${target} PRIVATE GRAFT_HAS_MPI=1)
  else()
    target_compile_definitions(${target} PRIVATE GRAFT_HAS_MPI=0)
  endif()
endfunction()
