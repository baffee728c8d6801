#include "arch/x86_64/vmx.h"

#include "lib/panic.h"

const char *vmx_result_name(enum vmx_result result)
{
    switch (result) {
    case VMX_SUCCEEDED: return "VMsucceed";
    case VMX_FAIL_INVALID: return "VMfailInvalid (no current VMCS)";
    case VMX_FAIL_VALID: return "VMfailValid";
    }
    return "unknown";
}

const char *vmx_instruction_error_name(uint32_t error_number)
{
    static const char *const names[] = {
        [1] = "VMCALL executed in VMX root operation",
        [2] = "VMCLEAR with invalid physical address",
        [3] = "VMCLEAR with VMXON pointer",
        [4] = "VMLAUNCH with non-clear VMCS",
        [5] = "VMRESUME with non-launched VMCS",
        [6] = "VMRESUME after VMXOFF",
        [7] = "VM entry with invalid control field(s)",
        [8] = "VM entry with invalid host-state field(s)",
        [9] = "VMPTRLD with invalid physical address",
        [10] = "VMPTRLD with VMXON pointer",
        [11] = "VMPTRLD with incorrect VMCS revision identifier",
        [12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
        [13] = "VMWRITE to read-only VMCS component",
        [15] = "VMXON executed in VMX root operation",
        [16] = "VM entry with invalid executive-VMCS pointer",
        [17] = "VM entry with non-launched executive VMCS",
        [18] = "VM entry with executive-VMCS pointer not VMXON pointer",
        [19] = "VMCALL with non-clear VMCS",
        [20] = "VMCALL with invalid VM-exit control fields",
        [22] = "VMCALL with incorrect MSEG revision identifier",
        [23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
        [24] = "VMCALL with invalid SMM-monitor features",
        [25] = "VM entry with invalid VM-execution control fields in executive VMCS",
        [26] = "VM entry with events blocked by MOV SS",
        [28] = "invalid operand to INVEPT/INVVPID",
    };
    if (error_number < sizeof names / sizeof names[0] && names[error_number])
        return names[error_number];
    return "unknown VM-instruction error";
}

static __attribute__((noreturn)) void report_failure(const char *instruction, uint32_t field, enum vmx_result result)
{
    if (result == VMX_FAIL_VALID) {
        uint64_t error = 0;
        vmcs_read_raw(VMCS_VM_INSTRUCTION_ERROR, &error);
        panic("%s of VMCS field 0x%04x failed: VMfailValid, VM-instruction error %lu (%s)", instruction, field,
              (unsigned long)error, vmx_instruction_error_name((uint32_t)error));
    }
    panic("%s of VMCS field 0x%04x failed: %s", instruction, field, vmx_result_name(result));
}

void vmx_require_success(const char *instruction, enum vmx_result result)
{
    if (result == VMX_SUCCEEDED)
        return;
    if (result == VMX_FAIL_VALID) {
        uint64_t error = 0;
        vmcs_read_raw(VMCS_VM_INSTRUCTION_ERROR, &error);
        panic("%s failed: VMfailValid, VM-instruction error %lu (%s)", instruction, (unsigned long)error,
              vmx_instruction_error_name((uint32_t)error));
    }
    panic("%s failed: %s", instruction, vmx_result_name(result));
}

uint64_t vmcs_read_checked(uint32_t field)
{
    uint64_t value = 0;
    enum vmx_result result = vmcs_read_raw(field, &value);
    if (result != VMX_SUCCEEDED)
        report_failure("VMREAD", field, result);
    return value;
}

void vmcs_write_checked(uint32_t field, uint64_t value)
{
    enum vmx_result result = vmcs_write_raw(field, value);
    if (result != VMX_SUCCEEDED)
        report_failure("VMWRITE", field, result);
}
