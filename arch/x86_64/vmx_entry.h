/*
 * Entering the guest and coming back (arch/x86_64/vmx_entry.S). The stub calls
 * nothing: vmx_enter_guest returns to its caller at the next VM exit, so the
 * hypervisor's run loop is ordinary C (hv/guest_lifecycle.c).
 */
#ifndef VIGIL_ARCH_X86_64_VMX_ENTRY_H
#define VIGIL_ARCH_X86_64_VMX_ENTRY_H

#include <stdbool.h>

#include "arch/x86_64/guest_registers.h"
#include "arch/x86_64/vmx.h"

/* Loads the guest's general registers from *registers and executes VMLAUNCH
 * (launched = false) or VMRESUME. Returns VMX_SUCCEEDED at the next VM exit with
 * the guest's registers stored back in *registers, or the failure of the entry
 * instruction itself (a VM-entry failure on guest state instead arrives as a VM
 * exit with bit 31 of the exit reason set, SDM Vol. 3C §27.8). Keeps the VMCS
 * host RSP pointing at its own frame (written only when the frame moved). */
enum vmx_result vmx_enter_guest(struct guest_registers *registers, bool launched);

/* Where the CPU continues after a VM exit: the VMCS host RIP (SDM Vol. 3C §28.5.3). */
extern char vmx_guest_exit[];

#endif
