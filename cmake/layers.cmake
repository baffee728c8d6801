# Include views for vigil's layers (cmake/layers.txt). Includes are written from
# the repository root ("hv/vmexit.h"); a layer's sources are compiled with only
# its view directory on the include path, which holds symlinks to its own
# directories and those of the layers below it. So an include of a layer above
# fails to compile: "fatal error: hv/log.h: No such file or directory".

file(STRINGS ${VIGIL_SOURCE_DIR}/cmake/layers.txt vigil_layer_lines REGEX "^[a-z-]+:")
foreach(line IN LISTS vigil_layer_lines)
  if(NOT line MATCHES "^([a-z-]+):([^|]*)\\|(.*)$")
    message(FATAL_ERROR "cmake/layers.txt: cannot read '${line}'")
  endif()
  set(layer ${CMAKE_MATCH_1})
  separate_arguments(VIGIL_LAYER_DIRECTORIES_${layer} UNIX_COMMAND "${CMAKE_MATCH_2}")
  separate_arguments(VIGIL_LAYER_ALLOWED_${layer} UNIX_COMMAND "${CMAKE_MATCH_3}")
endforeach()

# vigil_layer_includes(LAYER OUT): OUT = the include directories LAYER may see.
function(vigil_layer_includes layer out)
  if(NOT DEFINED VIGIL_LAYER_DIRECTORIES_${layer})
    message(FATAL_ERROR "vigil_layer_includes: no layer '${layer}' in cmake/layers.txt")
  endif()
  set(view ${CMAKE_BINARY_DIR}/layer-views/${layer})
  file(REMOVE_RECURSE ${view})
  foreach(visible IN ITEMS ${layer} ${VIGIL_LAYER_ALLOWED_${layer}})
    if(visible STREQUAL "abi")
      continue() # the public headers are included as <vigil/...>: their own directory below
    endif()
    foreach(directory IN LISTS VIGIL_LAYER_DIRECTORIES_${visible})
      get_filename_component(parent ${view}/${directory} DIRECTORY)
      file(MAKE_DIRECTORY ${parent})
      file(CREATE_LINK ${VIGIL_SOURCE_DIR}/${directory} ${view}/${directory} SYMBOLIC)
    endforeach()
  endforeach()
  set(${out} ${view} ${VIGIL_SOURCE_DIR}/guest-svc/include PARENT_SCOPE)
endfunction()

# vigil_layer_of(PATH OUT): OUT = the layer of a repository path (longest directory prefix), or "".
function(vigil_layer_of path out)
  set(best "")
  set(best_length -1)
  foreach(line IN LISTS vigil_layer_lines)
    string(REGEX MATCH "^[a-z-]+" layer "${line}")
    foreach(directory IN LISTS VIGIL_LAYER_DIRECTORIES_${layer})
      string(LENGTH "${directory}" length)
      string(FIND "${path}" "${directory}/" at)
      if(at EQUAL 0 AND length GREATER best_length)
        set(best ${layer})
        set(best_length ${length})
      endif()
    endforeach()
  endforeach()
  set(${out} "${best}" PARENT_SCOPE)
endfunction()
