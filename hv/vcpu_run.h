/*
 * The run loop: enter the guest, take the VM exit, record it (hv/vmexit.c), run
 * the timer work that is due (hv/timer.c), handle the exit (hv/vmexit.c's
 * table), again, until a handler or the service's tick ends the guest
 * (hv/guest_lifecycle.h).
 */
#ifndef VIGIL_HV_VCPU_RUN_H
#define VIGIL_HV_VCPU_RUN_H

#include "hv/guest_lifecycle.h"
#include "hv/vcpu.h"

/* Runs the guest from its first entry until it ends; the vcpu is set up
 * (vcpu_setup). A failing VMLAUNCH/VMRESUME panics. Returns how it ended. */
const struct guest_end *vcpu_run(struct vcpu *vcpu);

#endif
