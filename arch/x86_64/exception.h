/* What the interrupt stubs save, and the dispatcher they call. */
#ifndef VIGIL_ARCH_X86_64_EXCEPTION_H
#define VIGIL_ARCH_X86_64_EXCEPTION_H

#include <stdint.h>

/* Layout matches the push order in exception_stubs.S (lowest address first). */
struct exception_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU (SDM Vol. 3A §6.14.2) */
};

void exception_dispatch(struct exception_frame *frame);
/* NMIs taken in VMX root operation since boot (they return; nothing else does). */
extern volatile uint64_t exception_host_nmi_count;
const char *exception_name(uint64_t vector);

#endif
