/* Guest register access and instruction completion for exit handlers (hv/vcpu.h). */
#include "arch/x86_64/vmx.h"
#include "hv/vcpu.h"

static uint64_t *register_slot(struct guest_registers *r, unsigned number)
{
    uint64_t *slots[16] = {
        &r->rax, &r->rcx, &r->rdx, &r->rbx, 0, &r->rbp, &r->rsi, &r->rdi,
        &r->r8,  &r->r9,  &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15,
    };
    return slots[number & 15];
}

uint64_t vcpu_register_read(const struct vcpu *vcpu, unsigned number)
{
    if ((number & 15) == 4)
        return vmcs_read_natural(VMCS_GUEST_RSP);
    return *register_slot((struct guest_registers *)&vcpu->registers, number);
}

void vcpu_register_write(struct vcpu *vcpu, unsigned number, uint64_t value)
{
    if ((number & 15) == 4)
        vmcs_write_natural(VMCS_GUEST_RSP, value);
    else
        *register_slot(&vcpu->registers, number) = value;
}

void vcpu_skip_instruction(struct vcpu *vcpu)
{
    vcpu_skip_instruction_by(vcpu, vmcs_read32(VMCS_EXIT_INSTRUCTION_LENGTH));
}

void vcpu_skip_instruction_by(struct vcpu *vcpu, unsigned length)
{
    (void)vcpu; /* its VMCS is the current one */
    uint64_t rip = vmcs_read_natural(VMCS_GUEST_RIP);
    vmcs_write_natural(VMCS_GUEST_RIP, rip + length);
    uint32_t blocking = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_STATE);
    if (blocking & (INTERRUPTIBILITY_BLOCKING_BY_STI | INTERRUPTIBILITY_BLOCKING_BY_MOV_SS))
        vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY_STATE,
                     blocking & ~(INTERRUPTIBILITY_BLOCKING_BY_STI | INTERRUPTIBILITY_BLOCKING_BY_MOV_SS));
}
