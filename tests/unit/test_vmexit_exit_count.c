/*
 * Unit tests for the exit-count hypercall tools/bench relies on
 * (VMCALL VIGIL_HYPERCALL_EXIT_COUNT, hv/vmexit_handlers.c; ABI in vigil/abi.h):
 * counts per basic exit reason and in total (including the VMCALL's own exit),
 * an RBX past the table reads 0, only RBX[31:0] selects (a 32-bit guest leaves
 * the high half undefined), and RDX carries the count's high half for 32-bit
 * guests. Exits go through vmexit_dispatch on the fake VMCS (vmexit_fakes.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <vigil/abi.h>

#include "vmexit_fakes.h"

#define GUEST_RIP 0x100000u
#define INSTRUCTION_LENGTH 3u

static struct guest_registers registers;

static int setup(void **state)
{
    (void)state;
    fake_reset_all();
    memset(&registers, 0, sizeof registers);
    return 0;
}

/* One VMCALL EXIT_COUNT exit through the dispatcher; returns RDX:RAX as the guest
 * would combine them, after checking the two halves agree with RAX. */
static uint64_t exit_count(uint64_t rbx)
{
    fake_vmcs_set(VMCS_GUEST_RIP, GUEST_RIP);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LENGTH, INSTRUCTION_LENGTH);
    memset(&registers, 0, sizeof registers);
    registers.rax = VIGIL_HYPERCALL_EXIT_COUNT;
    registers.rbx = rbx;
    registers.rdx = 0xDEADBEEFDEADBEEFull; /* must be overwritten */
    assert_int_equal(fake_dispatch(EXIT_REASON_VMCALL, 0, &registers), FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), GUEST_RIP + INSTRUCTION_LENGTH);
    assert_int_equal(registers.rdx, registers.rax >> 32);
    return (registers.rdx << 32) | (registers.rax & 0xFFFFFFFFu);
}

static void cpuid_exits(unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        fake_vmcs_set(VMCS_GUEST_RIP, GUEST_RIP);
        registers.rax = 0;
        registers.rcx = 0;
        assert_int_equal(fake_dispatch(EXIT_REASON_CPUID, 0, &registers), FAKE_RETURNED);
    }
}

static void test_counts_per_reason_and_total(void **state)
{
    (void)state;
    uint64_t cpuid_before = exit_count(EXIT_REASON_CPUID);
    uint64_t total_before = exit_count(VIGIL_EXIT_COUNT_TOTAL);
    uint64_t vmcall_before = exit_count(EXIT_REASON_VMCALL);
    cpuid_exits(5);
    assert_int_equal(exit_count(EXIT_REASON_CPUID) - cpuid_before, 5);
    /* since total_before: one VMCALL (vmcall_before), 5 CPUIDs, the CPUID read and this one */
    assert_int_equal(exit_count(VIGIL_EXIT_COUNT_TOTAL) - total_before, 1 + 5 + 1 + 1);
    /* the VMCALL's own exit is counted before it is handled: the CPUID read, the total
     * read and this one since vmcall_before */
    assert_int_equal(exit_count(EXIT_REASON_VMCALL) - vmcall_before, 3);
    /* it matches vigil's own table, and changes nothing but RAX, RDX, RIP */
    assert_int_equal(exit_count(EXIT_REASON_CPUID), vmexit_get_statistics()->by_reason[EXIT_REASON_CPUID]);
    assert_int_equal(registers.rbx, EXIT_REASON_CPUID);
}

static void test_out_of_range_reason_reads_zero(void **state)
{
    (void)state;
    static const uint64_t past[] = {VMX_EXIT_REASON_LIMIT, VMX_EXIT_REASON_LIMIT + 1, 1000, 0xFFFFFFFEu};
    /* an exit with a reason past the table is counted in the table's last slot (and
     * stops the guest as unknown); that slot is not readable as a reason */
    (void)fake_dispatch(VMX_EXIT_REASON_LIMIT + 5, 0, &registers);
    assert_true(vmexit_get_statistics()->by_reason[VMX_EXIT_REASON_LIMIT] > 0);
    for (size_t i = 0; i < sizeof past / sizeof past[0]; i++)
        assert_int_equal(exit_count(past[i]), 0);
}

static void test_only_the_low_half_of_rbx_selects(void **state)
{
    (void)state;
    cpuid_exits(2);
    uint64_t cpuid = exit_count(EXIT_REASON_CPUID);
    assert_true(cpuid >= 2);
    /* a 32-bit guest's RBX[63:32] is whatever was there: ignored */
    assert_int_equal(exit_count(0xABCD000000000000ull | EXIT_REASON_CPUID), cpuid);
    uint64_t total = exit_count(VIGIL_EXIT_COUNT_TOTAL);
    assert_int_equal(exit_count(0xFFFFFFFFFFFFFFFFull), total + 1);
    /* and RBX = 2^32 + 0 is reason 0 (exceptions or NMIs), not TOTAL */
    assert_int_equal(exit_count(0x100000000ull), vmexit_get_statistics()->by_reason[0]);
}

static void test_high_half_in_rdx(void **state)
{
    (void)state;
    /* Billions of exits cannot be dispatched in a unit test: set the counter, which is
     * vigil's own (non-const) statistics behind the const accessor. */
    struct vmexit_statistics *statistics = (struct vmexit_statistics *)vmexit_get_statistics();
    statistics->by_reason[EXIT_REASON_CPUID] = 0x123456789ull;
    assert_int_equal(exit_count(EXIT_REASON_CPUID), 0x123456789ull);
    assert_int_equal(registers.rdx, 0x1);
    assert_int_equal(registers.rax & 0xFFFFFFFFu, 0x23456789u);
    statistics->total = 0xFFFFFFFFull; /* the VMCALL's own exit carries into the high half */
    assert_int_equal(exit_count(VIGIL_EXIT_COUNT_TOTAL), 0x100000000ull);
    assert_int_equal(registers.rdx, 1);
    assert_int_equal(registers.rax & 0xFFFFFFFFu, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_counts_per_reason_and_total, setup),
        cmocka_unit_test_setup(test_out_of_range_reason_reads_zero, setup),
        cmocka_unit_test_setup(test_only_the_low_half_of_rbx_selects, setup),
        cmocka_unit_test_setup(test_high_half_in_rdx, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
