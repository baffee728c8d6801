/* The CMOS RTC through ports 0x70/0x71; host unit tests provide the port accessors
 * (arch/x86_64/port_io.h) as a fake CMOS (tests/unit/test_rtc.c). */
#include "drivers/rtc/rtc.h"

#include "arch/x86_64/port_io.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define CMOS_NMI_DISABLE 0x80
#define REGISTER_SECONDS 0x00
#define REGISTER_MINUTES 0x02
#define REGISTER_HOURS 0x04
#define REGISTER_DAY 0x07
#define REGISTER_MONTH 0x08
#define REGISTER_YEAR 0x09
#define REGISTER_STATUS_A 0x0A
#define REGISTER_STATUS_B 0x0B
#define REGISTER_CENTURY 0x32 /* ACPI FADT's usual century register */
#define STATUS_A_UPDATE_IN_PROGRESS 0x80
#define STATUS_B_24_HOUR 0x02
#define STATUS_B_BINARY 0x04
#define HOUR_PM 0x80
#define SETTLE_ATTEMPTS 100000u

static bool is_leap_year(unsigned year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

bool rtc_to_unix_seconds(const struct rtc_time *t, uint64_t *seconds)
{
    static const unsigned days_before_month[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
    static const unsigned days_in_month[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    if (t->year < 1970 || t->year > 9999 || t->month < 1 || t->month > 12 || t->day < 1 || t->hour > 23 ||
        t->minute > 59 || t->second > 59)
        return false;
    unsigned month_days = days_in_month[t->month - 1] + (t->month == 2 && is_leap_year(t->year));
    if (t->day > month_days)
        return false;
    uint64_t days = 0;
    for (unsigned year = 1970; year < t->year; year++)
        days += is_leap_year(year) ? 366 : 365;
    days += days_before_month[t->month - 1] + (t->month > 2 && is_leap_year(t->year)) + (t->day - 1);
    *seconds = ((days * 24 + t->hour) * 60 + t->minute) * 60 + t->second;
    return true;
}

static uint8_t cmos_read(uint8_t reg)
{
    port_out8(CMOS_INDEX, (uint8_t)(CMOS_NMI_DISABLE | reg));
    return port_in8(CMOS_DATA);
}

static unsigned from_bcd(uint8_t value) { return (value & 0x0F) + (value >> 4) * 10u; }

static void read_raw(uint8_t raw[7])
{
    static const uint8_t registers[7] = { REGISTER_SECONDS, REGISTER_MINUTES, REGISTER_HOURS, REGISTER_DAY,
                                          REGISTER_MONTH, REGISTER_YEAR, REGISTER_CENTURY };
    for (unsigned i = 0; i < 7; i++)
        raw[i] = cmos_read(registers[i]);
}

bool rtc_read(struct rtc_time *out)
{
    uint8_t first[7], second[7];
    for (unsigned attempt = 0; attempt < SETTLE_ATTEMPTS; attempt++) {
        if (cmos_read(REGISTER_STATUS_A) & STATUS_A_UPDATE_IN_PROGRESS)
            continue;
        read_raw(first);
        if (cmos_read(REGISTER_STATUS_A) & STATUS_A_UPDATE_IN_PROGRESS)
            continue;
        read_raw(second);
        if (__builtin_memcmp(first, second, sizeof first) != 0)
            continue;
        uint8_t status_b = cmos_read(REGISTER_STATUS_B);
        bool binary = (status_b & STATUS_B_BINARY) != 0;
        bool pm = !(status_b & STATUS_B_24_HOUR) && (first[2] & HOUR_PM);
        uint8_t hour_raw = (uint8_t)(first[2] & ~HOUR_PM);
        unsigned hour = binary ? hour_raw : from_bcd(hour_raw);
        if (!(status_b & STATUS_B_24_HOUR))
            hour = (hour % 12) + (pm ? 12 : 0);
        unsigned century = binary ? first[6] : from_bcd(first[6]);
        unsigned year = binary ? first[5] : from_bcd(first[5]);
        out->year = (century >= 19 && century <= 99) ? century * 100 + year : 2000 + year;
        out->month = binary ? first[4] : from_bcd(first[4]);
        out->day = binary ? first[3] : from_bcd(first[3]);
        out->hour = hour;
        out->minute = binary ? first[1] : from_bcd(first[1]);
        out->second = binary ? first[0] : from_bcd(first[0]);
        return true;
    }
    return false;
}
