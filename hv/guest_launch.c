#include "hv/guest_launch.h"

#include <string.h>

#include <vigil/abi.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ept.h"
#include "arch/x86_64/vmx.h"
#include "drivers/acpi/acpi_power.h"
#include "hv/apic_trap.h"
#include "hv/guest_elf.h"
#include "hv/guest_layout.h"
#include "hv/guest_linux.h"
#include "hv/guest_linux_boot.h"
#include "hv/guest_modules.h"
#include "hv/guest_multiboot.h"
#include "hv/idle.h"
#include "hv/log.h"
#include "hv/operator_console.h"
#include "hv/panic.h"
#include "hv/service.h"
#include "hv/timer.h"
#include "hv/vcpu.h"
#include "hv/version.h"
#include "hv/vmexit_io.h"
#include "hv/vmexit_msr.h"
#include "lib/format.h"
#include "lib/page_pool.h"

#define IDENTITY_MAP_LIMIT 0x100000000ull
#define MSR_IA32_APIC_BASE_NUMBER 0x1B
#define POOL_SIZE (2ull << 20)          /* one 2 MiB EPT page to leave out */
#define POOL_ALIGNMENT (2ull << 20)
#define GUEST_BOOT_INFO_SIZE 0x3000u    /* fixed part, 128 mmap entries, 4 KiB command line, name */
#define MULTIBOOT1_BOOTLOADER_MAGIC_VALUE 0x2BADB002u
#define INVEPT_ALL_CONTEXTS 2

static struct page_pool pool;
static struct ept ept;
static struct guest_image image;
static struct vcpu vcpu; /* the one virtual CPU */

static void *identity_pointer(void *context, uint64_t physical, uint64_t length)
{
    (void)context;
    if (physical >= IDENTITY_MAP_LIMIT || length > IDENTITY_MAP_LIMIT - physical)
        return 0;
    uintptr_t pointer = (uintptr_t)physical;
    __asm__("" : "+r"(pointer)); /* a physical address, not a C object: keep -Warray-bounds out of it */
    return (void *)pointer;
}

/* Guest memory for the instruction decoder (hv/apic_trap.c): only what EPT maps
 * readable for the guest, inside vigil's identity map; never vigil's own pages. */
static bool read_guest_physical(void *context, uint64_t physical, void *buffer, unsigned size)
{
    (void)context;
    unsigned permissions = 0;
    uint64_t host = 0;
    if (!ept_translate(&ept, physical, &host, &permissions, 0, 0) || !(permissions & EPT_READ) ||
        ((physical + size - 1) >> 12) != (physical >> 12))
        return false;
    const uint8_t *source = identity_pointer(0, host, size);
    if (!source)
        return false;
    memcpy(buffer, source, size);
    return true;
}

/* xAPIC mode: the APIC page read-only, so writes (the ICR among them) exit (hv/apic_trap.h). */
static void trap_apic_page(void)
{
    uint64_t apic_base = 0;
    if (!cpu_read_msr_checked(MSR_IA32_APIC_BASE_NUMBER, &apic_base))
        panic("cannot read IA32_APIC_BASE");
    uint64_t page = apic_base & 0x000FFFFFFFFFF000ull;
    enum ept_status status = ept_map_range(&ept, page, page, 4096, EPT_READ, EPT_MEMORY_UNCACHEABLE);
    if (status != EPT_OK)
        panic("EPT: cannot make the local APIC page 0x%lx read-only: %s", (unsigned long)page, ept_status_name(status));
    apic_trap_configure(page, read_guest_physical, 0);
    log_info("local APIC page 0x%lx: guest writes trapped (IPIs to other CPUs refused)", (unsigned long)page);
}

static __attribute__((noreturn)) void refuse(const char *what, const char *why)
{
    log_error("guest refused: %s: %s", what, why);
    hv_stop_after_guest("no guest to run");
}

/* The Additions package (module role "additions", or module 1), if given, is what
 * InstallAdditions offers: the guest may read it but not write it (EPT
 * read-only). Its command line names its version: "version=1.2.3". */
static struct {
    uint64_t address;
    uint32_t size;
    char version[VIGIL_ADDITIONS_VERSION_MAX];
} additions_package;

static void offer_additions_package(const struct boot_info *boot, const struct guest_modules *roles)
{
    if (roles->additions == GUEST_MODULE_NONE)
        return;
    const struct boot_module *module = &boot->modules[roles->additions];
    uint64_t start = module->start & ~0xFFFull, end = (module->end + 0xFFF) & ~0xFFFull;
    if (module->end <= module->start || module->end - module->start > 0xFFFFFFFFull) {
        log_warn("Additions package (module %d) ignored: empty or larger than 4 GiB", roles->additions);
        return;
    }
    enum ept_status status = ept_map_range(&ept, start, start, end - start, EPT_READ | EPT_EXECUTE, EPT_MEMORY_WRITE_BACK);
    if (status != EPT_OK) {
        log_warn("Additions package (module %d) not offered: EPT: %s", roles->additions, ept_status_name(status));
        return;
    }
    const char *version = strstr(roles->additions_args, "version=");
    const char *source = version ? version + 8 : "unknown";
    size_t length = 0;
    while (source[length] && source[length] != ' ' && length < sizeof additions_package.version - 1)
        length++;
    memcpy(additions_package.version, source, length);
    additions_package.version[length] = 0;
    additions_package.address = module->start;
    additions_package.size = (uint32_t)(module->end - module->start);
    log_info("Additions package %s: module %d at 0x%lx, %lu bytes, read-only to the guest", additions_package.version,
             roles->additions, (unsigned long)additions_package.address, (unsigned long)additions_package.size);
}

/* The PM1 ports come from the values read once at start (hv/main.c), never from
 * the tables, which the guest can rewrite. */
static void configure_ports(const struct hv_options *options, const struct acpi_power_config *power)
{
    struct guest_io_ports ports = { .console_base = options->console_port, .debug_exit = options->debug_exit_port,
                                    .protect_pci_chipset = true };
    if (!power->fadt_valid) {
        log_warn("ACPI: no FADT: a guest power-off through ACPI will not be seen by vigil");
    } else {
        if (!acpi_enable_mode(&power->fadt))
            log_warn("ACPI: the firmware did not switch to ACPI mode (SCI_EN stays clear)");
        ports.pm1a_control = (uint16_t)power->fadt.pm1a_control_port;
        ports.pm1b_control = (uint16_t)power->fadt.pm1b_control_port;
        if (power->fadt.reset_register_valid) {
            ports.acpi_reset_port = power->fadt.reset_port;
            ports.acpi_reset_value = power->fadt.reset_value;
        }
    }
    vmexit_io_configure(&vcpu, &ports);
    vmexit_msr_configure(&vcpu);
}

/* Every page the memory map gives vigil must be absent from EPT before the guest
 * runs: a mapped page would be the guest's to read or write. Fatal otherwise. */
static void verify_hypervisor_memory_hidden(const struct memmap *map)
{
    for (unsigned i = 0; i < map->count; i++) {
        const struct memmap_entry *entry = &map->entries[i];
        if (entry->type != MEMMAP_HYPERVISOR)
            continue;
        for (uint64_t page = entry->base & ~0xFFFull; page < entry->base + entry->length; page += PAGE_SIZE) {
            if (ept_translate(&ept, page, 0, 0, 0, 0))
                panic("EPT maps hypervisor memory at 0x%lx (range 0x%lx-0x%lx): refusing to start the guest",
                      (unsigned long)page, (unsigned long)entry->base,
                      (unsigned long)(entry->base + entry->length - 1));
        }
    }
}

const struct guest_end *guest_launch(struct boot_info *boot, const struct hv_options *options,
                                     const struct vmx_capabilities *capabilities,
                                     const struct acpi_power_config *power, uint64_t tsc_frequency)
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

    char error[160];
    static struct guest_modules roles;
    if (!guest_modules_assign(boot->modules, boot->module_count, &roles, error, sizeof error))
        refuse("boot modules", error);
    const struct boot_module *module = &boot->modules[roles.kernel];
    /* GRUB passes a module's arguments, not its file name: call it by position. */
    static char name[16];
    format_string(name, sizeof name, "module %d", roles.kernel);
    uint64_t module_size = module->end - module->start;
    const uint8_t *loaded = identity_pointer(0, module->start, module_size);
    if (!loaded || module->end <= module->start)
        refuse(name, "module lies outside the low 4 GiB or is empty");
    /* The loader is chosen by the image's magic: a Linux setup header, else ELF. */
    bool linux_guest = guest_linux_is_bzimage(loaded, (size_t)module_size);
    if (linux_guest ? !guest_linux_boot_parse(loaded, (size_t)module_size, error, sizeof error)
                    : guest_elf_parse(loaded, (size_t)module_size, &image, error, sizeof error) != GUEST_ELF_OK)
        refuse(name, error);

    struct address_range segments[GUEST_SEGMENT_MAX];
    for (unsigned i = 0; i < image.segment_count; i++)
        segments[i] = (struct address_range){ image.segments[i].physical_address,
                                              image.segments[i].physical_address + image.segments[i].memory_size };
    /* The kernel's module first: the layout copies it and treats the others as the guest's. */
    struct address_range modules[BOOT_MODULE_MAX];
    modules[0] = (struct address_range){ module->start, module->end };
    for (unsigned i = 0, n = 1; i < boot->module_count; i++)
        if ((int)i != roles.kernel)
            modules[n++] = (struct address_range){ boot->modules[i].start, boot->modules[i].end };
    /* A Linux kernel is placed after the layout, clear of everything in it; its boot
     * area (zero page, command line, GDT) goes after the real-mode IVT and BIOS data
     * in the first 32 KiB, as the layout puts boot information after a segment. */
    static const struct address_range linux_low_memory = { 0, 0x8000 };
    struct guest_layout_request request = {
        .image_copy_size = module_size,
        .pool_size = POOL_SIZE,
        .pool_alignment = POOL_ALIGNMENT,
        .shared_region_size = VIGIL_SHARED_REGION_SIZE,
        .boot_info_size = GUEST_BOOT_INFO_SIZE,
        .segments = linux_guest ? &linux_low_memory : segments,
        .segment_count = linux_guest ? 1 : image.segment_count,
        .modules = modules,
        .module_count = boot->module_count,
    };
    struct guest_layout layout;
    const char *layout_failure = guest_layout_plan(&boot->memmap, &request, &layout);
    if (layout_failure)
        panic("guest memory layout: %s", layout_failure);

    /* The guest is loaded from vigil's own copy: the module's bytes are guest RAM
     * (the guest may overwrite them), the copy stays as the loader passed it. */
    uint8_t *file = identity_pointer(0, layout.image_copy, module_size);
    if (!file)
        panic("guest image copy at 0x%lx unreachable", (unsigned long)layout.image_copy);
    memcpy(file, loaded, (size_t)module_size);
    uint64_t shared_region = layout.shared_region;

    struct address_range avoid[BOOT_MODULE_MAX + 1];
    unsigned avoid_count = 0;
    for (unsigned i = 1; i < boot->module_count; i++)
        avoid[avoid_count++] = modules[i];
    avoid[avoid_count++] = (struct address_range){ layout.boot_info, layout.boot_info + GUEST_BOOT_INFO_SIZE };
    if (!linux_guest && guest_elf_check_placement(&image, &boot->memmap, avoid, avoid_count, error, sizeof error) !=
                            GUEST_PLACEMENT_OK)
        refuse(name, error);

    uint64_t pool_base = layout.pool;
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
    verify_hypervisor_memory_hidden(&boot->memmap);
    log_info("EPT: identity map of 0-0x%lx minus hypervisor memory (checked page by page): %u table pages, "
             "%lu x 1G, %lu x 2M, %lu x 4K leaves",
             (unsigned long)limit, ept.table_pages, (unsigned long)ept.mapped_1gb, (unsigned long)ept.mapped_2mb,
             (unsigned long)ept.mapped_4kb);

    trap_apic_page();
    offer_additions_package(boot, &roles);

    struct guest_memory_writer writer = { identity_pointer, 0 };
    struct guest_entry_state entry;
    size_t info_size = 0;
    if (linux_guest) {
        /* The zero page, command line and boot GDT go where the boot information would. */
        struct guest_linux_boot_area area = { (uint32_t)layout.boot_info, GUEST_BOOT_INFO_SIZE };
        if (!guest_linux_boot_load(boot, &roles, file, avoid, avoid_count, &writer, area, &entry, error, sizeof error))
            refuse(name, error);
    } else {
        if (!guest_elf_load(&image, file, (size_t)module_size, &writer))
            refuse(name, "copying the segments failed");
        uint8_t *boot_info_page = identity_pointer(0, layout.boot_info, GUEST_BOOT_INFO_SIZE);
        info_size = guest_multiboot1_build(boot_info_page, GUEST_BOOT_INFO_SIZE, (uint32_t)layout.boot_info,
                                           &boot->memmap, roles.kernel_args, "vigil " VIGIL_VERSION);
        if (info_size == 0)
            panic("guest boot information does not fit in 0x%x bytes", GUEST_BOOT_INFO_SIZE);
        entry = (struct guest_entry_state){
            .entry_point = (uint32_t)image.entry,
            .eax = MULTIBOOT1_BOOTLOADER_MAGIC_VALUE,
            .ebx = (uint32_t)layout.boot_info,
        };
    }
    timer_configure(tsc_frequency, options->tick_ms, capabilities->preemption_timer_rate_shift);
    uint32_t timer_ticks = timer_preemption_value();
    vcpu_setup(&vcpu, capabilities, &pool, ept_pointer(&ept, false), timer_ticks, &entry);
    configure_ports(options, power);
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

    if (!linux_guest)
        log_info("guest (%s, command line '%s'): %s, entry 0x%lx, %u segments in 0x%lx-0x%lx, boot information at 0x%lx (%lu bytes)",
             name, roles.kernel_args,
             image.elf64 ? "ELF64" : "ELF32", (unsigned long)image.entry, image.segment_count,
             (unsigned long)image.lowest_address, (unsigned long)image.highest_address_end,
             (unsigned long)layout.boot_info, (unsigned long)info_size);
    log_info("guest image: pristine copy at 0x%lx-0x%lx, hidden from the guest", (unsigned long)layout.image_copy,
             (unsigned long)(layout.image_copy + module_size - 1));
    log_info("page pool 0x%lx-0x%lx: %u of %u pages used; tick %lu ms = %lu preemption-timer units%s",
             (unsigned long)pool_base, (unsigned long)(pool_base + POOL_SIZE - 1), pool.pages_in_use, pool.page_count,
             (unsigned long)options->tick_ms, (unsigned long)timer_ticks,
             vcpu.preemption_timer_saved ? "" : " (timer restarts at every entry)");
    /* Bochs advances the TSC once per emulated instruction (clock: sync=none), so
     * this is also the cost of booting up to the guest's first instruction. */
    log_info("launching the guest at TSC %lu", (unsigned long)cpu_read_tsc());
    log_set_buffered(true); /* from now on the timer drains the log: no exit waits for the line */
    return vcpu_run(&vcpu);
}
