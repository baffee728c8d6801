#include "drivers/tsc/tsc_frequency.h"

bool tsc_hz_sane(uint64_t hz) { return hz >= TSC_HZ_MIN && hz <= TSC_HZ_MAX; }

uint64_t tsc_hz_from_cpuid_15(uint32_t eax, uint32_t ebx, uint32_t ecx)
{
    if (eax == 0 || ebx == 0 || ecx == 0)
        return 0;
    /* ECX < 2^32 and EBX < 2^32: the product fits 64 bits. */
    uint64_t hz = (uint64_t)ecx * ebx / eax;
    return tsc_hz_sane(hz) ? hz : 0;
}

uint64_t tsc_hz_from_cpuid_16(uint32_t eax)
{
    uint64_t hz = (uint64_t)(eax & 0xFFFFu) * 1000000u;
    return tsc_hz_sane(hz) ? hz : 0;
}

uint32_t pm_timer_ticks(uint32_t start, uint32_t end, bool width_32)
{
    uint32_t mask = width_32 ? 0xFFFFFFFFu : 0x00FFFFFFu;
    return (uint32_t)((end - start) & mask);
}

uint64_t tsc_hz_from_reference(uint64_t tsc_ticks, uint32_t ticks, uint32_t timer_hz)
{
    if (ticks == 0)
        return 0;
    /* tsc_ticks * timer_hz can pass 2^64, and 128-bit division needs libgcc: split
     * into whole and remainder; remainder * timer_hz < 2^32 * 2^32 fits. */
    uint64_t whole = tsc_ticks / ticks, remainder = tsc_ticks % ticks;
    if (whole > TSC_HZ_MAX / (timer_hz ? timer_hz : 1))
        return 0;
    uint64_t hz = whole * timer_hz + remainder * timer_hz / ticks;
    return tsc_hz_sane(hz) ? hz : 0;
}
