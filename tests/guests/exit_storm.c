/*
 * exit_storm: times N round trips of each exiting instruction — VMCALL PING, an
 * OUT to the doorbell port, CPUID leaf 0 — against a loop of N iterations that
 * exits nothing. Command line: rounds=N (default 10000).
 * Without vigil, VMCALL raises #UD: that loop then times the guest's own #UD
 * handling and its line says so.
 */
#include "runtime/guest_runtime.h"

#include "vigil/abi.h"

#define DEFAULT_ROUNDS 10000u
#define MAX_ROUNDS 100000000u

static void report(const char *kind, uint32_t rounds, uint64_t cycles, const char *note)
{
    guest_print("exit-storm: %s rounds=%u cycles=%llu per-round=%llu%s\n", kind, (unsigned)rounds,
                (unsigned long long)cycles, (unsigned long long)(rounds ? cycles / rounds : 0), note);
}

void guest_main(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    uint64_t requested = guest_cmdline_number("rounds", DEFAULT_ROUNDS);
    if (requested == 0 || requested > MAX_ROUNDS) {
        guest_print("exit-storm: rounds=%llu out of range 1..%u; using %u\n", (unsigned long long)requested,
                    MAX_ROUNDS, DEFAULT_ROUNDS);
        requested = DEFAULT_ROUNDS;
    }
    uint32_t rounds = (uint32_t)requested;
    guest_print("exit-storm: starting, rounds=%u\n", (unsigned)rounds);

    /* VMCALL PING. Probe once: without a hypervisor VMCALL raises #UD. */
    uint32_t result = 0;
    int vector = guest_vmcall_checked(VIGIL_HYPERCALL_PING, 41, &result);
    uint64_t start, end;
    if (vector == GUEST_NO_FAULT) {
        if (result != 42)
            guest_print("exit-storm: warning: PING(41) returned 0x%x\n", (unsigned)result);
        start = guest_rdtsc();
        for (uint32_t i = 0; i < rounds; i++)
            (void)guest_vmcall(VIGIL_HYPERCALL_PING, i);
        end = guest_rdtsc();
        report("vmcall", rounds, end - start, "");
    } else {
        start = guest_rdtsc();
        for (uint32_t i = 0; i < rounds; i++)
            (void)guest_vmcall_checked(VIGIL_HYPERCALL_PING, i, &result);
        end = guest_rdtsc();
        report("vmcall", rounds, end - start, vector == GUEST_VECTOR_UD ? " (faulted: #UD each round, no hypervisor)"
                                                                        : " (faulted each round)");
    }

    start = guest_rdtsc();
    for (uint32_t i = 0; i < rounds; i++)
        guest_outl(VIGIL_DOORBELL_PORT, i);
    end = guest_rdtsc();
    report("doorbell", rounds, end - start, "");

    uint32_t regs[4];
    start = guest_rdtsc();
    for (uint32_t i = 0; i < rounds; i++)
        guest_cpuid(0, 0, regs);
    end = guest_rdtsc();
    report("cpuid", rounds, end - start, "");

    uint32_t sum = 0;
    start = guest_rdtsc();
    for (uint32_t i = 0; i < rounds; i++)
        __asm__ volatile("addl %1, %0" : "+r"(sum) : "r"(i));
    end = guest_rdtsc();
    report("baseline", rounds, end - start, "");

    guest_print("exit-storm: done\n");
}
