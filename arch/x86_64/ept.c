/*
 * EPT page tables, 4-level. See ept.h for the contract.
 *
 * Entry formats (SDM Vol. 3C §29.3.2, the EPT entry format tables):
 *   every entry     bits 2:0 read/write/execute; all three 0 = not present
 *   table pointer   bits 2:0 = 7 (the leaf decides), bit 7 = 0, bits 51:12 the next table
 *   leaf            bits 5:3 memory type, bit 6 ignore-PAT (0: the guest's PAT still
 *                   combines with our type), bit 7 = 1 in a PDPTE (1 GiB) or PDE
 *                   (2 MiB), bits 51:12 the page (low bits of a large page's address
 *                   must be 0). Bits 8 and 9 are accessed/dirty, which the CPU sets
 *                   when EPTP bit 6 is on (§29.3.4): they are masked off when reading.
 *
 * Map and unmap are one recursive range walk over the four levels: a range that
 * covers a whole entry's span (and, for a map, is aligned on both sides and of
 * a size the capabilities allow) becomes one leaf; anything less descends,
 * creating a table or splitting a large leaf first.
 */
#include "arch/x86_64/ept.h"

#include <stddef.h>
#include <string.h>

#define EPT_ENTRIES_PER_TABLE 512u
#define EPT_PERMISSION_MASK 7ull
#define EPT_MEMORY_TYPE_SHIFT 3
#define EPT_MEMORY_TYPE_MASK (7ull << EPT_MEMORY_TYPE_SHIFT)
#define EPT_IGNORE_PAT (1ull << 6)
#define EPT_LARGE_PAGE (1ull << 7)
#define EPT_ACCESSED_DIRTY (3ull << 8)
#define EPT_ADDRESS_MASK 0x000FFFFFFFFFF000ull /* bits 51:12 */

#define EPT_GUEST_ADDRESS_LIMIT (1ull << 48) /* a 4-level walk translates 48 bits */
#define EPT_HOST_ADDRESS_LIMIT (1ull << 52)  /* the most MAXPHYADDR can be */

#define EPTP_MEMORY_TYPE_WRITE_BACK 6ull
#define EPTP_WALK_LENGTH_4 (3ull << 3)
#define EPTP_ACCESSED_DIRTY (1ull << 6)

#define PAGE_4KB 0x1000ull

/* Levels count down from the PML4 (4) to the page table (1). */
static unsigned entry_shift(unsigned level)
{
    return 12 + 9 * (level - 1);
}

static uint64_t entry_span(unsigned level)
{
    return 1ull << entry_shift(level);
}

static unsigned entry_index(unsigned level, uint64_t guest_physical)
{
    return (unsigned)(guest_physical >> entry_shift(level)) & (EPT_ENTRIES_PER_TABLE - 1);
}

static bool entry_present(uint64_t entry)
{
    return (entry & EPT_PERMISSION_MASK) != 0;
}

/* A present entry maps a page (rather than pointing to a table). */
static bool entry_is_leaf(uint64_t entry, unsigned level)
{
    return level == 1 || (level <= 3 && (entry & EPT_LARGE_PAGE) != 0);
}

/* May a leaf live at this level? PML4 entries never map; 1 GiB needs 2 MiB (see ept_init). */
static bool leaf_allowed(const struct ept *ept, unsigned level)
{
    switch (level) {
    case 1:
        return true;
    case 2:
        return ept->capabilities.pages_2mb;
    case 3:
        return ept->capabilities.pages_1gb;
    default:
        return false;
    }
}

static uint64_t *leaf_counter(struct ept *ept, unsigned level)
{
    return level == 3 ? &ept->mapped_1gb : level == 2 ? &ept->mapped_2mb : &ept->mapped_4kb;
}

static uint64_t *table_of(const struct ept *ept, uint64_t entry)
{
    return page_pool_pointer(ept->pool, entry & EPT_ADDRESS_MASK);
}

static bool table_is_empty(const uint64_t *table)
{
    for (unsigned i = 0; i < EPT_ENTRIES_PER_TABLE; i++)
        if (entry_present(table[i]))
            return false;
    return true;
}

static uint64_t *allocate_table(struct ept *ept, uint64_t *physical_out)
{
    uint64_t *table = page_pool_alloc(ept->pool, physical_out); /* zeroed: 512 not-present entries */
    if (table != NULL)
        ept->table_pages++;
    return table;
}

static void free_table(struct ept *ept, uint64_t *table)
{
    if (page_pool_free(ept->pool, table))
        ept->table_pages--;
}

/* Clear one entry, returning whatever hangs below it to the pool. */
static void release_entry(struct ept *ept, uint64_t *entry, unsigned level)
{
    if (!entry_present(*entry))
        return;
    if (entry_is_leaf(*entry, level)) {
        (*leaf_counter(ept, level))--;
    } else {
        uint64_t *child = table_of(ept, *entry);
        if (child != NULL) {
            for (unsigned i = 0; i < EPT_ENTRIES_PER_TABLE; i++)
                release_entry(ept, &child[i], level - 1);
            free_table(ept, child);
        }
    }
    *entry = 0;
}

/*
 * Replace a large leaf by a table of 512 leaves one level down with the same
 * translation, permissions and type, so that part of it can change while the
 * rest keeps its mapping. The new table is complete before the single store
 * that links it in.
 */
static enum ept_status split_large_leaf(struct ept *ept, uint64_t *entry, unsigned level)
{
    uint64_t table_physical;
    uint64_t *table = allocate_table(ept, &table_physical);
    if (table == NULL)
        return EPT_OUT_OF_MEMORY;
    uint64_t page = *entry & EPT_ADDRESS_MASK;
    uint64_t attributes = *entry & ~EPT_ADDRESS_MASK & ~EPT_ACCESSED_DIRTY;
    if (level - 1 == 1)
        attributes &= ~EPT_LARGE_PAGE; /* bit 7 of a PTE is ignored: leave it 0 */
    for (unsigned i = 0; i < EPT_ENTRIES_PER_TABLE; i++)
        table[i] = attributes | (page + i * entry_span(level - 1));
    *entry = table_physical | EPT_READ_WRITE_EXECUTE;
    (*leaf_counter(ept, level))--;
    *leaf_counter(ept, level - 1) += EPT_ENTRIES_PER_TABLE;
    return EPT_OK;
}

struct range_operation {
    uint64_t guest_start, guest_end; /* [start, end), 4 KiB aligned */
    uint64_t host_start;             /* maps guest_start; unused when unmapping */
    uint64_t leaf_attributes;        /* permissions and memory type */
    bool unmap;
};

/* Apply the operation to the part of it within `table`, a level-`level` table
 * whose first entry starts at guest-physical `table_base`. */
static enum ept_status apply_in_table(struct ept *ept, const struct range_operation *operation, uint64_t *table,
                                      unsigned level, uint64_t table_base)
{
    uint64_t span = entry_span(level);
    uint64_t table_end = table_base + span * EPT_ENTRIES_PER_TABLE;
    uint64_t start = operation->guest_start > table_base ? operation->guest_start : table_base;
    uint64_t end = operation->guest_end < table_end ? operation->guest_end : table_end;

    for (uint64_t entry_base = start & ~(span - 1); entry_base < end; entry_base += span) {
        uint64_t *entry = &table[entry_index(level, entry_base)];
        uint64_t piece_start = start > entry_base ? start : entry_base;
        uint64_t piece_end = end < entry_base + span ? end : entry_base + span;
        bool whole_entry = piece_start == entry_base && piece_end == entry_base + span;

        if (whole_entry && operation->unmap) {
            release_entry(ept, entry, level);
            continue;
        }
        if (whole_entry && leaf_allowed(ept, level)) {
            uint64_t host = operation->host_start + (entry_base - operation->guest_start);
            if ((host & (span - 1)) == 0) {
                release_entry(ept, entry, level);
                *entry = host | operation->leaf_attributes | (level > 1 ? EPT_LARGE_PAGE : 0);
                (*leaf_counter(ept, level))++;
                continue;
            }
        }

        /* Only part of this entry's span changes (or the page size cannot be
         * used here): work one level down. Level 1 never gets here, since the
         * range is 4 KiB aligned and 4 KiB leaves are always allowed. */
        if (!entry_present(*entry)) {
            if (operation->unmap)
                continue;
            uint64_t table_physical;
            if (allocate_table(ept, &table_physical) == NULL)
                return EPT_OUT_OF_MEMORY;
            *entry = table_physical | EPT_READ_WRITE_EXECUTE;
        } else if (entry_is_leaf(*entry, level)) {
            enum ept_status status = split_large_leaf(ept, entry, level);
            if (status != EPT_OK)
                return status;
        }
        uint64_t *child = table_of(ept, *entry);
        if (child == NULL)
            return EPT_OUT_OF_MEMORY; /* not a pool page: cannot happen with tables we built */
        enum ept_status status = apply_in_table(ept, operation, child, level - 1, entry_base);
        /* An unmap (or a map that failed at once) can leave the table empty;
         * give it back rather than keep a page of not-present entries. */
        if (table_is_empty(child)) {
            free_table(ept, child);
            *entry = 0;
        }
        if (status != EPT_OK)
            return status;
    }
    return EPT_OK;
}

static enum ept_status check_range(uint64_t address, uint64_t length, uint64_t address_limit)
{
    if ((address & (PAGE_4KB - 1)) != 0 || (length & (PAGE_4KB - 1)) != 0)
        return EPT_BAD_ALIGNMENT;
    if (address > address_limit || length > address_limit - address)
        return EPT_ADDRESS_TOO_HIGH;
    return EPT_OK;
}

enum ept_status ept_init(struct ept *ept, struct page_pool *pool, const struct ept_capabilities *capabilities)
{
    memset(ept, 0, sizeof(*ept));
    ept->pool = pool;
    if (capabilities != NULL)
        ept->capabilities = *capabilities;
    /* Splitting a 1 GiB page makes 2 MiB leaves, and every CPU with 1 GiB EPT
     * pages has 2 MiB ones too; without them, keep to what is certain. */
    if (!ept->capabilities.pages_2mb)
        ept->capabilities.pages_1gb = false;
    ept->pml4 = allocate_table(ept, &ept->pml4_physical);
    return ept->pml4 == NULL ? EPT_OUT_OF_MEMORY : EPT_OK;
}

static bool memory_type_valid(enum ept_memory_type type)
{
    switch (type) {
    case EPT_MEMORY_UNCACHEABLE:
    case EPT_MEMORY_WRITE_COMBINING:
    case EPT_MEMORY_WRITE_THROUGH:
    case EPT_MEMORY_WRITE_PROTECTED:
    case EPT_MEMORY_WRITE_BACK:
        return true;
    default:
        return false; /* 2, 3, 7 are reserved (§29.3.3.1); beyond 7 does not fit bits 5:3 */
    }
}

static bool permissions_valid(const struct ept *ept, unsigned permissions)
{
    if (permissions == 0 || (permissions & ~EPT_READ_WRITE_EXECUTE) != 0)
        return false;
    /* SDM Vol. 3C §29.3.3.1: bits 2:0 = 010b (write-only) or 110b
     * (write/execute) is a misconfiguration; 100b (execute-only) is one unless
     * IA32_VMX_EPT_VPID_CAP bit 0 says it is supported. */
    if ((permissions & EPT_WRITE) != 0 && (permissions & EPT_READ) == 0)
        return false;
    if (permissions == EPT_EXECUTE && !ept->capabilities.execute_only)
        return false;
    return true;
}

enum ept_status ept_map_range(struct ept *ept, uint64_t guest_physical, uint64_t host_physical, uint64_t length,
                              unsigned permissions, enum ept_memory_type type)
{
    enum ept_status status = check_range(guest_physical, length, EPT_GUEST_ADDRESS_LIMIT);
    if (status == EPT_OK)
        status = check_range(host_physical, length, EPT_HOST_ADDRESS_LIMIT);
    if (status != EPT_OK)
        return status;
    if (!permissions_valid(ept, permissions))
        return EPT_BAD_PERMISSIONS;
    if (!memory_type_valid(type))
        return EPT_BAD_MEMORY_TYPE;
    if (length == 0)
        return EPT_OK;
    const struct range_operation operation = {
        .guest_start = guest_physical,
        .guest_end = guest_physical + length,
        .host_start = host_physical,
        .leaf_attributes = permissions | ((uint64_t)type << EPT_MEMORY_TYPE_SHIFT),
        .unmap = false,
    };
    return apply_in_table(ept, &operation, ept->pml4, 4, 0);
}

enum ept_status ept_unmap_range(struct ept *ept, uint64_t guest_physical, uint64_t length)
{
    enum ept_status status = check_range(guest_physical, length, EPT_GUEST_ADDRESS_LIMIT);
    if (status != EPT_OK || length == 0)
        return status;
    const struct range_operation operation = {
        .guest_start = guest_physical,
        .guest_end = guest_physical + length,
        .unmap = true,
    };
    return apply_in_table(ept, &operation, ept->pml4, 4, 0);
}

bool ept_translate(const struct ept *ept, uint64_t guest_physical, uint64_t *host_physical, unsigned *permissions,
                   enum ept_memory_type *type, uint64_t *page_size)
{
    if (guest_physical >= EPT_GUEST_ADDRESS_LIMIT || ept->pml4 == NULL)
        return false;
    const uint64_t *table = ept->pml4;
    for (unsigned level = 4; level >= 1; level--) {
        uint64_t entry = table[entry_index(level, guest_physical)];
        if (!entry_present(entry))
            return false;
        if (entry_is_leaf(entry, level)) {
            uint64_t span = entry_span(level);
            if (host_physical != NULL)
                *host_physical = (entry & EPT_ADDRESS_MASK & ~(span - 1)) | (guest_physical & (span - 1));
            if (permissions != NULL)
                *permissions = (unsigned)(entry & EPT_PERMISSION_MASK);
            if (type != NULL)
                *type = (enum ept_memory_type)((entry & EPT_MEMORY_TYPE_MASK) >> EPT_MEMORY_TYPE_SHIFT);
            if (page_size != NULL)
                *page_size = span;
            return true;
        }
        table = table_of(ept, entry);
        if (table == NULL)
            return false;
    }
    return false;
}

uint64_t ept_pointer(const struct ept *ept, bool enable_accessed_dirty)
{
    uint64_t pointer = ept->pml4_physical | EPTP_MEMORY_TYPE_WRITE_BACK | EPTP_WALK_LENGTH_4;
    /* Bit 6 is reserved on CPUs without A/D support (IA32_VMX_EPT_VPID_CAP bit 21):
     * setting it there would make VM entry fail. */
    if (enable_accessed_dirty && ept->capabilities.accessed_dirty)
        pointer |= EPTP_ACCESSED_DIRTY;
    return pointer;
}

/* ---- The identity map ---------------------------------------------------- */

/* Ordered by restriction: where a page touches several, the highest wins. */
enum identity_class {
    IDENTITY_WRITE_BACK = 0,
    IDENTITY_UNCACHEABLE = 1,
    IDENTITY_UNMAPPED = 2,
};

static enum identity_class class_of_type(uint32_t type)
{
    switch (type) {
    case MEMMAP_RAM:
    case MEMMAP_ACPI_RECLAIMABLE:
    case MEMMAP_ACPI_NVS:
    case MEMMAP_SHARED_REGION: /* normal RAM to the guest (DESIGN §4 stage 4) */
        return IDENTITY_WRITE_BACK;
    case MEMMAP_HYPERVISOR:
        return IDENTITY_UNMAPPED;
    default: /* reserved, bad, unknown: possibly MMIO, never cache it */
        return IDENTITY_UNCACHEABLE;
    }
}

static uint64_t entry_end(const struct memmap_entry *entry)
{
    return entry->length > UINT64_MAX - entry->base ? UINT64_MAX : entry->base + entry->length;
}

static uint64_t align_down_4kb(uint64_t value)
{
    return value & ~(PAGE_4KB - 1);
}

/* value <= limit, which is 4 KiB aligned, so this cannot wrap. */
static uint64_t align_up_4kb(uint64_t value)
{
    return align_down_4kb(value + PAGE_4KB - 1);
}

/*
 * The first page boundary above `address` (4 KiB aligned) where the class may
 * change, capped at limit: for each edge x of an entry, floor(x) and ceil(x)
 * to 4 KiB. Between two consecutive such boundaries no page contains an edge,
 * or the stretch is the one page that does; so the class is uniform.
 */
static uint64_t next_boundary(const struct memmap *map, uint64_t address, uint64_t limit)
{
    uint64_t next = limit;
    for (unsigned i = 0; i < map->count && i < MEMMAP_MAX_ENTRIES; i++) {
        const uint64_t edges[2] = {map->entries[i].base, entry_end(&map->entries[i])};
        for (unsigned e = 0; e < 2; e++) {
            uint64_t edge = edges[e] < limit ? edges[e] : limit;
            const uint64_t candidates[2] = {align_down_4kb(edge), align_up_4kb(edge)};
            for (unsigned c = 0; c < 2; c++)
                if (candidates[c] > address && candidates[c] < next)
                    next = candidates[c];
        }
    }
    return next;
}

/* The class of [start, end), a stretch between consecutive boundaries. */
static enum identity_class class_of_stretch(const struct memmap *map, uint64_t start, uint64_t end)
{
    enum identity_class class = IDENTITY_WRITE_BACK;
    unsigned count = map->count < MEMMAP_MAX_ENTRIES ? map->count : MEMMAP_MAX_ENTRIES;
    for (unsigned i = 0; i < count; i++) {
        const struct memmap_entry *entry = &map->entries[i];
        if (entry->base < end && entry_end(entry) > start && class_of_type(entry->type) > class)
            class = class_of_type(entry->type);
    }
    /* Any part not covered by an entry is a hole: uncacheable. Chase
     * coverage from start; each step moves past one entry, so at most
     * `count` steps. */
    uint64_t covered_to = start;
    for (unsigned step = 0; covered_to < end && step <= count; step++) {
        uint64_t furthest = covered_to;
        for (unsigned i = 0; i < count; i++) {
            const struct memmap_entry *entry = &map->entries[i];
            if (entry->base <= covered_to && entry_end(entry) > furthest)
                furthest = entry_end(entry);
        }
        if (furthest == covered_to)
            break;
        covered_to = furthest;
    }
    if (covered_to < end && class < IDENTITY_UNCACHEABLE)
        class = IDENTITY_UNCACHEABLE;
    return class;
}

enum ept_status ept_identity_map(struct ept *ept, const struct memmap *map, uint64_t limit)
{
    if ((limit & (PAGE_4KB - 1)) != 0)
        return EPT_BAD_ALIGNMENT;
    if (limit > EPT_GUEST_ADDRESS_LIMIT)
        return EPT_ADDRESS_TOO_HIGH;

    /* Walk the address space in maximal runs of one class and map each run in
     * one call: ept_map_range then puts the largest page that fits wherever a
     * run allows it, so 2 MiB and 1 GiB pages come out directly and only the
     * 2 MiB regions containing a class boundary get a page table. */
    uint64_t run_start = 0;
    while (run_start < limit) {
        uint64_t run_end = next_boundary(map, run_start, limit);
        enum identity_class class = class_of_stretch(map, run_start, run_end);
        while (run_end < limit) {
            uint64_t following_end = next_boundary(map, run_end, limit);
            if (class_of_stretch(map, run_end, following_end) != class)
                break;
            run_end = following_end;
        }

        enum ept_status status;
        if (class == IDENTITY_UNMAPPED)
            status = ept_unmap_range(ept, run_start, run_end - run_start);
        else
            status = ept_map_range(ept, run_start, run_start, run_end - run_start, EPT_READ_WRITE_EXECUTE,
                                   class == IDENTITY_WRITE_BACK ? EPT_MEMORY_WRITE_BACK : EPT_MEMORY_UNCACHEABLE);
        if (status != EPT_OK)
            return status;
        run_start = run_end;
    }
    return EPT_OK;
}

const char *ept_status_name(enum ept_status status)
{
    switch (status) {
    case EPT_OK:
        return "ok";
    case EPT_OUT_OF_MEMORY:
        return "out of memory";
    case EPT_BAD_ALIGNMENT:
        return "bad alignment";
    case EPT_BAD_PERMISSIONS:
        return "bad permissions";
    case EPT_BAD_MEMORY_TYPE:
        return "bad memory type";
    case EPT_ADDRESS_TOO_HIGH:
        return "address too high";
    }
    return "unknown";
}
