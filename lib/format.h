/*
 * printf-style formatting for the hypervisor, in general-purpose registers only.
 *
 * Why not newlib's vsnprintf: its nano implementation copies the va_list with
 * SSE moves (movdqu), and the hypervisor must never touch XMM registers — they
 * hold the guest's state across VM exits. The image is checked for SSE
 * instructions at build time (cmake/check-no-simd.cmake).
 *
 * Supported: flags '-' and '0', width and precision (numbers or '*'), length
 * modifiers hh h l ll z j t, conversions d i u x X o c s p %. Same return value
 * as C99 snprintf: the length the full output would have had.
 */
#ifndef VIGIL_LIB_FORMAT_H
#define VIGIL_LIB_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

int format_vstring(char *buffer, size_t size, const char *format, va_list arguments);
int format_string(char *buffer, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));

#endif
