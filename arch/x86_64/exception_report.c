/*
 * The report of a CPU exception in the hypervisor (exception.c decides when): one
 * line with the vector, its name, the error code, RIP, RSP and CR2, the control and
 * general registers, a stack overflow into a guard page, and a short stack dump.
 * Apart from the stack words (read only where the dispatcher found them mapped), it
 * only formats what it is given, so host unit tests check it with a fake frame.
 */
#include "arch/x86_64/exception.h"

#include "lib/log.h"

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow", "#BR bound range",
    "#UD invalid opcode", "#NM device not available", "#DF double fault", "coprocessor segment overrun",
    "#TS invalid TSS", "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved 15", "#MF x87 floating point", "#AC alignment check", "#MC machine check",
    "#XM SIMD floating point", "#VE virtualization", "#CP control protection", "reserved 22", "reserved 23",
    "reserved 24", "reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
    "#VC VMM communication", "#SX security", "reserved 31",
};

const char *exception_name(uint64_t vector)
{
    if (vector < 32)
        return exception_names[vector];
    return "external interrupt";
}

static void dump_stack(uint64_t rsp, bool readable)
{
    if (!readable || (rsp & 7) != 0) {
        log_raw_printf("vigil:   stack: rsp 0x%lx not dumpable\n", (unsigned long)rsp);
        return;
    }
    const uint64_t *words = (const uint64_t *)(uintptr_t)rsp;
    for (unsigned i = 0; i < EXCEPTION_STACK_DUMP_WORDS; i += 2)
        log_raw_printf("vigil:   [rsp+0x%02x] %016lx %016lx\n", i * 8, (unsigned long)words[i],
                       (unsigned long)words[i + 1]);
}

void exception_report(const struct exception_frame *frame, const struct exception_state *state)
{
    log_raw_printf("vigil: EXCEPTION %s (vector %lu) error=0x%lx rip=0x%lx rsp=0x%lx cr2=0x%lx\n",
                   exception_name(frame->vector), (unsigned long)frame->vector, (unsigned long)frame->error_code,
                   (unsigned long)frame->rip, (unsigned long)frame->rsp, (unsigned long)state->cr2);
    log_raw_printf("vigil:   cs=0x%lx ss=0x%lx rflags=0x%lx cr0=0x%lx cr3=0x%lx cr4=0x%lx\n",
                   (unsigned long)frame->cs, (unsigned long)frame->ss, (unsigned long)frame->rflags,
                   (unsigned long)state->cr0, (unsigned long)state->cr3, (unsigned long)state->cr4);
    log_raw_printf("vigil:   rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx\n", (unsigned long)frame->rax,
                   (unsigned long)frame->rbx, (unsigned long)frame->rcx, (unsigned long)frame->rdx);
    log_raw_printf("vigil:   rsi=%016lx rdi=%016lx rbp=%016lx r8 =%016lx\n", (unsigned long)frame->rsi,
                   (unsigned long)frame->rdi, (unsigned long)frame->rbp, (unsigned long)frame->r8);
    log_raw_printf("vigil:   r9 =%016lx r10=%016lx r11=%016lx r12=%016lx\n", (unsigned long)frame->r9,
                   (unsigned long)frame->r10, (unsigned long)frame->r11, (unsigned long)frame->r12);
    log_raw_printf("vigil:   r13=%016lx r14=%016lx r15=%016lx\n", (unsigned long)frame->r13,
                   (unsigned long)frame->r14, (unsigned long)frame->r15);
    if (state->overflowed_stack != NULL)
        log_raw_printf("vigil:   stack overflow: the %s stack ran into its guard page\n", state->overflowed_stack);
    dump_stack(frame->rsp, state->stack_readable);
}
