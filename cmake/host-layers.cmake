# Host builds of the layers that need no hardware, each compiled with only its
# include view (cmake/layers.cmake), so they build and are unit-tested on their
# own: lib/, and guest-svc/host/ on top of lib (no hv, no VMX).
include(${VIGIL_SOURCE_DIR}/cmake/layers.cmake)

set(VIGIL_LIB_SOURCES lib/format.c lib/text_builder.c lib/memmap.c lib/page_pool.c)
set(VIGIL_GUEST_SVC_HOST_SOURCES
  guest-svc/host/guest_service.c guest-svc/host/mailbox.c guest-svc/host/mailbox_receive.c guest-svc/host/operations.c guest-svc/host/service_state.c
  guest-svc/host/status_names.c guest-svc/host/heartbeat_monitor.c)

function(vigil_host_layer target layer)
  list(TRANSFORM ARGN PREPEND ${VIGIL_SOURCE_DIR}/ OUTPUT_VARIABLE sources)
  add_library(${target} STATIC ${sources})
  vigil_layer_includes(${layer} includes)
  target_include_directories(${target} PRIVATE ${includes})
  target_compile_definitions(${target} PRIVATE VIGIL_HOST_TEST=1)
endfunction()

vigil_host_layer(vigil_host_lib lib ${VIGIL_LIB_SOURCES})
vigil_host_layer(vigil_host_guest_svc guest-svc ${VIGIL_GUEST_SVC_HOST_SOURCES})
target_link_libraries(vigil_host_guest_svc PUBLIC vigil_host_lib)
