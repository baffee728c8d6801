/* Unit tests for guest-svc/host/heartbeat_monitor.c: beats, percentages, transitions, anomalies. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest-svc/host/heartbeat_monitor.h"
#include "vigil/abi.h"

#define SAMPLE_MS 50u
#define SECOND 1000ull
#define MINUTE (60ull * SECOND)
#define DAY (24ull * 60ull * MINUTE)

/*
 * A simulated guest and the hypervisor's timer: the guest increments its counter
 * every beat_every_ms (0 = silent), optionally skipping every skip_every-th beat;
 * the monitor samples the counter every 50 ms of simulated time. Every outcome
 * is tallied so the tests can check events happened exactly once, and when.
 */
struct sim {
    struct heartbeat_monitor monitor;
    uint64_t now_ms;
    uint64_t counter;
    uint64_t beat_every_ms;
    uint64_t next_beat_ms;
    uint64_t skip_every, beat_number;
    unsigned stopped, resumed, backwards, jumps;
    uint64_t stopped_at_ms, resumed_at_ms, resumed_gap_ms;
    uint64_t beats_accepted;
    uint64_t last_beat_sample_ms; /* the sample that last accepted a beat */
};

static struct sim sim;

static void sim_tally(struct heartbeat_sample_outcome outcome)
{
    if (outcome.transition == HEARTBEAT_STOPPED) {
        sim.stopped++;
        sim.stopped_at_ms = sim.now_ms;
    } else if (outcome.transition == HEARTBEAT_RESUMED) {
        sim.resumed++;
        sim.resumed_at_ms = sim.now_ms;
        sim.resumed_gap_ms = outcome.gap_ms;
    }
    if (outcome.anomaly == HEARTBEAT_ANOMALY_BACKWARDS)
        sim.backwards++;
    if (outcome.anomaly == HEARTBEAT_ANOMALY_JUMP)
        sim.jumps++;
    sim.beats_accepted += outcome.beats_accepted;
    if (outcome.beats_accepted > 0)
        sim.last_beat_sample_ms = sim.now_ms;
}

static struct heartbeat_sample_outcome sim_sample(void)
{
    struct heartbeat_sample_outcome outcome = heartbeat_monitor_sample(&sim.monitor, sim.counter, sim.now_ms);
    sim_tally(outcome);
    return outcome;
}

/* Monitoring begins at start_ms; the first sample (the baseline) at the same instant. */
static void sim_start(uint64_t start_ms, uint64_t initial_counter)
{
    memset(&sim, 0, sizeof(sim));
    sim.now_ms = start_ms;
    sim.counter = initial_counter;
    heartbeat_monitor_init(&sim.monitor, start_ms);
    struct heartbeat_sample_outcome first = sim_sample();
    assert_int_equal(first.beats_accepted, 0);
    assert_int_equal(first.anomaly, HEARTBEAT_ANOMALY_NONE);
    assert_int_equal(first.transition, HEARTBEAT_UNCHANGED);
}

/* The guest beats every `every_ms` from `first_delay_ms` from now on (0 = falls silent). */
static void sim_guest_beats(uint64_t every_ms, uint64_t first_delay_ms)
{
    sim.beat_every_ms = every_ms;
    sim.next_beat_ms = sim.now_ms + first_delay_ms;
}

/* Runs `duration_ms` of simulated time, sampling every 50 ms. */
static void sim_run(uint64_t duration_ms)
{
    uint64_t end = sim.now_ms + duration_ms;
    while (sim.now_ms + SAMPLE_MS <= end) {
        sim.now_ms += SAMPLE_MS;
        while (sim.beat_every_ms != 0 && sim.next_beat_ms <= sim.now_ms) {
            sim.beat_number++;
            if (sim.skip_every == 0 || sim.beat_number % sim.skip_every != 0)
                sim.counter++;
            sim.next_beat_ms += sim.beat_every_ms;
        }
        sim_sample();
    }
    sim.now_ms = end; /* a remainder smaller than a sample passes without one */
}

static struct heartbeat_report report_at(uint64_t now_ms)
{
    struct heartbeat_report report;
    memset(&report, 0xA5, sizeof(report)); /* garbage, to prove every field is written */
    heartbeat_monitor_report(&sim.monitor, now_ms, &report);
    return report;
}

static struct heartbeat_report report_now(void)
{
    return report_at(sim.now_ms);
}

static uint64_t ring_total(void)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < HEARTBEAT_HISTORY_BUCKETS; i++)
        total += sim.monitor.buckets[i];
    return total;
}

/* ---- before anything happens ---- */

static void test_report_before_any_sample(void **state)
{
    (void)state;
    memset(&sim, 0, sizeof(sim));
    heartbeat_monitor_init(&sim.monitor, 5000);
    for (uint64_t now = 5000; now <= 5000 + 20 * MINUTE; now += 7 * SECOND + 321) {
        struct heartbeat_report report = report_at(now);
        assert_false(report.started);
        assert_false(report.heartbeating);
        assert_int_equal(report.last_beat_age_ms, UINT64_MAX);
        assert_int_equal(report.percentage, 0);
        assert_int_equal(report.percentage_1_minute, 0);
        assert_int_equal(report.percentage_5_minutes, 0);
        assert_int_equal(report.percentage_15_minutes, 0);
        assert_int_equal(report.period_ms, VIGIL_HEARTBEAT_PERIOD_DEFAULT_MS);
        assert_int_equal(report.failure_interval_ms, HEARTBEAT_FAILURE_INTERVAL_DEFAULT_MS);
        assert_int_equal(report.longest_gap_ms, 0);
        assert_int_equal(report.beats_total, 0);
        assert_int_equal(report.anomalies_backwards, 0);
        assert_int_equal(report.anomalies_jumps, 0);
    }
}

static void test_first_sample_is_only_a_baseline(void **state)
{
    (void)state;
    sim_start(1000, 123456789012ull); /* a huge absolute value counts for nothing */
    assert_int_equal(sim.monitor.beats_total, 0);
    struct heartbeat_report report = report_now();
    assert_false(report.started);
    assert_int_equal(report.last_beat_age_ms, UINT64_MAX);

    sim.now_ms += SAMPLE_MS;
    sim.counter += 3;
    struct heartbeat_sample_outcome outcome = sim_sample();
    assert_int_equal(outcome.beats_accepted, 3);
    assert_int_equal(outcome.anomaly, HEARTBEAT_ANOMALY_NONE);
    report = report_at(sim.now_ms + 250);
    assert_true(report.started);
    assert_true(report.heartbeating);
    assert_int_equal(report.last_beat_age_ms, 250);
    assert_int_equal(report.beats_total, 3);
}

static void test_no_stop_reported_before_any_beat(void **state)
{
    (void)state;
    sim_start(0, 0);
    sim_run(2 * MINUTE);
    assert_int_equal(sim.stopped, 0);
    assert_int_equal(sim.resumed, 0);
    assert_false(report_now().heartbeating);
}

/* ---- settings ---- */

static void test_set_period_defaults_and_clamps(void **state)
{
    (void)state;
    heartbeat_monitor_init(&sim.monitor, 0);
    assert_int_equal(sim.monitor.period_ms, 1000);
    heartbeat_monitor_set_period(&sim.monitor, 250);
    assert_int_equal(sim.monitor.period_ms, 250);
    heartbeat_monitor_set_period(&sim.monitor, 0);
    assert_int_equal(sim.monitor.period_ms, VIGIL_HEARTBEAT_PERIOD_DEFAULT_MS);
    heartbeat_monitor_set_period(&sim.monitor, 1);
    assert_int_equal(sim.monitor.period_ms, VIGIL_HEARTBEAT_PERIOD_MIN_MS);
    heartbeat_monitor_set_period(&sim.monitor, VIGIL_HEARTBEAT_PERIOD_MAX_MS + 1);
    assert_int_equal(sim.monitor.period_ms, VIGIL_HEARTBEAT_PERIOD_MAX_MS);
    heartbeat_monitor_set_period(&sim.monitor, UINT32_MAX);
    assert_int_equal(sim.monitor.period_ms, VIGIL_HEARTBEAT_PERIOD_MAX_MS);
    struct heartbeat_report report;
    heartbeat_monitor_report(&sim.monitor, 0, &report);
    assert_int_equal(report.period_ms, VIGIL_HEARTBEAT_PERIOD_MAX_MS);
}

static void test_set_failure_interval_rejects_out_of_range(void **state)
{
    (void)state;
    heartbeat_monitor_init(&sim.monitor, 0);
    assert_false(heartbeat_monitor_set_failure_interval(&sim.monitor, 0));
    assert_false(heartbeat_monitor_set_failure_interval(&sim.monitor, HEARTBEAT_FAILURE_INTERVAL_MIN_MS - 1));
    assert_false(heartbeat_monitor_set_failure_interval(&sim.monitor, HEARTBEAT_FAILURE_INTERVAL_MAX_MS + 1));
    assert_int_equal(sim.monitor.failure_interval_ms, HEARTBEAT_FAILURE_INTERVAL_DEFAULT_MS);
    assert_true(heartbeat_monitor_set_failure_interval(&sim.monitor, HEARTBEAT_FAILURE_INTERVAL_MIN_MS));
    assert_int_equal(sim.monitor.failure_interval_ms, HEARTBEAT_FAILURE_INTERVAL_MIN_MS);
    assert_true(heartbeat_monitor_set_failure_interval(&sim.monitor, HEARTBEAT_FAILURE_INTERVAL_MAX_MS));
    assert_int_equal(sim.monitor.failure_interval_ms, HEARTBEAT_FAILURE_INTERVAL_MAX_MS);
    assert_false(heartbeat_monitor_set_failure_interval(&sim.monitor, UINT32_MAX));
    assert_int_equal(sim.monitor.failure_interval_ms, HEARTBEAT_FAILURE_INTERVAL_MAX_MS);
}

/* ---- percentages ---- */

static void test_steady_beats_are_100_percent_at_every_instant(void **state)
{
    (void)state;
    sim_start(0, 42);
    sim_guest_beats(1000, 400);
    sim_run(2 * MINUTE);
    /* Check at every sample for another 10 s: the partial current second never dents it. */
    for (int i = 0; i < 200; i++) {
        sim_run(SAMPLE_MS);
        struct heartbeat_report report = report_now();
        assert_int_equal(report.percentage, 100);
        assert_int_equal(report.percentage_1_minute, 100);
        assert_true(report.heartbeating);
    }
    assert_int_equal(sim.stopped, 0);
    assert_int_equal(sim.backwards + sim.jumps, 0);
    /* Exactly 60 beats in the window: not an excess hidden by the cap. */
    heartbeat_monitor_set_period(&sim.monitor, 600); /* 60 s / 600 ms = 100 expected */
    assert_int_equal(report_now().percentage, 60);
}

static void test_half_the_beats_is_50_percent(void **state)
{
    (void)state;
    sim_start(0, 0);
    sim_guest_beats(2000, 700);
    sim_run(2 * MINUTE);
    for (int i = 0; i < 60; i++) {
        sim_run(SAMPLE_MS * 3);
        assert_int_equal(report_now().percentage, 50);
    }
    /* Skipping every 10th beat of a 1 s guest: 90 %. */
    sim_start(0, 0);
    sim.skip_every = 10;
    sim_guest_beats(1000, 100);
    sim_run(3 * MINUTE);
    assert_int_equal(report_now().percentage, 90);
}

static void test_500ms_beats_with_500ms_period_is_100_percent(void **state)
{
    (void)state;
    sim_start(0, 0);
    heartbeat_monitor_set_period(&sim.monitor, 500);
    sim_guest_beats(500, 120);
    sim_run(2 * MINUTE);
    assert_int_equal(report_now().percentage, 100);
    assert_int_equal(report_now().period_ms, 500);
    /* The same guest beating every second against a declared 500 ms period: 50 %. */
    sim_guest_beats(1000, 0);
    sim_run(MINUTE + SECOND);
    assert_int_equal(report_now().percentage, 50);
}

static void test_beats_faster_than_declared_are_capped_at_100(void **state)
{
    (void)state;
    sim_start(0, 0);
    sim_guest_beats(100, 0); /* ten times the declared 1 s rate: below the jump limit per sample */
    sim_run(16 * MINUTE);
    struct heartbeat_report report = report_now();
    assert_int_equal(sim.jumps, 0);
    assert_int_equal(report.percentage, 100);
    assert_int_equal(report.percentage_5_minutes, 100);
    assert_int_equal(report.percentage_15_minutes, 100);
}

static void test_long_period_guest(void **state)
{
    (void)state;
    /* A guest declaring the longest period, 60 s, beats once per 60 s window: 100 %. */
    sim_start(0, 0);
    heartbeat_monitor_set_period(&sim.monitor, VIGIL_HEARTBEAT_PERIOD_MAX_MS);
    assert_true(heartbeat_monitor_set_failure_interval(&sim.monitor, 120000));
    sim_guest_beats(60000, 30000);
    sim_run(5 * MINUTE);
    for (int i = 0; i < 40; i++) {
        sim_run(1700);
        assert_int_equal(report_now().percentage, 100);
    }
    assert_int_equal(sim.stopped, 0);
}

static void test_young_monitoring_uses_elapsed_time(void **state)
{
    (void)state;
    sim_start(10300, 0); /* monitoring begins in the middle of a second */
    sim_guest_beats(1000, 500);
    assert_int_equal(report_now().percentage, 0); /* nothing expected yet */
    sim_run(20 * SECOND);
    struct heartbeat_report report = report_now();
    assert_int_equal(report.percentage, 100);
    assert_int_equal(report.percentage_5_minutes, 100);
    assert_int_equal(report.percentage_15_minutes, 100);

    /* At half rate, half, not a sixth (20 s of a 60 s window not having passed yet). */
    sim_start(0, 0);
    sim_guest_beats(2000, 1000);
    sim_run(20 * SECOND + 500);
    report = report_now();
    assert_int_equal(report.percentage, 50);
    assert_int_equal(report.percentage_15_minutes, 50);
}

static void test_windows_after_20_minutes_of_a_pattern(void **state)
{
    (void)state;
    /* Silent 15 minutes, then beating the last 5. */
    sim_start(0, 0);
    sim_run(15 * MINUTE);
    sim_guest_beats(1000, 0);
    sim_run(5 * MINUTE);
    struct heartbeat_report report = report_now();
    assert_int_equal(report.percentage_1_minute, 100);
    assert_int_equal(report.percentage_5_minutes, 100);
    assert_int_equal(report.percentage_15_minutes, 33); /* 300 of 899 s */

    /* Beating the first 15 minutes, then silent the last 5. */
    sim_start(0, 0);
    sim_guest_beats(1000, 0);
    sim_run(15 * MINUTE);
    sim_guest_beats(0, 0);
    sim_run(5 * MINUTE);
    report = report_now();
    assert_int_equal(report.percentage_1_minute, 0);
    assert_int_equal(report.percentage_5_minutes, 0);
    assert_int_equal(report.percentage_15_minutes, 66); /* seconds 301..900 beat: 600 of 899 */
    assert_false(report.heartbeating);
    assert_int_equal(sim.stopped, 1);

    /* Half rate for 10 minutes, then full rate 10 minutes: the windows disagree as they should. */
    sim_start(0, 0);
    sim_guest_beats(2000, 0);
    sim_run(10 * MINUTE);
    sim_guest_beats(1000, 0);
    sim_run(10 * MINUTE);
    report = report_now();
    assert_int_equal(report.percentage_1_minute, 100);
    assert_int_equal(report.percentage_5_minutes, 100);
    assert_int_equal(report.percentage_15_minutes, 83); /* 149 + 2 + 599 = 750 beats of 899 */
}

static void test_seconds_without_samples_count_as_empty(void **state)
{
    (void)state;
    sim_start(0, 0);
    sim_guest_beats(1000, 500); /* one beat in each of seconds 0..119 */
    sim_run(2 * MINUTE);
    /* No sample for 30 s (e.g. the timer was held off): the report alone sees the silence. */
    assert_int_equal(report_at(sim.now_ms + 30 * SECOND).percentage, 50);
    /* And a sample then clears the skipped seconds; the guest had stopped too. */
    sim.now_ms += 30 * SECOND;
    sim_guest_beats(0, 0);
    sim_sample();
    assert_int_equal(report_now().percentage, 50);
    assert_int_equal(ring_total(), 120);
}

/* ---- liveness transitions ---- */

static void test_stop_reported_once_then_resume_with_gap(void **state)
{
    (void)state;
    sim_start(0, 0);
    sim_guest_beats(1000, 0);
    sim_run(30 * SECOND);
    uint64_t last_beat = sim.last_beat_sample_ms;
    sim_guest_beats(0, 0);
    sim_run(12 * SECOND);

    assert_int_equal(sim.stopped, 1);
    assert_int_equal(sim.stopped_at_ms, last_beat + HEARTBEAT_FAILURE_INTERVAL_DEFAULT_MS + SAMPLE_MS);
    assert_int_equal(sim.resumed, 0);
    assert_true(report_at(last_beat + HEARTBEAT_FAILURE_INTERVAL_DEFAULT_MS).heartbeating);
    struct heartbeat_report report = report_at(last_beat + HEARTBEAT_FAILURE_INTERVAL_DEFAULT_MS + 1);
    assert_false(report.heartbeating);
    assert_true(report.started);
    assert_int_equal(report.last_beat_age_ms, HEARTBEAT_FAILURE_INTERVAL_DEFAULT_MS + 1);

    sim_run(MINUTE); /* still silent: no second STOPPED */
    assert_int_equal(sim.stopped, 1);

    sim_guest_beats(1000, 10);
    sim_run(5 * SECOND);
    assert_int_equal(sim.resumed, 1);
    assert_int_equal(sim.resumed_gap_ms, sim.resumed_at_ms - last_beat);
    assert_int_equal(sim.resumed_gap_ms, 12 * SECOND + MINUTE + SAMPLE_MS);
    assert_true(report_now().heartbeating);
    assert_int_equal(report_now().longest_gap_ms, sim.resumed_gap_ms);

    /* A second outage is reported again. */
    sim_guest_beats(0, 0);
    sim_run(11 * SECOND);
    assert_int_equal(sim.stopped, 2);
    assert_int_equal(sim.resumed, 1);
}

static void test_failure_interval_3_seconds(void **state)
{
    (void)state;
    sim_start(0, 0);
    assert_true(heartbeat_monitor_set_failure_interval(&sim.monitor, 3000));
    sim_guest_beats(1000, 0);
    sim_run(10 * SECOND);
    uint64_t last_beat = sim.last_beat_sample_ms;
    sim_guest_beats(0, 0);
    sim_run(2900);
    assert_int_equal(sim.stopped, 0);
    assert_true(report_now().heartbeating);
    sim_run(1000);
    assert_int_equal(sim.stopped, 1);
    assert_int_equal(sim.stopped_at_ms, last_beat + 3000 + SAMPLE_MS);
    assert_false(report_now().heartbeating);
    assert_int_equal(report_now().failure_interval_ms, 3000);
}

static void test_longest_gap(void **state)
{
    (void)state;
    sim_start(0, 0);
    sim_guest_beats(1000, 0);
    sim_run(10 * SECOND);
    assert_int_equal(report_now().longest_gap_ms, 1000);

    sim_guest_beats(0, 0);
    sim_run(4 * SECOND);
    sim_guest_beats(1000, 500); /* silence of 4.5 s (beats land on sample instants) */
    sim_run(3 * SECOND);
    assert_int_equal(report_now().longest_gap_ms, 4500);

    uint64_t last_beat = sim.last_beat_sample_ms;
    sim_guest_beats(0, 0);
    sim_run(6 * SECOND);
    sim_guest_beats(1000, 0);
    sim.next_beat_ms = last_beat + 7000; /* on a sample instant */
    sim_run(2 * SECOND);
    assert_int_equal(report_now().longest_gap_ms, 7000);

    last_beat = sim.last_beat_sample_ms;
    sim_guest_beats(0, 0);
    sim_run(2 * SECOND);
    sim_guest_beats(1000, 0);
    sim.next_beat_ms = last_beat + 2500;
    sim_run(2 * SECOND);
    assert_int_equal(report_now().longest_gap_ms, 7000); /* a shorter gap does not replace it */
    assert_int_equal(sim.stopped, 0);
}

static void test_unobserved_silence_is_a_gap_but_no_events(void **state)
{
    (void)state;
    sim_start(0, 0);
    sim_guest_beats(1000, 0);
    sim_run(10 * SECOND);
    uint64_t last_beat = sim.last_beat_sample_ms;
    /* No sample for 20 s; the next sample finds one new beat. */
    sim.now_ms = last_beat + 20 * SECOND;
    sim.counter++;
    struct heartbeat_sample_outcome outcome = sim_sample();
    assert_int_equal(outcome.beats_accepted, 1);
    assert_int_equal(outcome.transition, HEARTBEAT_UNCHANGED);
    assert_int_equal(report_now().longest_gap_ms, 20 * SECOND);
    assert_true(report_now().heartbeating);
}

/* ---- anomalies ---- */

static void test_backwards_counter(void **state)
{
    (void)state;
    sim_start(0, 1000000);
    sim_guest_beats(1000, 0);
    sim_run(2 * MINUTE);
    uint64_t total = report_now().beats_total;

    /* The guest restarted: its counter starts over. */
    sim.counter = 5;
    sim.now_ms += SAMPLE_MS;
    struct heartbeat_sample_outcome outcome = sim_sample();
    assert_int_equal(outcome.anomaly, HEARTBEAT_ANOMALY_BACKWARDS);
    assert_int_equal(outcome.beats_accepted, 0);
    assert_int_equal(outcome.transition, HEARTBEAT_UNCHANGED);
    struct heartbeat_report report = report_now();
    assert_int_equal(report.anomalies_backwards, 1);
    assert_int_equal(report.anomalies_jumps, 0);
    assert_int_equal(report.beats_total, total);
    assert_int_equal(report.percentage, 100);

    /* The new value is the baseline: the next beat counts one. */
    sim.counter++;
    sim.now_ms += SAMPLE_MS;
    outcome = sim_sample();
    assert_int_equal(outcome.anomaly, HEARTBEAT_ANOMALY_NONE);
    assert_int_equal(outcome.beats_accepted, 1);
    sim_run(MINUTE);
    assert_int_equal(report_now().percentage, 100);
    assert_int_equal(report_now().anomalies_backwards, 1);
}

static void test_absurd_jump(void **state)
{
    (void)state;
    sim_start(0, 0);
    sim_guest_beats(1000, 0);
    sim_run(MINUTE);
    uint64_t total = report_now().beats_total;

    sim.counter += 1000000;
    sim.now_ms += SAMPLE_MS;
    struct heartbeat_sample_outcome outcome = sim_sample();
    assert_int_equal(outcome.anomaly, HEARTBEAT_ANOMALY_JUMP);
    assert_int_equal(outcome.beats_accepted, 1); /* alive, but the rise is not believed */
    assert_int_equal(report_now().anomalies_jumps, 1);
    assert_int_equal(report_now().beats_total, total + 1);

    /* The limit after 50 ms at a 1 s period is 0 * 4 + 8 beats. */
    sim.counter += 8;
    sim.now_ms += SAMPLE_MS;
    outcome = sim_sample();
    assert_int_equal(outcome.anomaly, HEARTBEAT_ANOMALY_NONE);
    assert_int_equal(outcome.beats_accepted, 8);
    sim.counter += 9;
    sim.now_ms += SAMPLE_MS;
    outcome = sim_sample();
    assert_int_equal(outcome.anomaly, HEARTBEAT_ANOMALY_JUMP);
    assert_int_equal(outcome.beats_accepted, 1);

    /* After 10 s at a 500 ms period: 20 * 4 + 8 = 88. */
    heartbeat_monitor_set_period(&sim.monitor, 500);
    sim.counter += 88;
    sim.now_ms += 10 * SECOND;
    outcome = sim_sample();
    assert_int_equal(outcome.anomaly, HEARTBEAT_ANOMALY_NONE);
    assert_int_equal(outcome.beats_accepted, 88);
    sim.counter += 89;
    sim.now_ms += 10 * SECOND;
    outcome = sim_sample();
    assert_int_equal(outcome.anomaly, HEARTBEAT_ANOMALY_JUMP);
    assert_int_equal(report_now().anomalies_jumps, 3);
}

static void test_jumps_do_not_inflate_the_percentage(void **state)
{
    (void)state;
    /* A guest writing garbage rises every second: each counts one beat, not millions. */
    sim_start(0, 0);
    for (int i = 0; i < 120; i++) {
        sim_run(SECOND);
        sim.counter += 1u << 20;
    }
    sim_run(SECOND);
    assert_int_equal(sim.jumps, 120);
    assert_int_equal(report_now().beats_total, 120);
    assert_int_equal(report_now().percentage, 100);

    /* A jump after a STOPPED revives the guest. */
    sim_run(15 * SECOND);
    assert_int_equal(sim.stopped, 1);
    sim.counter += 1u << 20;
    sim.now_ms += SAMPLE_MS;
    struct heartbeat_sample_outcome outcome = sim_sample();
    assert_int_equal(outcome.anomaly, HEARTBEAT_ANOMALY_JUMP);
    assert_int_equal(outcome.transition, HEARTBEAT_RESUMED);
    assert_true(report_now().heartbeating);
}

static void test_counter_wrap_is_backwards(void **state)
{
    (void)state;
    sim_start(0, UINT64_MAX - 1);
    sim.counter = UINT64_MAX;
    sim.now_ms += SAMPLE_MS;
    assert_int_equal(sim_sample().beats_accepted, 1);
    /* UINT64_MAX -> 0 would be "one beat" in modular arithmetic; it is treated as a reset. */
    sim.counter = 0;
    sim.now_ms += SAMPLE_MS;
    struct heartbeat_sample_outcome outcome = sim_sample();
    assert_int_equal(outcome.anomaly, HEARTBEAT_ANOMALY_BACKWARDS);
    assert_int_equal(outcome.beats_accepted, 0);
    sim.counter = 1;
    sim.now_ms += SAMPLE_MS;
    outcome = sim_sample();
    assert_int_equal(outcome.anomaly, HEARTBEAT_ANOMALY_NONE);
    assert_int_equal(outcome.beats_accepted, 1);
    assert_int_equal(report_now().beats_total, 2);
    assert_int_equal(report_now().anomalies_backwards, 1);
}

/* ---- time ---- */

static void test_time_jump_of_days(void **state)
{
    (void)state;
    sim_start(0, 0);
    sim_guest_beats(1000, 0);
    sim_run(20 * MINUTE);
    assert_int_equal(report_now().percentage_15_minutes, 100);

    /* Three days pass between two samples; the guest beat a few times meanwhile. */
    sim.now_ms += 3 * DAY + 123;
    sim.counter += 3;
    sim.next_beat_ms = sim.now_ms + SECOND;
    struct heartbeat_sample_outcome outcome = sim_sample();
    assert_int_equal(outcome.beats_accepted, 3);
    assert_int_equal(outcome.anomaly, HEARTBEAT_ANOMALY_NONE);
    assert_int_equal(ring_total(), 3); /* the old beats are gone */
    assert_int_equal(sim.monitor.bucket_base_second, sim.now_ms / 1000);

    /* Silent afterwards: nothing of the old 20 minutes comes back as the ring turns. */
    sim_guest_beats(0, 0);
    sim_run(2 * MINUTE);
    struct heartbeat_report report = report_now();
    assert_int_equal(report.percentage, 0);
    assert_int_equal(report.percentage_5_minutes, 1); /* 3 of 300 */
    assert_int_equal(report.percentage_15_minutes, 0);
    assert_int_equal(ring_total(), 3);

    /* Time that is absurdly far away must not loop: 2^62 ms. */
    sim.now_ms = 1ull << 62;
    sim.counter += 1;
    outcome = sim_sample();
    assert_int_equal(outcome.beats_accepted, 1);
    assert_int_equal(ring_total(), 1);
    sim_run(2 * SECOND);
    assert_int_equal(report_now().percentage, 1); /* 1 beat of the 60 expected; the earlier beats are far away */
}

static void test_partial_advance_clears_only_skipped_seconds(void **state)
{
    (void)state;
    sim_start(0, 0);
    sim_guest_beats(1000, 0);
    sim_run(2 * MINUTE); /* beats at 0, 1000, ..., 120000 ms: one in each of seconds 0..120 */
    assert_int_equal(ring_total(), 121);
    /* 899 seconds later, one sample: only second 120 itself remains... */
    sim_guest_beats(0, 0);
    sim.now_ms += 899 * SECOND;
    sim_sample();
    /* ...since base-899 .. base covers seconds 120..1019. */
    assert_int_equal(ring_total(), 1);
    assert_int_equal(report_now().percentage_15_minutes, 0); /* 1 * 100 / 899 */
    /* One more second and it is gone too. */
    sim.now_ms += SECOND;
    sim_sample();
    assert_int_equal(ring_total(), 0);
}

static void test_bucket_saturates(void **state)
{
    (void)state;
    sim_start(0, 0);
    heartbeat_monitor_set_period(&sim.monitor, VIGIL_HEARTBEAT_PERIOD_MIN_MS);
    /* After 2000 s at 100 ms: 20000 * 4 + 8 beats are plausible; 70000 in one bucket saturates it. */
    sim.now_ms = 2000 * SECOND;
    sim.counter = 70000;
    struct heartbeat_sample_outcome outcome = sim_sample();
    assert_int_equal(outcome.anomaly, HEARTBEAT_ANOMALY_NONE);
    assert_int_equal(outcome.beats_accepted, 70000);
    assert_int_equal(report_now().beats_total, 70000);
    assert_int_equal(sim.monitor.buckets[sim.monitor.bucket_head], UINT16_MAX);
    sim.counter += 5;
    sim.now_ms += SAMPLE_MS;
    sim_sample();
    assert_int_equal(sim.monitor.buckets[sim.monitor.bucket_head], UINT16_MAX);
    assert_int_equal(report_at(sim.now_ms + SECOND).percentage, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_before_any_sample),
        cmocka_unit_test(test_first_sample_is_only_a_baseline),
        cmocka_unit_test(test_no_stop_reported_before_any_beat),
        cmocka_unit_test(test_set_period_defaults_and_clamps),
        cmocka_unit_test(test_set_failure_interval_rejects_out_of_range),
        cmocka_unit_test(test_steady_beats_are_100_percent_at_every_instant),
        cmocka_unit_test(test_half_the_beats_is_50_percent),
        cmocka_unit_test(test_500ms_beats_with_500ms_period_is_100_percent),
        cmocka_unit_test(test_beats_faster_than_declared_are_capped_at_100),
        cmocka_unit_test(test_long_period_guest),
        cmocka_unit_test(test_young_monitoring_uses_elapsed_time),
        cmocka_unit_test(test_windows_after_20_minutes_of_a_pattern),
        cmocka_unit_test(test_seconds_without_samples_count_as_empty),
        cmocka_unit_test(test_stop_reported_once_then_resume_with_gap),
        cmocka_unit_test(test_failure_interval_3_seconds),
        cmocka_unit_test(test_longest_gap),
        cmocka_unit_test(test_unobserved_silence_is_a_gap_but_no_events),
        cmocka_unit_test(test_backwards_counter),
        cmocka_unit_test(test_absurd_jump),
        cmocka_unit_test(test_jumps_do_not_inflate_the_percentage),
        cmocka_unit_test(test_counter_wrap_is_backwards),
        cmocka_unit_test(test_time_jump_of_days),
        cmocka_unit_test(test_partial_advance_clears_only_skipped_seconds),
        cmocka_unit_test(test_bucket_saturates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
