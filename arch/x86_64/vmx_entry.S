/*
 * VM entry and exit paths. The guest's general registers live in a
 * struct guest_registers (hv/vcpu.h) on the exit stack while vigil handles an
 * exit; RSP and RIP are in the VMCS. Host RSP is set so that after the 15
 * pushes below the stack is 16-byte aligned for the C call (SysV ABI).
 */
	.text
	.code64

/* Layout of struct guest_registers, lowest address first. */
#define REG_RAX 0
#define REG_RCX 8
#define REG_RDX 16
#define REG_RBX 24
#define REG_RBP 32
#define REG_RSI 40
#define REG_RDI 48
#define REG_R8 56
#define REG_R9 64
#define REG_R10 72
#define REG_R11 80
#define REG_R12 88
#define REG_R13 96
#define REG_R14 104
#define REG_R15 112

	.globl vmx_exit_entry
vmx_exit_entry:
	pushq %r15
	pushq %r14
	pushq %r13
	pushq %r12
	pushq %r11
	pushq %r10
	pushq %r9
	pushq %r8
	pushq %rdi
	pushq %rsi
	pushq %rbp
	pushq %rbx
	pushq %rdx
	pushq %rcx
	pushq %rax
	movq %rsp, %rdi
	call vmexit_dispatch
	popq %rax
	popq %rcx
	popq %rdx
	popq %rbx
	popq %rbp
	popq %rsi
	popq %rdi
	popq %r8
	popq %r9
	popq %r10
	popq %r11
	popq %r12
	popq %r13
	popq %r14
	popq %r15
	vmresume
	/* Only reached if VMRESUME failed: CF = VMfailInvalid, ZF = VMfailValid. */
	pushfq
	popq %rdi
	subq $8, %rsp
	call vmx_resume_failed          /* does not return */
1:	cli
	hlt
	jmp 1b

/* enum vmx_result vmx_launch(const struct guest_registers *registers)
 * Loads the guest's general registers and executes VMLAUNCH. Returns only if the
 * launch failed (a VM-entry failure after the checks on guest state instead
 * arrives as a VM exit, SDM Vol. 3C §27.8). */
	.globl vmx_launch
vmx_launch:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, vmx_launch_saved_rsp(%rip)
	movq REG_RAX(%rdi), %rax
	movq REG_RCX(%rdi), %rcx
	movq REG_RDX(%rdi), %rdx
	movq REG_RBX(%rdi), %rbx
	movq REG_RBP(%rdi), %rbp
	movq REG_RSI(%rdi), %rsi
	movq REG_R8(%rdi), %r8
	movq REG_R9(%rdi), %r9
	movq REG_R10(%rdi), %r10
	movq REG_R11(%rdi), %r11
	movq REG_R12(%rdi), %r12
	movq REG_R13(%rdi), %r13
	movq REG_R14(%rdi), %r14
	movq REG_R15(%rdi), %r15
	movq REG_RDI(%rdi), %rdi
	vmlaunch
	movq vmx_launch_saved_rsp(%rip), %rsp   /* mov and pop leave RFLAGS alone */
	pushfq
	popq %rcx
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	xorl %eax, %eax
	testq $1, %rcx                  /* CF: VMfailInvalid */
	jz 2f
	movl $1, %eax
	ret
2:	testq $0x40, %rcx               /* ZF: VMfailValid */
	jz 3f
	movl $2, %eax
3:	ret

	.bss
	.balign 8
vmx_launch_saved_rsp:
	.quad 0
