/*
 * Unit tests for hv/vmexit.c (dispatch table, counters, statistics line), one
 * exit through the run loop of hv/vcpu_run.c, hv/guest_lifecycle.c (guest_stop and
 * guest_powered_off with what the guest service hears), hv/vcpu_registers.c
 * (skip instruction, guest register access), the exit-reason names of
 * arch/x86_64/vmx_exit_reasons.c and the failure reporting of arch/x86_64/vmx.c,
 * against the fake VMCS field map of vmexit_fakes.c. The handlers themselves:
 * test_vmexit_handlers.c, test_vmexit_cr.c, test_vmexit_msr_io.c.
 *
 * Dispatch covers every reason but INVD (its handler executes WBINVD, privileged
 * on the host).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <vigil/abi.h>

#include "arch/x86_64/msr.h"
#include "hv/event_injection.h"
#include "hv/vmexit_io.h"
#include "vmexit_fakes.h"

#define GUEST_RIP 0x100000u
#define INSTRUCTION_LENGTH 3u
#define UD_INJECTED (INTERRUPTION_VALID | INTERRUPTION_TYPE_HARDWARE_EXCEPTION | VECTOR_INVALID_OPCODE)
#define GP_INJECTED \
    (INTERRUPTION_VALID | INTERRUPTION_TYPE_HARDWARE_EXCEPTION | INTERRUPTION_DELIVER_ERROR_CODE | VECTOR_GENERAL_PROTECTION)
#define IO_OUT_BYTE(port) ((uint64_t)(port) << 16)

static struct guest_registers registers;

static int setup(void **state)
{
    (void)state;
    fake_reset_all();
    memset(&registers, 0, sizeof registers);
    fake_vmcs_set(VMCS_GUEST_RIP, GUEST_RIP);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LENGTH, INSTRUCTION_LENGTH);
    fake_vmcs_set(VMCS_GUEST_RFLAGS, 0x2);
    return 0;
}

static void assert_rip_advanced(void) { assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), GUEST_RIP + INSTRUCTION_LENGTH); }
static void assert_rip_unchanged(void)
{
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), GUEST_RIP);
    assert_int_equal(fake_vmcs_write_count(VMCS_GUEST_RIP), 0);
}
static void assert_nothing_injected(void) { assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_INTERRUPTION_INFO), 0); }

static void assert_injected_gp(void)
{
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), GP_INJECTED);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_EXCEPTION_ERROR_CODE), 0);
    assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_EXCEPTION_ERROR_CODE), 1);
    assert_rip_unchanged();
}

static void assert_counted_once(uint32_t reason)
{
    const struct vmexit_statistics *s = vmexit_get_statistics();
    assert_int_equal(s->total, 1);
    for (uint32_t r = 0; r <= VMX_EXIT_REASON_LIMIT; r++)
        assert_int_equal(s->by_reason[r], r == (reason < VMX_EXIT_REASON_LIMIT ? reason : VMX_EXIT_REASON_LIMIT) ? 1 : 0);
}

/* ---- dispatch: every handled reason reaches its handler ----------------------- */

enum expectation { EXPECT_UD, EXPECT_GP, EXPECT_RIP, EXPECT_STOP, EXPECT_PANIC, EXPECT_TICK, EXPECT_WINDOW_CLOSED, EXPECT_NOTHING };

struct route {
    uint32_t reason;
    uint64_t qualification, rax, rcx;
    enum expectation expect;
    const char *text; /* for EXPECT_STOP/PANIC: in the log or the panic message */
};

static const struct route routes[] = {
    /* Reason 0 without an NMI in the exit information: the exception bitmap is 0, so unexpected. */
    { EXIT_REASON_EXCEPTION_OR_NMI, 0, 0, 0, EXPECT_STOP, "vigil: guest stopped: unexpected exception exit" },
    { EXIT_REASON_NMI_WINDOW, 0, 0, 0, EXPECT_NOTHING, 0 }, /* no NMI waiting */
    { EXIT_REASON_TASK_SWITCH, (3ull << 30) | 0x28, 0, 0, EXPECT_STOP,
      "vigil: guest stopped: task switch to TSS selector 0x28 by a task gate in the IDT is not emulated" },
    { EXIT_REASON_MWAIT, 0, 0, 0, EXPECT_UD, 0 },
    { EXIT_REASON_MONITOR, 0, 0, 0, EXPECT_UD, 0 },
    { EXIT_REASON_TRIPLE_FAULT, 0, 0, 0, EXPECT_STOP, "vigil: guest stopped: triple fault" },
    { EXIT_REASON_INIT_SIGNAL, 0, 0, 0, EXPECT_STOP, "vigil: guest stopped: INIT signal" },
    { EXIT_REASON_STARTUP_IPI, 0x9F, 0, 0, EXPECT_STOP, "vigil: guest stopped: start-up IPI with vector 0x9f" },
    { EXIT_REASON_INTERRUPT_WINDOW, 0, 0, 0, EXPECT_WINDOW_CLOSED, 0 },
    { EXIT_REASON_CPUID, 0, VIGIL_CPUID_LEAF_SIGNATURE, 0, EXPECT_RIP, 0 },
    { EXIT_REASON_GETSEC, 0, 0, 0, EXPECT_UD, 0 },
    { EXIT_REASON_VMCALL, 0, VIGIL_HYPERCALL_VERSION, 0, EXPECT_RIP, 0 },
    { EXIT_REASON_VMCLEAR, 0, 0, 0, EXPECT_UD, 0 },
    { EXIT_REASON_VMLAUNCH, 0, 0, 0, EXPECT_UD, 0 },
    { EXIT_REASON_VMPTRLD, 0, 0, 0, EXPECT_UD, 0 },
    { EXIT_REASON_VMPTRST, 0, 0, 0, EXPECT_UD, 0 },
    { EXIT_REASON_VMREAD, 0, 0, 0, EXPECT_UD, 0 },
    { EXIT_REASON_VMRESUME, 0, 0, 0, EXPECT_UD, 0 },
    { EXIT_REASON_VMWRITE, 0, 0, 0, EXPECT_UD, 0 },
    { EXIT_REASON_VMXOFF, 0, 0, 0, EXPECT_UD, 0 },
    { EXIT_REASON_VMXON, 0, 0, 0, EXPECT_UD, 0 },
    { EXIT_REASON_CONTROL_REGISTER_ACCESS, 0x04, 0x20, 0, EXPECT_RIP, 0 }, /* MOV RAX -> CR4, PAE */
    { EXIT_REASON_IO_INSTRUCTION, IO_OUT_BYTE(VIGIL_DOORBELL_PORT), 0, 0, EXPECT_RIP, 0 },
    { EXIT_REASON_RDMSR, 0, 0, MSR_IA32_FEATURE_CONTROL, EXPECT_RIP, 0 },
    { EXIT_REASON_WRMSR, 0, 0, MSR_IA32_FEATURE_CONTROL, EXPECT_GP, 0 },
    { EXIT_REASON_ENTRY_FAILURE_GUEST_STATE, 0, 0, 0, EXPECT_STOP, "vigil: guest stopped: VM entry failed: exit reason 33" },
    { EXIT_REASON_ENTRY_FAILURE_MSR_LOADING, 0, 0, 0, EXPECT_STOP, "vigil: guest stopped: VM entry failed: exit reason 34" },
    { EXIT_REASON_ENTRY_FAILURE_MACHINE_CHECK, 0, 0, 0, EXPECT_STOP, "vigil: guest stopped: VM entry failed: exit reason 41" },
    { EXIT_REASON_EPT_VIOLATION, 1, 0, 0, EXPECT_STOP, "vigil: guest stopped: EPT violation: read" },
    { EXIT_REASON_EPT_MISCONFIGURATION, 0, 0, 0, EXPECT_PANIC, "EPT misconfiguration at guest-physical" },
    { EXIT_REASON_INVEPT, 0, 0, 0, EXPECT_UD, 0 },
    { EXIT_REASON_PREEMPTION_TIMER, 0, 0, 0, EXPECT_TICK, 0 },
    { EXIT_REASON_INVVPID, 0, 0, 0, EXPECT_UD, 0 },
    { EXIT_REASON_XSETBV, 0, 1, 1, EXPECT_GP, 0 }, /* ECX = 1: #GP before any XSETBV */
    { EXIT_REASON_VMFUNC, 0, 0, 0, EXPECT_UD, 0 },
};

static void test_dispatch_routes_each_handled_reason(void **state)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        const struct route *route = &routes[i];
        setup(state);
        the_vcpu.capabilities.cr4_fixed1 = 0xFFFFFFFF;
        the_vcpu.primary_controls = PROC_INTERRUPT_WINDOW_EXITING | 0x80;
        registers.rax = route->rax;
        registers.rcx = route->rcx;
        if (route->reason == EXIT_REASON_IO_INSTRUCTION) { /* the doorbell is vigil's once configured */
            struct guest_io_ports ports = { 0x3F8, 0, 0, 0, 0, 0, false };
            vmexit_io_configure(&the_vcpu, &ports);
        }
        if (route->reason == EXIT_REASON_XSETBV) { /* XSETBV is there and enabled by the guest */
            the_vcpu.cpuid_has_xsave = true;
            fake_vmcs_set(VMCS_GUEST_CR4, 1u << 18);
        }
        uint64_t doorbells = vmexit_io_statistics()->doorbell_rings;
        print_message("reason %u (%s)\n", route->reason, vmx_exit_reason_slug(route->reason));
        enum fake_outcome_kind outcome = fake_dispatch(route->reason, route->qualification, &registers);
        assert_counted_once(route->reason);
        switch (route->expect) {
        case EXPECT_UD:
            assert_int_equal(outcome, FAKE_RETURNED);
            assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), UD_INJECTED);
            assert_rip_unchanged();
            break;
        case EXPECT_GP:
            assert_int_equal(outcome, FAKE_RETURNED);
            assert_injected_gp();
            break;
        case EXPECT_RIP:
            assert_int_equal(outcome, FAKE_RETURNED);
            assert_rip_advanced();
            assert_nothing_injected();
            break;
        case EXPECT_STOP:
            assert_int_equal(outcome, FAKE_GUEST_STOPPED);
            assert_contains(fake_log_text(), route->text);
            break;
        case EXPECT_PANIC:
            assert_int_equal(outcome, FAKE_PANIC);
            assert_contains(fake_outcome.message, route->text);
            break;
        case EXPECT_TICK:
            assert_int_equal(outcome, FAKE_RETURNED);
            assert_int_equal(fake_timer_ticks, 1);
            assert_rip_unchanged();
            break;
        case EXPECT_NOTHING:
            assert_int_equal(outcome, FAKE_RETURNED);
            assert_rip_unchanged();
            assert_nothing_injected();
            break;
        case EXPECT_WINDOW_CLOSED:
            assert_int_equal(outcome, FAKE_RETURNED);
            assert_int_equal(fake_vmcs_get(VMCS_PRIMARY_PROCESSOR_CONTROLS), 0x80);
            assert_rip_unchanged();
            break;
        }
        /* The handler's own effect, where the expectation above is not specific enough. */
        if (route->reason == EXIT_REASON_CPUID)
            assert_int_equal(registers.rax, VIGIL_CPUID_LEAF_MAX);
        if (route->reason == EXIT_REASON_VMCALL)
            assert_int_equal(registers.rax, VIGIL_ABI_VERSION);
        if (route->reason == EXIT_REASON_CONTROL_REGISTER_ACCESS)
            assert_int_equal(fake_vmcs_get(VMCS_CR4_READ_SHADOW), 0x20);
        if (route->reason == EXIT_REASON_IO_INSTRUCTION)
            assert_int_equal(vmexit_io_statistics()->doorbell_rings, doorbells + 1);
        if (route->reason == EXIT_REASON_RDMSR)
            assert_int_equal(registers.rax, FEATURE_CONTROL_LOCKED);
    }
}

static bool routed(uint32_t reason)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (routes[i].reason == reason)
            return true;
    return false;
}

/* Every basic reason without a route above (INVD aside) is unexpected: so the
 * routes cover the whole table, and nothing else has a handler. */
static void test_dispatch_stops_on_every_other_reason(void **state)
{
    for (uint32_t reason = 0; reason < VMX_EXIT_REASON_LIMIT + 6; reason++) {
        if (routed(reason) || reason == EXIT_REASON_INVD)
            continue;
        setup(state);
        print_message("reason %u\n", reason);
        assert_int_equal(fake_dispatch(reason, 0x1234, &registers), FAKE_GUEST_STOPPED);
        char expected[160];
        snprintf(expected, sizeof expected, "vigil: guest stopped: unexpected VM exit %u (%s), qualification 0x1234\n",
                 reason, vmx_exit_reason_name(reason));
        assert_contains(fake_log_text(), expected);
        assert_counted_once(reason);
    }
}

static void test_unhandled_hlt_stops_the_guest(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_CR0, 0x80000031);
    assert_int_equal(fake_dispatch(EXIT_REASON_HLT, 0, &registers), FAKE_GUEST_STOPPED);
    assert_string_equal(fake_outcome.message, "unexpected VM exit 12 (HLT), qualification 0x0");
    const char *log = fake_log_text();
    /* Headline, state dump, then the counts. */
    assert_starts_with(log, "vigil: guest stopped: unexpected VM exit 12 (HLT), qualification 0x0\n");
    assert_contains(log, "vigil:   rip=0x100000 ");
    assert_contains(log, "cr0=0x80000031");
    assert_contains(log, "vigil:   cs   sel=0x0000");
    assert_contains(log, "vigil: exits: total=1 hlt=1\n");
    assert_true(strstr(log, "rip=") < strstr(log, "vigil: exits:"));
    assert_int_equal(vmexit_get_statistics()->by_reason[EXIT_REASON_HLT], 1);
}

static void test_unknown_reason_65_and_past_the_table(void **state)
{
    assert_int_equal(fake_dispatch(65, 0, &registers), FAKE_GUEST_STOPPED);
    char expected[128];
    snprintf(expected, sizeof expected, "unexpected VM exit 65 (%s)", vmx_exit_reason_name(65));
    assert_contains(fake_log_text(), expected);
    assert_int_equal(vmexit_get_statistics()->by_reason[65], 1);

    setup(state);
    assert_int_equal(fake_dispatch(75, 0, &registers), FAKE_GUEST_STOPPED);
    assert_contains(fake_log_text(), "unexpected VM exit 75 (unknown exit reason)");
    assert_int_equal(vmexit_get_statistics()->by_reason[VMX_EXIT_REASON_LIMIT], 1);
    assert_contains(fake_log_text(), "vigil: exits: total=1 other=1\n");
}

static void test_entry_failure_bit_stops_the_guest_without_reinjection(void **state)
{
    (void)state;
    /* An event that was being delivered must not be reinjected after a failed entry;
     * the guest's state is at fault: the guest stops, vigil does not panic. */
    fake_vmcs_set(VMCS_IDT_VECTORING_INFO, INTERRUPTION_VALID | INTERRUPTION_TYPE_EXTERNAL | 0x30);
    assert_int_equal(fake_dispatch(0x80000000u | EXIT_REASON_ENTRY_FAILURE_GUEST_STATE, 3, &registers),
                     FAKE_GUEST_STOPPED);
    assert_contains(fake_log_text(), "vigil: guest stopped: VM entry failed: exit reason 33 (VM-entry failure: "
                                     "invalid guest state), qualification 0x3\n");
    assert_contains(fake_log_text(), "vigil:   rip=");
    assert_nothing_injected();
    assert_counted_once(EXIT_REASON_ENTRY_FAILURE_GUEST_STATE);
}

static void test_entry_failure_bit_wins_over_the_table(void **state)
{
    (void)state;
    /* Bit 31 with a basic reason that has a handler (CPUID) still takes the failure path. */
    registers.rax = VIGIL_CPUID_LEAF_SIGNATURE;
    assert_int_equal(fake_dispatch(0x80000000u | EXIT_REASON_CPUID, 0, &registers), FAKE_GUEST_STOPPED);
    assert_contains(fake_log_text(), "exit reason 10 (CPUID)");
    assert_int_equal(registers.rax, VIGIL_CPUID_LEAF_SIGNATURE);
    assert_rip_unchanged();
}

/* ---- statistics --------------------------------------------------------------- */

static void test_statistics_line_lists_seen_reasons_in_order(void **state)
{
    (void)state;
    vmexit_print_statistics();
    assert_string_equal(fake_log_text(), "vigil: exits: total=0\n");

    /* Seen out of order: the line is in reason order. */
    fake_dispatch(EXIT_REASON_PREEMPTION_TIMER, 0, &registers);
    fake_dispatch(EXIT_REASON_IO_INSTRUCTION, IO_OUT_BYTE(VIGIL_DOORBELL_PORT), &registers);
    registers.rax = VIGIL_CPUID_LEAF_SIGNATURE;
    fake_dispatch(EXIT_REASON_CPUID, 0, &registers);
    registers.rax = VIGIL_CPUID_LEAF_SIGNATURE;
    fake_dispatch(EXIT_REASON_CPUID, 0, &registers);
    registers.rax = VIGIL_HYPERCALL_PING;
    fake_dispatch(EXIT_REASON_VMCALL, 0, &registers);
    fake_dispatch(EXIT_REASON_PREEMPTION_TIMER, 0, &registers);
    fake_dispatch(EXIT_REASON_PREEMPTION_TIMER, 0, &registers);
    fake_log_reset();
    vmexit_print_statistics();
    assert_string_equal(fake_log_text(), "vigil: exits: total=7 cpuid=2 vmcall=1 io=1 preemption-timer=3\n");

    const struct vmexit_statistics *s = vmexit_get_statistics();
    assert_int_equal(s->total, 7);
    assert_int_equal(s->by_reason[EXIT_REASON_CPUID], 2);
    assert_int_equal(s->by_reason[EXIT_REASON_PREEMPTION_TIMER], 3);
}

static void test_reason_slugs(void **state)
{
    (void)state;
    assert_string_equal(vmx_exit_reason_slug(EXIT_REASON_CPUID), "cpuid");
    assert_string_equal(vmx_exit_reason_slug(EXIT_REASON_IO_INSTRUCTION), "io");
    assert_string_equal(vmx_exit_reason_slug(EXIT_REASON_CONTROL_REGISTER_ACCESS), "cr-access");
    assert_string_equal(vmx_exit_reason_slug(EXIT_REASON_HLT), "hlt");
    assert_string_equal(vmx_exit_reason_slug(5), "io-smi");  /* no handler, but a name */
    assert_string_equal(vmx_exit_reason_slug(35), "other");  /* not in SDM Table C-1 */
    assert_string_equal(vmx_exit_reason_slug(VMX_EXIT_REASON_LIMIT), "other");
    assert_string_equal(vmx_exit_reason_slug(0xFFFFFFFFu), "other");
}

/* ---- skip instruction, registers ------------------------------------------------- */

static void test_skip_instruction_adds_length_and_clears_sti_mov_ss(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_INTERRUPTIBILITY_STATE,
                  INTERRUPTIBILITY_BLOCKING_BY_STI | INTERRUPTIBILITY_BLOCKING_BY_MOV_SS | INTERRUPTIBILITY_BLOCKING_BY_NMI);
    vcpu_skip_instruction(&the_vcpu);
    assert_rip_advanced();
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_INTERRUPTIBILITY_STATE), INTERRUPTIBILITY_BLOCKING_BY_NMI);

    /* Nothing to clear: the field is left alone. */
    fake_vmcs_set(VMCS_GUEST_RIP, 0xFFFFFFFFFFFFFFF0ull);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LENGTH, 15);
    unsigned writes = fake_vmcs_write_count(VMCS_GUEST_INTERRUPTIBILITY_STATE);
    vcpu_skip_instruction(&the_vcpu);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), 0xFFFFFFFFFFFFFFFFull);
    assert_int_equal(fake_vmcs_write_count(VMCS_GUEST_INTERRUPTIBILITY_STATE), writes);
}

static void test_guest_register_access(void **state)
{
    (void)state;
    uint64_t *slots[16] = { &the_vcpu.registers.rax, &the_vcpu.registers.rcx, &the_vcpu.registers.rdx, &the_vcpu.registers.rbx, 0, &the_vcpu.registers.rbp,
                            &the_vcpu.registers.rsi, &the_vcpu.registers.rdi, &the_vcpu.registers.r8, &the_vcpu.registers.r9, &the_vcpu.registers.r10,
                            &the_vcpu.registers.r11, &the_vcpu.registers.r12, &the_vcpu.registers.r13, &the_vcpu.registers.r14, &the_vcpu.registers.r15 };
    for (unsigned n = 0; n < 16; n++)
        if (slots[n])
            *slots[n] = 0x1000 + n;
    fake_vmcs_set(VMCS_GUEST_RSP, 0x7000);
    for (unsigned n = 0; n < 16; n++)
        assert_int_equal(vcpu_register_read(&the_vcpu, n), n == 4 ? 0x7000 : 0x1000 + n);
    assert_int_equal(vcpu_register_read(&the_vcpu, 16 + 3), 0x1003); /* only bits 3:0 count */

    for (unsigned n = 0; n < 16; n++)
        vcpu_register_write(&the_vcpu, n, 0xAB00 + n);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RSP), 0xAB04);
    for (unsigned n = 0; n < 16; n++)
        if (slots[n])
            assert_int_equal(*slots[n], 0xAB00 + n);
}

static void test_guest_stop_tells_the_service_and_ends_the_run(void **state)
{
    (void)state;
    assert_int_equal(fake_dispatch(EXIT_REASON_HLT, 0x5, &registers), FAKE_GUEST_STOPPED);
    assert_string_equal(fake_outcome.message, "unexpected VM exit 12 (HLT), qualification 0x5");
    /* The due work ran once, before the exit was handled; after the end the run
     * loop returned instead of entering the guest again (FAKE_GUEST_STOPPED). */
    assert_int_equal(fake_timer_ticks, 1);
    assert_int_equal(fake_service.ended, 1);
    assert_int_equal(fake_service.ended_kind, GUEST_EVENT_GUEST_SHUTDOWN);
    assert_string_equal(fake_service.ended_detail, "unexpected VM exit 12 (HLT), qualification 0x5");
}

static void test_guest_powered_off(void **state)
{
    (void)state;
    registers.rax = VIGIL_CPUID_LEAF_SIGNATURE;
    fake_dispatch(EXIT_REASON_CPUID, 0, &registers);
    fake_log_reset();
    assert_int_equal(guest_powered_off(&the_vcpu, "ACPI S5"), VMEXIT_GUEST_ENDED);
    assert_string_equal(fake_log_text(), "vigil: guest powered off (ACPI S5)\nvigil: exits: total=1 cpuid=1\n");
    assert_non_null(guest_ending());
    assert_int_equal(guest_ending()->kind, GUEST_END_POWERED_OFF);
    assert_string_equal(guest_ending()->reason, "ACPI S5");
    assert_int_equal(fake_service.ended, 1);
    assert_int_equal(fake_service.ended_kind, GUEST_EVENT_GUEST_SHUTDOWN);
    assert_string_equal(fake_service.ended_detail, "ACPI S5");
}

/* ---- arch/x86_64/vmx.c failure reporting ------------------------------------------ */

static void read_rip(void *argument) { *(uint64_t *)argument = vmcs_read_natural(VMCS_GUEST_RIP); }
static void write_rip(void *argument) { vmcs_write_natural(VMCS_GUEST_RIP, *(uint64_t *)argument); }
static void write_exit_reason(void *argument)
{
    (void)argument;
    vmcs_write32(VMCS_EXIT_REASON, 0);
}

static void test_vmx_failures_panic_decoded(void **state)
{
    uint64_t value = 0x42;
    fake_vmcs_fail(VMCS_GUEST_RIP, VMX_FAIL_VALID, 12);
    assert_int_equal(fake_run(read_rip, &value), FAKE_PANIC);
    assert_string_equal(fake_outcome.message, "VMREAD of VMCS field 0x681e failed: VMfailValid, VM-instruction error 12 "
                                              "(VMREAD/VMWRITE from/to unsupported VMCS component)");
    assert_int_equal(value, 0x42);

    setup(state);
    fake_vmcs_fail(VMCS_GUEST_RIP, VMX_FAIL_INVALID, 0);
    assert_int_equal(fake_run(write_rip, &value), FAKE_PANIC);
    assert_string_equal(fake_outcome.message, "VMWRITE of VMCS field 0x681e failed: VMfailInvalid (no current VMCS)");

    /* A write to a read-only field: the fake fails it as the CPU would (error 13). */
    setup(state);
    assert_int_equal(fake_run(write_exit_reason, NULL), FAKE_PANIC);
    assert_string_equal(fake_outcome.message, "VMWRITE of VMCS field 0x4402 failed: VMfailValid, VM-instruction error 13 "
                                              "(VMWRITE to read-only VMCS component)");

    /* A failing VMREAD in the middle of an exit stops at the panic, not later. */
    setup(state);
    fake_vmcs_fail(VMCS_EXIT_QUALIFICATION, VMX_FAIL_VALID, 12);
    assert_int_equal(fake_dispatch(EXIT_REASON_CPUID, 0, &registers), FAKE_PANIC);
    assert_contains(fake_outcome.message, "VMREAD of VMCS field 0x6400 failed: VMfailValid, VM-instruction error 12");
    assert_int_equal(vmexit_get_statistics()->total, 0);
}

static void test_vmx_names(void **state)
{
    (void)state;
    assert_string_equal(vmx_exit_reason_name(EXIT_REASON_HLT), "HLT");
    assert_string_equal(vmx_exit_reason_name(35), "unknown exit reason");
    assert_string_equal(vmx_exit_reason_name(1000), "unknown exit reason");
    assert_string_equal(vmx_instruction_error_name(7), "VM entry with invalid control field(s)");
    assert_string_equal(vmx_instruction_error_name(14), "unknown VM-instruction error");
    assert_string_equal(vmx_instruction_error_name(99), "unknown VM-instruction error");
    assert_string_equal(vmx_result_name(VMX_SUCCEEDED), "VMsucceed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_dispatch_routes_each_handled_reason, setup),
        cmocka_unit_test_setup(test_dispatch_stops_on_every_other_reason, setup),
        cmocka_unit_test_setup(test_unhandled_hlt_stops_the_guest, setup),
        cmocka_unit_test_setup(test_unknown_reason_65_and_past_the_table, setup),
        cmocka_unit_test_setup(test_entry_failure_bit_stops_the_guest_without_reinjection, setup),
        cmocka_unit_test_setup(test_entry_failure_bit_wins_over_the_table, setup),
        cmocka_unit_test_setup(test_statistics_line_lists_seen_reasons_in_order, setup),
        cmocka_unit_test_setup(test_reason_slugs, setup),
        cmocka_unit_test_setup(test_skip_instruction_adds_length_and_clears_sti_mov_ss, setup),
        cmocka_unit_test_setup(test_guest_register_access, setup),
        cmocka_unit_test_setup(test_guest_stop_tells_the_service_and_ends_the_run, setup),
        cmocka_unit_test_setup(test_guest_powered_off, setup),
        cmocka_unit_test_setup(test_vmx_failures_panic_decoded, setup),
        cmocka_unit_test_setup(test_vmx_names, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
