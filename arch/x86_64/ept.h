/*
 * EPT page tables, 4-level (DESIGN.md §4 stage 4; Intel SDM Vol. 3C §29.3).
 *
 * Builds and edits the tables the CPU walks to translate guest-physical to
 * host-physical addresses, and the identity map vigil gives its one guest:
 * all RAM and MMIO, minus the hypervisor's own pages.
 *
 * Tables come from a struct page_pool, so every table's pointer is derivable
 * from the physical address in its parent entry (page_pool_pointer).
 *
 * None of these functions flushes anything: after changing live tables the
 * caller must INVEPT (SDM Vol. 3C §28.3.3, single-context with this EPTP)
 * before the guest runs again. Table pages that a change frees go back to the
 * pool at once; that is safe only because the guest does not run until the
 * caller has invalidated (no other CPU uses these tables).
 */
#ifndef VIGIL_ARCH_X86_64_EPT_H
#define VIGIL_ARCH_X86_64_EPT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/memmap.h"
#include "lib/page_pool.h"

/* Permission bits, bits 2:0 of every EPT entry (SDM Vol. 3C §29.3.2). */
#define EPT_READ 1u
#define EPT_WRITE 2u
#define EPT_EXECUTE 4u
#define EPT_READ_WRITE_EXECUTE 7u

/* EPT memory types, bits 5:3 of a leaf entry (SDM Vol. 3C §29.3.2, the leaf entry format
 * tables). 2, 3 and 7 are reserved: a leaf with one is a misconfiguration (§29.3.3.1). */
enum ept_memory_type {
    EPT_MEMORY_UNCACHEABLE = 0,
    EPT_MEMORY_WRITE_COMBINING = 1,
    EPT_MEMORY_WRITE_THROUGH = 4,
    EPT_MEMORY_WRITE_PROTECTED = 5,
    EPT_MEMORY_WRITE_BACK = 6,
};

enum ept_status {
    EPT_OK = 0,
    EPT_OUT_OF_MEMORY,     /* the pool has no page for a table */
    EPT_BAD_ALIGNMENT,     /* an address or length not a multiple of 4 KiB */
    EPT_BAD_PERMISSIONS,   /* none, bits beyond 2:0, or a misconfiguration (§29.3.3.1) */
    EPT_BAD_MEMORY_TYPE,   /* 2, 3, 7 or beyond */
    EPT_ADDRESS_TOO_HIGH,  /* guest-physical beyond 48 bits, host-physical beyond 52, or wrapping */
};

/* What IA32_VMX_EPT_VPID_CAP (SDM Vol. 3D §A.10) allows. */
struct ept_capabilities {
    bool pages_2mb;      /* bit 16 */
    bool pages_1gb;      /* bit 17; used only together with pages_2mb */
    bool execute_only;   /* bit 0 */
    bool accessed_dirty; /* bit 21 */
};

struct ept {
    struct page_pool *pool;
    uint64_t *pml4;
    uint64_t pml4_physical;
    struct ept_capabilities capabilities;
    uint32_t table_pages;                        /* page-table pages in use, the PML4 included */
    uint64_t mapped_4kb, mapped_2mb, mapped_1gb; /* leaf counts, for the log */
};

/* An empty PML4 from the pool. EPT_OUT_OF_MEMORY if there is none. */
enum ept_status ept_init(struct ept *ept, struct page_pool *pool, const struct ept_capabilities *capabilities);

/*
 * Maps [guest_physical, +length) to [host_physical, +length). 4 KiB aligned.
 * Uses the largest page the capabilities allow where both addresses are
 * aligned and the range covers it; splits an existing larger page when a
 * smaller mapping lands inside it (the rest of the large page keeps its old
 * mapping); a larger page replacing smaller ones frees their tables.
 * Rejects permissions the CPU would treat as a misconfiguration (SDM Vol. 3C
 * §29.3.3.1: write without read; execute-only without the capability), and
 * no permissions at all (use ept_unmap_range), with EPT_BAD_PERMISSIONS;
 * memory types 2, 3, 7 with EPT_BAD_MEMORY_TYPE. Guest-physical addresses
 * are limited to 48 bits, host-physical to 52 (EPT_ADDRESS_TOO_HIGH).
 * Length 0 does nothing. On EPT_OUT_OF_MEMORY the part of the range already
 * done stays mapped; the rest keeps its old mapping.
 */
enum ept_status ept_map_range(struct ept *ept, uint64_t guest_physical, uint64_t host_physical, uint64_t length,
                              unsigned permissions, enum ept_memory_type type);

/*
 * Removes mappings, splitting large pages at the edges. Unmapped is fine.
 * Tables left empty go back to the pool. Splitting needs a table page, so
 * this too can fail with EPT_OUT_OF_MEMORY.
 */
enum ept_status ept_unmap_range(struct ept *ept, uint64_t guest_physical, uint64_t length);

/*
 * Walks the tables as the CPU would: true, filling in whichever of the out
 * pointers are not NULL, if guest_physical is mapped. *page_size is the size
 * of the leaf (4 KiB, 2 MiB or 1 GiB).
 */
bool ept_translate(const struct ept *ept, uint64_t guest_physical, uint64_t *host_physical, unsigned *permissions,
                   enum ept_memory_type *type, uint64_t *page_size);

/*
 * EPTP for the VMCS (SDM Vol. 3C §25.6.11): memory type WB (6) in bits 2:0,
 * page-walk length 4 - 1 in bits 5:3, bit 6 accessed/dirty enable if asked
 * (and the capability allows), PML4 physical address in bits 51:12.
 */
uint64_t ept_pointer(const struct ept *ept, bool enable_accessed_dirty);

/*
 * The identity map the hypervisor gives its one guest (DESIGN §4 stage 4):
 * every page in [0, limit) mapped 1:1 RWX; write-back where the memory map
 * says RAM, ACPI reclaimable, ACPI NVS or shared region; uncacheable
 * elsewhere (MMIO, holes, reserved, bad); EXCEPT ranges typed
 * MEMMAP_HYPERVISOR, which stay unmapped so the guest cannot see the
 * hypervisor. A page that straddles a boundary takes the most restrictive
 * class it touches (unmapped > uncacheable > write-back), as do overlapping
 * entries, so the map need not be page aligned or normalised.
 * limit must be 4 KiB aligned and at most 2^48; choosing it (max(4 GiB, end
 * of the highest entry) rounded up to 1 GiB) is the caller's business.
 * Builds with the largest uniform pages directly, no mapping then splitting.
 */
enum ept_status ept_identity_map(struct ept *ept, const struct memmap *map, uint64_t limit);

/* "ok", "out of memory", ...; "unknown" for anything else. */
const char *ept_status_name(enum ept_status status);

#endif /* VIGIL_ARCH_X86_64_EPT_H */
