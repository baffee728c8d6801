/*
 * Polled driver for a 16550-compatible UART (the PC's COM ports).
 *
 * Registers are reached through a small table of accessors so the same driver
 * runs on hardware (port I/O, see uart16550_portio.c) and in host unit tests
 * (a fake register model). The driver never waits forever: a transmitter that
 * never becomes ready costs a bounded number of polls and the byte is dropped
 * and counted, because a stuck console must not hang the hypervisor.
 */
#ifndef VIGIL_DRIVERS_UART16550_UART16550_H
#define VIGIL_DRIVERS_UART16550_UART16550_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Register offsets from the UART's base port. Some share an offset and are
 * selected by the divisor latch access bit (DLAB) or by direction. */
enum {
    UART16550_REGISTER_RECEIVE_BUFFER = 0,      /* read, DLAB=0 */
    UART16550_REGISTER_TRANSMIT_HOLDING = 0,    /* write, DLAB=0 */
    UART16550_REGISTER_DIVISOR_LOW = 0,         /* DLAB=1 */
    UART16550_REGISTER_INTERRUPT_ENABLE = 1,    /* DLAB=0 */
    UART16550_REGISTER_DIVISOR_HIGH = 1,        /* DLAB=1 */
    UART16550_REGISTER_FIFO_CONTROL = 2,        /* write */
    UART16550_REGISTER_LINE_CONTROL = 3,
    UART16550_REGISTER_MODEM_CONTROL = 4,
    UART16550_REGISTER_LINE_STATUS = 5,
    UART16550_REGISTER_SCRATCH = 7,
};

/* Register bits and values the driver uses. */
enum {
    UART16550_LINE_CONTROL_8N1 = 0x03,             /* 8 data bits, no parity, 1 stop bit */
    UART16550_LINE_CONTROL_DLAB = 0x80,            /* divisor latch access */
    UART16550_FIFO_CONTROL_ENABLE_CLEAR_14 = 0xC7, /* enable, clear both FIFOs, 14-byte trigger */
    UART16550_MODEM_CONTROL_DTR_RTS = 0x03,        /* no OUT2: interrupts stay off, we poll */
    UART16550_LINE_STATUS_DATA_READY = 0x01,
    UART16550_LINE_STATUS_TRANSMIT_EMPTY = 0x20,   /* transmit holding register empty */
    UART16550_SCRATCH_PATTERN_1 = 0x5A,
    UART16550_SCRATCH_PATTERN_2 = 0xA5,
};

/* The divisor is relative to this rate (1.8432 MHz clock / 16). */
#define UART16550_MAX_BAUD 115200u
#define UART16550_MIN_BAUD 50u

/* How many times putc reads the line status register waiting for the
 * transmitter before it gives up on a byte. A port read takes about a
 * microsecond on hardware, so this is roughly a second: enough for one byte
 * even at 50 baud (200 ms), yet a dead or missing UART does not look hung. */
#define UART16550_TRANSMIT_POLL_LIMIT 1000000u

/* How registers are reached: port I/O on hardware, a fake in tests. */
struct uart16550_io {
    uint8_t (*read8)(void *context, uint16_t port);
    void (*write8)(void *context, uint16_t port, uint8_t value);
    void *context;
};

/* Accessors using the x86 in/out instructions (uart16550_portio.c; linked
 * into the hypervisor image only, never into host tests). */
extern const struct uart16550_io uart16550_port_io;

struct uart16550 {
    const struct uart16550_io *io;
    uint16_t base;           /* first port of the 8-port register block */
    uint32_t baud;
    uint32_t dropped_bytes;  /* bytes not sent: transmitter stuck or no device */
    bool present;            /* false: putc/write drop, getc returns -1 */
};

enum uart16550_status {
    UART16550_OK = 0,
    UART16550_BAD_BAUD,      /* registers untouched */
    UART16550_NO_DEVICE,     /* scratch register did not hold a value */
};

/* Programs the UART for polled 8N1 at baud. On any failure the uart is left
 * absent (present=false) so later calls are harmless no-ops. */
enum uart16550_status uart16550_init(struct uart16550 *uart, const struct uart16550_io *io,
                                     uint16_t base, uint32_t baud);

/* Sends one byte; waits at most UART16550_TRANSMIT_POLL_LIMIT polls for the
 * transmitter, otherwise drops the byte and counts it in dropped_bytes. */
void uart16550_putc(struct uart16550 *uart, char c);

/* Sends length bytes, turning each '\n' into "\r\n" for terminals. */
void uart16550_write(struct uart16550 *uart, const char *buffer, size_t length);

/* Returns the next received byte (0..255), or -1 when none is ready. */
int uart16550_getc(struct uart16550 *uart);

/* Transmit without waiting (for a caller that drains its own buffer on a timer):
 * how many bytes the transmitter takes right now (the FIFO depth once it is
 * empty, else 0), and writing one of them. No '\n' translation here. */
#define UART16550_FIFO_DEPTH 16u
unsigned uart16550_transmit_room(struct uart16550 *uart);
void uart16550_put_now(struct uart16550 *uart, char c);

/* True when baud is in 50..115200 and divides 115200 exactly, so the divisor
 * latch produces exactly the requested rate. */
bool uart16550_baud_valid(uint32_t baud);

#endif /* VIGIL_DRIVERS_UART16550_UART16550_H */
