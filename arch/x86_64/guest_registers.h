/*
 * The guest's general registers while vigil handles a VM exit: the exit stub
 * (arch/x86_64/vmx_entry.S) stores them here on every exit and loads them on
 * every entry. RSP and RIP live in the VMCS (SDM Vol. 3C §25.4.1).
 *
 * vmx_entry.S gets the offsets from asm_offsets.h, generated at build time from
 * offsetof (arch/x86_64/asm_offsets.c, cmake/asm-offsets.cmake): change the
 * struct freely, the assembly follows.
 */
#ifndef VIGIL_ARCH_X86_64_GUEST_REGISTERS_H
#define VIGIL_ARCH_X86_64_GUEST_REGISTERS_H

#include <stddef.h>
#include <stdint.h>

struct guest_registers {
    uint64_t rax, rcx, rdx, rbx, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15;
};

/* The stub moves whole quadwords: every register is one, naturally aligned. */
_Static_assert(sizeof(struct guest_registers) == 15 * sizeof(uint64_t), "one quadword per register, no padding");
_Static_assert(offsetof(struct guest_registers, r15) % 8 == 0, "quadword-aligned slots");

#endif
