# cmake -P script behind the `iso` target: builds build/vigil.iso, the image for
# USB sticks and firmware tests (hybrid BIOS + UEFI, tools/mkiso). Its menu:
#   1. vigil with the reference agent guest (default, after 3 s)
#   2. vigil with the Linux guest, only when build/guest-linux holds one
#      (tools/guest-linux, `cmake --build --preset default --target guest-linux`)
# GRUB's menu is on COM1 and the screen, so a headless machine can choose.
# Inputs: VIGIL_SOURCE_DIR, VIGIL_BINARY_DIR. Rebuilds only when an input changed
# or the Linux guest appeared or went away.
set(iso ${VIGIL_BINARY_DIR}/vigil.iso)
set(kernel ${VIGIL_BINARY_DIR}/vigil.elf)
set(agent ${VIGIL_BINARY_DIR}/guests/agent.elf)
set(linux_dir ${VIGIL_BINARY_DIR}/guest-linux)
set(hv_cmdline "console=com1 panic=poweroff")

set(inputs ${kernel} ${agent} ${VIGIL_SOURCE_DIR}/tools/mkiso ${VIGIL_SOURCE_DIR}/boards/pc/grub.cfg.in
  ${CMAKE_CURRENT_LIST_FILE})
set(args --out ${iso} --kernel ${kernel} --serial --timeout 3
  --entry "vigil: agent guest" --cmdline "${hv_cmdline}" --module ${agent})
set(linux_state "no Linux guest")
if(EXISTS ${linux_dir}/bzImage AND EXISTS ${linux_dir}/initramfs.cpio AND EXISTS ${linux_dir}/cmdline)
  file(STRINGS ${linux_dir}/cmdline linux_cmdline LIMIT_COUNT 1)
  list(APPEND inputs ${linux_dir}/bzImage ${linux_dir}/initramfs.cpio ${linux_dir}/cmdline)
  list(APPEND args --entry "vigil: Linux guest" --cmdline "${hv_cmdline}"
    --module ${linux_dir}/bzImage --module-args "kernel ${linux_cmdline}"
    --module ${linux_dir}/initramfs.cpio --module-args "initrd")
  set(linux_state "Linux guest")
endif()

set(state_file ${VIGIL_BINARY_DIR}/vigil.iso.state)
set(old_state "")
if(EXISTS ${state_file})
  file(READ ${state_file} old_state)
endif()
set(stale FALSE)
if(NOT EXISTS ${iso} OR NOT old_state STREQUAL linux_state)
  set(stale TRUE)
endif()
foreach(input IN LISTS inputs)
  if(NOT EXISTS ${input})
    message(FATAL_ERROR "vigil.iso: input missing: ${input}")
  endif()
  if(${input} IS_NEWER_THAN ${iso})
    set(stale TRUE)
  endif()
endforeach()
if(NOT stale)
  return()
endif()
execute_process(COMMAND ${VIGIL_SOURCE_DIR}/tools/mkiso ${args} RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  file(REMOVE ${iso})
  message(FATAL_ERROR "vigil.iso: tools/mkiso failed")
endif()
file(WRITE ${state_file} "${linux_state}")
message(STATUS "build/vigil.iso: hybrid BIOS + UEFI, agent guest entry, ${linux_state}")
