/*
 * Unit tests for the rate limit on guest-caused events (guest-svc/host/guest_service.c):
 * a guest that floods events (registrations, shutdown announcements) gets a burst of
 * GUEST_SERVICE_EVENT_BURST per kind and then one per GUEST_SERVICE_EVENT_REFILL_MS;
 * the dropped ones are counted in the next event of the kind and in the statistics,
 * other kinds keep their own budget, and the event that says the guest stopped is
 * never dropped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/unit/guest_service_fakes.h"

/* n shutdown announcements, within the doorbell limit (2000 per second). */
static void announce(unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(guest_send_event(VIGIL_GUEST_EVENT_SHUTTING_DOWN), VIGIL_DOORBELL_ACCEPTED);
}

/* The index-th (0-based) recorded event of kind. */
static const struct guest_service_event *nth_event(enum guest_service_event_kind kind, unsigned index)
{
    for (unsigned i = 0; i < fake.event_count && i < FAKE_MAX_EVENTS; i++)
        if (fake.events[i].kind == kind && index-- == 0)
            return &fake.events[i];
    fail_msg("no event %u of kind %d", index, (int)kind);
    return NULL;
}

static void test_flood_limited_to_burst_then_rate(void **state)
{
    (void)state;
    const struct guest_service_statistics *stats = guest_service_get_statistics(service);
    uint64_t emitted_before = stats->events_emitted;
    /* 3000 events over three seconds (1000 per second, under the doorbell limit) */
    announce(1000);
    assert_int_equal(fake_count_events(GUEST_EVENT_GUEST_SHUTDOWN), GUEST_SERVICE_EVENT_BURST);
    assert_int_equal(stats->events_dropped, 1000 - GUEST_SERVICE_EVENT_BURST);
    fake_advance(1000);
    announce(1000);
    fake_advance(1000);
    announce(1000);
    /* one more per elapsed second; each carries the count dropped before it */
    assert_int_equal(fake_count_events(GUEST_EVENT_GUEST_SHUTDOWN), GUEST_SERVICE_EVENT_BURST + 2);
    const struct guest_service_event *last = fake_last_event();
    assert_int_equal(last->kind, GUEST_EVENT_GUEST_SHUTDOWN);
    assert_int_equal(last->dropped, 999);
    assert_int_equal(nth_event(GUEST_EVENT_GUEST_SHUTDOWN, GUEST_SERVICE_EVENT_BURST)->dropped,
                     1000 - GUEST_SERVICE_EVENT_BURST);
    assert_int_equal(nth_event(GUEST_EVENT_GUEST_SHUTDOWN, 0)->dropped, 0);
    assert_int_equal(stats->events_dropped, 3000 - GUEST_SERVICE_EVENT_BURST - 2);
    assert_int_equal(stats->events_emitted - emitted_before, GUEST_SERVICE_EVENT_BURST + 2);
}

static void test_refill_capped_at_burst(void **state)
{
    (void)state;
    announce(GUEST_SERVICE_EVENT_BURST + 5);
    fake_advance(3600u * 1000u); /* an hour of quiet refills the bucket, no more */
    unsigned before = fake_count_events(GUEST_EVENT_GUEST_SHUTDOWN);
    announce(100);
    assert_int_equal(fake_count_events(GUEST_EVENT_GUEST_SHUTDOWN) - before, GUEST_SERVICE_EVENT_BURST);
    /* the first after the quiet hour reports the 5 dropped an hour ago */
    assert_int_equal(nth_event(GUEST_EVENT_GUEST_SHUTDOWN, before)->dropped, 5);
}

static void test_kinds_have_their_own_budget(void **state)
{
    (void)state;
    announce(500);
    unsigned registered_before = fake_count_events(GUEST_EVENT_ADDITIONS_REGISTERED);
    assert_int_equal(guest_register_default(), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(fake_count_events(GUEST_EVENT_ADDITIONS_REGISTERED), registered_before + 1);
    assert_int_equal(fake_last_event()->dropped, 0);
}

static void test_registration_flapping_limited(void **state)
{
    (void)state;
    unsigned before = fake_count_events(GUEST_EVENT_ADDITIONS_REGISTERED);
    for (unsigned i = 0; i < 300; i++)
        assert_int_equal(guest_register_default(), VIGIL_DOORBELL_ACCEPTED);
    /* fake_setup_registered spent one of the burst */
    assert_int_equal(fake_count_events(GUEST_EVENT_ADDITIONS_REGISTERED) - before, GUEST_SERVICE_EVENT_BURST - 1);
    /* every registration still took effect: only the console lines were dropped */
    assert_true(guest_service_additions_registered(service));
}

static void test_stop_event_never_dropped(void **state)
{
    (void)state;
    announce(200); /* the guest-shutdown budget is spent */
    unsigned before = fake_count_events(GUEST_EVENT_GUEST_SHUTDOWN);
    guest_service_guest_stopped(service, GUEST_EVENT_GUEST_SHUTDOWN, "ACPI S5");
    assert_int_equal(fake_count_events(GUEST_EVENT_GUEST_SHUTDOWN), before + 1);
    assert_string_equal(fake_last_event()->detail, "ACPI S5");
    assert_int_equal(fake_last_event()->dropped, 200 - GUEST_SERVICE_EVENT_BURST);
    assert_false(guest_service_guest_running(service));
}

#define R(name) cmocka_unit_test_setup_teardown(name, fake_setup_registered, fake_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        R(test_flood_limited_to_burst_then_rate),
        R(test_refill_capped_at_burst),
        R(test_kinds_have_their_own_budget),
        R(test_registration_flapping_limited),
        R(test_stop_event_never_dropped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
