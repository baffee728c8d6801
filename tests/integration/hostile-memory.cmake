# Memory isolation (docs/security.md "Memory isolation"): vigil lives at the top
# of RAM below 4 GiB; hostile guests go for its pages there and must be stopped by
# EPT with a clear reason while vigil stays in control; ordinary guests linked
# where vigil used to be run and see a PC's memory.
# Included from tests/integration/CMakeLists.txt (RUN_BOCHS, GUESTS, IMAGE,
# vigil_integration_test come from there).
#
# Addresses: with --megs 256 the Bochs BIOS reports RAM up to 0xfff0000 (ACPI
# tables above); at-vigil-symbol computes where vigil's symbols land after the
# move from vigil.elf, as an attacker with the binary would.
set(AT_VIGIL_SYMBOL ${CMAKE_CURRENT_SOURCE_DIR}/at-vigil-symbol ${IMAGE} 0xfff0000 --)
set(HOSTILE_MEMORY_CPUS corei7_skylake_x corei7_icelake_u)

foreach(cpu IN LISTS HOSTILE_MEMORY_CPUS)
  # Read vigil's code (hv_main) where it now runs.
  vigil_integration_test(hostile-memory-read-code-${cpu}
    ${AT_VIGIL_SYMBOL} ${RUN_BOCHS} --timeout 120 --megs 256 --cpu ${cpu}
    --module "${GUESTS}/probe_hv_memory.elf:address=0x@hv_main@ access=read"
    --expect-guest "^probe: reading 0x@hv_main:8@"
    --reject-guest "probe: FAIL"
    --expect "vigil: image moved from 0x100000 to 0x"
    --expect "vigil: guest stopped: EPT violation: read at guest-physical 0x@hv_main@ "
    --expect "vigil: exits: total=[0-9]+ .*ept-violation=1"
    --expect "vigil: power off: the guest stopped")
endforeach()

# Write vigil's data (the Multiboot magic boot.S saved).
vigil_integration_test(hostile-memory-write-data
  ${AT_VIGIL_SYMBOL} ${RUN_BOCHS} --timeout 120 --megs 256
  --module "${GUESTS}/probe_hv_memory.elf:address=0x@boot_multiboot_magic@ access=write"
  --expect-guest "^probe: writing 0x@boot_multiboot_magic:8@"
  --reject-guest "probe: FAIL"
  --expect "vigil: guest stopped: EPT violation: write at guest-physical 0x@boot_multiboot_magic@ "
  --expect "vigil: power off: the guest stopped")

# Execute vigil's code.
vigil_integration_test(hostile-memory-execute-code
  ${AT_VIGIL_SYMBOL} ${RUN_BOCHS} --timeout 120 --megs 256
  --module "${GUESTS}/probe_hv_memory.elf:address=0x@hv_main@ access=execute"
  --expect-guest "^probe: executing at 0x@hv_main:8@"
  --reject-guest "probe: FAIL"
  --expect "vigil: guest stopped: EPT violation: instruction fetch at guest-physical 0x@hv_main@ "
  --expect "vigil: power off: the guest stopped")

# No binary at hand: the attacker reads the memory map and goes for the top page
# of the highest reserved range inside RAM (vigil's stacks and page tables).
vigil_integration_test(hostile-memory-scan
  ${AT_VIGIL_SYMBOL} ${RUN_BOCHS} --timeout 120 --megs 256
  --module "${GUESTS}/probe_hv_memory.elf:scan"
  --expect-guest "^probe: scan: reserved range 0x[0-9a-f]+, ends at 0x@__image_end@"
  --reject-guest "probe: FAIL"
  --expect "vigil: guest stopped: EPT violation: read at guest-physical 0x[0-9a-f]+000 "
  --expect "vigil: power off: the guest stopped")

# The page pool (EPT tables, VMCS) just as much: the highest 2 MiB-aligned block
# left below vigil, 0xfc00000 with 256 MiB.
vigil_integration_test(hostile-memory-read-page-pool
  ${RUN_BOCHS} --timeout 120 --megs 256 --module "${GUESTS}/probe_hv_memory.elf:address=0xfc00000"
  --expect "vigil: page pool 0xfc00000-0xfdfffff"
  --expect-guest "^probe: reading 0x0fc00000"
  --reject-guest "probe: FAIL"
  --expect "vigil: guest stopped: EPT violation: read at guest-physical 0xfc00000 "
  --expect "vigil: power off: the guest stopped")

# Guests linked at 1 MiB and at 32 KiB (where vigil and its boot information used
# to be) run, with mem_upper, the memory map and a 600-byte command line intact.
string(REPEAT "x" 560 HOSTILE_MEMORY_PAD)
set(HOSTILE_MEMORY_ARGS "min_upper_kib=200000 pad=${HOSTILE_MEMORY_PAD} end")
string(LENGTH "length=000 ${HOSTILE_MEMORY_ARGS}" HOSTILE_MEMORY_LENGTH)
foreach(at 1m 32k)
  vigil_integration_test(memory-layout-guest-at-${at}
    ${RUN_BOCHS} --timeout 120 --megs 256
    --module "${GUESTS}/memory_layout_${at}.elf:length=${HOSTILE_MEMORY_LENGTH} ${HOSTILE_MEMORY_ARGS}"
    --expect-guest "^memory-layout: cmdline ${HOSTILE_MEMORY_LENGTH} bytes"
    --expect-guest "^memory-layout: PASS"
    --reject-guest "FAIL"
    --expect "vigil: launching the guest"
    --expect "vigil: power off: guest powered off")
endforeach()

# A guest linked over vigil's new home is refused before launch.
vigil_integration_test(memory-refuse-guest-over-hypervisor
  ${RUN_BOCHS} --timeout 120 --megs 256 --module ${GUESTS}/overlaps_hypervisor.elf
  --expect "vigil: error: guest refused: .*hypervisor"
  --reject "vigil: launching the guest"
  --expect "vigil: power off: no guest to run")

# A stack overflow in vigil runs into the guard page below the stack: a clear
# report naming the stack, then the panic policy, never silent corruption.
vigil_integration_test(memory-stack-guard-page
  ${RUN_BOCHS} --timeout 60 --allow-panic --expect-stop --cmdline "console=com1 panic=poweroff selftest=stack-overflow"
  --expect "vigil: selftest: overflowing the boot stack"
  --expect "vigil: EXCEPTION #PF page fault \\(vector 14\\) error=0x2 .*cr2=0xffffffff8"
  --expect "vigil:   stack overflow: the boot stack ran into its guard page"
  --expect "vigil: panic policy: power off")

# ACPI tables lie in memory the guest owns: it rewrites them (PM1a moved, \_S5
# gone) and then asks for power-off. vigil powers off with what it read at start.
vigil_integration_test(memory-acpi-read-once
  ${RUN_BOCHS} --timeout 120 --module ${GUESTS}/acpi_rewrite.elf
  --expect "vigil: ACPI: FADT: PM1a control 0xb004"
  --expect-guest "^acpi-rewrite: tables rewritten \\(1 ._S5 renamed\\): PM1a now 0x1234, S5 no"
  --reject-guest "acpi-rewrite: FAIL"
  --expect "vigil: power off: guest powered off"
  --expect "vigil: ACPI S5: SLP_TYP 0/0 to PM1a 0xb004, PM1b 0x0 \\(values read at start\\)"
  --reject "power off failed")
