/*
 * How code that only needs CPUID and MSRs reaches the processor: the real
 * instructions in the image, a table of fake values in host unit tests.
 */
#ifndef VIGIL_ARCH_X86_64_CPU_ACCESS_H
#define VIGIL_ARCH_X86_64_CPU_ACCESS_H

#include <stdbool.h>
#include <stdint.h>

struct cpu_access {
    void (*cpuid)(void *context, uint32_t leaf, uint32_t subleaf, uint32_t registers[4]);
    /* false when the access faulted (#GP: MSR absent or value refused) */
    bool (*read_msr)(void *context, uint32_t msr, uint64_t *value);
    bool (*write_msr)(void *context, uint32_t msr, uint64_t value);
    void *context;
};

extern const struct cpu_access cpu_hardware_access;

#endif
