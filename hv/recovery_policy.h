/*
 * Recovery policies (docs/lifecycle.md): what vigil does when its guest stops
 * beating, triple-faults or fails VM entry on its guest state. A pure state
 * machine: the caller feeds it what happened and the time, and carries out the
 * step it returns (log, inject an NMI, restart, power off, halt, or keep the
 * guest off). Host-tested; no hardware, no clock of its own.
 *
 * Heartbeat loss (the heartbeat monitor declares it after its failure interval,
 * 10 s by default as in Virtual Server): the action is taken at once, and again
 * every failure interval while the beat stays lost, up to heartbeat_attempts
 * times per loss (log and nmi; restart and poweroff end the episode). A beat
 * ends the episode.
 *
 * Restarts chosen by a policy or asked for by the guest (a reset) count
 * against the restart-loop guard: more than restart_limit of them within
 * restart_window_s seconds and the guest stays off, with a reason. Between
 * them, a backoff: none for the first in the window, then restart_backoff_ms,
 * doubled for each further one (at most RECOVERY_BACKOFF_MAX_MS). An operator's
 * reboot is neither delayed nor counted, and clears a hold-off.
 */
#ifndef VIGIL_HV_RECOVERY_POLICY_H
#define VIGIL_HV_RECOVERY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum recovery_action {
    RECOVERY_ACTION_LOG = 0,
    RECOVERY_ACTION_NMI,
    RECOVERY_ACTION_RESTART,
    RECOVERY_ACTION_POWEROFF,
    RECOVERY_ACTION_HALT,
};

struct recovery_config {
    enum recovery_action on_heartbeat_loss; /* log|nmi|restart|poweroff; default log */
    enum recovery_action on_triple_fault;   /* restart|halt; default halt */
    enum recovery_action on_entry_failure;  /* restart|halt; default halt */
    uint32_t heartbeat_attempts;            /* 1..100; default 3 */
    uint32_t restart_limit;                 /* 1..100; default 3 */
    uint32_t restart_window_s;              /* 1..86400; default 300 */
    uint32_t restart_backoff_ms;            /* 0..RECOVERY_BACKOFF_MAX_MS; default 1000 */
};

#define RECOVERY_BACKOFF_MAX_MS 60000u
#define RECOVERY_RESTART_HISTORY 100u /* = the largest restart_limit */
#define RECOVERY_DETAIL_MAX 112u

enum recovery_step {
    RECOVERY_STEP_NONE = 0,
    RECOVERY_STEP_LOG,        /* log and audit the loss, nothing else */
    RECOVERY_STEP_NMI,        /* inject an NMI into the guest */
    RECOVERY_STEP_STOP_GUEST, /* stop the guest now; a restart follows when recovery_tick says so */
    RECOVERY_STEP_RESTART,    /* start the guest again now */
    RECOVERY_STEP_POWEROFF,   /* power the machine off */
    RECOVERY_STEP_HALT,       /* keep the guest stopped (crash policy halt) */
    RECOVERY_STEP_HOLD_OFF,   /* restart-loop guard: the guest stays off */
};

struct recovery_decision {
    enum recovery_step step;
    uint64_t restart_due_ms;          /* STEP_STOP_GUEST: when the restart comes */
    char detail[RECOVERY_DETAIL_MAX]; /* one line saying why (for the event and the audit) */
};

enum recovery_cause {
    RECOVERY_CAUSE_TRIPLE_FAULT = 0,
    RECOVERY_CAUSE_ENTRY_FAILURE,
    RECOVERY_CAUSE_GUEST_RESET,
};

struct recovery_policy {
    struct recovery_config config;
    bool loss_active;
    uint32_t loss_attempts;
    uint64_t next_attempt_ms;
    uint32_t failure_interval_ms;
    bool restart_pending;
    uint64_t restart_due_ms;
    bool held_off;
    uint64_t restart_times[RECOVERY_RESTART_HISTORY]; /* ring of automatic restarts, ms */
    uint32_t restart_times_count;                     /* valid entries, at most the history */
    uint32_t restart_times_next;
    uint64_t restarts_total;
};

void recovery_config_defaults(struct recovery_config *config);
void recovery_policy_init(struct recovery_policy *policy, const struct recovery_config *config);

/* Sets one policy by name ("on_heartbeat_loss", "on_triple_fault", "on_entry_failure",
 * "heartbeat_attempts", "restart_limit", "restart_window", "restart_backoff_ms") from
 * text. On error, config is unchanged and error (if not NULL) holds one line saying
 * why and what was kept. Used by the command line and the console alike. */
bool recovery_config_set(struct recovery_config *config, const char *name, size_t name_length, const char *value,
                         size_t value_length, char *error, size_t error_size);
/* Key names in the order recovery_config_set knows them; NULL past the last. */
const char *recovery_config_key(unsigned index);
/* The value of a key as text ("restart", "3", ...) into out; false for an unknown key. */
bool recovery_config_get(const struct recovery_config *config, const char *name, char *out, size_t size);
const char *recovery_action_name(enum recovery_action action);
const char *recovery_step_name(enum recovery_step step);

/* The heartbeat monitor declared the beat lost (failure_interval_ms: its interval). */
struct recovery_decision recovery_heartbeat_lost(struct recovery_policy *policy, uint64_t now_ms,
                                                 uint32_t failure_interval_ms);
void recovery_heartbeat_resumed(struct recovery_policy *policy);
/* The guest crashed (triple fault, entry failure) or asked for a reset. */
struct recovery_decision recovery_guest_crashed(struct recovery_policy *policy, uint64_t now_ms,
                                                enum recovery_cause cause);
/* Periodically (every hypervisor tick): further attempts while the loss lasts, and
 * the restart once its backoff has passed. */
struct recovery_decision recovery_tick(struct recovery_policy *policy, uint64_t now_ms);
/* An operator asked for a reboot: not delayed, not counted; ends a hold-off. */
void recovery_operator_restart(struct recovery_policy *policy);
/* The guest was started again (any cause): a new heartbeat episode begins. */
void recovery_guest_restarted(struct recovery_policy *policy);
/* Automatic restarts within the window ending at now_ms. */
uint32_t recovery_restarts_in_window(const struct recovery_policy *policy, uint64_t now_ms);

#endif
