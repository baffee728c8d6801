/*
 * TSC frequency arithmetic, shared by every source (pure: host unit tests).
 * Sources in the order vigil trusts them:
 *   CPUID 0x15: TSC/crystal ratio EBX/EAX times the crystal ECX (SDM Vol. 2A, CPUID
 *               leaf 15H; Vol. 3B §18.7.3 "Determining the Processor Base Frequency")
 *   CPUID 0x16: processor base frequency in MHz (EAX), which the invariant TSC runs at
 *   ACPI PM timer: 3.579545 MHz, 24 or 32 bits wide (FADT flag TMR_VAL_EXT)
 *   PIT: 1.193182 MHz (drivers/pit), the last resort
 */
#ifndef VIGIL_DRIVERS_TSC_TSC_FREQUENCY_H
#define VIGIL_DRIVERS_TSC_TSC_FREQUENCY_H

#include <stdbool.h>
#include <stdint.h>

#define ACPI_PM_TIMER_HZ 3579545u
/* A TSC outside this range is a wrong value, not a real machine (or emulator). */
#define TSC_HZ_MIN 10000000ull    /* 10 MHz */
#define TSC_HZ_MAX 20000000000ull /* 20 GHz */

bool tsc_hz_sane(uint64_t hz);
/* CPUID.15H: EAX denominator, EBX numerator, ECX crystal Hz. 0 when a value is 0
 * (not enumerated) or the result is not sane. */
uint64_t tsc_hz_from_cpuid_15(uint32_t eax, uint32_t ebx, uint32_t ecx);
/* CPUID.16H: EAX[15:0] base frequency in MHz. 0 when 0 or not sane. */
uint64_t tsc_hz_from_cpuid_16(uint32_t eax);
/* Ticks between two PM timer reads, across one wrap of its 24 or 32 bits. */
uint32_t pm_timer_ticks(uint32_t start, uint32_t end, bool width_32);
/* TSC ticks over `ticks` of a timer running at `timer_hz`. 0 when ticks is 0 or
 * the result is not sane. */
uint64_t tsc_hz_from_reference(uint64_t tsc_ticks, uint32_t ticks, uint32_t timer_hz);

#endif
