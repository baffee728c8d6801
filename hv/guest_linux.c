/*
 * Linux bzImage loader: setup header, placement, zero page. See guest_linux.h.
 * Offsets are those of boot.rst ("The real-mode kernel header", "Details of
 * header fields", "The 32-bit Boot Protocol") and of struct boot_params
 * (arch/x86/include/uapi/asm/bootparam.h); the file and the page are read and
 * written byte by byte, little-endian, whatever their alignment.
 */
#include "hv/guest_linux.h"

#include <string.h>

#include "lib/format.h"
#include "hv/guest_memory_map.h"

#define FOUR_GIB 0x100000000ull
#define ONE_MIB 0x100000ull
#define SECTOR_SIZE 512u

/* Setup header (offsets in the file and in boot_params alike). */
#define HDR_START 0x1F1u          /* setup_sects: the copied header starts here */
#define HDR_SETUP_SECTS 0x1F1u
#define HDR_BOOT_FLAG 0x1FEu      /* 0xAA55 */
#define HDR_JUMP_LENGTH 0x201u    /* the header ends at 0x202 + this byte */
#define HDR_MAGIC 0x202u          /* "HdrS" */
#define HDR_VERSION 0x206u
#define HDR_TYPE_OF_LOADER 0x210u
#define HDR_LOADFLAGS 0x211u
#define HDR_CODE32_START 0x214u
#define HDR_RAMDISK_IMAGE 0x218u
#define HDR_RAMDISK_SIZE 0x21Cu
#define HDR_CMD_LINE_PTR 0x228u
#define HDR_INITRD_ADDR_MAX 0x22Cu
#define HDR_KERNEL_ALIGNMENT 0x230u
#define HDR_RELOCATABLE 0x234u
#define HDR_MIN_ALIGNMENT 0x235u
#define HDR_XLOADFLAGS 0x236u
#define HDR_CMDLINE_SIZE 0x238u
#define HDR_HARDWARE_SUBARCH 0x23Cu
#define HDR_SETUP_DATA 0x250u
#define HDR_PREF_ADDRESS 0x258u
#define HDR_INIT_SIZE 0x260u
#define HDR_END_2_10 0x264u /* the last field vigil reads ends here */

#define BOOT_FLAG 0xAA55u
#define HDRS_MAGIC 0x53726448u /* "HdrS" little-endian */
#define LOADFLAGS_LOADED_HIGH 0x01u
#define XLF_KERNEL_64 0x01u
#define LOADER_TYPE_UNDEFINED 0xFFu /* boot.rst: "0xFF  Undefined" */
#define PROTOCOL_ACPI_RSDP 0x020Eu  /* 2.14: boot_params.acpi_rsdp_addr */

/* struct boot_params fields outside the setup header. */
#define BP_ACPI_RSDP_ADDR 0x070u
#define BP_EXT_RAMDISK_IMAGE 0x0C0u
#define BP_EXT_RAMDISK_SIZE 0x0C4u
#define BP_EXT_CMD_LINE_PTR 0x0C8u
#define BP_E820_ENTRIES 0x1E8u
#define BP_E820_TABLE 0x2D0u
#define BP_E820_ENTRY_SIZE 20u   /* u64 addr, u64 size, u32 type, packed */
#define BP_E820_MAX_ENTRIES 128u /* E820_MAX_ENTRIES_ZEROPAGE */
_Static_assert(BP_E820_TABLE + BP_E820_MAX_ENTRIES * BP_E820_ENTRY_SIZE <= LINUX_ZERO_PAGE_SIZE, "e820 table in the page");
_Static_assert(MEMMAP_MAX_ENTRIES <= BP_E820_MAX_ENTRIES, "every guest map entry fits the zero page");

static uint16_t load_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t load_u32(const uint8_t *p) { return (uint32_t)load_u16(p) | (uint32_t)load_u16(p + 2) << 16; }
static uint64_t load_u64(const uint8_t *p) { return (uint64_t)load_u32(p) | (uint64_t)load_u32(p + 4) << 32; }

static void store_u32(uint8_t *p, uint32_t value)
{
    for (unsigned i = 0; i < 4; i++)
        p[i] = (uint8_t)(value >> (8 * i));
}

static void store_u64(uint8_t *p, uint64_t value)
{
    store_u32(p, (uint32_t)value);
    store_u32(p + 4, (uint32_t)(value >> 32));
}

static enum guest_linux_status fail(enum guest_linux_status status, char *error, size_t error_size, const char *format,
                                    ...) __attribute__((format(printf, 4, 5)));
static enum guest_linux_status fail(enum guest_linux_status status, char *error, size_t error_size, const char *format,
                                    ...)
{
    if (error != NULL && error_size > 0) {
        va_list arguments;
        va_start(arguments, format);
        format_vstring(error, error_size, format, arguments);
        va_end(arguments);
    }
    return status;
}

bool guest_linux_is_bzimage(const uint8_t *file, size_t file_size)
{
    return file != NULL && file_size >= HDR_MAGIC + 4 && load_u32(file + HDR_MAGIC) == HDRS_MAGIC;
}

static bool power_of_two(uint64_t value)
{
    return value != 0 && (value & (value - 1)) == 0;
}

enum guest_linux_status guest_linux_parse(const uint8_t *file, size_t file_size, struct linux_kernel *kernel,
                                          char *error, size_t error_size)
{
    memset(kernel, 0, sizeof *kernel);
    if (file == NULL || file_size < HDR_END_2_10)
        return fail(GUEST_LINUX_TOO_SMALL, error, error_size, "%zu bytes: shorter than a 2.10 setup header (%u)",
                    file_size, HDR_END_2_10);
    if (load_u16(file + HDR_BOOT_FLAG) != BOOT_FLAG || load_u32(file + HDR_MAGIC) != HDRS_MAGIC)
        return fail(GUEST_LINUX_NOT_BZIMAGE, error, error_size, "no Linux setup header (boot flag 0x%x, magic 0x%x)",
                    load_u16(file + HDR_BOOT_FLAG), load_u32(file + HDR_MAGIC));
    kernel->protocol = load_u16(file + HDR_VERSION);
    if (kernel->protocol < LINUX_MIN_PROTOCOL)
        return fail(GUEST_LINUX_PROTOCOL_TOO_OLD, error, error_size, "boot protocol %u.%02u: vigil needs 2.10 or later",
                    kernel->protocol >> 8, kernel->protocol & 0xFF);
    if (!(file[HDR_LOADFLAGS] & LOADFLAGS_LOADED_HIGH))
        return fail(GUEST_LINUX_NOT_BZIMAGE, error, error_size, "a zImage (loaded low), not a bzImage");
    if (file[HDR_RELOCATABLE] == 0)
        return fail(GUEST_LINUX_NOT_RELOCATABLE, error, error_size,
                    "kernel not relocatable: it would have to sit at 0x%x, which vigil does not promise",
                    load_u32(file + HDR_CODE32_START));
    kernel->xloadflags = load_u16(file + HDR_XLOADFLAGS);
    if (!(kernel->xloadflags & XLF_KERNEL_64))
        return fail(GUEST_LINUX_NOT_64BIT, error, error_size, "not a 64-bit kernel (xloadflags 0x%x)", kernel->xloadflags);

    kernel->header_end = HDR_MAGIC + file[HDR_JUMP_LENGTH];
    if (kernel->header_end < HDR_END_2_10 || kernel->header_end > BP_E820_TABLE)
        return fail(GUEST_LINUX_BAD_HEADER, error, error_size,
                    "setup header ends at 0x%x, before the 2.10 fields it claims (0x%x) or inside the e820 table",
                    kernel->header_end, HDR_END_2_10);
    unsigned setup_sects = file[HDR_SETUP_SECTS] ? file[HDR_SETUP_SECTS] : 4; /* boot.rst: 0 means 4 */
    kernel->payload_offset = (uint64_t)(setup_sects + 1) * SECTOR_SIZE;
    if (kernel->payload_offset < kernel->header_end || kernel->payload_offset >= file_size)
        return fail(GUEST_LINUX_TOO_SMALL, error, error_size,
                    "%u setup sectors: the protected-mode kernel would start at 0x%lx, file has %zu bytes",
                    setup_sects, (unsigned long)kernel->payload_offset, file_size);
    kernel->payload_size = file_size - kernel->payload_offset;

    kernel->pref_address = load_u64(file + HDR_PREF_ADDRESS);
    kernel->kernel_alignment = load_u32(file + HDR_KERNEL_ALIGNMENT);
    unsigned min_shift = file[HDR_MIN_ALIGNMENT];
    kernel->init_size = load_u32(file + HDR_INIT_SIZE);
    kernel->cmdline_max = load_u32(file + HDR_CMDLINE_SIZE);
    kernel->initrd_addr_max = load_u32(file + HDR_INITRD_ADDR_MAX);
    if (!power_of_two(kernel->kernel_alignment) || kernel->kernel_alignment < 4096)
        return fail(GUEST_LINUX_BAD_HEADER, error, error_size, "kernel_alignment 0x%x is not a power of two >= 4 KiB",
                    kernel->kernel_alignment);
    if (min_shift < 12 || min_shift > 30 || (1u << min_shift) > kernel->kernel_alignment)
        return fail(GUEST_LINUX_BAD_HEADER, error, error_size,
                    "min_alignment 2^%u outside 4 KiB..kernel_alignment (0x%x)", min_shift, kernel->kernel_alignment);
    kernel->min_alignment = 1u << min_shift;
    if (kernel->init_size < kernel->payload_size)
        return fail(GUEST_LINUX_BAD_HEADER, error, error_size,
                    "init_size 0x%x is smaller than the protected-mode kernel (0x%lx bytes)", kernel->init_size,
                    (unsigned long)kernel->payload_size);
    if (kernel->pref_address >= FOUR_GIB)
        return fail(GUEST_LINUX_BAD_HEADER, error, error_size, "pref_address 0x%lx above 4 GiB",
                    (unsigned long)kernel->pref_address);
    return GUEST_LINUX_OK;
}

const char *guest_linux_status_name(enum guest_linux_status status)
{
    switch (status) {
    case GUEST_LINUX_OK: return "ok";
    case GUEST_LINUX_TOO_SMALL: return "too-small";
    case GUEST_LINUX_NOT_BZIMAGE: return "not-bzimage";
    case GUEST_LINUX_PROTOCOL_TOO_OLD: return "protocol-too-old";
    case GUEST_LINUX_NOT_RELOCATABLE: return "not-relocatable";
    case GUEST_LINUX_NOT_64BIT: return "not-64bit";
    case GUEST_LINUX_BAD_HEADER: return "bad-header";
    case GUEST_LINUX_NO_ROOM: return "no-room";
    case GUEST_LINUX_CMDLINE_TOO_LONG: return "cmdline-too-long";
    case GUEST_LINUX_INITRD_TOO_HIGH: return "initrd-too-high";
    }
    return "unknown";
}

static uint64_t align_up(uint64_t value, uint64_t alignment)
{
    return (value + alignment - 1) & ~(alignment - 1);
}

/* The lowest aligned start >= floor inside one RAM entry that avoids every
 * range; false if none. Each retry moves past one avoided range's end, so the
 * loop ends within avoid_count + 1 rounds. */
static bool place_in_entry(const struct memmap_entry *entry, uint64_t floor, uint64_t need, uint64_t alignment,
                           const struct address_range *avoid, unsigned avoid_count, uint64_t *address)
{
    uint64_t end = entry->base + entry->length; /* normalised: no wrap */
    if (end > FOUR_GIB)
        end = FOUR_GIB;
    uint64_t start = align_up(entry->base > floor ? entry->base : floor, alignment);
    for (unsigned round = 0; round <= avoid_count; round++) {
        if (start >= end || need > end - start)
            return false;
        bool moved = false;
        for (unsigned a = 0; a < avoid_count; a++) {
            if (avoid[a].end > avoid[a].start && avoid[a].start < start + need && start < avoid[a].end) {
                start = align_up(avoid[a].end, alignment);
                moved = true;
            }
        }
        if (!moved) {
            *address = start;
            return true;
        }
    }
    return false;
}

static bool place_with(const struct memmap *map, uint64_t floor, uint64_t need, uint64_t alignment,
                       const struct address_range *avoid, unsigned avoid_count, uint64_t *address)
{
    unsigned count = map->count < MEMMAP_MAX_ENTRIES ? map->count : MEMMAP_MAX_ENTRIES;
    for (unsigned i = 0; i < count; i++) {
        const struct memmap_entry *entry = &map->entries[i];
        if (entry->type != MEMMAP_RAM || entry->base >= FOUR_GIB || entry->base + entry->length <= floor)
            continue;
        if (place_in_entry(entry, floor, need, alignment, avoid, avoid_count, address))
            return true;
    }
    return false;
}

enum guest_linux_status guest_linux_place(const struct linux_kernel *kernel, const struct memmap *map,
                                          const struct address_range *avoid, unsigned avoid_count,
                                          uint64_t *address, char *error, size_t error_size)
{
    if (avoid == NULL)
        avoid_count = 0;
    uint64_t need = kernel->init_size > kernel->payload_size ? kernel->init_size : kernel->payload_size;
    uint64_t floor = kernel->pref_address > ONE_MIB ? kernel->pref_address : ONE_MIB;
    /* Preferred first: pref_address and kernel_alignment save the kernel a
     * relocation; then anything from 1 MiB; then the least alignment. */
    if (place_with(map, floor, need, kernel->kernel_alignment, avoid, avoid_count, address) ||
        place_with(map, ONE_MIB, need, kernel->kernel_alignment, avoid, avoid_count, address) ||
        place_with(map, ONE_MIB, need, kernel->min_alignment, avoid, avoid_count, address))
        return GUEST_LINUX_OK;
    return fail(GUEST_LINUX_NO_ROOM, error, error_size,
                "no free RAM below 4 GiB for the kernel's 0x%lx bytes (init_size) aligned to 0x%x",
                (unsigned long)need, kernel->min_alignment);
}

static void store_e820_entry(void *context, unsigned index, uint64_t base, uint64_t length, uint32_t type)
{
    uint8_t *p = (uint8_t *)context + BP_E820_TABLE + (size_t)index * BP_E820_ENTRY_SIZE;
    store_u64(p, base);
    store_u64(p + 8, length);
    store_u32(p + 16, type);
}

enum guest_linux_status guest_linux_build_zero_page(uint8_t *zero_page, const struct linux_kernel *kernel,
                                                    const uint8_t *file, size_t file_size,
                                                    const struct linux_boot_layout *layout, const struct memmap *map,
                                                    char *error, size_t error_size)
{
    memset(zero_page, 0, LINUX_ZERO_PAGE_SIZE);
    /* A header running into the e820 table would be no setup header we know. */
    if (kernel->header_end <= HDR_START || kernel->header_end > file_size || kernel->header_end > BP_E820_TABLE)
        return fail(GUEST_LINUX_BAD_HEADER, error, error_size, "setup header end 0x%x outside the file or the page",
                    kernel->header_end);
    const char *cmdline = layout->cmdline ? layout->cmdline : "";
    size_t cmdline_length = strnlen(cmdline, (size_t)kernel->cmdline_max + 1);
    if (cmdline_length > kernel->cmdline_max)
        return fail(GUEST_LINUX_CMDLINE_TOO_LONG, error, error_size,
                    "kernel command line longer than the %u bytes the kernel accepts", kernel->cmdline_max);
    if (layout->initrd_size != 0) {
        uint64_t last;
        if (__builtin_add_overflow(layout->initrd_address, layout->initrd_size - 1, &last) || last >= FOUR_GIB ||
            last > kernel->initrd_addr_max)
            return fail(GUEST_LINUX_INITRD_TOO_HIGH, error, error_size,
                        "initrd 0x%lx+0x%lx ends above the kernel's initrd_addr_max 0x%x",
                        (unsigned long)layout->initrd_address, (unsigned long)layout->initrd_size,
                        kernel->initrd_addr_max);
    }

    /* boot.rst, 32-bit protocol: "copy [the setup header] from the kernel image
     * into the zero page", then fill in what a boot loader owns. */
    memcpy(zero_page + HDR_START, file + HDR_START, kernel->header_end - HDR_START);
    zero_page[HDR_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
    store_u32(zero_page + HDR_CODE32_START, (uint32_t)layout->kernel_address);
    store_u32(zero_page + HDR_CMD_LINE_PTR, layout->cmdline_address);
    store_u32(zero_page + HDR_RAMDISK_IMAGE, (uint32_t)layout->initrd_address);
    store_u32(zero_page + HDR_RAMDISK_SIZE, (uint32_t)layout->initrd_size);
    store_u32(zero_page + BP_EXT_RAMDISK_IMAGE, 0); /* everything below 4 GiB */
    store_u32(zero_page + BP_EXT_RAMDISK_SIZE, 0);
    store_u32(zero_page + BP_EXT_CMD_LINE_PTR, 0);
    store_u32(zero_page + HDR_HARDWARE_SUBARCH, 0); /* a PC */
    store_u64(zero_page + HDR_SETUP_DATA, 0);       /* no setup_data chain */
    if (kernel->protocol >= PROTOCOL_ACPI_RSDP)
        store_u64(zero_page + BP_ACPI_RSDP_ADDR, layout->rsdp_address);
    zero_page[BP_E820_ENTRIES] = (uint8_t)guest_memory_map_walk(map, store_e820_entry, zero_page);
    return GUEST_LINUX_OK;
}

void guest_linux_boot_gdt(uint8_t gdt[LINUX_BOOT_GDT_SIZE])
{
    memset(gdt, 0, LINUX_BOOT_GDT_SIZE);
    /* Base 0, limit 0xFFFFF with G=1 (4 GiB), D=1 (32-bit); type 0xA
     * execute/read code and 0x2 read/write data, present, DPL 0 (SDM Vol. 3A §3.4.5). */
    store_u64(gdt + LINUX_BOOT_CS, 0x00CF9A000000FFFFull);
    store_u64(gdt + LINUX_BOOT_DS, 0x00CF92000000FFFFull);
}
