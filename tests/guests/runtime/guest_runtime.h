/*
 * The runtime of vigil's test guests: tiny freestanding programs booted as a
 * Multiboot1 ELF in 32-bit protected mode, paging off (tests/guests/).
 *
 * Serial console on COM2 (0x2F8): vigil passes it through; the hypervisor logs on COM1.
 * Faults: the runtime installs its own GDT and an IDT for the 32 exception vectors.
 * An instruction that is expected to fault is wrapped with GUEST_FIXUP (below):
 * the handler records the vector and resumes after the instruction. Any other
 * exception prints "guest: unexpected exception <vector> at eip 0x..." and powers off.
 */
#ifndef VIGIL_TESTS_GUESTS_GUEST_RUNTIME_H
#define VIGIL_TESTS_GUESTS_GUEST_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MULTIBOOT1_BOOTLOADER_MAGIC 0x2BADB002u

/* Multiboot1 information structure (Multiboot 0.6.96 §3.3), the fields used here. */
#define MULTIBOOT1_INFO_CMDLINE (1u << 2)
#define MULTIBOOT1_INFO_MEMORY_MAP (1u << 6)
struct multiboot1_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper;
    uint32_t boot_device;
    uint32_t cmdline;
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr;
} __attribute__((packed));

struct multiboot1_mmap_entry {
    uint32_t size; /* of the rest of the entry, not counting this field */
    uint64_t base_addr;
    uint64_t length;
    uint32_t type; /* 1 = available RAM */
} __attribute__((packed));

/* The program: called by entry.S with the loader's EAX and EBX. Returning powers off. */
void guest_main(uint32_t magic, uint32_t info);

/* Called by entry.S before guest_main: COM2, GDT, IDT, Multiboot info. */
void guest_runtime_init(uint32_t magic, uint32_t info);

/* Multiboot1 info as passed by the loader (0 if EAX did not hold the magic). */
const struct multiboot1_info *guest_multiboot_info(void);

/* printf-style output to COM2 ("\n" becomes "\r\n"); see lib/format.h for the conversions. */
void guest_print(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* Waits until COM2 has sent every byte (before the guest stops the machine). */
void guest_print_flush(void);

/* The Multiboot1 command line, "" if the loader passed none. */
const char *guest_cmdline(void);
/* Value of the first "name=N" word on the command line (decimal, or hex with 0x);
 * fallback if absent or not a number. */
uint64_t guest_cmdline_number(const char *name, uint64_t fallback);

/* ACPI S5 through the FADT/DSDT, then Bochs' port 0x8900, then QEMU's
 * isa-debug-exit (0xf4), then cli; hlt forever. Prints "guest: power off" first. */
__attribute__((noreturn)) void guest_power_off(void);

/* --- faults ------------------------------------------------------------------ */

#define GUEST_NO_FAULT (-1)
#define GUEST_VECTOR_UD 6
#define GUEST_VECTOR_GP 13

/* Set by the exception handler when an instruction with a fixup entry faulted. */
extern volatile int guest_fault_vector;
extern volatile uint32_t guest_fault_error_code;

/*
 * Inside an asm statement: "1:" labels the instruction that may fault and "2:" the
 * point to resume at. Write the asm as
 *     guest_fault_vector = GUEST_NO_FAULT;
 *     __asm__ volatile("1: <insn>\n2:\n" GUEST_FIXUP(1b, 2b) : ... : "memory");
 *     if (guest_fault_vector != GUEST_NO_FAULT) ... faulted ...
 * (or use the helpers below). Output registers hold garbage after a fault.
 */
#define GUEST_FIXUP(fault_label, resume_label)                                                                         \
    ".pushsection .guest_fixup, \"a\"\n\t.balign 4\n\t.long " #fault_label ", " #resume_label "\n\t.popsection\n\t"

struct guest_fixup_entry {
    uint32_t fault_eip;
    uint32_t resume_eip;
};

/* Each returns GUEST_NO_FAULT or the exception vector the instruction raised. */
int guest_rdmsr(uint32_t msr, uint64_t *value);
int guest_wrmsr(uint32_t msr, uint64_t value);
int guest_write_cr4(uint32_t value);
int guest_vmxon(uint64_t physical_address_of_region);
int guest_vmcall_checked(uint32_t number, uint32_t argument, uint32_t *result);

/* --- plain instructions ---------------------------------------------------- */

static inline void guest_cpuid(uint32_t leaf, uint32_t subleaf, uint32_t regs[4])
{
    __asm__ volatile("cpuid" : "=a"(regs[0]), "=b"(regs[1]), "=c"(regs[2]), "=d"(regs[3]) : "a"(leaf), "c"(subleaf));
}

static inline uint64_t guest_rdtsc(void)
{
    uint32_t low, high;
    __asm__ volatile("rdtsc" : "=a"(low), "=d"(high));
    return ((uint64_t)high << 32) | low;
}

static inline uint32_t guest_read_cr4(void)
{
    uint32_t value;
    __asm__ volatile("mov %%cr4, %0" : "=r"(value));
    return value;
}

/* VMCALL with EAX = number, EBX = argument; returns EAX. A fault (#UD without a
 * hypervisor) is unexpected here: use guest_vmcall_checked to survive it. */
static inline uint32_t guest_vmcall(uint32_t number, uint32_t argument)
{
    uint32_t result;
    __asm__ volatile("vmcall" : "=a"(result) : "a"(number), "b"(argument) : "memory");
    return result;
}

static inline void guest_outl(uint16_t port, uint32_t value)
{
    __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

#endif
