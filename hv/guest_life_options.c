#include "hv/guest_life_options.h"

#include <string.h>

#include "guest-svc/host/heartbeat_monitor.h"
#include "lib/format.h"

#define QUOTED_MAX 24

static bool named(const struct cmdline_deferred_option *option, const char *name)
{
    return option->name_length == strlen(name) && memcmp(option->name, name, option->name_length) == 0;
}

static bool parse_number(const struct cmdline_deferred_option *option, uint32_t minimum, uint32_t maximum,
                         uint32_t *out)
{
    if (option->value_length == 0 || option->value_length > 10)
        return false;
    uint64_t value = 0;
    for (size_t i = 0; i < option->value_length; i++) {
        if (option->value[i] < '0' || option->value[i] > '9')
            return false;
        value = value * 10 + (uint64_t)(option->value[i] - '0');
    }
    if (value < minimum || value > maximum)
        return false;
    *out = (uint32_t)value;
    return true;
}

/* heartbeat_interval, console_rate, exec_allow_lock: a number in range, or say what was kept. */
static bool apply_number(const struct cmdline_deferred_option *option, uint32_t minimum, uint32_t maximum,
                         uint32_t *target, const char *kept_text, char *error, size_t size)
{
    if (parse_number(option, minimum, maximum, target))
        return true;
    format_string(error, size, "%.*s: '%.*s' is not a number in %lu..%lu (keeping %s)", (int)option->name_length,
                  option->name, option->value_length > QUOTED_MAX ? QUOTED_MAX : (int)option->value_length,
                  option->value, (unsigned long)minimum, (unsigned long)maximum, kept_text);
    return false;
}

static bool apply_one(struct guest_life *life, const struct cmdline_deferred_option *option, bool *lock, char *error,
                      size_t size)
{
    char kept[24];
    if (option->value_length == 0) {
        format_string(error, size, "%.*s: empty value (ignored)", (int)option->name_length, option->name);
        return false;
    }
    if (named(option, "exec_allow"))
        return exec_allowlist_add(&life->allowlist, option->value, option->value_length, error, size);
    if (named(option, "module_sha256"))
        return guest_life_expect_module(life, option->value, option->value_length, error, size);
    if (named(option, "exec_allow_lock")) {
        uint32_t value = *lock;
        bool ok = apply_number(option, 0, 1, &value, *lock ? "1" : "0", error, size);
        *lock = value != 0;
        return ok;
    }
    if (named(option, "console_rate")) {
        format_string(kept, sizeof kept, "%lu", (unsigned long)life->console_rate.per_second);
        return apply_number(option, 1, RATE_LIMIT_MAX_PER_SECOND, &life->console_rate.per_second, kept, error, size);
    }
    if (named(option, "heartbeat_interval")) {
        format_string(kept, sizeof kept, "%lu", (unsigned long)(life->heartbeat_interval_ms != 0
                                                                    ? life->heartbeat_interval_ms
                                                                    : HEARTBEAT_FAILURE_INTERVAL_DEFAULT_MS));
        return apply_number(option, HEARTBEAT_FAILURE_INTERVAL_MIN_MS, HEARTBEAT_FAILURE_INTERVAL_MAX_MS,
                            &life->heartbeat_interval_ms, kept, error, size);
    }
    return recovery_config_set(&life->recovery.config, option->name, option->name_length, option->value,
                               option->value_length, error, size);
}

unsigned guest_life_apply_options(struct guest_life *life, const struct cmdline_deferred_option *options,
                                  unsigned count, guest_life_warn_fn *warn, void *context)
{
    unsigned problems = 0;
    bool lock = false;
    for (unsigned i = 0; i < count; i++) {
        char error[200];
        if (apply_one(life, &options[i], &lock, error, sizeof error))
            continue;
        problems++;
        if (warn != NULL)
            warn(context, error);
    }
    if (lock)
        exec_allowlist_lock(&life->allowlist);
    return problems;
}
