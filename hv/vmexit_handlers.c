/*
 * Exit handlers for instructions and events that need little state: CPUID,
 * VMCALL, XSETBV, the VMX instructions, INVD, the preemption timer, and the
 * guest-fatal events (triple fault, INIT, EPT violation and misconfiguration,
 * VM-entry failure).
 */
#include <vigil/abi.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/vmx.h"
#include "hv/apic_trap.h"
#include "hv/clock.h"
#include "hv/cpuid_policy.h"
#include "hv/event_injection.h"
#include "hv/guest_lifecycle.h"
#include "hv/guest_state.h"
#include "hv/guest_state_dump.h"
#include "hv/log.h"
#include "hv/panic.h"
#include "hv/service.h"
#include "hv/timer.h"
#include "hv/vmexit_handlers.h"
#include "hv/vmexit_statistics.h"

#define CR4_OSXSAVE (1ull << 18)

/* CPUID: hv/cpuid_policy.c decides what the guest sees. */
enum vmexit_action vmexit_handle_cpuid(struct vcpu *vcpu)
{
    struct guest_registers *r = &vcpu->registers;
    struct cpuid_guest guest = { guest_visible_cr4(vcpu), vcpu->secondary_controls, clock_tsc_frequency() };
    uint32_t registers[4];
    cpuid_policy_answer((uint32_t)r->rax, (uint32_t)r->rcx, registers, &guest);
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
    /* Guest user space reaches vigil only through what the guest kernel allows:
     * VMCALL below ring 0 is #UD, as on a CPU without VMX. */
    if (guest_cpl() != 0) {
        inject_exception(vcpu, VECTOR_INVALID_OPCODE);
        return VMEXIT_RESUME_GUEST;
    }
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

/* XSETBV always exits (SDM Vol. 3C §26.1.2). Checked as the CPU would (SDM Vol. 2D
 * XSETBV, Vol. 1 §13.3): #UD without CR4.OSXSAVE; #GP at CPL > 0, for ECX != 0 or
 * an XCR0 value the CPU would refuse. XCR0 is the guest's: the host uses no XSAVE state. */
enum vmexit_action vmexit_handle_xsetbv(struct vcpu *vcpu)
{
    struct guest_registers *r = &vcpu->registers;
    if (!vcpu->cpuid_has_xsave || !(guest_visible_cr4(vcpu) & CR4_OSXSAVE)) {
        inject_exception(vcpu, VECTOR_INVALID_OPCODE);
        return VMEXIT_RESUME_GUEST;
    }
    uint64_t value = ((r->rdx & 0xFFFFFFFF) << 32) | (r->rax & 0xFFFFFFFF);
    uint32_t supported[4];
    cpu_cpuid(0xD, 0, supported);
    uint64_t supported_mask = ((uint64_t)supported[3] << 32) | supported[0];
    if (guest_cpl() != 0 || (uint32_t)r->rcx != 0 || !xcr0_value_valid(value, supported_mask)) {
        inject_exception_with_error_code(vcpu, VECTOR_GENERAL_PROTECTION, 0);
        return VMEXIT_RESUME_GUEST;
    }
    __asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
    vcpu_skip_instruction(vcpu);
    return VMEXIT_RESUME_GUEST;
}

enum vmexit_action vmexit_refuse_instruction(struct vcpu *vcpu, bool *reported, const char *why)
{
    if (!*reported) {
        *reported = true;
        log_warn("guest executed %s at rip 0x%lx: injecting #UD (%s)", vmx_exit_reason_name(vcpu->exit_reason),
                 (unsigned long)vmcs_read_natural(VMCS_GUEST_RIP), why);
    }
    inject_exception(vcpu, VECTOR_INVALID_OPCODE);
    return VMEXIT_RESUME_GUEST;
}

/* VMX is hidden from the guest: its VMX instructions fault as on a CPU without
 * VMX (#UD), and GETSEC likewise (no SMX advertised). */
enum vmexit_action vmexit_handle_vmx_instruction(struct vcpu *vcpu)
{
    static bool reported;
    return vmexit_refuse_instruction(vcpu, &reported, "VMX is not offered to the guest");
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
    /* The run loop ran the due work before this handler: only the alarm is
     * re-armed, to the next due work. */
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
    if (apic_trap_covers(guest_physical, q))
        return apic_trap_write(vcpu, guest_physical);
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
 * the exit qualification says which. The guest's state is at fault (a guest can
 * reach states vigil does not emulate): the guest stops with its state dumped and
 * the stop policy applies; vigil goes on. */
enum vmexit_action vmexit_handle_entry_failure(struct vcpu *vcpu)
{
    return guest_stop(vcpu, "VM entry failed: exit reason %u (%s), qualification 0x%lx", vcpu->exit_reason,
                      vmx_exit_reason_name(vcpu->exit_reason), (unsigned long)vcpu->exit_qualification);
}

enum vmexit_action vmexit_handle_unexpected(struct vcpu *vcpu)
{
    return guest_stop(vcpu, "unexpected VM exit %u (%s), qualification 0x%lx", vcpu->exit_reason,
                      vmx_exit_reason_name(vcpu->exit_reason), (unsigned long)vcpu->exit_qualification);
}
