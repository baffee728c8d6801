/*
 * The heartbeat monitor. See heartbeat_monitor.h for the contract and
 * DESIGN.md §1-2 for what HeartbeatPercentage and IsHeartbeating mean.
 *
 * Everything here is integer arithmetic over (counter, time) samples; no
 * allocation, no floating point, no VMX. Decisions worth knowing:
 *
 * - Beats land in the one-second bucket of the *sample* that saw them
 *   (absolute second = now_ms / 1000). Samples come every ~50 ms, so a beat is
 *   misplaced by at most one sample interval.
 *
 * - The ring: buckets[bucket_head] is the absolute second bucket_base_second
 *   (the second of the latest sample, still filling); the entry before it is
 *   second base-1, and so on back to base-899. Seconds after the base (time has
 *   moved on without a sample) are implicitly empty: the report treats them as
 *   zero, and the next sample clears them. Advancing by 900 seconds or more
 *   clears the whole ring once, so a jump of days costs no more than 900 stores.
 *
 * - Percentage windows are aligned to whole seconds and end at the start of the
 *   current, partially elapsed second: a W-second window counts the beats of
 *   the W complete seconds [now_s - W, now_s - 1], which span exactly W * 1000
 *   ms, and expects (W * 1000) / period_ms beats. A beat in the current second
 *   therefore shows up in the percentage at most one second late, but the
 *   time counted and the beats counted cover the same span, so a guest beating
 *   steadily at its declared period scores exactly 100 and one beating at half
 *   that rate exactly 50.
 *   While monitoring is younger than the window, the span is
 *   [start_ms, now_s * 1000): the beats of seconds start_s .. now_s - 1 (all of
 *   them were recorded at or after start_ms) against (now_s * 1000 - start_ms) /
 *   period_ms expected. In the first, partial second of monitoring nothing is
 *   expected yet and the percentage is 0.
 *   The ring holds the current second plus the 899 complete seconds before it,
 *   so the "15-minute" window is 899 s (HEARTBEAT_HISTORY_BUCKETS - 1).
 *   percentage = min(100, beats * 100 / expected), 0 when expected is 0. The
 *   expected count uses the period declared now for the whole window.
 *   No overflow: beats <= 900 * UINT16_MAX, so beats * 100 < 2^33.
 *
 * - A counter that goes backwards (the guest restarted, or wrote garbage) is an
 *   anomaly: 0 beats, new baseline. That includes a wrap past UINT64_MAX: at a
 *   beat every 100 ms a 64-bit counter wraps after ~58 billion years, so a
 *   "wrap" is never a real wrap, it is a reset or garbage.
 *
 * - A counter that rose by more than (elapsed / period) * JUMP_FACTOR +
 *   JUMP_SLACK beats is an anomaly too: new baseline, and exactly ONE beat is
 *   accepted. The guest did write its counter since the last sample, so it is
 *   evidently alive (and IsHeartbeating should say so), but the size of the
 *   rise is not believed, so it cannot inflate the percentage.
 *
 * - STOPPED is reported by the first sample that finds no beat within the
 *   failure interval (now - last_beat_ms > failure_interval_ms), once, and only
 *   after at least one beat was ever seen. RESUMED is reported by the first
 *   beat after a STOPPED, with gap_ms = now - the last beat before the silence.
 *   If a beat arrives after a long silence that no sample observed (no STOPPED
 *   was reported), neither is reported, so events always come in pairs; the
 *   gap still counts toward longest_gap_ms.
 *
 * - Time is expected to be monotonic. If a sample's now_ms goes backwards, it
 *   counts as no time elapsed (beats go into the latest bucket, differences
 *   saturate at 0).
 */
#include "guest-svc/host/heartbeat_monitor.h"

#include <stddef.h>
#include <string.h>

#include "vigil/abi.h"

/* The longest window the ring can answer: the current second is still filling. */
#define HEARTBEAT_MAX_WINDOW_SECONDS (HEARTBEAT_HISTORY_BUCKETS - 1u)

static uint64_t saturating_sub(uint64_t a, uint64_t b)
{
    return a > b ? a - b : 0;
}

static uint64_t saturating_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Moves the ring's head to absolute second `second`, emptying the seconds in between. */
static void advance_to_second(struct heartbeat_monitor *monitor, uint64_t second)
{
    if (second <= monitor->bucket_base_second)
        return;
    uint64_t distance = second - monitor->bucket_base_second;
    if (distance >= HEARTBEAT_HISTORY_BUCKETS) {
        memset(monitor->buckets, 0, sizeof(monitor->buckets));
        monitor->bucket_head = 0;
    } else {
        for (uint64_t i = 0; i < distance; i++) {
            monitor->bucket_head = (monitor->bucket_head + 1u) % HEARTBEAT_HISTORY_BUCKETS;
            monitor->buckets[monitor->bucket_head] = 0;
        }
    }
    monitor->bucket_base_second = second;
}

/* Beats recorded in absolute second `second`; 0 if it is not (or no longer, or not yet) in the ring. */
static uint64_t beats_in_second(const struct heartbeat_monitor *monitor, uint64_t second)
{
    if (second > monitor->bucket_base_second)
        return 0;
    uint64_t age = monitor->bucket_base_second - second;
    if (age >= HEARTBEAT_HISTORY_BUCKETS)
        return 0;
    uint32_t index = (uint32_t)((monitor->bucket_head + HEARTBEAT_HISTORY_BUCKETS - age) % HEARTBEAT_HISTORY_BUCKETS);
    return monitor->buckets[index];
}

static void add_beats_to_current_second(struct heartbeat_monitor *monitor, uint64_t beats)
{
    uint16_t *bucket = &monitor->buckets[monitor->bucket_head];
    uint64_t room = UINT16_MAX - *bucket;
    *bucket = (uint16_t)(*bucket + (beats > room ? room : beats));
}

/* The percentage of expected beats over the last `window_seconds` complete seconds (see the top). */
static uint32_t window_percentage(const struct heartbeat_monitor *monitor, uint64_t now_ms, uint32_t window_seconds)
{
    if (window_seconds > HEARTBEAT_MAX_WINDOW_SECONDS)
        window_seconds = HEARTBEAT_MAX_WINDOW_SECONDS;
    uint64_t now_second = now_ms / HEARTBEAT_BUCKET_MS;
    uint64_t end_ms = now_second * HEARTBEAT_BUCKET_MS; /* exclusive: the current second is not complete */
    if (end_ms <= monitor->start_ms)
        return 0;
    uint64_t span_ms = end_ms - monitor->start_ms;
    uint64_t window_ms = (uint64_t)window_seconds * HEARTBEAT_BUCKET_MS;
    if (span_ms > window_ms)
        span_ms = window_ms;

    uint64_t expected = span_ms / monitor->period_ms;
    if (expected == 0)
        return 0;

    uint64_t beats = 0;
    for (uint64_t second = (end_ms - span_ms) / HEARTBEAT_BUCKET_MS; second < now_second; second++)
        beats += beats_in_second(monitor, second);

    uint64_t percentage = beats * 100u / expected;
    return percentage > 100u ? 100u : (uint32_t)percentage;
}

void heartbeat_monitor_init(struct heartbeat_monitor *monitor, uint64_t now_ms)
{
    memset(monitor, 0, sizeof(*monitor));
    monitor->period_ms = VIGIL_HEARTBEAT_PERIOD_DEFAULT_MS;
    monitor->failure_interval_ms = HEARTBEAT_FAILURE_INTERVAL_DEFAULT_MS;
    monitor->start_ms = now_ms;
    monitor->bucket_base_second = now_ms / HEARTBEAT_BUCKET_MS;
    monitor->bucket_head = 0;
}

void heartbeat_monitor_set_period(struct heartbeat_monitor *monitor, uint32_t period_ms)
{
    if (period_ms == 0)
        period_ms = VIGIL_HEARTBEAT_PERIOD_DEFAULT_MS;
    if (period_ms < VIGIL_HEARTBEAT_PERIOD_MIN_MS)
        period_ms = VIGIL_HEARTBEAT_PERIOD_MIN_MS;
    if (period_ms > VIGIL_HEARTBEAT_PERIOD_MAX_MS)
        period_ms = VIGIL_HEARTBEAT_PERIOD_MAX_MS;
    monitor->period_ms = period_ms;
}

bool heartbeat_monitor_set_failure_interval(struct heartbeat_monitor *monitor, uint32_t milliseconds)
{
    if (milliseconds < HEARTBEAT_FAILURE_INTERVAL_MIN_MS || milliseconds > HEARTBEAT_FAILURE_INTERVAL_MAX_MS)
        return false;
    monitor->failure_interval_ms = milliseconds;
    return true;
}

/* The most beats a rise over `elapsed_ms` may plausibly carry. */
static uint64_t jump_limit(uint32_t period_ms, uint64_t elapsed_ms)
{
    uint64_t periods = elapsed_ms / period_ms;
    if (periods > (UINT64_MAX - HEARTBEAT_JUMP_SLACK) / HEARTBEAT_JUMP_FACTOR)
        return UINT64_MAX;
    return periods * HEARTBEAT_JUMP_FACTOR + HEARTBEAT_JUMP_SLACK;
}

struct heartbeat_sample_outcome heartbeat_monitor_sample(struct heartbeat_monitor *monitor, uint64_t counter,
                                                          uint64_t now_ms)
{
    struct heartbeat_sample_outcome outcome = {
        .transition = HEARTBEAT_UNCHANGED,
        .anomaly = HEARTBEAT_ANOMALY_NONE,
        .beats_accepted = 0,
        .gap_ms = 0,
    };

    advance_to_second(monitor, now_ms / HEARTBEAT_BUCKET_MS);

    uint64_t beats = 0;
    if (!monitor->have_sample) {
        /* The counter's absolute value means nothing: this is only the baseline. */
        monitor->have_sample = true;
    } else if (counter < monitor->last_counter) {
        /* Includes a "wrap" past UINT64_MAX: see the top of the file. */
        outcome.anomaly = HEARTBEAT_ANOMALY_BACKWARDS;
        monitor->anomalies_backwards = saturating_add(monitor->anomalies_backwards, 1);
    } else {
        uint64_t rise = counter - monitor->last_counter;
        uint64_t elapsed_ms = saturating_sub(now_ms, monitor->last_sample_ms);
        if (rise > jump_limit(monitor->period_ms, elapsed_ms)) {
            /* Alive (it wrote the counter), but the size of the rise is not believed. */
            outcome.anomaly = HEARTBEAT_ANOMALY_JUMP;
            monitor->anomalies_jumps = saturating_add(monitor->anomalies_jumps, 1);
            beats = 1;
        } else {
            beats = rise;
        }
    }
    monitor->last_counter = counter;
    if (now_ms > monitor->last_sample_ms)
        monitor->last_sample_ms = now_ms;

    if (beats > 0) {
        add_beats_to_current_second(monitor, beats);
        monitor->beats_total = saturating_add(monitor->beats_total, beats);
        outcome.beats_accepted = beats;
        if (monitor->have_beat) {
            uint64_t gap_ms = saturating_sub(now_ms, monitor->last_beat_ms);
            if (gap_ms > monitor->longest_gap_ms)
                monitor->longest_gap_ms = gap_ms;
            if (monitor->stopped) {
                outcome.transition = HEARTBEAT_RESUMED;
                outcome.gap_ms = gap_ms;
            }
        }
        monitor->stopped = false;
        monitor->have_beat = true;
        if (now_ms > monitor->last_beat_ms)
            monitor->last_beat_ms = now_ms;
    } else if (monitor->have_beat && !monitor->stopped &&
               saturating_sub(now_ms, monitor->last_beat_ms) > monitor->failure_interval_ms) {
        monitor->stopped = true;
        outcome.transition = HEARTBEAT_STOPPED;
    }
    return outcome;
}

void heartbeat_monitor_report(const struct heartbeat_monitor *monitor, uint64_t now_ms, struct heartbeat_report *out)
{
    memset(out, 0, sizeof(*out));
    out->period_ms = monitor->period_ms;
    out->failure_interval_ms = monitor->failure_interval_ms;
    out->started = monitor->have_beat;
    if (monitor->have_beat) {
        out->last_beat_age_ms = saturating_sub(now_ms, monitor->last_beat_ms);
        out->heartbeating = out->last_beat_age_ms <= monitor->failure_interval_ms;
    } else {
        out->last_beat_age_ms = UINT64_MAX;
        out->heartbeating = false;
    }
    out->percentage_1_minute = window_percentage(monitor, now_ms, HEARTBEAT_WINDOW_MS / HEARTBEAT_BUCKET_MS);
    out->percentage = out->percentage_1_minute;
    out->percentage_5_minutes = window_percentage(monitor, now_ms, 300u);
    out->percentage_15_minutes = window_percentage(monitor, now_ms, 900u);
    out->longest_gap_ms = monitor->longest_gap_ms;
    out->beats_total = monitor->beats_total;
    out->anomalies_backwards = monitor->anomalies_backwards;
    out->anomalies_jumps = monitor->anomalies_jumps;
}
