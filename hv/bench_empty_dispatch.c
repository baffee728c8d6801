/* The empty-handler dispatch of the benchmark build: see hv/bench_hooks.h. */
#include <vigil/abi.h>

#include "arch/x86_64/vmx_exit_reasons.h"
#include "hv/bench_hooks.h"
#include "hv/vmexit_handlers.h"

enum vmexit_action bench_empty_handle(struct vcpu *vcpu)
{
    uint32_t reason = vcpu->exit_reason;
    bool doorbell = reason == EXIT_REASON_IO_INSTRUCTION && (uint16_t)(vcpu->exit_qualification >> 16) == VIGIL_DOORBELL_PORT;
    if (!vcpu->exit_entry_failed && (reason == EXIT_REASON_VMCALL || reason == EXIT_REASON_CPUID || doorbell)) {
        vcpu_skip_instruction(vcpu);
        return VMEXIT_RESUME_GUEST;
    }
    return vmexit_handle(vcpu);
}
