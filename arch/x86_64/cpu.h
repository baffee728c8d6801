/* Small x86-64 instruction wrappers for the hypervisor image (not used by host tests). */
#ifndef VIGIL_ARCH_X86_64_CPU_H
#define VIGIL_ARCH_X86_64_CPU_H

#include <stdbool.h>
#include <stdint.h>

static inline void cpu_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t registers[4])
{
    __asm__ volatile("cpuid"
                     : "=a"(registers[0]), "=b"(registers[1]), "=c"(registers[2]), "=d"(registers[3])
                     : "a"(leaf), "c"(subleaf));
}

static inline uint64_t cpu_read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t cpu_read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t cpu_read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint64_t cpu_read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void cpu_write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static inline void cpu_write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }

static inline uint64_t cpu_read_tsc(void)
{
    uint32_t low, high;
    __asm__ volatile("rdtsc" : "=a"(low), "=d"(high));
    return ((uint64_t)high << 32) | low;
}

#ifdef VIGIL_HOST_TEST
/* Host unit tests provide it (as port_io.h's accessors): a fake that records the
 * halt and jumps back into the test (tests/unit/test_panic_policy.c). */
__attribute__((noreturn)) void cpu_halt_forever(void);
#else
static inline __attribute__((noreturn)) void cpu_halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}
#endif

/* rdmsr/wrmsr that survive the #GP an absent MSR raises (exception fixup table). */
bool cpu_read_msr_checked(uint32_t msr, uint64_t *value);
bool cpu_write_msr_checked(uint32_t msr, uint64_t value);

#endif
