/*
 * Unit tests for hv/vmexit_cr.c: CR0/CR4 writes against the fake VMCS, IA-32e
 * mode entry and exit when CR0.PG toggles with EFER.LME, #GP on values a CPU
 * refuses, CR3 moves, CLTS and LMSW.
 *
 * The starting state is what hv/vcpu.c sets up for a Multiboot1 guest with
 * Bochs-like fixed bits (CR0_FIXED0 0x80000021, CR4_FIXED0 0x2000): CR0 shadow
 * PE|ET, CR4 shadow 0, vigil owning NE and PG in CR0 and VMXE (plus the bits the
 * CPU lacks) in CR4.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hv/event_injection.h"
#include "vmexit_fakes.h"

#define GUEST_RIP 0x200000u
#define INSTRUCTION_LENGTH 3u
#define GP_INJECTED \
    (INTERRUPTION_VALID | INTERRUPTION_TYPE_HARDWARE_EXCEPTION | INTERRUPTION_DELIVER_ERROR_CODE | VECTOR_GENERAL_PROTECTION)

#define CR0_PE (1ull << 0)
#define CR0_MP (1ull << 1)
#define CR0_EM (1ull << 2)
#define CR0_TS (1ull << 3)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_WP (1ull << 16)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_VMXE (1ull << 13)
#define CR4_OSXSAVE (1ull << 18)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)

#define CR4_FIXED1 0x003767FFull /* what the CPU supports: bits 0-10, 13-14, 16-18, 20-21 */
#define ENTRY_CONTROLS_BASE 0x000011FBu /* everything but IA-32e mode guest (bit 9) */

/* Exit qualification for control-register accesses (SDM Vol. 3C Table 28-3). */
#define MOV_TO_CR(cr, gpr) ((uint64_t)(cr) | (0ull << 4) | ((uint64_t)(gpr) << 8))
#define MOV_FROM_CR(cr, gpr) ((uint64_t)(cr) | (1ull << 4) | ((uint64_t)(gpr) << 8))
#define CLTS_QUALIFICATION ((uint64_t)0 | (2ull << 4))
#define LMSW_QUALIFICATION(source) ((uint64_t)0 | (3ull << 4) | ((uint64_t)(source) << 16))

enum { RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSP = 4, R15 = 15 };

static struct guest_registers registers;

static int setup(void **state)
{
    (void)state;
    fake_reset_all();
    memset(&registers, 0, sizeof registers);
    struct vmx_capabilities *c = &the_vcpu.capabilities;
    c->cr0_fixed0 = 0x80000021;
    c->cr0_fixed1 = 0xFFFFFFFF;
    c->cr4_fixed0 = 0x2000;
    c->cr4_fixed1 = CR4_FIXED1;
    uint64_t cr0_must_be_one = c->cr0_fixed0 & ~(CR0_PE | CR0_PG);
    the_vcpu.cr0_guest_host_mask = cr0_must_be_one | (~c->cr0_fixed1 & 0xFFFFFFFFull) | CR0_PG;
    the_vcpu.cr4_guest_host_mask = c->cr4_fixed0 | (~c->cr4_fixed1 & 0xFFFFFFFFull) | CR4_VMXE;
    the_vcpu.entry_controls = ENTRY_CONTROLS_BASE;
    fake_vmcs_set(VMCS_ENTRY_CONTROLS, ENTRY_CONTROLS_BASE);
    fake_vmcs_set(VMCS_CR0_READ_SHADOW, CR0_PE | CR0_ET);
    fake_vmcs_set(VMCS_GUEST_CR0, CR0_PE | CR0_ET | CR0_NE);
    fake_vmcs_set(VMCS_CR4_READ_SHADOW, 0);
    fake_vmcs_set(VMCS_GUEST_CR4, 0x2000);
    fake_vmcs_set(VMCS_GUEST_IA32_EFER, 0);
    fake_vmcs_set(VMCS_GUEST_RIP, GUEST_RIP);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LENGTH, INSTRUCTION_LENGTH);
    return 0;
}

static enum fake_outcome_kind cr_exit(uint64_t qualification)
{
    return fake_dispatch(EXIT_REASON_CONTROL_REGISTER_ACCESS, qualification, &registers);
}

static void assert_completed(enum fake_outcome_kind outcome)
{
    assert_int_equal(outcome, FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), GUEST_RIP + INSTRUCTION_LENGTH);
    assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_INTERRUPTION_INFO), 0);
}

/* #GP(0) injected, RIP not advanced, the control registers and modes untouched. */
static void assert_faulted(enum fake_outcome_kind outcome)
{
    assert_int_equal(outcome, FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), GP_INJECTED);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), 0x80000B0D);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_EXCEPTION_ERROR_CODE), 0);
    assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_EXCEPTION_ERROR_CODE), 1);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), GUEST_RIP);
    assert_int_equal(fake_vmcs_write_count(VMCS_GUEST_RIP), 0);
    assert_int_equal(fake_vmcs_write_count(VMCS_GUEST_CR0), 0);
    assert_int_equal(fake_vmcs_write_count(VMCS_CR0_READ_SHADOW), 0);
    assert_int_equal(fake_vmcs_write_count(VMCS_GUEST_CR4), 0);
    assert_int_equal(fake_vmcs_write_count(VMCS_CR4_READ_SHADOW), 0);
    assert_int_equal(fake_vmcs_write_count(VMCS_GUEST_IA32_EFER), 0);
    assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_CONTROLS), 0);
    assert_int_equal(the_vcpu.entry_controls, ENTRY_CONTROLS_BASE);
}

/* ---- CR0 and IA-32e mode --------------------------------------------------------- */

static void test_cr0_paging_on_with_lme_enters_ia32e_mode(void **state)
{
    (void)state;
    /* CR4.PAE set by an earlier CR4 exit: shadow and guest CR4 agree. */
    fake_vmcs_set(VMCS_CR4_READ_SHADOW, CR4_PAE);
    fake_vmcs_set(VMCS_GUEST_CR4, CR4_PAE | CR4_VMXE);
    fake_vmcs_set(VMCS_GUEST_IA32_EFER, EFER_LME);
    registers.rbx = CR0_PG | CR0_PE | CR0_ET;
    assert_completed(cr_exit(MOV_TO_CR(0, RBX)));
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_IA32_EFER), EFER_LME | EFER_LMA);
    assert_int_equal(the_vcpu.entry_controls, ENTRY_CONTROLS_BASE | ENTRY_IA32E_MODE_GUEST);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_CONTROLS), ENTRY_CONTROLS_BASE | ENTRY_IA32E_MODE_GUEST);
    assert_int_equal(fake_vmcs_get(VMCS_CR0_READ_SHADOW), CR0_PG | CR0_PE | CR0_ET);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CR0), CR0_PG | CR0_PE | CR0_ET | CR0_NE);
}

/* CR4.PAE is not a bit vigil owns, so the guest's MOV to CR4 that set it did not
 * exit and the CR4 read shadow does not show it (SDM Vol. 3C §25.6.6): only the
 * guest CR4 field does. The usual 32-bit to long-mode sequence (PAE, LME, PG). */
static void test_cr0_paging_on_with_lme_after_unintercepted_pae(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_CR4, CR4_PAE | CR4_VMXE);
    fake_vmcs_set(VMCS_CR4_READ_SHADOW, 0);
    fake_vmcs_set(VMCS_GUEST_IA32_EFER, EFER_LME);
    registers.rax = CR0_PG | CR0_PE | CR0_ET;
    assert_completed(cr_exit(MOV_TO_CR(0, RAX)));
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_IA32_EFER), EFER_LME | EFER_LMA);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_CONTROLS), ENTRY_CONTROLS_BASE | ENTRY_IA32E_MODE_GUEST);
}

static void test_cr0_paging_on_with_lme_without_pae_faults(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_IA32_EFER, EFER_LME);
    registers.rax = CR0_PG | CR0_PE;
    assert_faulted(cr_exit(MOV_TO_CR(0, RAX)));
}

static void test_cr0_paging_on_without_lme_stays_legacy(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_CR4, CR4_PAE | CR4_VMXE);
    fake_vmcs_set(VMCS_CR4_READ_SHADOW, CR4_PAE);
    registers.rdx = CR0_PG | CR0_PE | CR0_WP;
    assert_completed(cr_exit(MOV_TO_CR(0, RDX)));
    assert_int_equal(fake_vmcs_write_count(VMCS_GUEST_IA32_EFER), 0);
    assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_CONTROLS), 0);
    assert_int_equal(the_vcpu.entry_controls, ENTRY_CONTROLS_BASE);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CR0), CR0_PG | CR0_PE | CR0_WP | CR0_NE);
}

static void test_cr0_paging_off_leaves_ia32e_mode(void **state)
{
    (void)state;
    the_vcpu.entry_controls = ENTRY_CONTROLS_BASE | ENTRY_IA32E_MODE_GUEST;
    fake_vmcs_set(VMCS_ENTRY_CONTROLS, the_vcpu.entry_controls);
    fake_vmcs_set(VMCS_CR0_READ_SHADOW, CR0_PG | CR0_PE);
    fake_vmcs_set(VMCS_GUEST_CR0, CR0_PG | CR0_PE | CR0_NE);
    fake_vmcs_set(VMCS_CR4_READ_SHADOW, CR4_PAE);
    fake_vmcs_set(VMCS_GUEST_CR4, CR4_PAE | CR4_VMXE);
    fake_vmcs_set(VMCS_GUEST_IA32_EFER, EFER_LME | EFER_LMA | 1);
    registers.rcx = CR0_PE;
    assert_completed(cr_exit(MOV_TO_CR(0, RCX)));
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_IA32_EFER), EFER_LME | 1);
    assert_int_equal(the_vcpu.entry_controls, ENTRY_CONTROLS_BASE);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_CONTROLS), ENTRY_CONTROLS_BASE);
    assert_int_equal(fake_vmcs_get(VMCS_CR0_READ_SHADOW), CR0_PE);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CR0), CR0_PE | CR0_NE);
}

/* Leaving long mode with PCIDs on, or from 64-bit code: #GP as the CPU would raise
 * (SDM Vol. 2B MOV to CR0), never a VM entry with an inconsistent state. */
static void test_cr0_paging_off_faults_with_pcide_or_from_64_bit_code(void **state)
{
    for (int variant = 0; variant < 2; variant++) {
        setup(state);
        fake_vmcs_set(VMCS_CR0_READ_SHADOW, CR0_PG | CR0_PE);
        fake_vmcs_set(VMCS_GUEST_CR0, CR0_PG | CR0_PE | CR0_NE);
        fake_vmcs_set(VMCS_GUEST_CR4, CR4_PAE | CR4_VMXE | (variant == 0 ? 1u << 17 : 0)); /* PCIDE */
        fake_vmcs_set(VMCS_GUEST_CS_ACCESS_RIGHTS, variant == 1 ? 0xA09B : 0xC09B);      /* CS.L */
        fake_vmcs_set(VMCS_GUEST_IA32_EFER, EFER_LME | EFER_LMA);
        registers.rcx = CR0_PE;
        assert_faulted(cr_exit(MOV_TO_CR(0, RCX)));
        assert_int_equal(fake_vmcs_get(VMCS_GUEST_IA32_EFER), EFER_LME | EFER_LMA);
    }
}

static void test_cr0_write_keeping_paging_does_not_touch_modes(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_CR0_READ_SHADOW, CR0_PG | CR0_PE);
    fake_vmcs_set(VMCS_GUEST_IA32_EFER, EFER_LME | EFER_LMA);
    registers.rax = CR0_PG | CR0_PE | CR0_WP | CR0_TS;
    assert_completed(cr_exit(MOV_TO_CR(0, RAX)));
    assert_int_equal(fake_vmcs_write_count(VMCS_GUEST_IA32_EFER), 0);
    assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_CONTROLS), 0);
    assert_int_equal(fake_vmcs_get(VMCS_CR0_READ_SHADOW), CR0_PG | CR0_PE | CR0_WP | CR0_TS);
}

static void test_cr0_paging_without_protection_faults(void **state)
{
    /* Legacy paging, and IA-32e paging with everything else in place: only PE is missing. */
    registers.rax = CR0_PG | CR0_ET;
    assert_faulted(cr_exit(MOV_TO_CR(0, RAX)));

    setup(state);
    fake_vmcs_set(VMCS_GUEST_IA32_EFER, EFER_LME);
    fake_vmcs_set(VMCS_CR4_READ_SHADOW, CR4_PAE);
    fake_vmcs_set(VMCS_GUEST_CR4, CR4_PAE | CR4_VMXE);
    registers.rax = CR0_PG | CR0_ET;
    assert_faulted(cr_exit(MOV_TO_CR(0, RAX)));
}

static void test_cr0_bad_values_fault(void **state)
{
    const uint64_t bad[] = {
        CR0_NW | CR0_PE,           /* NW without CD */
        (1ull << 32) | CR0_PE,     /* reserved upper half */
        0x8000000000000001ull,
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setup(state);
        registers.rax = bad[i];
        assert_faulted(cr_exit(MOV_TO_CR(0, RAX)));
    }
    /* CD and NW together are fine, and NE is forced in the real CR0 only. */
    setup(state);
    registers.rax = CR0_CD | CR0_NW | CR0_PE;
    assert_completed(cr_exit(MOV_TO_CR(0, RAX)));
    assert_int_equal(fake_vmcs_get(VMCS_CR0_READ_SHADOW), CR0_CD | CR0_NW | CR0_PE);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CR0), CR0_CD | CR0_NW | CR0_PE | CR0_NE);
}

static void test_cr0_pe_off_allowed_with_unrestricted_guest(void **state)
{
    (void)state;
    registers.rax = CR0_ET;
    assert_completed(cr_exit(MOV_TO_CR(0, RAX)));
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CR0), CR0_ET | CR0_NE); /* PE and PG are not forced */
}

/* ---- CR4 -------------------------------------------------------------------------- */

static void test_cr4_vmxe_faults(void **state)
{
    (void)state;
    registers.rax = CR4_VMXE | CR4_PAE;
    assert_faulted(cr_exit(MOV_TO_CR(4, RAX)));
}

static void test_cr4_unsupported_bits_fault(void **state)
{
    const uint64_t bad[] = { 1ull << 11, 1ull << 24, 1ull << 32 };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setup(state);
        registers.rax = CR4_PAE | bad[i];
        assert_faulted(cr_exit(MOV_TO_CR(4, RAX)));
    }
}

static void test_cr4_write_keeps_vmxe_hidden(void **state)
{
    (void)state;
    registers.rsi = CR4_PAE | CR4_OSXSAVE;
    assert_completed(cr_exit(MOV_TO_CR(4, 6)));
    assert_int_equal(fake_vmcs_get(VMCS_CR4_READ_SHADOW), CR4_PAE | CR4_OSXSAVE);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CR4), CR4_PAE | CR4_OSXSAVE | CR4_VMXE);
}

static void test_cr4_from_rsp_reads_the_vmcs(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_RSP, CR4_PAE);
    registers.rax = CR4_VMXE; /* would fault if read instead of RSP */
    assert_completed(cr_exit(MOV_TO_CR(4, RSP)));
    assert_int_equal(fake_vmcs_get(VMCS_CR4_READ_SHADOW), CR4_PAE);
}

/* ---- CR3, CLTS, LMSW, unexpected accesses ----------------------------------------------- */

static void test_cr3_moves(void **state)
{
    (void)state;
    registers.r15 = 0x123000;
    assert_completed(cr_exit(MOV_TO_CR(3, R15)));
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CR3), 0x123000);

    fake_vmcs_set(VMCS_GUEST_RIP, GUEST_RIP);
    fake_vmcs_set(VMCS_GUEST_CR3, 0x456000);
    assert_completed(cr_exit(MOV_FROM_CR(3, RDX)));
    assert_int_equal(registers.rdx, 0x456000);

    fake_vmcs_set(VMCS_GUEST_RIP, GUEST_RIP);
    assert_completed(cr_exit(MOV_FROM_CR(3, RSP)));
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RSP), 0x456000);
}

static void test_clts_clears_ts_in_shadow_and_cr0(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_CR0_READ_SHADOW, CR0_PE | CR0_TS | CR0_MP);
    fake_vmcs_set(VMCS_GUEST_CR0, CR0_PE | CR0_TS | CR0_MP | CR0_NE);
    assert_completed(cr_exit(CLTS_QUALIFICATION));
    assert_int_equal(fake_vmcs_get(VMCS_CR0_READ_SHADOW), CR0_PE | CR0_MP);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_CR0), CR0_PE | CR0_MP | CR0_NE);
}

static void test_lmsw_sets_low_bits_but_cannot_clear_pe(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_CR0_READ_SHADOW, CR0_PE | CR0_TS | CR0_ET);
    assert_completed(cr_exit(LMSW_QUALIFICATION(CR0_MP | CR0_EM)));
    assert_int_equal(fake_vmcs_get(VMCS_CR0_READ_SHADOW), CR0_PE | CR0_MP | CR0_EM | CR0_ET);

    /* From real mode LMSW can set PE. */
    setup(state);
    fake_vmcs_set(VMCS_CR0_READ_SHADOW, CR0_ET);
    assert_completed(cr_exit(LMSW_QUALIFICATION(CR0_PE | 0xFFF0)));
    assert_int_equal(fake_vmcs_get(VMCS_CR0_READ_SHADOW), CR0_PE | CR0_ET);
}

static void test_unexpected_cr_accesses_stop_the_guest(void **state)
{
    assert_int_equal(cr_exit(MOV_TO_CR(8, RAX)), FAKE_GUEST_STOPPED);
    if (!strstr(fake_log_text(), "vigil: guest stopped: unexpected MOV to CR8\n"))
        fail_msg("%s", fake_log_text());
    setup(state);
    assert_int_equal(cr_exit(MOV_FROM_CR(0, RAX)), FAKE_GUEST_STOPPED);
    if (!strstr(fake_log_text(), "vigil: guest stopped: unexpected MOV from CR0\n"))
        fail_msg("%s", fake_log_text());
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), GUEST_RIP);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_cr0_paging_on_with_lme_enters_ia32e_mode, setup),
        cmocka_unit_test_setup(test_cr0_paging_on_with_lme_after_unintercepted_pae, setup),
        cmocka_unit_test_setup(test_cr0_paging_on_with_lme_without_pae_faults, setup),
        cmocka_unit_test_setup(test_cr0_paging_on_without_lme_stays_legacy, setup),
        cmocka_unit_test_setup(test_cr0_paging_off_leaves_ia32e_mode, setup),
        cmocka_unit_test_setup(test_cr0_paging_off_faults_with_pcide_or_from_64_bit_code, setup),
        cmocka_unit_test_setup(test_cr0_write_keeping_paging_does_not_touch_modes, setup),
        cmocka_unit_test_setup(test_cr0_paging_without_protection_faults, setup),
        cmocka_unit_test_setup(test_cr0_bad_values_fault, setup),
        cmocka_unit_test_setup(test_cr0_pe_off_allowed_with_unrestricted_guest, setup),
        cmocka_unit_test_setup(test_cr4_vmxe_faults, setup),
        cmocka_unit_test_setup(test_cr4_unsupported_bits_fault, setup),
        cmocka_unit_test_setup(test_cr4_write_keeps_vmxe_hidden, setup),
        cmocka_unit_test_setup(test_cr4_from_rsp_reads_the_vmcs, setup),
        cmocka_unit_test_setup(test_cr3_moves, setup),
        cmocka_unit_test_setup(test_clts_clears_ts_in_shadow_and_cr0, setup),
        cmocka_unit_test_setup(test_lmsw_sets_low_bits_but_cannot_clear_pe, setup),
        cmocka_unit_test_setup(test_unexpected_cr_accesses_stop_the_guest, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
