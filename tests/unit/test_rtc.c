/*
 * Unit tests for the CMOS real-time clock (drivers/rtc/rtc.c): rtc_to_unix_seconds
 * on known dates, leap years and invalid dates; rtc_read against a fake CMOS
 * (ports 0x70/0x71): BCD and binary, 24- and 12-hour formats (the PM bit, 12 AM
 * and 12 PM), the century register, waiting out an update in progress, reading
 * again after a torn read, and giving up when the clock never settles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86_64/port_io.h"
#include "drivers/rtc/rtc.h"

/* ---- utilities for rtc_to_unix_seconds */
static uint64_t unix_seconds(unsigned year, unsigned month, unsigned day, unsigned hour, unsigned minute,
                             unsigned second)
{
    struct rtc_time t = {year, month, day, hour, minute, second};
    uint64_t seconds = 0xBAD;
    if (!rtc_to_unix_seconds(&t, &seconds))
        fail_msg("%u-%u-%u %u:%u:%u refused", year, month, day, hour, minute, second);
    return seconds;
}

static bool accepted(unsigned year, unsigned month, unsigned day, unsigned hour, unsigned minute, unsigned second)
{
    struct rtc_time t = {year, month, day, hour, minute, second};
    uint64_t seconds = 0xBAD;
    bool ok = rtc_to_unix_seconds(&t, &seconds);
    if (!ok)
        assert_int_equal(seconds, 0xBAD); /* untouched on refusal */
    return ok;
}

static void test_known_dates(void **state)
{
    (void)state;
    /* values from Python's calendar.timegm */
    assert_int_equal(unix_seconds(1970, 1, 1, 0, 0, 0), 0);
    assert_int_equal(unix_seconds(1999, 12, 31, 23, 59, 59), 946684799);
    assert_int_equal(unix_seconds(2000, 1, 1, 0, 0, 0), 946684800);
    assert_int_equal(unix_seconds(2024, 2, 29, 23, 59, 58), 1709251198);
    assert_int_equal(unix_seconds(2038, 1, 19, 3, 14, 8), 2147483648ull); /* past int32 */
    assert_int_equal(unix_seconds(2100, 3, 1, 0, 0, 0), 4107542400ull);
    assert_int_equal(unix_seconds(9999, 12, 31, 23, 59, 59), 253402300799ull);
}

static void test_leap_years(void **state)
{
    (void)state;
    assert_true(accepted(2000, 2, 29, 0, 0, 0));  /* divisible by 400 */
    assert_true(accepted(2024, 2, 29, 0, 0, 0));  /* by 4 */
    assert_false(accepted(2023, 2, 29, 0, 0, 0)); /* not by 4 */
    assert_false(accepted(2100, 2, 29, 0, 0, 0)); /* by 100, not 400 */
    /* the day after Feb 28 is Mar 1 in a common year, Feb 29 in a leap year */
    assert_int_equal(unix_seconds(2023, 3, 1, 0, 0, 0) - unix_seconds(2023, 2, 28, 0, 0, 0), 86400);
    assert_int_equal(unix_seconds(2024, 3, 1, 0, 0, 0) - unix_seconds(2024, 2, 28, 0, 0, 0), 2 * 86400);
    assert_int_equal(unix_seconds(2001, 1, 1, 0, 0, 0) - unix_seconds(2000, 1, 1, 0, 0, 0), 366 * 86400);
    assert_int_equal(unix_seconds(2101, 1, 1, 0, 0, 0) - unix_seconds(2100, 1, 1, 0, 0, 0), 365 * 86400);
}

static void test_invalid_dates(void **state)
{
    (void)state;
    assert_false(accepted(1969, 12, 31, 23, 59, 59));
    assert_false(accepted(10000, 1, 1, 0, 0, 0));
    assert_false(accepted(2024, 0, 1, 0, 0, 0));
    assert_false(accepted(2024, 13, 1, 0, 0, 0));
    assert_false(accepted(2024, 1, 0, 0, 0, 0));
    assert_false(accepted(2024, 4, 31, 0, 0, 0));
    assert_false(accepted(2024, 1, 32, 0, 0, 0));
    assert_false(accepted(2024, 1, 1, 24, 0, 0));
    assert_false(accepted(2024, 1, 1, 0, 60, 0));
    assert_false(accepted(2024, 1, 1, 0, 0, 60));
    assert_true(accepted(2024, 12, 31, 23, 59, 59));
}

/* ---- a fake CMOS on ports 0x70 (index, bit 7 = NMI disable) and 0x71 (data) */
static uint8_t cmos[128];
static uint8_t cmos_index;
static unsigned update_in_progress_reads; /* how many status A reads report UIP */
static unsigned status_a_reads;
static unsigned tick_after_reads;         /* the seconds register changes after this many reads of it (0: never) */
static unsigned second_reads;
static bool nmi_bit_always_set = true;

void port_out8(uint16_t port, uint8_t value)
{
    assert_int_equal(port, 0x70);
    if (!(value & 0x80))
        nmi_bit_always_set = false;
    cmos_index = value & 0x7F;
}

uint8_t port_in8(uint16_t port)
{
    assert_int_equal(port, 0x71);
    if (cmos_index == 0x0A) {
        status_a_reads++;
        if (update_in_progress_reads > 0) {
            update_in_progress_reads--;
            return 0x80 | 0x26;
        }
        return 0x26;
    }
    if (cmos_index == 0x00 && tick_after_reads != 0 && ++second_reads == tick_after_reads)
        cmos[0x00]++; /* the clock ticked between the two reads */
    return cmos[cmos_index];
}

/* Unused by rtc.c; declared by port_io.h for host builds. */
uint16_t port_in16(uint16_t port) { (void)port; fail(); return 0; }
void port_out16(uint16_t port, uint16_t value) { (void)port; (void)value; fail(); }
uint32_t port_in32(uint16_t port) { (void)port; fail(); return 0; }
void port_out32(uint16_t port, uint32_t value) { (void)port; (void)value; fail(); }

static void set_clock(uint8_t status_b, uint8_t century, uint8_t year, uint8_t month, uint8_t day, uint8_t hour,
                      uint8_t minute, uint8_t second)
{
    memset(cmos, 0, sizeof cmos);
    cmos[0x0B] = status_b;
    cmos[0x32] = century;
    cmos[0x09] = year;
    cmos[0x08] = month;
    cmos[0x07] = day;
    cmos[0x04] = hour;
    cmos[0x02] = minute;
    cmos[0x00] = second;
    update_in_progress_reads = status_a_reads = tick_after_reads = second_reads = 0;
    nmi_bit_always_set = true;
}

#define STATUS_B_24_HOUR 0x02
#define STATUS_B_BINARY 0x04
#define PM 0x80

static void assert_read(unsigned year, unsigned month, unsigned day, unsigned hour, unsigned minute, unsigned second)
{
    struct rtc_time t;
    memset(&t, 0xFF, sizeof t);
    assert_true(rtc_read(&t));
    if (t.year != year || t.month != month || t.day != day || t.hour != hour || t.minute != minute ||
        t.second != second)
        fail_msg("read %u-%u-%u %u:%u:%u, expected %u-%u-%u %u:%u:%u", t.year, t.month, t.day, t.hour, t.minute,
                 t.second, year, month, day, hour, minute, second);
    assert_true(nmi_bit_always_set); /* NMIs stay masked while the index is set */
}

static void test_read_bcd_24_hour(void **state)
{
    (void)state;
    set_clock(STATUS_B_24_HOUR, 0x20, 0x24, 0x02, 0x29, 0x23, 0x59, 0x58);
    assert_read(2024, 2, 29, 23, 59, 58);
}

static void test_read_binary_24_hour(void **state)
{
    (void)state;
    set_clock(STATUS_B_24_HOUR | STATUS_B_BINARY, 20, 26, 12, 7, 13, 5, 9);
    assert_read(2026, 12, 7, 13, 5, 9);
}

static void test_read_12_hour(void **state)
{
    (void)state;
    /* BCD: 12 AM is midnight, 12 PM noon, 1 PM is 13 */
    set_clock(0, 0x20, 0x26, 0x12, 0x07, 0x12, 0x30, 0x00);
    assert_read(2026, 12, 7, 0, 30, 0);
    set_clock(0, 0x20, 0x26, 0x12, 0x07, PM | 0x12, 0x00, 0x00);
    assert_read(2026, 12, 7, 12, 0, 0);
    set_clock(0, 0x20, 0x26, 0x12, 0x07, PM | 0x01, 0x05, 0x09);
    assert_read(2026, 12, 7, 13, 5, 9);
    /* binary: 11 PM */
    set_clock(STATUS_B_BINARY, 20, 26, 12, 7, PM | 11, 0, 0);
    assert_read(2026, 12, 7, 23, 0, 0);
    /* 24-hour mode: the hour as it is */
    set_clock(STATUS_B_24_HOUR, 0x20, 0x26, 0x12, 0x07, 0x13, 0x00, 0x00);
    assert_read(2026, 12, 7, 13, 0, 0);
}

static void test_read_century(void **state)
{
    (void)state;
    set_clock(STATUS_B_24_HOUR, 0x19, 0x99, 0x12, 0x31, 0x23, 0x59, 0x59);
    assert_read(1999, 12, 31, 23, 59, 59);
    /* no century register (reads 0): 20xx */
    set_clock(STATUS_B_24_HOUR, 0x00, 0x31, 0x01, 0x01, 0x00, 0x00, 0x00);
    assert_read(2031, 1, 1, 0, 0, 0);
}

static void test_read_waits_out_an_update(void **state)
{
    (void)state;
    set_clock(STATUS_B_24_HOUR, 0x20, 0x24, 0x01, 0x01, 0x00, 0x00, 0x10);
    update_in_progress_reads = 5;
    assert_read(2024, 1, 1, 0, 0, 10);
    assert_true(status_a_reads >= 7);
    /* a second that changes between the two reads: read again, take the new one */
    set_clock(STATUS_B_24_HOUR | STATUS_B_BINARY, 20, 24, 1, 1, 0, 0, 10);
    tick_after_reads = 2;
    assert_read(2024, 1, 1, 0, 0, 11);
}

static void test_read_never_settles(void **state)
{
    (void)state;
    set_clock(STATUS_B_24_HOUR, 0x20, 0x24, 0x01, 0x01, 0x00, 0x00, 0x00);
    update_in_progress_reads = ~0u; /* a stuck UIP bit */
    struct rtc_time t;
    assert_false(rtc_read(&t));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_dates),
        cmocka_unit_test(test_leap_years),
        cmocka_unit_test(test_invalid_dates),
        cmocka_unit_test(test_read_bcd_24_hour),
        cmocka_unit_test(test_read_binary_24_hour),
        cmocka_unit_test(test_read_12_hour),
        cmocka_unit_test(test_read_century),
        cmocka_unit_test(test_read_waits_out_an_update),
        cmocka_unit_test(test_read_never_settles),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
