#include "hv/rate_limit.h"

void rate_limit_init(struct rate_limit *limit, uint32_t per_second)
{
    limit->per_second = per_second;
    limit->window_start_ms = 0;
    limit->admitted = 0;
    limit->refused = 0;
}

bool rate_limit_admit(struct rate_limit *limit, uint64_t now_ms)
{
    if (now_ms - limit->window_start_ms >= 1000 || now_ms < limit->window_start_ms) {
        limit->window_start_ms = now_ms - now_ms % 1000;
        limit->admitted = 0;
    }
    if (limit->admitted >= limit->per_second) {
        limit->refused++;
        return false;
    }
    limit->admitted++;
    return true;
}
