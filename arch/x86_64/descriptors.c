#include "arch/x86_64/descriptors.h"

#include <string.h>

#include "arch/x86_64/paging.h"

#define GDT_ENTRIES 5 /* null, code, data, TSS (two slots) */
#define IDT_ENTRIES 256

struct __attribute__((packed)) descriptor_table_register {
    uint16_t limit;
    uint64_t base;
};

struct __attribute__((packed)) interrupt_gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attributes;
    uint16_t offset_middle;
    uint32_t offset_high;
    uint32_t reserved;
};
_Static_assert(sizeof(struct interrupt_gate) == 16, "64-bit IDT gate is 16 bytes (SDM Vol. 3A §6.14.1)");

extern const uint64_t exception_stub_table[IDT_ENTRIES];

static uint64_t gdt[GDT_ENTRIES] __attribute__((aligned(16)));
static struct interrupt_gate idt[IDT_ENTRIES] __attribute__((aligned(16)));
static struct task_state_segment tss __attribute__((aligned(16)));

static void set_tss_descriptor(uint64_t base, uint32_t limit)
{
    /* 16-byte system descriptor, type 0x9 = available 64-bit TSS, present (SDM Vol. 3A §7.2.3). */
    gdt[3] = (limit & 0xFFFFull) | ((base & 0xFFFFFFull) << 16) | (0x89ull << 40) |
             ((uint64_t)((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFFull) << 56);
    gdt[4] = base >> 32;
}

static void set_interrupt_gate(unsigned vector, uint64_t handler, uint8_t ist)
{
    struct interrupt_gate *gate = &idt[vector];
    gate->offset_low = (uint16_t)handler;
    gate->selector = SELECTOR_KERNEL_CODE;
    gate->ist = ist;
    gate->type_attributes = 0x8E; /* present, DPL 0, 64-bit interrupt gate: IF cleared on entry */
    gate->offset_middle = (uint16_t)(handler >> 16);
    gate->offset_high = (uint32_t)(handler >> 32);
    gate->reserved = 0;
}

void descriptors_init(void)
{
    gdt[0] = 0;
    gdt[1] = 0x00AF9A000000FFFFull; /* 64-bit code, DPL 0 */
    gdt[2] = 0x00CF92000000FFFFull; /* data, DPL 0 */

    memset(&tss, 0, sizeof tss);
    /* IST stacks live in arch/x86_64/paging.c, each above a guard page. */
    _Static_assert(IST_PAGE_FAULT <= PAGING_IST_STACK_COUNT, "a guarded stack for every IST the TSS names");
    for (unsigned ist = IST_DOUBLE_FAULT; ist <= IST_PAGE_FAULT; ist++)
        tss.ist[ist - 1] = paging_ist_stack_top(ist);
    tss.io_map_base = sizeof tss; /* no I/O permission bitmap */
    set_tss_descriptor((uint64_t)(uintptr_t)&tss, sizeof tss - 1);

    for (unsigned vector = 0; vector < IDT_ENTRIES; vector++) {
        uint8_t ist = 0;
        if (vector == 8)
            ist = IST_DOUBLE_FAULT;
        else if (vector == 2)
            ist = IST_NMI;
        else if (vector == 18)
            ist = IST_MACHINE_CHECK;
        else if (vector == 14)
            ist = IST_PAGE_FAULT; /* a stack overflow into a guard page is a #PF on a stack that cannot take the frame */
        set_interrupt_gate(vector, exception_stub_table[vector], ist);
    }

    struct descriptor_table_register gdtr = { sizeof gdt - 1, (uint64_t)(uintptr_t)gdt };
    struct descriptor_table_register idtr = { sizeof idt - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t"
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "movw %w2, %%ax\n\t"
                     "movw %%ax, %%ds\n\t"
                     "movw %%ax, %%es\n\t"
                     "movw %%ax, %%ss\n\t"
                     "ltr %w3\n\t"
                     "lidt %4"
                     :
                     : "m"(gdtr), "i"(SELECTOR_KERNEL_CODE), "i"(SELECTOR_KERNEL_DATA), "r"((uint16_t)SELECTOR_TSS),
                       "m"(idtr)
                     : "rax", "memory");
}

uint64_t descriptors_gdt_base(void) { return (uint64_t)(uintptr_t)gdt; }
uint64_t descriptors_idt_base(void) { return (uint64_t)(uintptr_t)idt; }
uint64_t descriptors_tss_base(void) { return (uint64_t)(uintptr_t)&tss; }
