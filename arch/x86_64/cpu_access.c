/*
 * Checked MSR access and the cpu_access implementation the VT-x probe uses on real
 * hardware. An rdmsr/wrmsr of an MSR the CPU lacks raises #GP (SDM Vol. 4 §1.1;
 * Bochs does the same with ignore_bad_msrs=0): each instruction here has an entry
 * in the .exception_fixup table, and exception_dispatch resumes at its recovery
 * label instead of panicking.
 */
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/cpu_access.h"

bool cpu_read_msr_checked(uint32_t msr, uint64_t *value)
{
    uint32_t low = 0, high = 0;
    uint8_t succeeded;
    __asm__ volatile("1: rdmsr\n\t"
                     "movb $1, %2\n\t"
                     "jmp 3f\n"
                     "2: movb $0, %2\n"
                     "3:\n\t"
                     ".pushsection .exception_fixup, \"a\"\n\t"
                     ".balign 8\n\t"
                     ".quad 1b, 2b\n\t"
                     ".popsection"
                     : "+a"(low), "+d"(high), "=r"(succeeded)
                     : "c"(msr));
    *value = ((uint64_t)high << 32) | low;
    return succeeded != 0;
}

bool cpu_write_msr_checked(uint32_t msr, uint64_t value)
{
    uint8_t succeeded;
    __asm__ volatile("1: wrmsr\n\t"
                     "movb $1, %0\n\t"
                     "jmp 3f\n"
                     "2: movb $0, %0\n"
                     "3:\n\t"
                     ".pushsection .exception_fixup, \"a\"\n\t"
                     ".balign 8\n\t"
                     ".quad 1b, 2b\n\t"
                     ".popsection"
                     : "=r"(succeeded)
                     : "c"(msr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32))
                     : "memory");
    return succeeded != 0;
}

static void hardware_cpuid(void *context, uint32_t leaf, uint32_t subleaf, uint32_t registers[4])
{
    (void)context;
    cpu_cpuid(leaf, subleaf, registers);
}

static bool hardware_read_msr(void *context, uint32_t msr, uint64_t *value)
{
    (void)context;
    return cpu_read_msr_checked(msr, value);
}

static bool hardware_write_msr(void *context, uint32_t msr, uint64_t value)
{
    (void)context;
    return cpu_write_msr_checked(msr, value);
}

const struct cpu_access cpu_hardware_access = {
    .cpuid = hardware_cpuid,
    .read_msr = hardware_read_msr,
    .write_msr = hardware_write_msr,
    .context = 0,
};
