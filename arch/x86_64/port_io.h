/*
 * x86 port I/O instructions (in/out) as inline functions.
 *
 * Freestanding only: these execute privileged instructions, so host unit tests
 * must reach devices through a fake (see drivers/uart16550/uart16550.h) instead.
 * The "memory" clobber keeps the compiler from moving ordinary memory accesses
 * across a device access, which matters when a port write starts a transfer.
 */
#ifndef VIGIL_ARCH_X86_64_PORT_IO_H
#define VIGIL_ARCH_X86_64_PORT_IO_H

#include <stdint.h>

#ifdef VIGIL_HOST_TEST
/* Host unit tests provide these (a fake bus), as vmx.h does for VMREAD/VMWRITE. */
uint8_t port_in8(uint16_t port);
void port_out8(uint16_t port, uint8_t value);
uint16_t port_in16(uint16_t port);
void port_out16(uint16_t port, uint16_t value);
uint32_t port_in32(uint16_t port);
void port_out32(uint16_t port, uint32_t value);
#else
static inline uint8_t port_in8(uint16_t port)
{
    uint8_t value;
    __asm__ volatile("inb %1, %0" : "=a"(value) : "Nd"(port) : "memory");
    return value;
}

static inline void port_out8(uint16_t port, uint8_t value)
{
    __asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

static inline uint16_t port_in16(uint16_t port)
{
    uint16_t value;
    __asm__ volatile("inw %1, %0" : "=a"(value) : "Nd"(port) : "memory");
    return value;
}

static inline void port_out16(uint16_t port, uint16_t value)
{
    __asm__ volatile("outw %0, %1" : : "a"(value), "Nd"(port) : "memory");
}

static inline uint32_t port_in32(uint16_t port)
{
    uint32_t value;
    __asm__ volatile("inl %1, %0" : "=a"(value) : "Nd"(port) : "memory");
    return value;
}

static inline void port_out32(uint16_t port, uint32_t value)
{
    __asm__ volatile("outl %0, %1" : : "a"(value), "Nd"(port) : "memory");
}
#endif /* VIGIL_HOST_TEST */

#endif /* VIGIL_ARCH_X86_64_PORT_IO_H */
