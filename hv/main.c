/*
 * hv_main: the boot flow after boot.S reached long mode (DESIGN.md §4 stages 1-2).
 * Order matters: descriptors first (so every fault is reported), then the boot
 * information and command line (they choose the console), then the console, then
 * everything that talks.
 */
#include <stdint.h>
#include <string.h>

#include "arch/x86_64/cpu_access.h"
#include "arch/x86_64/descriptors.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/vmx_capability.h"
#include "drivers/acpi/acpi_power.h"
#include "drivers/uart16550/uart16550.h"
#include "hv/acpi_report.h"
#include "hv/clock.h"
#include "hv/cmdline.h"
#include "hv/guest_launch.h"
#include "hv/guest_recovery.h"
#include "hv/idle.h"
#include "hv/log.h"
#include "hv/multiboot.h"
#include "hv/panic.h"
#include "hv/tsc_calibration.h"
#include "hv/version.h"
#include "lib/memmap.h"

#define IDENTITY_MAP_LIMIT 0x100000000ull

void hv_main(uint32_t magic, uint32_t info_address);

static struct boot_info boot_info;
static struct acpi_power_config power;
static struct acpi_discovery acpi_found;
static struct uart16550 console;

/* Boot information is read through the identity map of the low 4 GiB that boot.S built. */
static const void *identity_map(void *context, uint64_t physical_address, size_t length)
{
    (void)context;
    if (physical_address == 0 || physical_address >= IDENTITY_MAP_LIMIT || length > IDENTITY_MAP_LIMIT - physical_address)
        return 0;
    return (const void *)(uintptr_t)physical_address;
}

static const struct physical_memory_access identity_access = { identity_map, 0 };

static void setup_console(const struct hv_options *options)
{
    enum uart16550_status status = uart16550_init(&console, &uart16550_port_io, options->console_port,
                                                  options->console_baud);
    if (status == UART16550_OK) {
        log_attach_console(&console);
        return;
    }
    /* Stay on the COM1 fallback and say why the chosen console is not used. */
    log_warn("console 0x%x,%lu unusable (%s): staying on COM1 at 115200", options->console_port,
             (unsigned long)options->console_baud, status == UART16550_NO_DEVICE ? "no UART answers there" : "bad baud");
}

/*
 * vigil leaves the loader's address (1 MiB, the guest's memory on a PC) for the
 * top of RAM below 4 GiB, clear of every module (docs/decisions.md "vigil at the
 * top of RAM"). Fatal when impossible: a guest must never share RAM with vigil.
 */
static void move_to_top_of_ram(struct memmap *map)
{
    static struct memmap candidates; /* ~3 KiB: off the boot stack */
    uint64_t size = paging_image_size(), loaded_at = paging_image_physical();
    candidates = *map;
    bool marked = memmap_mark(&candidates, loaded_at, size, MEMMAP_RESERVED);
    for (unsigned i = 0; i < boot_info.module_count; i++) {
        uint64_t start = boot_info.modules[i].start & ~0xFFFull, end = (boot_info.modules[i].end + 0xFFF) & ~0xFFFull;
        if (end > start)
            marked = marked && memmap_mark(&candidates, start, end - start, MEMMAP_RESERVED);
    }
    if (!marked)
        panic("memory map too fragmented to keep vigil clear of the modules");
    uint64_t destination;
    if (!memmap_find_free_highest(&candidates, size, 4096, IDENTITY_MAP_LIMIT, &destination))
        panic("no free %lu KiB of RAM below 4 GiB to move vigil to", (unsigned long)(size >> 10));
    if (!memmap_carve(map, destination, size, MEMMAP_HYPERVISOR))
        panic("cannot mark vigil's memory 0x%lx-0x%lx as the hypervisor's in the memory map",
              (unsigned long)destination, (unsigned long)(destination + size - 1));
    const char *failure = paging_move_image(destination);
    if (failure)
        panic("moving vigil to 0x%lx failed: %s", (unsigned long)destination, failure);
    /* The guest finds zeros where vigil was loaded, not a stale copy of its data. */
    memset((void *)identity_map(0, loaded_at, size), 0, size);
    log_info("image moved from 0x%lx to 0x%lx-0x%lx (%lu KiB, stacks behind guard pages); low memory is the guest's",
             (unsigned long)loaded_at, (unsigned long)destination, (unsigned long)(destination + size - 1),
             (unsigned long)(size >> 10));
}

static void report_memory_map(struct memmap *map)
{
    log_info("memory map (%u entries%s):", map->count, boot_info.memmap_from_fallback ? ", from mem_lower/mem_upper only" : "");
    for (unsigned i = 0; i < map->count; i++) {
        const struct memmap_entry *entry = &map->entries[i];
        log_info("  0x%016lx-0x%016lx %s", (unsigned long)entry->base,
                 (unsigned long)(entry->base + entry->length - 1), memmap_type_name(entry->type));
    }
    log_info("memory: %lu KiB RAM usable, hypervisor image %lu KiB", (unsigned long)(memmap_total(map, MEMMAP_RAM) >> 10),
             (unsigned long)(paging_image_size() >> 10));
    if (map->rejected_zero_length || map->clamped_wraparound || map->dropped_full || map->overlaps_resolved ||
        map->unknown_types)
        log_warn("memory map anomalies: %u zero-length, %u wrapped, %u dropped (table full), %u overlaps, %u unknown types",
                 map->rejected_zero_length, map->clamped_wraparound, map->dropped_full, map->overlaps_resolved,
                 map->unknown_types);
}

/* selftest=stack-overflow: recurse until the boot stack runs into its guard
 * page (32 KiB of stack is gone long before the bound). The frame is large and
 * used so the compiler keeps every level. */
static __attribute__((noinline)) unsigned overflow_stack(unsigned depth)
{
    volatile uint8_t frame[512];
    frame[0] = (uint8_t)depth;
    if (depth > 1000000)
        return frame[0];
    return overflow_stack(depth + 1) + frame[0];
}

static struct vmx_capabilities capabilities;

static void check_vt_x(void)
{
    uint32_t failed_msr = 0;
    enum vmx_probe_result result = vmx_probe(&cpu_hardware_access, &capabilities, &failed_msr);
    if (result != VMX_AVAILABLE) {
        if (failed_msr)
            log_raw_printf("vigil: VT-x not available: %s (MSR 0x%lx)\n", vmx_probe_result_reason(result),
                           (unsigned long)failed_msr);
        else
            log_raw_printf("vigil: VT-x not available: %s\n", vmx_probe_result_reason(result));
        hv_power_off("no VT-x, nothing to run");
    }
    char summary[224];
    vmx_capabilities_format(&capabilities, summary, sizeof summary);
    if (capabilities.feature_control_locked_by_vigil)
        log_info("IA32_FEATURE_CONTROL was unlocked: enabled VMX outside SMX and locked it");
    log_info("VT-x: %s", summary);
}

void hv_main(uint32_t magic, uint32_t info_address)
{
    descriptors_init();

    enum boot_info_status boot_status = multiboot_parse(magic, info_address, &identity_access, &boot_info);
    struct hv_options options;
    struct cmdline_diagnostics cmdline_diagnostics;
    hv_options_set_defaults(&options);
    cmdline_parse(boot_info.cmdline, sizeof boot_info.cmdline, &options, &cmdline_diagnostics);
    setup_console(&options);
    log_set_level(options.log_level);
    /* Read once, before any guest owns the memory the tables are in (or the copy
     * of the RSDP inside the boot information). */
    power.debug_exit_port = options.debug_exit_port;
    const char *acpi_failure = acpi_discover(boot_info.rsdp_address, &power, &acpi_found);
    panic_configure(options.panic, &power);

    log_raw_printf("\nvigil %s (multiboot%u, loader '%s'): a small type-1 hypervisor for Intel VT-x\n", VIGIL_VERSION,
                   boot_info.protocol, boot_info.loader_name[0] ? boot_info.loader_name : "unknown");
    for (unsigned i = 0; i < boot_info.diagnostic_count; i++)
        log_warn("boot information: %s", boot_info.diagnostics[i]);
    if (boot_info.diagnostics_dropped)
        log_warn("boot information: %u more diagnostics not shown", boot_info.diagnostics_dropped);
    if (boot_status != BOOT_INFO_OK)
        panic("boot information unusable (magic 0x%lx, info at 0x%lx): %s", (unsigned long)magic,
              (unsigned long)info_address, boot_info_status_name(boot_status));

    log_info("command line: '%s'", boot_info.cmdline);
    for (unsigned i = 0; i < cmdline_diagnostics.count; i++)
        log_warn("command line: %s", cmdline_diagnostics.messages[i]);
    if (cmdline_diagnostics.dropped)
        log_warn("command line: %u more problems not shown", cmdline_diagnostics.dropped);
    guest_recovery_configure(&options);
    log_info("console 0x%x at %lu baud, log level %s, panic policy %s", options.console_port,
             (unsigned long)options.console_baud, log_level_name(options.log_level), panic_policy_name(options.panic));

    acpi_report(&acpi_found, &power, acpi_failure);
    move_to_top_of_ram(&boot_info.memmap);
    report_memory_map(&boot_info.memmap);
    if (options.selftest_stack_overflow) {
        log_raw_printf("vigil: selftest: overflowing the boot stack\n");
        overflow_stack(0);
    }
    for (unsigned i = 0; i < boot_info.module_count; i++)
        log_info("module %u: 0x%lx-0x%lx '%s'", i, (unsigned long)boot_info.modules[i].start,
                 (unsigned long)boot_info.modules[i].end, boot_info.modules[i].cmdline);

    check_vt_x();

    uint64_t tsc_frequency = tsc_calibrate(&power);
    if (!clock_init(tsc_frequency))
        log_warn("RTC: no valid date; the host wall clock starts at the Unix epoch");

    if (!guest_recovery_measure(&boot_info))
        hv_stop_after_guest("measured launch failed: the guest is not launched");
    guest_recovery_guest_starting();
    const struct guest_end *end = guest_launch(&boot_info, &options, &capabilities, &power, tsc_frequency);
    if (!end)
        hv_power_off("no guest module given, nothing to run");
    /* Restarts (docs/lifecycle.md): a policy, a guest reset or an operator's reboot. */
    while (guest_recovery_restart_due()) {
        const struct guest_end *next = guest_relaunch();
        if (!next)
            break; /* refused (the pristine copy changed): the guest stays stopped */
        end = next;
    }
    /* The guest has ended and its run loop returned: no VM exit is in progress. */
    idle_after_guest(end);
}
