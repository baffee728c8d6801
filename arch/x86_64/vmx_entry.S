/*
 * VM entry and exit (arch/x86_64/vmx_entry.h). vmx_enter_guest saves the host's
 * callee-saved registers and the frame pointer argument on the stack, points the
 * VMCS host RSP at that frame, loads the guest's registers and enters. A VM exit
 * lands on vmx_guest_exit with RSP = host RSP (SDM Vol. 3C §28.5.1): it stores
 * the guest's registers into the frame and returns from vmx_enter_guest. No call
 * leaves this file. Register offsets come from asm_offsets.h (generated from
 * offsetof in arch/x86_64/asm_offsets.c).
 */
#include "arch/x86_64/asm_offsets.h"

	.text
	.code64

/* enum vmx_result vmx_enter_guest(struct guest_registers *registers (rdi), bool launched (esi)) */
	.globl vmx_enter_guest
vmx_enter_guest:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	pushq %rdi                              /* the register frame, for vmx_guest_exit */
	cmpq %rsp, vmx_host_rsp(%rip)
	je 1f
	movq %rsp, vmx_host_rsp(%rip)
	movq $VMCS_FIELD_HOST_RSP, %rax
	vmwrite %rsp, %rax
	jbe .Lentry_failed                      /* CF or ZF: the VMWRITE failed */
1:	testl %esi, %esi                        /* MOVs below keep these flags for the jnz */
	movq GUEST_REGISTER_RAX(%rdi), %rax
	movq GUEST_REGISTER_RCX(%rdi), %rcx
	movq GUEST_REGISTER_RDX(%rdi), %rdx
	movq GUEST_REGISTER_RBX(%rdi), %rbx
	movq GUEST_REGISTER_RBP(%rdi), %rbp
	movq GUEST_REGISTER_RSI(%rdi), %rsi
	movq GUEST_REGISTER_R8(%rdi), %r8
	movq GUEST_REGISTER_R9(%rdi), %r9
	movq GUEST_REGISTER_R10(%rdi), %r10
	movq GUEST_REGISTER_R11(%rdi), %r11
	movq GUEST_REGISTER_R12(%rdi), %r12
	movq GUEST_REGISTER_R13(%rdi), %r13
	movq GUEST_REGISTER_R14(%rdi), %r14
	movq GUEST_REGISTER_R15(%rdi), %r15
	movq GUEST_REGISTER_RDI(%rdi), %rdi
	jnz 2f
	vmlaunch
	jmp .Lentry_failed
2:	vmresume
	/* Only reached if the entry instruction failed: CF = VMfailInvalid, ZF = VMfailValid
	 * (SDM Vol. 3C §31.2). The frame is still on top of the stack. */
.Lentry_failed:
	movl $VMX_RESULT_FAIL_INVALID, %eax     /* MOV keeps the flags */
	jc .Lreturn
	movl $VMX_RESULT_FAIL_VALID, %eax
	jmp .Lreturn

	.globl vmx_guest_exit
vmx_guest_exit:
	pushq %rdi
	movq 8(%rsp), %rdi                      /* the register frame pushed by vmx_enter_guest */
	movq %rax, GUEST_REGISTER_RAX(%rdi)
	movq %rcx, GUEST_REGISTER_RCX(%rdi)
	movq %rdx, GUEST_REGISTER_RDX(%rdi)
	movq %rbx, GUEST_REGISTER_RBX(%rdi)
	movq %rbp, GUEST_REGISTER_RBP(%rdi)
	movq %rsi, GUEST_REGISTER_RSI(%rdi)
	movq %r8, GUEST_REGISTER_R8(%rdi)
	movq %r9, GUEST_REGISTER_R9(%rdi)
	movq %r10, GUEST_REGISTER_R10(%rdi)
	movq %r11, GUEST_REGISTER_R11(%rdi)
	movq %r12, GUEST_REGISTER_R12(%rdi)
	movq %r13, GUEST_REGISTER_R13(%rdi)
	movq %r14, GUEST_REGISTER_R14(%rdi)
	movq %r15, GUEST_REGISTER_R15(%rdi)
	popq GUEST_REGISTER_RDI(%rdi)
	xorl %eax, %eax                         /* VMX_SUCCEEDED: a VM exit */
.Lreturn:
	popq %rdi                               /* drop the frame pointer */
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

	.bss
	.balign 8
vmx_host_rsp:                               /* what the VMCS host RSP holds; 0 = not written yet */
	.quad 0
