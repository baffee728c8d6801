/* The bare x86 platform of the Additions library: see additions.h. */
#include "guest-svc/additions/additions.h"

/* ---- the bare x86 platform --------------------------------------------------------- */

#if defined(__i386__) || defined(__x86_64__)
static void bare_cpuid(void *context, uint32_t leaf, uint32_t subleaf, uint32_t registers[4])
{
    (void)context;
    __asm__ volatile("cpuid"
                     : "=a"(registers[0]), "=b"(registers[1]), "=c"(registers[2]), "=d"(registers[3])
                     : "a"(leaf), "c"(subleaf));
}

static volatile void *bare_map_physical(void *context, uint64_t address, size_t size, bool writable)
{
    (void)context;
    (void)writable;
    if (address == 0 || size == 0 || address > (uint64_t)UINTPTR_MAX || size - 1 > (uint64_t)UINTPTR_MAX - address)
        return NULL;
    uintptr_t pointer = (uintptr_t)address;
    __asm__("" : "+r"(pointer)); /* hide the constant address from gcc's object-bounds analysis */
    return (volatile void *)pointer;
}

static void bare_doorbell(void *context, uint16_t port)
{
    (void)context;
    __asm__ volatile("outb %0, %1" : : "a"((uint8_t)VIGIL_DOORBELL_RING), "Nd"(port) : "memory");
}

static uint64_t bare_read_tsc(void *context)
{
    (void)context;
    uint32_t low, high;
    __asm__ volatile("rdtsc" : "=a"(low), "=d"(high));
    return ((uint64_t)high << 32) | low;
}

void vigil_additions_bare_platform(struct vigil_additions_platform *platform)
{
    *platform = (struct vigil_additions_platform){
        .context = NULL,
        .cpuid = bare_cpuid,
        .map_physical = bare_map_physical,
        .doorbell = bare_doorbell,
        .read_tsc = bare_read_tsc,
        .wait_ms = NULL,
    };
}
#endif
