/*
 * vigil's own address space (docs/vmx.md "vigil's memory"):
 * - the low 4 GiB identity mapped with 2 MiB pages (boot.S): how vigil reaches
 *   physical memory (the guest's RAM, the page pool, ACPI tables);
 * - the image window at IMAGE_VIRTUAL_BASE + 1 MiB: vigil's code, data and stacks,
 *   linked there (linker.ld) and backed by wherever the image physically lives.
 *
 * At boot the window shows the image where the loader put it (1 MiB, in the
 * middle of what must be the guest's memory). paging_move_image() copies the
 * image to the physical address the boot flow chose (top of RAM) and switches to
 * final page tables in which the window maps the copy with 4 KiB pages, leaving a
 * guard page below every stack unmapped: a stack overflow faults
 * (SDM Vol. 3A §4.7 "not present") instead of overwriting what lies below.
 */
#ifndef VIGIL_ARCH_X86_64_PAGING_H
#define VIGIL_ARCH_X86_64_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#define IMAGE_VIRTUAL_BASE 0xFFFFFFFF80000000ull
#define IMAGE_WINDOW_PAGE_TABLES 3 /* 3 x 2 MiB of window: the image may be up to 4 MiB (linker.ld asserts it) */

/* Bytes from the first byte the loader loaded to the end of .bss (4 KiB multiple). */
uint64_t paging_image_size(void);

/* Physical address of the image's first byte: the load address until it moved. */
uint64_t paging_image_physical(void);

/*
 * Copies the whole image (code, data, bss, stacks, the page tables themselves)
 * to `destination` (4 KiB aligned, below 4 GiB, not overlapping the image) and
 * switches CR3 to final tables that map the window there. Virtual addresses do
 * not change, so nothing else notices. Call once, with interrupts off.
 * Returns NULL, or why it refused (then nothing changed).
 */
const char *paging_move_image(uint64_t destination);

/* The stack whose guard page holds `address` ("boot", "#DF IST", ...), or NULL. */
const char *paging_guard_page_owner(uint64_t address);

/* Whether [address, address + length) is mapped in vigil's tables (identity low
 * 4 GiB or the image window outside guard pages): safe to read in a fault report. */
bool paging_readable(uint64_t address, uint64_t length);

/* Top of IST stack `ist` (1..PAGING_IST_STACK_COUNT), 0 for any other: the
 * stacks the TSS names (arch/x86_64/descriptors.h, IST_DOUBLE_FAULT ..
 * IST_PAGE_FAULT), each above a guard page. */
#define PAGING_IST_STACK_COUNT 4
uint64_t paging_ist_stack_top(unsigned ist);

#endif
