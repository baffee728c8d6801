/*
 * The hypervisor's implementation of the log interface (lib/log.h) on its
 * console UART, and what only the hypervisor does with it.
 */
#ifndef VIGIL_HV_LOG_H
#define VIGIL_HV_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "drivers/uart16550/uart16550.h"
#include "lib/log.h"

/* Until log_attach_console runs, output goes to COM1 at 115200 (initialised on first use). */
void log_attach_console(struct uart16550 *console);
/* The UART the log (and the operator console) use. */
struct uart16550 *log_console(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Once the timer drains it (hv/timer.c, log_set_buffered(true)), output goes
 * through a ring instead of waiting for the UART in whatever exit produced it.
 * log_drain fills the UART's FIFO and says whether bytes remain; log_flush
 * writes everything now. */
bool log_drain(void);
void log_flush(void);

#endif
