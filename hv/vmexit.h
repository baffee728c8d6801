/*
 * VM-exit dispatch (DESIGN.md §4 stage 5): a const table from basic exit reason
 * to handler, per-reason counters, and what happens when the guest cannot go on.
 */
#ifndef VIGIL_HV_VMEXIT_H
#define VIGIL_HV_VMEXIT_H

#include <stdbool.h>
#include <stdint.h>

#include "guest-svc/host/guest_service.h"
#include "hv/vcpu.h"

#define VMEXIT_REASON_LIMIT 70 /* basic exit reasons 0..69 (SDM Vol. 3D Appendix C) */

/* Basic exit reasons vigil handles (SDM Vol. 3D Table C-1). */
enum vmexit_reason {
    EXIT_REASON_EXCEPTION_OR_NMI = 0,
    EXIT_REASON_EXTERNAL_INTERRUPT = 1,
    EXIT_REASON_TRIPLE_FAULT = 2,
    EXIT_REASON_INIT_SIGNAL = 3,
    EXIT_REASON_STARTUP_IPI = 4,
    EXIT_REASON_INTERRUPT_WINDOW = 7,
    EXIT_REASON_NMI_WINDOW = 8,
    EXIT_REASON_TASK_SWITCH = 9,
    EXIT_REASON_CPUID = 10,
    EXIT_REASON_GETSEC = 11,
    EXIT_REASON_HLT = 12,
    EXIT_REASON_INVD = 13,
    EXIT_REASON_VMCALL = 18,
    EXIT_REASON_VMCLEAR = 19,
    EXIT_REASON_VMLAUNCH = 20,
    EXIT_REASON_VMPTRLD = 21,
    EXIT_REASON_VMPTRST = 22,
    EXIT_REASON_VMREAD = 23,
    EXIT_REASON_VMRESUME = 24,
    EXIT_REASON_VMWRITE = 25,
    EXIT_REASON_VMXOFF = 26,
    EXIT_REASON_VMXON = 27,
    EXIT_REASON_CONTROL_REGISTER_ACCESS = 28,
    EXIT_REASON_IO_INSTRUCTION = 30,
    EXIT_REASON_RDMSR = 31,
    EXIT_REASON_WRMSR = 32,
    EXIT_REASON_ENTRY_FAILURE_GUEST_STATE = 33,
    EXIT_REASON_ENTRY_FAILURE_MSR_LOADING = 34,
    EXIT_REASON_MWAIT = 36,
    EXIT_REASON_MONITOR = 39,
    EXIT_REASON_ENTRY_FAILURE_MACHINE_CHECK = 41,
    EXIT_REASON_EPT_VIOLATION = 48,
    EXIT_REASON_EPT_MISCONFIGURATION = 49,
    EXIT_REASON_INVEPT = 50,
    EXIT_REASON_PREEMPTION_TIMER = 52,
    EXIT_REASON_INVVPID = 53,
    EXIT_REASON_XSETBV = 55,
    EXIT_REASON_VMFUNC = 59,
};

struct vmexit_context {
    struct guest_registers *registers;
    uint32_t reason;        /* basic exit reason, bits 15:0 of the exit-reason field */
    uint64_t qualification;
};

typedef void vmexit_handler(struct vmexit_context *context);

struct vmexit_statistics {
    uint64_t total;
    uint64_t by_reason[VMEXIT_REASON_LIMIT + 1]; /* the last slot counts reasons past the table */
};

/* Called by vmx_exit_entry with the guest's saved registers. */
void vmexit_dispatch(struct guest_registers *registers);
const struct vmexit_statistics *vmexit_get_statistics(void);
/* "vigil: exits: total=N cpuid=N io=N ..." (only reasons seen). */
void vmexit_print_statistics(void);
/* A short stable name per reason for statistics and logs ("cpuid", "io", ...). */
const char *vmexit_reason_slug(uint32_t reason);

/* Advance guest RIP past the exiting instruction and drop STI/MOV-SS blocking,
 * as completing the instruction would have (SDM Vol. 3C §25.4.2). */
void vmexit_skip_instruction(void);
/* General register n in the x86 encoding order (0 = RAX ... 4 = RSP ... 15 = R15). */
uint64_t guest_register_read(const struct guest_registers *registers, unsigned number);
void guest_register_write(struct guest_registers *registers, unsigned number, uint64_t value);

/* Prints the guest's state (RIP, RSP, CR0/3/4, EFER, segments) after `headline`. */
void guest_state_dump(const char *headline);
/* The guest cannot go on: "vigil: guest stopped: <why>", guest state, exit
 * counts, then the configured policy (power off in emulators, halt on hardware). */
__attribute__((noreturn, format(printf, 1, 2))) void guest_stop(const char *format, ...);
/* guest_stop with the event kind the service reports (e.g. a triple fault). */
__attribute__((noreturn)) void guest_stop_as(enum guest_service_event_kind kind, const char *reason);
/* The guest asked for a machine reset (0xCF9, keyboard controller, port 0x92, the
 * ACPI reset register): vigil owns the reset path; today a clean stop with the
 * reason ("the guest asked for a machine reset: <reason>"), the one place where a
 * guest restart will go. */
__attribute__((noreturn)) void guest_request_reset(struct vcpu *vcpu, const char *reason);
/* The guest asked to power off: counts, then the machine powers off. */
__attribute__((noreturn)) void guest_powered_off(const char *how);

/* Handlers, one file per concern. */
vmexit_handler vmexit_handle_cpuid;
vmexit_handler vmexit_handle_vmcall;
vmexit_handler vmexit_handle_xsetbv;
vmexit_handler vmexit_handle_vmx_instruction;
vmexit_handler vmexit_handle_invd;
vmexit_handler vmexit_handle_triple_fault;
vmexit_handler vmexit_handle_init_signal;
vmexit_handler vmexit_handle_startup_ipi;
vmexit_handler vmexit_handle_ept_violation;
vmexit_handler vmexit_handle_ept_misconfiguration;
vmexit_handler vmexit_handle_preemption_timer;
vmexit_handler vmexit_handle_interrupt_window;
vmexit_handler vmexit_handle_io;
vmexit_handler vmexit_handle_rdmsr;
vmexit_handler vmexit_handle_wrmsr;
vmexit_handler vmexit_handle_control_register;
vmexit_handler vmexit_handle_entry_failure;
/* hv/vmexit_cpu_events.c */
vmexit_handler vmexit_handle_exception_or_nmi;
vmexit_handler vmexit_handle_nmi_window;
vmexit_handler vmexit_handle_hidden_instruction;
vmexit_handler vmexit_handle_task_switch;
/* NMIs vigil took in root operation since the last exit go to the guest. */
void vmexit_reflect_host_nmis(void);

#endif
