#include "hv/vmexit.h"

#include <stdarg.h>

#include "arch/x86_64/vmx.h"
#include "hv/event_injection.h"
#include "hv/format.h"
#include "hv/log.h"
#include "hv/msr_policy.h"
#include "hv/idle.h"
#include "hv/panic.h"
#include "hv/service.h"
#include "hv/timer.h"
#ifdef VIGIL_BENCH_EMPTY_DISPATCH
#include <vigil/abi.h> /* VIGIL_DOORBELL_PORT */
#endif

#define EXIT_REASON_ENTRY_FAILURE_BIT (1u << 31)

struct vmexit_table_entry {
    const char *slug;
    vmexit_handler *handle;
};

/* Basic exit reason -> handler (SDM Vol. 3D Appendix C). A reason without a
 * handler is unexpected: vigil never enables the control that causes it. */
static const struct vmexit_table_entry exit_table[VMEXIT_REASON_LIMIT] = {
    [EXIT_REASON_EXCEPTION_OR_NMI] = { "exception", vmexit_handle_exception_or_nmi },
    [EXIT_REASON_EXTERNAL_INTERRUPT] = { "external-interrupt", 0 },
    [EXIT_REASON_TRIPLE_FAULT] = { "triple-fault", vmexit_handle_triple_fault },
    [EXIT_REASON_INIT_SIGNAL] = { "init", vmexit_handle_init_signal },
    [EXIT_REASON_STARTUP_IPI] = { "sipi", vmexit_handle_startup_ipi },
    [EXIT_REASON_INTERRUPT_WINDOW] = { "interrupt-window", vmexit_handle_interrupt_window },
    [EXIT_REASON_NMI_WINDOW] = { "nmi-window", vmexit_handle_nmi_window },
    [EXIT_REASON_TASK_SWITCH] = { "task-switch", vmexit_handle_task_switch },
    [EXIT_REASON_CPUID] = { "cpuid", vmexit_handle_cpuid },
    [EXIT_REASON_GETSEC] = { "getsec", vmexit_handle_vmx_instruction },
    [EXIT_REASON_HLT] = { "hlt", 0 },
    [EXIT_REASON_INVD] = { "invd", vmexit_handle_invd },
    [EXIT_REASON_VMCALL] = { "vmcall", vmexit_handle_vmcall },
    [EXIT_REASON_VMCLEAR] = { "vmclear", vmexit_handle_vmx_instruction },
    [EXIT_REASON_VMLAUNCH] = { "vmlaunch", vmexit_handle_vmx_instruction },
    [EXIT_REASON_VMPTRLD] = { "vmptrld", vmexit_handle_vmx_instruction },
    [EXIT_REASON_VMPTRST] = { "vmptrst", vmexit_handle_vmx_instruction },
    [EXIT_REASON_VMREAD] = { "vmread", vmexit_handle_vmx_instruction },
    [EXIT_REASON_VMRESUME] = { "vmresume", vmexit_handle_vmx_instruction },
    [EXIT_REASON_VMWRITE] = { "vmwrite", vmexit_handle_vmx_instruction },
    [EXIT_REASON_VMXOFF] = { "vmxoff", vmexit_handle_vmx_instruction },
    [EXIT_REASON_VMXON] = { "vmxon", vmexit_handle_vmx_instruction },
    [EXIT_REASON_CONTROL_REGISTER_ACCESS] = { "cr-access", vmexit_handle_control_register },
    [EXIT_REASON_IO_INSTRUCTION] = { "io", vmexit_handle_io },
    [EXIT_REASON_RDMSR] = { "rdmsr", vmexit_handle_rdmsr },
    [EXIT_REASON_WRMSR] = { "wrmsr", vmexit_handle_wrmsr },
    [EXIT_REASON_ENTRY_FAILURE_GUEST_STATE] = { "entry-failure-guest-state", vmexit_handle_entry_failure },
    [EXIT_REASON_ENTRY_FAILURE_MSR_LOADING] = { "entry-failure-msr-loading", vmexit_handle_entry_failure },
    [EXIT_REASON_MWAIT] = { "mwait", vmexit_handle_hidden_instruction },
    [EXIT_REASON_MONITOR] = { "monitor", vmexit_handle_hidden_instruction },
    [EXIT_REASON_ENTRY_FAILURE_MACHINE_CHECK] = { "entry-failure-machine-check", vmexit_handle_entry_failure },
    [EXIT_REASON_EPT_VIOLATION] = { "ept-violation", vmexit_handle_ept_violation },
    [EXIT_REASON_EPT_MISCONFIGURATION] = { "ept-misconfiguration", vmexit_handle_ept_misconfiguration },
    [EXIT_REASON_INVEPT] = { "invept", vmexit_handle_vmx_instruction },
    [EXIT_REASON_PREEMPTION_TIMER] = { "preemption-timer", vmexit_handle_preemption_timer },
    [EXIT_REASON_INVVPID] = { "invvpid", vmexit_handle_vmx_instruction },
    [EXIT_REASON_XSETBV] = { "xsetbv", vmexit_handle_xsetbv },
    [EXIT_REASON_VMFUNC] = { "vmfunc", vmexit_handle_vmx_instruction },
};

static struct vmexit_statistics statistics;

const struct vmexit_statistics *vmexit_get_statistics(void) { return &statistics; }

const char *vmexit_reason_slug(uint32_t reason)
{
    if (reason < VMEXIT_REASON_LIMIT && exit_table[reason].slug)
        return exit_table[reason].slug;
    return "other";
}

void vmexit_print_statistics(void)
{
    char line[512];
    int used = format_string(line, sizeof line, "vigil: exits: total=%lu", (unsigned long)statistics.total);
    for (uint32_t reason = 0; reason <= VMEXIT_REASON_LIMIT && used > 0 && (size_t)used < sizeof line; reason++) {
        if (statistics.by_reason[reason])
            used += format_string(line + used, sizeof line - (size_t)used, " %s=%lu", vmexit_reason_slug(reason),
                                  (unsigned long)statistics.by_reason[reason]);
    }
    log_raw_printf("%s\n", line);
    msr_policy_print_statistics();
}

void vmexit_skip_instruction(void)
{
    uint64_t rip = vmcs_read_natural(VMCS_GUEST_RIP);
    vmcs_write_natural(VMCS_GUEST_RIP, rip + vmcs_read32(VMCS_EXIT_INSTRUCTION_LENGTH));
    uint32_t blocking = vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_STATE);
    if (blocking & (INTERRUPTIBILITY_BLOCKING_BY_STI | INTERRUPTIBILITY_BLOCKING_BY_MOV_SS))
        vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY_STATE,
                     blocking & ~(INTERRUPTIBILITY_BLOCKING_BY_STI | INTERRUPTIBILITY_BLOCKING_BY_MOV_SS));
}

uint64_t guest_register_read(const struct guest_registers *registers, unsigned number)
{
    const uint64_t *slots[16] = {
        &registers->rax, &registers->rcx, &registers->rdx, &registers->rbx, 0, &registers->rbp,
        &registers->rsi, &registers->rdi, &registers->r8, &registers->r9, &registers->r10, &registers->r11,
        &registers->r12, &registers->r13, &registers->r14, &registers->r15,
    };
    number &= 15;
    return number == 4 ? vmcs_read_natural(VMCS_GUEST_RSP) : *slots[number];
}

void guest_register_write(struct guest_registers *registers, unsigned number, uint64_t value)
{
    uint64_t *slots[16] = {
        &registers->rax, &registers->rcx, &registers->rdx, &registers->rbx, 0, &registers->rbp,
        &registers->rsi, &registers->rdi, &registers->r8, &registers->r9, &registers->r10, &registers->r11,
        &registers->r12, &registers->r13, &registers->r14, &registers->r15,
    };
    number &= 15;
    if (number == 4)
        vmcs_write_natural(VMCS_GUEST_RSP, value);
    else
        *slots[number] = value;
}

static void dump_segment(const char *name, uint32_t selector_field, uint32_t base_field, uint32_t limit_field,
                         uint32_t rights_field)
{
    log_raw_printf("vigil:   %-4s sel=0x%04lx base=0x%lx limit=0x%lx ar=0x%lx\n", name,
                   (unsigned long)vmcs_read_checked(selector_field), (unsigned long)vmcs_read_checked(base_field),
                   (unsigned long)vmcs_read_checked(limit_field), (unsigned long)vmcs_read_checked(rights_field));
}

void guest_state_dump(const char *headline)
{
    log_raw_printf("vigil: %s\n", headline);
    log_raw_printf("vigil:   rip=0x%lx rsp=0x%lx rflags=0x%lx activity=%lu interruptibility=0x%lx\n",
                   (unsigned long)vmcs_read_natural(VMCS_GUEST_RIP), (unsigned long)vmcs_read_natural(VMCS_GUEST_RSP),
                   (unsigned long)vmcs_read_natural(VMCS_GUEST_RFLAGS),
                   (unsigned long)vmcs_read32(VMCS_GUEST_ACTIVITY_STATE),
                   (unsigned long)vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_STATE));
    log_raw_printf("vigil:   cr0=0x%lx (shadow 0x%lx) cr3=0x%lx cr4=0x%lx (shadow 0x%lx) efer=0x%lx\n",
                   (unsigned long)vmcs_read_natural(VMCS_GUEST_CR0), (unsigned long)vmcs_read_natural(VMCS_CR0_READ_SHADOW),
                   (unsigned long)vmcs_read_natural(VMCS_GUEST_CR3), (unsigned long)vmcs_read_natural(VMCS_GUEST_CR4),
                   (unsigned long)vmcs_read_natural(VMCS_CR4_READ_SHADOW), (unsigned long)vmcs_read64(VMCS_GUEST_IA32_EFER));
    dump_segment("cs", VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_ACCESS_RIGHTS);
    dump_segment("ss", VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_ACCESS_RIGHTS);
    dump_segment("ds", VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_ACCESS_RIGHTS);
    dump_segment("es", VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_ACCESS_RIGHTS);
    dump_segment("tr", VMCS_GUEST_TR_SELECTOR, VMCS_GUEST_TR_BASE, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_TR_ACCESS_RIGHTS);
    log_raw_printf("vigil:   gdtr=0x%lx/0x%lx idtr=0x%lx/0x%lx\n", (unsigned long)vmcs_read_natural(VMCS_GUEST_GDTR_BASE),
                   (unsigned long)vmcs_read32(VMCS_GUEST_GDTR_LIMIT), (unsigned long)vmcs_read_natural(VMCS_GUEST_IDTR_BASE),
                   (unsigned long)vmcs_read32(VMCS_GUEST_IDTR_LIMIT));
}

void guest_stop(const char *format, ...)
{
    char reason[192];
    va_list arguments;
    va_start(arguments, format);
    format_vstring(reason, sizeof reason, format, arguments);
    va_end(arguments);
    guest_stop_as(GUEST_EVENT_GUEST_SHUTDOWN, reason);
}

void guest_stop_as(enum guest_service_event_kind kind, const char *reason)
{
    char headline[224];
    format_string(headline, sizeof headline, "guest stopped: %s", reason);
    guest_state_dump(headline);
    vmexit_print_statistics();
    service_guest_ended(kind, reason);
    idle_after_guest("the guest stopped", false);
}

void guest_request_reset(struct vcpu *vcpu, const char *reason)
{
    (void)vcpu;
    guest_stop("the guest asked for a machine reset: %s (vigil does not restart guests yet)", reason);
}

void guest_powered_off(const char *how)
{
    log_raw_printf("vigil: guest powered off (%s)\n", how);
    vmexit_print_statistics();
    service_guest_ended(GUEST_EVENT_GUEST_SHUTDOWN, how);
    idle_after_guest("guest powered off", true);
}

void vmexit_dispatch(struct guest_registers *registers)
{
    uint32_t exit_reason = vmcs_read32(VMCS_EXIT_REASON);
    struct vmexit_context context = {
        .registers = registers,
        .reason = exit_reason & 0xFFFF,
        .qualification = vmcs_read_natural(VMCS_EXIT_QUALIFICATION),
    };
    statistics.total++;
    statistics.by_reason[context.reason < VMEXIT_REASON_LIMIT ? context.reason : VMEXIT_REASON_LIMIT]++;

    if (exit_reason & EXIT_REASON_ENTRY_FAILURE_BIT) {
        vmexit_handle_entry_failure(&context);
        return;
    }
    /* Every VM exit clears the valid bit of the VM-entry interruption field
     * (SDM Vol. 3C §28.2.4); an event cut short by this exit goes back in. */
    reinject_interrupted_event();
    vmexit_reflect_host_nmis();

#ifdef VIGIL_BENCH_EMPTY_DISPATCH
    /* Benchmark build only (CMake option VIGIL_BENCH_EMPTY_DISPATCH, target image-bench,
     * build/bench/vigil-empty-dispatch.elf): VMCALL, CPUID and an OUT to the doorbell port
     * skip their handlers and only advance RIP, so tools/bench can compare a round trip
     * through the real handlers with the bare cost of exit, dispatch and entry. Never
     * defined in vigil.elf. */
    if (context.reason == EXIT_REASON_VMCALL || context.reason == EXIT_REASON_CPUID ||
        (context.reason == EXIT_REASON_IO_INSTRUCTION && (uint16_t)(context.qualification >> 16) == VIGIL_DOORBELL_PORT)) {
        vmexit_skip_instruction();
        return;
    }
#endif
    /* The tick and the console poll are due by the TSC, not only by the preemption
     * timer (which counts guest time only): run them on any exit. */
    if (timer_work_due()) {
        timer_run_due();
        bool reboot; /* only the service's tick can decide a forced power-off */
        if (service_force_off_requested(&reboot))
            guest_stop(reboot ? "forced off after the shutdown timeout (reboot requested; vigil does not restart guests)"
                              : "forced off after the shutdown timeout");
    }

    const struct vmexit_table_entry *entry = context.reason < VMEXIT_REASON_LIMIT ? &exit_table[context.reason] : 0;
    if (!entry || !entry->handle)
        guest_stop("unexpected VM exit %u (%s), qualification 0x%lx", context.reason,
                   vmx_exit_reason_name(context.reason), (unsigned long)context.qualification);
    entry->handle(&context);
}
