/* vigil's command-line options for the guest's life (README "Command line",
 * docs/lifecycle.md), applied to a struct guest_life. Kept out of hv/cmdline.c,
 * which only collects them (options->deferred). Host-tested. */
#ifndef VIGIL_HV_GUEST_LIFE_OPTIONS_H
#define VIGIL_HV_GUEST_LIFE_OPTIONS_H

#include "hv/cmdline.h"
#include "hv/guest_life.h"

typedef void guest_life_warn_fn(void *context, const char *message);

/* Applies the options in order; a bad one keeps the previous setting and is
 * reported through warn as one line. exec_allow_lock=1 applies after every
 * exec_allow=, wherever it stands. Returns the number of problems. */
unsigned guest_life_apply_options(struct guest_life *life, const struct cmdline_deferred_option *options,
                                  unsigned count, guest_life_warn_fn *warn, void *context);

#endif
