/* A fake of hv/log.c's raw output for unit tests of code that prints through
 * log_raw_printf (test_panic_policy.c, test_exception_report.c): the text is kept,
 * and so is whether it was written while the log was still buffered. */
#ifndef VIGIL_TESTS_UNIT_LOG_CAPTURE_H
#define VIGIL_TESTS_UNIT_LOG_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>

struct log_capture {
    char text[4096];
    size_t length;
    bool buffered;              /* log_set_buffered's last value (initially true, as after boot) */
    bool written_while_buffered;
    unsigned flushes;           /* log_flush calls */
};
extern struct log_capture log_capture;

void log_capture_reset(void);

#endif
