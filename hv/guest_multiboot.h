/*
 * The Multiboot1 information vigil hands its guest (Multiboot 0.6.96 §3.3).
 *
 * A multiboot1 guest finds, at entry, EAX = 0x2BADB002 and EBX = the
 * guest-physical address of this structure (§3.2). vigil builds it in a
 * buffer the guest will see at a known guest-physical address, so every
 * pointer inside it is that address plus an offset into the buffer.
 */
#ifndef VIGIL_HV_GUEST_MULTIBOOT_H
#define VIGIL_HV_GUEST_MULTIBOOT_H

#include <stddef.h>
#include <stdint.h>

#include "lib/memmap.h"

/* multiboot_info.flags bits (§3.3) vigil sets. */
#define GUEST_MULTIBOOT1_INFO_MEMORY (1u << 0)      /* mem_lower, mem_upper */
#define GUEST_MULTIBOOT1_INFO_CMDLINE (1u << 2)     /* cmdline */
#define GUEST_MULTIBOOT1_INFO_MODULES (1u << 3)     /* mods_count, mods_addr: an empty list, as GRUB gives */
#define GUEST_MULTIBOOT1_INFO_MEMORY_MAP (1u << 6)  /* mmap_length, mmap_addr */
#define GUEST_MULTIBOOT1_INFO_LOADER_NAME (1u << 9) /* boot_loader_name */

/* Offsets of the fields vigil fills in the fixed part (§3.3). */
#define GUEST_MULTIBOOT1_FLAGS_OFFSET 0
#define GUEST_MULTIBOOT1_MEM_LOWER_OFFSET 4
#define GUEST_MULTIBOOT1_MEM_UPPER_OFFSET 8
#define GUEST_MULTIBOOT1_CMDLINE_OFFSET 16
#define GUEST_MULTIBOOT1_MODS_COUNT_OFFSET 20
#define GUEST_MULTIBOOT1_MODS_ADDR_OFFSET 24
#define GUEST_MULTIBOOT1_MMAP_LENGTH_OFFSET 44
#define GUEST_MULTIBOOT1_MMAP_ADDR_OFFSET 48
#define GUEST_MULTIBOOT1_LOADER_NAME_OFFSET 64
/* The fixed part as GRUB's struct multiboot_info has it (116 bytes, up to the
 * framebuffer fields): a guest that copies that struct whole reads zeros past
 * the 0.6.96 fields instead of our strings. */
#define GUEST_MULTIBOOT1_INFO_SIZE 116
/* One mmap entry: size (= 20, not counting itself), base_addr, length, type. */
#define GUEST_MULTIBOOT1_MMAP_ENTRY_SIZE 24
#define GUEST_MULTIBOOT1_CMDLINE_MAX 4096     /* bytes including the NUL (= BOOT_MODULE_CMDLINE_MAX) */
/* The (empty) module list: room for one 16-byte entry, all zero. */
#define GUEST_MULTIBOOT1_MODULE_LIST_SIZE 16
#define GUEST_MULTIBOOT1_LOADER_NAME_MAX 64   /* bytes including the NUL */

/*
 * Lays out a Multiboot1 info structure (spec §3.3) in buffer (which the guest
 * will see at guest-physical buffer_physical, < 4 GiB): flags 0
 * (mem_lower/upper), 2 (cmdline), 3 (mods: count 0, the address of an empty
 * list, as GRUB gives a kernel loaded without modules), 6 (mmap), 9
 * (boot_loader_name).
 *
 * The memory map is the host map as the guest should see it:
 * MEMMAP_HYPERVISOR and MEMMAP_SHARED_REGION entries become type 2 (reserved),
 * other vigil-internal types become 2, standard types 1,3,4,5 pass through;
 * adjacent entries of the same resulting type are merged. host_map must be
 * sorted (memmap_normalize); zero-length entries are skipped.
 * mem_lower = KiB of RAM from 0 (up to 640), mem_upper = KiB of contiguous RAM
 * from 1 MiB up to the first non-RAM (0 if 1 MiB is not RAM, e.g. the
 * hypervisor sits there; guests are meant to use the mmap).
 *
 * Strings are copied with bounds and always NUL-terminated: cmdline at most
 * 4096 bytes with the NUL (NULL means ""), loader_name at most 64 (NULL means
 * "vigil " VIGIL_VERSION).
 *
 * Layout: fixed part (116 bytes), empty module list (16), mmap entries, cmdline, loader name.
 * Returns bytes used, or 0 (writing nothing at all) if buffer_size is too small
 * or the structure would cross 4 GiB in guest-physical space.
 */
size_t guest_multiboot1_build(uint8_t *buffer, size_t buffer_size, uint32_t buffer_physical,
                              const struct memmap *host_map, const char *cmdline, const char *loader_name);

#endif /* VIGIL_HV_GUEST_MULTIBOOT_H */
