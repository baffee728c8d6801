/*
 * The hypervisor's own command line (from multiboot1/multiboot2 or QEMU -kernel).
 *
 * Parsing never fails hard: the machine may have nothing but this line to tell
 * us where the console is, so a bad value keeps that option as it was and
 * leaves a one-line diagnostic to print once the console is up.
 */
#ifndef VIGIL_HV_CMDLINE_H
#define VIGIL_HV_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/log.h" /* enum log_level */

enum panic_policy { PANIC_HALT = 0, PANIC_POWEROFF, PANIC_REBOOT };
/* What vigil does when its guest powers off or stops: power the machine off too
 * (the default: the machine is the VM), or keep the console up so the operator
 * can still read the cached guest properties and counters. */
enum guest_exit_policy { GUEST_EXIT_POWEROFF = 0, GUEST_EXIT_CONSOLE };

#define HV_TICK_MS_DEFAULT 50 /* 20 timer exits per second when the guest is idle */
#define HV_TICK_MS_MIN 1
#define HV_TICK_MS_MAX 1000

struct hv_options {
    uint16_t console_port;      /* default 0x3F8 (com1) */
    uint32_t console_baud;      /* default 115200 */
    enum log_level log_level;   /* default LOG_INFO */
    enum panic_policy panic;    /* default PANIC_HALT: safe on hardware; emulator boards pass panic=poweroff */
    uint16_t debug_exit_port;   /* 0 = none; QEMU isa-debug-exit port, e.g. 0xf4 */
    uint32_t tick_ms;           /* the hypervisor's own tick (VMX-preemption timer), HV_TICK_MS_MIN..MAX */
    enum guest_exit_policy guest_exit; /* default GUEST_EXIT_POWEROFF */
    bool selftest_stack_overflow;       /* selftest=stack-overflow (test suite only): overflow the boot stack */
};

#define CMDLINE_DIAGNOSTIC_MAX 8
#define CMDLINE_DIAGNOSTIC_LENGTH 96 /* including the terminating NUL */

struct cmdline_diagnostics {
    unsigned count;    /* messages[0..count) are valid NUL-terminated lines */
    unsigned dropped;  /* further diagnostics that did not fit */
    char messages[CMDLINE_DIAGNOSTIC_MAX][CMDLINE_DIAGNOSTIC_LENGTH];
};

void hv_options_set_defaults(struct hv_options *options);

/*
 * Grammar: whitespace-separated tokens; the first token is skipped as the
 * kernel image path if it has no '=' (GRUB multiboot1 and QEMU -kernel put the
 * path there; no option is valid without '='). Options:
 *   console=com1|com2|com3|com4|0xPORT[,BAUD]   loglevel=0..4|error|warn|info|debug|trace
 *   panic=halt|poweroff|reboot                  debug_exit=0xPORT (0x0 = none)
 *   tick_ms=1..1000 (default 50)                guest_exit=poweroff|console
 *   selftest=stack-overflow (the test suite's proof of the boot stack's guard page)
 *
 * Sets *options to the defaults, then applies the options in order (the last
 * of repeated options wins). Reads at most max_length bytes of text and stops
 * early at a NUL; text may be NULL (no options). diagnostics may be NULL; it is
 * reset first otherwise. Returns the number of diagnostics produced, including
 * any counted in diagnostics->dropped.
 */
unsigned cmdline_parse(const char *text, size_t max_length, struct hv_options *options,
                       struct cmdline_diagnostics *diagnostics);

/* Lower-case names as accepted on the command line; "unknown" if out of range. */
const char *log_level_name(enum log_level level);
const char *panic_policy_name(enum panic_policy policy);
const char *guest_exit_policy_name(enum guest_exit_policy policy);

#endif /* VIGIL_HV_CMDLINE_H */
