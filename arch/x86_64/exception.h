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

#include <stdbool.h>

#define EXCEPTION_STACK_DUMP_WORDS 8

/* What the dispatcher found out besides the frame, for the report. */
struct exception_state {
    uint64_t cr0, cr2, cr3, cr4;
    const char *overflowed_stack; /* a #PF in this stack's guard page (paging_guard_page_owner), or NULL */
    bool stack_readable;          /* RSP aligned and EXCEPTION_STACK_DUMP_WORDS words there mapped */
};

void exception_dispatch(struct exception_frame *frame);
/* NMIs taken in VMX root operation since boot (they return; nothing else does). */
extern volatile uint64_t exception_host_nmi_count;
/* "#GP general protection", ...; "external interrupt" for vectors 32 and up. */
const char *exception_name(uint64_t vector);
/* Prints the report (exception_report.c): "vigil: EXCEPTION <name> (vector N) error=...
 * rip=... rsp=... cr2=...", the registers, the stack overflow if there was one, and
 * the stack words if state says they are readable (else "stack: rsp 0x... not dumpable"). */
void exception_report(const struct exception_frame *frame, const struct exception_state *state);

#endif
