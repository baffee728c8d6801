#include "hv/mmio_decode.h"

#define MAX_INSTRUCTION_LENGTH 15

static bool is_segment_override(uint8_t b) { return b == 0x26 || b == 0x2E || b == 0x36 || b == 0x3E || b == 0x64 || b == 0x65; }

/* Bytes after the opcode taken by ModRM, SIB and displacement (SDM Vol. 2A Tables
 * 2-1 to 2-3); 0 for a register operand (mod = 3), which is no memory write. */
static unsigned modrm_length(const uint8_t *bytes, unsigned available, bool address_16)
{
    if (available < 1)
        return 0;
    uint8_t modrm = bytes[0];
    unsigned mod = modrm >> 6, rm = modrm & 7;
    if (mod == 3)
        return 0;
    if (address_16)
        return 1 + (mod == 1 ? 1 : mod == 2 || (mod == 0 && rm == 6) ? 2 : 0);
    unsigned length = 1;
    if (rm == 4) { /* SIB */
        if (available < 2)
            return 0;
        length++;
        if (mod == 0 && (bytes[1] & 7) == 5)
            length += 4;
    } else if (mod == 0 && rm == 5) {
        length += 4; /* disp32, RIP-relative in 64-bit mode */
    }
    length += mod == 1 ? 1 : mod == 2 ? 4 : 0;
    return length;
}

bool mmio_decode_write(const uint8_t *bytes, unsigned available, enum cpu_code_size mode, struct mmio_write *out)
{
    unsigned i = 0;
    bool address_override = false;
    uint8_t rex = 0;
    if (available > MAX_INSTRUCTION_LENGTH)
        available = MAX_INSTRUCTION_LENGTH;
    for (; i < available; i++) {
        if (is_segment_override(bytes[i]))
            continue;
        if (bytes[i] == 0x67) {
            address_override = true;
            continue;
        }
        break;
    }
    if (mode == CODE_64 && i < available && (bytes[i] & 0xF0) == 0x40)
        rex = bytes[i++];
    if (i >= available || (rex & 0x08) || mode == CODE_16) /* REX.W: a 64-bit store; 16-bit code: 16-bit operands */
        return false;
    bool address_16 = mode == CODE_32 && address_override;
    uint8_t opcode = bytes[i++];
    if (opcode == 0xA3) { /* MOV moffs, EAX: the offset is the address size */
        unsigned offset_size = mode == CODE_64 ? (address_override ? 4 : 8) : address_16 ? 2 : 4;
        *out = (struct mmio_write){ i + offset_size, true, 0, 0, false };
        return i + offset_size <= available;
    }
    if (opcode != 0x89 && opcode != 0x87 && opcode != 0xC7)
        return false;
    unsigned operand = modrm_length(bytes + i, available - i, address_16);
    if (operand == 0)
        return false;
    unsigned reg = ((bytes[i] >> 3) & 7) | ((rex & 0x04) ? 8 : 0);
    unsigned length = i + operand;
    if (opcode == 0xC7) {
        if (((bytes[i] >> 3) & 7) != 0 || length + 4 > available)
            return false;
        uint32_t immediate = (uint32_t)bytes[length] | (uint32_t)bytes[length + 1] << 8 |
                             (uint32_t)bytes[length + 2] << 16 | (uint32_t)bytes[length + 3] << 24;
        *out = (struct mmio_write){ length + 4, false, 0, immediate, false };
        return true;
    }
    *out = (struct mmio_write){ length, true, reg, 0, opcode == 0x87 };
    return length <= available;
}
