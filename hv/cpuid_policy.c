/*
 * The guest's CPUID (technique: ACRN vcpuid.c, Jailhouse vcpu.c). Bits follow
 * SDM Vol. 2A CPUID. A feature is hidden when vigil cannot let the guest use it
 * safely; its instructions then fault as on a CPU without it (MONITOR/MWAIT exit
 * and get #UD, VMX instructions #UD, PT/PMU MSRs #GP: hv/msr_policy.c).
 */
#include "hv/cpuid_policy.h"

#include <vigil/abi.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/vmx.h"
#include "hv/service.h"

#define LEAF1_ECX_DTES64 (1u << 2)
#define LEAF1_ECX_MONITOR (1u << 3)
#define LEAF1_ECX_DS_CPL (1u << 4)
#define LEAF1_ECX_VMX (1u << 5)
#define LEAF1_ECX_SMX (1u << 6)
#define LEAF1_ECX_PDCM (1u << 15)
#define LEAF1_ECX_OSXSAVE (1u << 27)
#define LEAF1_ECX_HYPERVISOR (1u << 31)
#define LEAF1_EDX_DS (1u << 21)
#define LEAF1_EBX_LOGICAL_COUNT_MASK (0xFFu << 16)
#define LEAF4_EAX_SHARING_MASK (0xFFFu << 14 | 0x3Fu << 26) /* threads sharing, cores per package */
#define LEAF7_EBX_SGX (1u << 2)
#define LEAF7_EBX_INVPCID (1u << 10)
#define LEAF7_EBX_PT (1u << 25)
#define LEAF7_ECX_WAITPKG (1u << 5)
#define LEAF7_ECX_CET_SS (1u << 7)
#define LEAF7_EDX_CET_IBT (1u << 20)
#define LEAFD1_EAX_XSAVES (1u << 3)
#define LEAFD1_ECX_PT (1u << 8)
#define LEAF80000001_EDX_RDTSCP (1u << 27)
#define TOPOLOGY_LEVEL_SMT 1u
#define TOPOLOGY_LEVEL_CORE 2u
#define CR4_OSXSAVE (1ull << 18)

static void zero(uint32_t registers[4]) { registers[0] = registers[1] = registers[2] = registers[3] = 0; }

/* Leaves 0xB and 0x1F: one thread in one core; EDX keeps the x2APIC ID. */
static void one_cpu_topology(uint32_t subleaf, uint32_t registers[4])
{
    uint32_t x2apic_id = registers[3];
    zero(registers);
    registers[3] = x2apic_id;
    registers[2] = subleaf & 0xFF;
    if (subleaf == 0 || subleaf == 1) {
        registers[1] = 1; /* logical processors at this level */
        registers[2] |= (subleaf == 0 ? TOPOLOGY_LEVEL_SMT : TOPOLOGY_LEVEL_CORE) << 8;
    }
}

void cpuid_policy_filter(uint32_t leaf, uint32_t subleaf, uint32_t registers[4], const struct cpuid_guest *guest)
{
    switch (leaf) {
    case 1:
        registers[1] = (registers[1] & ~LEAF1_EBX_LOGICAL_COUNT_MASK) | (1u << 16);
        registers[2] &= ~(LEAF1_ECX_DTES64 | LEAF1_ECX_MONITOR | LEAF1_ECX_DS_CPL | LEAF1_ECX_VMX | LEAF1_ECX_SMX |
                          LEAF1_ECX_PDCM | LEAF1_ECX_OSXSAVE);
        registers[2] |= LEAF1_ECX_HYPERVISOR;
        if (guest->cr4 & CR4_OSXSAVE)
            registers[2] |= LEAF1_ECX_OSXSAVE;
        registers[3] &= ~LEAF1_EDX_DS;
        break;
    case 4:
        registers[0] &= ~LEAF4_EAX_SHARING_MASK;
        break;
    case 5:  /* MONITOR/MWAIT */
    case 0xA: /* architectural PMU */
    case 0x12: /* SGX */
    case 0x14: /* Intel PT */
        zero(registers);
        break;
    case 7:
        if (subleaf != 0)
            break;
        registers[1] &= ~(LEAF7_EBX_SGX | LEAF7_EBX_PT);
        if (!(guest->secondary_controls & SECONDARY_ENABLE_INVPCID))
            registers[1] &= ~LEAF7_EBX_INVPCID;
        registers[2] &= ~(LEAF7_ECX_WAITPKG | LEAF7_ECX_CET_SS);
        registers[3] &= ~LEAF7_EDX_CET_IBT;
        break;
    case 0xB:
    case 0x1F:
        one_cpu_topology(subleaf, registers);
        break;
    case 0xD:
        if (subleaf == 1) {
            if (!(guest->secondary_controls & SECONDARY_ENABLE_XSAVES))
                registers[0] &= ~LEAFD1_EAX_XSAVES;
            registers[2] &= ~LEAFD1_ECX_PT;
        } else if (subleaf == 8) { /* the PT state component */
            zero(registers);
        }
        break;
    case 0x80000001:
        if (!(guest->secondary_controls & SECONDARY_ENABLE_RDTSCP))
            registers[3] &= ~LEAF80000001_EDX_RDTSCP;
        break;
    case 0x15: /* TSC = crystal (ECX, Hz) * EBX / EAX: a 1:1 "crystal" at the measured rate */
        /* Linux trusts 0x15/0x16 over its own calibration, and an emulator's TSC
         * (Bochs: one tick per instruction) runs far from the model's nominal
         * frequency: the guest's clock and timers ran 20 times slow. */
        if (guest->tsc_hz > 1 && guest->tsc_hz <= UINT32_MAX) {
            registers[0] = 1;
            registers[1] = 1;
            registers[2] = (uint32_t)guest->tsc_hz;
            registers[3] = 0;
        }
        break;
    case 0x16: /* base and maximum frequency, MHz */
        if (guest->tsc_hz > 1)
            registers[0] = registers[1] = (uint32_t)(guest->tsc_hz / 1000000u);
        break;
    default:
        break;
    }
}

static void vigil_leaf(uint32_t leaf, uint32_t registers[4])
{
    zero(registers);
    switch (leaf) {
    case VIGIL_CPUID_LEAF_SIGNATURE:
        registers[0] = VIGIL_CPUID_LEAF_MAX;
        registers[1] = VIGIL_CPUID_SIGNATURE_EBX;
        registers[2] = VIGIL_CPUID_SIGNATURE_ECX;
        registers[3] = VIGIL_CPUID_SIGNATURE_EDX;
        break;
    case VIGIL_CPUID_LEAF_FEATURES:
        registers[0] = VIGIL_ABI_VERSION;
        registers[1] = VIGIL_FEATURE_HYPERCALL | VIGIL_FEATURE_DOORBELL | (service_active() ? VIGIL_FEATURE_SHARED_REGION : 0);
        registers[2] = VIGIL_DOORBELL_PORT;
        break;
    case VIGIL_CPUID_LEAF_SHARED_REGION:
        service_cpuid_shared_region(registers);
        break;
    default:
        break; /* other hypervisor leaves (Linux probes 0x40000100.. for KVM): nothing */
    }
}

void cpuid_policy_answer(uint32_t leaf, uint32_t subleaf, uint32_t registers[4], const struct cpuid_guest *guest)
{
    if ((leaf & 0xF0000000u) == 0x40000000u) {
        vigil_leaf(leaf, registers);
        return;
    }
    uint32_t maximum[4];
    cpu_cpuid(leaf & 0x80000000u, 0, maximum);
    /* Past the last leaf, Intel CPUs answer with the highest basic leaf: filter that one. */
    if (leaf > maximum[0]) {
        uint32_t basic[4];
        cpu_cpuid(0, 0, basic);
        leaf = basic[0];
    }
    cpu_cpuid(leaf, subleaf, registers);
    cpuid_policy_filter(leaf, subleaf, registers, guest);
}

#define XCR0_X87 (1ull << 0)
#define XCR0_SSE (1ull << 1)
#define XCR0_AVX (1ull << 2)
#define XCR0_MPX (3ull << 3)
#define XCR0_AVX512 (7ull << 5)
#define XCR0_AMX (3ull << 17)

static bool all_or_none(uint64_t value, uint64_t group) { return (value & group) == 0 || (value & group) == group; }

bool xcr0_value_valid(uint64_t value, uint64_t supported)
{
    if (!(value & XCR0_X87) || (value & ~supported))
        return false;
    if ((value & XCR0_AVX) && !(value & XCR0_SSE))
        return false;
    if (!all_or_none(value, XCR0_AVX512) || ((value & XCR0_AVX512) && !(value & XCR0_AVX)))
        return false;
    return all_or_none(value, XCR0_MPX) && all_or_none(value, XCR0_AMX);
}
