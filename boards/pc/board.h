/*
 * The PC platform vigil runs on (real hardware, and what Bochs and QEMU
 * emulate): the ports and addresses every PC has. One image serves every board,
 * so these are facts the hypervisor knows, not build choices; what differs per
 * machine comes from ACPI (PM1 control ports, reset register) or the command
 * line (console=, debug_exit=).
 */
#ifndef VIGIL_BOARDS_PC_BOARD_H
#define VIGIL_BOARDS_PC_BOARD_H

/* Legacy serial ports (the console= names com1..com4). COM1 is the operator's
 * console by default; the guest keeps COM2. */
#define BOARD_PC_COM1_PORT 0x3F8u
#define BOARD_PC_COM2_PORT 0x2F8u
#define BOARD_PC_COM3_PORT 0x3E8u
#define BOARD_PC_COM4_PORT 0x2E8u
#define BOARD_PC_UART_PORT_COUNT 8u
#define BOARD_PC_CONSOLE_BAUD_DEFAULT 115200u

/* PCI configuration mechanism #1: CONFIG_ADDRESS 0xCF8 (dword), data 0xCFC. */
#define BOARD_PC_PCI_CONFIG_PORT 0xCF8u
/* PCI reset control register (Intel chipsets), a byte inside the range above:
 * bit 1 = hard reset, bit 2 = do it. */
#define BOARD_PC_RESET_CONTROL_PORT 0xCF9u
#define BOARD_PC_RESET_CONTROL_HARD 0x02u
#define BOARD_PC_RESET_CONTROL_RESET 0x04u
/* 8042 keyboard controller: command 0xFE to its command port pulses the reset line. */
#define BOARD_PC_KEYBOARD_COMMAND_PORT 0x64u
#define BOARD_PC_KEYBOARD_PULSE_RESET 0xFEu
/* System control port A: bit 0 = fast reset (bit 1 = A20). */
#define BOARD_PC_SYSTEM_CONTROL_PORT_A 0x92u
#define BOARD_PC_SYSTEM_CONTROL_FAST_RESET 0x01u

#endif
