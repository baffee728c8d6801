/*
 * 256 interrupt entry stubs. Each pushes a zero error code where the CPU does not
 * push one (SDM Vol. 3A §6.13: vectors 8, 10-14, 17, 21, 29, 30 push one), then its
 * vector, and joins exception_common, which saves the general registers as a
 * struct exception_frame (arch/x86_64/exception.h) and calls exception_dispatch.
 */
	.text
	.code64

.macro stub vector
	.balign 16
exception_stub_\vector:
	.if (\vector == 8) || (\vector >= 10 && \vector <= 14) || (\vector == 17) || (\vector == 21) || (\vector == 29) || (\vector == 30)
	.else
	pushq $0
	.endif
	pushq $\vector
	jmp exception_common
.endm

.altmacro
.set vector, 0
.rept 256
	stub %vector
	.set vector, vector + 1
.endr

exception_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	movq %rsp, %rbx
	andq $-16, %rsp          /* SysV ABI: 16-byte aligned at the call */
	call exception_dispatch
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp           /* vector and error code */
	iretq

.macro stub_address vector
	.quad exception_stub_\vector
.endm

	.section .rodata
	.balign 8
	.globl exception_stub_table
exception_stub_table:
.set vector, 0
.rept 256
	stub_address %vector
	.set vector, vector + 1
.endr
