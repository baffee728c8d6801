#include "hv/guest_launch.h"

#include <string.h>

#include <vigil/abi.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ept.h"
#include "arch/x86_64/vmx.h"
#include "drivers/acpi/acpi_power.h"
#include "hv/guest_elf.h"
#include "hv/guest_multiboot.h"
#include "hv/guest_recovery.h"
#include "hv/idle.h"
#include "hv/log.h"
#include "hv/operator_console.h"
#include "hv/page_pool.h"
#include "hv/panic.h"
#include "hv/service.h"
#include "hv/timer.h"
#include "hv/vcpu.h"
#include "hv/version.h"
#include "hv/vmexit_io.h"
#include "hv/vmexit_msr.h"

#define IDENTITY_MAP_LIMIT 0x100000000ull
#define POOL_SIZE (2ull << 20)          /* one 2 MiB EPT page to leave out */
#define POOL_ALIGNMENT (2ull << 20)
#define GUEST_BOOT_INFO_ADDRESS 0x8000u /* conventional memory, below every BIOS data area */
#define GUEST_BOOT_INFO_SIZE 0x2000u
#define MULTIBOOT1_BOOTLOADER_MAGIC_VALUE 0x2BADB002u
#define INVEPT_ALL_CONTEXTS 2

static struct page_pool pool;
static struct ept ept;
static struct memmap allocation_map;
static struct guest_image image;
static struct vcpu vcpu; /* the one virtual CPU */
/* What a restart needs again (guest_relaunch): the boot information, the entry
 * state, and a pristine copy of module 0 in RAM that the guest's memory map
 * reserves and EPT leaves out, so a restart starts from the image that was measured. */
static struct boot_info *launched_boot;
static struct guest_entry_state launched_entry;
static uint64_t pristine_physical, pristine_size;

static void *identity_pointer(void *context, uint64_t physical, uint64_t length)
{
    (void)context;
    if (physical >= IDENTITY_MAP_LIMIT || length > IDENTITY_MAP_LIMIT - physical)
        return 0;
    uintptr_t pointer = (uintptr_t)physical;
    __asm__("" : "+r"(pointer)); /* a physical address, not a C object: keep -Warray-bounds out of it */
    return (void *)pointer;
}

static __attribute__((noreturn)) void refuse(const char *what, const char *why)
{
    log_error("guest refused: %s: %s", what, why);
    hv_stop_after_guest("no guest to run");
}

/* The pool must avoid the modules, the guest's segments and its boot information,
 * none of which the hypervisor's own memory map marks yet. */
static uint64_t place_pool(const struct boot_info *boot)
{
    allocation_map = boot->memmap;
    for (unsigned i = 0; i < boot->module_count; i++)
        memmap_carve(&allocation_map, boot->modules[i].start & ~0xFFFull,
                     ((boot->modules[i].end + 0xFFF) & ~0xFFFull) - (boot->modules[i].start & ~0xFFFull), MEMMAP_RESERVED);
    for (unsigned i = 0; i < image.segment_count; i++)
        memmap_carve(&allocation_map, image.segments[i].physical_address & ~0xFFFull,
                     ((image.segments[i].physical_address + image.segments[i].memory_size + 0xFFF) & ~0xFFFull) -
                         (image.segments[i].physical_address & ~0xFFFull),
                     MEMMAP_RESERVED);
    /* The highest aligned block of RAM below 4 GiB: low memory stays the guest's,
     * and the pool's address depends only on the machine's RAM, not on the sizes
     * of the modules GRUB placed after the hypervisor. */
    uint64_t base = 0;
    for (unsigned i = 0; i < allocation_map.count; i++) {
        const struct memmap_entry *entry = &allocation_map.entries[i];
        if (entry->type != MEMMAP_RAM || entry->base >= IDENTITY_MAP_LIMIT)
            continue;
        uint64_t end = entry->base + entry->length;
        if (end > IDENTITY_MAP_LIMIT)
            end = IDENTITY_MAP_LIMIT;
        if (end < POOL_SIZE)
            continue;
        uint64_t candidate = (end - POOL_SIZE) & ~(POOL_ALIGNMENT - 1);
        if (candidate >= entry->base && candidate >= (1ull << 20) && candidate > base)
            base = candidate;
    }
    if (base == 0)
        panic("no free 2 MiB of RAM below 4 GiB for the hypervisor's page pool");
    return base;
}

/* Module 1, if given, is the Additions package InstallAdditions offers: the guest
 * may read it but not write it (EPT read-only). Its command line names its
 * version: "version=1.2.3". */
static struct {
    uint64_t address;
    uint32_t size;
    char version[VIGIL_ADDITIONS_VERSION_MAX];
} additions_package;

static void offer_additions_package(const struct boot_info *boot)
{
    if (boot->module_count < 2)
        return;
    const struct boot_module *module = &boot->modules[1];
    uint64_t start = module->start & ~0xFFFull, end = (module->end + 0xFFF) & ~0xFFFull;
    if (module->end <= module->start || module->end - module->start > 0xFFFFFFFFull) {
        log_warn("Additions package (module 1) ignored: empty or larger than 4 GiB");
        return;
    }
    enum ept_status status = ept_map_range(&ept, start, start, end - start, EPT_READ | EPT_EXECUTE, EPT_MEMORY_WRITE_BACK);
    if (status != EPT_OK) {
        log_warn("Additions package (module 1) not offered: EPT: %s", ept_status_name(status));
        return;
    }
    const char *version = strstr(module->cmdline, "version=");
    const char *source = version ? version + 8 : "unknown";
    size_t length = 0;
    while (source[length] && source[length] != ' ' && length < sizeof additions_package.version - 1)
        length++;
    memcpy(additions_package.version, source, length);
    additions_package.version[length] = 0;
    additions_package.address = module->start;
    additions_package.size = (uint32_t)(module->end - module->start);
    log_info("Additions package %s: module 1 at 0x%lx, %lu bytes, read-only to the guest", additions_package.version,
             (unsigned long)additions_package.address, (unsigned long)additions_package.size);
}

static void configure_ports(const struct hv_options *options, uint64_t rsdp_address)
{
    struct guest_io_ports ports = { .console_base = options->console_port, .debug_exit = options->debug_exit_port };
    struct acpi_fadt_info fadt;
    const char *failure = acpi_read_fadt(rsdp_address, &fadt);
    if (failure) {
        log_warn("ACPI: %s: a guest power-off through ACPI will not be seen by vigil", failure);
    } else {
        if (!acpi_enable_mode(&fadt))
            log_warn("ACPI: the firmware did not switch to ACPI mode (SCI_EN stays clear)");
        ports.pm1a_control = (uint16_t)fadt.pm1a_control_port;
        ports.pm1b_control = (uint16_t)fadt.pm1b_control_port;
    }
    vmexit_io_configure(&vcpu, &ports);
    vmexit_msr_configure(&vcpu);
}

const struct guest_end *guest_launch(struct boot_info *boot, const struct hv_options *options, const struct vmx_capabilities *capabilities,
                  uint64_t tsc_frequency)
{
    if (boot->module_count == 0) {
        log_info("no guest module given: nothing to run");
        return 0;
    }
    const char *missing = vcpu_missing_capability(capabilities);
    if (missing) {
        log_raw_printf("vigil: VT-x lacks what vigil needs to run a guest: %s\n", missing);
        hv_stop_after_guest("cannot run a guest on this CPU");
    }

    const struct boot_module *module = &boot->modules[0];
    /* GRUB passes a module's arguments, not its file name: call it by position. */
    const char *name = "module 0";
    uint64_t module_size = module->end - module->start;
    const uint8_t *file = identity_pointer(0, module->start, module_size);
    if (!file || module->end <= module->start)
        refuse(name, "module lies outside the low 4 GiB or is empty");
    char error[160];
    enum guest_elf_status elf_status = guest_elf_parse(file, (size_t)module_size, &image, error, sizeof error);
    if (elf_status != GUEST_ELF_OK)
        refuse(name, error);

    uint64_t pool_base = place_pool(boot);
    if (!memmap_carve(&boot->memmap, pool_base, POOL_SIZE, MEMMAP_HYPERVISOR))
        panic("cannot mark the page pool at 0x%lx as hypervisor memory", (unsigned long)pool_base);
    /* The shared region is guest RAM (mapped write-back in EPT) that the guest's
     * memory map calls reserved, so no guest allocator hands it out. */
    memmap_carve(&allocation_map, pool_base, POOL_SIZE, MEMMAP_HYPERVISOR);
    uint64_t shared_region;
    if (!memmap_find_free(&allocation_map, VIGIL_SHARED_REGION_SIZE, VIGIL_PAGE_SIZE, IDENTITY_MAP_LIMIT, &shared_region) ||
        !memmap_carve(&boot->memmap, shared_region, VIGIL_SHARED_REGION_SIZE, MEMMAP_SHARED_REGION))
        panic("no free RAM below 4 GiB for the %u-byte shared region", VIGIL_SHARED_REGION_SIZE);

    memmap_carve(&allocation_map, shared_region, VIGIL_SHARED_REGION_SIZE, MEMMAP_SHARED_REGION);
    uint64_t copy_size = (module_size + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
    if (memmap_find_free(&allocation_map, copy_size, PAGE_SIZE, IDENTITY_MAP_LIMIT, &pristine_physical) &&
        memmap_carve(&boot->memmap, pristine_physical, copy_size, MEMMAP_HYPERVISOR) &&
        memmap_carve(&allocation_map, pristine_physical, copy_size, MEMMAP_HYPERVISOR)) {
        memcpy(identity_pointer(0, pristine_physical, copy_size), file, (size_t)module_size);
        pristine_size = module_size;
        log_info("pristine copy of module 0 for restarts: 0x%lx-0x%lx, hidden from the guest",
                 (unsigned long)pristine_physical, (unsigned long)(pristine_physical + copy_size - 1));
    } else
        log_warn("no free RAM below 4 GiB for a pristine copy of module 0: this guest cannot be restarted");

    struct address_range avoid[BOOT_MODULE_MAX + 2];
    unsigned avoid_count = 0;
    for (unsigned i = 0; i < boot->module_count; i++)
        avoid[avoid_count++] = (struct address_range){ boot->modules[i].start, boot->modules[i].end };
    avoid[avoid_count++] = (struct address_range){ GUEST_BOOT_INFO_ADDRESS, GUEST_BOOT_INFO_ADDRESS + GUEST_BOOT_INFO_SIZE };
    avoid[avoid_count++] = (struct address_range){ shared_region, shared_region + VIGIL_SHARED_REGION_SIZE };
    enum guest_placement_status placement =
        guest_elf_check_placement(&image, &boot->memmap, avoid, avoid_count, error, sizeof error);
    if (placement != GUEST_PLACEMENT_OK)
        refuse(name, error);

    if (!page_pool_init(&pool, identity_pointer(0, pool_base, POOL_SIZE), pool_base, (uint32_t)(POOL_SIZE / PAGE_SIZE)))
        panic("page pool at 0x%lx unusable", (unsigned long)pool_base);
    struct ept_capabilities ept_capabilities = {
        .pages_2mb = capabilities->ept_2mb_pages,
        .pages_1gb = capabilities->ept_1gb_pages,
        .accessed_dirty = false,
    };
    enum ept_status ept_status = ept_init(&ept, &pool, &ept_capabilities);
    uint64_t highest = IDENTITY_MAP_LIMIT;
    for (unsigned i = 0; i < boot->memmap.count; i++) {
        uint64_t end = boot->memmap.entries[i].base + boot->memmap.entries[i].length;
        if (end > highest)
            highest = end;
    }
    uint64_t limit = (highest + (1ull << 30) - 1) & ~((1ull << 30) - 1);
    if (ept_status == EPT_OK)
        ept_status = ept_identity_map(&ept, &boot->memmap, limit);
    if (ept_status != EPT_OK)
        panic("building the EPT identity map failed: %s", ept_status_name(ept_status));
    log_info("EPT: identity map of 0-0x%lx minus hypervisor memory: %u table pages, %lu x 1G, %lu x 2M, %lu x 4K leaves",
             (unsigned long)limit, ept.table_pages, (unsigned long)ept.mapped_1gb, (unsigned long)ept.mapped_2mb,
             (unsigned long)ept.mapped_4kb);

    offer_additions_package(boot);

    struct guest_memory_writer writer = { identity_pointer, 0 };
    if (!guest_elf_load(&image, file, (size_t)module_size, &writer))
        refuse(name, "copying the segments failed");
    uint8_t *boot_info_page = identity_pointer(0, GUEST_BOOT_INFO_ADDRESS, GUEST_BOOT_INFO_SIZE);
    const char *guest_cmdline = module->cmdline;
    size_t info_size = guest_multiboot1_build(boot_info_page, GUEST_BOOT_INFO_SIZE, GUEST_BOOT_INFO_ADDRESS,
                                              &boot->memmap, guest_cmdline, "vigil " VIGIL_VERSION);
    if (info_size == 0)
        panic("guest boot information does not fit in 0x%x bytes", GUEST_BOOT_INFO_SIZE);

    struct guest_entry_state entry = {
        .entry_point = (uint32_t)image.entry,
        .eax = MULTIBOOT1_BOOTLOADER_MAGIC_VALUE,
        .ebx = GUEST_BOOT_INFO_ADDRESS,
    };
    timer_configure(tsc_frequency, options->tick_ms, capabilities->preemption_timer_rate_shift);
    uint32_t timer_ticks = timer_preemption_value();
    vcpu_setup(&vcpu, capabilities, &pool, ept_pointer(&ept, false), timer_ticks, &entry);
    configure_ports(options, boot->rsdp_address);
    idle_configure(options->guest_exit);
    service_start(&vcpu, shared_region);
    log_info("guest service: shared region 0x%lx-0x%lx (status page, request slot, response slot), doorbell port 0x%x",
             (unsigned long)shared_region, (unsigned long)(shared_region + VIGIL_SHARED_REGION_SIZE - 1),
             VIGIL_DOORBELL_PORT);
    operator_console_start(log_console(), service_instance());
    if (additions_package.size)
        service_offer_additions(additions_package.address, additions_package.size, additions_package.version);
    if (capabilities->invept) {
        enum vmx_result result = vmx_invept(INVEPT_ALL_CONTEXTS, 0);
        if (result != VMX_SUCCEEDED)
            panic("INVEPT failed: %s", vmx_result_name(result));
    }

    log_info("guest (%s, command line '%s'): %s, entry 0x%lx, %u segments in 0x%lx-0x%lx, boot information at 0x%x (%lu bytes)",
             name, module->cmdline,
             image.elf64 ? "ELF64" : "ELF32", (unsigned long)image.entry, image.segment_count,
             (unsigned long)image.lowest_address, (unsigned long)image.highest_address_end, GUEST_BOOT_INFO_ADDRESS,
             (unsigned long)info_size);
    log_info("page pool 0x%lx-0x%lx: %u of %u pages used; tick %lu ms = %lu preemption-timer units%s",
             (unsigned long)pool_base, (unsigned long)(pool_base + POOL_SIZE - 1), pool.pages_in_use, pool.page_count,
             (unsigned long)options->tick_ms, (unsigned long)timer_ticks,
             vcpu.preemption_timer_saved ? "" : " (timer restarts at every entry)");
    /* Bochs advances the TSC once per emulated instruction (clock: sync=none), so
     * this is also the cost of booting up to the guest's first instruction. */
    log_info("launching the guest at TSC %lu", (unsigned long)cpu_read_tsc());
    log_set_buffered(true); /* from now on the timer drains the log: no exit waits for the line */
    launched_boot = boot;
    launched_entry = entry;
    return guest_run(&vcpu);
}

/* Guest RAM from 1 MiB up (below it: the firmware's data and the boot information,
 * rebuilt), except the boot modules: the module 0 bytes are restored from the
 * pristine copy, module 1 is read-only to the guest. */
static void clear_guest_ram(const struct boot_info *boot)
{
    for (unsigned i = 0; i < boot->memmap.count; i++) {
        const struct memmap_entry *entry = &boot->memmap.entries[i];
        uint64_t start = entry->base < (1ull << 20) ? (1ull << 20) : entry->base;
        uint64_t end = entry->base + entry->length;
        if (entry->type != MEMMAP_RAM || start >= end)
            continue;
        while (start < end) {
            uint64_t stop = end;
            for (unsigned m = 0; m < boot->module_count; m++) {
                uint64_t module_start = boot->modules[m].start & ~0xFFFull;
                uint64_t module_end = (boot->modules[m].end + 0xFFF) & ~0xFFFull;
                if (module_start <= start && module_end > start)
                    start = module_end; /* inside a module: skip it */
                else if (module_start > start && module_start < stop)
                    stop = module_start;
            }
            if (start >= end || stop <= start)
                continue; /* moved past a module: look again from there */
            void *bytes = identity_pointer(0, start, stop - start);
            if (bytes == 0) {
                log_warn("restart: guest RAM 0x%lx-0x%lx is above 4 GiB: not cleared", (unsigned long)start,
                         (unsigned long)end);
                break;
            }
            memset(bytes, 0, (size_t)(stop - start));
            start = stop;
        }
    }
}

const struct guest_end *guest_relaunch(void)
{
    const uint8_t *copy = pristine_size ? identity_pointer(0, pristine_physical, pristine_size) : 0;
    if (launched_boot == 0 || copy == 0) {
        log_error("restart: no pristine copy of module 0: the guest stays stopped");
        return 0;
    }
    if (!guest_recovery_check_pristine(copy, pristine_size))
        return 0;
    guest_recovery_guest_starting();
    struct boot_info *boot = launched_boot;
    clear_guest_ram(boot);
    const struct boot_module *module = &boot->modules[0];
    memcpy(identity_pointer(0, module->start, pristine_size), copy, (size_t)pristine_size);
    struct guest_memory_writer writer = { identity_pointer, 0 };
    if (!guest_elf_load(&image, copy, (size_t)pristine_size, &writer))
        panic("restart: copying the segments of the pristine image failed");
    uint8_t *boot_info_page = identity_pointer(0, GUEST_BOOT_INFO_ADDRESS, GUEST_BOOT_INFO_SIZE);
    if (guest_multiboot1_build(boot_info_page, GUEST_BOOT_INFO_SIZE, GUEST_BOOT_INFO_ADDRESS, &boot->memmap,
                               module->cmdline, "vigil " VIGIL_VERSION) == 0)
        panic("restart: guest boot information does not fit in 0x%x bytes", GUEST_BOOT_INFO_SIZE);
    vcpu_reset(&vcpu, &launched_entry);
    service_guest_restarted();
    if (vcpu.capabilities.invept) {
        enum vmx_result result = vmx_invept(INVEPT_ALL_CONTEXTS, 0);
        if (result != VMX_SUCCEEDED)
            panic("INVEPT failed: %s", vmx_result_name(result));
    }
    log_info("restarting the guest from its pristine image (same layout, RAM cleared, a fresh vCPU) at TSC %lu",
             (unsigned long)cpu_read_tsc());
    return guest_run(&vcpu);
}
