/* Ports only Bochs has (boards/bochs/bochsrc.in): see boards/pc/board.h for the PC's own. */
#ifndef VIGIL_BOARDS_BOCHS_BOARD_H
#define VIGIL_BOARDS_BOCHS_BOARD_H

/* Writing the characters "Shutdown" to this port powers Bochs off (its APM/BIOS port). */
#define BOARD_BOCHS_SHUTDOWN_PORT 0x8900u
#define BOARD_BOCHS_SHUTDOWN_STRING "Shutdown"

#endif
