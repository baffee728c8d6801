/*
 * Multiboot1 ELF guests: parse, check placement, load.
 *
 * A guest kernel arrives as a boot module: bytes in physical memory that
 * whoever built the boot medium chose. Every field of it is hostile input:
 * each offset and size is bounded against the module, each addition is
 * checked for overflow, and each failure is reported with a status and a
 * one-line reason that says what was wrong and where.
 *
 * The work is split in three steps so that nothing is written until
 * everything has been checked:
 *   1. guest_elf_parse: the file on its own (ELF gABI, Multiboot 0.6.96 §3.1);
 *   2. guest_elf_check_placement: the file against the host memory map and the
 *      ranges that must survive the load (the module itself, other modules,
 *      the guest's boot information page);
 *   3. guest_elf_load: copy and zero, through a writer, so the same code runs
 *      on bare metal (identity map) and in host unit tests (a fake guest RAM).
 */
#ifndef VIGIL_HV_GUEST_ELF_H
#define VIGIL_HV_GUEST_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/memmap.h"

#define GUEST_SEGMENT_MAX 16

/* One PT_LOAD program header with a non-zero p_memsz. */
struct guest_segment {
    uint64_t physical_address; /* p_paddr: where it goes in guest-physical memory */
    uint64_t file_offset;      /* p_offset */
    uint64_t file_size;        /* p_filesz: bytes copied from the file */
    uint64_t memory_size;      /* p_memsz >= p_filesz: the rest is zeroed (bss) */
};

struct guest_image {
    uint64_t entry;                 /* must be < 4 GiB: a multiboot1 guest starts in 32-bit protected mode */
    bool elf64;
    unsigned segment_count;
    struct guest_segment segments[GUEST_SEGMENT_MAX]; /* in program header order */
    uint64_t lowest_address, highest_address_end;     /* over all segments; end exclusive */
    bool has_multiboot1_header;
    uint32_t multiboot1_flags;
};

enum guest_elf_status {
    GUEST_ELF_OK = 0,
    GUEST_ELF_TOO_SMALL,                /* shorter than the ELF header of its class */
    GUEST_ELF_BAD_MAGIC,                /* not \x7fELF, or ELF version not EV_CURRENT */
    GUEST_ELF_UNSUPPORTED_CLASS,        /* EI_CLASS neither ELFCLASS32 nor ELFCLASS64 */
    GUEST_ELF_NOT_LITTLE_ENDIAN,        /* EI_DATA not ELFDATA2LSB */
    GUEST_ELF_NOT_EXECUTABLE,           /* e_type not ET_EXEC (e.g. ET_DYN, ET_REL) */
    GUEST_ELF_WRONG_MACHINE,            /* ELF32 not EM_386, or ELF64 not EM_X86_64 */
    GUEST_ELF_BAD_PROGRAM_HEADERS,      /* e_phentsize wrong, table outside the file, PN_XNUM */
    GUEST_ELF_SEGMENT_OUTSIDE_FILE,     /* p_offset + p_filesz past the end of the module (or overflows) */
    GUEST_ELF_SEGMENT_SIZE_INVALID,     /* p_memsz < p_filesz */
    GUEST_ELF_TOO_MANY_SEGMENTS,        /* more than GUEST_SEGMENT_MAX loadable segments */
    GUEST_ELF_NO_SEGMENTS,              /* no program headers, or no PT_LOAD with p_memsz > 0 */
    GUEST_ELF_SEGMENTS_OVERLAP,         /* two segments share guest-physical bytes */
    GUEST_ELF_ENTRY_OUTSIDE_SEGMENTS,   /* e_entry in no loaded segment */
    GUEST_ELF_ADDRESS_TOO_HIGH,         /* a segment wraps or ends above 4 GiB */
    GUEST_ELF_NO_MULTIBOOT_HEADER,      /* no valid Multiboot1 header in the first 8192 bytes */
    GUEST_ELF_MULTIBOOT_FLAGS_UNSUPPORTED, /* a requirement bit (0-15) vigil cannot honour */
};

/*
 * Parses ELF32 (EM_386) or ELF64 (EM_X86_64) executables (ET_EXEC) into
 * `image` (fully overwritten; meaningful only on GUEST_ELF_OK).
 *
 * - PT_LOAD segments use p_paddr as the guest-physical load address
 *   (multiboot loads by physical address). p_memsz >= p_filesz is required;
 *   zero-p_memsz segments are skipped. Other program header types are ignored.
 * - The entry point is e_entry translated from virtual to physical through the
 *   PT_LOAD segment whose [p_vaddr, p_vaddr + p_memsz) contains it, as GRUB
 *   does, so a higher-half kernel (p_vaddr != p_paddr) starts at the right
 *   physical address; image->entry is that physical address.
 * - The Multiboot1 header (magic 0x1BADB002, flags, checksum making the three
 *   sum to 0) must lie wholly within the first 8192 bytes, 4-byte aligned
 *   (spec §3.1.1). Like GRUB, a magic with a bad checksum does not stop the
 *   search. Requirement bits 0-15 that vigil does not implement (bit 2: video
 *   mode, and the undefined bits 3-15) give GUEST_ELF_MULTIBOOT_FLAGS_UNSUPPORTED
 *   (§3.1.2: the loader must fail rather than ignore them); bit 16 (a.out
 *   kludge) is ignored for ELF files (we load by ELF headers, as GRUB does) but
 *   recorded in multiboot1_flags.
 *
 * `error` (may be NULL / 0) receives a one-line NUL-terminated reason: what and
 * where, e.g. "segment 2: file range 0x1000+0x5000 past end of module (0x3000
 * bytes)". Segment numbers in messages are program header indices.
 */
enum guest_elf_status guest_elf_parse(const uint8_t *file, size_t file_size, struct guest_image *image,
                                      char *error, size_t error_size);

/* Short stable name: "ok", "too-small", "bad-magic", ... "multiboot-flags-unsupported". */
const char *guest_elf_status_name(enum guest_elf_status status);

/*
 * Placement (before anything is copied): every segment must lie wholly inside
 * RAM of the host map (type MEMMAP_RAM, not MEMMAP_HYPERVISOR or anything
 * else), must not overlap [avoid_start, avoid_end) ranges the caller passes
 * (the module's own bytes, other modules, the guest boot info page), and the
 * image must fit (highest_address_end <= 4 GiB).
 *
 * The map need not be normalised: a segment is accepted only if no non-RAM
 * entry overlaps it and RAM entries cover every byte of it.
 */
struct address_range {
    uint64_t start, end; /* end exclusive */
};

enum guest_placement_status {
    GUEST_PLACEMENT_OK = 0,
    GUEST_PLACEMENT_NOT_IN_RAM,             /* a segment touches a non-RAM entry or a hole in the map */
    GUEST_PLACEMENT_OVERLAPS_HYPERVISOR,    /* a segment touches a MEMMAP_HYPERVISOR entry */
    GUEST_PLACEMENT_OVERLAPS_RESERVED_RANGE, /* a segment touches one of the `avoid` ranges */
    GUEST_PLACEMENT_TOO_HIGH,               /* the image (or a segment) wraps or ends above 4 GiB */
};

enum guest_placement_status guest_elf_check_placement(const struct guest_image *image, const struct memmap *map,
                                                      const struct address_range *avoid, unsigned avoid_count,
                                                      char *error, size_t error_size);

/* Short stable name: "ok", "not-in-ram", "overlaps-hypervisor", "overlaps-reserved-range", "too-high". */
const char *guest_placement_status_name(enum guest_placement_status status);

/*
 * Where guest_elf_load writes: pointer() returns `length` writable bytes at
 * guest-physical `guest_physical`, or NULL if it cannot (identity pointer on
 * bare metal, a fake guest RAM buffer in tests).
 */
struct guest_memory_writer {
    void *(*pointer)(void *context, uint64_t guest_physical, uint64_t length);
    void *context;
};

/*
 * Copies file bytes and zeroes the rest of each segment through `writer`.
 * `image` must come from guest_elf_parse of the same `file`, and its placement
 * must have been checked; the segment bounds are checked again anyway. Returns
 * false (possibly after loading some segments) if a bound fails or the writer
 * returns NULL.
 */
bool guest_elf_load(const struct guest_image *image, const uint8_t *file, size_t file_size,
                    const struct guest_memory_writer *writer);

#endif /* VIGIL_HV_GUEST_ELF_H */
