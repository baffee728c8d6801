/* GDT, 64-bit TSS and IDT of the hypervisor (SDM Vol. 3A §3.4.5, §7.7, §6.14). */
#ifndef VIGIL_ARCH_X86_64_DESCRIPTORS_H
#define VIGIL_ARCH_X86_64_DESCRIPTORS_H

#include <stdint.h>

#define SELECTOR_KERNEL_CODE 0x08
#define SELECTOR_KERNEL_DATA 0x10
#define SELECTOR_TSS 0x18

/* Interrupt stack table slots: faults that may arrive on a broken stack get their own. */
#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_MACHINE_CHECK 3
#define IST_PAGE_FAULT 4

struct __attribute__((packed)) task_state_segment {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t io_map_base;
};
_Static_assert(sizeof(struct task_state_segment) == 104, "64-bit TSS is 104 bytes (SDM Vol. 3A Figure 7-11)");

/* Loads the GDT (with a real 64-bit TSS), reloads segment registers, loads TR and the IDT. */
void descriptors_init(void);

/* For the VMCS host-state area later: the bases the CPU must restore on VM exit. */
uint64_t descriptors_gdt_base(void);
uint64_t descriptors_idt_base(void);
uint64_t descriptors_tss_base(void);

#endif
