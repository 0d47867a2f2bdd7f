# graft_add_layer(<layer> [FOLDERS <folder>...] [DEPENDS <layer>...]): the static library
# graft_<layer> (graft::<layer>, exported so) of the .cpp files in FOLDERS (default: the
# folder named like the layer), linking PUBLIC the layers in DEPENDS, which must already
# exist: a layer can only be added above the ones it uses.
#
# The layer graph is recorded in the GRAFT_LAYERS global property, "<layer>:<dep>,<dep>"
# per layer, so that the install rules and the include-direction check (tests/layers/) read
# the one list written here instead of keeping their own.
function(graft_add_layer layer)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "FOLDERS;DEPENDS")
  if(NOT arg_FOLDERS)
    set(arg_FOLDERS ${layer})
  endif()
  set(globs "")
  foreach(folder IN LISTS arg_FOLDERS)
    list(APPEND globs ${PROJECT_SOURCE_DIR}/${folder}/*.cpp)
  endforeach()
  file(GLOB sources CONFIGURE_DEPENDS ${globs})
  add_library(graft_${layer} STATIC ${sources})
  add_library(graft::${layer} ALIAS graft_${layer})
  set_target_properties(graft_${layer} PROPERTIES EXPORT_NAME ${layer}
                                                  POSITION_INDEPENDENT_CODE ON)
  foreach(dep IN LISTS arg_DEPENDS)
    if(NOT TARGET graft_${dep})
      message(FATAL_ERROR "graft_add_layer(${layer}): layer '${dep}' is not added yet")
    endif()
    target_link_libraries(graft_${layer} PUBLIC graft_${dep})
  endforeach()
  graft_target_options(graft_${layer})
  list(JOIN arg_DEPENDS "," deps)
  set_property(GLOBAL APPEND PROPERTY GRAFT_LAYERS "${layer}:${deps}")
endfunction()
