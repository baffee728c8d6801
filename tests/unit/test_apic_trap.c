/*
 * Unit tests for the xAPIC trap (hv/apic_trap.c): guest writes to the read-only
 * APIC page decoded (hv/mmio_decode.c) through the guest's paging
 * (hv/guest_paging.c), ICR writes filtered (INIT/SIPI to another CPU refused, IPIs
 * to self delivered), other registers written through, undecodable stores stop
 * the guest; against the fake VMCS and a fake APIC (vmexit_fakes.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hv/apic_filter.h"
#include "hv/apic_trap.h"
#include "hv/guest_paging.h"
#include "hv/mmio_decode.h"
#include "vmexit_fakes.h"

#define APIC_PAGE 0xFEE00000ull
#define CODE 0x5000u
#define EPT_WRITE_QUALIFICATION 0x182u /* write, linear address valid */
#define CS_32 0xC09Bu
#define CS_64 0xA09Bu

static uint8_t memory[0x10000]; /* guest-physical 0..64 KiB */
static struct guest_registers registers;

static bool read_memory(void *context, uint64_t physical, void *buffer, unsigned size)
{
    (void)context;
    if (physical + size > sizeof memory)
        return false;
    memcpy(buffer, memory + physical, size);
    return true;
}

static int setup(void **state)
{
    (void)state;
    fake_reset_all();
    memset(memory, 0, sizeof memory);
    memset(&registers, 0, sizeof registers);
    apic_trap_configure(APIC_PAGE, read_memory, 0);
    fake_vmcs_set(VMCS_GUEST_RIP, CODE);
    fake_vmcs_set(VMCS_GUEST_CS_ACCESS_RIGHTS, CS_32);
    fake_apic_set(0x20, 0);          /* APIC ID 0 */
    fake_apic_set(0xD0, 1u << 24);   /* logical ID 1 */
    return 0;
}

static enum fake_outcome_kind write_exit(unsigned offset, const uint8_t *code, size_t length)
{
    memcpy(memory + CODE, code, length);
    fake_vmcs_set(VMCS_GUEST_PHYSICAL_ADDRESS, APIC_PAGE + offset);
    return fake_dispatch(EXIT_REASON_EPT_VIOLATION, EPT_WRITE_QUALIFICATION, &registers);
}

static void test_icr_init_and_sipi_to_another_cpu_refused(void **state)
{
    (void)state;
    uint64_t refused = apic_filter_statistics()->start_refused;
    /* mov %eax, 0xfee00310 (A3 moffs32): ICR high = APIC 1 */
    static const uint8_t set_high[] = { 0xA3, 0x10, 0x03, 0xE0, 0xFE };
    registers.rax = 1u << 24;
    assert_int_equal(write_exit(0x310, set_high, sizeof set_high), FAKE_RETURNED);
    assert_int_equal(fake_apic_get(0x310), 1u << 24);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), CODE + 5);
    /* movl $0xc500, 0xfee00300: INIT */
    static const uint8_t init[] = { 0xC7, 0x05, 0x00, 0x03, 0xE0, 0xFE, 0x00, 0xC5, 0x00, 0x00 };
    fake_vmcs_set(VMCS_GUEST_RIP, CODE);
    assert_int_equal(write_exit(0x300, init, sizeof init), FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), CODE + 10);
    /* mov %ecx, 0xfee00300: SIPI vector 0x10 */
    static const uint8_t sipi[] = { 0x89, 0x0D, 0x00, 0x03, 0xE0, 0xFE };
    registers.rcx = 0x0610;
    fake_vmcs_set(VMCS_GUEST_RIP, CODE);
    assert_int_equal(write_exit(0x300, sipi, sizeof sipi), FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), CODE + 6);
    assert_int_equal(fake_apic_get(0x300), 0); /* the real ICR never saw either */
    assert_int_equal(apic_filter_statistics()->start_refused, refused + 2);
}

static void test_self_ipi_and_other_registers_written_through(void **state)
{
    (void)state;
    /* mov %edx, 0x300(%ebx) (89 93 disp32): fixed IPI, all including self -> this CPU by ID */
    static const uint8_t self_ipi[] = { 0x89, 0x93, 0x00, 0x03, 0x00, 0x00 };
    registers.rdx = 0x800FD;
    assert_int_equal(write_exit(0x300, self_ipi, sizeof self_ipi), FAKE_RETURNED);
    assert_int_equal(fake_apic_get(0x300), 0xFD);
    assert_int_equal(fake_apic_get(0x310), 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), CODE + 6);
    /* EOI: mov %eax, (%esi) with a segment override */
    static const uint8_t eoi[] = { 0x3E, 0x89, 0x06 };
    fake_vmcs_set(VMCS_GUEST_RIP, CODE);
    registers.rax = 0;
    unsigned writes = fake_apic_write_count();
    assert_int_equal(write_exit(0xB0, eoi, sizeof eoi), FAKE_RETURNED);
    assert_int_equal(fake_apic_write_count(), writes + 1);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), CODE + 3);
}

static void test_64_bit_store_through_guest_paging(void **state)
{
    (void)state;
    /* 4-level paging: CR3 0x1000 -> PDPT 0x2000 -> PD 0x3000, PD[0] a 2 MiB page at 0. */
    uint64_t pml4e = 0x2003, pdpte = 0x3003, pde = 0x83;
    memcpy(memory + 0x1000, &pml4e, 8);
    memcpy(memory + 0x2000, &pdpte, 8);
    memcpy(memory + 0x3000, &pde, 8);
    fake_vmcs_set(VMCS_GUEST_CR0, 0x80000031);
    fake_vmcs_set(VMCS_GUEST_CR3, 0x1000);
    fake_vmcs_set(VMCS_GUEST_CR4, 0x20);
    fake_vmcs_set(VMCS_GUEST_IA32_EFER, 0x500);
    fake_vmcs_set(VMCS_GUEST_CS_ACCESS_RIGHTS, CS_64);
    /* mov %r9d, (%rdi) with REX.R: 44 89 0f */
    static const uint8_t store[] = { 0x44, 0x89, 0x0F };
    registers.r9 = 0x12345;
    assert_int_equal(write_exit(0x380, store, sizeof store), FAKE_RETURNED);
    assert_int_equal(fake_apic_get(0x380), 0x12345);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), CODE + 3);
}

static void test_undecodable_store_stops_the_guest(void **state)
{
    (void)state;
    static const uint8_t movs[] = { 0xF3, 0xA5 }; /* rep movsd */
    assert_int_equal(write_exit(0x300, movs, sizeof movs), FAKE_GUEST_STOPPED);
    assert_contains(fake_log_text(), "write to the local APIC page at 0xfee00300 by an instruction vigil does not emulate");
    assert_int_equal(fake_apic_write_count(), 0);
    /* Reads and other pages are not the trap's. */
    assert_false(apic_trap_covers(APIC_PAGE + 0x300, 0x181));
    assert_false(apic_trap_covers(APIC_PAGE + 0x1000, 0x182));
}

static void test_decode_lengths(void **state)
{
    (void)state;
    struct { uint8_t bytes[12]; unsigned available; enum cpu_code_size mode; bool ok; unsigned length; } cases[] = {
        { { 0x89, 0x04, 0x24 }, 3, CODE_32, true, 3 },                         /* (%esp) */
        { { 0x89, 0x44, 0x24, 0x08 }, 4, CODE_32, true, 4 },                   /* 8(%esp) */
        { { 0x89, 0x84, 0x24, 0, 1, 0, 0 }, 7, CODE_32, true, 7 },             /* 0x100(%esp) */
        { { 0x89, 0x04, 0x25, 0, 3, 0xE0, 0xFE }, 7, CODE_64, true, 7 },       /* SIB, no base, disp32 */
        { { 0xC7, 0x80, 0, 3, 0, 0, 0, 0x45, 0, 0 }, 10, CODE_32, true, 10 },  /* movl $imm, 0x300(%eax) */
        { { 0x67, 0x89, 0x07 }, 3, CODE_32, true, 3 },                         /* 16-bit addressing (%bx) */
        { { 0x89, 0x05, 0, 3, 0, 0 }, 6, CODE_64, true, 6 },                   /* RIP-relative */
        { { 0xA3, 0, 3, 0xE0, 0xFE, 0, 0, 0, 0 }, 9, CODE_64, true, 9 },       /* moffs64 */
        { { 0x87, 0x05, 0, 3, 0xE0, 0xFE }, 6, CODE_32, true, 6 },             /* xchg */
        { { 0x66, 0x89, 0x05, 0, 3, 0xE0, 0xFE }, 7, CODE_32, false, 0 },      /* 16-bit operand */
        { { 0x48, 0x89, 0x05, 0, 0, 0, 0 }, 7, CODE_64, false, 0 },            /* REX.W: 64-bit store */
        { { 0x89, 0xC0 }, 2, CODE_32, false, 0 },                              /* register to register */
        { { 0xC7, 0x0D, 0, 3, 0xE0, 0xFE, 1, 0, 0, 0 }, 10, CODE_32, false, 0 }, /* C7 /1 is no MOV */
        { { 0x89, 0x05, 0, 3 }, 4, CODE_32, false, 0 },                        /* cut short */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct mmio_write w;
        print_message("case %zu\n", i);
        bool ok = mmio_decode_write(cases[i].bytes, cases[i].available, cases[i].mode, &w);
        assert_int_equal(ok, cases[i].ok);
        if (ok)
            assert_int_equal(w.length, cases[i].length);
    }
}

static void test_paging_modes(void **state)
{
    (void)state;
    struct guest_paging p = { 0x80000011, 0x1000, 0x10 /* PSE */, 0, read_memory, 0 };
    uint32_t pde_4m = 0x00400083u, pde = 0x2003u, pte = 0x7003u;
    memcpy(memory + 0x1000, &pde_4m, 4);              /* linear 0-4M -> 4M page at 4M */
    memcpy(memory + 0x1004, &pde, 4);                 /* linear 4M-8M -> table at 0x2000 */
    memcpy(memory + 0x2000 + 5 * 4, &pte, 4);         /* page 5 -> 0x7000 */
    uint64_t physical;
    assert_true(guest_linear_to_physical(&p, 0x1234, &physical));
    assert_int_equal(physical, 0x401234);
    assert_true(guest_linear_to_physical(&p, 0x405678, &physical));
    assert_int_equal(physical, 0x7678);
    assert_false(guest_linear_to_physical(&p, 0x800000, &physical)); /* not present */
    /* PAE: CR3 -> 4 PDPTEs; PDPTE[0] -> PD 0x3000; PD[1] 2 MiB page at 0x600000. */
    uint64_t pdpte = 0x3001, pd1 = 0x600083;
    memcpy(memory + 0x4000, &pdpte, 8);
    memcpy(memory + 0x3008, &pd1, 8);
    struct guest_paging pae = { 0x80000011, 0x4000, 0x20, 0, read_memory, 0 };
    assert_true(guest_linear_to_physical(&pae, 0x212345, &physical));
    assert_int_equal(physical, 0x612345);
    /* Paging off: linear is physical. */
    struct guest_paging off = { 0x11, 0, 0, 0, read_memory, 0 };
    assert_true(guest_linear_to_physical(&off, 0xFEE00300, &physical));
    assert_int_equal(physical, 0xFEE00300);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_icr_init_and_sipi_to_another_cpu_refused, setup),
        cmocka_unit_test_setup(test_self_ipi_and_other_registers_written_through, setup),
        cmocka_unit_test_setup(test_64_bit_store_through_guest_paging, setup),
        cmocka_unit_test_setup(test_undecodable_store_stops_the_guest, setup),
        cmocka_unit_test_setup(test_decode_lengths, setup),
        cmocka_unit_test_setup(test_paging_modes, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
