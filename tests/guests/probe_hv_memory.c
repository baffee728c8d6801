/*
 * probe_hv_memory: tries to read (then write) memory the guest must not reach —
 * by default 0x100000, where vigil's image lives (vigil marks it reserved in the
 * guest's memory map and leaves it out of EPT). Under vigil the read never
 * completes: vigil stops the guest on the EPT violation. Without vigil the read
 * succeeds and the guest prints FAIL lines (expected bare).
 * Command line: address=0x... picks another address.
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

void guest_main(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    guest_print("probe: starting (cmdline '%s')\n", guest_cmdline());
    print_memory_map();

    uint64_t requested = guest_cmdline_number("address", 0x100000);
    if (requested > 0xFFFFFFFCull) {
        guest_print("probe: address 0x%llx is beyond 4 GiB (paging is off); using 0x100000\n",
                    (unsigned long long)requested);
        requested = 0x100000;
    }
    uintptr_t address = (uintptr_t)requested;
    __asm__("" : "+r"(address));
    volatile uint32_t *word = (volatile uint32_t *)address;

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
