/* Linux guest launch on the machine; see guest_linux_boot.h and guest_linux.h. */
#include "hv/guest_linux_boot.h"

#include <string.h>

#include "lib/format.h"
#include "hv/guest_linux.h"
#include "hv/log.h"

#define ZERO_PAGE_OFFSET 0x0000u
#define CMDLINE_OFFSET 0x1000u
#define CMDLINE_ROOM 0x800u /* 2048 bytes with the NUL: Linux's COMMAND_LINE_SIZE on x86 */
#define GDT_OFFSET 0x1800u
_Static_assert(GDT_OFFSET >= CMDLINE_OFFSET + CMDLINE_ROOM, "command line and GDT apart");

static struct linux_kernel kernel;
static size_t kernel_file_size;
static struct memmap guest_map; /* too large for the boot stack */

bool guest_linux_boot_parse(const uint8_t *file, size_t file_size, char *error, size_t error_size)
{
    enum guest_linux_status status = guest_linux_parse(file, file_size, &kernel, error, error_size);
    if (status != GUEST_LINUX_OK)
        return false;
    kernel_file_size = file_size;
    log_info("Linux bzImage: boot protocol %u.%02u, %lu-byte kernel, pref_address 0x%lx, alignment 0x%x, "
             "init_size 0x%x, command line up to %u bytes",
             kernel.protocol >> 8, kernel.protocol & 0xFF, (unsigned long)kernel.payload_size,
             (unsigned long)kernel.pref_address, kernel.kernel_alignment, kernel.init_size, kernel.cmdline_max);
    return true;
}

bool guest_linux_boot_load(const struct boot_info *boot, const struct guest_modules *roles, const uint8_t *kernel_file,
                           const struct address_range *avoid, unsigned avoid_count,
                           const struct guest_memory_writer *writer, struct guest_linux_boot_area area,
                           struct guest_entry_state *entry, char *error, size_t error_size)
{
    if (area.size < GDT_OFFSET + LINUX_BOOT_GDT_SIZE) {
        format_string(error, error_size, "boot area of %u bytes is too small", area.size);
        return false;
    }
    uint64_t address;
    if (guest_linux_place(&kernel, &boot->memmap, avoid, avoid_count, &address, error, error_size) != GUEST_LINUX_OK)
        return false;

    struct linux_boot_layout layout = {
        .kernel_address = address,
        .cmdline_address = area.address + CMDLINE_OFFSET,
        .cmdline = roles->kernel_args,
        .rsdp_address = boot->rsdp_address,
    };
    if (strlen(layout.cmdline) >= CMDLINE_ROOM) {
        format_string(error, error_size, "kernel command line longer than %u bytes", CMDLINE_ROOM - 1);
        return false;
    }
    if (roles->initrd != GUEST_MODULE_NONE) {
        const struct boot_module *initrd = &boot->modules[roles->initrd];
        layout.initrd_address = initrd->start;
        layout.initrd_size = initrd->end > initrd->start ? initrd->end - initrd->start : 0;
    }
    /* The Additions package stays where the boot loader put it, read-only to
     * the guest: reserved in e820 so Linux neither allocates it nor refuses
     * /dev/mem access to it (STRICT_DEVMEM maps only what is not System RAM). */
    guest_map = boot->memmap;
    if (roles->additions != GUEST_MODULE_NONE) {
        const struct boot_module *package = &boot->modules[roles->additions];
        uint64_t start = package->start & ~0xFFFull, end = (package->end + 0xFFF) & ~0xFFFull;
        if (end > start && !memmap_carve(&guest_map, start, end - start, MEMMAP_RESERVED))
            log_warn("Additions package 0x%lx-0x%lx not reserved in the guest's e820", (unsigned long)start,
                     (unsigned long)end);
    }

    uint8_t *zero_page = writer->pointer(writer->context, area.address + ZERO_PAGE_OFFSET, LINUX_ZERO_PAGE_SIZE);
    char *cmdline = writer->pointer(writer->context, layout.cmdline_address, CMDLINE_ROOM);
    uint8_t *gdt = writer->pointer(writer->context, area.address + GDT_OFFSET, LINUX_BOOT_GDT_SIZE);
    uint8_t *destination = writer->pointer(writer->context, address, kernel.payload_size);
    if (!zero_page || !cmdline || !gdt || !destination) {
        format_string(error, error_size, "boot area or kernel destination not addressable");
        return false;
    }
    if (guest_linux_build_zero_page(zero_page, &kernel, kernel_file, kernel_file_size, &layout, &guest_map, error,
                                    error_size) != GUEST_LINUX_OK)
        return false;
    memset(cmdline, 0, CMDLINE_ROOM);
    memcpy(cmdline, layout.cmdline, strlen(layout.cmdline));
    guest_linux_boot_gdt(gdt);
    /* The source is vigil's own copy of the module, hidden from the guest: no overlap. */
    memcpy(destination, kernel_file + kernel.payload_offset, kernel.payload_size);

    *entry = (struct guest_entry_state){
        .entry_point = (uint32_t)address, /* startup_32 is the first byte of the protected-mode kernel */
        .esi = area.address + ZERO_PAGE_OFFSET,
        .code_selector = LINUX_BOOT_CS,
        .data_selector = LINUX_BOOT_DS,
        .gdt_base = area.address + GDT_OFFSET,
        .gdt_limit = LINUX_BOOT_GDT_SIZE - 1,
    };
    log_info("Linux: kernel at 0x%lx-0x%lx (init_size), zero page 0x%x, initrd 0x%lx+0x%lx, e820 %u entries, "
             "command line '%s'",
             (unsigned long)address, (unsigned long)(address + kernel.init_size), area.address + ZERO_PAGE_OFFSET,
             (unsigned long)layout.initrd_address, (unsigned long)layout.initrd_size, zero_page[0x1E8], layout.cmdline);
    return true;
}
