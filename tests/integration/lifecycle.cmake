# The guest's life (docs/lifecycle.md) under Bochs: measured launch, the exec
# allow-list, recovery policies, the audit trail. Included by CMakeLists.txt.

# A module_sha256= that does not match: vigil names the module and both digests
# and does not launch the guest.
vigil_integration_test(lifecycle-module-sha256-mismatch
  ${RUN_BOCHS} --timeout 120 --module ${GUESTS}/hello.elf
  --cmdline "console=com1 panic=poweroff module_sha256=0:0000000000000000000000000000000000000000000000000000000000000000"
  --expect "vigil: error: measured launch: module 0: SHA-256 [0-9a-f]{64}, but module_sha256= expects 0{64}"
  --reject "vigil: launching the guest"
  --expect "vigil: power off")
# The right digest (sha256sum of the module, at test time) launches it; bad
# policy options are named and the previous setting kept. (No ';' in here: CMake
# would split the argument there.)
vigil_integration_test(lifecycle-module-sha256-match
  sh -c "runner=$0 module=$1 && shift && exec \"$runner\" --timeout 120 --module \"$module\" --cmdline \"console=com1 panic=poweroff on_heartbeat_loss=reboot exec_allow=bin/true module_sha256=$(sha256sum \"$module\" | cut -c1-64)\" \"$@\""
  ${RUN_BOCHS} ${GUESTS}/hello.elf
  --expect "vigil: warning: command line: on_heartbeat_loss: unknown action 'reboot' \\(want log\\|nmi\\|restart\\|poweroff. keeping log\\)"
  --expect "vigil: warning: command line: exec allow-list entry 'bin/true': not an absolute path"
  --expect "vigil: module 0: sha256 [0-9a-f]{64} \\([0-9]+ bytes\\), as module_sha256= expects"
  --expect "vigil: launching the guest"
  --expect-guest "^hello: PASS"
  --expect "vigil: power off: guest powered off")
# The console session (allow-list, policies, heartbeat loss under `log`, the audit
# trail) and the restarts (heartbeat loss, shutdown --reboot, triple fault, then the
# restart-loop guard): pytest files on the service fixtures (service/conftest.py),
# one boot each, their Boot() holding vigil's command line and the runner's patterns.
vigil_service_pytest(lifecycle 480)
vigil_service_pytest(restart 480)
