/*
 * How any layer says the hypervisor cannot go on. lib declares it; the
 * hypervisor implements it (hv/panic.c: print, then its panic= policy), host
 * unit tests their fakes.
 */
#ifndef VIGIL_LIB_PANIC_H
#define VIGIL_LIB_PANIC_H

/* Prints "vigil: PANIC: <message>" and applies the policy. */
__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *format, ...);
/* Applies the policy (halt, power off or reboot) without printing a reason. */
__attribute__((noreturn)) void panic_apply_policy(void);

#endif
