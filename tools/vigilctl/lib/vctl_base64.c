/* vctl_base64: see vctl_base64.h. */
#include "vctl_base64.h"

/* The 6-bit value of a base64 character, or -1. */
static int value_of(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

bool vctl_base64_decode(const char *text, size_t length, uint8_t *out, size_t *out_length)
{
    *out_length = 0;
    if (length % 4 != 0)
        return false;
    size_t written = 0;
    for (size_t at = 0; at < length; at += 4) {
        bool last = at + 4 == length;
        /* '=' may stand only at the end: "xx==" (one byte) or "xxx=" (two) */
        size_t padding = last && text[at + 3] == '=' ? (text[at + 2] == '=' ? 2 : 1) : 0;
        uint32_t group = 0;
        for (size_t k = 0; k < 4; k++) {
            int six = k < 4 - padding ? value_of(text[at + k]) : 0;
            if (six < 0)
                return false;
            group = group << 6 | (uint32_t)six;
        }
        /* the bits under the padding must be zero (RFC 4648 section 3.5: canonical) */
        if ((padding == 1 && (group & 0xFF) != 0) || (padding == 2 && (group & 0xFFFF) != 0))
            return false;
        out[written++] = (uint8_t)(group >> 16);
        if (padding < 2)
            out[written++] = (uint8_t)(group >> 8);
        if (padding < 1)
            out[written++] = (uint8_t)group;
    }
    *out_length = written;
    return true;
}
