/*
 * Unit tests for hv/event_injection.c against the fake VMCS: the VM-entry
 * interruption-information encodings (SDM Vol. 3C §25.8.3), external interrupts
 * queued behind an interrupt window when the guest cannot take them, and the
 * reinjection of an event an exit interrupted (IDT-vectoring information).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "hv/event_injection.h"
#include "vmexit_fakes.h"

#define RFLAGS_IF (1ull << 9)
#define PRIMARY_OTHER_CONTROLS 0x84006172u /* whatever else vcpu_setup chose */

static struct guest_registers registers;

static int setup(void **state)
{
    (void)state;
    fake_reset_all();
    memset(&registers, 0, sizeof registers);
    the_vcpu.primary_controls = PRIMARY_OTHER_CONTROLS;
    fake_vmcs_set(VMCS_PRIMARY_PROCESSOR_CONTROLS, PRIMARY_OTHER_CONTROLS);
    fake_vmcs_set(VMCS_GUEST_RFLAGS, RFLAGS_IF | 2);
    fake_vmcs_set(VMCS_GUEST_RIP, 0x1000);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LENGTH, 2);
    return 0;
}

static bool has_error_code(unsigned vector)
{
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21;
}

static void test_exception_encodings(void **state)
{
    for (unsigned vector = 0; vector < 32; vector++) {
        setup(state);
        inject_exception_with_error_code(&the_vcpu, (uint8_t)vector, 0x1234);
        uint32_t expected = INTERRUPTION_VALID | INTERRUPTION_TYPE_HARDWARE_EXCEPTION | vector;
        if (has_error_code(vector)) {
            expected |= INTERRUPTION_DELIVER_ERROR_CODE;
            assert_int_equal(fake_vmcs_get(VMCS_ENTRY_EXCEPTION_ERROR_CODE), 0x1234);
        } else {
            assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_EXCEPTION_ERROR_CODE), 0);
        }
        assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), expected);
    }
    setup(state);
    inject_exception_with_error_code(&the_vcpu, VECTOR_GENERAL_PROTECTION, 0);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), 0x80000B0D);
    assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_EXCEPTION_ERROR_CODE), 1);

    setup(state);
    inject_exception(&the_vcpu, VECTOR_INVALID_OPCODE);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), 0x80000306);
    assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_EXCEPTION_ERROR_CODE), 0);

    setup(state);
    inject_nmi(&the_vcpu);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), 0x80000202);
}

static void test_external_interrupt_injected_when_interruptible(void **state)
{
    (void)state;
    assert_true(inject_external_interrupt(&the_vcpu, 0x30));
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), INTERRUPTION_VALID | INTERRUPTION_TYPE_EXTERNAL | 0x30);
    assert_int_equal(fake_vmcs_write_count(VMCS_PRIMARY_PROCESSOR_CONTROLS), 0);
    assert_int_equal(the_vcpu.primary_controls, PRIMARY_OTHER_CONTROLS);
    /* Nothing was queued: the next one goes in as well. */
    fake_vmcs_set(VMCS_ENTRY_INTERRUPTION_INFO, 0);
    assert_true(inject_external_interrupt(&the_vcpu, 0x31));
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), INTERRUPTION_VALID | 0x31);
}

static void assert_window_open(void)
{
    assert_int_equal(the_vcpu.primary_controls, PRIMARY_OTHER_CONTROLS | PROC_INTERRUPT_WINDOW_EXITING);
    assert_int_equal(fake_vmcs_get(VMCS_PRIMARY_PROCESSOR_CONTROLS), PRIMARY_OTHER_CONTROLS | PROC_INTERRUPT_WINDOW_EXITING);
}

static void assert_window_closed(void)
{
    assert_int_equal(the_vcpu.primary_controls, PRIMARY_OTHER_CONTROLS);
    assert_int_equal(fake_vmcs_get(VMCS_PRIMARY_PROCESSOR_CONTROLS), PRIMARY_OTHER_CONTROLS);
}

static void test_interrupt_queued_until_the_window_exit(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_RFLAGS, 2); /* IF = 0 */
    assert_true(inject_external_interrupt(&the_vcpu, 0x41));
    assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_INTERRUPTION_INFO), 0);
    assert_window_open();
    /* One vector at a time. */
    assert_false(inject_external_interrupt(&the_vcpu, 0x42));
    assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_INTERRUPTION_INFO), 0);

    /* The guest sets IF: the window exit delivers the queued vector and closes the window. */
    fake_vmcs_set(VMCS_GUEST_RFLAGS, RFLAGS_IF | 2);
    assert_int_equal(fake_dispatch(EXIT_REASON_INTERRUPT_WINDOW, 0, &registers), FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), INTERRUPTION_VALID | INTERRUPTION_TYPE_EXTERNAL | 0x41);
    assert_window_closed();
    assert_int_equal(fake_vmcs_get(VMCS_GUEST_RIP), 0x1000); /* no instruction to skip */
    assert_int_equal(vmexit_get_statistics()->by_reason[EXIT_REASON_INTERRUPT_WINDOW], 1);

    /* The queue is free again. */
    fake_vmcs_set(VMCS_ENTRY_INTERRUPTION_INFO, 0);
    assert_true(inject_external_interrupt(&the_vcpu, 0x42));
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), INTERRUPTION_VALID | 0x42);
}

static void test_interrupt_queued_behind_blocking_or_a_pending_event(void **state)
{
    const uint32_t blocking[] = { INTERRUPTIBILITY_BLOCKING_BY_STI, INTERRUPTIBILITY_BLOCKING_BY_MOV_SS };
    for (size_t i = 0; i < 3; i++) {
        setup(state);
        if (i < 2)
            fake_vmcs_set(VMCS_GUEST_INTERRUPTIBILITY_STATE, blocking[i]);
        else /* an exception already set up for this entry */
            fake_vmcs_set(VMCS_ENTRY_INTERRUPTION_INFO, 0x80000B0D);
        assert_true(inject_external_interrupt(&the_vcpu, 0x50));
        assert_window_open();
        assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_INTERRUPTION_INFO), 0);
    }
    /* Blocking by NMI does not hold back external interrupts. */
    setup(state);
    fake_vmcs_set(VMCS_GUEST_INTERRUPTIBILITY_STATE, INTERRUPTIBILITY_BLOCKING_BY_NMI);
    assert_true(inject_external_interrupt(&the_vcpu, 0x51));
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), INTERRUPTION_VALID | 0x51);
    assert_window_closed();
}

static void test_window_exit_still_blocked_requeues(void **state)
{
    (void)state;
    fake_vmcs_set(VMCS_GUEST_RFLAGS, 2);
    assert_true(inject_external_interrupt(&the_vcpu, 0x60));
    /* The window exit arrives with an event to reinject: that goes first, the vector waits. */
    fake_vmcs_set(VMCS_GUEST_RFLAGS, RFLAGS_IF | 2);
    fake_vmcs_set(VMCS_IDT_VECTORING_INFO, INTERRUPTION_VALID | INTERRUPTION_TYPE_HARDWARE_EXCEPTION | 3);
    assert_int_equal(fake_dispatch(EXIT_REASON_INTERRUPT_WINDOW, 0, &registers), FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), INTERRUPTION_VALID | INTERRUPTION_TYPE_HARDWARE_EXCEPTION | 3);
    assert_window_open();
    assert_false(inject_external_interrupt(&the_vcpu, 0x61));

    /* Next window exit, nothing in the way. */
    fake_vmcs_set(VMCS_IDT_VECTORING_INFO, 0);
    fake_vmcs_set(VMCS_ENTRY_INTERRUPTION_INFO, 0);
    assert_int_equal(fake_dispatch(EXIT_REASON_INTERRUPT_WINDOW, 0, &registers), FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), INTERRUPTION_VALID | 0x60);
    assert_window_closed();
}

static void test_window_exit_with_nothing_queued_closes_the_window(void **state)
{
    (void)state;
    the_vcpu.primary_controls |= PROC_INTERRUPT_WINDOW_EXITING;
    inject_pending_external_interrupt(&the_vcpu);
    assert_window_closed();
    assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_INTERRUPTION_INFO), 0);
}

static void test_reinjection_copies_vectoring_information(void **state)
{
    (void)state;
    /* A page fault being delivered when the exit happened (bit 12: undefined in
     * IDT-vectoring information, reserved in the entry field). */
    fake_vmcs_set(VMCS_IDT_VECTORING_INFO, INTERRUPTION_VALID | INTERRUPTION_TYPE_HARDWARE_EXCEPTION |
                                               INTERRUPTION_DELIVER_ERROR_CODE | (1u << 12) | 14);
    fake_vmcs_set(VMCS_IDT_VECTORING_ERROR_CODE, 0x6);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LENGTH, 5);
    assert_int_equal(fake_dispatch(EXIT_REASON_PREEMPTION_TIMER, 0, &registers), FAKE_RETURNED);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), 0x80000B0E);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_EXCEPTION_ERROR_CODE), 0x6);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INSTRUCTION_LENGTH), 5);

    /* A software interrupt (INT 0x80): no error code, the instruction length again. */
    setup(state);
    fake_vmcs_set(VMCS_IDT_VECTORING_INFO, INTERRUPTION_VALID | INTERRUPTION_TYPE_SOFTWARE_INTERRUPT | 0x80);
    fake_vmcs_set(VMCS_EXIT_INSTRUCTION_LENGTH, 2);
    reinject_interrupted_event(&the_vcpu);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INTERRUPTION_INFO), INTERRUPTION_VALID | INTERRUPTION_TYPE_SOFTWARE_INTERRUPT | 0x80);
    assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_EXCEPTION_ERROR_CODE), 0);
    assert_int_equal(fake_vmcs_get(VMCS_ENTRY_INSTRUCTION_LENGTH), 2);

    /* Nothing was being delivered: nothing is written. */
    setup(state);
    fake_vmcs_set(VMCS_IDT_VECTORING_INFO, INTERRUPTION_TYPE_HARDWARE_EXCEPTION | 14); /* valid bit clear */
    reinject_interrupted_event(&the_vcpu);
    assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_INTERRUPTION_INFO), 0);
    assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_EXCEPTION_ERROR_CODE), 0);
    assert_int_equal(fake_vmcs_write_count(VMCS_ENTRY_INSTRUCTION_LENGTH), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_exception_encodings, setup),
        cmocka_unit_test_setup(test_external_interrupt_injected_when_interruptible, setup),
        cmocka_unit_test_setup(test_interrupt_queued_until_the_window_exit, setup),
        cmocka_unit_test_setup(test_interrupt_queued_behind_blocking_or_a_pending_event, setup),
        cmocka_unit_test_setup(test_window_exit_still_blocked_requeues, setup),
        cmocka_unit_test_setup(test_window_exit_with_nothing_queued_closes_the_window, setup),
        cmocka_unit_test_setup(test_reinjection_copies_vectoring_information, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
