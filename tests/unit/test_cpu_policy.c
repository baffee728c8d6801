/*
 * Unit tests for the CPU hardening of issue 12: hv/cpuid_policy.c (one logical
 * CPU, hidden features, OSXSAVE from the guest's CR4, XCR0 rules), hv/apic_filter.c
 * in xAPIC terms, and the exits that must keep faults in the guest: XSETBV,
 * VMCALL below ring 0, MONITOR/MWAIT, event injection in real mode and RF,
 * NMIs, and a VM-entry failure (the guest stops, vigil does not panic).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86_64/exception.h"
#include "hv/apic_filter.h"
#include "hv/cpuid_policy.h"
#include "hv/event_injection.h"
#include "vmexit_fakes.h"

#define GUEST_RIP 0x200000u
#define INSTRUCTION_LENGTH 3u
#define UD_INJECTED (INTERRUPTION_VALID | INTERRUPTION_TYPE_HARDWARE_EXCEPTION | VECTOR_INVALID_OPCODE)
#define GP_INJECTED (UD_INJECTED - VECTOR_INVALID_OPCODE + VECTOR_GENERAL_PROTECTION + INTERRUPTION_DELIVER_ERROR_CODE)
#define RFLAGS_RF (1ull << 16)
#define CR4_OSXSAVE (1ull << 18)
#define SS_DPL3 0xF3u /* present, DPL 3, read/write data */

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

/* ---- CPUID ------------------------------------------------------------------------ */

static void filter(uint32_t leaf, uint32_t subleaf, uint32_t r[4], uint64_t cr4)
{
    struct cpuid_guest guest = { cr4, 0, 0 };
    r[0] = r[1] = r[2] = r[3] = 0xFFFFFFFFu;
    cpuid_policy_filter(leaf, subleaf, r, &guest);
}

static void test_cpuid_one_logical_cpu(void **state)
{
    (void)state;
    uint32_t r[4];
    filter(1, 0, r, 0);
    assert_int_equal((r[1] >> 16) & 0xFF, 1);   /* logical processors per package */
    assert_int_equal(r[1] >> 24, 0xFF);         /* the APIC ID stays */
    filter(4, 0, r, 0);
    assert_int_equal(r[0] >> 26, 0);            /* cores per package - 1 */
    assert_int_equal((r[0] >> 14) & 0xFFF, 0);  /* threads sharing the cache - 1 */
    assert_int_equal(r[0] & 0x3FFF, 0x3FFF);    /* cache type and level stay */
    for (uint32_t leaf = 0xB; leaf <= 0x1F; leaf += 0x14) {
        filter(leaf, 0, r, 0);
        assert_int_equal(r[0], 0);                        /* no bits of the ID for threads */
        assert_int_equal(r[1], 1);                        /* one logical processor */
        assert_int_equal(r[2], 1u << 8);                  /* level 0: SMT */
        assert_int_equal(r[3], 0xFFFFFFFFu);              /* x2APIC ID */
        filter(leaf, 1, r, 0);
        assert_int_equal(r[1], 1);
        assert_int_equal(r[2], 1u | 2u << 8);             /* level 1: core */
        filter(leaf, 2, r, 0);
        assert_int_equal(r[1], 0);
        assert_int_equal(r[2], 2);                        /* invalid level: the end */
    }
}

static void test_cpuid_hides_what_vigil_cannot_offer(void **state)
{
    (void)state;
    uint32_t r[4];
    filter(1, 0, r, 0);
    assert_int_equal(r[2] & (1u << 5), 0);   /* VMX */
    assert_int_equal(r[2] & (1u << 6), 0);   /* SMX */
    assert_int_equal(r[2] & (1u << 3), 0);   /* MONITOR/MWAIT */
    assert_int_equal(r[2] & (1u << 15), 0);  /* PDCM (perf capabilities MSR) */
    assert_int_equal(r[3] & (1u << 21), 0);  /* debug store */
    assert_int_equal(r[2] & (1u << 27), 0);  /* OSXSAVE: CR4.OSXSAVE clear */
    assert_true(r[2] & (1u << 31));          /* hypervisor present */
    filter(1, 0, r, CR4_OSXSAVE);
    assert_true(r[2] & (1u << 27));          /* follows the guest's CR4 */
    filter(7, 0, r, 0);
    assert_int_equal(r[1] & (1u << 25), 0);  /* Intel PT */
    assert_int_equal(r[1] & (1u << 2), 0);   /* SGX */
    assert_int_equal(r[1] & (1u << 10), 0);  /* INVPCID: not enabled in this VMCS */
    assert_int_equal(r[2] & (1u << 5), 0);   /* WAITPKG */
    filter(7, 1, r, 0);
    assert_int_equal(r[1], 0xFFFFFFFFu);     /* other subleaves untouched */
    const uint32_t empty[] = { 5, 0xA, 0x12, 0x14 };
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
        filter(empty[i], 0, r, 0);
        assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
    }
    filter(0xD, 1, r, 0);
    assert_int_equal(r[0] & (1u << 3), 0);   /* XSAVES not enabled */
    assert_int_equal(r[2] & (1u << 8), 0);   /* PT state in XSS */
    filter(0xD, 8, r, 0);
    assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
}

static void test_cpuid_hypervisor_range_is_vigils_only(void **state)
{
    (void)state;
    struct cpuid_guest guest = { 0, 0, 0 };
    uint32_t r[4] = { 1, 1, 1, 1 };
    cpuid_policy_answer(0x40000100u, 0, r, &guest); /* where Linux looks for KVM after 0x40000000 */
    assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
    cpuid_policy_answer(0x4FFFFF00u, 0, r, &guest);
    assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
    /* The CPUID handler takes OSXSAVE from the guest's CR4 (read shadow for owned bits). */
    the_vcpu.cr4_guest_host_mask = CR4_OSXSAVE;
    fake_vmcs_set(VMCS_CR4_READ_SHADOW, CR4_OSXSAVE);
    registers.rax = 1;
    assert_int_equal(fake_handle(vmexit_handle_cpuid, EXIT_REASON_CPUID, 0, &registers), FAKE_RETURNED);
    assert_true(registers.rcx & (1u << 27));
    fake_vmcs_set(VMCS_CR4_READ_SHADOW, 0);
    fake_vmcs_set(VMCS_GUEST_CR4, CR4_OSXSAVE); /* vigil's bit, not the guest's */
    registers.rax = 1;
    fake_handle(vmexit_handle_cpuid, EXIT_REASON_CPUID, 0, &registers);
    assert_false(registers.rcx & (1u << 27));
}

/* ---- XCR0 and XSETBV --------------------------------------------------------------- */

static void test_xcr0_rules(void **state)
{
    (void)state;
    const uint64_t all = 0x600FF; /* x87 .. AVX-512, AMX */
    assert_true(xcr0_value_valid(1, all));
    assert_true(xcr0_value_valid(3, all));
    assert_true(xcr0_value_valid(7, all));
    assert_true(xcr0_value_valid(0xE7, all));
    assert_true(xcr0_value_valid(0x1B, all)); /* MPX pair */
    assert_true(xcr0_value_valid(0x60007, all));
    assert_false(xcr0_value_valid(0, all));        /* x87 clear */
    assert_false(xcr0_value_valid(2, all));
    assert_false(xcr0_value_valid(5, all));        /* AVX without SSE */
    assert_false(xcr0_value_valid(0x27, all));     /* AVX-512: one of three */
    assert_false(xcr0_value_valid(0x67, all));
    assert_false(xcr0_value_valid(0xE3, all));     /* AVX-512 without AVX */
    assert_false(xcr0_value_valid(0x0B, all));     /* MPX: one of two */
    assert_false(xcr0_value_valid(0x20007, all));  /* AMX: one of two */
    assert_false(xcr0_value_valid(7, 3));          /* AVX the CPU lacks */
    assert_false(xcr0_value_valid(0x107, all));    /* PT: a supervisor state */
}

static enum fake_outcome_kind xsetbv(uint32_t ecx, uint64_t value)
{
    registers.rcx = ecx;
    registers.rax = (uint32_t)value;
    registers.rdx = (uint32_t)(value >> 32);
    fake_vmcs_set(VMCS_ENTRY_INTERRUPTION_INFO, 0);
    return fake_handle(vmexit_handle_xsetbv, EXIT_REASON_XSETBV, 0, &registers);
}

static void test_xsetbv_faults_stay_in_the_guest(void **state)
{
    (void)state;
    the_vcpu.cpuid_has_xsave = true;
    /* CR4.OSXSAVE clear in the guest: #UD. */
    assert_int_equal(xsetbv(0, 1), FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), UD_INJECTED);
    fake_vmcs_set(VMCS_GUEST_CR4, CR4_OSXSAVE);
    const uint64_t refused[] = { 0, 2, 0x5, 0x27, 1ull << 62 };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        assert_int_equal(xsetbv(0, refused[i]), FAKE_RETURNED);
        assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), GP_INJECTED);
        assert_true(fake_vmcs_get(VMCS_GUEST_RFLAGS) & RFLAGS_RF);
    }
    assert_int_equal(xsetbv(1, 1), FAKE_RETURNED); /* XCR1 */
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), GP_INJECTED);
    fake_vmcs_set(VMCS_GUEST_SS_ACCESS_RIGHTS, SS_DPL3);
    assert_int_equal(xsetbv(0, 1), FAKE_RETURNED); /* valid value, but from ring 3 */
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), GP_INJECTED);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), GUEST_RIP);
}

/* ---- injection, VMCALL, MONITOR/MWAIT, NMIs, entry failure ------------------------ */

static void test_real_mode_exceptions_carry_no_error_code(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_CR0, 0x10); /* PE clear */
    inject_exception_with_error_code(&the_vcpu, VECTOR_GENERAL_PROTECTION, 0);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), UD_INJECTED - 6 + 13);
    assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_EXCEPTION_ERROR_CODE), 0);
    assert_true(fake_vmcs_get(VMCS_GUEST_RFLAGS) & RFLAGS_RF);
    /* Traps do not set RF. */
    setup(state);
    inject_exception(&the_vcpu, 3);
    assert_false(fake_vmcs_get(VMCS_GUEST_RFLAGS) & RFLAGS_RF);
}

static void test_vmcall_from_user_space_is_ud(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_SS_ACCESS_RIGHTS, SS_DPL3);
    registers.rax = 0; /* VIGIL_HYPERCALL_VERSION */
    assert_int_equal(fake_handle(vmexit_handle_vmcall, EXIT_REASON_VMCALL, 0, &registers), FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), UD_INJECTED);
    assert_int_equal(registers.rax, 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), GUEST_RIP);
    /* Virtual-8086 mode is ring 3 as well (VM entry makes SS.DPL 3 there). */
    setup(state);
    fake_vmcs_set(VMCS_GUEST_RFLAGS, 0x20002);
    fake_vmcs_set(VMCS_GUEST_SS_ACCESS_RIGHTS, SS_DPL3);
    assert_int_equal(fake_handle(vmexit_handle_vmcall, EXIT_REASON_VMCALL, 0, &registers), FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), UD_INJECTED);
}

static void test_monitor_and_mwait_are_ud(void **state)
{
    (void)state;
    assert_int_equal(fake_dispatch(36, 0, &registers), FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), UD_INJECTED);
    fake_vmcs_set(VMCS_ENTRY_INTERRUPTION_INFO, 0);
    assert_int_equal(fake_dispatch(39, 0, &registers), FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), UD_INJECTED);
    assert_contains(fake_log_text(), "guest executed MWAIT at rip 0x200000: injecting #UD");
    vmexit_print_statistics();
    assert_contains(fake_log_text(), "vigil: exits: total=2 mwait=1 monitor=1");
}

static void test_nmis_reach_the_guest(void **state)
{
    (void)state;
    /* An NMI exit while the guest can take one: injected. */
    fake_vmcs_set(VMCS_EXIT_INTERRUPTION_INFO, INTERRUPTION_VALID | INTERRUPTION_TYPE_NMI | 2);
    assert_int_equal(fake_dispatch(0, 0, &registers), FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), INTERRUPTION_VALID | INTERRUPTION_TYPE_NMI | 2);
    /* The guest is still in its NMI handler: wait for the NMI window. */
    setup(state);
    fake_vmcs_set(VMCS_EXIT_INTERRUPTION_INFO, INTERRUPTION_VALID | INTERRUPTION_TYPE_NMI | 2);
    fake_vmcs_set(VMCS_GUEST_INTERRUPTIBILITY_STATE, INTERRUPTIBILITY_BLOCKING_BY_NMI);
    assert_int_equal(fake_dispatch(0, 0, &registers), FAKE_RETURNED);
    assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_INTERRUPTION_INFO), 0);
    assert_true(fake_vmcs_get(VMCS_PRIMARY_PROCESSOR_CONTROLS) & PROC_NMI_WINDOW_EXITING);
    fake_vmcs_set(VMCS_GUEST_INTERRUPTIBILITY_STATE, 0);
    assert_int_equal(fake_dispatch(8, 0, &registers), FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), INTERRUPTION_VALID | INTERRUPTION_TYPE_NMI | 2);
    assert_false(fake_vmcs_get(VMCS_PRIMARY_PROCESSOR_CONTROLS) & PROC_NMI_WINDOW_EXITING);
    /* An NMI vigil took itself goes to the guest at the next exit. */
    fake_vmcs_set(VMCS_ENTRY_INTERRUPTION_INFO, 0);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LENGTH, 2);
    exception_host_nmi_count++;
    registers.rax = 0;
    assert_int_equal(fake_dispatch(18 /* VMCALL */, 0, &registers), FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), INTERRUPTION_VALID | INTERRUPTION_TYPE_NMI | 2);
}

static void test_entry_failure_stops_the_guest_not_vigil(void **state)
{
    (void)state;
    assert_int_equal(fake_dispatch((1u << 31) | 33, 2, &registers), FAKE_GUEST_STOPPED);
    assert_contains(fake_log_text(), "vigil: guest stopped: VM entry failed: exit reason 33");
    assert_contains(fake_log_text(), "vigil:   cr0=");
    assert_int_equal(fake_service.ended, 1);
}

/* ---- the ICR filter in xAPIC terms -------------------------------------------------- */

static void test_xapic_icr_filter(void **state)
{
    (void)state;
    struct apic_identity self = { false, 0, 0x01 };
    struct icr_decision d = apic_filter_icr(0x0100000000004500ull, &self); /* INIT to APIC 1 */
    assert_int_equal(d.verdict, ICR_REFUSE_START);
    d = apic_filter_icr(0x0100000000004608ull, &self); /* SIPI to APIC 1 */
    assert_int_equal(d.verdict, ICR_REFUSE_START);
    d = apic_filter_icr(0x00000000000C4608ull, &self); /* SIPI to all but self */
    assert_int_equal(d.verdict, ICR_REFUSE_START);
    d = apic_filter_icr(0x0000000000004500ull, &self); /* INIT to self (APIC 0) too */
    assert_int_equal(d.verdict, ICR_REFUSE_START);
    d = apic_filter_icr(0x00000000000000FDull, &self); /* fixed to APIC 0: this CPU */
    assert_int_equal(d.verdict, ICR_DELIVER);
    assert_int_equal(d.value, 0xFD);
    d = apic_filter_icr(0xFF000000000000FDull, &self); /* broadcast ID: this CPU only */
    assert_int_equal(d.verdict, ICR_DELIVER);
    assert_int_equal(d.value, 0xFD);
    d = apic_filter_icr(0x02000000000008FDull, &self); /* logical 0x02: someone else */
    assert_int_equal(d.verdict, ICR_DROP);
    d = apic_filter_icr(0x03000000000008FDull, &self); /* logical 0x03: includes this CPU */
    assert_int_equal(d.verdict, ICR_DELIVER);
    assert_int_equal(d.value, 0xFD);
    d = apic_filter_icr(0x0000000000080400ull, &self); /* NMI to all including self */
    assert_int_equal(d.verdict, ICR_DELIVER);
    assert_int_equal(d.value, 0x400);
    d = apic_filter_icr(0x0000000000040400ull, &self); /* NMI with the self shorthand: by ID instead */
    assert_int_equal(d.value, 0x400);
}

/* Leaves 0x15/0x16 report the TSC rate vigil measured (Linux trusts them over its
 * own calibration); without a measurement they stay the CPU's. */
static void test_cpuid_reports_the_measured_tsc_rate(void **state)
{
    (void)state;
    struct cpuid_guest guest = { 0, 0, 100001000u };
    uint32_t registers[4] = { 2, 188, 0, 0 }; /* a CPU's ratio without a crystal value */
    cpuid_policy_filter(0x15, 0, registers, &guest);
    assert_int_equal((uint64_t)registers[2] * registers[1] / registers[0], 100001000u);
    uint32_t frequency[4] = { 3300, 4000, 100, 0 };
    cpuid_policy_filter(0x16, 0, frequency, &guest);
    assert_int_equal(frequency[0], 100);
    assert_int_equal(frequency[1], 100);
    guest.tsc_hz = 0;
    uint32_t unchanged[4] = { 2, 188, 0, 0 };
    cpuid_policy_filter(0x15, 0, unchanged, &guest);
    assert_int_equal(unchanged[0], 2);
    assert_int_equal(unchanged[1], 188);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_cpuid_one_logical_cpu, setup),
        cmocka_unit_test_setup(test_cpuid_reports_the_measured_tsc_rate, setup),
        cmocka_unit_test_setup(test_cpuid_hides_what_vigil_cannot_offer, setup),
        cmocka_unit_test_setup(test_cpuid_hypervisor_range_is_vigils_only, setup),
        cmocka_unit_test_setup(test_xcr0_rules, setup),
        cmocka_unit_test_setup(test_xsetbv_faults_stay_in_the_guest, setup),
        cmocka_unit_test_setup(test_real_mode_exceptions_carry_no_error_code, setup),
        cmocka_unit_test_setup(test_vmcall_from_user_space_is_ud, setup),
        cmocka_unit_test_setup(test_monitor_and_mwait_are_ud, setup),
        cmocka_unit_test_setup(test_nmis_reach_the_guest, setup),
        cmocka_unit_test_setup(test_entry_failure_stops_the_guest_not_vigil, setup),
        cmocka_unit_test_setup(test_xapic_icr_filter, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
