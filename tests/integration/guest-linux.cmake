# The Linux guest (issue 14): Debian's cloud kernel with a busybox initramfs under vigil.
# Included from tests/integration/CMakeLists.txt (uses RUN_BOCHS and
# vigil_integration_test from there).
#
# The guest tree (~15 MB of .deb files) is fetched only when asked: by the
# `guest-linux` target, or by the integration.linux-guest-tree test that every
# Linux boot test requires (ctest fixture), so the default build downloads nothing.
set(GUEST_LINUX ${CMAKE_BINARY_DIR}/guest-linux)
set(GUEST_LINUX_COMMAND ${VIGIL_SOURCE_DIR}/tools/guest-linux --out ${GUEST_LINUX}
  --daemon ${CMAKE_BINARY_DIR}/vigil-additionsd)
add_custom_target(guest-linux COMMAND ${GUEST_LINUX_COMMAND} DEPENDS vigil-additionsd USES_TERMINAL
  COMMENT "Linux guest tree in ${GUEST_LINUX} (apt-get download, cached)")

add_test(NAME integration.linux-guest-tree COMMAND ${GUEST_LINUX_COMMAND})
set_tests_properties(integration.linux-guest-tree PROPERTIES LABELS integration TIMEOUT 600
  FIXTURES_SETUP linux_guest_tree)

set(LINUX_CMDLINE "console=ttyS1 nosmp quiet panic=1 cryptomgr.notests")

# The kernel reaches /init under vigil and powers the machine off through ACPI.
vigil_integration_test(linux-boot-to-init
  ${RUN_BOCHS} --timeout 400
  --module "${GUEST_LINUX}/bzImage:kernel ${LINUX_CMDLINE} vigil.guest=poweroff"
  --module "${GUEST_LINUX}/initramfs.cpio:initrd"
  --expect "vigil: Linux bzImage: boot protocol 2\\.1[0-9]"
  --expect "vigil: Linux: kernel at 0x[0-9a-f]+-0x[0-9a-f]+ \\(init_size\\), zero page 0x[0-9a-f]+, initrd 0x[0-9a-f]+\\+0x[0-9a-f]+"
  --expect-guest "^vigil-guest: init reached: Linux 6\\.[0-9.]+-[0-9]+-cloud-amd64"
  --expect "vigil: guest powered off"
  --expect "vigil: power off: guest powered off")
set_tests_properties(integration.linux-boot-to-init PROPERTIES TIMEOUT 480 FIXTURES_REQUIRED linux_guest_tree)

# A module that claims to be a kernel but is no bzImage and no ELF is refused
# before launch with the reason.
vigil_integration_test(linux-refuse-bad-kernel
  ${RUN_BOCHS} --timeout 120
  --module "${GUEST_LINUX}/initramfs.cpio:kernel console=ttyS1"
  --expect "vigil: error: guest refused: module 0: "
  --reject "vigil: launching the guest"
  --expect "vigil: power off: no guest to run")
set_tests_properties(integration.linux-refuse-bad-kernel PROPERTIES FIXTURES_REQUIRED linux_guest_tree)

# `reboot -f` inside the guest: whatever Linux tries (ACPI reset register, keyboard
# controller, port 0xCF9, triple fault), vigil sees it and stops the guest; the
# machine itself never resets (a reset would boot GRUB and vigil a second time).
vigil_integration_test(linux-reboot-contained
  ${RUN_BOCHS} --timeout 400
  --module "${GUEST_LINUX}/bzImage:kernel ${LINUX_CMDLINE} vigil.guest=reboot"
  --module "${GUEST_LINUX}/initramfs.cpio:initrd"
  --expect-guest "^vigil-guest: rebooting as asked"
  --expect "vigil: guest stopped: .*(reset|triple fault)"
  --expect "vigil: power off: the guest stopped")
set_tests_properties(integration.linux-reboot-contained PROPERTIES TIMEOUT 480 FIXTURES_REQUIRED linux_guest_tree)

# The Additions daemon, one boot for every operation (tests/integration/linux/linux_service.py).
vigil_integration_test(linux-service
  ${Python3_EXECUTABLE} ${VIGIL_SOURCE_DIR}/tests/integration/console_session.py
  --test ${VIGIL_SOURCE_DIR}/tests/integration/linux/linux_service.py --
  --module "${GUEST_LINUX}/bzImage:kernel ${LINUX_CMDLINE}"
  --module "${GUEST_LINUX}/initramfs.cpio:initrd"
  --module "${CMAKE_BINARY_DIR}/vigil-additionsd:additions version=1.0.1"
  --cmdline "console=com1 panic=poweroff guest_exit=console" --timeout 1200
  --expect-guest "^vigil-additionsd: registered: 'vigil-additionsd 1\\.0\\.0', OS '.*\\(Linux 6\\.[0-9.]+-[0-9]+-cloud-amd64\\)'"
  --expect-guest "^vigil-additionsd: install additions: version '1\\.0\\.1' \\([0-9]+ bytes\\) installed: restarting"
  --expect "vigil: Additions package 1\\.0\\.1: module 2"
  --expect "vigil: power off: operator requested power off")
set_tests_properties(integration.linux-service PROPERTIES TIMEOUT 1300 FIXTURES_REQUIRED linux_guest_tree)
