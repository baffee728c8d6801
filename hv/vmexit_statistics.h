/* Per-reason VM-exit counters (counted by hv/vmexit.c, read by the console,
 * the VMCALL exit-count hypercall and the end-of-guest report). */
#ifndef VIGIL_HV_VMEXIT_STATISTICS_H
#define VIGIL_HV_VMEXIT_STATISTICS_H

#include <stdint.h>

#include "arch/x86_64/vmx_exit_reasons.h"

struct vmexit_statistics {
    uint64_t total;
    uint64_t by_reason[VMX_EXIT_REASON_LIMIT + 1]; /* the last slot counts reasons past the table */
};

void vmexit_statistics_count(uint32_t basic_reason);
const struct vmexit_statistics *vmexit_get_statistics(void);
/* "vigil: exits: total=N cpuid=N io=N ..." (only reasons seen). */
void vmexit_print_statistics(void);

#endif
