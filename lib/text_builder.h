/*
 * A one-line text built into a caller's fixed buffer, for diagnostics that must
 * not allocate or fail: every append is bounded, the text stays NUL-terminated,
 * and what did not fit is dropped and noted in `truncated`.
 */
#ifndef VIGIL_LIB_TEXT_BUILDER_H
#define VIGIL_LIB_TEXT_BUILDER_H

#include <stdbool.h>
#include <stddef.h>

struct text_builder {
    char *buffer;
    size_t size;     /* 0: a NULL buffer, nothing is written */
    size_t length;   /* bytes before the NUL */
    bool truncated;  /* something did not fit */
};

/* Starts an empty text in buffer[0..size). */
void text_builder_start(struct text_builder *builder, char *buffer, size_t size);
void text_builder_append(struct text_builder *builder, const char *text);
/* printf-style (lib/format.h conversions). */
void text_builder_printf(struct text_builder *builder, const char *format, ...) __attribute__((format(printf, 2, 3)));

#endif
