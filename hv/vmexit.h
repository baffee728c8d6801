/*
 * VM-exit dispatch (DESIGN.md §4 stage 5): a const table from basic exit reason
 * to handler (hv/vmexit_handlers.h), and the per-reason count. Nothing else: the
 * run loop is hv/vcpu_run.c, the guest's end hv/guest_lifecycle.c, reason
 * numbers and names arch/x86_64/vmx_exit_reasons.h.
 */
#ifndef VIGIL_HV_VMEXIT_H
#define VIGIL_HV_VMEXIT_H

#include "hv/vcpu.h"
#include "hv/vmexit_action.h"

/* An exit in two steps; the run loop (hv/vcpu_run.c) runs the due timer work
 * between them. Record: reads the exit into vcpu (reason, qualification),
 * counts it and puts back an event the exit interrupted. */
void vmexit_record(struct vcpu *vcpu);
/* Handle: runs the table's handler for the recorded exit; a reason without one
 * is unexpected, a failed entry panics. */
enum vmexit_action vmexit_handle(struct vcpu *vcpu);

#endif
