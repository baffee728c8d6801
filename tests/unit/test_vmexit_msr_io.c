/*
 * Unit tests for hv/vmexit_msr.c (IA32_FEATURE_CONTROL, VMX capability MSRs,
 * MTRR/microcode writes; the rest of the MSR policy: test_msr_policy.c) and
 * hv/vmexit_io.c (console UART hidden, doorbell, PM1 control, Bochs 0x8900
 * "Shutdown", 0xCF9 reset, isa-debug-exit, string I/O refused, pass-through),
 * against the fake VMCS, MSR table and I/O bus of vmexit_fakes.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <vigil/abi.h>

#include "arch/x86_64/msr.h"
#include "hv/event_injection.h"
#include "hv/vmexit_io.h"
#include "hv/vmexit_msr.h"
#include "vmexit_fakes.h"

#define GUEST_RIP 0x300000u
#define INSTRUCTION_LENGTH 2u
#define GP_INJECTED \
    (INTERRUPTION_VALID | INTERRUPTION_TYPE_HARDWARE_EXCEPTION | INTERRUPTION_DELIVER_ERROR_CODE | VECTOR_GENERAL_PROTECTION)

#define CONSOLE 0x3F8
#define PM1A_CONTROL 0x604
#define PM1B_CONTROL 0x608
#define DEBUG_EXIT 0xF4
#define BOCHS_SHUTDOWN 0x8900
#define RESET_CONTROL 0xCF9
#define SLP_EN (1u << 13)
#define SLP_TYP_S5 (5u << 10)

/* Exit qualification for I/O instructions (SDM Vol. 3C Table 28-5). */
#define IO_OUT(port, size) ((uint64_t)((size) - 1) | ((uint64_t)(port) << 16))
#define IO_IN(port, size) (IO_OUT(port, size) | 8u)
#define IO_STRING (1u << 4)
#define IO_REP (1u << 5)

static struct guest_registers registers;

static void reset_state(void)
{
    fake_reset_all();
    memset(&registers, 0, sizeof registers);
    fake_vmcs_set(VMCS_GUEST_RIP, GUEST_RIP);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LENGTH, INSTRUCTION_LENGTH);
}

static void configure_ports(uint16_t pm1b, uint16_t debug_exit)
{
    struct guest_io_ports ports = { CONSOLE, PM1A_CONTROL, pm1b, debug_exit, 0, 0, false };
    vmexit_io_configure(&the_vcpu, &ports);
}

static int setup(void **state)
{
    (void)state;
    reset_state();
    configure_ports(0, 0);
    /* Forget any partial "Shutdown" an earlier test left in the matcher (or a full
     * one: after the power-off the fake returned here, where no guest would run). */
    registers.rax = 'X';
    fake_handle(vmexit_handle_io, EXIT_REASON_IO_INSTRUCTION, IO_OUT(BOCHS_SHUTDOWN, 1), &registers);
    reset_state();
    return 0;
}

static void assert_completed(enum fake_outcome_kind outcome)
{
    assert_int_equal(outcome, FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), GUEST_RIP + INSTRUCTION_LENGTH);
    assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_INTERRUPTION_INFO), 0);
    fake_vmcs_set(VMCS_GUEST_RIP, GUEST_RIP); /* ready for the next exit */
}

static void assert_faulted(enum fake_outcome_kind outcome)
{
    assert_int_equal(outcome, FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), GP_INJECTED);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_EXCEPTION_ERROR_CODE), 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), GUEST_RIP);
    assert_int_equal(fake_vmcs_write_count(VMCS_GUEST_RIP), 0);
}

/* ---- MSRs --------------------------------------------------------------------------- */

static enum fake_outcome_kind rdmsr(uint32_t msr)
{
    registers.rcx = 0xFFFFFFFF00000000ull | msr; /* only ECX selects the MSR */
    registers.rax = registers.rdx = 0xAAAAAAAAAAAAAAAAull;
    return fake_dispatch(EXIT_REASON_RDMSR, 0, &registers);
}

static enum fake_outcome_kind wrmsr(uint32_t msr, uint64_t value)
{
    registers.rcx = msr;
    registers.rax = 0xFFFFFFFF00000000ull | (uint32_t)value; /* upper halves are ignored */
    registers.rdx = 0xFFFFFFFF00000000ull | (uint32_t)(value >> 32);
    return fake_dispatch(EXIT_REASON_WRMSR, 0, &registers);
}

static void test_msr_ignored_writes_are_dropped_and_reported_once(void **state)
{
    /* First MSR test of the program: the report is once per boot. */
    const uint32_t ignored[] = { 0x79, 0x200, 0x20F, 0x21F, 0x250, 0x258, 0x259, 0x268, 0x26F, 0x2FF };
    for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) {
        fake_msr_set(ignored[i], 0x1111);
        assert_completed(wrmsr(ignored[i], 0x600000006ull));
        uint64_t value;
        assert_true(fake_msr_get(ignored[i], &value));
        assert_int_equal(value, 0x1111);
    }
    assert_int_equal(fake_msr_write_count(), 0);
    assert_contains(fake_log_text(),
                    "vigil: warning: guest write of 0x600000006 to MSR 0x79 ignored (machine-wide MSR; reported once)\n");
    assert_int_equal(fake_log_count("ignored"), 1);

    /* Reads of those pass through. */
    setup(state);
    fake_msr_set(0x2FF, 0xC06);
    assert_completed(rdmsr(0x2FF));
    assert_int_equal(registers.rax, 0xC06);
    assert_int_equal(registers.rdx, 0);
}

static void test_msr_feature_control_reads_locked_with_vmx_off(void **state)
{
    (void)state;
    fake_msr_set(MSR_IA32_FEATURE_CONTROL, 0x5); /* what the BIOS really left */
    assert_completed(rdmsr(MSR_IA32_FEATURE_CONTROL));
    assert_int_equal(registers.rax, FEATURE_CONTROL_LOCKED);
    assert_int_equal(registers.rdx, 0);
    assert_int_equal(fake_msr_read_count(), 0);

    assert_faulted(wrmsr(MSR_IA32_FEATURE_CONTROL, 0x5));
    assert_int_equal(fake_msr_write_count(), 0);
}

static void test_msr_vmx_capabilities_fault(void **state)
{
    const uint32_t refused[] = { MSR_IA32_VMX_BASIC, MSR_IA32_VMX_CR0_FIXED0, MSR_IA32_VMX_EPT_VPID_CAP,
                                 MSR_IA32_VMX_TRUE_ENTRY_CTLS, 0x491, 0x9B };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        setup(state);
        fake_msr_set(refused[i], 0x1234);
        assert_faulted(rdmsr(refused[i]));
        assert_int_equal(registers.rax, 0xAAAAAAAAAAAAAAAAull);
        setup(state);
        fake_msr_set(refused[i], 0x1234);
        assert_faulted(wrmsr(refused[i], 0));
        assert_int_equal(fake_msr_read_count() + fake_msr_write_count(), 0);
    }
}

/* ---- I/O ----------------------------------------------------------------------------- */

static enum fake_outcome_kind io(uint64_t qualification)
{
    return fake_dispatch(EXIT_REASON_IO_INSTRUCTION, qualification, &registers);
}

static void test_io_console_reads_ff_and_drops_writes(void **state)
{
    (void)state;
    /* First console test of the program: the warning is once per boot. */
    uint64_t dropped = vmexit_io_statistics()->console_accesses_dropped;
    registers.rax = 0x1122334455667700ull;
    assert_completed(io(IO_IN(CONSOLE, 1)));
    assert_int_equal(registers.rax, 0x11223344556677FFull); /* only AL replaced */

    registers.rax = 0x1122334455660000ull;
    assert_completed(io(IO_IN(CONSOLE + 5, 2)));
    assert_int_equal(registers.rax, 0x112233445566FFFFull);

    registers.rax = 0x1122334455667788ull;
    assert_completed(io(IO_IN(CONSOLE + 4, 4)));
    assert_int_equal(registers.rax, 0xFFFFFFFFull); /* a 32-bit IN zero-extends into RAX */

    registers.rax = 'A';
    assert_completed(io(IO_OUT(CONSOLE, 1)));
    assert_completed(io(IO_OUT(CONSOLE + 7, 1)));
    assert_int_equal(registers.rax, 'A');
    assert_int_equal(fake_port_access_count(), 0);
    assert_int_equal(vmexit_io_statistics()->console_accesses_dropped, dropped + 5);
    assert_contains(fake_log_text(),
                    "vigil: warning: guest touched the hypervisor console UART (port 0x3f8): it reads as absent\n");
    assert_int_equal(fake_log_count("console UART"), 1);
}

static void test_io_doorbell(void **state)
{
    (void)state;
    uint64_t rings = vmexit_io_statistics()->doorbell_rings;
    registers.rax = VIGIL_DOORBELL_RING;
    assert_completed(io(IO_OUT(VIGIL_DOORBELL_PORT, 1)));
    assert_completed(io(IO_OUT(VIGIL_DOORBELL_PORT + 3, 1)));
    assert_completed(io(IO_OUT(VIGIL_DOORBELL_PORT, 4)));
    assert_int_equal(vmexit_io_statistics()->doorbell_rings, rings + 3);
    assert_int_equal(fake_service.doorbells, 3);
    assert_int_equal(registers.rax, VIGIL_DOORBELL_RING);

    registers.rax = 0xFFFFFFFFFFFFFFFFull;
    assert_completed(io(IO_IN(VIGIL_DOORBELL_PORT, 1)));
    assert_int_equal(registers.rax, 0xFFFFFFFFFFFFFF00ull);
    assert_int_equal(vmexit_io_statistics()->doorbell_rings, rings + 3);
    assert_int_equal(fake_service.doorbells, 3);
    assert_int_equal(fake_port_access_count(), 0);
}

static void test_io_pm1_control(void **state)
{
    (void)state;
    /* Without SLP_EN: the real register gets it. */
    registers.rax = SLP_TYP_S5 | 1;
    assert_completed(io(IO_OUT(PM1A_CONTROL, 2)));
    assert_int_equal(fake_port_access_count(), 1);
    assert_int_equal(fake_port_access(0)->port, PM1A_CONTROL);
    assert_int_equal(fake_port_access(0)->size, 2);
    assert_true(fake_port_access(0)->is_out);
    assert_int_equal(fake_port_access(0)->value, SLP_TYP_S5 | 1);

    fake_ports_set_input(0xABCD1);
    registers.rax = 0x5555555555555555ull;
    assert_completed(io(IO_IN(PM1A_CONTROL, 2)));
    assert_int_equal(registers.rax, 0x555555555555BCD1ull);
    assert_false(fake_port_access(1)->is_out);

    /* SLP_EN: the guest powers off; the write does not reach the machine. */
    registers.rax = SLP_TYP_S5 | SLP_EN;
    assert_int_equal(io(IO_OUT(PM1A_CONTROL, 2)), FAKE_POWER_OFF);
    assert_int_equal(fake_port_access_count(), 2);
    assert_contains(fake_log_text(),
                    "vigil: guest powered off (ACPI sleep request, SLP_TYP and SLP_EN written to PM1 control)\n");
    assert_contains(fake_log_text(), "vigil: exits: total=3 io=3\n");
    assert_int_equal(fake_service.ended, 1);
    assert_int_equal(fake_service.ended_kind, GUEST_EVENT_GUEST_SHUTDOWN);

    /* PM1b likewise, when there is one. */
    setup(state);
    configure_ports(PM1B_CONTROL, 0);
    registers.rax = SLP_EN;
    assert_int_equal(io(IO_OUT(PM1B_CONTROL, 2)), FAKE_POWER_OFF);
}

static enum fake_outcome_kind write_bochs(const char *text)
{
    enum fake_outcome_kind outcome = FAKE_RETURNED;
    for (const char *c = text; *c; c++) {
        registers.rax = 0x4100 | (uint8_t)*c; /* only AL counts */
        fake_vmcs_set(VMCS_GUEST_RIP, GUEST_RIP);
        outcome = io(IO_OUT(BOCHS_SHUTDOWN, 1));
        if (c[1] && outcome != FAKE_RETURNED)
            fail_msg("\"%s\": ended at character %d", text, (int)(c - text));
    }
    return outcome;
}

static void test_io_bochs_shutdown_sequence(void **state)
{
    (void)state;
    assert_int_equal(write_bochs("Shutdow"), FAKE_RETURNED);
    assert_int_equal(fake_service.ended, 0);
    assert_int_equal(write_bochs("n"), FAKE_POWER_OFF);
    assert_contains(fake_log_text(), "vigil: guest powered off (Bochs shutdown port 0x8900)\n");
    assert_string_equal(fake_outcome.message, "Bochs shutdown port 0x8900");
    assert_int_equal(fake_port_access_count(), 0);
}

static void test_io_bochs_broken_sequences(void **state)
{
    const char *const broken[] = { "ShutdowX", "ShutXdown", "shutdown", "Shut down", "SHUTDOWN", "hutdown" };
    for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
        setup(state);
        print_message("\"%s\"\n", broken[i]);
        assert_int_equal(write_bochs(broken[i]), FAKE_RETURNED);
        assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), GUEST_RIP + INSTRUCTION_LENGTH);
    }
    /* After a broken attempt, and with a restart inside the text, the full word still counts. */
    const char *const working[] = { "ShutXShutdown", "SShutdown", "ShutShutdown" };
    for (size_t i = 0; i < sizeof working / sizeof working[0]; i++) {
        setup(state);
        print_message("\"%s\"\n", working[i]);
        assert_int_equal(write_bochs(working[i]), FAKE_POWER_OFF);
    }
    /* Reads do not disturb the match and read as all ones. */
    setup(state);
    write_bochs("Shut");
    fake_vmcs_set(VMCS_GUEST_RIP, GUEST_RIP);
    registers.rax = 0;
    assert_completed(io(IO_IN(BOCHS_SHUTDOWN, 1)));
    assert_int_equal(registers.rax, 0xFF);
    assert_int_equal(write_bochs("down"), FAKE_POWER_OFF);
}

static void test_io_reset_control(void **state)
{
    (void)state;
    registers.rax = 0x2;
    assert_completed(io(IO_OUT(RESET_CONTROL, 1)));
    assert_int_equal(fake_port_access_count(), 1);
    assert_int_equal(fake_port_access(0)->port, RESET_CONTROL);
    assert_int_equal(fake_port_access(0)->value, 0x2);

    registers.rax = 0x6;
    assert_int_equal(io(IO_OUT(RESET_CONTROL, 1)), FAKE_GUEST_STOPPED);
    assert_contains(fake_log_text(), "vigil: guest stopped: the guest asked for a machine reset: port 0xCF9\n");
    assert_int_equal(fake_port_access_count(), 1);
    assert_int_equal(fake_service.reset_requests, 1); /* the recovery policy restarts it */
}

static void test_io_debug_exit(void **state)
{
    (void)state;
    configure_ports(0, DEBUG_EXIT);
    registers.rax = 0x12345678;
    assert_completed(io(IO_IN(DEBUG_EXIT, 4)));
    assert_int_equal(registers.rax, 0xFFFFFFFF);
    registers.rax = 0x31;
    assert_int_equal(io(IO_OUT(DEBUG_EXIT, 4)), FAKE_POWER_OFF);
    assert_contains(fake_log_text(), "vigil: guest wrote 0x31 to the isa-debug-exit port\n"
                                     "vigil: guest powered off (isa-debug-exit)\n");
    assert_int_equal(fake_port_access_count(), 0);
}

static void test_io_string_and_odd_sizes_stop_the_guest(void **state)
{
    assert_int_equal(io(IO_OUT(CONSOLE, 1) | IO_STRING), FAKE_GUEST_STOPPED);
    assert_contains(fake_log_text(), "vigil: guest stopped: string I/O to port 0x3f8 (size 1) is not emulated\n");
    setup(state);
    assert_int_equal(io(IO_IN(VIGIL_DOORBELL_PORT, 2) | IO_STRING | IO_REP), FAKE_GUEST_STOPPED);
    assert_contains(fake_log_text(), "vigil: guest stopped: string I/O from port 0x5647 (size 2) is not emulated\n");
    assert_int_equal(fake_service.doorbells, 0);
    setup(state);
    assert_int_equal(io(IO_OUT(0x60, 3)), FAKE_GUEST_STOPPED);
    assert_contains(fake_log_text(), "vigil: guest stopped: odd-sized I/O to port 0x60 (size 3) is not emulated\n");
    assert_int_equal(fake_port_access_count(), 0);
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), GUEST_RIP);
}

static void test_io_other_ports_pass_through(void **state)
{
    (void)state;
    fake_ports_set_input(0xCAFEF00D);
    registers.rax = 0xFFFFFFFFFFFFFFFFull;
    assert_completed(io(IO_IN(0x60, 4)));
    assert_int_equal(registers.rax, 0xCAFEF00D);
    registers.rax = 0x12345678;
    assert_completed(io(IO_OUT(0x61, 2)));
    registers.rax = 0x0;
    assert_completed(io(IO_IN(0x64, 1)));
    assert_int_equal(registers.rax, 0x0D);
    assert_int_equal(fake_port_access_count(), 3);
    assert_int_equal(fake_port_access(0)->size, 4);
    assert_int_equal(fake_port_access(1)->port, 0x61);
    assert_int_equal(fake_port_access(1)->size, 2);
    assert_int_equal(fake_port_access(1)->value, 0x5678);
    assert_int_equal(fake_port_access(2)->size, 1);
}

static void test_io_configure_intercepts(void **state)
{
    (void)state;
    configure_ports(PM1B_CONTROL, DEBUG_EXIT);
    const struct { uint16_t port; unsigned count; } expected[] = {
        { CONSOLE, 8 }, { VIGIL_DOORBELL_PORT, 4 }, { BOCHS_SHUTDOWN, 1 }, { 0xCF8, 8 }, { 0x64, 1 }, { 0x92, 1 },
        { PM1A_CONTROL, 2 }, { PM1B_CONTROL, 2 }, { DEBUG_EXIT, 4 },
    };
    assert_int_equal(fake_io_intercept_count(), sizeof expected / sizeof expected[0]);
    for (unsigned i = 0; i < sizeof expected / sizeof expected[0]; i++) {
        assert_int_equal(fake_io_intercept(i)->port, expected[i].port);
        assert_int_equal(fake_io_intercept(i)->count, expected[i].count);
    }
    /* Without PM1b and isa-debug-exit, those are not intercepted. */
    fake_intercepts_reset();
    configure_ports(0, 0);
    assert_int_equal(fake_io_intercept_count(), 7);
}

/* ---- wide accesses, reset paths, PCI configuration (hv/io_policy.c) ------------------- */

static void test_io_wide_access_over_the_console_is_split(void **state)
{
    (void)state;
    /* OUTL to 0x3F6: 0x3F6 and 0x3F7 belong to someone else, 0x3F8 and 0x3F9 to vigil's console. */
    registers.rax = 0x44434241;
    assert_completed(io(IO_OUT(CONSOLE - 2, 4)));
    assert_int_equal(fake_port_access_count(), 2);
    assert_int_equal(fake_port_access(0)->port, CONSOLE - 2);
    assert_int_equal(fake_port_access(0)->size, 1);
    assert_int_equal(fake_port_access(0)->value, 0x41);
    assert_int_equal(fake_port_access(1)->port, CONSOLE - 1);
    assert_int_equal(fake_port_access(1)->value, 0x42);
    /* Reading across: the console's bytes read as absent. */
    fake_ports_set_input(0x11);
    registers.rax = 0;
    assert_completed(io(IO_IN(CONSOLE + 7, 2)));
    assert_int_equal(registers.rax, 0x11FF);
    assert_contains(fake_log_text(), "guest 4-byte access at port 0x3f6 reaches into port 0x3f8-0x3ff: split into bytes");
}

static void test_io_wide_write_over_pm1_control_still_powers_off(void **state)
{
    (void)state;
    /* OUTL at PM1a_CNT - 2: its upper half is PM1a_CNT, SLP_EN in bit 13 of it. */
    registers.rax = (uint32_t)(SLP_TYP_S5 | SLP_EN) << 16;
    assert_int_equal(io(IO_OUT(PM1A_CONTROL - 2, 4)), FAKE_POWER_OFF);
    assert_contains(fake_log_text(), "vigil: guest powered off (ACPI sleep request");
    /* OUTB of the high byte alone. */
    setup(state);
    registers.rax = (SLP_TYP_S5 | SLP_EN) >> 8;
    assert_int_equal(io(IO_OUT(PM1A_CONTROL + 1, 1)), FAKE_POWER_OFF);
}

static void test_io_every_reset_port_is_vigils(void **state)
{
    struct { uint64_t qualification; uint32_t value; const char *reason; unsigned passed; } resets[] = {
        { IO_OUT(0x64, 1), 0xFE, "keyboard controller command 0xFE (port 0x64)", 0 },
        { IO_OUT(0x64, 1), 0xF0, "keyboard controller command 0xFE (port 0x64)", 0 },
        { IO_OUT(0x92, 1), 0x03, "port 0x92 bit 0 (fast reset)", 0 },
        /* OUTL 0x90 reaches 0x92: 0x90 and 0x91 go out first, byte by byte. */
        { IO_OUT(0x90, 4), 0x00010000, "port 0x92 bit 0 (fast reset)", 2 },
        { IO_OUT(0xCF9, 1), 0x0E, "port 0xCF9", 0 },
    };
    for (size_t i = 0; i < sizeof resets / sizeof resets[0]; i++) {
        setup(state);
        registers.rax = resets[i].value;
        print_message("%s\n", resets[i].reason);
        assert_int_equal(io(resets[i].qualification), FAKE_GUEST_STOPPED);
        char expected[160];
        snprintf(expected, sizeof expected, "vigil: guest stopped: the guest asked for a machine reset: %s", resets[i].reason);
        assert_contains(fake_log_text(), expected);
        assert_int_equal(fake_port_access_count(), resets[i].passed);
    }
    /* What is not a reset passes through: other commands, A20 alone. */
    setup(state);
    registers.rax = 0xAE;
    assert_completed(io(IO_OUT(0x64, 1)));
    registers.rax = 0x02;
    assert_completed(io(IO_OUT(0x92, 1)));
    assert_int_equal(fake_port_access_count(), 2);
    /* "Write output port" is refused: its data byte would drive the reset line. */
    registers.rax = 0xD1;
    assert_completed(io(IO_OUT(0x64, 1)));
    assert_int_equal(fake_port_access_count(), 2);
    assert_contains(fake_log_text(), "guest write of 0xd1 to port 0x64 refused");
}

static void test_io_acpi_reset_register(void **state)
{
    (void)state;
    struct guest_io_ports ports = { CONSOLE, PM1A_CONTROL, 0, 0, 0xB2, 0x42, false };
    vmexit_io_configure(&the_vcpu, &ports);
    registers.rax = 0x41;
    assert_completed(io(IO_OUT(0xB2, 1)));
    registers.rax = 0x42;
    assert_int_equal(io(IO_OUT(0xB2, 1)), FAKE_GUEST_STOPPED);
    assert_contains(fake_log_text(), "machine reset: the ACPI reset register");
}

static void test_io_pci_writes_to_the_pm_base_refused(void **state)
{
    (void)state;
    fake_ports_set_input(0x71138086); /* PIIX4 power management at 0:1.3 */
    struct guest_io_ports ports = { CONSOLE, PM1A_CONTROL, 0, 0, 0, 0, true };
    vmexit_io_configure(&the_vcpu, &ports);
    fake_ports_reset();
    uint64_t refused = vmexit_io_statistics()->writes_refused;
    /* Select 0:1.3 register 0x40 (PMBA), then write a new base. */
    registers.rax = 0x80000B40;
    assert_completed(io(IO_OUT(0xCF8, 4)));
    registers.rax = 0x0000C001;
    assert_completed(io(IO_OUT(0xCFC, 4)));
    registers.rax = 0xC0;
    assert_completed(io(IO_OUT(0xCFD, 1))); /* a byte of it */
    assert_int_equal(fake_port_access_count(), 1); /* only the address went out */
    assert_contains(fake_log_text(), "refused: PIIX4 PM I/O base (PMBA)");
    /* PMREGMISC (0x80): the I/O enable. */
    registers.rax = 0x80000B80;
    assert_completed(io(IO_OUT(0xCF8, 4)));
    registers.rax = 0;
    assert_completed(io(IO_OUT(0xCFC, 1)));
    assert_int_equal(fake_port_access_count(), 2);
    /* Reads, and writes elsewhere in that function, pass. */
    registers.rax = 0x80000B3C;
    assert_completed(io(IO_OUT(0xCF8, 4)));
    registers.rax = 0x0A;
    assert_completed(io(IO_OUT(0xCFC, 1)));
    registers.rax = 0x80000B40;
    assert_completed(io(IO_OUT(0xCF8, 4)));
    assert_completed(io(IO_IN(0xCFC, 4)));
    assert_int_equal(fake_port_access_count(), 6);
    assert_int_equal(vmexit_io_statistics()->writes_refused, refused + 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        /* First in their programs' order: the once-per-boot warnings. */
        cmocka_unit_test_setup(test_msr_ignored_writes_are_dropped_and_reported_once, setup),
        cmocka_unit_test_setup(test_io_console_reads_ff_and_drops_writes, setup),
        cmocka_unit_test_setup(test_msr_feature_control_reads_locked_with_vmx_off, setup),
        cmocka_unit_test_setup(test_msr_vmx_capabilities_fault, setup),
        cmocka_unit_test_setup(test_io_doorbell, setup),
        cmocka_unit_test_setup(test_io_pm1_control, setup),
        cmocka_unit_test_setup(test_io_bochs_shutdown_sequence, setup),
        cmocka_unit_test_setup(test_io_bochs_broken_sequences, setup),
        cmocka_unit_test_setup(test_io_reset_control, setup),
        cmocka_unit_test_setup(test_io_debug_exit, setup),
        cmocka_unit_test_setup(test_io_string_and_odd_sizes_stop_the_guest, setup),
        cmocka_unit_test_setup(test_io_other_ports_pass_through, setup),
        cmocka_unit_test_setup(test_io_configure_intercepts, setup),
        cmocka_unit_test_setup(test_io_wide_access_over_the_console_is_split, setup),
        cmocka_unit_test_setup(test_io_wide_write_over_pm1_control_still_powers_off, setup),
        cmocka_unit_test_setup(test_io_every_reset_port_is_vigils, setup),
        cmocka_unit_test_setup(test_io_acpi_reset_register, setup),
        cmocka_unit_test_setup(test_io_pci_writes_to_the_pm_base_refused, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
