/* The recovery policies carried out, the measured launch, the boot record. */
#include "hv/guest_recovery.h"

#include <stdint.h>
#include <string.h>

#include "hv/clock.h"
#include "lib/format.h"
#include "hv/guest_life_options.h"
#include "hv/log.h"
#include "hv/operator_console.h"
#include "hv/panic.h"
#include "hv/service.h"
#include "hv/timer.h"

#define IDENTITY_MAP_LIMIT 0x100000000ull

static struct guest_life life;
static bool guest_down = true; /* until the launch; a stopped guest's silence is not a heartbeat loss */
static bool stop_for_restart;  /* a policy restart of a running guest: the run loop stops it first */
static bool reset_requested;   /* the guest asked for a reset (guest_request_reset) */
static bool operator_restart;  /* shutdown --reboot forced after its timeout */

struct guest_life *guest_life_instance(void) { return &life; }

static void warn_option(void *context, const char *message)
{
    (void)context;
    log_warn("command line: %s", message);
}

void guest_recovery_configure(const struct hv_options *options)
{
    struct recovery_config config;
    recovery_config_defaults(&config);
    guest_life_init(&life, &config, RATE_LIMIT_DEFAULT_PER_SECOND);
    guest_life_apply_options(&life, options->deferred, options->deferred_count, warn_option, 0);
    const struct recovery_config *c = &life.recovery.config;
    log_info("recovery: on_heartbeat_loss=%s (%u attempts), on_triple_fault=%s, on_entry_failure=%s, "
             "restart_limit=%u in %u s, backoff %u ms",
             recovery_action_name(c->on_heartbeat_loss), (unsigned)c->heartbeat_attempts,
             recovery_action_name(c->on_triple_fault), recovery_action_name(c->on_entry_failure),
             (unsigned)c->restart_limit, (unsigned)c->restart_window_s, (unsigned)c->restart_backoff_ms);
    log_info("exec allow-list: %s, %u entries%s; console limit %u requests/s",
             exec_allowlist_enforcing(&life.allowlist) ? "enforcing" : "open (every program may run)",
             life.allowlist.count, life.allowlist.locked ? ", locked" : "", (unsigned)life.console_rate.per_second);
}

static const void *module_bytes(const struct boot_module *module)
{
    if (module->end <= module->start || module->end > IDENTITY_MAP_LIMIT)
        return 0;
    uintptr_t pointer = (uintptr_t)module->start;
    __asm__("" : "+r"(pointer)); /* identity-mapped boot memory, not a C object */
    return (const void *)pointer;
}

bool guest_recovery_measure(const struct boot_info *boot)
{
    bool launch = true;
    char detail[200];
    for (unsigned i = 0; i < boot->module_count && i < GUEST_LIFE_MODULES_MAX; i++) {
        const void *bytes = module_bytes(&boot->modules[i]);
        if (bytes == 0) {
            log_warn("measured launch: module %u lies outside the low 4 GiB or is empty: not measured", i);
            if (life.modules[i].expected) {
                log_error("measured launch: module %u cannot be checked against module_sha256=", i);
                launch = false;
            }
            continue;
        }
        uint64_t size = boot->modules[i].end - boot->modules[i].start;
        bool matches = guest_life_measure_module(&life, i, bytes, size, detail, sizeof detail);
        char hex[SHA256_HEX_SIZE];
        sha256_to_hex(life.modules[i].digest, hex);
        log_info("module %u: sha256 %s (%lu bytes)%s", i, hex, (unsigned long)size,
                 life.modules[i].expected ? (matches ? ", as module_sha256= expects" : "") : "");
        if (!matches) {
            log_error("measured launch: %s", detail);
            audit_log_action(&life.audit, clock_now_ms(), AUDIT_ORIGIN_BOOT, "measure", VIGIL_E_ACCESSDENIED,
                             "module digest differs from module_sha256=");
            launch = false;
        }
    }
    for (unsigned i = boot->module_count; i < GUEST_LIFE_MODULES_MAX; i++) {
        if (!life.modules[i].expected)
            continue;
        log_error("measured launch: module_sha256= names module %u, but the boot loader gave %u module(s)", i,
                  boot->module_count);
        launch = false;
    }
    if (launch)
        audit_log_action(&life.audit, clock_now_ms(), AUDIT_ORIGIN_BOOT, "measure", VIGIL_S_OK, "modules measured");
    return launch;
}

void guest_recovery_guest_starting(void)
{
    life.boot_count++;
    guest_down = false;
    stop_for_restart = false;
    reset_requested = false;
    recovery_guest_restarted(&life.recovery);
}

/* Every action: a log line, a policy-action event, an audit entry. */
static void announce(const char *policy, const struct recovery_decision *decision, uint32_t status)
{
    struct guest_service_event event;
    memset(&event, 0, sizeof event);
    event.kind = GUEST_EVENT_POLICY_ACTION;
    event.time_ms = clock_now_ms();
    format_string(event.detail, sizeof event.detail, "%s=%s: %s", policy, recovery_step_name(decision->step),
                  decision->detail);
    log_warn("recovery: %s", event.detail);
    audit_log_action(&life.audit, event.time_ms, AUDIT_ORIGIN_POLICY, recovery_step_name(decision->step), status,
                     decision->detail);
    operator_console_event(&event);
}

static void carry_out(const char *policy, struct recovery_decision decision)
{
    switch (decision.step) {
    case RECOVERY_STEP_NONE:
        return;
    case RECOVERY_STEP_NMI:
        /* For a guest crash-dump path (Linux: unknown_nmi_panic, panic_on_io_nmi). */
        service_inject_nmi();
        announce(policy, &decision, VIGIL_S_OK);
        return;
    case RECOVERY_STEP_POWEROFF:
        announce(policy, &decision, VIGIL_S_OK);
        hv_power_off("recovery policy: heartbeat lost");
    case RECOVERY_STEP_STOP_GUEST:
        announce(policy, &decision, VIGIL_S_OK);
        if (!guest_down)
            stop_for_restart = true; /* the run loop stops it; hv_main restarts it when due */
        return;
    default: /* log, halt, hold-off: nothing to do beyond saying it */
        announce(policy, &decision, VIGIL_S_OK);
        return;
    }
}

void guest_recovery_event(const struct guest_service_event *event)
{
    if (event->kind == GUEST_EVENT_HEARTBEAT_RESUMED) {
        recovery_heartbeat_resumed(&life.recovery);
        return;
    }
    if (event->kind != GUEST_EVENT_HEARTBEAT_STOPPED || guest_down || !service_active())
        return;
    struct heartbeat_report report;
    memset(&report, 0, sizeof report);
    guest_service_heartbeat_report(service_instance(), &report);
    carry_out("on_heartbeat_loss", recovery_heartbeat_lost(&life.recovery, event->time_ms, report.failure_interval_ms));
}

bool guest_recovery_tick(void)
{
    if (guest_down)
        return false;
    if (!stop_for_restart)
        carry_out("on_heartbeat_loss", recovery_tick(&life.recovery, clock_now_ms()));
    return stop_for_restart;
}

void guest_recovery_reset_requested(void)
{
    reset_requested = true;
}

void guest_recovery_operator_restart(void)
{
    operator_restart = true;
}

bool guest_recovery_check_pristine(const void *copy, uint64_t size)
{
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256(copy, (size_t)size, digest);
    if (memcmp(digest, life.modules[0].digest, sizeof digest) == 0)
        return true;
    char measured[SHA256_HEX_SIZE], launched[SHA256_HEX_SIZE];
    sha256_to_hex(digest, measured);
    sha256_to_hex(life.modules[0].digest, launched);
    log_error("restart refused: the pristine copy of module 0 has SHA-256 %s, but %s was launched", measured,
              launched);
    audit_log_action(&life.audit, clock_now_ms(), AUDIT_ORIGIN_POLICY, "restart", VIGIL_E_ACCESSDENIED,
                     "the pristine copy of module 0 changed");
    return false;
}

bool guest_recovery_restart_due(void)
{
    struct recovery_decision decision;
    memset(&decision, 0, sizeof decision);
    decision.step = RECOVERY_STEP_RESTART;
    if (operator_restart) {
        operator_restart = false;
        recovery_operator_restart(&life.recovery);
        format_string(decision.detail, sizeof decision.detail, "restarting the guest (operator reboot)");
        announce("shutdown --reboot", &decision, VIGIL_S_OK);
        return true;
    }
    if (!life.recovery.restart_pending)
        return false;
    /* The backoff: the console and the service's clock keep running meanwhile. */
    for (;;) {
        decision = recovery_tick(&life.recovery, clock_now_ms());
        if (decision.step == RECOVERY_STEP_RESTART) {
            announce("restart", &decision, VIGIL_S_OK);
            return true;
        }
        if (!life.recovery.restart_pending)
            return false;
        timer_run_due();
        __asm__ volatile("pause");
    }
}

void guest_recovery_service_started(void)
{
    static const struct service_observer observer = {
        .event = guest_recovery_event,
        .tick = guest_recovery_tick,
        .guest_ended = guest_recovery_guest_stopped,
    };
    service_set_observer(&observer);
    uint32_t interval = life.heartbeat_interval_ms;
    if (interval != 0 && service_active() &&
        guest_service_set_heartbeat_failure_interval(service_instance(), interval) != VIGIL_S_OK)
        log_warn("heartbeat_interval=%lu refused by the heartbeat monitor", (unsigned long)interval);
}

void guest_recovery_guest_stopped(enum guest_service_event_kind why, const char *detail)
{
    uint64_t now = clock_now_ms();
    guest_down = true;
    guest_life_note_stop(&life, now, detail);
    recovery_heartbeat_resumed(&life.recovery);
    if (why == GUEST_EVENT_TRIPLE_FAULT)
        carry_out("on_triple_fault", recovery_guest_crashed(&life.recovery, now, RECOVERY_CAUSE_TRIPLE_FAULT));
    else if (reset_requested)
        carry_out("guest reset", recovery_guest_crashed(&life.recovery, now, RECOVERY_CAUSE_GUEST_RESET));
}
