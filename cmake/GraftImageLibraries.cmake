# graft-predict's image decoders (examples/image_file.cpp): libpng and libjpeg-turbo's
# TurboJPEG API, from Debian's libpng-dev and libturbojpeg0-dev (scripts/common.sh installs
# them). One interface target, graft_image_libraries, for the examples and the image fuzz
# target. TurboJPEG has no CMake package of its own in Debian 12, hence find_path/library.
include_guard(GLOBAL)

find_package(PNG REQUIRED)
find_path(GRAFT_TURBOJPEG_INCLUDE_DIR turbojpeg.h)
find_library(GRAFT_TURBOJPEG_LIBRARY turbojpeg)
if(NOT GRAFT_TURBOJPEG_INCLUDE_DIR OR NOT GRAFT_TURBOJPEG_LIBRARY)
  message(FATAL_ERROR "graft-predict reads JPEG files with libjpeg-turbo's TurboJPEG API, "
    "which was not found: install it (Debian: apt-get install libturbojpeg0-dev), or "
    "configure with -DGRAFT_BUILD_EXAMPLES=OFF -DGRAFT_BUILD_TESTS=OFF")
endif()

add_library(graft_image_libraries INTERFACE)
target_include_directories(graft_image_libraries INTERFACE ${GRAFT_TURBOJPEG_INCLUDE_DIR})
target_link_libraries(graft_image_libraries INTERFACE PNG::PNG ${GRAFT_TURBOJPEG_LIBRARY})
