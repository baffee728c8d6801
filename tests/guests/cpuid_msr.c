/*
 * cpuid_msr: what a guest must see of VT-x under vigil — nothing. VMX hidden in
 * CPUID, the hypervisor bit set, VMX MSRs and CR4.VMXE refused, VMXON #UD, and an
 * unknown hypercall answered with an error instead of a fault.
 * Bare (no vigil) several checks fail by design; the output stays one line each.
 */
#include "runtime/guest_runtime.h"

#include "lib/format.h"
#include "vigil/abi.h"

#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define MSR_IA32_FEATURE_CONTROL 0x3A
#define MSR_IA32_VMX_BASIC 0x480
#define FEATURE_CONTROL_LOCK (1u << 0)
#define FEATURE_CONTROL_VMX_INSIDE_SMX (1u << 1)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX (1u << 2)
#define CR4_VMXE (1u << 13)

static int failures;

static void check(bool ok, const char *what, const char *detail)
{
    if (ok) {
        guest_print("cpuid-msr: ok: %s\n", what);
    } else {
        guest_print("cpuid-msr: FAIL: %s (%s)\n", what, detail);
        failures++;
    }
}

/* "no fault" or "exception N" */
static void describe_fault(char *buffer, size_t size, int vector)
{
    if (vector == GUEST_NO_FAULT)
        format_string(buffer, size, "no fault");
    else
        format_string(buffer, size, "exception %d", vector);
}

void guest_main(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    char detail[96];
    uint32_t regs[4];

    guest_cpuid(1, 0, regs);
    check(!(regs[2] & CPUID_1_ECX_VMX), "CPUID.1:ECX.VMX[bit 5] clear", "VMX visible");
    check(regs[2] & CPUID_1_ECX_HYPERVISOR, "CPUID.1:ECX[bit 31] hypervisor present set", "bit clear");

    uint64_t value = 0;
    int vector = guest_rdmsr(MSR_IA32_VMX_BASIC, &value);
    if (vector == GUEST_NO_FAULT)
        format_string(detail, sizeof detail, "read 0x%llx", (unsigned long long)value);
    else
        describe_fault(detail, sizeof detail, vector);
    check(vector == GUEST_VECTOR_GP, "rdmsr IA32_VMX_BASIC (0x480) raises #GP", detail);

    vector = guest_wrmsr(MSR_IA32_FEATURE_CONTROL, 5);
    describe_fault(detail, sizeof detail, vector);
    check(vector == GUEST_VECTOR_GP, "wrmsr IA32_FEATURE_CONTROL (0x3A) = 5 raises #GP", detail);

    value = 0;
    vector = guest_rdmsr(MSR_IA32_FEATURE_CONTROL, &value);
    if (vector == GUEST_NO_FAULT)
        format_string(detail, sizeof detail, "read 0x%llx", (unsigned long long)value);
    else
        describe_fault(detail, sizeof detail, vector);
    check(vector == GUEST_NO_FAULT && (value & FEATURE_CONTROL_LOCK) &&
              !(value & (FEATURE_CONTROL_VMX_INSIDE_SMX | FEATURE_CONTROL_VMX_OUTSIDE_SMX)),
          "rdmsr IA32_FEATURE_CONTROL: locked, VMX disabled", detail);

    /* QEMU 7.2 TCG loops forever on a MOV to CR4 that sets a bit its CPU model
     * reserves (VMXE without VMX) instead of raising #GP. So without vigil and
     * without VMX in CPUID, skip; under vigil (or with VMX visible) always test. */
    guest_cpuid(VIGIL_CPUID_LEAF_SIGNATURE, 0, regs);
    bool vigil = regs[1] == VIGIL_CPUID_SIGNATURE_EBX && regs[2] == VIGIL_CPUID_SIGNATURE_ECX &&
                 regs[3] == VIGIL_CPUID_SIGNATURE_EDX;
    guest_cpuid(1, 0, regs);
    if (!vigil && !(regs[2] & CPUID_1_ECX_VMX)) {
        guest_print("cpuid-msr: skip: setting CR4.VMXE raises #GP (no vigil and no VMX: some emulators hang)\n");
    } else {
        uint32_t cr4 = guest_read_cr4();
        vector = guest_write_cr4(cr4 | CR4_VMXE);
        if (vector == GUEST_NO_FAULT) {
            format_string(detail, sizeof detail, "no fault, CR4 now 0x%x", (unsigned)guest_read_cr4());
            guest_write_cr4(cr4);
        } else {
            describe_fault(detail, sizeof detail, vector);
        }
        check(vector == GUEST_VECTOR_GP, "setting CR4.VMXE raises #GP", detail);
    }

    /* A 4 KiB-aligned VMXON region; CR4.VMXE is clear, so #UD comes before any
     * check of the region itself. */
    static uint8_t vmxon_region[4096] __attribute__((aligned(4096)));
    vector = guest_vmxon((uint32_t)(uintptr_t)vmxon_region);
    describe_fault(detail, sizeof detail, vector);
    check(vector == GUEST_VECTOR_UD, "VMXON raises #UD", detail);

    uint32_t result = 0;
    vector = guest_vmcall_checked(0xdead, 0, &result);
    if (vector == GUEST_NO_FAULT)
        format_string(detail, sizeof detail, "returned 0x%x", (unsigned)result);
    else
        describe_fault(detail, sizeof detail, vector);
    check(vector == GUEST_NO_FAULT && result == (uint32_t)VIGIL_HYPERCALL_ERROR_UNKNOWN,
          "VMCALL 0xdead returns 0xffffffff", detail);

    if (failures == 0)
        guest_print("cpuid-msr: PASS\n");
    else
        guest_print("cpuid-msr: %d check(s) failed\n", failures);
}
