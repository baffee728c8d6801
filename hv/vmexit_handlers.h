/*
 * The exit handlers, one file per concern (vmexit_handlers.c, vmexit_io.c,
 * vmexit_msr.c, vmexit_cr.c); hv/vmexit.c maps basic exit reasons to them.
 *
 * A new exit handler: write it in the file of its concern (it takes the vcpu and
 * returns what happens next: VMEXIT_RESUME_GUEST, or what guest_stop /
 * guest_powered_off return), declare it here, give it its row in the table in
 * hv/vmexit.c, and a route in tests/unit/test_vmexit.c.
 */
#ifndef VIGIL_HV_VMEXIT_HANDLERS_H
#define VIGIL_HV_VMEXIT_HANDLERS_H

#include <stdbool.h>

#include "hv/vcpu.h"
#include "hv/vmexit_action.h"

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
vmexit_handler vmexit_handle_unexpected;
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
/* An instruction the guest may not run: #UD, as on a CPU without it; the first one
 * is reported ("guest executed X at rip R: injecting #UD (why)"). */
enum vmexit_action vmexit_refuse_instruction(struct vcpu *vcpu, bool *reported, const char *why);
/* NMIs vigil took in root operation since the last exit go to the guest. */
void vmexit_reflect_host_nmis(struct vcpu *vcpu);

#endif
