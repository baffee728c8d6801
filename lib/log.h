/*
 * The log interface every layer writes to. lib declares it, the layer that owns
 * the console implements it (the hypervisor: hv/log.c, on its UART; host unit
 * tests: their fakes), so arch and drivers report without knowing where the
 * bytes go. Every line starts with "vigil: " so a reader (or tools/run-*) can
 * tell it from anything else on the line.
 */
#ifndef VIGIL_LIB_LOG_H
#define VIGIL_LIB_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG, LOG_TRACE };

/* The bytes as they are, in order with everything else logged. */
void log_write(const char *text, size_t length);
/* Formatted output, no prefix added; lines longer than the buffer end in "...". */
void log_raw_printf(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* "vigil: " (or "vigil: warning: ", "vigil: error: ") + message + newline, if level is enabled. */
void log_message(enum log_level level, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* Output may be buffered (drained later by a timer): false writes everything now
 * and from then on writes at once (before a halt, a power-off or a fault report). */
void log_set_buffered(bool enabled);

#define log_error(...) log_message(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_message(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_message(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_message(LOG_DEBUG, __VA_ARGS__)

#endif
