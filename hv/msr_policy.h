/*
 * MSR default deny (issue 12): the MSR bitmap starts all-intercept; an explicit
 * table lists what the guest may touch and why that is safe. Everything else is
 * #GP, as on a CPU without that MSR. Virtualized MSRs keep a per-guest value.
 */
#ifndef VIGIL_HV_MSR_POLICY_H
#define VIGIL_HV_MSR_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#define MSR_BITMAP_SIZE 4096

/* What vigil does with one kind of access (read or write) to an MSR. */
enum msr_action {
    MSR_DENY = 0,     /* #GP (the default for every MSR not in the table) */
    MSR_PASS,         /* no exit; if it exits anyway (outside the bitmap's ranges) vigil performs it */
    MSR_IGNORE,       /* writes of machine-wide settings: dropped, reported once */
    MSR_VIRTUAL,      /* emulated with a per-guest value (msr_policy.c) */
};

struct msr_policy_entry {
    uint32_t first, last;
    enum msr_action read, write;
    const char *reason;
};

/* The table, for tests and documentation. */
const struct msr_policy_entry *msr_policy_lookup(uint32_t msr);

/* Fills a 4 KiB MSR bitmap (SDM Vol. 3C §25.6.9): every bit set, then the bits of
 * MSR_PASS accesses cleared. */
void msr_policy_build_bitmap(uint8_t *bitmap);

/* Before the first VM entry: remembers the bitmap (for the TSC-deadline switch) and
 * reads the initial TSC_ADJUST. */
void msr_policy_start(uint8_t *bitmap);

struct vcpu;
enum msr_outcome { MSR_DONE, MSR_FAULT };
enum msr_outcome msr_policy_read(struct vcpu *vcpu, uint32_t msr, uint64_t *value);
enum msr_outcome msr_policy_write(struct vcpu *vcpu, uint32_t msr, uint64_t value);

/* The guest's TSC minus the host's (VMCS TSC offset, "use TSC offsetting" on):
 * vigil's own timekeeping reads the host TSC and never sees guest writes. */
uint64_t msr_policy_tsc_offset(void);

/* Per-MSR exit counters: the first MSR_COUNTER_SLOTS distinct MSRs that exited. */
#define MSR_COUNTER_SLOTS 24
struct msr_counter {
    uint32_t msr;
    uint32_t reads, writes, refused; /* refused: #GP injected or write dropped */
};
struct msr_statistics {
    struct msr_counter slots[MSR_COUNTER_SLOTS];
    unsigned used;
    uint64_t others; /* exits of MSRs that found no free slot */
};
const struct msr_statistics *msr_policy_statistics(void);
/* "vigil: msr exits: 0x3a r=1 w=1 refused=1 ..." (nothing if no MSR exited). */
void msr_policy_print_statistics(void);

#endif
