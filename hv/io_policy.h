/*
 * I/O default deny for what vigil relies on (issue 12): the port ranges vigil owns
 * are trapped at every width, an access counts as touching a range when ANY of its
 * bytes does (an OUTL to 0x3F6 writes COM1's 0x3F8 and 0x3F9), and the machine's
 * reset and power paths are recognized wherever the guest writes them: port 0xCF9,
 * the keyboard controller (0x64), port 0x92, the ACPI reset register, PM1 control,
 * and PCI configuration writes that would move or disable the chipset's ACPI PM
 * I/O block (technique: Jailhouse i8042.c and pci.c; ACRN vm_reset.c).
 */
#ifndef VIGIL_HV_IO_POLICY_H
#define VIGIL_HV_IO_POLICY_H

#include <stdbool.h>
#include <stdint.h>

/* Pure: does the access [port, port + size) touch [base, base + count)? lie inside it? */
bool io_access_overlaps(uint16_t port, unsigned size, uint16_t base, unsigned count);
bool io_access_inside(uint16_t port, unsigned size, uint16_t base, unsigned count);

/* Pure: does this keyboard-controller command (a write to port 0x64) reset the CPU?
 * 0xFE pulses the reset line; so does any 0xF0-0xFF "pulse output port" command with
 * bit 0 clear (the bits select the lines to pulse, 0 = pulse). */
bool i8042_command_resets(uint8_t command);
/* 0xD1 "write output port": its data byte (next write to 0x60) drives the reset line
 * and A20 directly; vigil refuses the command instead of tracking the byte. */
bool i8042_command_refused(uint8_t command);

/* A PCI configuration register range vigil relies on: writes are refused. */
struct pci_protected_register {
    uint32_t function;      /* CONFIG_ADDRESS bits 23:8 (bus, device, function) */
    uint8_t first, last;    /* byte offsets in configuration space */
    const char *what;
};
#define PCI_PROTECTED_MAX 4

/* Finds the chipset's ACPI PM I/O registers through configuration mechanism #1:
 * PIIX4 function 3 (8086:7113: PMBA 0x40, PMREGMISC 0x80) and the ICH/PCH LPC bridge
 * at 0:1F.0 (class 0x0601: PMBASE 0x40, ACPI_CNTL 0x44). Returns how many. */
unsigned pci_find_protected_registers(struct pci_protected_register out[PCI_PROTECTED_MAX]);

/* Pure: the protected register a write of `size` bytes at port 0xCFC + port_offset
 * touches under CONFIG_ADDRESS `config_address`, or NULL. */
const struct pci_protected_register *pci_write_refused(const struct pci_protected_register *list, unsigned count,
                                                       uint32_t config_address, unsigned port_offset, unsigned size);

#endif
