# vigilctl against the agent guest under Bochs (tools/vigilctl/integration-test.sh):
# every subcommand through the runner's console socket, with outputs, --json and exit
# codes checked; ends with 'vigilctl poweroff'. About 80-90 s of Bochs time.
vigil_integration_test(vigilctl-agent
  ${VIGIL_SOURCE_DIR}/tools/vigilctl/integration-test.sh
  $<TARGET_FILE:vigilctl> ${RUN_BOCHS} ${GUESTS}/agent.elf ${IMAGE})
set_tests_properties(integration.vigilctl-agent PROPERTIES TIMEOUT 300)
