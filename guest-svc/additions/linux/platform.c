/*
 * The Additions library's platform on Linux user space (root):
 *  - CPUID is unprivileged;
 *  - the shared region and the Additions package are guest-physical memory that
 *    vigil reserves in the e820 map, so /dev/mem maps them even with
 *    STRICT_DEVMEM (which refuses only System RAM and busy resources);
 *  - the doorbell port 0x5647 is above the 0x400 ports ioperm() reaches, so the
 *    daemon takes iopl(3) (emulated by Linux 6.x through the I/O bitmap);
 *  - the TSC is readable at CPL 3 (CR4.TSD clear).
 */
#define _GNU_SOURCE
#include "daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static int memory_fd = -1, memory_read_only_fd = -1;

static void platform_cpuid(void *context, uint32_t leaf, uint32_t subleaf, uint32_t r[4])
{
    (void)context;
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(subleaf));
}

static volatile void *platform_map(void *context, uint64_t address, size_t size, bool writable)
{
    (void)context;
    long page = sysconf(_SC_PAGESIZE);
    uint64_t base = address & ~(uint64_t)(page - 1);
    size_t length = size + (size_t)(address - base);
    int fd = writable ? memory_fd : memory_read_only_fd;
    void *mapping = mmap(NULL, length, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, fd, (off_t)base);
    if (mapping == MAP_FAILED) {
        daemon_log("mmap of /dev/mem at 0x%llx (%zu bytes) failed: %s", (unsigned long long)address, size,
                   strerror(errno));
        return NULL;
    }
    return (volatile uint8_t *)mapping + (address - base);
}

static void platform_doorbell(void *context, uint16_t port)
{
    (void)context;
    outb(VIGIL_DOORBELL_RING, port);
}

static uint64_t platform_tsc(void *context)
{
    (void)context;
    uint32_t low, high;
    __asm__ volatile("rdtsc" : "=a"(low), "=d"(high));
    return (uint64_t)high << 32 | low;
}

static void platform_wait_ms(void *context, uint32_t milliseconds)
{
    (void)context;
    struct timespec duration = { milliseconds / 1000, (long)(milliseconds % 1000) * 1000000L };
    while (nanosleep(&duration, &duration) != 0 && errno == EINTR)
        ;
}

bool linux_platform_init(struct vigil_additions_platform *platform)
{
    memory_fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
    memory_read_only_fd = open("/dev/mem", O_RDONLY | O_CLOEXEC);
    if (memory_fd < 0 || memory_read_only_fd < 0) {
        daemon_log("cannot open /dev/mem: %s", strerror(errno));
        return false;
    }
    if (iopl(3) != 0) {
        daemon_log("iopl(3) for the doorbell port failed: %s", strerror(errno));
        return false;
    }
    *platform = (struct vigil_additions_platform){
        .context = NULL,
        .cpuid = platform_cpuid,
        .map_physical = platform_map,
        .doorbell = platform_doorbell,
        .read_tsc = platform_tsc,
        .wait_ms = platform_wait_ms,
    };
    return true;
}
