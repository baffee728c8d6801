/*
 * hostile_cpu: a guest that attacks vigil through the CPU and the machine's
 * devices (issue 12). One attack per run, chosen by "attack=NAME" on the command
 * line; each prints "hostile: ok: ..." or "hostile: FAIL: ..." per check, then
 * "hostile: PASS" and powers off. The attacks that end the run (resets, power-off
 * paths) print what they try; the integration test checks that vigil saw it.
 *
 *   msr        sensitive MSRs: VMX, feature control, Intel PT, PMU, DEBUGCTL, APIC base
 *   cpuid      one logical CPU, MONITOR/MWAIT/PT/PMU hidden; MONITOR and MWAIT #UD; XSETBV;
 *              CR0.CD/NW as the guest set them
 *   x2apic-sipi / xapic-sipi   INIT-SIPI-SIPI to the second CPU (Bochs "--cpus 2"): the
 *              AP must never run (it would write a marker the BSP checks)
 *   com1-wide  OUTL/OUTW reaching into vigil's console UART from below
 *   pm1-wide   an OUTL below PM1a_CNT whose upper half is S5 + SLP_EN
 *   pci-pm-move  moving the PIIX4 PM I/O base through PCI configuration, then S5 there
 *   reset-cf9 / reset-kbc / reset-92   the reset ports
 */
#include <string.h>

#include "runtime/guest_runtime.h"

#include "drivers/acpi/acpi_power.h"
#include "lib/format.h"

#define MSR_APIC_BASE 0x1B
#define MSR_FEATURE_CONTROL 0x3A
#define MSR_DEBUGCTL 0x1D9
#define MSR_X2APIC_ICR 0x830
#define APIC_BASE_X2APIC (1u << 10)
#define XAPIC_ICR_LOW 0x300
#define XAPIC_ICR_HIGH 0x310
#define AP_MARKER_ADDRESS 0x7000u
#define AP_MARKER 0xBEEFu
#define AP_TRAMPOLINE 0x10000u  /* start-up vector 0x10 */
#define CR4_OSXSAVE (1u << 18)

static int failures;

static void check(bool ok, const char *what, const char *detail)
{
    if (ok) {
        guest_print("hostile: ok: %s\n", what);
    } else {
        guest_print("hostile: FAIL: %s (%s)\n", what, detail);
        failures++;
    }
}

static const char *fault_text(int vector, char *buffer, size_t size)
{
    if (vector == GUEST_NO_FAULT)
        format_string(buffer, size, "no fault");
    else
        format_string(buffer, size, "exception %d", vector);
    return buffer;
}

static void expect_gp_read(uint32_t msr, const char *what)
{
    char detail[64];
    uint64_t value = 0;
    int vector = guest_rdmsr(msr, &value);
    check(vector == GUEST_VECTOR_GP, what, fault_text(vector, detail, sizeof detail));
}

static void expect_gp_write(uint32_t msr, uint64_t value, const char *what)
{
    char detail[64];
    int vector = guest_wrmsr(msr, value);
    check(vector == GUEST_VECTOR_GP, what, fault_text(vector, detail, sizeof detail));
}

static inline void outb(uint16_t port, uint8_t value) { __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t value) { __asm__ volatile("outw %0, %1" : : "a"(value), "Nd"(port)); }
static inline uint32_t inl(uint16_t port)
{
    uint32_t value;
    __asm__ volatile("inl %1, %0" : "=a"(value) : "Nd"(port));
    return value;
}

static void attack_msr(void)
{
    expect_gp_read(0x480, "rdmsr IA32_VMX_BASIC raises #GP");
    expect_gp_read(0x48C, "rdmsr IA32_VMX_EPT_VPID_CAP raises #GP");
    expect_gp_write(MSR_FEATURE_CONTROL, 5, "wrmsr IA32_FEATURE_CONTROL raises #GP");
    expect_gp_read(0x560, "rdmsr IA32_RTIT_OUTPUT_BASE (Intel PT) raises #GP");
    expect_gp_write(0x570, 1, "wrmsr IA32_RTIT_CTL (Intel PT) raises #GP");
    expect_gp_write(0x38F, 1, "wrmsr IA32_PERF_GLOBAL_CTRL (PMU) raises #GP");
    expect_gp_write(0x186, 0x4300C0, "wrmsr IA32_PERFEVTSEL0 (PMU) raises #GP");
    expect_gp_read(0xC1, "rdmsr IA32_PMC0 (PMU) raises #GP");
    expect_gp_write(MSR_DEBUGCTL, 1u << 6, "wrmsr IA32_DEBUGCTL.TR/BTS raises #GP");
    expect_gp_write(0x9B, 1, "wrmsr IA32_SMM_MONITOR_CTL raises #GP");
    char detail[64];
    int vector = guest_wrmsr(MSR_DEBUGCTL, 2);
    check(vector == GUEST_NO_FAULT, "wrmsr IA32_DEBUGCTL.BTF accepted", fault_text(vector, detail, sizeof detail));
    guest_wrmsr(MSR_DEBUGCTL, 0);

    uint64_t base = 0, after = 0;
    guest_rdmsr(MSR_APIC_BASE, &base);
    vector = guest_wrmsr(MSR_APIC_BASE, (base & 0xFFFu) | 0x100000u); /* over vigil's image */
    guest_rdmsr(MSR_APIC_BASE, &after);
    char fault[32];
    format_string(detail, sizeof detail, "%s, base now 0x%llx", fault_text(vector, fault, sizeof fault),
                  (unsigned long long)after);
    check(vector == GUEST_VECTOR_GP && after == base, "moving the APIC base raises #GP, base unchanged", detail);
}

static void attack_cpuid(void)
{
    uint32_t r[4];
    char detail[64];
    guest_cpuid(1, 0, r);
    format_string(detail, sizeof detail, "EBX 0x%x ECX 0x%x", r[1], r[2]);
    check(((r[1] >> 16) & 0xFF) == 1, "CPUID.1:EBX one logical processor", detail);
    check(!(r[2] & (1u << 3)), "CPUID.1:ECX.MONITOR clear", detail);
    check(!(r[2] & (1u << 5)), "CPUID.1:ECX.VMX clear", detail);
    check(!(r[2] & (1u << 27)) == !(guest_read_cr4() & CR4_OSXSAVE), "CPUID.1:ECX.OSXSAVE is the guest's CR4", detail);
    guest_cpuid(7, 0, r);
    format_string(detail, sizeof detail, "EBX 0x%x", r[1]);
    check(!(r[1] & (1u << 25)), "CPUID.7:EBX Intel PT clear", detail);
    guest_cpuid(0xA, 0, r);
    format_string(detail, sizeof detail, "EAX 0x%x", r[0]);
    check(r[0] == 0, "CPUID.0xA: no PMU", detail);
    guest_cpuid(0xB, 0, r);
    format_string(detail, sizeof detail, "EBX 0x%x", r[1]);
    check((r[1] & 0xFFFF) == 1, "CPUID.0xB: one thread", detail);
    guest_cpuid(0xB, 1, r);
    format_string(detail, sizeof detail, "EBX 0x%x", r[1]);
    check((r[1] & 0xFFFF) == 1, "CPUID.0xB: one core", detail);

    uint32_t cr0;
    __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
    format_string(detail, sizeof detail, "CR0 0x%x", cr0);
    check(!(cr0 & (3u << 29)), "CR0.CD/NW clear, as the guest left them (caching on)", detail);

    static uint32_t monitored __attribute__((aligned(64)));
    guest_fault_vector = GUEST_NO_FAULT;
    __asm__ volatile("1: monitor\n2:\n" GUEST_FIXUP(1b, 2b) : : "a"(&monitored), "c"(0), "d"(0) : "memory");
    int vector = guest_fault_vector;
    check(vector == GUEST_VECTOR_UD, "MONITOR raises #UD", fault_text(vector, detail, sizeof detail));
    guest_fault_vector = GUEST_NO_FAULT;
    __asm__ volatile("1: mwait\n2:\n" GUEST_FIXUP(1b, 2b) : : "a"(0), "c"(0) : "memory");
    vector = guest_fault_vector;
    check(vector == GUEST_VECTOR_UD, "MWAIT raises #UD", fault_text(vector, detail, sizeof detail));

    guest_cpuid(1, 0, r);
    if (!(r[2] & (1u << 26))) {
        guest_print("hostile: skip: XSETBV (no XSAVE)\n");
        return;
    }
    guest_write_cr4(guest_read_cr4() | CR4_OSXSAVE);
    const struct { uint32_t ecx, eax; const char *what; } invalid[] = {
        { 0, 0x5, "XSETBV AVX without SSE raises #GP" },
        { 0, 0x2, "XSETBV without x87 raises #GP" },
        { 1, 0x1, "XSETBV to XCR1 raises #GP" },
    };
    for (unsigned i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        guest_fault_vector = GUEST_NO_FAULT;
        __asm__ volatile("1: xsetbv\n2:\n" GUEST_FIXUP(1b, 2b) : : "c"(invalid[i].ecx), "a"(invalid[i].eax), "d"(0)
                         : "memory");
        vector = guest_fault_vector;
        check(vector == GUEST_VECTOR_GP, invalid[i].what, fault_text(vector, detail, sizeof detail));
    }
}

/* A real-mode AP trampoline: mov ax, 0xBEEF; mov [0x7000], ax; cli; hlt; jmp $-2. */
static void place_trampoline(void)
{
    static const uint8_t code[] = { 0xB8, 0xEF, 0xBE, 0xA3, 0x00, 0x70, 0xFA, 0xF4, 0xEB, 0xFD };
    memcpy((void *)AP_TRAMPOLINE, code, sizeof code);
    *(volatile uint16_t *)AP_MARKER_ADDRESS = 0;
}

static void wait_a_while(void)
{
    uint64_t start = guest_rdtsc();
    while (guest_rdtsc() - start < 50000000ull) /* ~0.5 s of Bochs instructions */
        __asm__ volatile("pause");
}

static void report_ap(const char *how)
{
    uint16_t marker = *(volatile uint16_t *)AP_MARKER_ADDRESS;
    char detail[64];
    format_string(detail, sizeof detail, "marker 0x%x", marker);
    check(marker != AP_MARKER, how, detail);
}

static void attack_x2apic_sipi(void)
{
    place_trampoline();
    uint64_t base = 0;
    guest_rdmsr(MSR_APIC_BASE, &base);
    char detail[64];
    int vector = guest_wrmsr(MSR_APIC_BASE, base | APIC_BASE_X2APIC);
    check(vector == GUEST_NO_FAULT, "switching the APIC to x2APIC mode", fault_text(vector, detail, sizeof detail));
    const uint64_t ap = 1ull << 32;
    guest_wrmsr(MSR_X2APIC_ICR, ap | 0xC500);  /* INIT, level assert */
    wait_a_while();
    guest_wrmsr(MSR_X2APIC_ICR, ap | 0x8500);  /* INIT de-assert */
    guest_wrmsr(MSR_X2APIC_ICR, ap | 0x0600 | (AP_TRAMPOLINE >> 12));
    wait_a_while();
    guest_wrmsr(MSR_X2APIC_ICR, ap | 0x0600 | (AP_TRAMPOLINE >> 12));
    wait_a_while();
    report_ap("x2APIC INIT-SIPI-SIPI: the second CPU never ran");
}

static void xapic_icr(uint32_t high, uint32_t low)
{
    volatile uint32_t *apic = (volatile uint32_t *)0xFEE00000u;
    apic[XAPIC_ICR_HIGH / 4] = high;
    apic[XAPIC_ICR_LOW / 4] = low;
}

static void attack_xapic_sipi(void)
{
    place_trampoline();
    xapic_icr(1u << 24, 0xC500);
    wait_a_while();
    xapic_icr(1u << 24, 0x8500);
    xapic_icr(1u << 24, 0x0600 | (AP_TRAMPOLINE >> 12));
    wait_a_while();
    xapic_icr(1u << 24, 0x0600 | (AP_TRAMPOLINE >> 12));
    wait_a_while();
    report_ap("xAPIC INIT-SIPI-SIPI: the second CPU never ran");
}

static void attack_com1_wide(void)
{
    /* Bytes that would be "ATTACK" on vigil's console if they got through. */
    guest_outl(0x3F6, 0x54544141u);  /* 0x3F8 = 'T', 0x3F9 = 'T' (IER) */
    outw(0x3F7, 0x4141);             /* 0x3F8 = 'A' */
    check(true, "wide writes over COM1 done (vigil's log must show none of them)", "");
}

static void attack_pm1_wide(void)
{
    struct acpi_fadt_info fadt;
    const char *failure = acpi_read_fadt(0, &fadt);
    if (failure) {
        guest_print("hostile: FAIL: no FADT (%s)\n", failure);
        return;
    }
    uint16_t control = (uint16_t)fadt.pm1a_control_port;
    guest_print("hostile: OUTL 0x%x with S5 + SLP_EN in its upper half (PM1a_CNT 0x%x)\n", control - 2, control);
    guest_print_flush();
    /* SLP_TYP 5 is Bochs' S5 (its DSDT); SLP_EN = bit 13. */
    guest_outl((uint16_t)(control - 2), (uint32_t)((5u << 10) | (1u << 13)) << 16);
    guest_print("hostile: FAIL: still running after the S5 write\n");
}

static void attack_pci_pm_move(void)
{
    const uint32_t pmba = 0x80000B40u; /* bus 0, device 1, function 3, register 0x40 */
    guest_outl(0xCF8, 0x80000B00u);
    uint32_t id = inl(0xCFC);
    if (id != 0x71138086u) {
        guest_print("hostile: FAIL: no PIIX4 PM at 0:1.3 (id 0x%x)\n", id);
        return;
    }
    guest_outl(0xCF8, pmba);
    uint32_t before = inl(0xCFC);
    guest_outl(0xCFC, 0xC001u);        /* PM I/O at 0xC000 (Bochs BIOS: 0xB000) */
    guest_outl(0xCF8, 0x80000B80u);
    outb(0xCFC, 1);                    /* PMREGMISC: PM I/O enabled */
    guest_outl(0xCF8, pmba);
    uint32_t after = inl(0xCFC);
    char detail[64];
    format_string(detail, sizeof detail, "PMBA 0x%x -> 0x%x", before, after);
    check(after == before, "moving the PM I/O base is refused", detail);
    guest_print_flush();
    outw(0xC004, (uint16_t)((5u << 10) | (1u << 13))); /* S5 at the would-be new PM1a_CNT */
    check(true, "S5 at the would-be new PM1a_CNT did nothing", "");
}

static void attack_reset(const char *name)
{
    guest_print("hostile: resetting through %s\n", name);
    guest_print_flush();
    if (name[6] == 'c') /* reset-cf9 */
        outb(0xCF9, 0x06);
    else if (name[6] == 'k') /* reset-kbc */
        outb(0x64, 0xFE);
    else /* reset-92 */
        outb(0x92, 0x01);
    guest_print("hostile: FAIL: still running after the reset\n");
}

/* "attack=WORD" somewhere on the line, WORD ending at a space or the end. */
static bool word_is(const char *line, const char *word)
{
    size_t n = strlen(word);
    for (const char *at = line; *at; at++)
        if (memcmp(at, "attack=", 7) == 0 && memcmp(at + 7, word, n) == 0 && (at[7 + n] == 0 || at[7 + n] == ' '))
            return true;
    return false;
}

void guest_main(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    const char *line = guest_cmdline();
    static const char *const attacks[] = { "msr", "cpuid", "x2apic-sipi", "xapic-sipi", "com1-wide", "pm1-wide",
                                           "pci-pm-move", "reset-cf9", "reset-kbc", "reset-92" };
    const char *attack = 0;
    for (unsigned i = 0; i < sizeof attacks / sizeof attacks[0]; i++)
        if (word_is(line, attacks[i]))
            attack = attacks[i];
    if (!attack) {
        guest_print("hostile: FAIL: no attack=NAME on the command line '%s'\n", line);
        return;
    }
    guest_print("hostile: attack %s\n", attack);
    switch (attack[0]) {
    case 'm': attack_msr(); break;
    case 'x': attack[1] == '2' ? attack_x2apic_sipi() : attack_xapic_sipi(); break;
    case 'p': attack[1] == 'm' ? attack_pm1_wide() : attack_pci_pm_move(); break;
    case 'r': attack_reset(attack); break;
    default: attack[1] == 'p' ? attack_cpuid() : attack_com1_wide(); break;
    }
    if (failures == 0)
        guest_print("hostile: PASS\n");
    else
        guest_print("hostile: %d check(s) failed\n", failures);
}
