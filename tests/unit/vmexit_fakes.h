/*
 * Link-time fakes for the VM-exit unit tests (test_vmexit*.c, test_event_injection.c):
 * a VMCS field map behind vmcs_read_raw/vmcs_write_raw (VIGIL_HOST_TEST in
 * arch/x86_64/vmx.h), a log that captures text, panic/stop/power-off that record
 * why and longjmp back to the test, a fake MSR table, a fake I/O bus, the timer
 * tick, the bitmap intercept calls, the guest entry (vmx_enter_guest: one
 * scripted VM exit per fake_dispatch), and the_vcpu, the vCPU the tests run.
 */
#ifndef VIGIL_TESTS_UNIT_VMEXIT_FAKES_H
#define VIGIL_TESTS_UNIT_VMEXIT_FAKES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/vmx.h"
#include "hv/guest_lifecycle.h"
#include "hv/vcpu_run.h"
#include "hv/vmexit_handlers.h"
#include "hv/vmexit_statistics.h"
#include "hv/service.h"
#include "hv/vcpu.h"
#include "hv/vmexit.h"

extern struct vcpu the_vcpu;

/* ---- VMCS field map ---------------------------------------------------------
 * A field never set reads 0. VMWRITE to a read-only field (type bits 11:10 = 1,
 * exit information) fails with VMfailValid, error 13, as on hardware; so vigil
 * writing exit information is caught (vmx.c panics). */
void fake_vmcs_reset(void);
/* Sets a field as the CPU (or earlier code) left it: its write count starts again at 0. */
void fake_vmcs_set(uint32_t field, uint64_t value);
uint64_t fake_vmcs_get(uint32_t field);
unsigned fake_vmcs_write_count(uint32_t field);       /* VMWRITEs by the code under test */
/* Make every VMREAD/VMWRITE of `field` fail; VMfailValid sets the VM-instruction error field. */
void fake_vmcs_fail(uint32_t field, enum vmx_result result, uint32_t instruction_error);

/* ---- noreturn ends, caught ----------------------------------------------- */
enum fake_outcome_kind {
    FAKE_RETURNED = 0,     /* the code under test returned normally; for fake_dispatch: the guest was resumed */
    FAKE_PANIC,            /* panic() */
    FAKE_PANIC_POLICY,     /* panic_apply_policy() */
    FAKE_GUEST_STOPPED,    /* the guest ended, stopped (guest_stop), or hv_stop_after_guest() */
    FAKE_POWER_OFF,        /* the guest ended, powered off (guest_powered_off), or hv_power_off() */
};
struct fake_outcome {
    enum fake_outcome_kind kind;
    char message[512];     /* panic's formatted message, or the guest's end / stop / power-off reason */
};
extern struct fake_outcome fake_outcome;
/* Runs fn(argument); returns how it ended. */
enum fake_outcome_kind fake_run(void (*fn)(void *), void *argument);

/* One VM exit through the real run loop (vcpu_run on the_vcpu): the guest exits
 * with VMCS_EXIT_REASON, VMCS_EXIT_QUALIFICATION and *registers; the loop
 * dispatches it and runs the due timer work; FAKE_RETURNED when it enters the
 * guest again, *registers updated to what the guest gets. */
enum fake_outcome_kind fake_dispatch(uint32_t exit_reason, uint64_t qualification, struct guest_registers *registers);
/* Calls one handler directly on the_vcpu, with the exit built from the arguments. */
enum fake_outcome_kind fake_handle(vmexit_handler *handler, uint32_t reason, uint64_t qualification,
                                   struct guest_registers *registers);

/* ---- log ----------------------------------------------------------------- */
void fake_log_reset(void);
const char *fake_log_text(void);
unsigned fake_log_count(const char *needle);           /* occurrences in the captured log */

/* ---- MSRs (an MSR not in the table faults, as with Bochs ignore_bad_msrs=0) -- */
void fake_msr_reset(void);
void fake_msr_set(uint32_t msr, uint64_t value);
void fake_msr_refuse_writes(uint32_t msr);              /* WRMSR of it faults */
bool fake_msr_get(uint32_t msr, uint64_t *value);
unsigned fake_msr_read_count(void);
unsigned fake_msr_write_count(void);

/* ---- I/O ports ------------------------------------------------------------ */
struct fake_port_access {
    uint16_t port;
    unsigned size;
    bool is_out;
    uint32_t value;
};
extern uint64_t fake_tsc_frequency; /* what clock_tsc_frequency() returns */
void fake_ports_reset(void);
void fake_ports_set_input(uint32_t value);              /* what every port_in returns (truncated to size) */
unsigned fake_port_access_count(void);
const struct fake_port_access *fake_port_access(unsigned index);

/* ---- bitmap intercepts (vcpu.c) ------------------------------------------ */
struct fake_io_intercept {
    uint16_t port;
    unsigned count;
};
void fake_intercepts_reset(void);
unsigned fake_io_intercept_count(void);
const struct fake_io_intercept *fake_io_intercept(unsigned index);

/* ---- the local APIC's registers (apic_mmio_read/write of hv/apic_trap.h) ------ */
void fake_apic_reset(void);
void fake_apic_set(unsigned offset, uint32_t value);
uint32_t fake_apic_get(unsigned offset);
unsigned fake_apic_write_count(void);

/* ---- timer ---------------------------------------------------------------- */
extern unsigned fake_timer_ticks; /* calls of timer_run_due: one per dispatched exit */
extern uint32_t fake_preemption_value;           /* what timer_preemption_value returns */
extern uint32_t fake_preemption_value_after_tick; /* if set, timer_run_due changes it to this */
extern enum service_tick_result fake_timer_result; /* what timer_run_due returns (the service's decision) */

/* ---- guest service (hv/service.h) ------------------------------------------ */
struct fake_service {
    bool active;                    /* service_active() */
    uint32_t shared_region[4];      /* what service_cpuid_shared_region() answers */
    uint32_t doorbell_result;       /* what service_doorbell() returns */
    unsigned doorbells;             /* service_doorbell() calls */
    unsigned ended;                 /* service_guest_ended() calls */
    enum guest_service_event_kind ended_kind;
    char ended_detail[256];
};
extern struct fake_service fake_service;

/* ---- assertions with the text shown on failure (include <cmocka.h> and <string.h> first) ---- */
#define assert_contains(haystack, needle)                                                                  \
    do {                                                                                                   \
        const char *h_ = (haystack), *n_ = (needle);                                                       \
        if (!strstr(h_, n_))                                                                               \
            fail_msg("expected \"%s\" in:\n%s", n_, h_);                                                   \
    } while (0)

#define assert_starts_with(text, prefix)                                                                   \
    do {                                                                                                   \
        const char *t_ = (text), *p_ = (prefix);                                                           \
        if (strncmp(t_, p_, strlen(p_)) != 0)                                                              \
            fail_msg("expected to start with \"%s\":\n%s", p_, t_);                                          \
    } while (0)

/* Everything above back to its initial state, the_vcpu zeroed, vmexit statistics
 * zeroed and any queued external interrupt drained. */
void fake_reset_all(void);

#endif
