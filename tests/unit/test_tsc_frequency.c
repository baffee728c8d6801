/* Unit tests for drivers/tsc/tsc_frequency.c: the TSC frequency from CPUID 0x15/0x16
 * and from a reference timer (PM timer wrap, bad and zero values). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "drivers/tsc/tsc_frequency.h"

static void test_cpuid_15_ratio(void **state)
{
    (void)state;
    /* Skylake client: 24 MHz crystal, ratio 2 / 216 => 2592 MHz. */
    assert_int_equal(tsc_hz_from_cpuid_15(2, 216, 24000000), 2592000000ull);
    /* Goldmont: 19.2 MHz crystal, ratio 3/ 62 => 396.8 MHz (integer division). */
    assert_int_equal(tsc_hz_from_cpuid_15(3, 62, 19200000), 396800000ull);
    /* Largest values: no 64-bit overflow in ECX * EBX. */
    assert_int_equal(tsc_hz_from_cpuid_15(0xFFFFFFFFu, 0xFFFFFFFFu, 100000000), 100000000ull);
}

static void test_cpuid_15_not_enumerated_or_insane(void **state)
{
    (void)state;
    assert_int_equal(tsc_hz_from_cpuid_15(0, 216, 24000000), 0);  /* EAX 0: leaf not enumerated */
    assert_int_equal(tsc_hz_from_cpuid_15(2, 0, 24000000), 0);    /* EBX 0: ratio not enumerated */
    assert_int_equal(tsc_hz_from_cpuid_15(2, 216, 0), 0);         /* ECX 0: crystal not enumerated */
    assert_int_equal(tsc_hz_from_cpuid_15(1, 1000, 24000000), 0); /* 24 GHz */
    assert_int_equal(tsc_hz_from_cpuid_15(1000, 1, 24000000), 0); /* 24 kHz */
}

static void test_cpuid_16_base_mhz(void **state)
{
    (void)state;
    assert_int_equal(tsc_hz_from_cpuid_16(2600), 2600000000ull);
    assert_int_equal(tsc_hz_from_cpuid_16(0xABCD0000u | 3000), 3000000000ull); /* EAX[31:16] reserved */
    assert_int_equal(tsc_hz_from_cpuid_16(0), 0);
    assert_int_equal(tsc_hz_from_cpuid_16(5), 0); /* 5 MHz: not a TSC */
    assert_int_equal(tsc_hz_from_cpuid_16(30000), 0); /* 30 GHz */
}

static void test_pm_timer_ticks_and_wrap(void **state)
{
    (void)state;
    assert_int_equal(pm_timer_ticks(100, 400, false), 300);
    /* 24-bit timer: wraps from 0xFFFFFF to 0; the upper byte of a read is garbage-free 0. */
    assert_int_equal(pm_timer_ticks(0xFFFF00, 0x000100, false), 0x200);
    /* A 24-bit read with stray upper bits still counts modulo 2^24. */
    assert_int_equal(pm_timer_ticks(0x01FFFFF0u, 0x00000010u, false), 0x20);
    /* 32-bit timer (TMR_VAL_EXT): wraps at 2^32. */
    assert_int_equal(pm_timer_ticks(0xFFFFFF00u, 0x00000100u, true), 0x200);
    assert_int_equal(pm_timer_ticks(0x00FFFF00u, 0x01000100u, true), 0x200);
    assert_int_equal(pm_timer_ticks(5, 5, true), 0);
}

static void test_reference_arithmetic(void **state)
{
    (void)state;
    /* 50 ms of PM timer (178977 ticks) over 150,000,000 TSC ticks => 3 GHz (+- rounding). */
    uint64_t hz = tsc_hz_from_reference(150000000ull, 178977u, ACPI_PM_TIMER_HZ);
    assert_in_range(hz, 2999990000ull, 3000010000ull);
    /* PIT: 59659 ticks (50 ms) over 100,000,000 TSC ticks => 2 GHz. */
    hz = tsc_hz_from_reference(100000000ull, 59659u, 1193182u);
    assert_in_range(hz, 1999990000ull, 2000010000ull);
    /* Large TSC deltas do not overflow: 60 s at 5 GHz against the PM timer. */
    hz = tsc_hz_from_reference(300000000000ull, 60u * ACPI_PM_TIMER_HZ, ACPI_PM_TIMER_HZ);
    assert_int_equal(hz, 5000000000ull);
}

static void test_reference_bad_values(void **state)
{
    (void)state;
    assert_int_equal(tsc_hz_from_reference(150000000ull, 0, ACPI_PM_TIMER_HZ), 0); /* timer did not move */
    assert_int_equal(tsc_hz_from_reference(0, 178977u, ACPI_PM_TIMER_HZ), 0);        /* TSC did not move */
    assert_int_equal(tsc_hz_from_reference(UINT64_MAX, 1, ACPI_PM_TIMER_HZ), 0);     /* absurd, no overflow */
    assert_int_equal(tsc_hz_from_reference(1000, 178977u, ACPI_PM_TIMER_HZ), 0);     /* 20 kHz */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpuid_15_ratio),
        cmocka_unit_test(test_cpuid_15_not_enumerated_or_insane),
        cmocka_unit_test(test_cpuid_16_base_mhz),
        cmocka_unit_test(test_pm_timer_ticks_and_wrap),
        cmocka_unit_test(test_reference_arithmetic),
        cmocka_unit_test(test_reference_bad_values),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
