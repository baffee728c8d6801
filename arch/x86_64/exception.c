/*
 * Every CPU exception in the hypervisor is fatal and reported: vector and name,
 * error code, RIP, RSP, CR2 and a short stack dump, then the panic policy.
 * Two exceptions to that: a #GP at an instruction listed in the .exception_fixup
 * table (checked MSR access) resumes at its recovery label, and an NMI is counted
 * (the hypervisor reflects it to the guest) and returns.
 */
#include "arch/x86_64/exception.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/paging.h"
#include "lib/log.h"
#include "lib/panic.h"

#define VECTOR_NMI 2
#define VECTOR_GENERAL_PROTECTION 13
#define VECTOR_PAGE_FAULT 14
#define STACK_DUMP_WORDS 8

struct exception_fixup {
    uint64_t faulting_rip;
    uint64_t recovery_rip;
};
extern const struct exception_fixup __exception_fixup_start[], __exception_fixup_end[];

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

static bool apply_fixup(struct exception_frame *frame)
{
    for (const struct exception_fixup *entry = __exception_fixup_start; entry < __exception_fixup_end; entry++) {
        if (entry->faulting_rip == frame->rip) {
            frame->rip = entry->recovery_rip;
            return true;
        }
    }
    return false;
}

/* Only read the stack if it is aligned and mapped (not a guard page): a corrupt
 * or overflowed RSP must not turn the report into a second fault. */
static void dump_stack(uint64_t rsp)
{
    if ((rsp & 7) != 0 || !paging_readable(rsp, STACK_DUMP_WORDS * 8)) {
        log_raw_printf("vigil:   stack: rsp 0x%lx not dumpable\n", (unsigned long)rsp);
        return;
    }
    const uint64_t *words = (const uint64_t *)(uintptr_t)rsp;
    for (unsigned i = 0; i < STACK_DUMP_WORDS; i += 2)
        log_raw_printf("vigil:   [rsp+0x%02x] %016lx %016lx\n", i * 8, (unsigned long)words[i],
                       (unsigned long)words[i + 1]);
}

volatile uint64_t exception_host_nmi_count;

void exception_dispatch(struct exception_frame *frame)
{
    static volatile int nesting;

    /* An NMI while vigil runs (the guest's watchdog, a machine error report) is not
     * vigil's fault: count it; the exit path reflects it to the guest. */
    if (frame->vector == VECTOR_NMI) {
        exception_host_nmi_count++;
        return;
    }

    if (frame->vector == VECTOR_GENERAL_PROTECTION && apply_fixup(frame))
        return;
    log_set_buffered(false); /* the report must reach the line even if nothing runs after it */

    if (++nesting > 1) {
        /* A fault while reporting a fault: print the bare minimum and stop. */
        log_raw_printf("vigil: EXCEPTION vector %lu while reporting an exception, rip=0x%lx\n",
                       (unsigned long)frame->vector, (unsigned long)frame->rip);
        panic_apply_policy();
    }

    log_raw_printf("vigil: EXCEPTION %s (vector %lu) error=0x%lx rip=0x%lx rsp=0x%lx cr2=0x%lx\n",
                   exception_name(frame->vector), (unsigned long)frame->vector, (unsigned long)frame->error_code,
                   (unsigned long)frame->rip, (unsigned long)frame->rsp, (unsigned long)cpu_read_cr2());
    log_raw_printf("vigil:   cs=0x%lx ss=0x%lx rflags=0x%lx cr0=0x%lx cr3=0x%lx cr4=0x%lx\n",
                   (unsigned long)frame->cs, (unsigned long)frame->ss, (unsigned long)frame->rflags,
                   (unsigned long)cpu_read_cr0(), (unsigned long)cpu_read_cr3(), (unsigned long)cpu_read_cr4());
    log_raw_printf("vigil:   rax=%016lx rbx=%016lx rcx=%016lx rdx=%016lx\n", (unsigned long)frame->rax,
                   (unsigned long)frame->rbx, (unsigned long)frame->rcx, (unsigned long)frame->rdx);
    log_raw_printf("vigil:   rsi=%016lx rdi=%016lx rbp=%016lx r8 =%016lx\n", (unsigned long)frame->rsi,
                   (unsigned long)frame->rdi, (unsigned long)frame->rbp, (unsigned long)frame->r8);
    log_raw_printf("vigil:   r9 =%016lx r10=%016lx r11=%016lx r12=%016lx\n", (unsigned long)frame->r9,
                   (unsigned long)frame->r10, (unsigned long)frame->r11, (unsigned long)frame->r12);
    log_raw_printf("vigil:   r13=%016lx r14=%016lx r15=%016lx\n", (unsigned long)frame->r13,
                   (unsigned long)frame->r14, (unsigned long)frame->r15);
    const char *overflowed = frame->vector == VECTOR_PAGE_FAULT ? paging_guard_page_owner(cpu_read_cr2()) : 0;
    if (overflowed)
        log_raw_printf("vigil:   stack overflow: the %s stack ran into its guard page\n", overflowed);
    dump_stack(frame->rsp);
    panic_apply_policy();
}
