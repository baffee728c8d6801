/* The operator's console on the hypervisor UART (hv/console), connected to the
 * UART, the VM-exit counters, the log level and the guest service. */
#ifndef VIGIL_HV_OPERATOR_CONSOLE_H
#define VIGIL_HV_OPERATOR_CONSOLE_H

#include "drivers/uart16550/uart16550.h"
#include "guest-svc/host/guest_service.h"

void operator_console_start(struct uart16550 *uart, struct guest_service *service);
/* From the timer tick: reads what the UART holds (bounded), then lets the
 * console print what arrived on its own. */
void operator_console_poll(void);
/* The guest service's event hook. */
void operator_console_event(const struct guest_service_event *event);

#endif
