/*
 * The MSR table: every MSR the guest may reach, with why that is safe. An MSR not
 * listed reads and writes as #GP (default deny, as ACRN's vmsr.c does). Decided:
 *  - the PMU is not offered (CPUID leaf 0xA reads 0, PDCM/DS hidden; its MSRs #GP):
 *    counters and PEBS/BTS buffers would act on the real machine and raise PMIs in
 *    vigil;
 *  - Intel PT is not offered (CPUID 7:EBX[25] and leaf 0x14 hidden, MSRs 0x560-0x58x
 *    #GP, XSS bit 8 refused): PT output regions are host-physical addresses;
 *  - DEBUGCTL is the VMCS field (loaded on entry, cleared on exit, SDM Vol. 3C
 *    §28.5.1); the guest may set LBR and BTF only.
 */
#include "hv/msr_policy.h"

#include <string.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/msr.h"
#include "arch/x86_64/vmx.h"
#include "hv/apic_filter.h"
#include "lib/format.h"
#include "hv/log.h"
#include "hv/vcpu.h"

#define MSR_IA32_TSC 0x10
#define MSR_IA32_APIC_BASE 0x1B
#define MSR_IA32_TSC_ADJUST 0x3B
#define MSR_IA32_DEBUGCTL 0x1D9
#define MSR_IA32_TSC_DEADLINE 0x6E0
#define MSR_IA32_XSS 0xDA0
#define MSR_IA32_MISC_ENABLE 0x1A0
/* SDM Vol. 4 Table 2-2: bit 0 fast strings, 11 BTS unavailable, 12 PEBS unavailable. */
#define MISC_ENABLE_DEFAULT 0x1801ull
#define MSR_X2APIC_ICR 0x830

#define APIC_BASE_BSP (1ull << 8)
#define APIC_BASE_X2APIC (1ull << 10)
#define APIC_BASE_ENABLE (1ull << 11)
#define DEBUGCTL_GUEST_BITS 0x3ull /* LBR, BTF */
#define XSS_PT (1ull << 8)

static const struct msr_policy_entry table[] = {
    { 0x10, 0x10, MSR_PASS, MSR_VIRTUAL, "TSC: reads add the VMCS TSC offset in hardware; writes move the offset" },
    { 0x17, 0x17, MSR_PASS, MSR_DENY, "platform ID: read-only information" },
    { 0x1B, 0x1B, MSR_PASS, MSR_VIRTUAL, "APIC base: x2APIC/enable changes allowed, relocation refused" },
    { 0x3A, 0x3A, MSR_VIRTUAL, MSR_DENY, "feature control: reads as locked with VMX off" },
    { 0x3B, 0x3B, MSR_VIRTUAL, MSR_VIRTUAL, "TSC adjust: a per-guest value folded into the TSC offset" },
    { 0x48, 0x49, MSR_PASS, MSR_PASS, "SPEC_CTRL/PRED_CMD: this CPU's speculation controls, the guest kernel's to set" },
    { 0x79, 0x79, MSR_DENY, MSR_IGNORE, "microcode update trigger: changes the real machine" },
    { 0x8B, 0x8B, MSR_PASS, MSR_PASS, "microcode revision: read (after writing 0) as on hardware" },
    { 0xCE, 0xCE, MSR_PASS, MSR_DENY, "platform info: read-only information" },
    { 0xE7, 0xE8, MSR_PASS, MSR_IGNORE, "MPERF/APERF: read-only for the guest" },
    { 0xFE, 0xFE, MSR_PASS, MSR_DENY, "MTRR capabilities: read-only" },
    { 0x10A, 0x10A, MSR_PASS, MSR_DENY, "architecture capabilities: read-only" },
    { 0x10B, 0x10B, MSR_PASS, MSR_PASS, "L1D flush command: a cache flush, no state" },
    { 0x174, 0x176, MSR_PASS, MSR_PASS, "SYSENTER CS/ESP/EIP: VMCS guest fields, host values loaded on exit" },
    { 0x179, 0x17B, MSR_PASS, MSR_IGNORE, "machine-check global registers: the machine's, read-only for the guest" },
    { 0x198, 0x198, MSR_PASS, MSR_DENY, "performance status: read-only" },
    { 0x199, 0x199, MSR_PASS, MSR_IGNORE, "performance control: machine-wide frequency" },
    { 0x19A, 0x19C, MSR_PASS, MSR_IGNORE, "thermal control and status: machine-wide" },
    { 0x1A0, 0x1A0, MSR_VIRTUAL, MSR_IGNORE,
      "misc enable: machine-wide features (MONITOR among them); reads emulated where the CPU lacks it" },
    { 0x1A2, 0x1A2, MSR_PASS, MSR_DENY, "temperature target: read-only" },
    { 0x1B0, 0x1B0, MSR_PASS, MSR_IGNORE, "energy/performance bias: machine-wide" },
    { 0x1D9, 0x1D9, MSR_VIRTUAL, MSR_VIRTUAL, "DEBUGCTL: the VMCS guest field; LBR and BTF only" },
    { 0x200, 0x21F, MSR_PASS, MSR_IGNORE, "variable MTRRs: memory types of the real machine" },
    { 0x250, 0x250, MSR_PASS, MSR_IGNORE, "fixed MTRR" },
    { 0x258, 0x259, MSR_PASS, MSR_IGNORE, "fixed MTRRs" },
    { 0x268, 0x26F, MSR_PASS, MSR_IGNORE, "fixed MTRRs" },
    { 0x277, 0x277, MSR_PASS, MSR_PASS, "PAT: loaded and saved by the VMCS (required controls)" },
    { 0x280, 0x29F, MSR_PASS, MSR_IGNORE, "machine-check bank CTL2: the machine's" },
    { 0x2FF, 0x2FF, MSR_PASS, MSR_IGNORE, "MTRR default type" },
    { 0x400, 0x47F, MSR_PASS, MSR_IGNORE, "machine-check banks: the machine's, read-only for the guest" },
    { 0x6E0, 0x6E0, MSR_PASS, MSR_PASS, "TSC deadline: the guest's APIC timer; exits only while the TSC offset is not 0" },
    { 0x800, 0x82F, MSR_PASS, MSR_PASS, "x2APIC registers of this CPU's own APIC (ID, TPR, EOI, ISR/TMR/IRR, LVT CMCI)" },
    { 0x830, 0x830, MSR_PASS, MSR_VIRTUAL, "x2APIC ICR: every IPI inspected (hv/apic_filter.c)" },
    { 0x831, 0x8FF, MSR_PASS, MSR_PASS, "x2APIC LVTs, timer, self-IPI: reach this CPU only" },
    { 0xDA0, 0xDA0, MSR_PASS, MSR_VIRTUAL, "XSS: only supervisor states CPUID reports, never Intel PT" },
    { 0xC0000080, 0xC0000080, MSR_PASS, MSR_PASS, "EFER: loaded and saved by the VMCS; the CPU checks LME/LMA" },
    { 0xC0000081, 0xC0000084, MSR_PASS, MSR_PASS, "STAR/LSTAR/CSTAR/FMASK: used only by SYSCALL, which vigil never runs" },
    { 0xC0000100, 0xC0000101, MSR_PASS, MSR_PASS, "FS/GS base: VMCS guest fields, host values loaded on exit" },
    { 0xC0000102, 0xC0000102, MSR_PASS, MSR_PASS, "kernel GS base: used only by SWAPGS, which vigil never runs" },
    { 0xC0000103, 0xC0000103, MSR_PASS, MSR_PASS, "TSC_AUX: read only by RDTSCP/RDPID, which vigil never runs" },
};

static struct {
    uint8_t *bitmap;
    uint64_t tsc_offset;
    uint64_t tsc_adjust;
    bool tsc_adjust_present;
} guest;

static struct msr_statistics statistics;

const struct msr_policy_entry *msr_policy_lookup(uint32_t msr)
{
    for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++)
        if (msr >= table[i].first && msr <= table[i].last)
            return &table[i];
    return 0;
}

/* Bitmap layout (SDM Vol. 3C §25.6.9): read low, read high, write low, write high,
 * 1 KiB each; low = 0-0x1FFF, high = 0xC0000000-0xC0001FFF. */
static void set_intercept(uint8_t *bitmap, uint32_t msr, bool is_write, bool intercept)
{
    unsigned offset;
    if (msr <= 0x1FFF)
        offset = 0;
    else if (msr >= 0xC0000000 && msr <= 0xC0001FFF)
        offset = 1024;
    else
        return; /* always exits (SDM Vol. 3C §26.1.3) */
    offset += is_write ? 2048 : 0;
    unsigned bit = msr & 0x1FFF;
    if (intercept)
        bitmap[offset + bit / 8] |= (uint8_t)(1u << (bit % 8));
    else
        bitmap[offset + bit / 8] &= (uint8_t)~(1u << (bit % 8));
}

void msr_policy_build_bitmap(uint8_t *bitmap)
{
    memset(bitmap, 0xFF, MSR_BITMAP_SIZE);
    for (unsigned i = 0; i < sizeof table / sizeof table[0]; i++) {
        for (uint32_t msr = table[i].first; msr <= table[i].last; msr++) {
            set_intercept(bitmap, msr, false, table[i].read != MSR_PASS);
            set_intercept(bitmap, msr, true, table[i].write != MSR_PASS);
        }
    }
}

void msr_policy_start(uint8_t *bitmap)
{
    memset(&guest, 0, sizeof guest);
    memset(&statistics, 0, sizeof statistics);
    guest.bitmap = bitmap;
    guest.tsc_adjust_present = cpu_read_msr_checked(MSR_IA32_TSC_ADJUST, &guest.tsc_adjust);
}

uint64_t msr_policy_tsc_offset(void) { return guest.tsc_offset; }

const struct msr_statistics *msr_policy_statistics(void) { return &statistics; }

static struct msr_counter *counter_for(uint32_t msr)
{
    for (unsigned i = 0; i < statistics.used; i++)
        if (statistics.slots[i].msr == msr)
            return &statistics.slots[i];
    if (statistics.used == MSR_COUNTER_SLOTS)
        return 0;
    struct msr_counter *slot = &statistics.slots[statistics.used++];
    slot->msr = msr;
    return slot;
}

static void count(uint32_t msr, bool is_write, bool refused)
{
    struct msr_counter *c = counter_for(msr);
    if (!c) {
        statistics.others++;
        return;
    }
    if (is_write)
        c->writes++;
    else
        c->reads++;
    if (refused)
        c->refused++;
}

void msr_policy_print_statistics(void)
{
    if (statistics.used == 0)
        return;
    char line[640];
    size_t used = 0;
    int n = format_string(line, sizeof line, "vigil: msr exits:");
    for (unsigned i = 0; n > 0 && i < statistics.used && (used += (size_t)n) < sizeof line; i++) {
        const struct msr_counter *c = &statistics.slots[i];
        n = format_string(line + used, sizeof line - used, " 0x%x r=%u w=%u refused=%u", c->msr, c->reads, c->writes,
                          c->refused);
    }
    log_raw_printf("%s%s\n", line, statistics.others ? " (more)" : "");
}

/* ---- virtualized MSRs -------------------------------------------------------- */

static void set_tsc_offset(uint64_t offset)
{
    guest.tsc_offset = offset;
    vmcs_write64(VMCS_TSC_OFFSET, offset);
    /* A deadline written in guest TSC terms must be translated once the clocks differ. */
    if (guest.bitmap) {
        set_intercept(guest.bitmap, MSR_IA32_TSC_DEADLINE, false, offset != 0);
        set_intercept(guest.bitmap, MSR_IA32_TSC_DEADLINE, true, offset != 0);
    }
}

/* SDM Vol. 3B §18.17.3: a write to the TSC adds the same difference to TSC_ADJUST. */
static void write_tsc(uint64_t value)
{
    uint64_t host_now = cpu_read_tsc();
    guest.tsc_adjust += value - (host_now + guest.tsc_offset);
    set_tsc_offset(value - host_now);
}

static void write_tsc_adjust(uint64_t value)
{
    set_tsc_offset(guest.tsc_offset + (value - guest.tsc_adjust));
    guest.tsc_adjust = value;
}

/* IA32_APIC_BASE (SDM Vol. 3A §11.12.5): the x2APIC and enable bits may change
 * along the legal transitions; the base must stay where the firmware put it (a
 * guest could otherwise lay the APIC page over memory vigil relies on). */
static bool write_apic_base(uint64_t value)
{
    uint64_t current;
    if (!cpu_read_msr_checked(MSR_IA32_APIC_BASE, &current))
        return false;
    uint64_t state_bits = APIC_BASE_X2APIC | APIC_BASE_ENABLE;
    if ((value & ~(state_bits | APIC_BASE_BSP)) != (current & ~(state_bits | APIC_BASE_BSP)))
        return false; /* relocation or reserved bits */
    bool to_x2apic = (value & APIC_BASE_X2APIC) != 0, to_enabled = (value & APIC_BASE_ENABLE) != 0;
    if (to_x2apic && !to_enabled)
        return false; /* invalid state */
    if (!to_x2apic && to_enabled && (current & APIC_BASE_X2APIC))
        return false; /* x2APIC -> xAPIC without disabling first */
    return cpu_write_msr_checked(MSR_IA32_APIC_BASE, (value & ~APIC_BASE_BSP) | (current & APIC_BASE_BSP));
}

static bool write_xss(const struct vcpu *vcpu, uint64_t value)
{
    if (!(vcpu->secondary_controls & SECONDARY_ENABLE_XSAVES))
        return false;
    uint32_t leaf[4];
    cpu_cpuid(0xD, 1, leaf);
    uint64_t supported = (((uint64_t)leaf[3] << 32) | leaf[2]) & ~XSS_PT;
    return !(value & ~supported) && cpu_write_msr_checked(MSR_IA32_XSS, value);
}

static bool read_virtual(uint32_t msr, uint64_t *value)
{
    switch (msr) {
    case MSR_IA32_FEATURE_CONTROL:
        *value = FEATURE_CONTROL_LOCKED; /* VMX enabled neither inside nor outside SMX */
        return true;
    case MSR_IA32_TSC_ADJUST:
        *value = guest.tsc_adjust;
        return guest.tsc_adjust_present;
    case MSR_IA32_MISC_ENABLE:
        /* Linux's verify_cpu reads it on every family-6 Intel CPU, before it has an
         * IDT: a #GP there is a triple fault. Bochs' models lack the MSR. */
        if (!cpu_read_msr_checked(msr, value))
            *value = MISC_ENABLE_DEFAULT;
        return true;
    case MSR_IA32_DEBUGCTL:
        *value = vmcs_read64(VMCS_GUEST_IA32_DEBUGCTL);
        return true;
    case MSR_IA32_TSC_DEADLINE: {
        uint64_t host = 0;
        if (!cpu_read_msr_checked(msr, &host))
            return false;
        *value = host ? host + guest.tsc_offset : 0; /* 0: disarmed */
        return true;
    }
    default:
        return false;
    }
}

static bool write_virtual(struct vcpu *vcpu, uint32_t msr, uint64_t value)
{
    switch (msr) {
    case MSR_IA32_TSC:
        write_tsc(value);
        return true;
    case MSR_IA32_TSC_ADJUST:
        if (guest.tsc_adjust_present)
            write_tsc_adjust(value);
        return guest.tsc_adjust_present;
    case MSR_IA32_APIC_BASE:
        return write_apic_base(value);
    case MSR_IA32_DEBUGCTL:
        if (value & ~DEBUGCTL_GUEST_BITS)
            return false;
        vmcs_write64(VMCS_GUEST_IA32_DEBUGCTL, value);
        return true;
    case MSR_IA32_TSC_DEADLINE: {
        uint64_t host = value - guest.tsc_offset;
        if (value && host == 0)
            host = 1; /* 0 would disarm the timer */
        return cpu_write_msr_checked(msr, value ? host : 0);
    }
    case MSR_IA32_XSS:
        return write_xss(vcpu, value);
    case MSR_X2APIC_ICR:
        return apic_filter_x2apic_icr_write(value);
    default:
        return false;
    }
}

/* ---- the exits ---------------------------------------------------------------- */

enum msr_outcome msr_policy_read(struct vcpu *vcpu, uint32_t msr, uint64_t *value)
{
    (void)vcpu; /* its VMCS is the current one */
    const struct msr_policy_entry *entry = msr_policy_lookup(msr);
    enum msr_action action = entry ? entry->read : MSR_DENY;
    if (msr == MSR_IA32_TSC_DEADLINE && guest.tsc_offset)
        action = MSR_VIRTUAL;
    bool ok = action == MSR_PASS      ? cpu_read_msr_checked(msr, value)
              : action == MSR_VIRTUAL ? read_virtual(msr, value)
                                      : false;
    count(msr, false, !ok);
    return ok ? MSR_DONE : MSR_FAULT;
}

enum msr_outcome msr_policy_write(struct vcpu *vcpu, uint32_t msr, uint64_t value)
{
    const struct msr_policy_entry *entry = msr_policy_lookup(msr);
    enum msr_action action = entry ? entry->write : MSR_DENY;
    if (msr == MSR_IA32_TSC_DEADLINE && guest.tsc_offset)
        action = MSR_VIRTUAL;
    bool ok = false;
    switch (action) {
    case MSR_PASS:
        ok = cpu_write_msr_checked(msr, value);
        break;
    case MSR_VIRTUAL:
        ok = write_virtual(vcpu, msr, value);
        break;
    case MSR_IGNORE: {
        static bool reported;
        if (!reported) {
            reported = true;
            log_warn("guest write of 0x%lx to MSR 0x%x ignored (machine-wide MSR; reported once)",
                     (unsigned long)value, msr);
        }
        count(msr, true, true);
        return MSR_DONE;
    }
    case MSR_DENY:
        break;
    }
    count(msr, true, !ok);
    return ok ? MSR_DONE : MSR_FAULT;
}
