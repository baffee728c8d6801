/*
 * Constants the assembly needs from C (the Jailhouse asm-defines technique):
 * compiled to assembly only (-S), never linked; cmake/asm-offsets.cmake turns
 * each "=>NAME VALUE" line of the output into "#define NAME VALUE" in
 * asm_offsets.h, which vmx_entry.S includes.
 */
#include <stddef.h>

#include "arch/x86_64/guest_registers.h"
#include "arch/x86_64/vmcs_fields.h"
#include "arch/x86_64/vmx.h"

#define DEFINE(name, value) __asm__ volatile("\n.ascii \"=>" #name " %c0\"" : : "i"(value))
#define REGISTER_OFFSET(name, field) DEFINE(name, offsetof(struct guest_registers, field))

void asm_offsets(void);
void asm_offsets(void)
{
    REGISTER_OFFSET(GUEST_REGISTER_RAX, rax);
    REGISTER_OFFSET(GUEST_REGISTER_RCX, rcx);
    REGISTER_OFFSET(GUEST_REGISTER_RDX, rdx);
    REGISTER_OFFSET(GUEST_REGISTER_RBX, rbx);
    REGISTER_OFFSET(GUEST_REGISTER_RBP, rbp);
    REGISTER_OFFSET(GUEST_REGISTER_RSI, rsi);
    REGISTER_OFFSET(GUEST_REGISTER_RDI, rdi);
    REGISTER_OFFSET(GUEST_REGISTER_R8, r8);
    REGISTER_OFFSET(GUEST_REGISTER_R9, r9);
    REGISTER_OFFSET(GUEST_REGISTER_R10, r10);
    REGISTER_OFFSET(GUEST_REGISTER_R11, r11);
    REGISTER_OFFSET(GUEST_REGISTER_R12, r12);
    REGISTER_OFFSET(GUEST_REGISTER_R13, r13);
    REGISTER_OFFSET(GUEST_REGISTER_R14, r14);
    REGISTER_OFFSET(GUEST_REGISTER_R15, r15);
    DEFINE(VMCS_FIELD_HOST_RSP, VMCS_HOST_RSP);
    DEFINE(VMX_RESULT_FAIL_INVALID, VMX_FAIL_INVALID);
    DEFINE(VMX_RESULT_FAIL_VALID, VMX_FAIL_VALID);
}
