# The bare-metal image build (VIGIL_FREESTANDING=ON, toolchain-x86_64-elf.cmake).
enable_language(ASM)

if(NOT VIGIL_NEWLIB_PREFIX OR NOT EXISTS ${VIGIL_NEWLIB_PREFIX}/x86_64-elf/lib/libc.a)
  message(FATAL_ERROR "vigil image: newlib not found under '${VIGIL_NEWLIB_PREFIX}' (configure from the top-level build)")
endif()
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=include
  OUTPUT_VARIABLE VIGIL_GCC_INCLUDE OUTPUT_STRIP_TRAILING_WHITESPACE)
execute_process(COMMAND ${CMAKE_C_COMPILER} -m64 -print-libgcc-file-name
  OUTPUT_VARIABLE VIGIL_LIBGCC OUTPUT_STRIP_TRAILING_WHITESPACE)

set(VIGIL_IMAGE_SOURCES
  arch/x86_64/boot.S
  arch/x86_64/exception_stubs.S
  arch/x86_64/descriptors.c
  arch/x86_64/exception.c
  arch/x86_64/exception_report.c
  arch/x86_64/vmx_capability.c
  arch/x86_64/cpu_access.c
  drivers/uart16550/uart16550.c
  drivers/uart16550/uart16550_portio.c
  drivers/acpi/acpi_tables.c
  drivers/acpi/acpi_power.c
  drivers/acpi/acpi_madt.c
  arch/x86_64/vmx.c
  arch/x86_64/vmx_exit_reasons.c
  arch/x86_64/vmx_entry.S
  arch/x86_64/ept.c
  arch/x86_64/paging.c
  drivers/pit/pit.c
  hv/main.c
  hv/acpi_report.c
  hv/tsc_calibration.c
  drivers/tsc/tsc_frequency.c
  drivers/acpi/acpi_pm_timer.c
  hv/vcpu.c
  hv/vcpu_registers.c
  hv/guest_lifecycle.c
  hv/vcpu_run.c
  hv/guest_state_dump.c
  hv/vmexit.c
  hv/vmexit_statistics.c
  hv/vmexit_handlers.c
  hv/vmexit_io.c
  hv/vmexit_msr.c
  hv/vmexit_cr.c
  hv/event_injection.c
  hv/msr_policy.c
  hv/apic_trap.c
  hv/guest_paging.c
  hv/mmio_decode.c
  hv/io_policy.c
  hv/cpuid_policy.c
  hv/apic_filter.c
  hv/guest_state.c
  hv/vmexit_cpu_events.c
  hv/timer.c
  hv/clock.c
  hv/idle.c
  hv/service.c
  hv/operator_console.c
  hv/console/commands.c
  hv/console/console.c
  hv/console/json_reader.c
  hv/console/json_writer.c
  hv/console/line_editor.c
  hv/console/output.c
  hv/console/parse_human.c
  hv/console/parse_json.c
  hv/console/pending.c
  hv/console/unicode_text.c
  hv/console/base64.c
  hv/console/commands_lifecycle.c
  hv/guest_life.c
  hv/audit_log.c
  hv/exec_allowlist.c
  hv/rate_limit.c
  hv/recovery_policy.c
  hv/guest_life_options.c
  hv/guest_recovery.c
  guest-svc/host/guest_service.c
  guest-svc/host/events.c
  guest-svc/host/mailbox.c
  guest-svc/host/mailbox_receive.c
  guest-svc/host/service_state.c
  guest-svc/host/operations.c
  guest-svc/host/status_names.c
  guest-svc/host/heartbeat_monitor.c
  drivers/rtc/rtc.c
  hv/guest_launch.c
  hv/guest_elf.c
  hv/guest_elf_parse.c
  hv/guest_multiboot.c
  hv/guest_memory_map.c
  hv/guest_modules.c
  hv/guest_linux.c
  hv/guest_linux_boot.c
  hv/guest_layout.c
  lib/page_pool.c
  lib/sha256.c
  lib/format.c
  lib/text_builder.c
  hv/log.c
  hv/panic.c
  hv/cmdline.c
  hv/cmdline_text.c
  lib/memmap.c
  hv/multiboot.c
  hv/multiboot1.c
  hv/multiboot2.c
  hv/multiboot_reader.c
)
option(VIGIL_BENCH_EMPTY_DISPATCH "empty-handler dispatch for tools/bench (never for use)" OFF)
if(VIGIL_BENCH_EMPTY_DISPATCH)
  list(APPEND VIGIL_IMAGE_SOURCES hv/bench_empty_dispatch.c)
endif()
include(${VIGIL_SOURCE_DIR}/cmake/layers.cmake)

# Options every object of the image is compiled with.
add_library(vigil_image_options INTERFACE)
target_compile_definitions(vigil_image_options INTERFACE VIGIL_VERSION="${PROJECT_VERSION}"
  $<$<BOOL:${VIGIL_BENCH_EMPTY_DISPATCH}>:VIGIL_BENCH_EMPTY_DISPATCH=1>)
target_compile_options(vigil_image_options INTERFACE
  $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Werror -nostdinc "SHELL:-isystem ${VIGIL_NEWLIB_PREFIX}/x86_64-elf/include" "SHELL:-isystem ${VIGIL_GCC_INCLUDE}">)

# Offsets the exit stub needs from C structs (Jailhouse asm-defines technique):
# asm_offsets.c compiled to assembly only (-S: the "object" is assembly text),
# then cmake/asm-offsets.cmake extracts "=>NAME VALUE" into asm_offsets.h.
set(VIGIL_GENERATED_INCLUDE ${CMAKE_CURRENT_BINARY_DIR}/generated)
vigil_layer_includes(arch VIGIL_ARCH_INCLUDES)
add_library(vigil_asm_offsets OBJECT ${VIGIL_SOURCE_DIR}/arch/x86_64/asm_offsets.c)
target_include_directories(vigil_asm_offsets PRIVATE ${VIGIL_ARCH_INCLUDES})
target_link_libraries(vigil_asm_offsets PRIVATE vigil_image_options)
target_compile_options(vigil_asm_offsets PRIVATE -S)
set(VIGIL_ASM_OFFSETS_HEADER ${VIGIL_GENERATED_INCLUDE}/arch/x86_64/asm_offsets.h)
add_custom_command(OUTPUT ${VIGIL_ASM_OFFSETS_HEADER}
  COMMAND ${CMAKE_COMMAND} -DINPUT=$<TARGET_OBJECTS:vigil_asm_offsets> -DOUTPUT=${VIGIL_ASM_OFFSETS_HEADER}
          -P ${VIGIL_SOURCE_DIR}/cmake/asm-offsets.cmake
  DEPENDS vigil_asm_offsets $<TARGET_OBJECTS:vigil_asm_offsets> ${VIGIL_SOURCE_DIR}/cmake/asm-offsets.cmake
  COMMENT "Generating asm_offsets.h from offsetof"
  VERBATIM)

# One object library per layer (cmake/layers.txt), each seeing only its include
# view: a wrong-way include does not compile.
set(VIGIL_IMAGE_LAYERS "")
foreach(source IN LISTS VIGIL_IMAGE_SOURCES)
  vigil_layer_of(${source} layer)
  if(NOT layer)
    message(FATAL_ERROR "vigil image: ${source} is in no layer of cmake/layers.txt")
  endif()
  if(NOT layer IN_LIST VIGIL_IMAGE_LAYERS)
    list(APPEND VIGIL_IMAGE_LAYERS ${layer})
  endif()
  list(APPEND VIGIL_IMAGE_SOURCES_${layer} ${VIGIL_SOURCE_DIR}/${source})
endforeach()
foreach(layer IN LISTS VIGIL_IMAGE_LAYERS)
  string(REPLACE "-" "_" target vigil_layer_${layer})
  add_library(${target} OBJECT ${VIGIL_IMAGE_SOURCES_${layer}})
  vigil_layer_includes(${layer} includes)
  target_include_directories(${target} PRIVATE ${includes})
  target_link_libraries(${target} PRIVATE vigil_image_options)
  list(APPEND VIGIL_IMAGE_OBJECTS $<TARGET_OBJECTS:${target}>)
endforeach()
target_sources(vigil_layer_arch PRIVATE ${VIGIL_ASM_OFFSETS_HEADER})
target_include_directories(vigil_layer_arch PRIVATE ${VIGIL_GENERATED_INCLUDE})

add_executable(vigil.elf ${VIGIL_IMAGE_OBJECTS})
# Benchmark variant (ExternalProject image-bench in superbuild-image.cmake): VMCALL,
# CPUID and the doorbell OUT only advance RIP (hv/bench_hooks.h), output
# vigil-empty-dispatch.elf, no test guests. tools/bench compares it with vigil.elf.
if(VIGIL_BENCH_EMPTY_DISPATCH)
  set_target_properties(vigil.elf PROPERTIES OUTPUT_NAME vigil-empty-dispatch.elf)
endif()
set(VIGIL_LINKER_SCRIPT ${VIGIL_SOURCE_DIR}/arch/x86_64/linker.ld)
target_link_options(vigil.elf PRIVATE -T ${VIGIL_LINKER_SCRIPT} -Wl,-Map,${CMAKE_CURRENT_BINARY_DIR}/vigil.map)
set_target_properties(vigil.elf PROPERTIES LINK_DEPENDS ${VIGIL_LINKER_SCRIPT}
  RUNTIME_OUTPUT_DIRECTORY ${VIGIL_OUTPUT_DIR})
target_link_libraries(vigil.elf PRIVATE ${VIGIL_NEWLIB_PREFIX}/x86_64-elf/lib/libc.a ${VIGIL_LIBGCC})

find_program(VIGIL_OBJDUMP objdump REQUIRED)
add_custom_command(TARGET vigil.elf POST_BUILD
  COMMAND ${CMAKE_COMMAND} -DIMAGE=$<TARGET_FILE:vigil.elf> -DOBJDUMP=${VIGIL_OBJDUMP} -P ${VIGIL_SOURCE_DIR}/cmake/check-no-simd.cmake
  COMMENT "Checking vigil.elf for SSE/AVX instructions")
if(NOT VIGIL_BENCH_EMPTY_DISPATCH)
  add_subdirectory(${VIGIL_SOURCE_DIR}/tests/guests ${CMAKE_CURRENT_BINARY_DIR}/guests)
endif()
