/*
 * Unit tests for guest-svc/host/guest_service.c: init of the shared region, the
 * time record, registration of the Additions, the IVMGuestOS properties, the
 * heartbeat events on ticks, the guest's end, and the status names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "guest_service_fakes.h"

/* ---- Init and the time record ---------------------------------------------------------- */

static void test_init_writes_status_page(void **state)
{
    (void)state;
    volatile struct vigil_status_page *status = fake_status();
    assert_int_equal(status->magic, VIGIL_STATUS_MAGIC);
    assert_int_equal(status->abi_version, VIGIL_ABI_VERSION);
    assert_int_equal(status->region_size, VIGIL_SHARED_REGION_SIZE);
    assert_int_equal(status->host_flags, VIGIL_HOST_FLAG_TIME_SYNC);
    assert_int_equal(status->heartbeat_counter, 0);
    assert_int_equal(status->registration_sequence, 0);
    assert_int_equal(status->doorbell_count, 0);
    /* the rest of the region was zeroed (it was 0xA5) */
    for (size_t i = VIGIL_PAGE_SIZE; i < VIGIL_SHARED_REGION_SIZE; i++)
        assert_int_equal(fake_region[i], 0);
    assert_int_equal(fake_region[sizeof(struct vigil_status_page)], 0);
    assert_true(guest_service_guest_running(service));
    assert_false(guest_service_additions_registered(service));
    assert_true(guest_service_size() >= sizeof(struct heartbeat_monitor));
}

static void assert_time_record_fresh(void)
{
    volatile struct vigil_time_record *time = &fake_status()->time;
    assert_int_not_equal(time->sequence, 0);
    assert_int_equal(time->sequence % 2, 0);
    assert_int_equal(time->tsc_frequency_hz, FAKE_TSC_HZ);
    assert_int_equal(time->tsc_timestamp, fake.guest_tsc + fake.now_ms * (FAKE_TSC_HZ / 1000u));
    assert_int_equal(time->unix_time_ns, fake.unix_time_ns + fake.now_ms * 1000000ull);
}

static void test_time_record_published_at_init(void **state)
{
    (void)state;
    assert_time_record_fresh();
    bool enabled = false;
    assert_int_equal(guest_service_is_time_sync_enabled(service, &enabled), VIGIL_S_OK);
    assert_true(enabled);
}

static void test_time_record_refreshed_every_second(void **state)
{
    (void)state;
    uint32_t sequence = fake_status()->time.sequence;
    fake_run(500, 100);
    assert_int_equal(fake_status()->time.sequence, sequence); /* not yet */
    fake_run(500, 100);
    assert_int_equal(fake_status()->time.sequence, sequence + 2);
    assert_time_record_fresh();
}

static void test_time_record_ignores_guest_scribbles(void **state)
{
    (void)state;
    fake_status()->time.sequence = 12345; /* the guest writes host fields: ignored */
    fake_status()->host_flags = 0xFFFFFFFFu;
    fake_run(1000, 1000);
    assert_int_equal(fake_status()->time.sequence % 2, 0);
    assert_time_record_fresh();
    assert_true(guest_service_set_time_sync(service, true) == VIGIL_S_OK);
    assert_int_equal(fake_status()->host_flags, VIGIL_HOST_FLAG_TIME_SYNC);
}

static void test_time_sync_toggle(void **state)
{
    (void)state;
    bool enabled = true;
    fake_advance(250);
    uint32_t sequence = fake_status()->time.sequence;
    assert_int_equal(guest_service_set_time_sync(service, false), VIGIL_S_OK);
    assert_int_equal(guest_service_is_time_sync_enabled(service, &enabled), VIGIL_S_OK);
    assert_false(enabled);
    assert_int_equal(fake_status()->host_flags & VIGIL_HOST_FLAG_TIME_SYNC, 0);
    assert_true(fake_status()->time.sequence > sequence);
    assert_time_record_fresh();

    fake_advance(250);
    assert_int_equal(guest_service_set_time_sync(service, true), VIGIL_S_OK);
    assert_int_equal(guest_service_is_time_sync_enabled(service, &enabled), VIGIL_S_OK);
    assert_true(enabled);
    assert_int_equal(fake_status()->host_flags & VIGIL_HOST_FLAG_TIME_SYNC, VIGIL_HOST_FLAG_TIME_SYNC);
    assert_time_record_fresh();

    guest_service_guest_stopped(service, GUEST_EVENT_GUEST_SHUTDOWN, "powered off");
    assert_int_equal(guest_service_set_time_sync(service, false), VIGIL_VM_E_VM_NOT_RUNNING);
    assert_int_equal(guest_service_is_time_sync_enabled(service, &enabled), VIGIL_S_OK);
    assert_true(enabled);
    assert_int_equal(guest_service_is_time_sync_enabled(service, NULL), VIGIL_E_INVALIDARG);
}

/* ---- Registration ---------------------------------------------------------------------------- */

static void test_registration_good(void **state)
{
    (void)state;
    assert_int_equal(guest_register_default(), VIGIL_DOORBELL_ACCEPTED);
    assert_true(guest_service_additions_registered(service));
    assert_int_equal(fake_count_events(GUEST_EVENT_ADDITIONS_REGISTERED), 1);
    assert_non_null(strstr(fake_last_event()->detail, "1.2.3"));
    assert_int_equal(fake_last_event()->time_ms, fake.now_ms);
    assert_int_equal(fake_status()->doorbell_result, VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(fake_status()->doorbell_count, 1);

    char text[256];
    assert_int_equal(guest_service_additions_version(service, text, sizeof(text)), VIGIL_S_OK);
    assert_string_equal(text, "1.2.3");
    assert_int_equal(guest_service_os_name(service, text, sizeof(text)), VIGIL_S_OK);
    assert_string_equal(text, "Debian 12");
    assert_int_equal(guest_service_computer_name(service, text, sizeof(text)), VIGIL_S_OK);
    assert_string_equal(text, "guest01");

    /* A tick sees the same registration_sequence: no second event. */
    fake_run(200, 100);
    assert_int_equal(fake_count_events(GUEST_EVENT_ADDITIONS_REGISTERED), 1);
}

static void test_registration_noticed_on_tick(void **state)
{
    (void)state;
    guest_write_registration(VIGIL_ABI_VERSION | 7u, VIGIL_CAPABILITY_PARAMETERS, "2.0", "Linux", "box");
    assert_false(guest_service_additions_registered(service));
    fake_run(100, 100);
    assert_true(guest_service_additions_registered(service));
    assert_int_equal(fake_count_events(GUEST_EVENT_ADDITIONS_REGISTERED), 1);
    assert_non_null(strstr(fake_last_event()->detail, "1.7")); /* the ABI version in the detail */
    fake_run(300, 100);
    assert_int_equal(fake_count_events(GUEST_EVENT_ADDITIONS_REGISTERED), 1);
    /* a new registration (sequence changed) is noticed again */
    guest_write_registration(VIGIL_ABI_VERSION, VIGIL_CAPABILITY_PARAMETERS, "2.1", "Linux", "box");
    fake_run(100, 100);
    assert_int_equal(fake_count_events(GUEST_EVENT_ADDITIONS_REGISTERED), 2);
    char text[16];
    assert_int_equal(guest_service_additions_version(service, text, sizeof(text)), VIGIL_S_OK);
    assert_string_equal(text, "2.1");
}

static void test_registration_wrong_abi_major_refused(void **state)
{
    (void)state;
    guest_write_registration((2u << 16) | 0u, FAKE_ALL_CAPABILITIES, "9.9", "Future OS", "box");
    assert_int_equal(guest_send(0, VIGIL_OP_REGISTER, 0, 0, 0, NULL, 0), VIGIL_DOORBELL_REJECTED);
    assert_false(guest_service_additions_registered(service));
    assert_int_equal(fake_count_events(GUEST_EVENT_ADDITIONS_REGISTERED), 0);
    assert_true(fake_log_contains("ABI version 2.0"));
    char text[16];
    assert_int_equal(guest_service_additions_version(service, text, sizeof(text)), VIGIL_VM_E_ADDITIONS_NOT_AVAIL);
    uint32_t id;
    assert_int_equal(guest_service_nop(service, &fake_callbacks, &id), VIGIL_VM_E_ADDITIONS_NOT_AVAIL);
    /* the tick does not retry (and log) the same refused registration */
    unsigned logs = fake.log_count;
    fake_run(300, 100);
    assert_int_equal(fake.log_count, logs);
    assert_false(guest_service_additions_registered(service));
}

static void test_registration_odd_sequence_ignored(void **state)
{
    (void)state;
    guest_write_registration(VIGIL_ABI_VERSION, FAKE_ALL_CAPABILITIES, "1.0", "OS", "box");
    fake_status()->registration_sequence |= 1u; /* the guest is mid-write */
    fake_run(300, 100);
    assert_false(guest_service_additions_registered(service));
    assert_int_equal(guest_send(0, VIGIL_OP_REGISTER, 0, 0, 0, NULL, 0), VIGIL_DOORBELL_REJECTED);
    assert_false(guest_service_additions_registered(service));
    fake_status()->registration_sequence++; /* done writing */
    fake_run(100, 100);
    assert_true(guest_service_additions_registered(service));
}

static void test_registration_strings_without_nul(void **state)
{
    (void)state;
    guest_write_registration(VIGIL_ABI_VERSION, FAKE_ALL_CAPABILITIES, "", "", "");
    volatile struct vigil_status_page *status = fake_status();
    status->registration_sequence++;
    for (size_t i = 0; i < VIGIL_ADDITIONS_VERSION_MAX; i++)
        status->additions_version[i] = 'V';
    for (size_t i = 0; i < VIGIL_OS_NAME_MAX; i++)
        status->os_name[i] = 'O';
    status->computer_name[0] = 'a';
    status->computer_name[1] = '\x1b'; /* an escape sequence for the operator's terminal */
    status->computer_name[2] = 'b';
    status->computer_name[3] = '\0';
    status->registration_sequence++;
    assert_int_equal(guest_send(0, VIGIL_OP_REGISTER, 0, 0, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_true(guest_service_additions_registered(service));
    assert_true(fake_log_contains("string field"));

    char text[512];
    assert_int_equal(guest_service_additions_version(service, text, sizeof(text)), VIGIL_S_OK);
    assert_int_equal(strlen(text), VIGIL_ADDITIONS_VERSION_MAX - 1);
    assert_int_equal(text[0], 'V');
    assert_int_equal(guest_service_os_name(service, text, sizeof(text)), VIGIL_S_OK);
    assert_int_equal(strlen(text), VIGIL_OS_NAME_MAX - 1);
    assert_int_equal(guest_service_computer_name(service, text, sizeof(text)), VIGIL_S_OK);
    assert_string_equal(text, "a?b");
}

static void test_registration_copied_once(void **state)
{
    (void)state;
    assert_int_equal(guest_register_default(), VIGIL_DOORBELL_ACCEPTED);
    /* the guest changes the fields without a new registration: the cache stands */
    volatile struct vigil_status_page *status = fake_status();
    status->os_name[0] = 'X';
    status->capabilities = 0;
    char text[64];
    assert_int_equal(guest_service_os_name(service, text, sizeof(text)), VIGIL_S_OK);
    assert_string_equal(text, "Debian 12");
    uint32_t id;
    assert_int_equal(guest_service_list_parameters(service, &fake_callbacks, &id), VIGIL_S_OK);
}

static void test_registration_sets_period_and_vector(void **state)
{
    (void)state;
    guest_write_registration(VIGIL_ABI_VERSION, FAKE_ALL_CAPABILITIES | VIGIL_CAPABILITY_REQUEST_INTERRUPT, "1", "OS",
                             "box");
    fake_status()->registration_sequence++;
    fake_status()->heartbeat_period_ms = 250;
    fake_status()->request_interrupt_vector = 0xE0;
    fake_status()->registration_sequence++;
    assert_int_equal(guest_send(0, VIGIL_OP_REGISTER, 0, 0, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    struct heartbeat_report report;
    guest_service_heartbeat_report(service, &report);
    assert_int_equal(report.period_ms, 250);
    uint32_t id;
    assert_int_equal(guest_service_nop(service, &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(fake.injections, 1);
    assert_int_equal(fake.last_vector, 0xE0);
}

static void test_registration_bad_vector_not_injected(void **state)
{
    (void)state;
    guest_write_registration(VIGIL_ABI_VERSION, FAKE_ALL_CAPABILITIES | VIGIL_CAPABILITY_REQUEST_INTERRUPT, "1", "OS",
                             "box");
    fake_status()->registration_sequence++;
    fake_status()->request_interrupt_vector = 14; /* an exception vector: never */
    fake_status()->registration_sequence++;
    assert_int_equal(guest_send(0, VIGIL_OP_REGISTER, 0, 0, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    uint32_t id;
    assert_int_equal(guest_service_nop(service, &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(fake.injections, 0);
    /* a vector without the capability is not used either */
    guest_write_registration(VIGIL_ABI_VERSION, FAKE_ALL_CAPABILITIES, "1", "OS", "box");
    fake_status()->registration_sequence++;
    fake_status()->request_interrupt_vector = 0x40;
    fake_status()->registration_sequence++;
    assert_int_equal(guest_send(0, VIGIL_OP_REGISTER, 0, 0, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(guest_service_nop(service, &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(fake.injections, 0);
}

/* ---- Properties ----------------------------------------------------------------------------- */

static void test_properties_before_registration(void **state)
{
    (void)state;
    char text[32] = "junk";
    assert_int_equal(guest_service_additions_version(service, text, sizeof(text)), VIGIL_VM_E_ADDITIONS_NOT_AVAIL);
    assert_string_equal(text, "");
    assert_int_equal(guest_service_os_name(service, text, sizeof(text)), VIGIL_VM_E_ADDITIONS_NOT_AVAIL);
    assert_int_equal(guest_service_computer_name(service, text, sizeof(text)), VIGIL_VM_E_ADDITIONS_NOT_AVAIL);
    bool flag = true;
    assert_int_equal(guest_service_can_shutdown(service, &flag), VIGIL_S_OK);
    assert_false(flag);
    flag = true;
    assert_int_equal(guest_service_is_heartbeating(service, &flag), VIGIL_S_OK);
    assert_false(flag);
    uint32_t percentage = 77;
    assert_int_equal(guest_service_heartbeat_percentage(service, &percentage), VIGIL_S_OK);
    assert_int_equal(percentage, 0);
    assert_int_equal(guest_service_os_name(service, NULL, 4), VIGIL_E_INVALIDARG);
    assert_int_equal(guest_service_can_shutdown(service, NULL), VIGIL_E_INVALIDARG);
}

static void test_properties_truncate_to_buffer(void **state)
{
    (void)state;
    char text[4];
    assert_int_equal(guest_service_os_name(service, text, sizeof(text)), VIGIL_S_OK);
    assert_string_equal(text, "Deb");
    assert_int_equal(guest_service_os_name(service, text, 0), VIGIL_E_INVALIDARG);
}

static void test_properties_cached_after_guest_stopped(void **state)
{
    (void)state;
    fake_status()->heartbeat_counter = 1;
    fake_run(1000, 100);
    fake_status()->heartbeat_counter = 2;
    fake_run(1000, 100);
    bool flag = false;
    assert_int_equal(guest_service_is_heartbeating(service, &flag), VIGIL_S_OK);
    assert_true(flag);
    assert_int_equal(guest_service_can_shutdown(service, &flag), VIGIL_S_OK);
    assert_true(flag);

    guest_service_guest_stopped(service, GUEST_EVENT_TRIPLE_FAULT, "RIP 0xdeadbeef");
    assert_int_equal(fake_count_events(GUEST_EVENT_TRIPLE_FAULT), 1);
    assert_string_equal(fake_last_event()->detail, "RIP 0xdeadbeef");
    assert_false(guest_service_guest_running(service));
    assert_false(guest_service_additions_registered(service));

    char text[64];
    assert_int_equal(guest_service_additions_version(service, text, sizeof(text)), VIGIL_S_OK);
    assert_string_equal(text, "1.2.3");
    assert_int_equal(guest_service_computer_name(service, text, sizeof(text)), VIGIL_S_OK);
    assert_string_equal(text, "guest01");
    assert_int_equal(guest_service_is_heartbeating(service, &flag), VIGIL_S_OK);
    assert_false(flag);
    assert_int_equal(guest_service_can_shutdown(service, &flag), VIGIL_S_OK);
    assert_false(flag);
    struct heartbeat_report report;
    guest_service_heartbeat_report(service, &report);
    assert_false(report.heartbeating);
    /* ticks after the end do nothing but count */
    unsigned events = fake.event_count;
    fake_run(60000, 1000);
    assert_int_equal(fake.event_count, events);
    /* a second stop does not repeat the event */
    guest_service_guest_stopped(service, GUEST_EVENT_GUEST_SHUTDOWN, NULL);
    assert_int_equal(fake.event_count, events);
}

static void test_restart_keeps_what_the_operator_knew(void **state)
{
    (void)state;
    assert_int_equal(guest_service_set_heartbeat_failure_interval(service, 4000), VIGIL_S_OK);
    guest_service_guest_stopped(service, GUEST_EVENT_TRIPLE_FAULT, "triple fault");
    fake_status()->heartbeat_counter = 77; /* the old guest's leftovers */
    guest_service_guest_restarted(service);
    assert_true(guest_service_guest_running(service));
    assert_false(guest_service_additions_registered(service));
    assert_int_equal(fake_status()->magic, VIGIL_STATUS_MAGIC);
    assert_int_equal(fake_status()->heartbeat_counter, 0);
    char text[64];
    assert_int_equal(guest_service_additions_version(service, text, sizeof(text)), VIGIL_S_OK);
    assert_string_equal(text, "1.2.3"); /* last known until the Additions register again */
    struct heartbeat_report report;
    guest_service_heartbeat_report(service, &report);
    assert_int_equal(report.failure_interval_ms, 4000);
    assert_false(report.started);
}

static void test_can_shutdown_conditions(void **state)
{
    (void)state;
    bool flag = false;
    assert_int_equal(guest_service_can_shutdown(service, &flag), VIGIL_S_OK);
    assert_true(flag);
    fake_status()->guest_flags = VIGIL_GUEST_FLAG_SHUTDOWN_LOCKED;
    assert_int_equal(guest_service_can_shutdown(service, &flag), VIGIL_S_OK);
    assert_false(flag);
    fake_status()->guest_flags = 0;
    fake_status()->agent_state = VIGIL_AGENT_STARTING;
    assert_int_equal(guest_service_can_shutdown(service, &flag), VIGIL_S_OK);
    assert_false(flag);
    fake_status()->agent_state = VIGIL_AGENT_RUNNING;
    assert_int_equal(guest_service_can_shutdown(service, &flag), VIGIL_S_OK);
    assert_true(flag);
    /* re-registered without the shutdown capability */
    guest_write_registration(VIGIL_ABI_VERSION, VIGIL_CAPABILITY_EXECUTE, "1", "OS", "box");
    assert_int_equal(guest_send(0, VIGIL_OP_REGISTER, 0, 0, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(guest_service_can_shutdown(service, &flag), VIGIL_S_OK);
    assert_false(flag);
}

/* ---- Heartbeat via ticks ---------------------------------------------------------------------- */

/* The guest beats once per second for `seconds`, the hypervisor ticks every 100 ms. */
static void beat_for(unsigned seconds)
{
    for (unsigned s = 0; s < seconds; s++) {
        fake_status()->heartbeat_counter = fake_status()->heartbeat_counter + 1;
        fake_run(1000, 100);
    }
}

static void test_heartbeat_events(void **state)
{
    (void)state;
    beat_for(20);
    bool flag = false;
    assert_int_equal(guest_service_is_heartbeating(service, &flag), VIGIL_S_OK);
    assert_true(flag);
    uint32_t percentage = 0;
    assert_int_equal(guest_service_heartbeat_percentage(service, &percentage), VIGIL_S_OK);
    assert_true(percentage >= 90);
    assert_int_equal(fake_count_events(GUEST_EVENT_HEARTBEAT_STOPPED), 0);

    fake_run(12000, 100); /* silence beyond the 10 s failure interval */
    assert_int_equal(fake_count_events(GUEST_EVENT_HEARTBEAT_STOPPED), 1);
    assert_int_equal(guest_service_is_heartbeating(service, &flag), VIGIL_S_OK);
    assert_false(flag);

    beat_for(1);
    assert_int_equal(fake_count_events(GUEST_EVENT_HEARTBEAT_RESUMED), 1);
    assert_non_null(strstr(fake_last_event()->detail, "ms"));
    assert_int_equal(guest_service_is_heartbeating(service, &flag), VIGIL_S_OK);
    assert_true(flag);

    fake_status()->heartbeat_counter = 0; /* backwards */
    fake_run(100, 100);
    assert_int_equal(fake_count_events(GUEST_EVENT_HEARTBEAT_ANOMALY), 1);
    assert_non_null(strstr(fake_last_event()->detail, "backwards"));
    fake_status()->heartbeat_counter = 1000000; /* an absurd jump */
    fake_run(100, 100);
    assert_int_equal(fake_count_events(GUEST_EVENT_HEARTBEAT_ANOMALY), 2);
    assert_non_null(strstr(fake_last_event()->detail, "jumped"));
}

static void test_heartbeat_declared_period_and_interval(void **state)
{
    (void)state;
    fake_status()->heartbeat_period_ms = 500;
    fake_run(100, 100);
    struct heartbeat_report report;
    guest_service_heartbeat_report(service, &report);
    assert_int_equal(report.period_ms, 500);
    assert_int_equal(guest_service_set_heartbeat_failure_interval(service, 3000), VIGIL_S_OK);
    guest_service_heartbeat_report(service, &report);
    assert_int_equal(report.failure_interval_ms, 3000);
    assert_int_equal(guest_service_set_heartbeat_failure_interval(service, 10), VIGIL_E_INVALIDARG);
    beat_for(3);
    fake_run(4000, 100);
    assert_int_equal(fake_count_events(GUEST_EVENT_HEARTBEAT_STOPPED), 1);
}

static void test_heartbeating_requires_registration(void **state)
{
    (void)state;
    beat_for(5); /* beating, but no Additions registered */
    bool flag = true;
    assert_int_equal(guest_service_is_heartbeating(service, &flag), VIGIL_S_OK);
    assert_false(flag);
    struct heartbeat_report report;
    guest_service_heartbeat_report(service, &report);
    assert_true(report.heartbeating);
}

/* ---- Guest events, offering the Additions, names ------------------------------------------- */

static void test_guest_event_shutting_down(void **state)
{
    (void)state;
    assert_int_equal(guest_send_event(VIGIL_GUEST_EVENT_SHUTTING_DOWN), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(fake_count_events(GUEST_EVENT_GUEST_SHUTDOWN), 1);
    assert_true(guest_service_guest_running(service));
    assert_int_equal(guest_send_event(99), VIGIL_DOORBELL_REJECTED);
    assert_int_equal(guest_send(0, VIGIL_OP_EVENT, 0, 0, 0, "abc", 3), VIGIL_DOORBELL_REJECTED);
    assert_int_equal(guest_send(0, 0x7777, 0, 0, 0, NULL, 0), VIGIL_DOORBELL_REJECTED);
    assert_int_equal(fake_count_events(GUEST_EVENT_GUEST_SHUTDOWN), 1);
    assert_int_equal(guest_service_get_statistics(service)->messages_rejected, 3);
}

static void test_offer_additions(void **state)
{
    (void)state;
    uint32_t id;
    assert_int_equal(guest_service_install_additions(service, &fake_callbacks, &id), VIGIL_VM_E_DRIVE_INVALID);
    guest_service_offer_additions(service, 0x12340000ull, 65536, "1.3.0");
    volatile struct vigil_status_page *status = fake_status();
    assert_int_equal(status->additions_package_address, 0x12340000ull);
    assert_int_equal(status->additions_package_size, 65536);
    assert_string_equal((const char *)status->additions_package_version, "1.3.0");
    assert_true(status->host_flags & VIGIL_HOST_FLAG_ADDITIONS_OFFERED);
    assert_true(status->host_flags & VIGIL_HOST_FLAG_TIME_SYNC);
    assert_int_equal(guest_service_install_additions(service, &fake_callbacks, &id), VIGIL_S_OK);
    assert_int_equal(fake_request_slot()->operation, VIGIL_OP_INSTALL_ADDITIONS);
    assert_int_equal(guest_reply(0, VIGIL_S_OK, 0, NULL, 0), VIGIL_DOORBELL_ACCEPTED);
    assert_int_equal(fake.result_count, 1);
    assert_int_equal(fake.results[0].status, VIGIL_S_OK);
    /* withdraw */
    guest_service_offer_additions(service, 0, 0, NULL);
    assert_false(status->host_flags & VIGIL_HOST_FLAG_ADDITIONS_OFFERED);
    assert_int_equal(guest_service_install_additions(service, &fake_callbacks, &id), VIGIL_VM_E_DRIVE_INVALID);
}

static void test_status_names_and_messages(void **state)
{
    (void)state;
    static const uint32_t codes[] = {
        VIGIL_S_OK, VIGIL_E_NOTIMPL, VIGIL_E_ABORT, VIGIL_E_FAIL, VIGIL_E_INVALIDARG, VIGIL_E_NOT_FOUND,
        VIGIL_E_BUSY, VIGIL_E_PROTOCOL, VIGIL_ERROR_MACHINE_LOCKED, VIGIL_VM_E_TIMED_OUT, VIGIL_VM_E_VM_NOT_RUNNING,
        VIGIL_VM_E_VM_UNKNOWN, VIGIL_VM_E_DRIVE_INVALID, VIGIL_VM_E_ADDITIONS_NOT_AVAIL,
        VIGIL_VM_E_ADDITIONS_FEATURE_NOT_AVAIL, VIGIL_VM_E_VM_PAUSED,
    };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        assert_non_null(vigil_status_name(codes[i]));
        assert_non_null(vigil_status_message(codes[i]));
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(vigil_status_name(codes[i]), vigil_status_name(codes[j]));
    }
    assert_string_equal(vigil_status_name(VIGIL_VM_E_ADDITIONS_NOT_AVAIL), "VM_E_ADDITIONS_NOT_AVAIL");
    assert_string_equal(vigil_status_message(VIGIL_VM_E_ADDITIONS_NOT_AVAIL),
                        "the guest Additions are not running");
    assert_string_equal(vigil_status_name(VIGIL_E_INVALIDARG), "E_INVALIDARG");
    assert_string_equal(vigil_status_name(VIGIL_S_OK), "S_OK");
    assert_string_equal(vigil_status_name(0x800704F7u), "ERROR_MACHINE_LOCKED");
    assert_null(vigil_status_name(0x12345678u));
    assert_non_null(vigil_status_message(0x12345678u));

    assert_string_equal(guest_service_event_name(GUEST_EVENT_HEARTBEAT_STOPPED), "heartbeat-stopped");
    assert_string_equal(guest_service_event_name(GUEST_EVENT_HEARTBEAT_RESUMED), "heartbeat-resumed");
    assert_string_equal(guest_service_event_name(GUEST_EVENT_TRIPLE_FAULT), "triple-fault");
    assert_string_equal(guest_service_event_name(GUEST_EVENT_GUEST_SHUTDOWN), "guest-shutdown");
    assert_string_equal(guest_service_event_name(GUEST_EVENT_ADDITIONS_REGISTERED), "additions-registered");
    assert_string_equal(guest_service_event_name(GUEST_EVENT_HEARTBEAT_ANOMALY), "heartbeat-anomaly");
    assert_string_equal(guest_service_event_name(GUEST_EVENT_POLICY_ACTION), "policy-action");
}

static void test_statistics_ticks_and_doorbells(void **state)
{
    (void)state;
    fake_run(500, 100);
    const struct guest_service_statistics *stats = guest_service_get_statistics(service);
    assert_int_equal(stats->ticks, 5);
    assert_int_equal(stats->doorbells, 1); /* the registration */
    guest_send_event(VIGIL_GUEST_EVENT_SHUTTING_DOWN);
    assert_int_equal(stats->doorbells, 2);
    assert_int_equal(fake_status()->doorbell_count, 2);
}

#define T(name) cmocka_unit_test_setup_teardown(name, fake_setup, fake_teardown)
#define R(name) cmocka_unit_test_setup_teardown(name, fake_setup_registered, fake_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_init_writes_status_page),
        T(test_time_record_published_at_init),
        T(test_time_record_refreshed_every_second),
        T(test_time_record_ignores_guest_scribbles),
        T(test_time_sync_toggle),
        T(test_registration_good),
        T(test_registration_noticed_on_tick),
        T(test_registration_wrong_abi_major_refused),
        T(test_registration_odd_sequence_ignored),
        T(test_registration_strings_without_nul),
        T(test_registration_copied_once),
        T(test_registration_sets_period_and_vector),
        T(test_registration_bad_vector_not_injected),
        T(test_properties_before_registration),
        R(test_properties_truncate_to_buffer),
        R(test_properties_cached_after_guest_stopped),
        R(test_restart_keeps_what_the_operator_knew),
        R(test_can_shutdown_conditions),
        R(test_heartbeat_events),
        R(test_heartbeat_declared_period_and_interval),
        T(test_heartbeating_requires_registration),
        R(test_guest_event_shutting_down),
        R(test_offer_additions),
        T(test_status_names_and_messages),
        R(test_statistics_ticks_and_doorbells),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
