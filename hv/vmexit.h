/*
 * VM-exit dispatch (DESIGN.md §4 stage 5): a const table from basic exit reason
 * to handler, and per-reason counters. Nothing else: the run loop and the
 * guest's end are hv/guest_lifecycle.c, reason numbers and names
 * arch/x86_64/vmx_exit_reasons.h.
 *
 * A new exit handler: write it (taking the vcpu, returning what happens next)
 * in the vmexit_*.c file of its concern, declare it below, and give it its row
 * in the table in hv/vmexit.c.
 */
#ifndef VIGIL_HV_VMEXIT_H
#define VIGIL_HV_VMEXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86_64/vmx_exit_reasons.h"
#include "hv/vcpu.h"

/* What the run loop does after a handler. */
enum vmexit_action {
    VMEXIT_RESUME_GUEST = 0,
    VMEXIT_GUEST_ENDED,   /* the guest stopped or powered off (hv/guest_lifecycle.h says how) */
};

/* A handler for vcpu->exit_reason; vcpu->registers, exit_qualification and the
 * current VMCS describe the exit. */
typedef enum vmexit_action vmexit_handler(struct vcpu *vcpu);

struct vmexit_statistics {
    uint64_t total;
    uint64_t by_reason[VMX_EXIT_REASON_LIMIT + 1]; /* the last slot counts reasons past the table */
};

/* Reads the exit into vcpu (reason, qualification), counts it and puts back an
 * event the exit interrupted. */
void vmexit_record(struct vcpu *vcpu);
/* Runs the table's handler for the recorded exit; an exit without one stops the guest. */
enum vmexit_action vmexit_handle(struct vcpu *vcpu);
/* One VM exit: record, then handle. */
static inline enum vmexit_action vmexit_dispatch(struct vcpu *vcpu)
{
    vmexit_record(vcpu);
    return vmexit_handle(vcpu);
}

const struct vmexit_statistics *vmexit_get_statistics(void);
/* "vigil: exits: total=N cpuid=N io=N ..." (only reasons seen). */
void vmexit_print_statistics(void);

/* Handlers, one file per concern. */
vmexit_handler vmexit_handle_cpuid;
vmexit_handler vmexit_handle_vmcall;
vmexit_handler vmexit_handle_xsetbv;
vmexit_handler vmexit_handle_vmx_instruction;
vmexit_handler vmexit_handle_invd;
vmexit_handler vmexit_handle_triple_fault;
vmexit_handler vmexit_handle_init_signal;
vmexit_handler vmexit_handle_startup_ipi;
vmexit_handler vmexit_handle_ept_violation;
vmexit_handler vmexit_handle_ept_misconfiguration;
vmexit_handler vmexit_handle_preemption_timer;
vmexit_handler vmexit_handle_interrupt_window;
vmexit_handler vmexit_handle_io;
vmexit_handler vmexit_handle_rdmsr;
vmexit_handler vmexit_handle_wrmsr;
vmexit_handler vmexit_handle_control_register;
vmexit_handler vmexit_handle_entry_failure;
/* hv/vmexit_cpu_events.c */
vmexit_handler vmexit_handle_exception_or_nmi;
vmexit_handler vmexit_handle_nmi_window;
vmexit_handler vmexit_handle_hidden_instruction;
vmexit_handler vmexit_handle_task_switch;
/* An instruction the guest may not run: #UD, as on a CPU without it; the first one
 * is reported ("guest executed X at rip R: injecting #UD (why)"). */
enum vmexit_action vmexit_refuse_instruction(struct vcpu *vcpu, bool *reported, const char *why);
/* NMIs vigil took in root operation since the last exit go to the guest. */
void vmexit_reflect_host_nmis(struct vcpu *vcpu);

#endif
