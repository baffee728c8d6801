/*
 * hello: the smallest vigil guest. Finds vigil through CPUID, checks the ABI
 * version and doorbell port it advertises, and makes the basic hypercalls.
 * Prints "hello: PASS" only if every check held; without vigil it prints
 * "hello: no vigil signature" and powers off.
 */
#include "runtime/guest_runtime.h"

#include "vigil/abi.h"

static int failures;

static void fail(const char *what, uint32_t got, uint32_t wanted)
{
    guest_print("hello: FAIL: %s: got 0x%x, expected 0x%x\n", what, (unsigned)got, (unsigned)wanted);
    failures++;
}

static void hypercall(const char *what, uint32_t number, uint32_t argument, uint32_t wanted, const char *label)
{
    uint32_t result;
    int vector = guest_vmcall_checked(number, argument, &result);
    if (vector != GUEST_NO_FAULT) {
        guest_print("hello: FAIL: %s raised exception %d\n", what, vector);
        failures++;
        return;
    }
    if (label)
        guest_print("hello: %s 0x%x\n", label, (unsigned)result);
    if (result != wanted)
        fail(what, result, wanted);
}

void guest_main(uint32_t magic, uint32_t info)
{
    (void)magic;
    (void)info;
    guest_print("hello: starting (cmdline '%s')\n", guest_cmdline());

    uint32_t regs[4];
    guest_cpuid(VIGIL_CPUID_LEAF_SIGNATURE, 0, regs);
    if (regs[1] != VIGIL_CPUID_SIGNATURE_EBX || regs[2] != VIGIL_CPUID_SIGNATURE_ECX ||
        regs[3] != VIGIL_CPUID_SIGNATURE_EDX) {
        guest_print("hello: no vigil signature\n");
        return;
    }
    uint32_t max_leaf = regs[0];
    guest_print("hello: vigil signature ok, max leaf 0x%x\n", (unsigned)max_leaf);
    if (max_leaf < VIGIL_CPUID_LEAF_FEATURES || max_leaf - VIGIL_CPUID_LEAF_SIGNATURE >= 0x100) {
        fail("max vigil leaf", max_leaf, VIGIL_CPUID_LEAF_MAX);
    } else {
        guest_cpuid(VIGIL_CPUID_LEAF_FEATURES, 0, regs);
        uint32_t version = regs[0], port = regs[2];
        guest_print("hello: abi %u.%u, doorbell port 0x%x\n", (unsigned)(version >> 16), (unsigned)(version & 0xFFFF),
                    (unsigned)port);
        if (version >> 16 != VIGIL_ABI_VERSION_MAJOR)
            fail("ABI major version", version >> 16, VIGIL_ABI_VERSION_MAJOR);
        if (port != VIGIL_DOORBELL_PORT)
            fail("doorbell port", port, VIGIL_DOORBELL_PORT);
    }

    hypercall("hypercall VERSION", VIGIL_HYPERCALL_VERSION, 0, VIGIL_ABI_VERSION, "hypercall version");
    hypercall("hypercall PING(41)", VIGIL_HYPERCALL_PING, 41, 42, "ping(41) =");
    hypercall("unknown hypercall 0xdead", 0xdead, 0, (uint32_t)VIGIL_HYPERCALL_ERROR_UNKNOWN, "unknown hypercall 0xdead =");

    if (failures == 0)
        guest_print("hello: PASS\n");
    else
        guest_print("hello: %d check(s) failed\n", failures);
}
