/* The recovery-policy state machine; the rules are in recovery_policy.h. */
#include "hv/recovery_policy.h"

#include <stdarg.h>
#include <string.h>

#include "lib/format.h"

#define ARRAY_LENGTH(array) (sizeof(array) / sizeof((array)[0]))

static const char *const action_names[] = {
    [RECOVERY_ACTION_LOG] = "log",         [RECOVERY_ACTION_NMI] = "nmi",
    [RECOVERY_ACTION_RESTART] = "restart", [RECOVERY_ACTION_POWEROFF] = "poweroff",
    [RECOVERY_ACTION_HALT] = "halt",
};

static const char *const step_names[] = {
    [RECOVERY_STEP_NONE] = "none",         [RECOVERY_STEP_LOG] = "log",
    [RECOVERY_STEP_NMI] = "nmi",           [RECOVERY_STEP_STOP_GUEST] = "stop-guest",
    [RECOVERY_STEP_RESTART] = "restart",   [RECOVERY_STEP_POWEROFF] = "poweroff",
    [RECOVERY_STEP_HALT] = "halt",         [RECOVERY_STEP_HOLD_OFF] = "hold-off",
};

static const char *const cause_names[] = {
    [RECOVERY_CAUSE_TRIPLE_FAULT] = "triple fault",
    [RECOVERY_CAUSE_ENTRY_FAILURE] = "VM-entry failure on guest state",
    [RECOVERY_CAUSE_GUEST_RESET] = "guest reset request",
};

const char *recovery_action_name(enum recovery_action action)
{
    return (unsigned)action < ARRAY_LENGTH(action_names) ? action_names[action] : "unknown";
}

const char *recovery_step_name(enum recovery_step step)
{
    return (unsigned)step < ARRAY_LENGTH(step_names) ? step_names[step] : "unknown";
}

void recovery_config_defaults(struct recovery_config *config)
{
    config->on_heartbeat_loss = RECOVERY_ACTION_LOG;
    config->on_triple_fault = RECOVERY_ACTION_HALT;
    config->on_entry_failure = RECOVERY_ACTION_HALT;
    config->heartbeat_attempts = 3;
    config->restart_limit = 3;
    config->restart_window_s = 300;
    config->restart_backoff_ms = 1000;
}

void recovery_policy_init(struct recovery_policy *policy, const struct recovery_config *config)
{
    memset(policy, 0, sizeof *policy);
    policy->config = *config;
}

/* ---- configuration by name ---- */

enum key_kind { KEY_ACTION, KEY_NUMBER };

struct config_key {
    const char *name;
    enum key_kind kind;
    uint32_t allowed_actions; /* KEY_ACTION: bit per enum recovery_action */
    uint32_t minimum, maximum; /* KEY_NUMBER */
    const char *unit;
    size_t offset;
};

#define ACTION_BIT(action) (1u << (action))
#define CONFIG_OFFSET(member) offsetof(struct recovery_config, member)

static const struct config_key config_keys[] = {
    {"on_heartbeat_loss", KEY_ACTION,
     ACTION_BIT(RECOVERY_ACTION_LOG) | ACTION_BIT(RECOVERY_ACTION_NMI) | ACTION_BIT(RECOVERY_ACTION_RESTART) |
         ACTION_BIT(RECOVERY_ACTION_POWEROFF),
     0, 0, NULL, CONFIG_OFFSET(on_heartbeat_loss)},
    {"on_triple_fault", KEY_ACTION, ACTION_BIT(RECOVERY_ACTION_RESTART) | ACTION_BIT(RECOVERY_ACTION_HALT), 0, 0,
     NULL, CONFIG_OFFSET(on_triple_fault)},
    {"on_entry_failure", KEY_ACTION, ACTION_BIT(RECOVERY_ACTION_RESTART) | ACTION_BIT(RECOVERY_ACTION_HALT), 0, 0,
     NULL, CONFIG_OFFSET(on_entry_failure)},
    {"heartbeat_attempts", KEY_NUMBER, 0, 1, 100, NULL, CONFIG_OFFSET(heartbeat_attempts)},
    {"restart_limit", KEY_NUMBER, 0, 1, RECOVERY_RESTART_HISTORY, NULL, CONFIG_OFFSET(restart_limit)},
    {"restart_window", KEY_NUMBER, 0, 1, 86400, " s", CONFIG_OFFSET(restart_window_s)},
    {"restart_backoff_ms", KEY_NUMBER, 0, 0, RECOVERY_BACKOFF_MAX_MS, " ms", CONFIG_OFFSET(restart_backoff_ms)},
};

const char *recovery_config_key(unsigned index)
{
    return index < ARRAY_LENGTH(config_keys) ? config_keys[index].name : NULL;
}

static const struct config_key *find_key(const char *name, size_t length)
{
    for (size_t i = 0; i < ARRAY_LENGTH(config_keys); i++)
        if (strlen(config_keys[i].name) == length && memcmp(config_keys[i].name, name, length) == 0)
            return &config_keys[i];
    return NULL;
}

static uint32_t *member(struct recovery_config *config, const struct config_key *key)
{
    return (uint32_t *)((char *)config + key->offset);
}

_Static_assert(sizeof(enum recovery_action) == sizeof(uint32_t), "actions are stored as uint32_t members");

static void allowed_list(const struct config_key *key, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (unsigned action = 0; action < ARRAY_LENGTH(action_names); action++) {
        if (!(key->allowed_actions & ACTION_BIT(action)))
            continue;
        int written = format_string(out + used, size - used, "%s%s", used > 0 ? "|" : "", action_names[action]);
        if (written < 0 || (size_t)written >= size - used)
            return;
        used += (size_t)written;
    }
}

static bool value_text(const struct recovery_config *config, const struct config_key *key, char *out, size_t size)
{
    uint32_t value = *member((struct recovery_config *)config, key);
    if (key->kind == KEY_ACTION)
        format_string(out, size, "%s", recovery_action_name((enum recovery_action)value));
    else
        format_string(out, size, "%lu", (unsigned long)value);
    return true;
}

bool recovery_config_get(const struct recovery_config *config, const char *name, char *out, size_t size)
{
    const struct config_key *key = find_key(name, strlen(name));
    return key != NULL && value_text(config, key, out, size);
}

static bool parse_number(const char *text, size_t length, uint32_t maximum, uint32_t *out)
{
    if (length == 0 || length > 10)
        return false;
    uint64_t value = 0;
    for (size_t i = 0; i < length; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        value = value * 10 + (uint64_t)(text[i] - '0');
    }
    if (value > maximum)
        return false;
    *out = (uint32_t)value;
    return true;
}

static void error_text(char *error, size_t size, const char *format, ...) __attribute__((format(printf, 3, 4)));
static void error_text(char *error, size_t size, const char *format, ...)
{
    if (error == NULL || size == 0)
        return;
    va_list arguments;
    va_start(arguments, format);
    format_vstring(error, size, format, arguments);
    va_end(arguments);
}

/* At most this much of a bad value is quoted back. */
#define QUOTED_MAX 24

bool recovery_config_set(struct recovery_config *config, const char *name, size_t name_length, const char *value,
                         size_t value_length, char *error, size_t error_size)
{
    const struct config_key *key = find_key(name, name_length);
    int quoted = value_length > QUOTED_MAX ? QUOTED_MAX : (int)value_length;
    if (key == NULL) {
        error_text(error, error_size, "unknown policy '%.*s' (want on_heartbeat_loss, on_triple_fault, "
                   "on_entry_failure, heartbeat_attempts, restart_limit, restart_window, restart_backoff_ms)",
                   name_length > QUOTED_MAX ? QUOTED_MAX : (int)name_length, name);
        return false;
    }
    char kept[24];
    value_text(config, key, kept, sizeof kept);
    if (key->kind == KEY_ACTION) {
        for (unsigned action = 0; action < ARRAY_LENGTH(action_names); action++) {
            if ((key->allowed_actions & ACTION_BIT(action)) && strlen(action_names[action]) == value_length &&
                memcmp(action_names[action], value, value_length) == 0) {
                *member(config, key) = action;
                return true;
            }
        }
        char allowed[64];
        allowed_list(key, allowed, sizeof allowed);
        error_text(error, error_size, "%s: unknown action '%.*s' (want %s; keeping %s)", key->name, quoted, value,
                   allowed, kept);
        return false;
    }
    uint32_t number = 0;
    if (!parse_number(value, value_length, key->maximum, &number) || number < key->minimum) {
        error_text(error, error_size, "%s: '%.*s' is not a number in %lu..%lu%s (keeping %s)", key->name, quoted,
                   value, (unsigned long)key->minimum, (unsigned long)key->maximum, key->unit ? key->unit : "",
                   kept);
        return false;
    }
    *member(config, key) = number;
    return true;
}

/* ---- the state machine ---- */

static struct recovery_decision decision(enum recovery_step step)
{
    struct recovery_decision result;
    memset(&result, 0, sizeof result);
    result.step = step;
    return result;
}

uint32_t recovery_restarts_in_window(const struct recovery_policy *policy, uint64_t now_ms)
{
    uint64_t window_ms = (uint64_t)policy->config.restart_window_s * 1000u;
    uint32_t count = 0;
    for (uint32_t i = 0; i < policy->restart_times_count; i++)
        if (now_ms - policy->restart_times[i] < window_ms)
            count++;
    return count;
}

/* A restart wanted at now_ms: the loop guard, else a stop and a restart after the backoff. */
static struct recovery_decision schedule_restart(struct recovery_policy *policy, uint64_t now_ms, const char *why)
{
    uint32_t recent = recovery_restarts_in_window(policy, now_ms);
    if (recent >= policy->config.restart_limit) {
        struct recovery_decision result = decision(RECOVERY_STEP_HOLD_OFF);
        policy->held_off = true;
        policy->restart_pending = false;
        policy->loss_active = false;
        format_string(result.detail, sizeof result.detail,
                      "restart loop: %lu restarts within %lu s (restart_limit=%lu); the guest stays off after %s",
                      (unsigned long)recent, (unsigned long)policy->config.restart_window_s,
                      (unsigned long)policy->config.restart_limit, why);
        return result;
    }
    uint64_t backoff = 0;
    if (recent > 0) {
        backoff = policy->config.restart_backoff_ms;
        for (uint32_t i = 1; i < recent && backoff < RECOVERY_BACKOFF_MAX_MS; i++)
            backoff *= 2;
        if (backoff > RECOVERY_BACKOFF_MAX_MS)
            backoff = RECOVERY_BACKOFF_MAX_MS;
    }
    policy->restart_pending = true;
    policy->restart_due_ms = now_ms + backoff;
    policy->loss_active = false;
    /* counted when decided, so that a stream of crashes during the backoff is not free */
    policy->restart_times[policy->restart_times_next] = now_ms;
    policy->restart_times_next = (policy->restart_times_next + 1) % RECOVERY_RESTART_HISTORY;
    if (policy->restart_times_count < RECOVERY_RESTART_HISTORY)
        policy->restart_times_count++;
    struct recovery_decision result = decision(RECOVERY_STEP_STOP_GUEST);
    result.restart_due_ms = policy->restart_due_ms;
    format_string(result.detail, sizeof result.detail, "restart %lu of %lu within %lu s after %s, in %lu ms",
                  (unsigned long)(recent + 1), (unsigned long)policy->config.restart_limit,
                  (unsigned long)policy->config.restart_window_s, why, (unsigned long)backoff);
    return result;
}

static struct recovery_decision loss_attempt(struct recovery_policy *policy, uint64_t now_ms)
{
    policy->loss_attempts++;
    policy->next_attempt_ms = now_ms + policy->failure_interval_ms;
    char why[64];
    format_string(why, sizeof why, "heartbeat lost (attempt %lu of %lu)", (unsigned long)policy->loss_attempts,
                  (unsigned long)policy->config.heartbeat_attempts);
    struct recovery_decision result;
    switch (policy->config.on_heartbeat_loss) {
    case RECOVERY_ACTION_NMI:
        result = decision(RECOVERY_STEP_NMI);
        break;
    case RECOVERY_ACTION_RESTART:
        return schedule_restart(policy, now_ms, "heartbeat lost");
    case RECOVERY_ACTION_POWEROFF:
        policy->loss_active = false;
        result = decision(RECOVERY_STEP_POWEROFF);
        format_string(result.detail, sizeof result.detail, "heartbeat lost: powering off");
        return result;
    default:
        result = decision(RECOVERY_STEP_LOG);
        break;
    }
    format_string(result.detail, sizeof result.detail, "%s", why);
    return result;
}

struct recovery_decision recovery_heartbeat_lost(struct recovery_policy *policy, uint64_t now_ms,
                                                 uint32_t failure_interval_ms)
{
    if (policy->held_off || policy->restart_pending || policy->loss_active)
        return decision(RECOVERY_STEP_NONE);
    policy->loss_active = true;
    policy->loss_attempts = 0;
    policy->failure_interval_ms = failure_interval_ms > 0 ? failure_interval_ms : 1;
    return loss_attempt(policy, now_ms);
}

void recovery_heartbeat_resumed(struct recovery_policy *policy)
{
    policy->loss_active = false;
    policy->loss_attempts = 0;
}

struct recovery_decision recovery_guest_crashed(struct recovery_policy *policy, uint64_t now_ms,
                                                enum recovery_cause cause)
{
    const char *why = (unsigned)cause < ARRAY_LENGTH(cause_names) ? cause_names[cause] : "guest stop";
    if (policy->held_off || policy->restart_pending)
        return decision(RECOVERY_STEP_NONE);
    enum recovery_action action = RECOVERY_ACTION_RESTART; /* a reset request asks for exactly that */
    if (cause == RECOVERY_CAUSE_TRIPLE_FAULT)
        action = policy->config.on_triple_fault;
    else if (cause == RECOVERY_CAUSE_ENTRY_FAILURE)
        action = policy->config.on_entry_failure;
    if (action == RECOVERY_ACTION_RESTART)
        return schedule_restart(policy, now_ms, why);
    policy->loss_active = false;
    struct recovery_decision result = decision(RECOVERY_STEP_HALT);
    format_string(result.detail, sizeof result.detail, "%s: the guest stays stopped (policy halt)", why);
    return result;
}

struct recovery_decision recovery_tick(struct recovery_policy *policy, uint64_t now_ms)
{
    if (policy->restart_pending) {
        if (now_ms < policy->restart_due_ms)
            return decision(RECOVERY_STEP_NONE);
        policy->restart_pending = false;
        policy->restarts_total++;
        struct recovery_decision result = decision(RECOVERY_STEP_RESTART);
        format_string(result.detail, sizeof result.detail, "restarting the guest (automatic restart %lu)",
                      (unsigned long)policy->restarts_total);
        return result;
    }
    if (policy->loss_active && policy->loss_attempts < policy->config.heartbeat_attempts &&
        now_ms >= policy->next_attempt_ms)
        return loss_attempt(policy, now_ms);
    return decision(RECOVERY_STEP_NONE);
}

void recovery_operator_restart(struct recovery_policy *policy)
{
    policy->held_off = false;
    policy->restart_pending = false;
    policy->loss_active = false;
}

void recovery_guest_restarted(struct recovery_policy *policy)
{
    policy->loss_active = false;
    policy->loss_attempts = 0;
}
