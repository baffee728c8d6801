/*
 * Exit handlers for instructions and events that need little state: CPUID,
 * VMCALL, XSETBV, the VMX instructions, INVD, the preemption timer, and the
 * guest-fatal events (triple fault, INIT, EPT violation and misconfiguration,
 * VM-entry failure).
 */
#include <vigil/abi.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/vmx.h"
#include "hv/event_injection.h"
#include "hv/guest_lifecycle.h"
#include "hv/guest_state_dump.h"
#include "hv/log.h"
#include "hv/panic.h"
#include "hv/service.h"
#include "hv/timer.h"
#include "hv/vmexit.h"

#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_7_EBX_INVPCID (1u << 10)
#define CPUID_D1_EAX_XSAVES (1u << 3)
#define CPUID_80000001_EDX_RDTSCP (1u << 27)

static void vigil_cpuid_leaf(uint32_t leaf, uint32_t registers[4])
{
    registers[0] = registers[1] = registers[2] = registers[3] = 0;
    switch (leaf) {
    case VIGIL_CPUID_LEAF_SIGNATURE:
        registers[0] = VIGIL_CPUID_LEAF_MAX;
        registers[1] = VIGIL_CPUID_SIGNATURE_EBX;
        registers[2] = VIGIL_CPUID_SIGNATURE_ECX;
        registers[3] = VIGIL_CPUID_SIGNATURE_EDX;
        break;
    case VIGIL_CPUID_LEAF_FEATURES:
        registers[0] = VIGIL_ABI_VERSION;
        registers[1] = VIGIL_FEATURE_HYPERCALL | VIGIL_FEATURE_DOORBELL | (service_active() ? VIGIL_FEATURE_SHARED_REGION : 0);
        registers[2] = VIGIL_DOORBELL_PORT;
        break;
    case VIGIL_CPUID_LEAF_SHARED_REGION:
        service_cpuid_shared_region(registers);
        break;
    default:
        break;
    }
}

/* CPUID: the real processor's answer, minus VMX (the guest must not try to
 * nest), plus the hypervisor-present bit and vigil's leaves (DESIGN.md §2), and
 * minus instructions this VMCS cannot let the guest run (they would #UD). */
enum vmexit_action vmexit_handle_cpuid(struct vcpu *vcpu)
{
    struct guest_registers *r = &vcpu->registers;
    uint32_t leaf = (uint32_t)r->rax, subleaf = (uint32_t)r->rcx;
    uint32_t registers[4];
    if ((leaf & 0xFFFFFF00u) == 0x40000000u) {
        vigil_cpuid_leaf(leaf, registers);
    } else {
        cpu_cpuid(leaf, subleaf, registers);
        uint32_t secondary = vcpu->secondary_controls;
        if (leaf == 1) {
            registers[2] &= ~CPUID_1_ECX_VMX;
            registers[2] |= CPUID_1_ECX_HYPERVISOR;
        } else if (leaf == 7 && subleaf == 0 && !(secondary & SECONDARY_ENABLE_INVPCID)) {
            registers[1] &= ~CPUID_7_EBX_INVPCID;
        } else if (leaf == 0xD && subleaf == 1 && !(secondary & SECONDARY_ENABLE_XSAVES)) {
            registers[0] &= ~CPUID_D1_EAX_XSAVES;
        } else if (leaf == 0x80000001 && !(secondary & SECONDARY_ENABLE_RDTSCP)) {
            registers[3] &= ~CPUID_80000001_EDX_RDTSCP;
        }
    }
    r->rax = registers[0];
    r->rbx = registers[1];
    r->rcx = registers[2];
    r->rdx = registers[3];
    vcpu_skip_instruction(vcpu);
    return VMEXIT_RESUME_GUEST;
}

enum vmexit_action vmexit_handle_vmcall(struct vcpu *vcpu)
{
    struct guest_registers *r = &vcpu->registers;
    switch (r->rax) {
    case VIGIL_HYPERCALL_VERSION:
        r->rax = VIGIL_ABI_VERSION;
        break;
    case VIGIL_HYPERCALL_PING:
        r->rax = r->rbx + 1;
        break;
    case VIGIL_HYPERCALL_DOORBELL:
        r->rax = service_doorbell();
        break;
    case VIGIL_HYPERCALL_EXIT_COUNT: {
        const struct vmexit_statistics *statistics = vmexit_get_statistics();
        uint32_t reason = (uint32_t)r->rbx; /* a 32-bit guest leaves RBX[63:32] undefined */
        uint64_t count = reason == VIGIL_EXIT_COUNT_TOTAL ? statistics->total
                         : reason < VMX_EXIT_REASON_LIMIT ? statistics->by_reason[reason]
                                                          : 0;
        r->rax = count;
        r->rdx = count >> 32;
        break;
    }
    default:
        r->rax = VIGIL_HYPERCALL_ERROR_UNKNOWN;
        break;
    }
    vcpu_skip_instruction(vcpu);
    return VMEXIT_RESUME_GUEST;
}

/* XSETBV always exits (SDM Vol. 3C §26.1.2). Check it as the CPU would
 * (SDM Vol. 2D XSETBV): ECX = 0, x87 bit set, AVX only with SSE, only bits the
 * CPU supports; otherwise #GP. XCR0 is the guest's: the host uses no XSAVE state. */
enum vmexit_action vmexit_handle_xsetbv(struct vcpu *vcpu)
{
    struct guest_registers *r = &vcpu->registers;
    uint64_t value = ((r->rdx & 0xFFFFFFFF) << 32) | (r->rax & 0xFFFFFFFF);
    uint32_t supported[4];
    cpu_cpuid(0xD, 0, supported);
    uint64_t supported_mask = ((uint64_t)supported[3] << 32) | supported[0];
    bool valid = (uint32_t)r->rcx == 0 && (value & 1) && !(value & ~supported_mask) && !((value & 4) && !(value & 2));
    if (!valid || !vcpu->cpuid_has_xsave) {
        inject_exception_with_error_code(vcpu, VECTOR_GENERAL_PROTECTION, 0);
        return VMEXIT_RESUME_GUEST;
    }
    __asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
    vcpu_skip_instruction(vcpu);
    return VMEXIT_RESUME_GUEST;
}

/* VMX is hidden from the guest: its VMX instructions fault as on a CPU without
 * VMX (#UD), and GETSEC likewise (no SMX advertised). */
enum vmexit_action vmexit_handle_vmx_instruction(struct vcpu *vcpu)
{
    static bool reported;
    if (!reported) {
        reported = true;
        log_warn("guest executed %s at rip 0x%lx: injecting #UD (VMX is not offered to the guest)",
                 vmx_exit_reason_name(vcpu->exit_reason), (unsigned long)vmcs_read_natural(VMCS_GUEST_RIP));
    }
    inject_exception(vcpu, VECTOR_INVALID_OPCODE);
    return VMEXIT_RESUME_GUEST;
}

/* INVD would discard the hypervisor's dirty cache lines too: write them back instead. */
enum vmexit_action vmexit_handle_invd(struct vcpu *vcpu)
{
    __asm__ volatile("wbinvd" : : : "memory");
    vcpu_skip_instruction(vcpu);
    return VMEXIT_RESUME_GUEST;
}

enum vmexit_action vmexit_handle_preemption_timer(struct vcpu *vcpu)
{
    (void)vcpu;
    /* The run loop runs the due work after every exit; here only the alarm is re-armed. */
    vmcs_write32(VMCS_GUEST_PREEMPTION_TIMER_VALUE, timer_preemption_value());
    return VMEXIT_RESUME_GUEST;
}

enum vmexit_action vmexit_handle_interrupt_window(struct vcpu *vcpu)
{
    inject_pending_external_interrupt(vcpu);
    return VMEXIT_RESUME_GUEST;
}

enum vmexit_action vmexit_handle_triple_fault(struct vcpu *vcpu)
{
    return guest_stop_as(vcpu, GUEST_EVENT_TRIPLE_FAULT,
                         "triple fault (the guest's exception handling failed three times)");
}

enum vmexit_action vmexit_handle_init_signal(struct vcpu *vcpu)
{
    return guest_stop(vcpu, "INIT signal (guest reset; resetting a running guest is not supported)");
}

enum vmexit_action vmexit_handle_startup_ipi(struct vcpu *vcpu)
{
    return guest_stop(vcpu, "start-up IPI with vector 0x%lx (the guest has one CPU)",
                      (unsigned long)(vcpu->exit_qualification & 0xFF));
}

/* Exit qualification for EPT violations (SDM Vol. 3C §28.2.1, Table 28-7). */
enum vmexit_action vmexit_handle_ept_violation(struct vcpu *vcpu)
{
    uint64_t q = vcpu->exit_qualification;
    uint64_t guest_physical = vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS);
    const char *access = (q & 4) ? "instruction fetch" : (q & 2) ? "write" : "read";
    if (q & (1u << 7))
        return guest_stop(vcpu,
                          "EPT violation: %s at guest-physical 0x%lx (linear 0x%lx), which is not guest memory "
                          "(hypervisor or unmapped), qualification 0x%lx",
                          access, (unsigned long)guest_physical,
                          (unsigned long)vmcs_read_natural(VMCS_GUEST_LINEAR_ADDRESS), (unsigned long)q);
    return guest_stop(vcpu,
                      "EPT violation: %s at guest-physical 0x%lx, which is not guest memory (hypervisor or unmapped), "
                      "qualification 0x%lx",
                      access, (unsigned long)guest_physical, (unsigned long)q);
}

/* A misconfigured EPT entry is vigil's bug, not the guest's. */
enum vmexit_action vmexit_handle_ept_misconfiguration(struct vcpu *vcpu)
{
    (void)vcpu;
    guest_state_dump("EPT misconfiguration: guest state");
    panic("EPT misconfiguration at guest-physical 0x%lx: an EPT entry vigil wrote is invalid",
          (unsigned long)vmcs_read64(VMCS_GUEST_PHYSICAL_ADDRESS));
}

/* VM entry failed on the checks of guest state or MSR loading (SDM Vol. 3C §27.8):
 * the exit qualification says which. */
enum vmexit_action vmexit_handle_entry_failure(struct vcpu *vcpu)
{
    guest_state_dump("VM-entry failure: guest state");
    panic("VM entry failed: exit reason %u (%s), qualification 0x%lx", vcpu->exit_reason,
          vmx_exit_reason_name(vcpu->exit_reason), (unsigned long)vcpu->exit_qualification);
}
