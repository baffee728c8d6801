/*
 * Unit tests for the polled 16550 driver, run against a fake register model
 * that records every register write in order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/uart16550/uart16550.h"

#define COM1 0x3F8
#define COM2 0x2F8
#define FAKE_MAX_WRITES 64
#define TRANSMIT_NEVER_EMPTY UINT32_MAX

struct port_write {
    uint16_t port;
    uint8_t value;
};

struct fake_uart {
    uint16_t base;
    struct port_write writes[FAKE_MAX_WRITES];
    size_t write_count;
    size_t read_count;                 /* reads of any register */
    uint32_t line_status_reads;
    uint32_t receive_buffer_reads;
    /* How many line status reads report the transmitter busy before it empties. */
    uint32_t transmit_busy_polls;
    bool data_ready;
    uint8_t receive_byte;
    /* Scratch register behaviour: a real UART holds what was written; an
     * empty bus reads 0xFF; a broken bus may return one fixed value. */
    bool scratch_holds_value;
    uint8_t scratch_fixed_value;
    uint8_t scratch_value;
};

static uint8_t fake_read8(void *context, uint16_t port)
{
    struct fake_uart *fake = context;
    fake->read_count++;
    switch (port - fake->base) {
    case UART16550_REGISTER_LINE_STATUS: {
        fake->line_status_reads++;
        uint8_t status = fake->data_ready ? UART16550_LINE_STATUS_DATA_READY : 0;
        if (fake->transmit_busy_polls == 0)
            status |= UART16550_LINE_STATUS_TRANSMIT_EMPTY;
        else if (fake->transmit_busy_polls != TRANSMIT_NEVER_EMPTY)
            fake->transmit_busy_polls--;
        return status;
    }
    case UART16550_REGISTER_RECEIVE_BUFFER:
        fake->receive_buffer_reads++;
        fake->data_ready = false;
        return fake->receive_byte;
    case UART16550_REGISTER_SCRATCH:
        return fake->scratch_holds_value ? fake->scratch_value : fake->scratch_fixed_value;
    default:
        fail_msg("unexpected read of port 0x%x", port);
        return 0;
    }
}

static void fake_write8(void *context, uint16_t port, uint8_t value)
{
    struct fake_uart *fake = context;
    assert_true(fake->write_count < FAKE_MAX_WRITES);
    fake->writes[fake->write_count++] = (struct port_write){ port, value };
    if (port - fake->base == UART16550_REGISTER_SCRATCH)
        fake->scratch_value = value;
}

struct fixture {
    struct fake_uart fake;
    struct uart16550_io io;
    struct uart16550 uart;
};

static int setup(void **state)
{
    static struct fixture fixture;
    memset(&fixture, 0, sizeof(fixture));
    fixture.fake.base = COM1;
    fixture.fake.scratch_holds_value = true;
    fixture.io = (struct uart16550_io){ fake_read8, fake_write8, &fixture.fake };
    *state = &fixture;
    return 0;
}

static void assert_writes(const struct fake_uart *fake, const struct port_write *expected,
                          size_t expected_count)
{
    for (size_t index = 0; index < expected_count && index < fake->write_count; index++) {
        if (fake->writes[index].port != expected[index].port ||
            fake->writes[index].value != expected[index].value)
            fail_msg("write %zu: got (0x%x, 0x%02x), want (0x%x, 0x%02x)", index,
                     fake->writes[index].port, fake->writes[index].value, expected[index].port,
                     expected[index].value);
    }
    assert_int_equal(fake->write_count, expected_count);
}

/* The full init sequence for a given base and divisor. */
static void assert_init_sequence(const struct fake_uart *fake, uint16_t base, uint16_t divisor)
{
    const struct port_write expected[] = {
        { base + 1, 0x00 },                 /* IER: interrupts off */
        { base + 7, 0x5A },                 /* scratch probe */
        { base + 7, 0xA5 },
        { base + 3, 0x80 },                 /* LCR: DLAB on */
        { base + 0, divisor & 0xFF },       /* divisor low */
        { base + 1, divisor >> 8 },         /* divisor high */
        { base + 3, 0x03 },                 /* LCR: 8N1, DLAB off */
        { base + 2, 0xC7 },                 /* FCR */
        { base + 4, 0x03 },                 /* MCR: DTR|RTS, no OUT2 */
    };
    assert_writes(fake, expected, sizeof(expected) / sizeof(expected[0]));
}

static void init_programs_registers_for_115200(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(uart16550_init(&f->uart, &f->io, COM1, 115200), UART16550_OK);
    assert_true(f->uart.present);
    assert_int_equal(f->uart.baud, 115200);
    assert_int_equal(f->uart.base, COM1);
    assert_int_equal(f->uart.dropped_bytes, 0);
    assert_init_sequence(&f->fake, COM1, 1);
}

static void init_programs_registers_for_9600(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(uart16550_init(&f->uart, &f->io, COM1, 9600), UART16550_OK);
    assert_init_sequence(&f->fake, COM1, 12);
}

static void init_programs_registers_for_38400_on_com2(void **state)
{
    struct fixture *f = *state;
    f->fake.base = COM2;
    assert_int_equal(uart16550_init(&f->uart, &f->io, COM2, 38400), UART16550_OK);
    assert_init_sequence(&f->fake, COM2, 3);
}

static void init_programs_divisor_high_byte_for_50(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(uart16550_init(&f->uart, &f->io, COM1, 50), UART16550_OK);
    assert_init_sequence(&f->fake, COM1, 2304); /* 0x0900: low 0x00, high 0x09 */
}

static void init_rejects_bad_baud_without_touching_registers(void **state)
{
    struct fixture *f = *state;
    const uint32_t bad_bauds[] = { 0, 1, 49, 110, 1234, 115201, 230400, UINT32_MAX };
    for (size_t index = 0; index < sizeof(bad_bauds) / sizeof(bad_bauds[0]); index++) {
        f->uart.present = true;
        assert_int_equal(uart16550_init(&f->uart, &f->io, COM1, bad_bauds[index]),
                         UART16550_BAD_BAUD);
        assert_false(f->uart.present);
    }
    assert_int_equal(f->fake.write_count, 0);
    assert_int_equal(f->fake.read_count, 0);

    /* And the half-initialised uart is harmless afterwards. */
    uart16550_putc(&f->uart, 'x');
    assert_int_equal(uart16550_getc(&f->uart), -1);
    assert_int_equal(f->fake.write_count, 0);
    assert_int_equal(f->fake.read_count, 0);
}

static void baud_valid_accepts_exact_divisors_only(void **state)
{
    (void)state;
    const uint32_t good[] = { 50, 75, 150, 300, 600, 1200, 2400, 4800, 9600, 14400, 19200, 38400, 57600, 115200 };
    for (size_t index = 0; index < sizeof(good) / sizeof(good[0]); index++)
        assert_true(uart16550_baud_valid(good[index]));
    const uint32_t bad[] = { 0, 1, 25, 45, 110, 56000, 115201, 230400, UINT32_MAX };
    for (size_t index = 0; index < sizeof(bad) / sizeof(bad[0]); index++)
        assert_false(uart16550_baud_valid(bad[index]));
}

static void init_detects_absent_device(void **state)
{
    struct fixture *f = *state;
    f->fake.scratch_holds_value = false;
    f->fake.scratch_fixed_value = 0xFF; /* floating ISA bus */
    assert_int_equal(uart16550_init(&f->uart, &f->io, COM1, 115200), UART16550_NO_DEVICE);
    assert_false(f->uart.present);
    /* Stopped after the failed probe: no divisor, no line control. */
    const struct port_write expected[] = { { COM1 + 1, 0x00 }, { COM1 + 7, 0x5A } };
    assert_writes(&f->fake, expected, 2);

    /* putc on an absent device drops without touching any register. */
    size_t reads_before = f->fake.read_count;
    uart16550_write(&f->uart, "hi", 2);
    assert_int_equal(f->fake.write_count, 2);
    assert_int_equal(f->fake.read_count, reads_before);
    assert_int_equal(f->uart.dropped_bytes, 2);
    assert_int_equal(uart16550_getc(&f->uart), -1);
}

static void init_detects_bus_that_returns_first_pattern(void **state)
{
    struct fixture *f = *state;
    f->fake.scratch_holds_value = false;
    f->fake.scratch_fixed_value = 0x5A; /* passes the first pattern only */
    assert_int_equal(uart16550_init(&f->uart, &f->io, COM1, 115200), UART16550_NO_DEVICE);
    assert_false(f->uart.present);
    assert_int_equal(f->fake.write_count, 3);
}

static void initialise_present_uart(struct fixture *f)
{
    assert_int_equal(uart16550_init(&f->uart, &f->io, COM1, 115200), UART16550_OK);
    f->fake.write_count = 0;
    f->fake.read_count = 0;
    f->fake.line_status_reads = 0;
}

static void putc_waits_for_transmitter_empty(void **state)
{
    struct fixture *f = *state;
    initialise_present_uart(f);
    f->fake.transmit_busy_polls = 5;
    uart16550_putc(&f->uart, 'A');
    assert_int_equal(f->fake.line_status_reads, 6); /* 5 busy + 1 empty */
    const struct port_write expected[] = { { COM1, 'A' } };
    assert_writes(&f->fake, expected, 1);
    assert_int_equal(f->uart.dropped_bytes, 0);
}

static void putc_drops_and_counts_when_transmitter_never_empties(void **state)
{
    struct fixture *f = *state;
    initialise_present_uart(f);
    f->fake.transmit_busy_polls = TRANSMIT_NEVER_EMPTY;
    uart16550_putc(&f->uart, 'A');
    assert_int_equal(f->fake.line_status_reads, UART16550_TRANSMIT_POLL_LIMIT);
    assert_int_equal(f->fake.write_count, 0);
    assert_int_equal(f->uart.dropped_bytes, 1);
    uart16550_putc(&f->uart, 'B');
    assert_int_equal(f->uart.dropped_bytes, 2);

    /* Once the transmitter recovers, bytes flow again. */
    f->fake.transmit_busy_polls = 0;
    uart16550_putc(&f->uart, 'C');
    const struct port_write expected[] = { { COM1, 'C' } };
    assert_writes(&f->fake, expected, 1);
    assert_int_equal(f->uart.dropped_bytes, 2);
}

static void transmit_room_is_the_fifo_once_empty_and_put_now_never_waits(void **state)
{
    struct fixture *f = *state;
    initialise_present_uart(f);
    f->fake.transmit_busy_polls = TRANSMIT_NEVER_EMPTY;
    assert_int_equal(uart16550_transmit_room(&f->uart), 0);
    f->fake.transmit_busy_polls = 0;
    assert_int_equal(uart16550_transmit_room(&f->uart), UART16550_FIFO_DEPTH);
    f->fake.line_status_reads = 0;
    uart16550_put_now(&f->uart, '\n'); /* raw: no carriage return added */
    uart16550_put_now(&f->uart, 'x');
    assert_int_equal(f->fake.line_status_reads, 0);
    const struct port_write expected[] = { { COM1, '\n' }, { COM1, 'x' } };
    assert_writes(&f->fake, expected, 2);
}

static void put_now_to_an_absent_uart_is_dropped_and_counted(void **state)
{
    struct fixture *f = *state;
    f->fake.scratch_holds_value = false;
    f->fake.scratch_fixed_value = 0xFF;
    assert_int_equal(uart16550_init(&f->uart, &f->io, COM1, 115200), UART16550_NO_DEVICE);
    f->fake.write_count = 0;
    assert_int_equal(uart16550_transmit_room(&f->uart), UART16550_FIFO_DEPTH);
    uart16550_put_now(&f->uart, 'x');
    assert_int_equal(f->fake.write_count, 0);
    assert_int_equal(f->uart.dropped_bytes, 1);
}

static void write_turns_newline_into_carriage_return_newline(void **state)
{
    struct fixture *f = *state;
    initialise_present_uart(f);
    uart16550_write(&f->uart, "a\nb\n\nIGNORED", 5);
    const struct port_write expected[] = {
        { COM1, 'a' }, { COM1, '\r' }, { COM1, '\n' }, { COM1, 'b' },
        { COM1, '\r' }, { COM1, '\n' }, { COM1, '\r' }, { COM1, '\n' },
    };
    assert_writes(&f->fake, expected, sizeof(expected) / sizeof(expected[0]));
}

static void write_sends_embedded_nul_and_high_bytes(void **state)
{
    struct fixture *f = *state;
    initialise_present_uart(f);
    uart16550_write(&f->uart, "\0\xFF", 2);
    const struct port_write expected[] = { { COM1, 0x00 }, { COM1, 0xFF } };
    assert_writes(&f->fake, expected, 2);
}

static void getc_returns_minus_one_without_data(void **state)
{
    struct fixture *f = *state;
    initialise_present_uart(f);
    f->fake.data_ready = false;
    f->fake.receive_byte = 'x';
    assert_int_equal(uart16550_getc(&f->uart), -1);
    assert_int_equal(f->fake.receive_buffer_reads, 0); /* must not consume anything */
}

static void getc_returns_byte_when_data_ready(void **state)
{
    struct fixture *f = *state;
    initialise_present_uart(f);
    f->fake.data_ready = true;
    f->fake.receive_byte = 0xE9; /* above 127: must not come back negative */
    assert_int_equal(uart16550_getc(&f->uart), 0xE9);
    assert_int_equal(f->fake.receive_buffer_reads, 1);
    assert_int_equal(uart16550_getc(&f->uart), -1); /* the fake cleared data ready */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(init_programs_registers_for_115200, setup),
        cmocka_unit_test_setup(init_programs_registers_for_9600, setup),
        cmocka_unit_test_setup(init_programs_registers_for_38400_on_com2, setup),
        cmocka_unit_test_setup(init_programs_divisor_high_byte_for_50, setup),
        cmocka_unit_test_setup(init_rejects_bad_baud_without_touching_registers, setup),
        cmocka_unit_test(baud_valid_accepts_exact_divisors_only),
        cmocka_unit_test_setup(init_detects_absent_device, setup),
        cmocka_unit_test_setup(init_detects_bus_that_returns_first_pattern, setup),
        cmocka_unit_test_setup(putc_waits_for_transmitter_empty, setup),
        cmocka_unit_test_setup(putc_drops_and_counts_when_transmitter_never_empties, setup),
        cmocka_unit_test_setup(write_turns_newline_into_carriage_return_newline, setup),
        cmocka_unit_test_setup(write_sends_embedded_nul_and_high_bytes, setup),
        cmocka_unit_test_setup(getc_returns_minus_one_without_data, setup),
        cmocka_unit_test_setup(getc_returns_byte_when_data_ready, setup),
        cmocka_unit_test_setup(transmit_room_is_the_fifo_once_empty_and_put_now_never_waits, setup),
        cmocka_unit_test_setup(put_now_to_an_absent_uart_is_dropped_and_counted, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
