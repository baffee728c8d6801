# Fails the build if the image contains any SSE/AVX register use.
# The hypervisor runs between guest instructions without saving the guest's
# XMM/YMM registers, so one stray movdqu (newlib's printf has them) corrupts the
# guest silently. Usage: cmake -DIMAGE=vigil.elf -DOBJDUMP=objdump -P check-no-simd.cmake
# Only .text is compiled code: .boot32 is boot.S's hand-written 32-bit entry, which
# objdump would decode as 64-bit code (its address constants then read as
# unpcklps and the like, depending on where the linker put things).
execute_process(COMMAND ${OBJDUMP} -d --no-show-raw-insn -j .text ${IMAGE}
  OUTPUT_VARIABLE disassembly RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "check-no-simd: objdump failed on ${IMAGE}")
endif()
string(REGEX MATCHALL "\n[0-9a-f]+ <[^>]+>:|%[xyz]mm[0-9]+" hits "${disassembly}")
set(function "")
set(offenders "")
foreach(hit IN LISTS hits)
  if(hit MATCHES "<([^>]+)>:")
    set(function ${CMAKE_MATCH_1})
  else()
    list(APPEND offenders ${function})
  endif()
endforeach()
if(offenders)
  list(REMOVE_DUPLICATES offenders)
  message(FATAL_ERROR "check-no-simd: ${IMAGE} uses SSE/AVX registers in: ${offenders}")
endif()
