#include "hv/guest_paging.h"

#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)
#define PTE_PRESENT 1ull
#define PTE_LARGE (1ull << 7)
#define ADDRESS_MASK 0x000FFFFFFFFFF000ull

static bool read_entry(const struct guest_paging *p, uint64_t address, unsigned size, uint64_t *entry)
{
    *entry = 0;
    return p->read_physical(p->context, address, entry, size) && (*entry & PTE_PRESENT);
}

/* 32-bit paging (SDM Vol. 3A §4.3): 10 + 10 + 12 bits, 4 MiB pages with CR4.PSE. */
static bool walk_32bit(const struct guest_paging *p, uint32_t linear, uint64_t *physical)
{
    uint64_t pde, pte;
    if (!read_entry(p, (p->cr3 & 0xFFFFF000u) + ((linear >> 22) & 0x3FF) * 4, 4, &pde))
        return false;
    if ((pde & PTE_LARGE) && (p->cr4 & CR4_PSE)) {
        *physical = (pde & 0xFFC00000u) | ((pde & 0x1FE000u) << 19) | (linear & 0x3FFFFF);
        return true;
    }
    if (!read_entry(p, (pde & 0xFFFFF000u) + ((linear >> 12) & 0x3FF) * 4, 4, &pte))
        return false;
    *physical = (pte & 0xFFFFF000u) | (linear & 0xFFF);
    return true;
}

/* PAE, 4-level and 5-level (SDM Vol. 3A §4.4, §4.5): 9 bits per level, 8-byte entries. */
static bool walk_long(const struct guest_paging *p, uint64_t linear, unsigned levels, uint64_t *physical)
{
    uint64_t table = p->cr3 & (levels == 3 ? 0xFFFFFFE0ull : ADDRESS_MASK);
    for (unsigned level = levels; level >= 1; level--) {
        unsigned shift = 12 + 9 * (level - 1);
        unsigned index = (unsigned)((linear >> shift) & (levels == 3 && level == 3 ? 3 : 0x1FF));
        uint64_t entry;
        if (!read_entry(p, table + index * 8ull, 8, &entry))
            return false;
        bool large = level == 1 || ((level == 2 || (level == 3 && levels >= 4)) && (entry & PTE_LARGE));
        if (large) {
            uint64_t page_mask = (1ull << shift) - 1;
            *physical = (entry & ADDRESS_MASK & ~page_mask) | (linear & page_mask);
            return true;
        }
        table = entry & ADDRESS_MASK;
    }
    return false;
}

bool guest_linear_to_physical(const struct guest_paging *p, uint64_t linear, uint64_t *physical)
{
    if (!(p->cr0 & CR0_PG)) {
        *physical = linear & 0xFFFFFFFFull;
        return true;
    }
    if (!(p->cr4 & CR4_PAE))
        return walk_32bit(p, (uint32_t)linear, physical);
    if (!(p->efer & EFER_LMA))
        return walk_long(p, (uint32_t)linear, 3, physical);
    return walk_long(p, linear, (p->cr4 & CR4_LA57) ? 5 : 4, physical);
}
