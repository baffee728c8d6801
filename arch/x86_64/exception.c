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

struct exception_fixup {
    uint64_t faulting_rip;
    uint64_t recovery_rip;
};
extern const struct exception_fixup __exception_fixup_start[], __exception_fixup_end[];

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

    struct exception_state state = {cpu_read_cr0(), cpu_read_cr2(), cpu_read_cr3(), cpu_read_cr4(), 0, false};
    if (frame->vector == VECTOR_PAGE_FAULT)
        state.overflowed_stack = paging_guard_page_owner(state.cr2);
    /* the stack is dumped only if mapped (not a guard page): a corrupt or overflowed
     * RSP must not turn the report into a second fault */
    state.stack_readable = (frame->rsp & 7) == 0 && paging_readable(frame->rsp, EXCEPTION_STACK_DUMP_WORDS * 8);
    exception_report(frame, &state);
    panic_apply_policy();
}
