/*
 * VMX instructions and width-checked VMCS accessors (in the style of KVM's
 * vmx_ops.h). Every VMX instruction reports VMsucceed, VMfailInvalid (CF=1: no
 * current VMCS) or VMfailValid (ZF=1: the VM-instruction error field says why),
 * SDM Vol. 3C §31.2; the two failures are told apart everywhere.
 *
 * vmcs_read16/32/64/natural and vmcs_write16/... refuse at compile time a field
 * whose encoding has another width (SDM Vol. 3D Appendix B: bits 14:13).
 * In host unit tests (VIGIL_HOST_TEST) the raw field access is provided by the
 * test (a fake VMCS field map); in the image it is the vmread/vmwrite instruction.
 */
#ifndef VIGIL_ARCH_X86_64_VMX_H
#define VIGIL_ARCH_X86_64_VMX_H

#include <stdint.h>

#include "arch/x86_64/vmcs_fields.h"

enum vmx_result { VMX_SUCCEEDED = 0, VMX_FAIL_INVALID = 1, VMX_FAIL_VALID = 2 };

#ifdef VIGIL_HOST_TEST
enum vmx_result vmcs_read_raw(uint32_t field, uint64_t *value);
enum vmx_result vmcs_write_raw(uint32_t field, uint64_t value);
#else
static inline enum vmx_result vmx_flags_result(uint8_t carry, uint8_t zero)
{
    return carry ? VMX_FAIL_INVALID : zero ? VMX_FAIL_VALID : VMX_SUCCEEDED;
}

static inline enum vmx_result vmcs_read_raw(uint32_t field, uint64_t *value)
{
    uint8_t carry, zero;
    __asm__ volatile("vmread %[field], %[value]; setc %[carry]; setz %[zero]"
                     : [value] "=rm"(*value), [carry] "=qm"(carry), [zero] "=qm"(zero)
                     : [field] "r"((uint64_t)field)
                     : "cc");
    return vmx_flags_result(carry, zero);
}

static inline enum vmx_result vmcs_write_raw(uint32_t field, uint64_t value)
{
    uint8_t carry, zero;
    __asm__ volatile("vmwrite %[value], %[field]; setc %[carry]; setz %[zero]"
                     : [carry] "=qm"(carry), [zero] "=qm"(zero)
                     : [field] "r"((uint64_t)field), [value] "rm"(value)
                     : "cc", "memory");
    return vmx_flags_result(carry, zero);
}

static inline enum vmx_result vmx_on(uint64_t *vmxon_region_physical)
{
    uint8_t carry, zero;
    __asm__ volatile("vmxon %[region]; setc %[carry]; setz %[zero]"
                     : [carry] "=qm"(carry), [zero] "=qm"(zero)
                     : [region] "m"(*vmxon_region_physical)
                     : "cc", "memory");
    return vmx_flags_result(carry, zero);
}

static inline enum vmx_result vmx_clear(uint64_t *vmcs_physical)
{
    uint8_t carry, zero;
    __asm__ volatile("vmclear %[vmcs]; setc %[carry]; setz %[zero]"
                     : [carry] "=qm"(carry), [zero] "=qm"(zero)
                     : [vmcs] "m"(*vmcs_physical)
                     : "cc", "memory");
    return vmx_flags_result(carry, zero);
}

static inline enum vmx_result vmx_pointer_load(uint64_t *vmcs_physical)
{
    uint8_t carry, zero;
    __asm__ volatile("vmptrld %[vmcs]; setc %[carry]; setz %[zero]"
                     : [carry] "=qm"(carry), [zero] "=qm"(zero)
                     : [vmcs] "m"(*vmcs_physical)
                     : "cc", "memory");
    return vmx_flags_result(carry, zero);
}

/* INVEPT single-context (type 1) or all-context (type 2), SDM Vol. 3C §31.3. */
static inline enum vmx_result vmx_invept(uint64_t type, uint64_t ept_pointer)
{
    struct { uint64_t ept_pointer, reserved; } descriptor = { ept_pointer, 0 };
    uint8_t carry, zero;
    __asm__ volatile("invept %[descriptor], %[type]; setc %[carry]; setz %[zero]"
                     : [carry] "=qm"(carry), [zero] "=qm"(zero)
                     : [descriptor] "m"(descriptor), [type] "r"(type)
                     : "cc", "memory");
    return vmx_flags_result(carry, zero);
}
#endif

/* Compile-time width check: a negative bit-field width does not compile. */
#define VMCS_CHECK_WIDTH(field, width) ((void)sizeof(struct { int width_mismatch : (VMCS_FIELD_WIDTH(field) == (width)) ? 1 : -1; }))

/* Read/write that panic with the failure decoded (VMfailInvalid, or VMfailValid
 * with the VM-instruction error by name): a failing VMREAD/VMWRITE is a bug. */
uint64_t vmcs_read_checked(uint32_t field);
void vmcs_write_checked(uint32_t field, uint64_t value);

#define vmcs_read16(field) (VMCS_CHECK_WIDTH(field, VMCS_WIDTH_16), (uint16_t)vmcs_read_checked(field))
#define vmcs_read32(field) (VMCS_CHECK_WIDTH(field, VMCS_WIDTH_32), (uint32_t)vmcs_read_checked(field))
#define vmcs_read64(field) (VMCS_CHECK_WIDTH(field, VMCS_WIDTH_64), vmcs_read_checked(field))
#define vmcs_read_natural(field) (VMCS_CHECK_WIDTH(field, VMCS_WIDTH_NATURAL), vmcs_read_checked(field))
#define vmcs_write16(field, value) (VMCS_CHECK_WIDTH(field, VMCS_WIDTH_16), vmcs_write_checked(field, (uint16_t)(value)))
#define vmcs_write32(field, value) (VMCS_CHECK_WIDTH(field, VMCS_WIDTH_32), vmcs_write_checked(field, (uint32_t)(value)))
#define vmcs_write64(field, value) (VMCS_CHECK_WIDTH(field, VMCS_WIDTH_64), vmcs_write_checked(field, (uint64_t)(value)))
#define vmcs_write_natural(field, value) (VMCS_CHECK_WIDTH(field, VMCS_WIDTH_NATURAL), vmcs_write_checked(field, (uint64_t)(value)))

/* Names for logs. */
const char *vmx_instruction_error_name(uint32_t error_number); /* SDM Vol. 3C §31.4, Table 31-1 */
const char *vmx_result_name(enum vmx_result result);

/* A VMX instruction other than VMREAD/VMWRITE ("VMXON", "VMLAUNCH", ...) must
 * have succeeded: otherwise panics with the failure decoded. */
void vmx_require_success(const char *instruction, enum vmx_result result);

#endif
