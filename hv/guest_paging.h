/*
 * Guest linear -> guest-physical translation through the guest's own page tables,
 * for the exits that must read the instruction the guest executed (hv/apic_trap.c).
 * Paging modes per SDM Vol. 3A §4.1: none, 32-bit (PSE), PAE, 4-level, 5-level.
 */
#ifndef VIGIL_HV_GUEST_PAGING_H
#define VIGIL_HV_GUEST_PAGING_H

#include <stdbool.h>
#include <stdint.h>

struct guest_paging {
    uint64_t cr0, cr3, cr4, efer; /* as the guest sees them */
    /* Reads a 4- or 8-byte page-table entry at a guest-physical address; false if
     * that is not guest memory. */
    bool (*read_physical)(void *context, uint64_t physical, void *buffer, unsigned size);
    void *context;
};

/* Pure (apart from the reader): false if a table entry on the way is not present
 * or cannot be read. */
bool guest_linear_to_physical(const struct guest_paging *paging, uint64_t linear, uint64_t *physical);

#endif
