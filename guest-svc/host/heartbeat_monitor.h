/*
 * The heartbeat monitor (DESIGN.md §1-2): the guest increments a counter in the
 * status page with a plain store; the hypervisor samples it on its timer tick,
 * never by trapping the store. Pure arithmetic over (counter, time) samples.
 *
 * Beats are accounted in one-second buckets over the last 15 minutes. A sample
 * whose counter went backwards, or rose by far more than the elapsed time allows
 * at the declared period, is an anomaly: reported, and not trusted as beats.
 */
#ifndef VIGIL_GUEST_SVC_HOST_HEARTBEAT_MONITOR_H
#define VIGIL_GUEST_SVC_HOST_HEARTBEAT_MONITOR_H

#include <stdbool.h>
#include <stdint.h>

#define HEARTBEAT_BUCKET_MS 1000u
#define HEARTBEAT_HISTORY_BUCKETS 900u          /* 15 minutes */
#define HEARTBEAT_WINDOW_MS 60000u              /* HeartbeatPercentage: the last 60 s */
#define HEARTBEAT_FAILURE_INTERVAL_DEFAULT_MS 10000u
#define HEARTBEAT_FAILURE_INTERVAL_MIN_MS 1000u
#define HEARTBEAT_FAILURE_INTERVAL_MAX_MS 3600000u
/* A rise of more than (elapsed / period) * HEARTBEAT_JUMP_FACTOR + HEARTBEAT_JUMP_SLACK
 * beats between two samples is absurd. */
#define HEARTBEAT_JUMP_FACTOR 4u
#define HEARTBEAT_JUMP_SLACK 8u

enum heartbeat_transition {
    HEARTBEAT_UNCHANGED = 0,
    HEARTBEAT_STOPPED,   /* was beating; no beat within the failure interval */
    HEARTBEAT_RESUMED,   /* a beat after HEARTBEAT_STOPPED */
};

enum heartbeat_anomaly {
    HEARTBEAT_ANOMALY_NONE = 0,
    HEARTBEAT_ANOMALY_BACKWARDS,  /* counter smaller than the last sample */
    HEARTBEAT_ANOMALY_JUMP,       /* counter rose absurdly */
};

struct heartbeat_sample_outcome {
    enum heartbeat_transition transition;
    enum heartbeat_anomaly anomaly;
    uint64_t beats_accepted;      /* counted from this sample */
    uint64_t gap_ms;              /* for RESUMED: how long the silence lasted */
};

struct heartbeat_report {
    uint32_t period_ms;                   /* declared by the guest (default 1000) */
    uint32_t failure_interval_ms;
    bool started;                         /* at least one sample with a beat since monitoring began */
    bool heartbeating;                    /* a beat within the failure interval */
    uint32_t percentage;                  /* HeartbeatPercentage: last 60 s, 0..100 */
    /* Each over the last N complete seconds (the current one is still filling), or over
     * the time since monitoring began if shorter; "15 minutes" is 899 s, what the ring
     * holds besides the current second. percentage == percentage_1_minute. */
    uint32_t percentage_1_minute, percentage_5_minutes, percentage_15_minutes;
    uint64_t last_beat_age_ms;            /* UINT64_MAX if no beat yet */
    uint64_t longest_gap_ms;              /* longest silence between beats seen */
    uint64_t beats_total;
    uint64_t anomalies_backwards, anomalies_jumps;
};

struct heartbeat_monitor {
    uint32_t period_ms, failure_interval_ms;
    uint64_t start_ms;                    /* monitoring began (or restarted) */
    bool have_sample;
    uint64_t last_counter, last_sample_ms;
    bool have_beat;
    uint64_t last_beat_ms;
    bool stopped;                         /* a HEARTBEAT_STOPPED was reported and no beat since */
    uint64_t longest_gap_ms, beats_total, anomalies_backwards, anomalies_jumps;
    uint64_t bucket_base_second;          /* the absolute second of buckets[bucket_head] */
    uint32_t bucket_head;
    uint16_t buckets[HEARTBEAT_HISTORY_BUCKETS]; /* beats per second, a ring */
};

void heartbeat_monitor_init(struct heartbeat_monitor *monitor, uint64_t now_ms);
/* 0 = default; clamped to VIGIL_HEARTBEAT_PERIOD_MIN_MS..MAX_MS. */
void heartbeat_monitor_set_period(struct heartbeat_monitor *monitor, uint32_t period_ms);
/* Returns false (and changes nothing) outside HEARTBEAT_FAILURE_INTERVAL_MIN_MS..MAX_MS. */
bool heartbeat_monitor_set_failure_interval(struct heartbeat_monitor *monitor, uint32_t milliseconds);
/* One sample of the guest's counter at time now_ms (monotonic, never decreasing). */
struct heartbeat_sample_outcome heartbeat_monitor_sample(struct heartbeat_monitor *monitor, uint64_t counter,
                                                          uint64_t now_ms);
void heartbeat_monitor_report(const struct heartbeat_monitor *monitor, uint64_t now_ms, struct heartbeat_report *out);

#endif
