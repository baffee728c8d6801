# Bare-metal x86-64 with the host gcc in freestanding mode (DESIGN.md §4 stage 1).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(CMAKE_C_COMPILER gcc)
set(CMAKE_ASM_COMPILER gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

# -mgeneral-regs-only: the hypervisor must never touch the guest's SSE/AVX state.
set(VIGIL_FREESTANDING_FLAGS "-m64 -ffreestanding -fno-builtin-printf -mno-red-zone -mgeneral-regs-only -mcmodel=kernel -fno-pic -fno-pie -fno-stack-protector -fno-omit-frame-pointer -fno-strict-aliasing")
set(CMAKE_C_FLAGS_INIT "${VIGIL_FREESTANDING_FLAGS}")
set(CMAKE_ASM_FLAGS_INIT "-m64")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostdlib -static -no-pie -Wl,--build-id=none -Wl,-z,max-page-size=0x1000 -Wl,--no-warn-rwx-segments")
