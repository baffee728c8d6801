/* The CMOS real-time clock, read once at boot for the host's wall time. */
#ifndef VIGIL_DRIVERS_RTC_RTC_H
#define VIGIL_DRIVERS_RTC_RTC_H

#include <stdbool.h>
#include <stdint.h>

struct rtc_time {
    unsigned year, month, day, hour, minute, second;
};

/* Reads the RTC (waiting out an update in progress, reading until two reads
 * agree, converting BCD and 12-hour formats). False if it never settled. */
bool rtc_read(struct rtc_time *out);
/* Seconds since 1970-01-01T00:00:00Z, taking the RTC as UTC (as Linux does with
 * a UTC hardware clock). False for a date that is not valid. */
bool rtc_to_unix_seconds(const struct rtc_time *time, uint64_t *seconds);

#endif
