/*
 * vigil-additionsd: the Linux Additions daemon (guest-svc/additions/linux/), on
 * the same Additions library as the bare agent (guest-svc/additions/).
 * Shared declarations of its parts: platform.c (CPUID, /dev/mem, iopl doorbell),
 * execute.c (ExecuteCommand), parameters.c (the persisted store), main.c.
 */
#ifndef VIGIL_ADDITIONS_LINUX_DAEMON_H
#define VIGIL_ADDITIONS_LINUX_DAEMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest-svc/additions/additions.h"

#define DAEMON_NAME "vigil-additionsd"
#define DAEMON_VERSION "vigil-additionsd 1.0.0"

/* One line on the console (stderr: /dev/console under busybox init). */
void daemon_log(const char *format, ...) __attribute__((format(printf, 1, 2)));

/* The Linux platform: CPUID by instruction, guest-physical memory through
 * /dev/mem, the doorbell by OUT after iopl(3), the TSC, waits by nanosleep.
 * False with errno-style reason logged if /dev/mem or iopl are unavailable. */
bool linux_platform_init(struct vigil_additions_platform *platform);

/* ExecuteCommand: fork/exec with argv, env, cwd in a new process group,
 * stdout/stderr streamed, timeout and KILL end the whole group. `service` is
 * called while the command runs (beats are on their own thread; this polls the
 * mailbox for a KILL). */
void execute_command(struct vigil_additions *additions, struct vigil_additions_request *request,
                     const struct vigil_additions_command *command, void (*service)(void));
uint32_t execute_kill(void);

/* Parameters persisted as one file per name under `directory`. */
void parameters_init(const char *directory);
uint32_t parameters_set(const char *name, const char *value);
uint32_t parameters_get(const char *name, char *value, size_t value_size);
bool parameters_list(uint32_t index, const char **name);

#endif
