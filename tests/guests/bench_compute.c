/*
 * bench_compute (tools/bench): a compute-bound loop that causes no VM exit, timed
 * with the TSC; booted bare (tools/run-bochs --no-hypervisor) and under vigil in
 * the same bench run, so the ratio is the guest's slowdown under vigil (the
 * preemption-timer ticks and whatever else exits meanwhile).
 *
 * Command line: iterations=N (default 20000000). Prints (COM2, flushed, so the
 * bench tool can also take the wall clock when each line appears):
 *   bench-compute: start
 *   bench-compute: iterations=N cycles=C checksum=X
 * then powers off.
 */
#include "runtime/guest_runtime.h"

#define DEFAULT_ITERATIONS 20000000u

void guest_main(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    uint32_t iterations = (uint32_t)guest_cmdline_number("iterations", DEFAULT_ITERATIONS);
    guest_print("bench-compute: start\n");
    guest_print_flush();
    uint32_t x = 0x12345678u, sum = 0;
    uint64_t start = guest_rdtsc();
    for (uint32_t i = 0; i < iterations; i++) { /* xorshift32: registers only */
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        sum += x;
    }
    uint64_t end = guest_rdtsc();
    guest_print("bench-compute: iterations=%u cycles=%llu checksum=0x%08x\n", (unsigned)iterations,
                (unsigned long long)(end - start), (unsigned)sum);
    guest_print_flush();
}
