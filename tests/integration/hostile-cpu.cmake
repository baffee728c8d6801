# Hostile guests against vigil's CPU and device virtualization (issue 12, docs/security.md
# "CPU and devices"): one attack per run (tests/guests/hostile_cpu.c attack=NAME, or the
# agent for the TSC rewind); each asserts vigil saw the attack and stayed in control.
set(HOSTILE ${GUESTS}/hostile_cpu.elf)

vigil_integration_test(hostile-msr
  ${RUN_BOCHS} --timeout 120 --module ${HOSTILE}:attack=msr
  --reject-guest "hostile: FAIL"
  --expect-guest "^hostile: ok: wrmsr IA32_RTIT_CTL \\(Intel PT\\) raises #GP"
  --expect-guest "^hostile: ok: moving the APIC base raises #GP, base unchanged"
  --expect-guest "^hostile: PASS"
  --expect "vigil: msr exits: .*0x570 r=0 w=1 refused=1"
  --expect "vigil: power off: guest powered off")

vigil_integration_test(hostile-cpuid
  ${RUN_BOCHS} --timeout 120 --module ${HOSTILE}:attack=cpuid
  --reject-guest "hostile: FAIL"
  --expect-guest "^hostile: ok: CPUID.1:EBX one logical processor"
  --expect-guest "^hostile: ok: MWAIT raises #UD"
  --expect-guest "^hostile: PASS"
  --expect "vigil: warning: guest executed MONITOR at rip 0x[0-9a-f]+: injecting #UD"
  --expect "vigil: power off: guest powered off")

# A second CPU exists (Bochs --cpus 2); the guest tries to start it outside VMX.
vigil_integration_test(hostile-x2apic-sipi
  ${RUN_BOCHS} --timeout 120 --cpus 2 --module ${HOSTILE}:attack=x2apic-sipi
  --reject-guest "hostile: FAIL"
  --expect-guest "^hostile: ok: x2APIC INIT-SIPI-SIPI: the second CPU never ran"
  --expect "vigil: warning: guest IPI refused: ICR 0x10000c500"
  --expect "vigil: power off: guest powered off")

vigil_integration_test(hostile-xapic-sipi
  ${RUN_BOCHS} --timeout 120 --cpus 2 --module ${HOSTILE}:attack=xapic-sipi
  --reject-guest "hostile: FAIL"
  --expect "vigil: local APIC page 0xfee00000: guest writes trapped"
  --expect-guest "^hostile: ok: xAPIC INIT-SIPI-SIPI: the second CPU never ran"
  --expect "vigil: warning: guest IPI refused: ICR 0x10000000000c500"
  --expect "vigil: exits: total=[0-9]+ .*ept-violation=8 "
  --expect "vigil: power off: guest powered off")

vigil_integration_test(hostile-com1-wide
  ${RUN_BOCHS} --timeout 120 --module ${HOSTILE}:attack=com1-wide
  --reject-guest "hostile: FAIL"
  --expect-guest "^hostile: PASS"
  --expect "vigil: warning: guest 4-byte access at port 0x3f6 reaches into port 0x3f8-0x3ff: split into bytes"
  --reject "TA|TT"
  --expect "vigil: power off: guest powered off")

vigil_integration_test(hostile-pm1-wide
  ${RUN_BOCHS} --timeout 120 --module ${HOSTILE}:attack=pm1-wide
  --reject-guest "hostile: FAIL"
  --expect-guest "^hostile: OUTL 0x[0-9a-f]+ with S5"
  --expect "vigil: guest powered off \\(ACPI sleep request"
  --expect "vigil: power off: guest powered off")

vigil_integration_test(hostile-pci-pm-move
  ${RUN_BOCHS} --timeout 120 --module ${HOSTILE}:attack=pci-pm-move
  --reject-guest "hostile: FAIL"
  --expect-guest "^hostile: ok: moving the PM I/O base is refused"
  --expect-guest "^hostile: PASS"
  --expect "vigil: PCI configuration writes refused: PIIX4 PM I/O base \\(PMBA\\)"
  --expect "vigil: warning: guest write of 0xc001 to port 0xcfc refused: PIIX4 PM I/O base"
  --expect "vigil: power off: guest powered off")

foreach(reset cf9 kbc 92)
  set(reason_cf9 "port 0xCF9")
  set(reason_kbc "keyboard controller command 0xFE \\(port 0x64\\)")
  set(reason_92 "port 0x92 bit 0 \\(fast reset\\)")
  vigil_integration_test(hostile-reset-${reset}
    ${RUN_BOCHS} --timeout 120 --module ${HOSTILE}:attack=reset-${reset}
    --reject-guest "hostile: FAIL"
    --expect-guest "^hostile: resetting through reset-${reset}"
    --expect "vigil: guest stopped: the guest asked for a machine reset: ${reason_${reset}}"
    # a reset restarts the guest (docs/lifecycle.md); this one resets at once every
    # time, so the restart-loop guard keeps it off after three restarts
    --expect "vigil: restarting the guest from its pristine image"
    --expect "vigil: warning: recovery: guest reset=hold-off: restart loop: 3 restarts within 300 s"
    --expect "vigil: power off: the guest stopped")
endforeach()

vigil_integration_test(hostile-tsc-forced-shutdown
  ${RUN_BOCHS} --console-script ${VIGIL_SOURCE_DIR}/tests/integration/hostile/tsc_forced_shutdown.script
  --module ${GUESTS}/agent.elf:hostname=tsc --cmdline "console=com1 panic=poweroff guest_exit=console" --timeout 240
  --expect-guest "^agent: exec tsc-write"
  --expect "vigil: power off: operator requested power off")
set_tests_properties(integration.hostile-tsc-forced-shutdown PROPERTIES TIMEOUT 300)
