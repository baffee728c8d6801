/*
 * vigil entry: Multiboot2 (GRUB, hardware) and Multiboot1 (QEMU -kernel) headers,
 * the 32-bit protected-mode entry both loaders use, and the switch to long mode
 * with an identity map of the low 4 GiB (2 MiB pages) plus the image window: the
 * first GiB of physical memory again at IMAGE_VIRTUAL_BASE, where the rest of
 * vigil is linked (linker.ld). hv_main later moves the image to the top of RAM
 * and points the window there (arch/x86_64/paging.c).
 *
 * Everything here runs before paging, at the load address: symbols of the image
 * (linked high) are used through PHYSICAL(), their load address.
 *
 * Multiboot1 spec 0.6.96 §3.1: header in the first 8 KiB, 4-byte aligned; flag 16
 * makes the loader use the address fields, which is what lets QEMU's -kernel load
 * this 64-bit ELF as a flat image (DESIGN.md §4 stage 1).
 * Multiboot2 spec §3.1: header in the first 32 KiB, 8-byte aligned, tags 8-aligned.
 * Both loaders enter at _start32 with EAX = magic, EBX = info, paging off.
 */
#define MULTIBOOT1_HEADER_MAGIC 0x1BADB002
#define MULTIBOOT1_FLAGS ((1 << 0) | (1 << 1) | (1 << 16)) /* page-align modules, memory info, address fields */
#define MULTIBOOT2_HEADER_MAGIC 0xE85250D6
#define MULTIBOOT2_ARCH_I386 0

#define CR0_PE (1 << 0)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)
#define PAGE_PRESENT_WRITABLE 0x3
#define PAGE_LARGE_PRESENT_WRITABLE 0x83
#define COM1 0x3F8
#define IMAGE_VIRTUAL_BASE 0xFFFFFFFF80000000
#define PHYSICAL(symbol) ((symbol) - IMAGE_VIRTUAL_BASE)
#define BOOT_STACK_SIZE 32768

	.section .multiboot, "a"
	.balign 8
multiboot2_header:
	.long MULTIBOOT2_HEADER_MAGIC
	.long MULTIBOOT2_ARCH_I386
	.long multiboot2_header_end - multiboot2_header
	.long 0x100000000 - (MULTIBOOT2_HEADER_MAGIC + MULTIBOOT2_ARCH_I386 + (multiboot2_header_end - multiboot2_header))
	/* No EFI boot-services tag: a 32-bit entry must be entered with boot services exited (DESIGN.md §6). */
	.balign 8
	.short 0, 0          /* end tag: type 0, flags 0 */
	.long 8
multiboot2_header_end:

	.balign 4
multiboot1_header:
	.long MULTIBOOT1_HEADER_MAGIC
	.long MULTIBOOT1_FLAGS
	.long 0x100000000 - (MULTIBOOT1_HEADER_MAGIC + MULTIBOOT1_FLAGS)
	.long multiboot1_header      /* header_addr */
	.long __image_load_start     /* load_addr */
	.long PHYSICAL(__load_end)   /* load_end_addr: file contents end here */
	.long PHYSICAL(__bss_end)    /* bss_end_addr: loader zeroes up to here */
	.long _start32               /* entry_addr */

	.section .boot32, "ax"
	.code32
	.globl _start32
_start32:
	cli
	cld
	movl %eax, PHYSICAL(boot_multiboot_magic)
	movl %ebx, PHYSICAL(boot_multiboot_info)

	/* Zero .bss ourselves: page tables and the boot stack live there, and not
	 * every loader is trusted to have done it. */
	movl $PHYSICAL(__bss_start), %edi
	movl $PHYSICAL(__bss_end), %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb
	movl $PHYSICAL(boot_stack_top), %esp

	/* Long mode is required (CPUID 0x80000001 EDX bit 29). */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode

	/* PML4[0] -> low PDPT; its entries 0..3 -> four page directories: 2048 x 2 MiB = 4 GiB.
	 * PML4[511] -> high PDPT; its entry 510 (IMAGE_VIRTUAL_BASE) -> the first of
	 * those directories, so the image runs where it was loaded until it moves. */
	movl $PHYSICAL(boot_pdpt_low), %eax
	orl $PAGE_PRESENT_WRITABLE, %eax
	movl %eax, PHYSICAL(boot_pml4)
	movl $PHYSICAL(boot_pdpt_high), %eax
	orl $PAGE_PRESENT_WRITABLE, %eax
	movl %eax, PHYSICAL(boot_pml4) + 511 * 8
	movl $PHYSICAL(boot_page_directories), %eax
	orl $PAGE_PRESENT_WRITABLE, %eax
	movl %eax, PHYSICAL(boot_pdpt_high) + 510 * 8
	xorl %ecx, %ecx
1:	movl %eax, PHYSICAL(boot_pdpt_low)(,%ecx,8)
	addl $4096, %eax
	incl %ecx
	cmpl $4, %ecx
	jb 1b
	movl $PAGE_LARGE_PRESENT_WRITABLE, %eax
	xorl %ecx, %ecx
2:	movl %eax, PHYSICAL(boot_page_directories)(,%ecx,8)
	addl $0x200000, %eax
	incl %ecx
	cmpl $2048, %ecx
	jb 2b

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $PHYSICAL(boot_pml4), %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE), %eax
	movl %eax, %cr0

	lgdt boot_gdt_descriptor
	ljmp $0x08, $start64_low

/* Without long mode there is nothing to do: say so on COM1 and stop. */
no_long_mode:
	movl $no_long_mode_message, %esi
3:	lodsb
	testb %al, %al
	jz 5f
	movb %al, %bl
	movw $(COM1 + 5), %dx
4:	inb %dx, %al
	testb $0x20, %al
	jz 4b
	movw $COM1, %dx
	movb %bl, %al
	outb %al, %dx
	jmp 3b
5:	cli
	hlt
	jmp 5b

	/* A far jump from 32-bit code reaches only the low 4 GiB: continue there in
	 * 64-bit mode, then jump to the image's link address. */
	.code64
start64_low:
	movabsq $start64, %rax
	jmp *%rax

no_long_mode_message:
	.asciz "vigil: CPU lacks long mode (CPUID 0x80000001 EDX.LM): cannot run\r\n"

	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF     /* 0x08: 64-bit code */
	.quad 0x00CF92000000FFFF     /* 0x10: data */
boot_gdt_end:
boot_gdt_descriptor:
	.short boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	.text
start64:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	movq $boot_stack_top, %rsp
	xorl %ebp, %ebp
	movl boot_multiboot_magic, %edi
	movl boot_multiboot_info, %esi
	call hv_main
6:	cli
	hlt
	jmp 6b

	.section .data
	.globl boot_multiboot_magic, boot_multiboot_info
boot_multiboot_magic:
	.long 0
boot_multiboot_info:
	.long 0

	/* The boot page tables: the identity directories stay in use for good
	 * (paging.c points its final tables at their moved copy). */
	.section .bss
	.balign 4096
	.globl boot_page_directories
boot_pml4:
	.skip 4096
boot_pdpt_low:
	.skip 4096
boot_pdpt_high:
	.skip 4096
boot_page_directories:
	.skip 4 * 4096

	/* The boot stack, which hv_main and the guest launch run on, above its guard
	 * page (unmapped once paging.c built the final tables). */
	.section .bss.vigil_stacks, "aw", @nobits
	.balign 4096
	.globl boot_stack_guard, boot_stack_top
boot_stack_guard:
	.skip 4096
	.skip BOOT_STACK_SIZE
boot_stack_top:
