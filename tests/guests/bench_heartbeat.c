/*
 * bench_heartbeat (tools/bench): the cost of one heartbeat in three designs, side
 * by side in one run with the same beat count, and the cost of a VMCALL and a
 * CPUID round trip (dispatch overhead).
 *
 *   store     vigil's design: vigil_additions_beat(), the Additions library's
 *             64-bit update of the shared status page's counter (on i386 one
 *             LOCK CMPXCHG8B; x86-64: one MOV). No VM exit.
 *   port      one OUT per beat to a port vigil intercepts (the console UART's
 *             scratch register, 0x3FF: vigil drops the write and counts it — the
 *             least any port-I/O heartbeat handler does; VMware's backdoor and
 *             VirtualBox's VMMDev heartbeat do more per exit).
 *   hypercall one VMCALL per beat (PING: the hypervisor returns counter + 1 — the
 *             least a hypercall heartbeat does; like a VMBus heartbeat message).
 *
 * Exits come from vigil's own counters through VMCALL VIGIL_HYPERCALL_EXIT_COUNT:
 * a snapshot (total, vmcall, io, cpuid, preemption timer) before and after each
 * phase. A snapshot is SNAPSHOT_READS VMCALLs; between the "before" read of a
 * counter and its "after" read exactly SNAPSHOT_READS of them happen, so the
 * total and vmcall deltas include that many measurement exits (printed as
 * measurement=N; tools/bench subtracts them). Cycles: the guest TSC around the
 * beat loop only (Bochs: one tick per emulated instruction, the hypervisor's
 * included while it handles an exit).
 *
 * Command line: beats=N (default 100000: one unmeasured warm-up beat, N - 1 measured), rounds=N for the dispatch loops
 * (default = beats), dispatch_only=1 (only the VMCALL/CPUID loops, no discovery,
 * no counters: for build/bench/vigil-empty-dispatch.elf, whose VMCALL does
 * nothing). One "bench-beat: ..." line per phase on COM2.
 */
#include "runtime/guest_runtime.h"

#include "guest-svc/additions/additions.h"

#define DEFAULT_BEATS 100000u
#define MAX_BEATS 50000000u
#define PORT_HEARTBEAT_PORT 0x3FFu /* COM1 + 7 (scratch), vigil's console UART: intercepted */
#define EXIT_REASON_CPUID 10u
#define EXIT_REASON_VMCALL 18u
#define EXIT_REASON_IO 30u
#define EXIT_REASON_PREEMPTION_TIMER 52u
#define SNAPSHOT_READS 5u

static struct vigil_additions additions;

struct snapshot {
    uint64_t total, vmcall, io, cpuid, timer;
};

static uint64_t exit_count(uint32_t reason)
{
    uint32_t low, high;
    __asm__ volatile("vmcall" : "=a"(low), "=d"(high) : "a"(VIGIL_HYPERCALL_EXIT_COUNT), "b"(reason) : "memory");
    return ((uint64_t)high << 32) | low;
}

static void take(struct snapshot *s)
{
    s->total = exit_count(VIGIL_EXIT_COUNT_TOTAL);
    s->vmcall = exit_count(EXIT_REASON_VMCALL);
    s->io = exit_count(EXIT_REASON_IO);
    s->cpuid = exit_count(EXIT_REASON_CPUID);
    s->timer = exit_count(EXIT_REASON_PREEMPTION_TIMER);
}

static void report(const char *design, uint32_t beats, uint64_t cycles, const struct snapshot *before,
                   const struct snapshot *after)
{
    guest_print("bench-beat: design=%s beats=%u cycles=%llu exits_total=%llu exits_vmcall=%llu exits_io=%llu "
                "exits_cpuid=%llu exits_timer=%llu measurement=%u\n",
                design, (unsigned)beats, (unsigned long long)cycles,
                (unsigned long long)(after->total - before->total), (unsigned long long)(after->vmcall - before->vmcall),
                (unsigned long long)(after->io - before->io), (unsigned long long)(after->cpuid - before->cpuid),
                (unsigned long long)(after->timer - before->timer), SNAPSHOT_READS);
}

static void dispatch_loops(uint32_t rounds)
{
    uint64_t start = guest_rdtsc();
    for (uint32_t i = 0; i < rounds; i++)
        (void)guest_vmcall(VIGIL_HYPERCALL_PING, i);
    uint64_t end = guest_rdtsc();
    guest_print("bench-beat: dispatch=vmcall rounds=%u cycles=%llu\n", (unsigned)rounds,
                (unsigned long long)(end - start));

    uint32_t regs[4];
    start = guest_rdtsc();
    for (uint32_t i = 0; i < rounds; i++)
        guest_cpuid(VIGIL_CPUID_LEAF_SIGNATURE, 0, regs);
    end = guest_rdtsc();
    guest_print("bench-beat: dispatch=cpuid rounds=%u cycles=%llu\n", (unsigned)rounds,
                (unsigned long long)(end - start));

    uint32_t sum = 0;
    start = guest_rdtsc();
    for (uint32_t i = 0; i < rounds; i++)
        __asm__ volatile("addl %1, %0" : "+r"(sum) : "r"(i));
    end = guest_rdtsc();
    guest_print("bench-beat: dispatch=none rounds=%u cycles=%llu\n", (unsigned)rounds,
                (unsigned long long)(end - start));
}

void guest_main(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    uint64_t entered = guest_rdtsc();
    uint64_t requested = guest_cmdline_number("beats", DEFAULT_BEATS);
    if (requested < 2 || requested > MAX_BEATS) {
        guest_print("bench-beat: beats=%llu out of range 2..%u\n", (unsigned long long)requested, MAX_BEATS);
        return;
    }
    uint32_t beats = (uint32_t)requested;
    uint64_t rounds = guest_cmdline_number("rounds", beats);
    if (rounds == 0 || rounds > MAX_BEATS)
        rounds = beats;
    guest_print("bench-beat: entered at TSC %llu\n", (unsigned long long)entered);

    if (guest_cmdline_number("dispatch_only", 0)) {
        dispatch_loops((uint32_t)rounds);
        guest_print("bench-beat: done\n");
        return;
    }

    struct vigil_additions_platform platform;
    vigil_additions_bare_platform(&platform);
    enum vigil_additions_error error = vigil_additions_discover(&additions, &platform);
    if (error != VIGIL_ADDITIONS_OK) {
        guest_print("bench-beat: FAIL: no vigil: %s\n", vigil_additions_error_string(error));
        return;
    }
    /* Not registered on purpose: the hypervisor would report the burst of beats as
     * counter anomalies. The store is the same either way. */
    struct snapshot before, after;
    uint64_t start, end;

    /* Each design beats once before its measured loop, outside it: one-time costs
     * (vigil logs the first access to its console UART once) stay out of the loop. */
    vigil_additions_beat(&additions);
    take(&before);
    start = guest_rdtsc();
    for (uint32_t i = 1; i < beats; i++)
        vigil_additions_beat(&additions);
    end = guest_rdtsc();
    take(&after);
    report("store", beats - 1, end - start, &before, &after);
    if (additions.status->heartbeat_counter != beats)
        guest_print("bench-beat: FAIL: the status page counter is %llu, not %u\n",
                    (unsigned long long)additions.status->heartbeat_counter, (unsigned)beats);

    __asm__ volatile("outb %b0, %w1" : : "a"((uint8_t)0), "Nd"((uint16_t)PORT_HEARTBEAT_PORT) : "memory");
    take(&before);
    start = guest_rdtsc();
    for (uint32_t i = 1; i < beats; i++)
        __asm__ volatile("outb %b0, %w1" : : "a"((uint8_t)i), "Nd"((uint16_t)PORT_HEARTBEAT_PORT) : "memory");
    end = guest_rdtsc();
    take(&after);
    report("port", beats - 1, end - start, &before, &after);

    uint32_t counter = guest_vmcall(VIGIL_HYPERCALL_PING, 0);
    take(&before);
    start = guest_rdtsc();
    for (uint32_t i = 1; i < beats; i++)
        counter = guest_vmcall(VIGIL_HYPERCALL_PING, counter);
    end = guest_rdtsc();
    take(&after);
    report("hypercall", beats - 1, end - start, &before, &after);
    if (counter != beats)
        guest_print("bench-beat: FAIL: the hypercall counter is %u, not %u\n", (unsigned)counter, (unsigned)beats);

    dispatch_loops((uint32_t)rounds);
    guest_print("bench-beat: done\n");
}
