/*
 * One CPU, enforced (issue 12): the guest owns the local APIC, but every
 * interrupt-command-register (ICR) write goes through vigil first. IPIs that can
 * only reach this CPU are delivered; INIT, start-up and SMI IPIs are refused and
 * counted (an AP started by the guest would run outside VMX: an escape); fixed
 * and NMI IPIs to other CPUs are dropped (there is no other CPU in the guest).
 * The technique follows Jailhouse's apic.c; the ICR layout is SDM Vol. 3A §11.6.1.
 */
#ifndef VIGIL_HV_APIC_FILTER_H
#define VIGIL_HV_APIC_FILTER_H

#include <stdbool.h>
#include <stdint.h>

enum icr_verdict {
    ICR_DELIVER,         /* write `value` (maybe rewritten to target this CPU only) */
    ICR_DROP,            /* a fixed/NMI IPI for other CPUs only: nothing to do */
    ICR_REFUSE_START,    /* INIT, start-up, SMI or a reserved delivery mode: refused */
};

struct icr_decision {
    enum icr_verdict verdict;
    uint64_t value;      /* for ICR_DELIVER: the ICR value to write */
};

/* The CPU's identity as the guest's APIC sees it. In x2APIC mode the ICR is one
 * 64-bit register with a 32-bit destination in bits 63:32; in xAPIC mode the
 * destination is ICR bits 63:56 (ICR_HIGH bits 31:24). */
struct apic_identity {
    bool x2apic;
    uint32_t apic_id;    /* x2APIC ID, or the 8-bit xAPIC ID */
    uint32_t logical_id; /* x2APIC LDR, or xAPIC LDR bits 31:24 (flat model) */
};

/* Pure: what the ICR write `icr` may do. */
struct icr_decision apic_filter_icr(uint64_t icr, const struct apic_identity *self);

struct apic_filter_statistics {
    uint64_t delivered;        /* IPIs to this CPU, written to the APIC */
    uint64_t dropped;          /* IPIs only for other CPUs */
    uint64_t start_refused;    /* INIT / start-up / SMI IPIs refused */
};
const struct apic_filter_statistics *apic_filter_statistics(void);

/* Counts a decision (and reports the first refused start once); returns the verdict. */
enum icr_verdict apic_filter_count(enum icr_verdict verdict, uint64_t icr);

/* WRMSR of IA32_X2APIC_ICR (0x830) by the guest: decided, counted, and the
 * allowed value written to the real APIC. False: #GP (APIC not in x2APIC mode,
 * or the CPU refused the write). */
bool apic_filter_x2apic_icr_write(uint64_t value);

#endif
