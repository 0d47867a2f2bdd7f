# `cmake --install` lays out headers, the layer libraries and graftConfig.cmake so that an
# outside project's find_package(graft) + target_link_libraries(app graft::graft) works; the
# layers are exported too (graft::core, graft::nn, ...), as graft::graft links them.
include(CMakePackageConfigHelpers)

get_property(graft_layers GLOBAL PROPERTY GRAFT_LAYERS)
set(graft_layer_targets "")
foreach(entry IN LISTS graft_layers)
  string(REGEX REPLACE ":.*" "" layer "${entry}")
  list(APPEND graft_layer_targets graft_${layer})
endforeach()
install(TARGETS graft ${graft_layer_targets} EXPORT graftTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_SOURCE_DIR}/include/graft/graft.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/graft)
# kernels/cuda/ has plain C++ headers (graft::cuda's runtime queries) that every build ships.
foreach(layer core kernels kernels/cpu kernels/cuda autograd io nn optim data distributed)
  file(GLOB layer_headers CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/${layer}/*.h)
  if(layer_headers)
    install(FILES ${layer_headers} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/graft/${layer})
  endif()
endforeach()
install(EXPORT graftTargets NAMESPACE graft:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/graft)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/graftConfig.cmake.in
  ${PROJECT_BINARY_DIR}/graftConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/graft)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/graftConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/graftConfig.cmake ${PROJECT_BINARY_DIR}/graftConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/graft)
