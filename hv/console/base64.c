/* Base64 encoding, RFC 4648 section 4 (see base64.h). */
#include "hv/console/base64.h"

static const char alphabet[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encode(const uint8_t *data, size_t length, char *out, size_t out_size)
{
    if (out == NULL || out_size < BASE64_ENCODED_LENGTH(length) + 1u || (data == NULL && length > 0))
        return 0;
    size_t written = 0;
    for (size_t i = 0; i < length; i += 3) {
        size_t left = length - i;
        uint32_t group = (uint32_t)data[i] << 16;
        if (left > 1)
            group |= (uint32_t)data[i + 1] << 8;
        if (left > 2)
            group |= data[i + 2];
        /* each 6-bit piece of the 24-bit group, most significant first; a group of
         * one or two bytes ends in '=' for each missing byte (RFC 4648 section 4) */
        out[written++] = alphabet[(group >> 18) & 0x3F];
        out[written++] = alphabet[(group >> 12) & 0x3F];
        out[written++] = left > 1 ? alphabet[(group >> 6) & 0x3F] : '=';
        out[written++] = left > 2 ? alphabet[group & 0x3F] : '=';
    }
    out[written] = '\0';
    return written;
}
