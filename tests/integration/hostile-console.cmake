# Hostile guests against the operator console (docs/security.md, "Console and
# events"). Included from tests/integration/CMakeLists.txt (uses RUN_BOCHS, GUESTS,
# SERVICE_CMDLINE, SERVICE_POWEROFF and vigil_integration_test from there).
set(HOSTILE_CONSOLE_TESTS ${VIGIL_SOURCE_DIR}/tests/integration/hostile)

# event_flood raises 3000 events per round (without the rate limit: 13 s of console
# output per round) while the script asks `status` and `stats` and must get each
# answer within 10 s; the forged strings show escaped; no forged line appears.
vigil_integration_test(hostile-event-flood
  ${RUN_BOCHS} --console-script ${HOSTILE_CONSOLE_TESTS}/event_flood.script
  --module ${GUESTS}/event_flood.elf --cmdline ${SERVICE_CMDLINE} --timeout 240
  --expect ${SERVICE_POWEROFF}
  --expect-guest "^event-flood: registered, flooding 3000 events per round$"
  --expect-guest "^event-flood: round 1: 3000 events sent \\([0-9]+ accepted, [0-9]+ rate limited, 0 other errors\\)$"
  --reject "^event: heartbeat-stopped: forged"
  --reject "^vigil> .*u\\{202e\\}")
set_tests_properties(integration.hostile-event-flood PROPERTIES TIMEOUT 300)
