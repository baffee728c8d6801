/*
 * Polled 16550 UART driver. See uart16550.h for the contract.
 */
#include "drivers/uart16550/uart16550.h"

static uint8_t read_register(const struct uart16550 *uart, uint16_t offset)
{
    return uart->io->read8(uart->io->context, (uint16_t)(uart->base + offset));
}

static void write_register(const struct uart16550 *uart, uint16_t offset, uint8_t value)
{
    uart->io->write8(uart->io->context, (uint16_t)(uart->base + offset), value);
}

bool uart16550_baud_valid(uint32_t baud)
{
    return baud >= UART16550_MIN_BAUD && baud <= UART16550_MAX_BAUD &&
           UART16550_MAX_BAUD % baud == 0;
}

/* A register that holds what was written means something answers at this
 * address; an empty ISA bus reads back 0xFF whatever was written. Two
 * complementary patterns catch a bus that merely echoes one fixed value. */
static bool scratch_register_holds(const struct uart16550 *uart, uint8_t pattern)
{
    write_register(uart, UART16550_REGISTER_SCRATCH, pattern);
    return read_register(uart, UART16550_REGISTER_SCRATCH) == pattern;
}

enum uart16550_status uart16550_init(struct uart16550 *uart, const struct uart16550_io *io,
                                     uint16_t base, uint32_t baud)
{
    uart->io = io;
    uart->base = base;
    uart->baud = baud;
    uart->dropped_bytes = 0;
    uart->present = false;

    if (!uart16550_baud_valid(baud))
        return UART16550_BAD_BAUD;

    /* Interrupts off first: we poll, and a half-configured UART must not
     * raise anything the hypervisor has no handler for. */
    write_register(uart, UART16550_REGISTER_INTERRUPT_ENABLE, 0x00);

    if (!scratch_register_holds(uart, UART16550_SCRATCH_PATTERN_1) ||
        !scratch_register_holds(uart, UART16550_SCRATCH_PATTERN_2))
        return UART16550_NO_DEVICE;

    uint16_t divisor = (uint16_t)(UART16550_MAX_BAUD / baud);
    write_register(uart, UART16550_REGISTER_LINE_CONTROL, UART16550_LINE_CONTROL_DLAB);
    write_register(uart, UART16550_REGISTER_DIVISOR_LOW, (uint8_t)(divisor & 0xFF));
    write_register(uart, UART16550_REGISTER_DIVISOR_HIGH, (uint8_t)(divisor >> 8));
    /* Writing the line control without DLAB also switches offsets 0 and 1
     * back to the data and interrupt enable registers. */
    write_register(uart, UART16550_REGISTER_LINE_CONTROL, UART16550_LINE_CONTROL_8N1);
    write_register(uart, UART16550_REGISTER_FIFO_CONTROL, UART16550_FIFO_CONTROL_ENABLE_CLEAR_14);
    write_register(uart, UART16550_REGISTER_MODEM_CONTROL, UART16550_MODEM_CONTROL_DTR_RTS);

    uart->present = true;
    return UART16550_OK;
}

void uart16550_putc(struct uart16550 *uart, char c)
{
    if (!uart->present) {
        uart->dropped_bytes++;
        return;
    }
    for (uint32_t poll = 0; poll < UART16550_TRANSMIT_POLL_LIMIT; poll++) {
        if (read_register(uart, UART16550_REGISTER_LINE_STATUS) &
            UART16550_LINE_STATUS_TRANSMIT_EMPTY) {
            write_register(uart, UART16550_REGISTER_TRANSMIT_HOLDING, (uint8_t)c);
            return;
        }
    }
    uart->dropped_bytes++;
}

unsigned uart16550_transmit_room(struct uart16550 *uart)
{
    if (!uart->present)
        return UART16550_FIFO_DEPTH; /* bytes to an absent UART are dropped at once */
    /* THRE with the FIFO enabled (init sets FCR): the whole FIFO is empty. */
    return (read_register(uart, UART16550_REGISTER_LINE_STATUS) & UART16550_LINE_STATUS_TRANSMIT_EMPTY)
               ? UART16550_FIFO_DEPTH
               : 0;
}

void uart16550_put_now(struct uart16550 *uart, char c)
{
    if (!uart->present) {
        uart->dropped_bytes++;
        return;
    }
    write_register(uart, UART16550_REGISTER_TRANSMIT_HOLDING, (uint8_t)c);
}

void uart16550_write(struct uart16550 *uart, const char *buffer, size_t length)
{
    for (size_t index = 0; index < length; index++) {
        if (buffer[index] == '\n')
            uart16550_putc(uart, '\r');
        uart16550_putc(uart, buffer[index]);
    }
}

int uart16550_getc(struct uart16550 *uart)
{
    if (!uart->present)
        return -1;
    if (!(read_register(uart, UART16550_REGISTER_LINE_STATUS) & UART16550_LINE_STATUS_DATA_READY))
        return -1;
    return read_register(uart, UART16550_REGISTER_RECEIVE_BUFFER);
}
