/* What only QEMU has (boards/qemu/args): see boards/pc/board.h for the PC's own. */
#ifndef VIGIL_BOARDS_QEMU_BOARD_H
#define VIGIL_BOARDS_QEMU_BOARD_H

/* isa-debug-exit (boards/qemu/args: iobase=0xf4): a write of V ends QEMU with
 * status (V << 1) | 1. vigil uses it only when the command line names it
 * (debug_exit=0xf4): on a PC the port may be something else. */
#define BOARD_QEMU_DEBUG_EXIT_PORT 0xF4u

#endif
