# The Python module (python/): GRAFT_PYTHON AUTO builds it when Python's development files
# and pybind11 are found (Debian: python3-dev, pybind11-dev), ON requires them, OFF skips it.
#
# pybind11 rather than nanobind: Debian ships it (pybind11-dev 2.10), so building and testing
# the module never reaches PyPI, and graft speaks DLPack and NumPy's buffers itself (the
# C++ DLPack layer, io/dlpack.h), which is what nanobind's ndarray would have added.
# Python is found with CMake's FindPython; scripts/common.sh points it at the interpreter
# Debian's NumPy and pytest belong to.
function(graft_add_python)
  if(GRAFT_PYTHON STREQUAL "OFF")
    return()
  endif()
  set(required "")
  if(GRAFT_PYTHON STREQUAL "ON")
    set(required REQUIRED)
  endif()
  find_package(Python 3.8 COMPONENTS Interpreter Development.Module ${required})
  if(Python_FOUND)
    set(PYBIND11_FINDPYTHON ON)
    find_package(pybind11 2.6 CONFIG ${required})
  endif()
  if(NOT Python_FOUND OR NOT pybind11_FOUND)
    message(STATUS "graft: Python module off (no Python development files or no pybind11; "
                   "apt-get install python3-dev pybind11-dev)")
    return()
  endif()
  message(STATUS "graft: Python module for ${Python_EXECUTABLE} (pybind11 ${pybind11_VERSION})")
  add_subdirectory(${PROJECT_SOURCE_DIR}/python ${PROJECT_BINARY_DIR}/python)
endfunction()
