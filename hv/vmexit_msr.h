/* Which MSRs the guest may not touch directly, and what it sees instead. */
#ifndef VIGIL_HV_VMEXIT_MSR_H
#define VIGIL_HV_VMEXIT_MSR_H

#include "hv/vcpu.h"

void vmexit_msr_configure(struct vcpu *vcpu);

#endif
