/* The operator's console on the hypervisor UART (hv/console), connected to the
 * UART, the VM-exit counters, the log level and the guest service. */
#ifndef VIGIL_HV_OPERATOR_CONSOLE_H
#define VIGIL_HV_OPERATOR_CONSOLE_H

#include "drivers/uart16550/uart16550.h"
#include "guest-svc/host/guest_service.h"

struct guest_life;
/* life: the audit trail, allow-list and policies the console shows (may be NULL). */
void operator_console_start(struct uart16550 *uart, struct guest_service *service, struct guest_life *life);
/* Feeds what the UART holds (bounded) to the console; returns the bytes read. */
unsigned operator_console_receive(void);
/* From the tick: lets the console print what arrived on its own. */
void operator_console_tick(void);
/* The guest service's event hook. */
void operator_console_event(const struct guest_service_event *event);

#endif
