/*
 * Unit tests for hv/msr_policy.c (MSR default deny, the allow-list bitmap, the
 * virtualized MSRs: TSC through the offset, TSC_ADJUST, TSC deadline, APIC base,
 * DEBUGCTL, XSS, the x2APIC ICR, per-MSR counters) through the RDMSR/WRMSR exits,
 * against the fake VMCS and MSR table of vmexit_fakes.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/msr.h"
#include "hv/apic_filter.h"
#include "hv/event_injection.h"
#include "hv/msr_policy.h"
#include "hv/vmexit_msr.h"
#include "vmexit_fakes.h"

#define GUEST_RIP 0x300000u
#define INSTRUCTION_LENGTH 2u
#define GP_INJECTED \
    (INTERRUPTION_VALID | INTERRUPTION_TYPE_HARDWARE_EXCEPTION | INTERRUPTION_DELIVER_ERROR_CODE | VECTOR_GENERAL_PROTECTION)

#define MSR_TSC 0x10
#define MSR_APIC_BASE 0x1B
#define MSR_TSC_ADJUST 0x3B
#define MSR_DEBUGCTL 0x1D9
#define MSR_TSC_DEADLINE 0x6E0
#define MSR_X2APIC_ID 0x802
#define MSR_X2APIC_LDR 0x80D
#define MSR_X2APIC_ICR 0x830
#define MSR_FS_BASE 0xC0000100
#define APIC_BASE_XAPIC 0xFEE00900ull  /* base 0xFEE00000, enabled, BSP */
#define APIC_BASE_X2APIC (APIC_BASE_XAPIC | (1ull << 10))

static struct guest_registers registers;
static uint8_t bitmap[MSR_BITMAP_SIZE];

static int setup(void **state)
{
    (void)state;
    fake_reset_all();
    memset(&registers, 0, sizeof registers);
    fake_vmcs_set(VMCS_GUEST_RIP, GUEST_RIP);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LENGTH, INSTRUCTION_LENGTH);
    fake_msr_set(MSR_TSC_ADJUST, 0);
    the_vcpu.msr_bitmap = bitmap;
    vmexit_msr_configure(&the_vcpu);
    fake_msr_reset(); /* what start-up read does not count */
    return 0;
}

static bool intercepted(uint32_t msr, bool is_write)
{
    unsigned offset = (msr >= 0xC0000000 ? 1024 : 0) + (is_write ? 2048 : 0);
    unsigned bit = msr & 0x1FFF;
    return (bitmap[offset + bit / 8] >> (bit % 8)) & 1;
}

static void assert_completed(enum fake_outcome_kind outcome)
{
    assert_int_equal(outcome, FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), GUEST_RIP + INSTRUCTION_LENGTH);
    assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_INTERRUPTION_INFO), 0);
    fake_vmcs_set(VMCS_GUEST_RIP, GUEST_RIP);
}

static void assert_faulted(enum fake_outcome_kind outcome)
{
    assert_int_equal(outcome, FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), GP_INJECTED);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), GUEST_RIP);
    fake_vmcs_set(VMCS_ENTRY_INTERRUPTION_INFO, 0);
}

static enum fake_outcome_kind rdmsr(uint32_t msr)
{
    registers.rcx = msr;
    registers.rax = registers.rdx = 0xAAAAAAAAAAAAAAAAull;
    return fake_dispatch(EXIT_REASON_RDMSR, 0, &registers);
}

static enum fake_outcome_kind wrmsr(uint32_t msr, uint64_t value)
{
    registers.rcx = msr;
    registers.rax = (uint32_t)value;
    registers.rdx = (uint32_t)(value >> 32);
    return fake_dispatch(EXIT_REASON_WRMSR, 0, &registers);
}

static uint64_t read_result(void) { return (registers.rdx << 32) | (uint32_t)registers.rax; }

static void test_bitmap_starts_all_intercept_with_the_allow_list_clear(void **state)
{
    (void)state;
    /* The allow-list: no exit either way. */
    const uint32_t free_both[] = { 0x174, 0x175, 0x176, 0x277, 0x6E0, 0x80B, 0xC0000080, 0xC0000081, 0xC0000084,
                                   MSR_FS_BASE, 0xC0000101, 0xC0000102, 0xC0000103 };
    for (size_t i = 0; i < sizeof free_both / sizeof free_both[0]; i++) {
        print_message("MSR 0x%x\n", free_both[i]);
        assert_false(intercepted(free_both[i], false));
        assert_false(intercepted(free_both[i], true));
    }
    /* Reads free, writes checked. */
    const uint32_t free_reads[] = { MSR_TSC, MSR_APIC_BASE, 0x200, 0x2FF, 0xFE, MSR_X2APIC_ICR, 0xDA0 };
    for (size_t i = 0; i < sizeof free_reads / sizeof free_reads[0]; i++) {
        print_message("MSR 0x%x\n", free_reads[i]);
        assert_false(intercepted(free_reads[i], false));
        assert_true(intercepted(free_reads[i], true));
    }
    /* Everything else exits: VMX, feature control, PT, PMU, DEBUGCTL, unknown. */
    const uint32_t denied[] = { 0x3A, MSR_TSC_ADJUST, 0x480, 0x491, 0x492, 0x9B, MSR_DEBUGCTL, 0x560, 0x570, 0x580,
                                0xC1, 0x186, 0x309, 0x38F, 0x345, 0x1FFF, 0xC0000104, 0xC0001FFF, 0x0 };
    for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++) {
        print_message("MSR 0x%x\n", denied[i]);
        assert_true(intercepted(denied[i], false));
        assert_true(intercepted(denied[i], true));
    }
    /* Every MSR the table does not list exits both ways. */
    for (uint32_t msr = 0; msr <= 0x1FFF; msr++) {
        if (!msr_policy_lookup(msr) && (!intercepted(msr, false) || !intercepted(msr, true)))
            fail_msg("MSR 0x%x is not listed but does not exit", msr);
    }
}

static void test_unlisted_msrs_fault_even_if_the_cpu_has_them(void **state)
{
    /* Intel PT, the PMU, a VMX capability past the old range, SMM monitor, an unknown MSR. */
    const uint32_t refused[] = { 0x560, 0x561, 0x570, 0x571, 0x580, 0xC1, 0x186, 0x38F, 0x309, 0x345, 0x492, 0x9B,
                                 0x1234, 0x40000000 };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        setup(state);
        print_message("MSR 0x%x\n", refused[i]);
        fake_msr_set(refused[i], 0x1122334455667788ull);
        assert_faulted(rdmsr(refused[i]));
        assert_int_equal(registers.rax, 0xAAAAAAAAAAAAAAAAull);
        assert_faulted(wrmsr(refused[i], 1));
        assert_int_equal(fake_msr_read_count() + fake_msr_write_count(), 0);
        const struct msr_statistics *s = msr_policy_statistics();
        assert_int_equal(s->used, 1);
        assert_int_equal(s->slots[0].msr, refused[i]);
        assert_int_equal(s->slots[0].reads, 1);
        assert_int_equal(s->slots[0].writes, 1);
        assert_int_equal(s->slots[0].refused, 2);
    }
}

static void test_allowed_msrs_reach_the_cpu_when_they_exit(void **state)
{
    (void)state;
    fake_msr_set(MSR_FS_BASE, 0);
    assert_completed(wrmsr(MSR_FS_BASE, 0x00007FFF12345000ull));
    uint64_t value;
    assert_true(fake_msr_get(MSR_FS_BASE, &value));
    assert_int_equal(value, 0x00007FFF12345000ull);
    assert_completed(rdmsr(MSR_FS_BASE));
    assert_int_equal(read_result(), 0x00007FFF12345000ull);
    /* The CPU refuses (non-canonical): #GP for the guest. */
    fake_msr_refuse_writes(MSR_FS_BASE);
    assert_faulted(wrmsr(MSR_FS_BASE, 0x8000000000000000ull));
}

static void test_tsc_write_moves_the_offset_not_the_clock(void **state)
{
    (void)state;
    fake_msr_set(MSR_TSC, 0);
    fake_msr_set(MSR_TSC_DEADLINE, 0);
    const uint64_t wanted = 0x10;
    assert_completed(wrmsr(MSR_TSC, wanted));
    assert_int_equal(fake_msr_write_count(), 0); /* the real TSC is untouched */
    uint64_t offset = fake_vmcs_get(VMCS_TSC_OFFSET);
    assert_int_equal(offset, msr_policy_tsc_offset());
    uint64_t guest_now = cpu_read_tsc() + offset;
    assert_true(guest_now - wanted < 1000000000ull); /* the guest's TSC restarted near 0x10 */

    /* TSC_ADJUST followed the write (SDM Vol. 3B §18.17.3). */
    assert_completed(rdmsr(MSR_TSC_ADJUST));
    assert_int_equal(read_result(), offset);
    /* Writing TSC_ADJUST moves the offset by the difference. */
    assert_completed(wrmsr(MSR_TSC_ADJUST, offset + 1000));
    assert_int_equal(fake_vmcs_get(VMCS_TSC_OFFSET), offset + 1000);

    /* With an offset the deadline exits and is translated both ways. */
    assert_true(intercepted(MSR_TSC_DEADLINE, false));
    assert_true(intercepted(MSR_TSC_DEADLINE, true));
    offset += 1000;
    assert_completed(wrmsr(MSR_TSC_DEADLINE, offset + 5000));
    uint64_t host;
    assert_true(fake_msr_get(MSR_TSC_DEADLINE, &host));
    assert_int_equal(host, 5000);
    assert_completed(rdmsr(MSR_TSC_DEADLINE));
    assert_int_equal(read_result(), offset + 5000);
    assert_completed(wrmsr(MSR_TSC_DEADLINE, 0)); /* disarm stays 0 */
    assert_true(fake_msr_get(MSR_TSC_DEADLINE, &host));
    assert_int_equal(host, 0);

    /* Back to offset 0: the deadline is free again. */
    assert_completed(wrmsr(MSR_TSC_ADJUST, 0));
    assert_completed(wrmsr(MSR_TSC, cpu_read_tsc()));
    if (msr_policy_tsc_offset() == 0) /* only when the two reads saw the same TSC */
        assert_false(intercepted(MSR_TSC_DEADLINE, true));
}

static void test_apic_base_relocation_refused(void **state)
{
    (void)state;
    fake_msr_set(MSR_APIC_BASE, APIC_BASE_XAPIC);
    assert_faulted(wrmsr(MSR_APIC_BASE, 0x100900)); /* over vigil's image */
    assert_faulted(wrmsr(MSR_APIC_BASE, APIC_BASE_XAPIC | 0x1000)); /* bit 12: a new base */
    assert_faulted(wrmsr(MSR_APIC_BASE, APIC_BASE_XAPIC | (1ull << 40)));
    assert_int_equal(fake_msr_write_count(), 0);
    /* Legal mode changes reach the APIC: xAPIC -> x2APIC, then off, then xAPIC. */
    assert_completed(wrmsr(MSR_APIC_BASE, APIC_BASE_X2APIC));
    uint64_t value;
    assert_true(fake_msr_get(MSR_APIC_BASE, &value));
    assert_int_equal(value, APIC_BASE_X2APIC);
    assert_faulted(wrmsr(MSR_APIC_BASE, APIC_BASE_XAPIC)); /* x2APIC -> xAPIC directly */
    assert_faulted(wrmsr(MSR_APIC_BASE, 0xFEE00000ull | (1ull << 10))); /* x2APIC without enable */
    assert_completed(wrmsr(MSR_APIC_BASE, 0xFEE00000ull)); /* disable (BSP bit kept as the CPU's) */
    assert_true(fake_msr_get(MSR_APIC_BASE, &value));
    assert_int_equal(value, 0xFEE00100ull);
}

static void test_debugctl_lbr_and_btf_only(void **state)
{
    (void)state;
    assert_completed(wrmsr(MSR_DEBUGCTL, 3));
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_IA32_DEBUGCTL), 3);
    assert_completed(rdmsr(MSR_DEBUGCTL));
    assert_int_equal(read_result(), 3);
    assert_faulted(wrmsr(MSR_DEBUGCTL, 1u << 6)); /* BTS: the branch trace store */
    assert_faulted(wrmsr(MSR_DEBUGCTL, 1u << 14)); /* freeze while SMM */
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_IA32_DEBUGCTL), 3);
    assert_int_equal(fake_msr_write_count(), 0);
}

static void test_xss_never_enables_pt(void **state)
{
    (void)state;
    fake_msr_set(0xDA0, 0);
    assert_faulted(wrmsr(0xDA0, 0)); /* XSAVES not enabled for the guest */
    the_vcpu.secondary_controls = SECONDARY_ENABLE_XSAVES;
    assert_faulted(wrmsr(0xDA0, 1ull << 8)); /* Intel PT state */
    assert_faulted(wrmsr(0xDA0, 1ull << 63));
    assert_int_equal(fake_msr_write_count(), 0);
    assert_completed(wrmsr(0xDA0, 0));
}

/* ---- the x2APIC ICR ----------------------------------------------------------- */

static void x2apic_mode(void)
{
    fake_msr_set(MSR_APIC_BASE, APIC_BASE_X2APIC);
    fake_msr_set(MSR_X2APIC_ID, 0);
    fake_msr_set(MSR_X2APIC_LDR, 0x00000001);
    fake_msr_set(MSR_X2APIC_ICR, 0);
}

static uint64_t icr_written(void)
{
    uint64_t value = 0;
    assert_true(fake_msr_get(MSR_X2APIC_ICR, &value));
    return value;
}

static void test_x2apic_init_sipi_refused_and_counted(void **state)
{
    (void)state;
    x2apic_mode();
    uint64_t refused = apic_filter_statistics()->start_refused;
    /* Linux's wakeup_secondary_cpu_via_init to APIC ID 1: INIT assert, INIT de-assert, SIPI x2. */
    const uint64_t sequence[] = { (1ull << 32) | 0xC500, (1ull << 32) | 0x8500, (1ull << 32) | 0x0608,
                                  (1ull << 32) | 0x0608, 0x000C0500 /* INIT to all but self */,
                                  0x00080600 /* SIPI to all */, 0x200 /* SMI to self */ };
    for (size_t i = 0; i < sizeof sequence / sizeof sequence[0]; i++)
        assert_completed(wrmsr(MSR_X2APIC_ICR, sequence[i]));
    assert_int_equal(icr_written(), 0);
    assert_int_equal(apic_filter_statistics()->start_refused, refused + 7);
    assert_contains(fake_log_text(), "vigil: warning: guest IPI refused: ICR 0x10000c500");
}

static void test_x2apic_ipis_to_self_delivered(void **state)
{
    (void)state;
    x2apic_mode();
    assert_completed(wrmsr(MSR_X2APIC_ICR, 0x40030)); /* self shorthand, vector 0x30 */
    assert_int_equal(icr_written(), 0x40030);
    assert_completed(wrmsr(MSR_X2APIC_ICR, 0x80031)); /* all including self -> self by ID */
    assert_int_equal(icr_written(), 0x31);
    assert_completed(wrmsr(MSR_X2APIC_ICR, 0x32)); /* physical destination 0 = this CPU */
    assert_int_equal(icr_written(), 0x32);
    assert_completed(wrmsr(MSR_X2APIC_ICR, 0x0000000100000833ull)); /* logical, cluster 0 bit 0 */
    assert_int_equal(icr_written(), 0x33);

    fake_msr_set(MSR_X2APIC_ICR, 0xDEAD);
    uint64_t dropped = apic_filter_statistics()->dropped;
    assert_completed(wrmsr(MSR_X2APIC_ICR, (2ull << 32) | 0x34)); /* fixed IPI to APIC 2 */
    assert_completed(wrmsr(MSR_X2APIC_ICR, 0xC0400)); /* NMI to all but self */
    assert_int_equal(icr_written(), 0xDEAD);
    assert_int_equal(apic_filter_statistics()->dropped, dropped + 2);

    /* Not in x2APIC mode: the MSR does not exist. */
    fake_msr_set(MSR_APIC_BASE, APIC_BASE_XAPIC);
    assert_faulted(wrmsr(MSR_X2APIC_ICR, 0x40030));
}

static void test_statistics_line(void **state)
{
    (void)state;
    fake_msr_set(0x3A, 5);
    rdmsr(0x3A);
    wrmsr(0x3A, 5);
    wrmsr(0x560, 1);
    msr_policy_print_statistics(); /* printed after the exit counts when the guest ends (hv/guest_lifecycle.c) */
    assert_contains(fake_log_text(), "vigil: msr exits: 0x3a r=1 w=1 refused=1 0x560 r=0 w=1 refused=1\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_bitmap_starts_all_intercept_with_the_allow_list_clear, setup),
        cmocka_unit_test_setup(test_unlisted_msrs_fault_even_if_the_cpu_has_them, setup),
        cmocka_unit_test_setup(test_allowed_msrs_reach_the_cpu_when_they_exit, setup),
        cmocka_unit_test_setup(test_tsc_write_moves_the_offset_not_the_clock, setup),
        cmocka_unit_test_setup(test_apic_base_relocation_refused, setup),
        cmocka_unit_test_setup(test_debugctl_lbr_and_btf_only, setup),
        cmocka_unit_test_setup(test_xss_never_enables_pt, setup),
        cmocka_unit_test_setup(test_x2apic_init_sipi_refused_and_counted, setup),
        cmocka_unit_test_setup(test_x2apic_ipis_to_self_delivered, setup),
        cmocka_unit_test_setup(test_statistics_line, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
