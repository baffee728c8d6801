/*
 * The one virtual CPU vigil runs: its VMXON region, VMCS, bitmaps, exit stack
 * and the guest-visible control-register policy (DESIGN.md §4 stages 3 and 5).
 */
#ifndef VIGIL_HV_VCPU_H
#define VIGIL_HV_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/vmx_capability.h"

/* Guest general registers saved by vmx_exit_entry (arch/x86_64/vmx_entry.S);
 * RSP and RIP live in the VMCS. */
struct guest_registers {
    uint64_t rax, rcx, rdx, rbx, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15;
};
_Static_assert(sizeof(struct guest_registers) == 15 * 8, "layout shared with vmx_entry.S");

struct page_pool;
struct ept;

struct vcpu {
    struct vmx_capabilities capabilities;
    uint64_t vmxon_physical, vmcs_physical;
    uint8_t *io_bitmaps;   /* A (ports 0-0x7FFF) then B (0x8000-0xFFFF), 8 KiB */
    uint64_t io_bitmaps_physical;
    uint8_t *msr_bitmap;   /* read low, read high, write low, write high (SDM Vol. 3C §25.6.9) */
    uint64_t msr_bitmap_physical;
    uint64_t exit_stack_top;
    uint64_t ept_pointer;
    uint32_t primary_controls, secondary_controls, entry_controls, exit_controls;
    uint64_t cr0_guest_host_mask, cr4_guest_host_mask;
    uint32_t preemption_timer_ticks;    /* reloaded at every timer exit */
    bool preemption_timer_saved;        /* "save VMX-preemption timer value" exit control in use */
    bool cpuid_has_xsave;
};

/* The guest's starting point: 32-bit protected mode, paging off, flat segments.
 * Multiboot1 uses EAX/EBX and selectors 0x08/0x10 with no GDT; the Linux 32-bit
 * boot protocol wants ESI = zero page and a GDT with __BOOT_CS 0x10 / __BOOT_DS
 * 0x18. Zero selectors and gdt_limit mean the Multiboot1 defaults. */
struct guest_entry_state {
    uint32_t entry_point;
    uint32_t eax, ebx, esi;
    uint16_t code_selector, data_selector;
    uint32_t gdt_base;
    uint16_t gdt_limit;
};

/* Why vigil cannot run a guest on this CPU, or NULL if it can: EPT, unrestricted
 * guest, VMX-preemption timer, I/O and MSR bitmaps, EFER load/save. */
const char *vcpu_missing_capability(const struct vmx_capabilities *capabilities);

/* VMXON, VMCS and bitmaps (pages from the pool), controls, host state and
 * guest state; the VMCS is current afterwards. Panics with the VMX failure
 * decoded if any step fails. */
void vcpu_setup(struct vcpu *vcpu, const struct vmx_capabilities *capabilities, struct page_pool *pool,
                uint64_t ept_pointer, uint32_t preemption_timer_ticks, const struct guest_entry_state *entry);

/* Marks ports [port, port + count) as exiting in the I/O bitmap. */
void vcpu_intercept_io_ports(struct vcpu *vcpu, uint16_t port, unsigned count);
/* Marks an MSR as exiting on read and/or write. */
void vcpu_intercept_msr(struct vcpu *vcpu, uint32_t msr, bool on_read, bool on_write);

/* Starts the guest; returns only if VMLAUNCH itself failed (then it has panicked). */
__attribute__((noreturn)) void vcpu_launch(struct vcpu *vcpu, const struct guest_entry_state *entry);

extern struct vcpu the_vcpu;

#endif
