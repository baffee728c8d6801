/* The guest's architectural state as the guest itself sees it, read from the VMCS. */
#ifndef VIGIL_HV_GUEST_STATE_H
#define VIGIL_HV_GUEST_STATE_H

#include <stdint.h>

#include "hv/vcpu.h"

/* CR0/CR4 as the guest reads them: bits vigil owns (guest/host mask) from the read
 * shadow, the others from the guest field (SDM Vol. 3C §25.6.6). */
uint64_t guest_visible_cr0(const struct vcpu *vcpu);
uint64_t guest_visible_cr4(const struct vcpu *vcpu);
/* Current privilege level: SS.DPL (SDM Vol. 3C §25.4.1), virtual-8086 mode included. */
unsigned guest_cpl(void);

#endif
