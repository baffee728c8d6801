/*
 * Unit tests for the hypervisor log (hv/log.c) against a fake 16550: unbuffered
 * output goes straight to the UART; buffered output waits in the ring until the
 * timer drains it, a FIFO's worth (16 bytes) per drain and only when the
 * transmitter is empty; when more than the ring holds is written, the oldest bytes
 * go out synchronously, so nothing is lost and the order is kept across the wrap;
 * turning buffering off flushes. Formatted lines longer than the line buffer end
 * in "..."; levels above the current one print nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hv/log.h"

#define COM1 0x3F8
#define RING_SIZE 65536u /* hv/log.c LOG_RING_SIZE */
#define LINE_MAX 512u    /* hv/log.c LOG_LINE_MAX */

/* ---- a fake 16550: what reaches the wire, and a transmitter that may be busy */
static char *wire;
static size_t wire_length, wire_size;
static bool transmitter_busy;
static uint8_t scratch, line_control;

static uint8_t fake_read8(void *context, uint16_t port)
{
    (void)context;
    switch (port - COM1) {
    case UART16550_REGISTER_LINE_STATUS: return transmitter_busy ? 0 : UART16550_LINE_STATUS_TRANSMIT_EMPTY;
    case UART16550_REGISTER_SCRATCH: return scratch;
    default: return 0;
    }
}

static void fake_write8(void *context, uint16_t port, uint8_t value)
{
    (void)context;
    switch (port - COM1) {
    case UART16550_REGISTER_TRANSMIT_HOLDING:
        if (line_control & UART16550_LINE_CONTROL_DLAB)
            return; /* the divisor, not data */
        if (wire_length == wire_size) {
            wire_size = wire_size ? wire_size * 2 : 4096;
            wire = realloc(wire, wire_size);
            assert_non_null(wire);
        }
        wire[wire_length++] = (char)value;
        return;
    case UART16550_REGISTER_LINE_CONTROL: line_control = value; return;
    case UART16550_REGISTER_SCRATCH: scratch = value; return;
    default: return;
    }
}

static const struct uart16550_io fake_io = {fake_read8, fake_write8, NULL};
/* hv/log.c's fallback before a console is attached: never used here. */
const struct uart16550_io uart16550_port_io = {NULL, NULL, NULL};
static struct uart16550 uart;

static int setup(void **state)
{
    (void)state;
    assert_int_equal(uart16550_init(&uart, &fake_io, COM1, 115200), UART16550_OK);
    log_attach_console(&uart);
    transmitter_busy = false;
    log_set_buffered(false); /* empties the ring of an earlier test */
    log_set_level(LOG_INFO);
    wire_length = 0;
    return 0;
}

static void assert_wire(const char *expected)
{
    size_t length = strlen(expected);
    if (wire_length != length || memcmp(wire, expected, length) != 0)
        fail_msg("wire has %zu bytes \"%.*s\", expected %zu \"%s\"", wire_length, (int)wire_length, wire, length,
                 expected);
}

/* The byte the n-th written byte of the pattern is: printable, no '\n'. */
static char pattern(size_t n) { return (char)('A' + n % 26); }

static void write_pattern(size_t from, size_t count)
{
    static char chunk[1000];
    while (count > 0) {
        size_t now = count < sizeof chunk ? count : sizeof chunk;
        for (size_t i = 0; i < now; i++)
            chunk[i] = pattern(from + i);
        log_write(chunk, now);
        from += now;
        count -= now;
    }
}

static void assert_wire_is_pattern(size_t count)
{
    assert_int_equal(wire_length, count);
    for (size_t i = 0; i < count; i++)
        if (wire[i] != pattern(i))
            fail_msg("byte %zu is '%c', expected '%c'", i, wire[i], pattern(i));
}

static void test_unbuffered_goes_out_at_once(void **state)
{
    (void)state;
    log_write("one\ntwo", 7);
    assert_wire("one\r\ntwo");
}

static void test_buffered_waits_for_the_drain(void **state)
{
    (void)state;
    log_set_buffered(true);
    log_write("hello, world, from the ring\n", 28);
    assert_int_equal(wire_length, 0);
    /* a busy transmitter takes nothing */
    transmitter_busy = true;
    assert_true(log_drain());
    assert_int_equal(wire_length, 0);
    transmitter_busy = false;
    assert_true(log_drain()); /* 16 of 29 bytes (the \n became \r\n) */
    assert_int_equal(wire_length, UART16550_FIFO_DEPTH);
    assert_false(log_drain()); /* the other 13: empty now */
    assert_wire("hello, world, from the ring\r\n");
    assert_false(log_drain());
}

static void test_full_ring_writes_the_oldest_synchronously(void **state)
{
    (void)state;
    log_set_buffered(true);
    write_pattern(0, RING_SIZE);
    assert_int_equal(wire_length, 0); /* exactly full: nothing had to go */
    write_pattern(RING_SIZE, 1000);
    assert_int_equal(wire_length, 1000); /* the 1000 oldest went out, in order */
    assert_wire_is_pattern(1000);
    log_flush();
    assert_wire_is_pattern(RING_SIZE + 1000);
    assert_false(log_drain());
}

static void test_order_kept_across_the_wrap(void **state)
{
    (void)state;
    log_set_buffered(true);
    size_t written = 0;
    /* drain some, write more: head and tail both wrap the ring several times */
    for (unsigned round = 0; round < 12; round++) {
        write_pattern(written, 20011);
        written += 20011;
        for (unsigned drains = 0; drains < 700; drains++)
            log_drain();
    }
    log_set_buffered(false); /* flushes */
    assert_wire_is_pattern(written);
}

static void test_long_line_truncated_with_dots(void **state)
{
    (void)state;
    char message[2000];
    memset(message, 'm', sizeof message - 1);
    message[sizeof message - 1] = '\0';
    log_message(LOG_WARN, "%s", message);
    /* prefix + message cut so that the line with "...\n" fits the 512-byte buffer */
    assert_int_equal(wire_length, LINE_MAX - 1 + 1); /* + the \r before the \n */
    assert_memory_equal(wire, "vigil: warning: mmm", 19);
    assert_memory_equal(wire + wire_length - 5, "...\r\n", 5);
    for (size_t i = strlen("vigil: warning: "); i < wire_length - 5; i++)
        assert_int_equal(wire[i], 'm');
    /* one that fits is whole */
    wire_length = 0;
    log_message(LOG_ERROR, "short %d", 42);
    assert_wire("vigil: error: short 42\r\n");
    wire_length = 0;
    log_raw_printf("%s", message);
    assert_memory_equal(wire + wire_length - 5, "...\r\n", 5);
}

static void test_levels(void **state)
{
    (void)state;
    log_debug("hidden %d", 1);
    log_info("shown");
    assert_wire("vigil: shown\r\n");
    log_set_level(LOG_TRACE);
    wire_length = 0;
    log_debug("now shown");
    assert_wire("vigil: debug: now shown\r\n");
    log_set_level(LOG_ERROR);
    wire_length = 0;
    log_warn("hidden");
    assert_int_equal(wire_length, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_unbuffered_goes_out_at_once, setup),
        cmocka_unit_test_setup(test_buffered_waits_for_the_drain, setup),
        cmocka_unit_test_setup(test_full_ring_writes_the_oldest_synchronously, setup),
        cmocka_unit_test_setup(test_order_kept_across_the_wrap, setup),
        cmocka_unit_test_setup(test_long_line_truncated_with_dots, setup),
        cmocka_unit_test_setup(test_levels, setup),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    free(wire);
    return failed;
}
