/*
 * vigil's page tables after boot, and its stacks with their guard pages.
 * See paging.h. Page-table formats: SDM Vol. 3A §4.5 (4-level paging).
 */
#include "arch/x86_64/paging.h"

#include <stddef.h>
#include <string.h>


#define PAGE 4096ull
#define PRESENT_WRITABLE 0x3ull
#define ADDRESS_MASK 0x000FFFFFFFFFF000ull
#define FOUR_GIB 0x100000000ull
#define IST_STACK_SIZE (2 * PAGE)
#define IST_STACK_COUNT PAGING_IST_STACK_COUNT

extern char __image_start[], __image_end[];
extern uint64_t boot_page_directories[4 * 512];
extern char boot_stack_guard[];

/* A stack and the page below it, in .bss.vigil_stacks (linker.ld places them
 * page aligned at the start of .bss). */
#define GUARDED_STACK(size)                                                                                            \
    struct {                                                                                                           \
        uint8_t guard[PAGE];                                                                                           \
        uint8_t stack[size];                                                                                           \
    } __attribute__((aligned(4096)))
static GUARDED_STACK(IST_STACK_SIZE) ist_stacks[IST_STACK_COUNT] __attribute__((section(".bss.vigil_stacks")));

/* The final tables, filled before the move with the physical addresses of their
 * own future copies (so the copy is consistent the moment CR3 points at it). */
static uint64_t final_pml4[512] __attribute__((aligned(4096)));
static uint64_t final_pdpt_low[512] __attribute__((aligned(4096)));
static uint64_t final_pdpt_high[512] __attribute__((aligned(4096)));
static uint64_t window_directory[512] __attribute__((aligned(4096)));
static uint64_t window_tables[IMAGE_WINDOW_PAGE_TABLES][512] __attribute__((aligned(4096)));

static uint64_t image_physical;
static bool moved;

static uint64_t image_start(void) { return (uint64_t)(uintptr_t)__image_start; }

uint64_t paging_image_size(void) { return (uint64_t)(uintptr_t)__image_end - image_start(); }

uint64_t paging_image_physical(void)
{
    return moved ? image_physical : image_start() - IMAGE_VIRTUAL_BASE;
}

struct guard {
    uint64_t address;
    const char *owner;
};

static unsigned list_guards(struct guard guards[1 + IST_STACK_COUNT])
{
    static const char *const ist_names[IST_STACK_COUNT] = { "#DF IST", "NMI IST", "#MC IST", "#PF IST" };
    unsigned count = 0;
    /* The boot stack is also the guest run loop's: VM exits return on it. */
    guards[count++] = (struct guard){ (uint64_t)(uintptr_t)boot_stack_guard, "boot" };
    for (unsigned i = 0; i < IST_STACK_COUNT; i++)
        guards[count++] = (struct guard){ (uint64_t)(uintptr_t)ist_stacks[i].guard, ist_names[i] };
    return count;
}

const char *paging_guard_page_owner(uint64_t address)
{
    struct guard guards[1 + IST_STACK_COUNT];
    unsigned count = list_guards(guards);
    for (unsigned i = 0; i < count; i++) {
        if (address >= guards[i].address && address - guards[i].address < PAGE)
            return guards[i].owner;
    }
    return NULL;
}

bool paging_readable(uint64_t address, uint64_t length)
{
    if (length == 0 || address > UINT64_MAX - length)
        return false;
    if (address + length <= FOUR_GIB)
        return address >= PAGE; /* page 0 is mapped, but a pointer there is a bug */
    if (address < image_start() || address + length > (uint64_t)(uintptr_t)__image_end)
        return false;
    for (uint64_t page = address & ~(PAGE - 1); page < address + length; page += PAGE) {
        if (moved && paging_guard_page_owner(page))
            return false;
    }
    return true;
}

uint64_t paging_ist_stack_top(unsigned ist)
{
    if (ist < 1 || ist > IST_STACK_COUNT)
        return 0;
    return (uint64_t)(uintptr_t)(ist_stacks[ist - 1].stack + IST_STACK_SIZE);
}

const char *paging_move_image(uint64_t destination)
{
    uint64_t size = paging_image_size();
    uint64_t source = paging_image_physical();
    if (moved)
        return "the image has already moved";
    if ((destination & (PAGE - 1)) != 0 || destination >= FOUR_GIB || size > FOUR_GIB - destination)
        return "destination not 4 KiB aligned or not below 4 GiB";
    if (destination < source + size && source < destination + size)
        return "destination overlaps the image";
    uint64_t window_pages = (uint64_t)IMAGE_WINDOW_PAGE_TABLES * 512;
    uint64_t first_page = (image_start() - IMAGE_VIRTUAL_BASE) / PAGE; /* page index inside the window */
    if (first_page + size / PAGE > window_pages)
        return "the image is larger than the window's page tables";

    /* Where a static object of the image will be, physically, after the copy. */
#define MOVED(object) (destination + ((uint64_t)(uintptr_t)(object) - image_start()))
    memset(window_tables, 0, sizeof window_tables);
    for (uint64_t offset = 0; offset < size; offset += PAGE) {
        uint64_t virtual_address = image_start() + offset;
        if (paging_guard_page_owner(virtual_address))
            continue; /* not present */
        uint64_t index = first_page + offset / PAGE;
        window_tables[index / 512][index % 512] = (destination + offset) | PRESENT_WRITABLE;
    }
    memset(window_directory, 0, sizeof window_directory);
    for (unsigned i = 0; i < IMAGE_WINDOW_PAGE_TABLES; i++)
        window_directory[i] = MOVED(window_tables[i]) | PRESENT_WRITABLE;
    memset(final_pdpt_high, 0, sizeof final_pdpt_high);
    final_pdpt_high[510] = MOVED(window_directory) | PRESENT_WRITABLE; /* IMAGE_VIRTUAL_BASE: PML4 511, PDPT 510 */
    memset(final_pdpt_low, 0, sizeof final_pdpt_low);
    for (unsigned i = 0; i < 4; i++)
        final_pdpt_low[i] = MOVED(&boot_page_directories[i * 512]) | PRESENT_WRITABLE;
    memset(final_pml4, 0, sizeof final_pml4);
    final_pml4[0] = MOVED(final_pdpt_low) | PRESENT_WRITABLE;
    final_pml4[511] = MOVED(final_pdpt_high) | PRESENT_WRITABLE;
    uint64_t new_cr3 = MOVED(final_pml4);
#undef MOVED

    image_physical = destination;
    moved = true; /* both before the copy: the copy must hold the new state */

    /* Copy, then switch, in one asm statement: nothing may be written between the
     * two (a store to the old copy after the copy would be lost). The source is
     * read through the window, the destination written through the identity map. */
    uintptr_t to = (uintptr_t)destination, from = (uintptr_t)image_start(), count = (uintptr_t)size;
    __asm__ volatile("rep movsb\n\t"
                     "mov %3, %%cr3"
                     : "+D"(to), "+S"(from), "+c"(count)
                     : "r"(new_cr3)
                     : "memory");
    return NULL;
}
