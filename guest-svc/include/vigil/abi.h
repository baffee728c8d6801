/*
 * The vigil guest ABI (DESIGN.md §2): the single source of truth shared by the
 * hypervisor, the guest Additions, the test guests and the host tools.
 * Plain C, fixed-width types; every size and offset is checked below.
 *
 * This revision holds discovery (CPUID leaves), the hypercall numbers and the
 * doorbell port. The shared region (status page, mailbox) joins with the guest
 * service.
 */
#ifndef VIGIL_ABI_H
#define VIGIL_ABI_H

#include <stdint.h>

#define VIGIL_ABI_VERSION_MAJOR 0
#define VIGIL_ABI_VERSION_MINOR 1
#define VIGIL_ABI_VERSION ((VIGIL_ABI_VERSION_MAJOR << 16) | VIGIL_ABI_VERSION_MINOR)

/* CPUID leaf 0x40000000: EAX = highest vigil leaf, EBX:ECX:EDX = "VigilVigilHv". */
#define VIGIL_CPUID_LEAF_SIGNATURE 0x40000000u
/* CPUID leaf 0x40000001: EAX = ABI version (major << 16 | minor), EBX = feature bits,
 * ECX = doorbell I/O port, EDX = 0. */
#define VIGIL_CPUID_LEAF_FEATURES 0x40000001u
/* CPUID leaf 0x40000002: shared region guest-physical address (EBX:EAX, high:low)
 * and size in bytes (ECX); all zero until the guest service provides one. */
#define VIGIL_CPUID_LEAF_SHARED_REGION 0x40000002u
#define VIGIL_CPUID_LEAF_MAX VIGIL_CPUID_LEAF_SHARED_REGION

#define VIGIL_CPUID_SIGNATURE_EBX 0x69676956u /* "Vigi" */
#define VIGIL_CPUID_SIGNATURE_ECX 0x6769566Cu /* "lVig" */
#define VIGIL_CPUID_SIGNATURE_EDX 0x76486C69u /* "ilHv" */

/* Feature bits in CPUID 0x40000001 EBX. */
#define VIGIL_FEATURE_HYPERCALL (1u << 0) /* VMCALL interface below */
#define VIGIL_FEATURE_DOORBELL (1u << 1)  /* OUT to the doorbell port exits to vigil */

/* The doorbell: one OUT (any width) to this port is one VM exit to vigil.
 * Chosen clear of the PC's legacy devices, PIIX4/ICH PM blocks, QEMU fw_cfg
 * (0x510) and VMware's backdoor (0x5658). */
#define VIGIL_DOORBELL_PORT 0x5647u

/* Hypercalls: VMCALL with RAX = number, arguments in RBX, RCX, RDX; the result
 * comes back in RAX (negative = error), RIP advanced past the VMCALL. */
#define VIGIL_HYPERCALL_VERSION 0u /* RAX <- VIGIL_ABI_VERSION */
#define VIGIL_HYPERCALL_PING 1u    /* RAX <- RBX + 1: a round trip with nothing else to do */

#define VIGIL_HYPERCALL_ERROR_UNKNOWN ((uint64_t)-1) /* unknown hypercall number */

_Static_assert(VIGIL_CPUID_LEAF_MAX - VIGIL_CPUID_LEAF_SIGNATURE < 0x100, "vigil leaves stay in 0x400000xx");
_Static_assert(VIGIL_DOORBELL_PORT <= 0xFFFF, "an I/O port is 16 bits");

#endif
