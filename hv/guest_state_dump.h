/* The guest's state in the log, for stops and failures. */
#ifndef VIGIL_HV_GUEST_STATE_DUMP_H
#define VIGIL_HV_GUEST_STATE_DUMP_H

/* Prints the guest's state (RIP, RSP, CR0/3/4, EFER, segments) from the current
 * VMCS after "vigil: <headline>". */
void guest_state_dump(const char *headline);

#endif
