/* Hidden and bidi characters in guest text: see unicode_text.h. */
#include "hv/console/unicode_text.h"

size_t json_utf8_sequence_length(const uint8_t *data, size_t length)
{
    if (length == 0)
        return 0;
    uint8_t lead = data[0];
    if (lead < 0x80)
        return 1;
    size_t count;
    uint8_t low = 0x80, high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF)
        count = 2;
    else if (lead >= 0xE0 && lead <= 0xEF) {
        count = 3;
        if (lead == 0xE0)
            low = 0xA0;
        else if (lead == 0xED)
            high = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        count = 4;
        if (lead == 0xF0)
            low = 0x90;
        else if (lead == 0xF4)
            high = 0x8F;
    } else
        return 0;
    if (length < count || data[1] < low || data[1] > high)
        return 0;
    for (size_t i = 2; i < count; i++)
        if ((data[i] & 0xC0) != 0x80)
            return 0;
    return count;
}


size_t unicode_utf8_decode(const uint8_t *data, size_t length, uint32_t *code_point)
{
    size_t count = json_utf8_sequence_length(data, length);
    if (count == 0)
        return 0;
    static const uint8_t lead_mask[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    uint32_t value = data[0] & lead_mask[count];
    for (size_t i = 1; i < count; i++)
        value = value << 6 | (data[i] & 0x3Fu);
    *code_point = value;
    return count;
}

struct code_point_range {
    uint32_t first, last;
};

/* Unicode's format characters (general category Cf), C1 controls, separators and
 * the fillers that render as nothing. Variation selectors are left alone: they
 * only choose a glyph for the character before them. */
static const struct code_point_range hidden_ranges[] = {
    {0x0080, 0x009F},   /* C1 controls: 0x9B is CSI on an 8-bit terminal, U+0085 is NEL */
    {0x00AD, 0x00AD},   /* soft hyphen */
    {0x034F, 0x034F},   /* combining grapheme joiner */
    {0x061C, 0x061C},   /* Arabic letter mark (bidi) */
    {0x115F, 0x1160},   /* Hangul fillers */
    {0x17B4, 0x17B5},   /* Khmer invisible vowels */
    {0x180E, 0x180E},   /* Mongolian vowel separator */
    {0x200B, 0x200F},   /* zero-width space, joiners, LRM, RLM */
    {0x2028, 0x202E},   /* line/paragraph separators, bidi embeddings and overrides */
    {0x2060, 0x206F},   /* word joiner, invisible operators, bidi isolates, deprecated format */
    {0x3164, 0x3164},   /* Hangul filler */
    {0xFEFF, 0xFEFF},   /* zero-width no-break space (BOM) */
    {0xFFA0, 0xFFA0},   /* halfwidth Hangul filler */
    {0xFFF9, 0xFFFB},   /* interlinear annotation */
    {0x1D173, 0x1D17A}, /* musical symbol format characters */
    {0xE0000, 0xE007F}, /* tags */
};

bool unicode_is_hidden(uint32_t code_point)
{
    for (size_t i = 0; i < sizeof hidden_ranges / sizeof hidden_ranges[0]; i++)
        if (code_point >= hidden_ranges[i].first && code_point <= hidden_ranges[i].last)
            return true;
    return false;
}
