/*
 * Unit tests for arch/x86_64/vmx_capability.c: vmx_probe against fake CPUs
 * (a table of MSR values behind struct cpu_access), vmx_adjust_controls, and the
 * one-line summary.
 *
 * The CPU models are plausible, not copies of a real part: skylake_x is shaped like
 * Bochs' corei7_skylake_x (VMCS revision 0x2b, TRUE controls, EPT/VPID/unrestricted
 * guest, preemption timer at the TSC rate, MISC[4:0] = 0, EPT 2M/1G/A-D/INVEPT) and
 * penryn like core2_penryn_t9600 (VMX without secondary controls). Every assertion
 * follows from the values written here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86_64/msr.h"
#include "arch/x86_64/vmx_capability.h"

/* ---- the fake CPU ------------------------------------------------------------ */

#define MAX_MSRS 32
#define MAX_LOG 64

struct msr_value {
    uint32_t msr;
    uint64_t value;
};

struct fake_cpu {
    uint32_t cpuid1_ecx;
    struct msr_value msrs[MAX_MSRS];
    unsigned msr_count;
    uint32_t absent[MAX_MSRS]; /* reading these faults, as #GP would */
    unsigned absent_count;
    bool writes_fault;         /* WRMSR raises #GP */
    bool writes_ignored;       /* WRMSR succeeds but the value does not stick */
    struct msr_value writes[MAX_LOG];
    unsigned write_count;
    uint32_t reads[MAX_LOG];
    unsigned read_count;
    unsigned cpuid_calls;
};

static struct fake_cpu fake;

static struct msr_value *find_msr(uint32_t msr)
{
    for (unsigned i = 0; i < fake.msr_count; i++)
        if (fake.msrs[i].msr == msr)
            return &fake.msrs[i];
    return NULL;
}

static bool is_absent(uint32_t msr)
{
    for (unsigned i = 0; i < fake.absent_count; i++)
        if (fake.absent[i] == msr)
            return true;
    return false;
}

static void fake_cpuid(void *context, uint32_t leaf, uint32_t subleaf, uint32_t registers[4])
{
    assert_ptr_equal(context, &fake);
    (void)subleaf;
    fake.cpuid_calls++;
    registers[0] = registers[1] = registers[3] = 0;
    registers[2] = leaf == 1 ? fake.cpuid1_ecx : 0;
    if (leaf == 1) {
        registers[0] = 0x00050654; /* family 6, model 0x55 */
        registers[3] = 0xFFFFFFFF; /* every EDX feature, bit 5 included: only ECX bit 5 means VMX */
    }
}

static bool fake_read_msr(void *context, uint32_t msr, uint64_t *value)
{
    assert_ptr_equal(context, &fake);
    assert_true(fake.read_count < MAX_LOG);
    fake.reads[fake.read_count++] = msr;
    if (is_absent(msr))
        return false;
    struct msr_value *entry = find_msr(msr);
    if (!entry)
        return false; /* not modelled: the CPU would raise #GP too */
    *value = entry->value;
    return true;
}

static bool fake_write_msr(void *context, uint32_t msr, uint64_t value)
{
    assert_ptr_equal(context, &fake);
    assert_true(fake.write_count < MAX_LOG);
    fake.writes[fake.write_count++] = (struct msr_value){ msr, value };
    if (fake.writes_fault)
        return false;
    if (fake.writes_ignored)
        return true;
    struct msr_value *entry = find_msr(msr);
    assert_non_null(entry);
    entry->value = value;
    return true;
}

static const struct cpu_access fake_access = { fake_cpuid, fake_read_msr, fake_write_msr, &fake };

static void set_msr(uint32_t msr, uint64_t value)
{
    struct msr_value *entry = find_msr(msr);
    if (!entry) {
        assert_true(fake.msr_count < MAX_MSRS);
        entry = &fake.msrs[fake.msr_count++];
        entry->msr = msr;
    }
    entry->value = value;
}

static void make_absent(uint32_t msr)
{
    assert_true(fake.absent_count < MAX_MSRS);
    fake.absent[fake.absent_count++] = msr;
}

static bool was_read(uint32_t msr)
{
    for (unsigned i = 0; i < fake.read_count; i++)
        if (fake.reads[i] == msr)
            return true;
    return false;
}

/* ---- CPU models ---------------------------------------------------------------- */

#define BASIC_REVISION_2B 0x2bull
#define BASIC_REGION_4K (0x1000ull << 32)
#define BASIC_MEMORY_WB (6ull << 50)
#define BASIC_INS_OUTS (1ull << 54)
#define BASIC_TRUE_CONTROLS (1ull << 55)

/* Allowed-0 in the low half, allowed-1 in the high half. The TRUE variants clear
 * some default-1 bits in allowed-0 so the two can be told apart. */
#define SKY_PINBASED 0x0000007F00000016ull      /* bit 6 preemption timer allowed */
#define SKY_TRUE_PINBASED 0x0000007F00000012ull
#define SKY_PROCBASED 0xFFF9FFFE0401E172ull     /* bit 31 secondary controls allowed */
#define SKY_TRUE_PROCBASED 0xFFF9FFFE04006172ull
#define SKY_EXIT 0x01FFEFFF00036DFFull
#define SKY_TRUE_EXIT 0x01FFEFFF00036DFBull
#define SKY_ENTRY 0x0003FFFF000011FFull
#define SKY_TRUE_ENTRY 0x0003FFFF000011FBull
#define SKY_MISC 0x00000000000401E0ull          /* MISC[4:0] = 0: the timer runs at the TSC rate */
#define SKY_PROCBASED2 0x0033FFFF00000000ull    /* EPT (1), VPID (5), unrestricted guest (7) allowed */
/* execute-only, 4-level walk, UC, WB, 2M, 1G, INVEPT, A/D, INVEPT types, INVVPID + types */
#define SKY_EPT_VPID_CAP 0x00000F0106734141ull
#define CR0_FIXED0 0x80000021ull
#define CR0_FIXED1 0xFFFFFFFFull
#define CR4_FIXED0 0x2000ull
#define CR4_FIXED1 0x3727FFull

static const uint64_t skylake_basic =
    BASIC_REVISION_2B | BASIC_REGION_4K | BASIC_MEMORY_WB | BASIC_INS_OUTS | BASIC_TRUE_CONTROLS;

static void common_msrs(uint64_t feature_control)
{
    memset(&fake, 0, sizeof fake);
    fake.cpuid1_ecx = (1u << 5) | (1u << 0) | (1u << 31);
    set_msr(MSR_IA32_FEATURE_CONTROL, feature_control);
    set_msr(MSR_IA32_VMX_CR0_FIXED0, CR0_FIXED0);
    set_msr(MSR_IA32_VMX_CR0_FIXED1, CR0_FIXED1);
    set_msr(MSR_IA32_VMX_CR4_FIXED0, CR4_FIXED0);
    set_msr(MSR_IA32_VMX_CR4_FIXED1, CR4_FIXED1);
}

static void model_skylake_x(void)
{
    /* The Bochs BIOS leaves IA32_FEATURE_CONTROL locked with VMX enabled (0x5). */
    common_msrs(0x5);
    set_msr(MSR_IA32_VMX_BASIC, skylake_basic);
    set_msr(MSR_IA32_VMX_PINBASED_CTLS, SKY_PINBASED);
    set_msr(MSR_IA32_VMX_PROCBASED_CTLS, SKY_PROCBASED);
    set_msr(MSR_IA32_VMX_EXIT_CTLS, SKY_EXIT);
    set_msr(MSR_IA32_VMX_ENTRY_CTLS, SKY_ENTRY);
    set_msr(MSR_IA32_VMX_TRUE_PINBASED_CTLS, SKY_TRUE_PINBASED);
    set_msr(MSR_IA32_VMX_TRUE_PROCBASED_CTLS, SKY_TRUE_PROCBASED);
    set_msr(MSR_IA32_VMX_TRUE_EXIT_CTLS, SKY_TRUE_EXIT);
    set_msr(MSR_IA32_VMX_TRUE_ENTRY_CTLS, SKY_TRUE_ENTRY);
    set_msr(MSR_IA32_VMX_MISC, SKY_MISC);
    set_msr(MSR_IA32_VMX_PROCBASED_CTLS2, SKY_PROCBASED2);
    set_msr(MSR_IA32_VMX_EPT_VPID_CAP, SKY_EPT_VPID_CAP);
}

#define PENRYN_PINBASED 0x0000003F00000016ull   /* no preemption timer (bit 6) */
#define PENRYN_PROCBASED 0x7FF9FFFE0401E172ull  /* no secondary controls (bit 31) */
#define PENRYN_EXIT 0x0003EFFF00036DFFull
#define PENRYN_ENTRY 0x00003FFF000011FFull
#define PENRYN_MISC 0x00000000000403C5ull       /* MISC[4:0] = 5, irrelevant without the timer */

static void model_penryn(void)
{
    common_msrs(0x5);
    set_msr(MSR_IA32_VMX_BASIC, BASIC_REVISION_2B | BASIC_REGION_4K | BASIC_MEMORY_WB | BASIC_INS_OUTS);
    set_msr(MSR_IA32_VMX_PINBASED_CTLS, PENRYN_PINBASED);
    set_msr(MSR_IA32_VMX_PROCBASED_CTLS, PENRYN_PROCBASED);
    set_msr(MSR_IA32_VMX_EXIT_CTLS, PENRYN_EXIT);
    set_msr(MSR_IA32_VMX_ENTRY_CTLS, PENRYN_ENTRY);
    set_msr(MSR_IA32_VMX_MISC, PENRYN_MISC);
    /* Without secondary controls these do not exist: reading them would #GP. */
    make_absent(MSR_IA32_VMX_PROCBASED_CTLS2);
    make_absent(MSR_IA32_VMX_EPT_VPID_CAP);
    make_absent(MSR_IA32_VMX_TRUE_PINBASED_CTLS);
    make_absent(MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
    make_absent(MSR_IA32_VMX_TRUE_EXIT_CTLS);
    make_absent(MSR_IA32_VMX_TRUE_ENTRY_CTLS);
}

static struct vmx_capabilities caps;
static uint32_t failed_msr;

static enum vmx_probe_result probe(void)
{
    memset(&caps, 0xA5, sizeof caps); /* vmx_probe must clear what it does not set */
    failed_msr = 0xDEAD;
    return vmx_probe(&fake_access, &caps, &failed_msr);
}

/* ---- probing ------------------------------------------------------------------- */

static void test_skylake_x_available(void **state)
{
    (void)state;
    model_skylake_x();
    assert_int_equal(probe(), VMX_AVAILABLE);
    assert_int_equal(failed_msr, 0xDEAD); /* untouched on success */
    assert_int_equal(caps.vmcs_revision, 0x2b);
    assert_int_equal(caps.vmcs_region_size, 0x1000);
    assert_true(caps.true_controls);
    assert_false(caps.feature_control_locked_by_vigil);
    assert_int_equal(fake.write_count, 0);
    assert_int_equal(caps.pinbased_allowed, SKY_TRUE_PINBASED);
    assert_int_equal(caps.procbased_allowed, SKY_TRUE_PROCBASED);
    assert_int_equal(caps.exit_allowed, SKY_TRUE_EXIT);
    assert_int_equal(caps.entry_allowed, SKY_TRUE_ENTRY);
    assert_int_equal(caps.procbased2_allowed, SKY_PROCBASED2);
    assert_int_equal(caps.misc, SKY_MISC);
    assert_int_equal(caps.ept_vpid_capabilities, SKY_EPT_VPID_CAP);
    assert_int_equal(caps.cr0_fixed0, CR0_FIXED0);
    assert_int_equal(caps.cr0_fixed1, CR0_FIXED1);
    assert_int_equal(caps.cr4_fixed0, CR4_FIXED0);
    assert_int_equal(caps.cr4_fixed1, CR4_FIXED1);
    assert_true(caps.secondary_controls);
    assert_true(caps.ept);
    assert_true(caps.vpid);
    assert_true(caps.unrestricted_guest);
    assert_true(caps.preemption_timer);
    assert_int_equal(caps.preemption_timer_rate_shift, 0);
    assert_true(caps.ept_4_level_walk);
    assert_true(caps.ept_write_back);
    assert_true(caps.ept_2mb_pages);
    assert_true(caps.ept_1gb_pages);
    assert_true(caps.ept_accessed_dirty);
    assert_true(caps.invept);
    assert_true(caps.invvpid);
}

static void test_true_msrs_used_when_basic_bit_55_set(void **state)
{
    (void)state;
    model_skylake_x();
    /* If the non-TRUE ones could not be read, a probe that uses the TRUE ones still succeeds. */
    make_absent(MSR_IA32_VMX_PINBASED_CTLS);
    make_absent(MSR_IA32_VMX_PROCBASED_CTLS);
    make_absent(MSR_IA32_VMX_EXIT_CTLS);
    make_absent(MSR_IA32_VMX_ENTRY_CTLS);
    assert_int_equal(probe(), VMX_AVAILABLE);
    assert_true(was_read(MSR_IA32_VMX_TRUE_PINBASED_CTLS));
    assert_true(was_read(MSR_IA32_VMX_TRUE_PROCBASED_CTLS));
    assert_true(was_read(MSR_IA32_VMX_TRUE_EXIT_CTLS));
    assert_true(was_read(MSR_IA32_VMX_TRUE_ENTRY_CTLS));
    assert_false(was_read(MSR_IA32_VMX_PINBASED_CTLS));
    assert_false(was_read(MSR_IA32_VMX_PROCBASED_CTLS));
    assert_false(was_read(MSR_IA32_VMX_EXIT_CTLS));
    assert_false(was_read(MSR_IA32_VMX_ENTRY_CTLS));
    assert_int_equal(caps.pinbased_allowed, SKY_TRUE_PINBASED);
    assert_int_equal(caps.entry_allowed, SKY_TRUE_ENTRY);
}

static void test_plain_msrs_used_when_basic_bit_55_clear(void **state)
{
    (void)state;
    model_skylake_x();
    set_msr(MSR_IA32_VMX_BASIC, skylake_basic & ~BASIC_TRUE_CONTROLS);
    make_absent(MSR_IA32_VMX_TRUE_PINBASED_CTLS);
    make_absent(MSR_IA32_VMX_TRUE_PROCBASED_CTLS);
    make_absent(MSR_IA32_VMX_TRUE_EXIT_CTLS);
    make_absent(MSR_IA32_VMX_TRUE_ENTRY_CTLS);
    assert_int_equal(probe(), VMX_AVAILABLE);
    assert_false(caps.true_controls);
    assert_int_equal(caps.pinbased_allowed, SKY_PINBASED);
    assert_int_equal(caps.procbased_allowed, SKY_PROCBASED);
    assert_int_equal(caps.exit_allowed, SKY_EXIT);
    assert_int_equal(caps.entry_allowed, SKY_ENTRY);
    assert_false(was_read(MSR_IA32_VMX_TRUE_PINBASED_CTLS));
    assert_false(was_read(MSR_IA32_VMX_TRUE_PROCBASED_CTLS));
    assert_false(was_read(MSR_IA32_VMX_TRUE_EXIT_CTLS));
    assert_false(was_read(MSR_IA32_VMX_TRUE_ENTRY_CTLS));
    assert_true(caps.ept); /* the rest of the probe is unaffected */
}

static void test_penryn_without_secondary_controls(void **state)
{
    (void)state;
    model_penryn();
    assert_int_equal(probe(), VMX_AVAILABLE);
    assert_false(was_read(MSR_IA32_VMX_PROCBASED_CTLS2));
    assert_false(was_read(MSR_IA32_VMX_EPT_VPID_CAP));
    assert_false(caps.true_controls);
    assert_int_equal(caps.vmcs_revision, 0x2b);
    assert_int_equal(caps.pinbased_allowed, PENRYN_PINBASED);
    assert_int_equal(caps.procbased_allowed, PENRYN_PROCBASED);
    assert_int_equal(caps.exit_allowed, PENRYN_EXIT);
    assert_int_equal(caps.entry_allowed, PENRYN_ENTRY);
    assert_false(caps.secondary_controls);
    assert_int_equal(caps.procbased2_allowed, 0);
    assert_false(caps.ept);
    assert_false(caps.vpid);
    assert_false(caps.unrestricted_guest);
    assert_false(caps.preemption_timer);
    assert_int_equal(caps.preemption_timer_rate_shift, 5);
    assert_int_equal(caps.ept_vpid_capabilities, 0);
    assert_false(caps.ept_2mb_pages);
    assert_false(caps.ept_1gb_pages);
    assert_false(caps.ept_accessed_dirty);
    assert_false(caps.invept);
    assert_false(caps.invvpid);
    assert_false(caps.ept_4_level_walk);
    assert_false(caps.ept_write_back);
}

static void test_secondary_without_ept_or_vpid_skips_ept_vpid_cap(void **state)
{
    (void)state;
    model_skylake_x();
    /* Secondary controls, unrestricted guest (7) allowed, neither EPT (1) nor VPID (5). */
    set_msr(MSR_IA32_VMX_PROCBASED_CTLS2, (0x0033FFFFull & ~((1ull << 1) | (1ull << 5))) << 32);
    make_absent(MSR_IA32_VMX_EPT_VPID_CAP);
    assert_int_equal(probe(), VMX_AVAILABLE);
    assert_true(caps.secondary_controls);
    assert_true(was_read(MSR_IA32_VMX_PROCBASED_CTLS2));
    assert_false(was_read(MSR_IA32_VMX_EPT_VPID_CAP));
    assert_false(caps.ept);
    assert_false(caps.vpid);
    assert_true(caps.unrestricted_guest);
    assert_false(caps.invept);
    assert_false(caps.ept_2mb_pages);
}

static void test_vpid_alone_reads_ept_vpid_cap(void **state)
{
    (void)state;
    model_skylake_x();
    set_msr(MSR_IA32_VMX_PROCBASED_CTLS2, (1ull << 5) << 32); /* VPID only */
    set_msr(MSR_IA32_VMX_EPT_VPID_CAP, 1ull << 32);          /* INVVPID only */
    assert_int_equal(probe(), VMX_AVAILABLE);
    assert_true(was_read(MSR_IA32_VMX_EPT_VPID_CAP));
    assert_false(caps.ept);
    assert_true(caps.vpid);
    assert_false(caps.unrestricted_guest);
    assert_true(caps.invvpid);
    assert_false(caps.invept);
    assert_false(caps.ept_1gb_pages);
}

static void test_ept_capability_bits_individually(void **state)
{
    (void)state;
    static const struct {
        uint64_t bit;
        size_t field;
    } bits[] = {
        { 1ull << 6, offsetof(struct vmx_capabilities, ept_4_level_walk) },
        { 1ull << 14, offsetof(struct vmx_capabilities, ept_write_back) },
        { 1ull << 16, offsetof(struct vmx_capabilities, ept_2mb_pages) },
        { 1ull << 17, offsetof(struct vmx_capabilities, ept_1gb_pages) },
        { 1ull << 20, offsetof(struct vmx_capabilities, invept) },
        { 1ull << 21, offsetof(struct vmx_capabilities, ept_accessed_dirty) },
        { 1ull << 32, offsetof(struct vmx_capabilities, invvpid) },
    };
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        model_skylake_x();
        set_msr(MSR_IA32_VMX_EPT_VPID_CAP, bits[i].bit);
        assert_int_equal(probe(), VMX_AVAILABLE);
        for (size_t j = 0; j < sizeof bits / sizeof bits[0]; j++) {
            bool value;
            memcpy(&value, (const char *)&caps + bits[j].field, sizeof value);
            if (value != (i == j))
                fail_msg("EPT_VPID_CAP = %#llx: field %zu is %d", (unsigned long long)bits[i].bit, j, value);
        }
    }
}

static void test_preemption_timer_rate_from_misc(void **state)
{
    (void)state;
    model_skylake_x();
    set_msr(MSR_IA32_VMX_MISC, SKY_MISC | 0x1F | (1ull << 5)); /* bit 5 is not part of the rate */
    assert_int_equal(probe(), VMX_AVAILABLE);
    assert_int_equal(caps.preemption_timer_rate_shift, 31);

    model_skylake_x();
    set_msr(MSR_IA32_VMX_TRUE_PINBASED_CTLS, SKY_TRUE_PINBASED & ~(1ull << (32 + 6)));
    assert_int_equal(probe(), VMX_AVAILABLE);
    assert_false(caps.preemption_timer);
}

static void test_basic_fields_masked(void **state)
{
    (void)state;
    model_skylake_x();
    /* Bit 31 of the revision is not part of it; bit 48 (32-bit addresses) is not part of the size. */
    set_msr(MSR_IA32_VMX_BASIC, skylake_basic | (1ull << 31) | (1ull << 48) | (0x400ull << 32));
    assert_int_equal(probe(), VMX_AVAILABLE);
    assert_int_equal(caps.vmcs_revision, 0x2b);
    assert_int_equal(caps.vmcs_region_size, 0x1400);
}

static void test_no_vmx_in_cpuid(void **state)
{
    (void)state;
    model_skylake_x();
    fake.cpuid1_ecx = 0xFFFFFFFF & ~(1u << 5);
    assert_int_equal(probe(), VMX_NO_CPUID_FLAG);
    assert_int_equal(fake.cpuid_calls, 1);
    assert_int_equal(fake.read_count, 0); /* no MSR touched: they might not exist */
    assert_int_equal(fake.write_count, 0);
    assert_false(caps.ept);
    assert_int_equal(caps.vmcs_revision, 0);
    assert_false(caps.feature_control_locked_by_vigil);
}

static void test_feature_control_locked_off(void **state)
{
    (void)state;
    static const uint64_t values[] = {
        0x1,               /* locked, nothing enabled */
        0x3,               /* locked, VMX inside SMX only */
        0x1 | 0xFF00,      /* locked, SENTER bits, VMX outside SMX off */
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        model_skylake_x();
        set_msr(MSR_IA32_FEATURE_CONTROL, values[i]);
        assert_int_equal(probe(), VMX_DISABLED_BY_FIRMWARE);
        assert_int_equal(fake.write_count, 0);
        assert_false(caps.feature_control_locked_by_vigil);
        assert_false(was_read(MSR_IA32_VMX_BASIC));
    }
}

static void test_feature_control_locked_on(void **state)
{
    (void)state;
    model_skylake_x();
    set_msr(MSR_IA32_FEATURE_CONTROL, 0x7); /* locked, inside and outside SMX */
    assert_int_equal(probe(), VMX_AVAILABLE);
    assert_int_equal(fake.write_count, 0);
    assert_false(caps.feature_control_locked_by_vigil);
}

static void test_feature_control_unlocked_is_locked_by_vigil(void **state)
{
    (void)state;
    model_skylake_x();
    set_msr(MSR_IA32_FEATURE_CONTROL, 0);
    assert_int_equal(probe(), VMX_AVAILABLE);
    assert_int_equal(fake.write_count, 1);
    assert_int_equal(fake.writes[0].msr, MSR_IA32_FEATURE_CONTROL);
    assert_int_equal(fake.writes[0].value, 0x5); /* lock | VMX outside SMX */
    assert_true(caps.feature_control_locked_by_vigil);
    assert_int_equal(find_msr(MSR_IA32_FEATURE_CONTROL)->value, 0x5);
    assert_true(caps.ept); /* and the probe went on */
}

static void test_feature_control_unlocked_keeps_other_bits(void **state)
{
    (void)state;
    model_skylake_x();
    set_msr(MSR_IA32_FEATURE_CONTROL, 0x2 | (1ull << 20)); /* inside SMX, LMCE */
    assert_int_equal(probe(), VMX_AVAILABLE);
    assert_int_equal(fake.write_count, 1);
    assert_int_equal(fake.writes[0].value, 0x7 | (1ull << 20));
    assert_true(caps.feature_control_locked_by_vigil);

    /* Unlocked with VMX already on still gets locked. */
    model_skylake_x();
    set_msr(MSR_IA32_FEATURE_CONTROL, 0x4);
    assert_int_equal(probe(), VMX_AVAILABLE);
    assert_int_equal(fake.write_count, 1);
    assert_int_equal(fake.writes[0].value, 0x5);
    assert_true(caps.feature_control_locked_by_vigil);
}

static void test_feature_control_write_does_not_stick(void **state)
{
    (void)state;
    model_skylake_x();
    set_msr(MSR_IA32_FEATURE_CONTROL, 0);
    fake.writes_ignored = true;
    assert_int_equal(probe(), VMX_FEATURE_CONTROL_WRITE_FAILED);
    assert_int_equal(failed_msr, MSR_IA32_FEATURE_CONTROL);
    assert_int_equal(fake.write_count, 1);
    assert_false(caps.feature_control_locked_by_vigil);
    assert_false(was_read(MSR_IA32_VMX_BASIC));

}

/* A write that sticks only partly: the register reads back locked but without VMX. */
static bool partial_write_msr(void *context, uint32_t msr, uint64_t value)
{
    (void)context;
    fake.writes[fake.write_count++] = (struct msr_value){ msr, value };
    find_msr(msr)->value = value & ~FEATURE_CONTROL_VMX_OUTSIDE_SMX;
    return true;
}

static void test_feature_control_write_partly_sticks(void **state)
{
    (void)state;
    model_skylake_x();
    set_msr(MSR_IA32_FEATURE_CONTROL, 0);
    const struct cpu_access access = { fake_cpuid, fake_read_msr, partial_write_msr, &fake };
    memset(&caps, 0, sizeof caps);
    failed_msr = 0;
    assert_int_equal(vmx_probe(&access, &caps, &failed_msr), VMX_FEATURE_CONTROL_WRITE_FAILED);
    assert_int_equal(failed_msr, MSR_IA32_FEATURE_CONTROL);
    assert_int_equal(fake.writes[0].value, 0x5);
}

static void test_feature_control_write_faults(void **state)
{
    (void)state;
    model_skylake_x();
    set_msr(MSR_IA32_FEATURE_CONTROL, 0);
    fake.writes_fault = true;
    assert_int_equal(probe(), VMX_FEATURE_CONTROL_WRITE_FAILED);
    assert_int_equal(failed_msr, MSR_IA32_FEATURE_CONTROL);
    assert_false(caps.feature_control_locked_by_vigil);
}

static void test_feature_control_unreadable(void **state)
{
    (void)state;
    model_skylake_x();
    make_absent(MSR_IA32_FEATURE_CONTROL);
    assert_int_equal(probe(), VMX_FEATURE_CONTROL_UNREADABLE);
    assert_int_equal(failed_msr, MSR_IA32_FEATURE_CONTROL);
    assert_int_equal(fake.write_count, 0);
}

static void test_each_capability_msr_unreadable(void **state)
{
    (void)state;
    static const uint32_t msrs[] = {
        MSR_IA32_VMX_BASIC,          MSR_IA32_VMX_TRUE_PINBASED_CTLS, MSR_IA32_VMX_TRUE_PROCBASED_CTLS,
        MSR_IA32_VMX_TRUE_EXIT_CTLS, MSR_IA32_VMX_TRUE_ENTRY_CTLS,    MSR_IA32_VMX_MISC,
        MSR_IA32_VMX_CR0_FIXED0,     MSR_IA32_VMX_CR0_FIXED1,         MSR_IA32_VMX_CR4_FIXED0,
        MSR_IA32_VMX_CR4_FIXED1,     MSR_IA32_VMX_PROCBASED_CTLS2,    MSR_IA32_VMX_EPT_VPID_CAP,
    };
    for (size_t i = 0; i < sizeof msrs / sizeof msrs[0]; i++) {
        model_skylake_x();
        make_absent(msrs[i]);
        enum vmx_probe_result result = probe();
        if (result != VMX_CAPABILITY_MSR_UNREADABLE || failed_msr != msrs[i])
            fail_msg("MSR %#x absent: result %d, failed_msr %#x", msrs[i], result, failed_msr);
    }
    /* The same for the non-TRUE MSRs of a CPU without TRUE controls. */
    static const uint32_t plain[] = { MSR_IA32_VMX_PINBASED_CTLS, MSR_IA32_VMX_PROCBASED_CTLS, MSR_IA32_VMX_EXIT_CTLS,
                                      MSR_IA32_VMX_ENTRY_CTLS };
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        model_penryn();
        make_absent(plain[i]);
        enum vmx_probe_result result = probe();
        if (result != VMX_CAPABILITY_MSR_UNREADABLE || failed_msr != plain[i])
            fail_msg("MSR %#x absent: result %d, failed_msr %#x", plain[i], result, failed_msr);
    }
}

static void test_failed_msr_may_be_null(void **state)
{
    (void)state;
    model_skylake_x();
    make_absent(MSR_IA32_VMX_MISC);
    assert_int_equal(vmx_probe(&fake_access, &caps, NULL), VMX_CAPABILITY_MSR_UNREADABLE);
    model_skylake_x();
    set_msr(MSR_IA32_FEATURE_CONTROL, 0);
    fake.writes_ignored = true;
    assert_int_equal(vmx_probe(&fake_access, &caps, NULL), VMX_FEATURE_CONTROL_WRITE_FAILED);
    model_skylake_x();
    make_absent(MSR_IA32_FEATURE_CONTROL);
    assert_int_equal(vmx_probe(&fake_access, &caps, NULL), VMX_FEATURE_CONTROL_UNREADABLE);
}

static void test_vmcs_memory_type_not_write_back(void **state)
{
    (void)state;
    static const uint64_t types[] = { 0 /* UC */, 1, 4, 5, 7, 0xE /* WB with bit 53 also set */ };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        model_skylake_x();
        set_msr(MSR_IA32_VMX_BASIC, (skylake_basic & ~(0xFull << 50)) | (types[i] << 50));
        enum vmx_probe_result result = probe();
        if (result != VMX_UNSUPPORTED_MEMORY_TYPE)
            fail_msg("memory type %llu: result %d", (unsigned long long)types[i], result);
        assert_false(was_read(MSR_IA32_VMX_TRUE_PINBASED_CTLS));
    }
}

/* ---- control adjustment ------------------------------------------------------------ */

static void test_adjust_controls(void **state)
{
    (void)state;
    /* allowed-0 = 0x16 (must be 1), allowed-1 = 0x7F (may be 1) */
    assert_int_equal(vmx_adjust_controls(SKY_PINBASED, 0), 0x16);
    assert_int_equal(vmx_adjust_controls(SKY_PINBASED, 0x40), 0x56);       /* preemption timer */
    assert_int_equal(vmx_adjust_controls(SKY_PINBASED, 0x16), 0x16);
    assert_int_equal(vmx_adjust_controls(SKY_PINBASED, 0x80), 0x16);       /* posted interrupts: not allowed */
    assert_int_equal(vmx_adjust_controls(SKY_PINBASED, 0x81), 0x17);
    assert_int_equal(vmx_adjust_controls(SKY_PINBASED, 0xFFFFFFFF), 0x7F);
    assert_int_equal(vmx_adjust_controls(PENRYN_PINBASED, 0x40), 0x16);    /* no timer on penryn */
    /* bit 31 (secondary) allowed, bit 0 not allowed, allowed-0 bits forced on */
    assert_int_equal(vmx_adjust_controls(SKY_TRUE_PROCBASED, 0x80000001u), 0x84006172u);
    assert_int_equal(vmx_adjust_controls(PENRYN_PROCBASED, 0x80000000u), 0x0401E172u);
    /* a bit that must be 1 but may not be 1 (inconsistent MSR): allowed-1 wins */
    assert_int_equal(vmx_adjust_controls(0x0000000F00000030ull, 0x1), 0x1);
    assert_int_equal(vmx_adjust_controls(0, 0xFFFFFFFF), 0);
    assert_int_equal(vmx_adjust_controls(0xFFFFFFFF00000000ull, 0x12345678), 0x12345678);
    assert_int_equal(vmx_adjust_controls(0xFFFFFFFFFFFFFFFFull, 0), 0xFFFFFFFFu);
}

static void test_control_allowed(void **state)
{
    (void)state;
    assert_true(vmx_control_allowed(SKY_PINBASED, 1u << 6));
    assert_false(vmx_control_allowed(PENRYN_PINBASED, 1u << 6));
    assert_true(vmx_control_allowed(SKY_PROCBASED, 1u << 31));
    assert_false(vmx_control_allowed(PENRYN_PROCBASED, 1u << 31));
    assert_false(vmx_control_allowed(SKY_PINBASED, (1u << 6) | (1u << 7))); /* all of the mask or nothing */
    assert_true(vmx_control_allowed(SKY_PINBASED, 0x7F));
    /* allowed-0 (the low half) does not make a bit allowed */
    assert_false(vmx_control_allowed(0x0000000000000040ull, 1u << 6));
}

/* ---- reasons and summary -------------------------------------------------------------- */

static void test_probe_result_reasons(void **state)
{
    (void)state;
    const char *seen[8] = { 0 };
    for (int r = VMX_AVAILABLE; r <= VMX_UNSUPPORTED_MEMORY_TYPE; r++) {
        const char *reason = vmx_probe_result_reason((enum vmx_probe_result)r);
        assert_non_null(reason);
        assert_string_not_equal(reason, "unknown");
        for (int k = 0; k < r; k++)
            assert_string_not_equal(reason, seen[k]);
        seen[r] = reason;
    }
    assert_string_equal(vmx_probe_result_reason(VMX_AVAILABLE), "available");
    assert_non_null(strstr(vmx_probe_result_reason(VMX_DISABLED_BY_FIRMWARE), "firmware"));
    assert_string_equal(vmx_probe_result_reason((enum vmx_probe_result)99), "unknown");
}

#define SKYLAKE_SUMMARY                                                                                                \
    "VMCS revision 0x2b, EPT yes (2M yes, 1G yes, A/D yes, INVEPT yes), VPID yes, unrestricted guest yes, "            \
    "preemption timer yes (TSC/1)"
#define PENRYN_SUMMARY                                                                                                 \
    "VMCS revision 0x2b, EPT no (2M no, 1G no, A/D no, INVEPT no), VPID no, unrestricted guest no, "                   \
    "preemption timer no"

static void test_format_skylake_x(void **state)
{
    (void)state;
    model_skylake_x();
    assert_int_equal(probe(), VMX_AVAILABLE);
    char buffer[256];
    size_t length = vmx_capabilities_format(&caps, buffer, sizeof buffer);
    assert_string_equal(buffer, SKYLAKE_SUMMARY);
    assert_int_equal(length, strlen(SKYLAKE_SUMMARY));
}

static void test_format_penryn(void **state)
{
    (void)state;
    model_penryn();
    assert_int_equal(probe(), VMX_AVAILABLE);
    char buffer[256];
    size_t length = vmx_capabilities_format(&caps, buffer, sizeof buffer);
    assert_string_equal(buffer, PENRYN_SUMMARY);
    assert_int_equal(length, strlen(PENRYN_SUMMARY));
}

static void test_format_mixed_and_truncated(void **state)
{
    (void)state;
    model_skylake_x();
    set_msr(MSR_IA32_VMX_MISC, SKY_MISC | 5);
    set_msr(MSR_IA32_VMX_EPT_VPID_CAP, SKY_EPT_VPID_CAP & ~((1ull << 17) | (1ull << 20))); /* no 1G, no INVEPT */
    set_msr(MSR_IA32_VMX_PROCBASED_CTLS2, SKY_PROCBASED2 & ~(1ull << (32 + 7)));              /* no unrestricted guest */
    set_msr(MSR_IA32_VMX_BASIC, (skylake_basic & ~0x7FFFFFFFull) | 0x4);
    assert_int_equal(probe(), VMX_AVAILABLE);
    const char *expected = "VMCS revision 0x4, EPT yes (2M yes, 1G no, A/D yes, INVEPT no), VPID yes, "
                           "unrestricted guest no, preemption timer yes (TSC/32)";
    char buffer[256];
    assert_int_equal(vmx_capabilities_format(&caps, buffer, sizeof buffer), strlen(expected));
    assert_string_equal(buffer, expected);

    /* Truncated: the full length is still returned, the buffer is terminated. */
    char small[16];
    memset(small, 'Z', sizeof small);
    assert_int_equal(vmx_capabilities_format(&caps, small, sizeof small), strlen(expected));
    assert_string_equal(small, "VMCS revision 0");

    /* VPID without EPT; the EPT page sizes are shown as read from EPT_VPID_CAP. */
    model_skylake_x();
    set_msr(MSR_IA32_VMX_PROCBASED_CTLS2, (1ull << 5) << 32);
    set_msr(MSR_IA32_VMX_EPT_VPID_CAP, (1ull << 16) | (1ull << 32));
    assert_int_equal(probe(), VMX_AVAILABLE);
    char other[256];
    vmx_capabilities_format(&caps, other, sizeof other);
    assert_string_equal(other, "VMCS revision 0x2b, EPT no (2M yes, 1G no, A/D no, INVEPT no), VPID yes, "
                               "unrestricted guest no, preemption timer yes (TSC/1)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skylake_x_available),
        cmocka_unit_test(test_true_msrs_used_when_basic_bit_55_set),
        cmocka_unit_test(test_plain_msrs_used_when_basic_bit_55_clear),
        cmocka_unit_test(test_penryn_without_secondary_controls),
        cmocka_unit_test(test_secondary_without_ept_or_vpid_skips_ept_vpid_cap),
        cmocka_unit_test(test_vpid_alone_reads_ept_vpid_cap),
        cmocka_unit_test(test_ept_capability_bits_individually),
        cmocka_unit_test(test_preemption_timer_rate_from_misc),
        cmocka_unit_test(test_basic_fields_masked),
        cmocka_unit_test(test_no_vmx_in_cpuid),
        cmocka_unit_test(test_feature_control_locked_off),
        cmocka_unit_test(test_feature_control_locked_on),
        cmocka_unit_test(test_feature_control_unlocked_is_locked_by_vigil),
        cmocka_unit_test(test_feature_control_unlocked_keeps_other_bits),
        cmocka_unit_test(test_feature_control_write_does_not_stick),
        cmocka_unit_test(test_feature_control_write_partly_sticks),
        cmocka_unit_test(test_feature_control_write_faults),
        cmocka_unit_test(test_feature_control_unreadable),
        cmocka_unit_test(test_each_capability_msr_unreadable),
        cmocka_unit_test(test_failed_msr_may_be_null),
        cmocka_unit_test(test_vmcs_memory_type_not_write_back),
        cmocka_unit_test(test_adjust_controls),
        cmocka_unit_test(test_control_allowed),
        cmocka_unit_test(test_probe_result_reasons),
        cmocka_unit_test(test_format_skylake_x),
        cmocka_unit_test(test_format_penryn),
        cmocka_unit_test(test_format_mixed_and_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
