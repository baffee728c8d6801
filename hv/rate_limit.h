/*
 * A per-second request limit for the console (docs/lifecycle.md): at most
 * per_second requests are admitted in each one-second window; the rest are
 * refused with a clear error and counted. Pure C, host-tested.
 */
#ifndef VIGIL_HV_RATE_LIMIT_H
#define VIGIL_HV_RATE_LIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define RATE_LIMIT_DEFAULT_PER_SECOND 50u
#define RATE_LIMIT_MAX_PER_SECOND 10000u

struct rate_limit {
    uint32_t per_second;     /* 1..RATE_LIMIT_MAX_PER_SECOND */
    uint64_t window_start_ms;
    uint32_t admitted;       /* in the current window */
    uint64_t refused;        /* since boot */
};

void rate_limit_init(struct rate_limit *limit, uint32_t per_second);
/* True if one more request fits in the second that contains now_ms. */
bool rate_limit_admit(struct rate_limit *limit, uint64_t now_ms);

#endif
