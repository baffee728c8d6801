/* What an exit handler tells the run loop (hv/vcpu_run.c) to do next. */
#ifndef VIGIL_HV_VMEXIT_ACTION_H
#define VIGIL_HV_VMEXIT_ACTION_H

enum vmexit_action {
    VMEXIT_RESUME_GUEST = 0,
    VMEXIT_GUEST_ENDED,   /* the guest stopped or powered off (hv/guest_lifecycle.h says how) */
};

struct vcpu;

/* A handler for vcpu->exit_reason; vcpu->registers, exit_qualification and the
 * current VMCS describe the exit. */
typedef enum vmexit_action vmexit_handler(struct vcpu *vcpu);

#endif
