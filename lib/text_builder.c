#include "lib/text_builder.h"

#include <stdarg.h>

#include "lib/format.h"

void text_builder_start(struct text_builder *builder, char *buffer, size_t size)
{
    builder->buffer = buffer;
    builder->size = buffer != NULL ? size : 0;
    builder->length = 0;
    builder->truncated = false;
    if (builder->size > 0)
        builder->buffer[0] = '\0';
}

void text_builder_append(struct text_builder *builder, const char *text)
{
    while (*text != '\0' && builder->length + 1 < builder->size)
        builder->buffer[builder->length++] = *text++;
    if (*text != '\0')
        builder->truncated = true;
    if (builder->size > 0)
        builder->buffer[builder->length] = '\0';
}

void text_builder_printf(struct text_builder *builder, const char *format, ...)
{
    if (builder->size == 0) {
        builder->truncated = true;
        return;
    }
    va_list arguments;
    va_start(arguments, format);
    size_t room = builder->size - builder->length;
    int wanted = format_vstring(builder->buffer + builder->length, room, format, arguments);
    va_end(arguments);
    if (wanted < 0)
        return;
    if ((size_t)wanted >= room) {
        builder->truncated = true;
        builder->length = builder->size - 1;
    } else {
        builder->length += (size_t)wanted;
    }
}
