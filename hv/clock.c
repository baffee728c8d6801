#include "hv/clock.h"

#include "arch/x86_64/cpu.h"
#include "drivers/rtc/rtc.h"

static uint64_t tsc_frequency = 1;
static uint64_t boot_tsc;
static uint64_t boot_unix_ns;

bool clock_init(uint64_t tsc_frequency_hz)
{
    tsc_frequency = tsc_frequency_hz ? tsc_frequency_hz : 1;
    boot_tsc = cpu_read_tsc();
    struct rtc_time now;
    uint64_t seconds;
    if (!rtc_read(&now) || !rtc_to_unix_seconds(&now, &seconds))
        return false;
    boot_unix_ns = seconds * 1000000000ull;
    return true;
}

uint64_t clock_tsc_frequency(void) { return tsc_frequency; }

uint64_t clock_now_ms(void)
{
    return (uint64_t)((unsigned __int128)(cpu_read_tsc() - boot_tsc) * 1000u / tsc_frequency);
}

uint64_t clock_unix_time_ns(void)
{
    return boot_unix_ns + (uint64_t)((unsigned __int128)(cpu_read_tsc() - boot_tsc) * 1000000000u / tsc_frequency);
}
