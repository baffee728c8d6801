/*
 * Linux bzImage guests: the x86 boot protocol, 32-bit entry (Linux
 * Documentation/arch/x86/boot.rst, "The 32-bit Boot Protocol"; ACRN's
 * bzimage_loader.c does the same job on the hypervisor side).
 *
 * Like the ELF loader, the work is split so that nothing is written until
 * everything has been checked, and so the host unit tests run the same code:
 *   1. guest_linux_parse: the setup header on its own; refuses what vigil
 *      cannot boot with the reason (not a bzImage, protocol < 2.10, not
 *      relocatable, not 64-bit capable, header fields that contradict the file);
 *   2. guest_linux_place: the first free RAM at or above pref_address, aligned,
 *      with room for init_size, clear of the ranges the caller must keep;
 *   3. guest_linux_build_zero_page: boot_params ("zero page") with the setup
 *      header copied, loader type 0xFF, command line, initrd, e820 map.
 * Copying the protected-mode kernel is a plain copy of
 * [payload_offset, payload_offset + payload_size) to the placed address.
 *
 * Every field of the file is hostile input: offsets are bounded against the
 * file, additions are overflow-checked.
 */
#ifndef VIGIL_HV_GUEST_LINUX_H
#define VIGIL_HV_GUEST_LINUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/guest_elf.h" /* struct address_range */
#include "lib/memmap.h"

#define LINUX_ZERO_PAGE_SIZE 4096u
#define LINUX_MIN_PROTOCOL 0x020Au /* 2.10: pref_address and init_size exist */

/* What vigil needs from the setup header (boot.rst "The real-mode kernel header"). */
struct linux_kernel {
    uint16_t protocol;         /* 0x206 version: major << 8 | minor */
    uint32_t header_end;       /* 0x202 + byte at 0x201: the setup header ends here (exclusive) */
    uint64_t payload_offset;   /* (setup_sects + 1) * 512, setup_sects 0 meaning 4 */
    uint64_t payload_size;     /* the rest of the file: the protected-mode kernel */
    uint64_t pref_address;     /* 0x258 */
    uint32_t kernel_alignment; /* 0x230: preferred load alignment (a power of two) */
    uint32_t min_alignment;    /* 1 << byte at 0x235: the least alignment the kernel accepts */
    uint32_t init_size;        /* 0x260: contiguous bytes the kernel needs from its load address */
    uint32_t cmdline_max;      /* 0x238 cmdline_size: longest command line, NUL excluded */
    uint32_t initrd_addr_max;  /* 0x22C: highest address the initrd's last byte may have */
    uint16_t xloadflags;       /* 0x236 */
};

enum guest_linux_status {
    GUEST_LINUX_OK = 0,
    GUEST_LINUX_TOO_SMALL,          /* shorter than the setup header, or than its setup sectors */
    GUEST_LINUX_NOT_BZIMAGE,        /* no 0xAA55 boot flag / "HdrS" magic, or not loaded high */
    GUEST_LINUX_PROTOCOL_TOO_OLD,   /* boot protocol older than 2.10 */
    GUEST_LINUX_NOT_RELOCATABLE,    /* relocatable_kernel is 0 */
    GUEST_LINUX_NOT_64BIT,          /* XLF_KERNEL_64 clear: no 64-bit entry, so no long-mode kernel */
    GUEST_LINUX_BAD_HEADER,         /* fields that contradict each other or the file */
    GUEST_LINUX_NO_ROOM,            /* no free RAM below 4 GiB for init_size bytes */
    GUEST_LINUX_CMDLINE_TOO_LONG,   /* longer than the kernel's cmdline_size */
    GUEST_LINUX_INITRD_TOO_HIGH,    /* initrd ends above initrd_addr_max */
};

/* True if the file carries the setup header magic ("HdrS" at 0x202): the
 * launcher's choice between this loader and the ELF one. */
bool guest_linux_is_bzimage(const uint8_t *file, size_t file_size);

/* Parses the setup header into `kernel` (meaningful only on GUEST_LINUX_OK).
 * `error` (may be NULL / 0) receives a one-line reason. */
enum guest_linux_status guest_linux_parse(const uint8_t *file, size_t file_size, struct linux_kernel *kernel,
                                          char *error, size_t error_size);

/* Short stable name: "ok", "too-small", "not-bzimage", ... */
const char *guest_linux_status_name(enum guest_linux_status status);

/*
 * The lowest address >= pref_address (then >= 1 MiB if nothing fits above it)
 * aligned to kernel_alignment (then to min_alignment if nothing fits), where
 * max(init_size, payload_size) bytes are RAM in `map`, end at or below 4 GiB
 * (the 32-bit entry runs without paging) and overlap none of the `avoid`
 * ranges. `map` must be normalised (memmap_normalize). GUEST_LINUX_NO_ROOM if
 * there is no such place.
 */
enum guest_linux_status guest_linux_place(const struct linux_kernel *kernel, const struct memmap *map,
                                          const struct address_range *avoid, unsigned avoid_count,
                                          uint64_t *address, char *error, size_t error_size);

/* Where the pieces of the boot went (guest-physical addresses). */
struct linux_boot_layout {
    uint64_t kernel_address;  /* from guest_linux_place */
    uint32_t cmdline_address; /* where the caller stores the command line (below 4 GiB) */
    const char *cmdline;      /* NUL-terminated; "" for none */
    uint64_t initrd_address, initrd_size; /* size 0: no initrd */
    uint64_t rsdp_address;    /* 0 if unknown: the kernel scans the BIOS areas itself */
};

/*
 * Fills `zero_page` (LINUX_ZERO_PAGE_SIZE bytes, fully overwritten): the setup
 * header copied from the file, type_of_loader 0xFF (undefined), code32_start,
 * cmd_line_ptr, ramdisk_image/ramdisk_size, acpi_rsdp_addr (protocol >= 2.14)
 * and the e820 map from `map` as guest_memory_map presents it (vigil's memory
 * and the shared region reserved). Refuses a command line longer than
 * cmdline_max and an initrd above initrd_addr_max or 4 GiB.
 */
enum guest_linux_status guest_linux_build_zero_page(uint8_t *zero_page, const struct linux_kernel *kernel,
                                                    const uint8_t *file, size_t file_size,
                                                    const struct linux_boot_layout *layout, const struct memmap *map,
                                                    char *error, size_t error_size);

/* The flat GDT the 32-bit protocol requires: null, null, __BOOT_CS (0x10,
 * 4 GiB execute/read), __BOOT_DS (0x18, 4 GiB read/write). */
#define LINUX_BOOT_CS 0x10u
#define LINUX_BOOT_DS 0x18u
#define LINUX_BOOT_GDT_SIZE 32u
void guest_linux_boot_gdt(uint8_t gdt[LINUX_BOOT_GDT_SIZE]);

#endif /* VIGIL_HV_GUEST_LINUX_H */
