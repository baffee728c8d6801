/*
 * Entry of a vigil test guest (Multiboot1, 32-bit protected mode, paging off).
 * The loader leaves EAX = 0x2BADB002, EBX = the info structure, flat CS/DS, IF = 0
 * and no usable stack; GDTR may point anywhere, so the guest loads its own GDT
 * before its IDT can work.
 */
#define MULTIBOOT1_MAGIC 0x1BADB002
/* bit 0: modules page aligned; bit 1: memory information. No bit 16: the loader
 * reads the ELF program headers (QEMU -kernel, GRUB, vigil). */
#define MULTIBOOT1_FLAGS 0x00000003
#define STACK_SIZE 16384
#define CODE_SELECTOR 0x08
#define DATA_SELECTOR 0x10

	.section .multiboot, "a"
	.balign 4
multiboot1_header:
	.long MULTIBOOT1_MAGIC
	.long MULTIBOOT1_FLAGS
	.long -(MULTIBOOT1_MAGIC + MULTIBOOT1_FLAGS)

	.section .bss
	.balign 16
stack_bottom:
	.skip STACK_SIZE
stack_top:

	.section .rodata
	.balign 8
gdt:
	.quad 0
	.quad 0x00CF9A000000FFFF /* 0x08: 32-bit code, base 0, limit 4 GiB */
	.quad 0x00CF92000000FFFF /* 0x10: data, base 0, limit 4 GiB */
gdt_end:
	.balign 4
	.word 0
gdt_pointer:
	.word gdt_end - gdt - 1
	.long gdt

	.text
	.code32
	.globl _start
	.type _start, @function
_start:
	cli
	cld
	movl %eax, %esi /* keep the loader's registers over the bss clear */
	movl %ebx, %ebp
	lgdt gdt_pointer
	ljmp $CODE_SELECTOR, $1f
1:	movw $DATA_SELECTOR, %cx
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %fs
	movw %cx, %gs
	movw %cx, %ss
	/* The loader zeroes .bss already; do it again rather than trust every loader. */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb
	movl $stack_top, %esp
	pushl $0 /* i386 SysV: 16-byte aligned at each call */
	pushl $0
	pushl %ebp
	pushl %esi
	call guest_runtime_init
	xorl %ebp, %ebp
	call guest_main
	call guest_power_off
2:	cli
	hlt
	jmp 2b
	.size _start, . - _start

/*
 * Exception stubs: each pushes a zero error code where the CPU pushes none, then
 * its vector, and joins the common path, which hands the frame to
 * guest_exception_dispatch (it may change the saved EIP) and returns with iret.
 */
.macro exception_stub vector
	.balign 16
exception_stub_\vector:
.if (\vector == 8) || (\vector >= 10 && \vector <= 14) || (\vector == 17) || (\vector == 21) || (\vector == 29) || (\vector == 30)
.else
	pushl $0
.endif
	pushl $\vector
	jmp exception_common
.endm

.altmacro
.macro exception_stubs from=0, to=31
	exception_stub \from
.if \to-\from
	exception_stubs %(\from+1), \to
.endif
.endm
	exception_stubs 0, 31

exception_common:
	pushal
	movl %esp, %eax
	pushl %eax
	call guest_exception_dispatch
	addl $4, %esp
	popal
	addl $8, %esp /* vector, error code */
	iret

.macro stub_address vector
	.long exception_stub_\vector
.endm
.macro stub_addresses from=0, to=31
	stub_address \from
.if \to-\from
	stub_addresses %(\from+1), \to
.endif
.endm
	.section .rodata
	.balign 4
	.globl guest_exception_stubs
guest_exception_stubs:
	stub_addresses 0, 31

	.section .note.GNU-stack, "", @progbits
