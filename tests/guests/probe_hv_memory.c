/*
 * probe_hv_memory: a hostile guest that goes for vigil's memory (vigil marks it
 * reserved in the guest's memory map and leaves it out of EPT). Under vigil the
 * access never completes: vigil stops the guest on the EPT violation. Without
 * vigil the access succeeds and the guest prints FAIL lines (expected bare).
 * Command line:
 *   address=0x...  the target (default 0x100000, where vigil was loaded);
 *   scan           instead, the target an attacker would pick from the memory
 *                  map: the top page of the highest reserved range carved out
 *                  of RAM between 1 MiB and the 4 GiB hole (vigil sits at the
 *                  top of RAM);
 *   access=read|write|execute  what to do there (default read, then write).
 */
#include "runtime/guest_runtime.h"

static const char *memory_type(uint32_t type)
{
    switch (type) {
    case 1: return "available";
    case 2: return "reserved";
    case 3: return "ACPI reclaimable";
    case 4: return "ACPI NVS";
    case 5: return "bad";
    default: return "other";
    }
}

static void print_memory_map(void)
{
    const struct multiboot1_info *info = guest_multiboot_info();
    if (!info || !(info->flags & MULTIBOOT1_INFO_MEMORY_MAP)) {
        guest_print("probe: no memory map from the loader\n");
        return;
    }
    guest_print("probe: memory map (%u bytes at 0x%x):\n", (unsigned)info->mmap_length, (unsigned)info->mmap_addr);
    uint32_t offset = 0;
    unsigned count = 0;
    while (offset + 4 <= info->mmap_length && count < 128) {
        uintptr_t address = (uintptr_t)info->mmap_addr + offset;
        __asm__("" : "+r"(address));
        const struct multiboot1_mmap_entry *entry = (const struct multiboot1_mmap_entry *)address;
        if (entry->size < 20) {
            guest_print("probe: memory map entry %u has size %u; stopping\n", count, (unsigned)entry->size);
            break;
        }
        guest_print("probe:   0x%016llx-0x%016llx %s (%u)\n", (unsigned long long)entry->base_addr,
                    (unsigned long long)(entry->base_addr + entry->length - 1), memory_type(entry->type),
                    (unsigned)entry->type);
        offset += entry->size + 4;
        count++;
    }
}

/* Whether the command line holds `word` as a whole word (or word=...). */
static bool has_word(const char *word)
{
    const char *line = guest_cmdline();
    size_t length = 0;
    while (word[length])
        length++;
    for (const char *p = line; *p; p++) {
        if ((p == line || p[-1] == ' ') && __builtin_memcmp(p, word, length) == 0 &&
            (p[length] == 0 || p[length] == ' ' || p[length] == '='))
            return true;
    }
    return false;
}

#define MMIO_HOLE_START 0xFEC00000ull /* IOAPIC and up: not RAM anyone carves */

/* The top page of the highest reserved entry that RAM surrounds from below. */
static uint64_t scan_target(void)
{
    const struct multiboot1_info *info = guest_multiboot_info();
    if (!info || !(info->flags & MULTIBOOT1_INFO_MEMORY_MAP))
        return 0;
    uint64_t best = 0;
    uint32_t offset = 0;
    while (offset + 24 <= info->mmap_length) {
        uintptr_t address = (uintptr_t)info->mmap_addr + offset;
        __asm__("" : "+r"(address));
        const struct multiboot1_mmap_entry *entry = (const struct multiboot1_mmap_entry *)address;
        if (entry->size < 20)
            break;
        uint64_t end = entry->base_addr + entry->length;
        if (entry->type == 2 && entry->base_addr >= 0x100000 && end <= MMIO_HOLE_START && end - 0x1000 > best) {
            best = end - 0x1000;
            guest_print("probe: scan: reserved range 0x%llx, ends at 0x%llx\n", (unsigned long long)entry->base_addr,
                        (unsigned long long)end);
        }
        offset += entry->size + 4;
    }
    return best;
}

static void try_execute(uintptr_t address)
{
    guest_print("probe: executing at 0x%08x\n", (unsigned)address);
    guest_print_flush(); /* under vigil the fetch below is the guest's last act */
    void (*code)(void) = (void (*)(void))address;
    code();
    guest_print("probe: FAIL: executed hypervisor memory at 0x%08x\n", (unsigned)address);
}

static void try_write(uintptr_t address)
{
    volatile uint32_t *word = (volatile uint32_t *)address;
    guest_print("probe: writing 0x%08x\n", (unsigned)address);
    guest_print_flush();
    *word = 0xDEADBEEF;
    guest_print("probe: FAIL: wrote hypervisor memory at 0x%08x: read back 0x%08x\n", (unsigned)address,
                (unsigned)*word);
}

void guest_main(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    guest_print("probe: starting (cmdline '%s')\n", guest_cmdline());
    print_memory_map();

    uint64_t requested = guest_cmdline_number("address", 0x100000);
    if (has_word("scan")) {
        requested = scan_target();
        if (requested == 0) {
            guest_print("probe: scan: no reserved range inside RAM: nothing to attack\n");
            return;
        }
    }
    if (requested > 0xFFFFFFFCull) {
        guest_print("probe: address 0x%llx is beyond 4 GiB (paging is off); using 0x100000\n",
                    (unsigned long long)requested);
        requested = 0x100000;
    }
    uintptr_t address = (uintptr_t)requested;
    __asm__("" : "+r"(address));
    volatile uint32_t *word = (volatile uint32_t *)address;
    if (has_word("access=execute")) {
        try_execute(address);
        return;
    }
    if (has_word("access=write")) {
        try_write(address);
        return;
    }

    guest_print("probe: reading 0x%08x\n", (unsigned)address);
    guest_print_flush(); /* under vigil the read below is the guest's last act */
    uint32_t value = *word;
    guest_print("probe: FAIL: read hypervisor memory at 0x%08x: 0x%08x\n", (unsigned)address, (unsigned)value);

    uint32_t pattern = ~value;
    *word = pattern;
    uint32_t readback = *word;
    *word = value; /* put it back: bare, this is the guest's own RAM */
    guest_print("probe: FAIL: wrote hypervisor memory at 0x%08x: 0x%08x, read back 0x%08x\n", (unsigned)address,
                (unsigned)pattern, (unsigned)readback);
}
