# The bare-metal image, configured as its own CMake project with the x86_64-elf
# toolchain file, after newlib. Outputs land at the top of the build tree.
ExternalProject_Add(image
  SOURCE_DIR ${VIGIL_SOURCE_DIR}
  BINARY_DIR ${CMAKE_BINARY_DIR}/image
  CMAKE_GENERATOR Ninja
  CMAKE_ARGS
    -DVIGIL_FREESTANDING=ON
    -DCMAKE_TOOLCHAIN_FILE=${VIGIL_SOURCE_DIR}/cmake/toolchain-x86_64-elf.cmake
    -DCMAKE_BUILD_TYPE=RelWithDebInfo
    -DVIGIL_NEWLIB_PREFIX=${VIGIL_NEWLIB_PREFIX}
    -DVIGIL_OUTPUT_DIR=${CMAKE_BINARY_DIR}
  INSTALL_COMMAND ""
  BUILD_ALWAYS ON
  DEPENDS newlib
  BUILD_BYPRODUCTS ${CMAKE_BINARY_DIR}/vigil.elf)

# The benchmark variant with an empty-handler dispatch (tools/bench: dispatch
# overhead): build/bench/vigil-empty-dispatch.elf. Not in the default build;
# tools/bench builds it (cmake --build BUILD --target image-bench).
ExternalProject_Add(image-bench
  SOURCE_DIR ${VIGIL_SOURCE_DIR}
  BINARY_DIR ${CMAKE_BINARY_DIR}/image-bench
  CMAKE_GENERATOR Ninja
  CMAKE_ARGS
    -DVIGIL_FREESTANDING=ON
    -DCMAKE_TOOLCHAIN_FILE=${VIGIL_SOURCE_DIR}/cmake/toolchain-x86_64-elf.cmake
    -DCMAKE_BUILD_TYPE=RelWithDebInfo
    -DVIGIL_NEWLIB_PREFIX=${VIGIL_NEWLIB_PREFIX}
    -DVIGIL_OUTPUT_DIR=${CMAKE_BINARY_DIR}/bench
    -DVIGIL_BENCH_EMPTY_DISPATCH=ON
  INSTALL_COMMAND ""
  BUILD_ALWAYS ON
  EXCLUDE_FROM_ALL ON
  DEPENDS newlib
  BUILD_BYPRODUCTS ${CMAKE_BINARY_DIR}/bench/vigil-empty-dispatch.elf)

# build/vigil.iso: the hybrid BIOS + UEFI GRUB image (agent guest, and the Linux
# guest when built) for USB sticks, Bochs and the firmware tests. The script
# decides at build time whether the Linux entry exists, so the target always runs
# it; it calls tools/mkiso only when an input changed.
add_custom_target(iso ALL
  COMMAND ${CMAKE_COMMAND} -DVIGIL_SOURCE_DIR=${VIGIL_SOURCE_DIR} -DVIGIL_BINARY_DIR=${CMAKE_BINARY_DIR}
          -P ${VIGIL_SOURCE_DIR}/cmake/vigil-iso.cmake
  DEPENDS image
  BYPRODUCTS ${CMAKE_BINARY_DIR}/vigil.iso
  COMMENT "GRUB ISO build/vigil.iso")
