/*
 * Register accessors for a UART on the x86 I/O port bus: what the hypervisor
 * uses on hardware and emulators. Freestanding only (the host unit tests use a
 * fake accessor table instead, since in/out fault in user space).
 */
#include "arch/x86_64/port_io.h"
#include "drivers/uart16550/uart16550.h"

static uint8_t port_io_read8(void *context, uint16_t port)
{
    (void)context; /* the port number alone addresses the register */
    return port_in8(port);
}

static void port_io_write8(void *context, uint16_t port, uint8_t value)
{
    (void)context;
    port_out8(port, value);
}

const struct uart16550_io uart16550_port_io = {
    .read8 = port_io_read8,
    .write8 = port_io_write8,
    .context = NULL,
};
