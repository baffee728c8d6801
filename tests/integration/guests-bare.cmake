# The test guests (tests/guests/) booted bare — no vigil — under QEMU (-kernel loads
# their multiboot1 ELF32) and, for a few, Bochs (GRUB ISO, multiboot1). This tests the
# guests themselves: their output must be sane and they must power off cleanly.
# Included from tests/integration/CMakeLists.txt (uses RUN_QEMU, RUN_BOCHS and
# vigil_integration_test from there).
set(GUESTS ${CMAKE_BINARY_DIR}/guests)

# QEMU TCG has no hypervisor leaves and no VMX: VMCALL raises #UD there.
vigil_integration_test(guest-bare-hello-qemu
  ${RUN_QEMU} --no-hypervisor --kernel ${GUESTS}/hello.elf --timeout 60
  --cmdline "greeting=1"
  --expect-guest "^hello: starting \\(cmdline '.*greeting=1'\\)"
  --expect-guest "^hello: no vigil signature"
  --reject-guest "hello: (PASS|FAIL)"
  --expect-guest "^guest: power off")

# Bare, the probe reads and writes 0x100000 (its own RAM): the FAIL lines are the
# expected outcome here; under vigil the read never completes.
vigil_integration_test(guest-bare-probe-qemu
  ${RUN_QEMU} --no-hypervisor --kernel ${GUESTS}/probe_hv_memory.elf --timeout 60
  --expect-guest "^probe: memory map \\([0-9]+ bytes at 0x[0-9a-f]+\\):"
  --expect-guest "^probe:   0x0000000000100000-0x[0-9a-f]+ available \\(1\\)"
  --expect-guest "^probe: reading 0x00100000"
  --expect-guest "^probe: FAIL: read hypervisor memory at 0x00100000: 0x[0-9a-f]+"
  --expect-guest "^probe: FAIL: wrote hypervisor memory at 0x00100000"
  --expect-guest "^guest: power off")
vigil_integration_test(guest-bare-probe-address-qemu
  ${RUN_QEMU} --no-hypervisor --kernel ${GUESTS}/probe_hv_memory.elf --timeout 60
  --cmdline "address=0x200000"
  --expect-guest "^probe: reading 0x00200000"
  --expect-guest "^probe: FAIL: read hypervisor memory at 0x00200000"
  --expect-guest "^guest: power off")

# Bare, the triple fault resets the machine; with -no-reboot QEMU exits (no power off).
vigil_integration_test(guest-bare-triple-fault-qemu
  ${RUN_QEMU} --no-hypervisor --kernel ${GUESTS}/triple_fault.elf --timeout 60 --expect-stop
  --expect-guest "^triple-fault: loading an empty IDT and raising #BP$"
  --reject-guest "triple-fault: FAIL")

# QEMU TCG: no VMX in CPUID, hypervisor bit set; its MSRs accept anything (no #GP),
# it hangs on a reserved CR4 bit (the guest skips that check bare), VMCALL #UD.
vigil_integration_test(guest-bare-cpuid-msr-qemu
  ${RUN_QEMU} --no-hypervisor --kernel ${GUESTS}/cpuid_msr.elf --timeout 60
  --expect-guest "^cpuid-msr: ok: CPUID.1:ECX.VMX\\[bit 5\\] clear"
  --expect-guest "^cpuid-msr: (ok|FAIL): rdmsr IA32_VMX_BASIC"
  --expect-guest "^cpuid-msr: (ok|FAIL): wrmsr IA32_FEATURE_CONTROL"
  --expect-guest "^cpuid-msr: (ok|FAIL): rdmsr IA32_FEATURE_CONTROL"
  --expect-guest "^cpuid-msr: skip: setting CR4.VMXE"
  --expect-guest "^cpuid-msr: ok: VMXON raises #UD"
  --expect-guest "^cpuid-msr: FAIL: VMCALL 0xdead returns 0xffffffff \\(exception 6\\)"
  --expect-guest "^cpuid-msr: [0-9]+ check\\(s\\) failed"
  --reject-guest "cpuid-msr: PASS"
  --expect-guest "^guest: power off")

vigil_integration_test(guest-bare-exit-storm-qemu
  ${RUN_QEMU} --no-hypervisor --kernel ${GUESTS}/exit_storm.elf --timeout 60
  --cmdline "rounds=1000"
  --expect-guest "^exit-storm: vmcall rounds=1000 cycles=[0-9]+ per-round=[0-9]+ \\(faulted: #UD"
  --expect-guest "^exit-storm: doorbell rounds=1000 cycles=[0-9]+ per-round=[0-9]+$"
  --expect-guest "^exit-storm: cpuid rounds=1000 cycles=[0-9]+ per-round=[0-9]+$"
  --expect-guest "^exit-storm: baseline rounds=1000 cycles=[0-9]+ per-round=[0-9]+$"
  --expect-guest "^exit-storm: done$"
  --expect-guest "^guest: power off")
vigil_integration_test(guest-bare-exit-storm-default-qemu
  ${RUN_QEMU} --no-hypervisor --kernel ${GUESTS}/exit_storm.elf --timeout 60
  --expect-guest "^exit-storm: starting, rounds=10000$"
  --expect-guest "^exit-storm: done$"
  --expect-guest "^guest: power off")

# The reference agent (guest-svc/additions): without vigil, discovery fails at the
# signature and the agent powers off without registering or beating.
vigil_integration_test(guest-bare-agent-qemu
  ${RUN_QEMU} --no-hypervisor --kernel ${GUESTS}/agent.elf --timeout 60
  --cmdline "hostname=bare-agent period_ms=500"
  --expect-guest "^agent: starting \\(cmdline '.*hostname=bare-agent period_ms=500'\\)"
  --expect-guest "^agent: no vigil: no vigil signature in CPUID 0x40000000$"
  --reject-guest "agent: (registered|exec|registration failed)"
  --expect-guest "^guest: power off")

# Bochs: through GRUB (multiboot1 ISO); VMX is visible bare, so cpuid-msr fails the
# hiding checks by design — only the shape of its output is checked.
vigil_integration_test(guest-bare-hello-bochs
  ${RUN_BOCHS} --no-hypervisor --kernel ${GUESTS}/hello.elf --timeout 120
  --expect-guest "^hello: no vigil signature"
  --expect-guest "^guest: power off")
vigil_integration_test(guest-bare-cpuid-msr-bochs
  ${RUN_BOCHS} --no-hypervisor --kernel ${GUESTS}/cpuid_msr.elf --timeout 120
  --expect-guest "^cpuid-msr: FAIL: CPUID.1:ECX.VMX\\[bit 5\\] clear \\(VMX visible\\)"
  --expect-guest "^cpuid-msr: ok: wrmsr IA32_FEATURE_CONTROL \\(0x3A\\) = 5 raises #GP"
  --expect-guest "^cpuid-msr: FAIL: setting CR4.VMXE raises #GP \\(no fault"
  --expect-guest "^cpuid-msr: ok: VMXON raises #UD"
  --expect-guest "^guest: power off")
vigil_integration_test(guest-bare-triple-fault-bochs
  ${RUN_BOCHS} --no-hypervisor --kernel ${GUESTS}/triple_fault.elf --timeout 120 --expect-stop
  --expect-guest "^triple-fault: loading an empty IDT and raising #BP$"
  --reject-guest "triple-fault: FAIL")
