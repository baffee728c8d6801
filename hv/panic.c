#include "hv/panic.h"

#include <stdarg.h>
#include "lib/format.h"

#include "arch/x86_64/cpu.h"
#include "drivers/acpi/acpi_power.h"
#include "hv/log.h"

static enum panic_policy policy = PANIC_HALT;
static struct acpi_power_config power_config;

void panic_configure(enum panic_policy configured_policy, const struct acpi_power_config *power)
{
    policy = configured_policy;
    power_config = *power;
}

void hv_reset(void)
{
    acpi_reset(&power_config);
}

static __attribute__((noreturn)) void power_off_now(uint8_t exit_code)
{
    if (power_config.s5_valid)
        log_raw_printf("vigil: ACPI S5: SLP_TYP %u/%u to PM1a 0x%lx, PM1b 0x%lx (values read at start)\n",
                       power_config.s5.pm1a, power_config.s5.pm1b, (unsigned long)power_config.fadt.pm1a_control_port,
                       (unsigned long)power_config.fadt.pm1b_control_port);
    log_flush();
    const char *failure = acpi_power_off(&power_config, exit_code);
    log_raw_printf("vigil: power off failed (%s); halting\n", failure);
    cpu_halt_forever();
}

void panic_apply_policy(void)
{
    log_set_buffered(false); /* from here on every line goes out at once */
    switch (policy) {
    case PANIC_POWEROFF:
        log_raw_printf("vigil: panic policy: power off\n");
        power_off_now(ACPI_EXIT_CODE_FAILURE);
    case PANIC_REBOOT:
        log_raw_printf("vigil: panic policy: reboot\n");
        hv_reset();
        log_raw_printf("vigil: reset failed; halting\n");
        cpu_halt_forever();
    case PANIC_HALT:
    default:
        log_raw_printf("vigil: panic policy: halt (CPU stopped; reset the machine)\n");
        cpu_halt_forever();
    }
}

void panic(const char *format, ...)
{
    log_set_buffered(false);
    char message[192];
    va_list arguments;
    va_start(arguments, format);
    format_vstring(message, sizeof message, format, arguments);
    va_end(arguments);
    log_raw_printf("vigil: PANIC: %s\n", message);
    panic_apply_policy();
}

void hv_power_off(const char *reason)
{
    log_set_buffered(false);
    log_raw_printf("vigil: power off: %s\n", reason);
    power_off_now(ACPI_EXIT_CODE_SUCCESS);
}

void hv_stop_after_guest(const char *reason)
{
    log_set_buffered(false);
    switch (policy) {
    case PANIC_POWEROFF:
        hv_power_off(reason);
    case PANIC_REBOOT:
        log_raw_printf("vigil: rebooting: %s\n", reason);
        hv_reset();
        log_raw_printf("vigil: reset failed; halting\n");
        cpu_halt_forever();
    case PANIC_HALT:
    default:
        log_raw_printf("vigil: halting: %s (reset the machine to restart)\n", reason);
        cpu_halt_forever();
    }
}
