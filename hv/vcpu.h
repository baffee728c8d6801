/*
 * The one virtual CPU vigil runs: its registers and the exit being handled, its
 * VMXON region, VMCS, bitmaps and the guest-visible control-register policy (DESIGN.md §4 stages 3 and 5).
 */
#ifndef VIGIL_HV_VCPU_H
#define VIGIL_HV_VCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/guest_registers.h"
#include "arch/x86_64/vmx_capability.h"

struct page_pool;
struct ept;

struct vcpu {
    struct guest_registers registers; /* saved at each VM exit, loaded at each entry */
    bool launched;                    /* VMLAUNCH done: the next entry is VMRESUME */
    /* The exit being handled (hv/vmexit.c fills it in before calling a handler). */
    uint32_t exit_reason;             /* basic exit reason, bits 15:0 of the exit-reason field */
    bool exit_entry_failed;           /* bit 31: VM entry failed (SDM Vol. 3C §28.2.1) */
    uint64_t exit_qualification;
    /* An external interrupt waiting for the guest to become interruptible (hv/event_injection.c). */
    bool external_interrupt_queued;
    uint8_t queued_external_vector;
    unsigned pending_nmis;            /* NMIs for the guest waiting for an NMI window (0..2) */
    struct vmx_capabilities capabilities;
    uint64_t vmxon_physical, vmcs_physical;
    uint8_t *io_bitmaps;   /* A (ports 0-0x7FFF) then B (0x8000-0xFFFF), 8 KiB */
    uint64_t io_bitmaps_physical;
    uint8_t *msr_bitmap;   /* read low, read high, write low, write high (SDM Vol. 3C §25.6.9) */
    uint64_t msr_bitmap_physical;
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
 * guest state (registers included); the VMCS is current afterwards, and the
 * guest is ready for its first entry (hv/vcpu_run.c). Panics with the VMX failure
 * decoded if any step fails. */
void vcpu_setup(struct vcpu *vcpu, const struct vmx_capabilities *capabilities, struct page_pool *pool,
                uint64_t ept_pointer, uint32_t preemption_timer_ticks, const struct guest_entry_state *entry);

/* Marks ports [port, port + count) as exiting in the I/O bitmap. */
void vcpu_intercept_io_ports(struct vcpu *vcpu, uint16_t port, unsigned count);

/* Guest register access and instruction completion for exit handlers (hv/vcpu_registers.c). */
/* General register n in the x86 encoding order (0 = RAX ... 4 = RSP ... 15 = R15);
 * RSP is in the VMCS. Only bits 3:0 of n count. */
uint64_t vcpu_register_read(const struct vcpu *vcpu, unsigned number);
void vcpu_register_write(struct vcpu *vcpu, unsigned number, uint64_t value);
/* Advance guest RIP past the exiting instruction and drop STI/MOV-SS blocking,
 * as completing the instruction would have (SDM Vol. 3C §25.4.2). */
void vcpu_skip_instruction(struct vcpu *vcpu);
/* The same for an instruction vigil decoded itself (the exit gives no length, e.g. EPT violations). */
void vcpu_skip_instruction_by(struct vcpu *vcpu, unsigned length);

#endif
