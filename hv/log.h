/*
 * The hypervisor log on its console UART. Every line starts with "vigil: " so a
 * reader (or tools/run-*) can tell it from anything else on the line.
 */
#ifndef VIGIL_HV_LOG_H
#define VIGIL_HV_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "drivers/uart16550/uart16550.h"
#include "hv/cmdline.h"

/* Until log_attach_console runs, output goes to COM1 at 115200 (initialised on first use). */
void log_attach_console(struct uart16550 *console);
/* The UART the log (and the operator console) use. */
struct uart16550 *log_console(void);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

void log_write(const char *text, size_t length);
/* Once the timer drains it (hv/timer.c), output goes through a ring instead of
 * waiting for the UART in whatever exit produced it. log_drain fills the UART's
 * FIFO and says whether bytes remain; log_flush writes everything now (before
 * a power-off, a halt or a panic report). Turning buffering off flushes. */
void log_set_buffered(bool enabled);
bool log_drain(void);
void log_flush(void);
/* Formatted output, no prefix added; lines longer than the buffer end in "...". */
void log_raw_printf(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* "vigil: " (or "vigil: warning: ", "vigil: error: ") + message + newline, if level is enabled. */
void log_message(enum log_level level, const char *format, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_message(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_message(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_message(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_message(LOG_DEBUG, __VA_ARGS__)

#endif
