/*
 * What the boot loader told vigil (hv/multiboot.c fills it in from Multiboot1 or
 * Multiboot2): the types the parser's parts and its callers share.
 */
#ifndef VIGIL_HV_BOOT_INFO_H
#define VIGIL_HV_BOOT_INFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/memmap.h"

struct physical_memory_access {
    /* Returns a pointer to `length` readable bytes at `physical_address`, or
     * NULL if any of them is outside what the accessor can reach. The parser
     * uses the pointer only until its next call, so a temporary mapping
     * window is enough. */
    const void *(*map)(void *context, uint64_t physical_address, size_t length);
    void *context;
};

/* Value in EAX at entry (Multiboot 0.6.96 §3.2, Multiboot2 §3.2). */
#define MULTIBOOT1_BOOTLOADER_MAGIC 0x2BADB002u
#define MULTIBOOT2_BOOTLOADER_MAGIC 0x36D76289u

#define BOOT_CMDLINE_MAX 1024
#define BOOT_LOADER_NAME_MAX 64
#define BOOT_MODULE_CMDLINE_MAX 4096 /* a guest's whole command line (Linux allows 2048; GRUB has no limit) */
#define BOOT_MODULE_MAX 16
#define BOOT_DIAGNOSTIC_MAX 8
#define BOOT_DIAGNOSTIC_LENGTH 96

struct boot_module {
    uint64_t start, end; /* physical, end exclusive as the specs define it */
    char cmdline[BOOT_MODULE_CMDLINE_MAX];
};

struct boot_info {
    unsigned protocol;                    /* 1 or 2; 0 if the magic was not recognised */
    char cmdline[BOOT_CMDLINE_MAX];       /* copied out, always NUL-terminated; truncation is a diagnostic */
    char loader_name[BOOT_LOADER_NAME_MAX];
    struct memmap memmap;                 /* as reported, then normalised */
    bool memmap_from_fallback;            /* only mem_lower/mem_upper (MB1 flag 0) or MB2 basic meminfo tag were given */
    unsigned module_count;
    struct boot_module modules[BOOT_MODULE_MAX];
    uint64_t rsdp_address;                /* MB2 ACPI new (preferred) or old RSDP tag: physical address of the
                                             copy inside the info block; 0 if none */
    unsigned diagnostic_count, diagnostics_dropped;
    char diagnostics[BOOT_DIAGNOSTIC_MAX][BOOT_DIAGNOSTIC_LENGTH];
};

enum boot_info_status {
    BOOT_INFO_OK = 0,
    BOOT_INFO_BAD_MAGIC,       /* EAX held neither magic value */
    BOOT_INFO_NULL_POINTER,    /* info address 0 (or no accessor / output) */
    BOOT_INFO_UNREADABLE,      /* the fixed part, the MB2 tag block, or a module list / memory map
                                  the MB1 flags point to is outside the accessor's reach */
    BOOT_INFO_MALFORMED,       /* a structural error; the diagnostics say what and where */
    BOOT_INFO_NO_MEMORY_MAP,   /* neither a memory map nor mem_lower/mem_upper */
};

/*
 * Parse the information block at `info_address` for the protocol `magic`
 * names into `out` (fully overwritten; keep it in static storage, it is about
 * 7.5 KiB). On any status other than BOOT_INFO_OK, `out` holds what was
 * gathered before the problem plus the diagnostics, and must not be used to
 * boot. On BOOT_INFO_OK the memory map has been normalised.
 */

/* Short stable name: "ok", "bad-magic", "null-pointer", "unreadable", "malformed", "no-memory-map". */
const char *boot_info_status_name(enum boot_info_status status);
/* One-line explanation for the console, e.g. "boot information is malformed (see diagnostics)". */
const char *boot_info_status_message(enum boot_info_status status);

#endif
