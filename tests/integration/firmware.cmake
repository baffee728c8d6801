# build/vigil.iso under real firmware (issue 15): the hybrid image boots through
# GRUB on QEMU's SeaBIOS and on UEFI (Debian's OVMF) to the clear no-VT-x refusal,
# after the memory map and the ACPI summary (the MADT's CPU count: -smp 2 gives 2),
# and powers off by itself; under Bochs (VT-x) it boots its default entry into the
# agent guest, which registers, and the console's poweroff ends the run.
# Included from tests/integration/CMakeLists.txt (uses RUN_QEMU, RUN_BOCHS, ISO).

set(FIRMWARE_EXPECT
  --expect "^vigil [0-9.]+ \\(multiboot2, loader 'GRUB"
  --expect "vigil: ACPI: RSDP revision [0-9]+ at 0x[0-9a-f]+ from the boot loader's RSDP tag"
  --expect "vigil: ACPI: MADT: 2 CPUs enabled, APIC ids 0 1 "
  --expect "vigil: ACPI: FADT: PM1a control 0x[0-9a-f]+, .*PM timer 0x[1-9a-f][0-9a-f]*,"
  --expect "vigil: memory: [0-9]+ KiB RAM usable"
  --expect "vigil: VT-x not available: no VMX in CPUID"
  --expect "vigil: power off: no VT-x"
  --reject "vigil: warning: ACPI")

vigil_integration_test(firmware-qemu-seabios
  ${RUN_QEMU} --iso ${ISO} --bios seabios --smp 2 --timeout 90 ${FIRMWARE_EXPECT})
vigil_integration_test(firmware-qemu-ovmf
  ${RUN_QEMU} --iso ${ISO} --bios ovmf --smp 2 --timeout 120 ${FIRMWARE_EXPECT})

vigil_integration_test(firmware-bochs-agent
  ${RUN_BOCHS} --iso ${ISO} --cpus 2 --timeout 240
  --console-script ${CMAKE_CURRENT_SOURCE_DIR}/firmware-agent.script
  --expect "^vigil [0-9.]+ \\(multiboot2, loader 'GRUB"
  --expect "vigil: ACPI: MADT: 2 CPUs enabled, APIC ids 0 1 "
  --expect "vigil: ACPI: FADT: PM1a control 0x[0-9a-f]+, .*PM timer 0x[1-9a-f][0-9a-f]*,"
  --expect "vigil: power off")
set_tests_properties(integration.firmware-bochs-agent PROPERTIES TIMEOUT 300)

# tools/run-qemu --kvm names what the host lacks for nested VMX (fake /dev/kvm,
# /proc/cpuinfo and kvm_intel parameter files; no QEMU run).
add_test(NAME unit.run-qemu-kvm-check COMMAND ${Python3_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/run_qemu_kvm_check.py)
set_tests_properties(unit.run-qemu-kvm-check PROPERTIES LABELS unit TIMEOUT 30)
