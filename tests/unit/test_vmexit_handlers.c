/*
 * Unit tests for hv/vmexit_handlers.c: CPUID (vigil leaves, VMX hidden, the
 * hypervisor bit, instructions the VMCS does not enable), VMCALL, XSETBV's #GP
 * paths, the VMX instructions (#UD), the preemption timer, and the guest-fatal
 * exits, against the fake VMCS field map of vmexit_fakes.c.
 *
 * Not tested: INVD (executes WBINVD, privileged on the host) and the success path
 * of XSETBV (executes XSETBV). CPUID passes the host's own answer through, so
 * those assertions hold whatever this machine's CPU says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <vigil/abi.h>

#include "arch/x86_64/cpu.h"
#include "hv/event_injection.h"
#include "vmexit_fakes.h"

#define GUEST_RIP 0x100000u
#define INSTRUCTION_LENGTH 3u
#define UD_INJECTED (INTERRUPTION_VALID | INTERRUPTION_TYPE_HARDWARE_EXCEPTION | VECTOR_INVALID_OPCODE)
#define GP_INJECTED \
    (INTERRUPTION_VALID | INTERRUPTION_TYPE_HARDWARE_EXCEPTION | INTERRUPTION_DELIVER_ERROR_CODE | VECTOR_GENERAL_PROTECTION)

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

/* ---- CPUID ---------------------------------------------------------------------- */

static void cpuid_exit(uint32_t leaf, uint32_t subleaf)
{
    registers.rax = 0xFFFFFFFF00000000ull | leaf;
    registers.rbx = 0xFFFFFFFFFFFFFFFFull;
    registers.rcx = 0xFFFFFFFF00000000ull | subleaf;
    registers.rdx = 0xFFFFFFFFFFFFFFFFull;
    fake_vmcs_set(VMCS_GUEST_RIP, GUEST_RIP);
    assert_int_equal(fake_handle(vmexit_handle_cpuid, EXIT_REASON_CPUID, 0, &registers), FAKE_RETURNED);
    assert_rip_advanced();
}

static void test_cpuid_vigil_leaves(void **state)
{
    (void)state;
    cpuid_exit(VIGIL_CPUID_LEAF_SIGNATURE, 0);
    assert_int_equal(registers.rax, VIGIL_CPUID_LEAF_MAX);
    assert_int_equal(registers.rbx, VIGIL_CPUID_SIGNATURE_EBX);
    assert_int_equal(registers.rcx, VIGIL_CPUID_SIGNATURE_ECX);
    assert_int_equal(registers.rdx, VIGIL_CPUID_SIGNATURE_EDX);
    char signature[13] = { 0 };
    uint32_t words[3] = { (uint32_t)registers.rbx, (uint32_t)registers.rcx, (uint32_t)registers.rdx };
    memcpy(signature, words, 12);
    assert_string_equal(signature, "VigilVigilHv");

    cpuid_exit(VIGIL_CPUID_LEAF_FEATURES, 0);
    assert_int_equal(registers.rax, VIGIL_ABI_VERSION);
    assert_int_equal(registers.rbx, VIGIL_FEATURE_HYPERCALL | VIGIL_FEATURE_DOORBELL);
    assert_int_equal(registers.rcx, VIGIL_DOORBELL_PORT);
    assert_int_equal(registers.rdx, 0);

    /* With the guest service running, the shared region is advertised and described by the service. */
    fake_service.active = true;
    cpuid_exit(VIGIL_CPUID_LEAF_FEATURES, 0);
    assert_int_equal(registers.rbx, VIGIL_FEATURE_HYPERCALL | VIGIL_FEATURE_DOORBELL | VIGIL_FEATURE_SHARED_REGION);
    fake_service.shared_region[0] = 0x00400000;
    fake_service.shared_region[1] = 0x1;
    fake_service.shared_region[2] = 0x2000;
    fake_service.shared_region[3] = 0xABCD;
    cpuid_exit(VIGIL_CPUID_LEAF_SHARED_REGION, 0);
    assert_int_equal(registers.rax, 0x00400000);
    assert_int_equal(registers.rbx, 0x1);
    assert_int_equal(registers.rcx, 0x2000);
    assert_int_equal(registers.rdx, 0xABCD);

    /* The rest of 0x400000xx reads as zero. */
    const uint32_t zero_leaves[] = { VIGIL_CPUID_LEAF_MAX + 1, 0x400000FFu };
    for (size_t i = 0; i < sizeof zero_leaves / sizeof zero_leaves[0]; i++) {
        cpuid_exit(zero_leaves[i], 0);
        assert_int_equal(registers.rax, 0);
        assert_int_equal(registers.rbx, 0);
        assert_int_equal(registers.rcx, 0);
        assert_int_equal(registers.rdx, 0);
    }
}

static void test_cpuid_leaf_1_hides_vmx_and_sets_hypervisor_bit(void **state)
{
    (void)state;
    uint32_t host[4];
    cpu_cpuid(1, 0, host);
    cpuid_exit(1, 0);
    assert_int_equal(registers.rcx & (1u << 5), 0);
    assert_int_equal(registers.rcx & (1u << 31), 1u << 31);
    /* Also hidden (test_cpu_policy.c): DTES64, MONITOR, DS-CPL, SMX, PDCM; OSXSAVE follows the guest's CR4 (clear). */
    const uint32_t changed = (1u << 2) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 15) | (1u << 27) | (1u << 31);
    assert_int_equal(registers.rcx & ~changed, host[2] & ~changed);
    assert_int_equal(registers.rax, host[0]); /* family/model/stepping: the real processor's */
    assert_int_equal(registers.rdx, host[3] & ~(1u << 21)); /* debug store hidden */
    assert_int_equal(registers.rbx >> 32, 0);
}

static void test_cpuid_hides_instructions_the_vmcs_does_not_enable(void **state)
{
    (void)state;
    the_vcpu.secondary_controls = 0;
    cpuid_exit(7, 0);
    assert_int_equal(registers.rbx & (1u << 10), 0); /* INVPCID */
    cpuid_exit(0xD, 1);
    assert_int_equal(registers.rax & (1u << 3), 0); /* XSAVES */
    cpuid_exit(0x80000001u, 0);
    assert_int_equal(registers.rdx & (1u << 27), 0); /* RDTSCP */

    /* Enabled in the VMCS: the host's answer stands. */
    uint32_t host[4];
    the_vcpu.secondary_controls = SECONDARY_ENABLE_INVPCID | SECONDARY_ENABLE_XSAVES | SECONDARY_ENABLE_RDTSCP;
    cpu_cpuid(0x80000001u, 0, host);
    cpuid_exit(0x80000001u, 0);
    assert_int_equal(registers.rdx, host[3]);
    cpu_cpuid(7, 0, host);
    cpuid_exit(7, 0);
    assert_int_equal(registers.rbx, host[1]);
}

/* ---- VMCALL --------------------------------------------------------------------- */

static void test_vmcall(void **state)
{
    (void)state;
    registers.rax = VIGIL_HYPERCALL_VERSION;
    assert_int_equal(fake_handle(vmexit_handle_vmcall, EXIT_REASON_VMCALL, 0, &registers), FAKE_RETURNED);
    assert_int_equal(registers.rax, VIGIL_ABI_VERSION);
    assert_rip_advanced();

    fake_vmcs_set(VMCS_GUEST_RIP, GUEST_RIP);
    registers.rax = VIGIL_HYPERCALL_PING;
    registers.rbx = 41;
    fake_handle(vmexit_handle_vmcall, EXIT_REASON_VMCALL, 0, &registers);
    assert_int_equal(registers.rax, 42);
    assert_int_equal(registers.rbx, 41);
    assert_rip_advanced();

    fake_vmcs_set(VMCS_GUEST_RIP, GUEST_RIP);
    fake_service.doorbell_result = 7;
    registers.rax = VIGIL_HYPERCALL_DOORBELL;
    fake_handle(vmexit_handle_vmcall, EXIT_REASON_VMCALL, 0, &registers);
    assert_int_equal(registers.rax, 7);
    assert_int_equal(fake_service.doorbells, 1);
    assert_rip_advanced();

    fake_vmcs_set(VMCS_GUEST_RIP, GUEST_RIP);
    registers.rax = 0x7777;
    fake_handle(vmexit_handle_vmcall, EXIT_REASON_VMCALL, 0, &registers);
    assert_int_equal(registers.rax, VIGIL_HYPERCALL_ERROR_UNKNOWN);
    assert_rip_advanced();
    assert_nothing_injected();
}

/* ---- XSETBV (#GP paths only: the success path executes XSETBV) ------------------- */

static void test_xsetbv_refuses_invalid_values(void **state)
{
    struct { uint32_t ecx; uint64_t value; bool has_xsave; } cases[] = {
        { 1, 0x3, true },         /* only XCR0 exists */
        { 0, 0x0, true },         /* x87 must stay set */
        { 0, 0x2, true },
        { 0, 0x5, true },         /* AVX without SSE */
        { 0, 1ull << 62, true },  /* a bit no CPU supports */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        setup(state);
        fake_vmcs_set(VMCS_GUEST_CR4, 1u << 18); /* the guest set CR4.OSXSAVE */
        the_vcpu.cpuid_has_xsave = cases[i].has_xsave;
        registers.rcx = cases[i].ecx;
        registers.rax = (uint32_t)cases[i].value;
        registers.rdx = cases[i].value >> 32;
        assert_int_equal(fake_handle(vmexit_handle_xsetbv, EXIT_REASON_XSETBV, 0, &registers), FAKE_RETURNED);
        assert_injected_gp();
    }
    /* A valid value, but the CPU has no XSAVE: #UD, as XSETBV itself would raise. */
    setup(state);
    registers.rax = 1;
    assert_int_equal(fake_handle(vmexit_handle_xsetbv, EXIT_REASON_XSETBV, 0, &registers), FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), UD_INJECTED);
}

/* ---- VMX instructions, timer, fatal exits ----------------------------------------- */

static void test_vmx_instructions_inject_ud_and_report_once(void **state)
{
    (void)state;
    /* This must be the first test in this program to run a VMX-instruction exit:
     * the report is once per boot. */
    assert_int_equal(fake_dispatch(EXIT_REASON_VMXON, 0, &registers), FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), UD_INJECTED);
    assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_EXCEPTION_ERROR_CODE), 0);
    assert_rip_unchanged();
    assert_contains(fake_log_text(),
                    "vigil: warning: guest executed VMXON at rip 0x100000: injecting #UD (VMX is not offered to the guest)\n");
    fake_dispatch(EXIT_REASON_VMREAD, 0, &registers);
    fake_dispatch(EXIT_REASON_GETSEC, 0, &registers);
    assert_int_equal(fake_log_count("injecting #UD"), 1);
    assert_int_equal(vmexit_get_statistics()->total, 3);
}

static void test_preemption_timer_rearms_to_the_next_due_work(void **state)
{
    (void)state;
    fake_preemption_value = 12345;
    assert_int_equal(fake_dispatch(EXIT_REASON_PREEMPTION_TIMER, 0, &registers), FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_PREEMPTION_TIMER_VALUE), 12345);
    assert_int_equal(fake_timer_ticks, 1);
    assert_rip_unchanged();

    /* Due work runs on any exit, not only on the timer's: a guest that exits a
     * lot cannot starve the tick. Only a timer exit re-arms the alarm. */
    fake_preemption_value = 77;
    fake_dispatch(EXIT_REASON_CPUID, 0, &registers);
    assert_int_equal(fake_timer_ticks, 2);
    assert_int_equal(fake_vmcs_write_count(VMCS_GUEST_PREEMPTION_TIMER_VALUE), 1);
    fake_dispatch(EXIT_REASON_PREEMPTION_TIMER, 0, &registers);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_PREEMPTION_TIMER_VALUE), 77);
    assert_int_equal(fake_timer_ticks, 3);
    assert_int_equal(fake_service.ended, 0);
}

static void test_preemption_timer_is_rearmed_past_the_work_it_woke_up_for(void **state)
{
    (void)state;
    /* When the alarm fires the work is due: before it runs the next deadline is
     * "now" (1 unit), after it runs it is a tick away. The guest must get the
     * latter, or it exits again at once for nothing. */
    fake_preemption_value = 1;
    fake_preemption_value_after_tick = 5000000;
    assert_int_equal(fake_dispatch(EXIT_REASON_PREEMPTION_TIMER, 0, &registers), FAKE_RETURNED);
    assert_int_equal(fake_timer_ticks, 1);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_PREEMPTION_TIMER_VALUE), 5000000);
}

static void test_preemption_timer_forced_off_stops_the_guest(void **state)
{
    (void)state;
    /* The service's tick decides the forced shutdown timed out: the run loop ends
     * the guest instead of handling the exit and entering it again. */
    fake_timer_result = SERVICE_FORCE_GUEST_OFF;
    assert_int_equal(fake_dispatch(EXIT_REASON_PREEMPTION_TIMER, 0, &registers), FAKE_GUEST_STOPPED);
    assert_int_equal(fake_timer_ticks, 1);
    assert_string_equal(fake_outcome.message, "forced off after the shutdown timeout");
    assert_contains(fake_log_text(), "vigil: guest stopped: forced off after the shutdown timeout\n");
    assert_int_equal(fake_service.ended, 1);

    setup(state);
    fake_timer_result = SERVICE_FORCE_GUEST_OFF_REBOOT;
    assert_int_equal(fake_dispatch(EXIT_REASON_CPUID, 0, &registers), FAKE_GUEST_STOPPED);
    assert_contains(fake_log_text(), "forced off after the shutdown timeout (reboot requested");
}

static void test_triple_fault_reports_event_and_stops(void **state)
{
    (void)state;
    assert_int_equal(fake_dispatch(EXIT_REASON_TRIPLE_FAULT, 0, &registers), FAKE_GUEST_STOPPED);
    const char *log = fake_log_text();
    assert_starts_with(log, "vigil: guest stopped: triple fault (the guest's exception handling failed three times)\n");
    assert_contains(log, "vigil: exits: total=1 triple-fault=1\n");
    /* The service hears of it as a triple fault, after the counts were printed. */
    assert_int_equal(fake_service.ended, 1);
    assert_int_equal(fake_service.ended_kind, GUEST_EVENT_TRIPLE_FAULT);
    assert_string_equal(fake_service.ended_detail, "triple fault (the guest's exception handling failed three times)");
}

static void test_ept_violation_messages(void **state)
{
    fake_vmcs_set(VMCS_GUEST_PHYSICAL_ADDRESS, 0x1F0000);
    fake_vmcs_set(VMCS_GUEST_LINEAR_ADDRESS, 0xC01F0000);
    assert_int_equal(fake_dispatch(EXIT_REASON_EPT_VIOLATION, 0x82, &registers), FAKE_GUEST_STOPPED);
    assert_contains(fake_log_text(), "vigil: guest stopped: EPT violation: write at guest-physical 0x1f0000 (linear "
                                     "0xc01f0000), which is not guest memory (hypervisor or unmapped), "
                                     "qualification 0x82\n");

    setup(state);
    fake_vmcs_set(VMCS_GUEST_PHYSICAL_ADDRESS, 0x200000);
    assert_int_equal(fake_dispatch(EXIT_REASON_EPT_VIOLATION, 0x4, &registers), FAKE_GUEST_STOPPED);
    assert_contains(fake_log_text(), "vigil: guest stopped: EPT violation: instruction fetch at guest-physical "
                                     "0x200000, which is not guest memory (hypervisor or unmapped), qualification 0x4\n");
    assert_int_equal(fake_log_count("linear"), 0);
}

static void test_ept_misconfiguration_panics(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_PHYSICAL_ADDRESS, 0xFEE00000);
    assert_int_equal(fake_dispatch(EXIT_REASON_EPT_MISCONFIGURATION, 0, &registers), FAKE_PANIC);
    assert_string_equal(fake_outcome.message,
                        "EPT misconfiguration at guest-physical 0xfee00000: an EPT entry vigil wrote is invalid");
    assert_contains(fake_log_text(), "vigil: EPT misconfiguration: guest state\n");
}

static void test_init_and_sipi_stop(void **state)
{
    assert_int_equal(fake_dispatch(EXIT_REASON_INIT_SIGNAL, 0, &registers), FAKE_GUEST_STOPPED);
    assert_contains(fake_log_text(), "INIT signal (guest reset; resetting a running guest is not supported)");
    setup(state);
    assert_int_equal(fake_dispatch(EXIT_REASON_STARTUP_IPI, 0x1234, &registers), FAKE_GUEST_STOPPED);
    assert_contains(fake_log_text(), "start-up IPI with vector 0x34 (the guest has one CPU)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* First: the VMX-instruction warning is reported once per program. */
        cmocka_unit_test_setup(test_vmx_instructions_inject_ud_and_report_once, setup),
        cmocka_unit_test_setup(test_cpuid_vigil_leaves, setup),
        cmocka_unit_test_setup(test_cpuid_leaf_1_hides_vmx_and_sets_hypervisor_bit, setup),
        cmocka_unit_test_setup(test_cpuid_hides_instructions_the_vmcs_does_not_enable, setup),
        cmocka_unit_test_setup(test_vmcall, setup),
        cmocka_unit_test_setup(test_xsetbv_refuses_invalid_values, setup),
        cmocka_unit_test_setup(test_preemption_timer_rearms_to_the_next_due_work, setup),
        cmocka_unit_test_setup(test_preemption_timer_is_rearmed_past_the_work_it_woke_up_for, setup),
        cmocka_unit_test_setup(test_preemption_timer_forced_off_stops_the_guest, setup),
        cmocka_unit_test_setup(test_triple_fault_reports_event_and_stops, setup),
        cmocka_unit_test_setup(test_ept_violation_messages, setup),
        cmocka_unit_test_setup(test_ept_misconfiguration_panics, setup),
        cmocka_unit_test_setup(test_init_and_sipi_stop, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
