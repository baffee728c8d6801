# newlib 3.3.0 from Debian's newlib-source, built once per build tree (DESIGN.md §7).
include(ExternalProject)

set(VIGIL_NEWLIB_TARBALL /usr/src/newlib/newlib-3.3.0.tar.xz CACHE FILEPATH "newlib source tarball")
if(NOT EXISTS ${VIGIL_NEWLIB_TARBALL})
  message(FATAL_ERROR "vigil: ${VIGIL_NEWLIB_TARBALL} is missing: run tools/deps (Debian package newlib-source)")
endif()

execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=include
  OUTPUT_VARIABLE VIGIL_GCC_INCLUDE OUTPUT_STRIP_TRAILING_WHITESPACE)
set(VIGIL_CROSS_BIN ${CMAKE_BINARY_DIR}/cross/bin)
configure_file(${CMAKE_CURRENT_LIST_DIR}/x86_64-elf-gcc.in ${VIGIL_CROSS_BIN}/x86_64-elf-gcc
  FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE @ONLY)
foreach(tool ar ranlib as ld nm objdump objcopy strip readelf)
  find_program(VIGIL_HOST_${tool} ${tool} REQUIRED)
  file(CREATE_LINK ${VIGIL_HOST_${tool}} ${VIGIL_CROSS_BIN}/x86_64-elf-${tool} SYMBOLIC)
endforeach()

set(VIGIL_NEWLIB_PREFIX ${CMAKE_BINARY_DIR}/newlib/install)
ExternalProject_Add(newlib
  URL ${VIGIL_NEWLIB_TARBALL}
  PREFIX ${CMAKE_BINARY_DIR}/newlib
  CONFIGURE_COMMAND ${CMAKE_COMMAND} -E env PATH=${VIGIL_CROSS_BIN}:$ENV{PATH}
    "CFLAGS_FOR_TARGET=-O2 -g"
    <SOURCE_DIR>/configure --target=x86_64-elf --prefix=${VIGIL_NEWLIB_PREFIX}
    --disable-multilib --disable-newlib-supplied-syscalls --disable-nls
    --enable-newlib-nano-malloc --enable-newlib-nano-formatted-io
  BUILD_COMMAND ${CMAKE_COMMAND} -E env PATH=${VIGIL_CROSS_BIN}:$ENV{PATH} make -j2 all-target-newlib
  INSTALL_COMMAND ${CMAKE_COMMAND} -E env PATH=${VIGIL_CROSS_BIN}:$ENV{PATH} make install-target-newlib
  LOG_CONFIGURE ON LOG_BUILD ON LOG_INSTALL ON LOG_OUTPUT_ON_FAILURE ON
  BUILD_BYPRODUCTS ${VIGIL_NEWLIB_PREFIX}/x86_64-elf/lib/libc.a)
