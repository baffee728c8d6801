/*
 * Decoding the simple instructions a kernel uses to write a 32-bit device
 * register (SDM Vol. 2A §2.1-2.2, Vol. 2B MOV, XCHG): MOV r/m32, r32 (89 /r),
 * MOV r/m32, imm32 (C7 /0), MOV moffs32, EAX (A3), XCHG r/m32, r32 (87 /r), with
 * segment-override, address-size and REX prefixes. Anything else is refused.
 */
#ifndef VIGIL_HV_MMIO_DECODE_H
#define VIGIL_HV_MMIO_DECODE_H

#include <stdbool.h>
#include <stdint.h>

enum cpu_code_size { CODE_16, CODE_32, CODE_64 };

struct mmio_write {
    unsigned length;          /* bytes of the instruction */
    bool source_is_register;  /* else the immediate */
    unsigned source_register; /* 0 = RAX ... 15 = R15 */
    uint32_t immediate;
    bool exchange;            /* XCHG: the register receives the old value */
};

/* Pure: decodes bytes[0..available) as a 32-bit store to memory; false if it is not one. */
bool mmio_decode_write(const uint8_t *bytes, unsigned available, enum cpu_code_size mode, struct mmio_write *out);

#endif
