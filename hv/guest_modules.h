/*
 * Which boot module is what. A module's string may start with its role:
 *   kernel ARGS     the guest (Multiboot1 ELF or Linux bzImage); ARGS is the
 *                   guest's command line
 *   initrd          the Linux initial RAM disk
 *   additions ARGS  the Additions package InstallAdditions offers ("version=1.2.3")
 * Modules without a role word keep the old positional meaning: the first is the
 * kernel, the next the Additions package (so existing boot entries still work).
 * The role word is matched whole ("kernel" but not "kernels=3").
 */
#ifndef VIGIL_HV_GUEST_MODULES_H
#define VIGIL_HV_GUEST_MODULES_H

#include <stdbool.h>
#include <stddef.h>

#include "hv/multiboot.h"

#define GUEST_MODULE_NONE (-1)

struct guest_modules {
    int kernel, initrd, additions;  /* module index, or GUEST_MODULE_NONE */
    const char *kernel_args;        /* into the module's string; "" if none */
    const char *additions_args;
    unsigned unused;                /* modules left without a role (ignored) */
};

/* Assigns roles; false with a one-line reason if a role is given twice or the
 * kernel is missing while other modules are present. */
bool guest_modules_assign(const struct boot_module *modules, unsigned count, struct guest_modules *out, char *error,
                          size_t error_size);

#endif /* VIGIL_HV_GUEST_MODULES_H */
