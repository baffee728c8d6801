/* The log fake: see log_capture.h. */
#include "tests/unit/log_capture.h"

#include <stdarg.h>
#include <string.h>

#include "lib/format.h"
#include "hv/log.h"

struct log_capture log_capture;

void log_capture_reset(void)
{
    memset(&log_capture, 0, sizeof log_capture);
    log_capture.buffered = true;
}

void log_set_buffered(bool enabled) { log_capture.buffered = enabled; }
void log_flush(void) { log_capture.flushes++; }

void log_raw_printf(const char *format, ...)
{
    if (log_capture.buffered)
        log_capture.written_while_buffered = true;
    size_t room = sizeof log_capture.text - log_capture.length;
    va_list arguments;
    va_start(arguments, format);
    int length = format_vstring(log_capture.text + log_capture.length, room, format, arguments);
    va_end(arguments);
    if (length > 0)
        log_capture.length += (size_t)length < room - 1 ? (size_t)length : room - 1;
}
