/*
 * memory_layout: checks the memory a Multiboot loader hands over the way a kernel
 * reads it, wherever the guest is linked (tests/guests/CMakeLists.txt builds it
 * at 1 MiB and at 32 KiB, where vigil itself and its boot information used to be).
 *
 * Checks, each printed as "ok:" or "FAIL:", then "memory-layout: PASS" if all held:
 * - flags carry mem_lower/upper (0), cmdline (2), mods (3), mmap (6), loader name (9);
 * - mem_lower is the available RAM from 0 (at most 640 KiB), mem_upper the
 *   available RAM from 1 MiB up to the first hole, both as the mmap says,
 *   and mem_upper is at least min_upper_kib=N (from the command line);
 * - the guest's own image and the boot information lie in available RAM and
 *   do not overlap;
 * - the command line arrived whole: its length equals length=N, a word of it,
 *   and it ends with "end".
 */
#include "runtime/guest_runtime.h"

#define INFO_FLAGS_EXPECTED ((1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9))
#define ONE_MIB 0x100000ull

extern char __guest_image_start[], __bss_end[];

static unsigned failures;

static void check(bool condition, const char *what)
{
    guest_print("memory-layout: %s: %s\n", condition ? "ok" : "FAIL", what);
    if (!condition)
        failures++;
}

static const struct multiboot1_mmap_entry *mmap_entry(const struct multiboot1_info *info, uint32_t offset)
{
    uintptr_t address = (uintptr_t)info->mmap_addr + offset;
    __asm__("" : "+r"(address));
    return (const struct multiboot1_mmap_entry *)address;
}

/* End of the available RAM that runs without a gap from `start` (start if none). */
static uint64_t available_end(const struct multiboot1_info *info, uint64_t start)
{
    uint64_t cursor = start;
    for (bool moved = true; moved;) {
        moved = false;
        for (uint32_t offset = 0; offset + 24 <= info->mmap_length;) {
            const struct multiboot1_mmap_entry *entry = mmap_entry(info, offset);
            uint64_t end = entry->base_addr + entry->length;
            if (entry->type == 1 && entry->base_addr <= cursor && cursor < end) {
                cursor = end;
                moved = true;
            }
            offset += entry->size + 4;
        }
    }
    return cursor;
}

static bool in_available_ram(const struct multiboot1_info *info, uint64_t start, uint64_t end)
{
    return available_end(info, start) >= end;
}

static size_t length_of(const char *text)
{
    size_t length = 0;
    while (text[length])
        length++;
    return length;
}

void guest_main(uint32_t magic, uint32_t info_address)
{
    const struct multiboot1_info *info = guest_multiboot_info();
    uint64_t image_start = (uint64_t)(uintptr_t)__guest_image_start, image_end = (uint64_t)(uintptr_t)__bss_end;
    guest_print("memory-layout: linked at 0x%llx-0x%llx, magic 0x%x, boot information at 0x%x\n",
                (unsigned long long)image_start, (unsigned long long)image_end, (unsigned)magic,
                (unsigned)info_address);
    if (!info) {
        check(false, "Multiboot1 magic and information");
        return;
    }
    guest_print("memory-layout: flags 0x%x mem_lower %u KiB mem_upper %u KiB mods %u at 0x%x mmap %u bytes at 0x%x\n",
                (unsigned)info->flags, (unsigned)info->mem_lower, (unsigned)info->mem_upper,
                (unsigned)info->mods_count, (unsigned)info->mods_addr, (unsigned)info->mmap_length,
                (unsigned)info->mmap_addr);
    check((info->flags & INFO_FLAGS_EXPECTED) == INFO_FLAGS_EXPECTED, "flags 0, 2, 3, 6, 9 set");

    uint64_t lower_end = available_end(info, 0);
    uint64_t expected_lower = (lower_end < 0xA0000 ? lower_end : 0xA0000) / 1024;
    uint64_t expected_upper = (available_end(info, ONE_MIB) - ONE_MIB) / 1024;
    guest_print("memory-layout: mmap says %llu KiB low, %llu KiB contiguous from 1 MiB\n",
                (unsigned long long)expected_lower, (unsigned long long)expected_upper);
    check(info->mem_lower == expected_lower, "mem_lower matches the memory map");
    check(info->mem_upper == expected_upper, "mem_upper matches the memory map");
    uint64_t min_upper = guest_cmdline_number("min_upper_kib", 0);
    check(info->mem_upper >= min_upper, "mem_upper at least min_upper_kib");

    check(in_available_ram(info, image_start, image_end), "the guest image lies in available RAM");
    uint64_t info_end = (uint64_t)info_address + 116;
    check(in_available_ram(info, info_address, info_end), "the boot information lies in available RAM");
    check(info_end <= image_start || image_end <= info_address, "the boot information is clear of the image");

    const char *cmdline = guest_cmdline();
    size_t length = length_of(cmdline);
    uint64_t expected_length = guest_cmdline_number("length", 0);
    guest_print("memory-layout: cmdline %u bytes, ends '%s'\n", (unsigned)length,
                length > 12 ? cmdline + length - 12 : cmdline);
    check(length == expected_length, "cmdline length equals length=N");
    check(length >= 3 && __builtin_memcmp(cmdline + length - 3, "end", 3) == 0, "cmdline ends with 'end'");

    if (failures)
        guest_print("memory-layout: FAIL (%u checks)\n", failures);
    else
        guest_print("memory-layout: PASS\n");
}
