/*
 * Test fakes for guest-svc/host/guest_service*.c: a fake platform (controllable
 * time, event/log/force-off capture), a host buffer as the shared region, callbacks
 * that record completions and streamed data, and a "fake guest" that writes
 * registration fields and response messages like the Additions would.
 */
#ifndef VIGIL_TESTS_UNIT_GUEST_SERVICE_FAKES_H
#define VIGIL_TESTS_UNIT_GUEST_SERVICE_FAKES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vigil/abi.h>

#include "guest-svc/host/guest_service.h"

#define FAKE_MAX_EVENTS 64
#define FAKE_MAX_LOGS 64
#define FAKE_MAX_RESULTS 32
#define FAKE_MAX_DATA 64

struct fake_data {
    uint32_t request_id, stream;
    size_t length;
    char bytes[VIGIL_MESSAGE_PAYLOAD_MAX + 1];
};

struct fake_platform {
    uint64_t now_ms, unix_time_ns, guest_tsc;
    struct guest_service_event events[FAKE_MAX_EVENTS];
    unsigned event_count;
    char logs[FAKE_MAX_LOGS][256];
    unsigned log_count;
    unsigned injections;
    uint8_t last_vector;
    unsigned forced_off;
    bool forced_reboot;
    char forced_reason[300];
    struct guest_service_result results[FAKE_MAX_RESULTS];
    unsigned result_count;
    struct fake_data data[FAKE_MAX_DATA];
    unsigned data_count;
};

extern struct fake_platform fake;
extern struct guest_service *service;
extern uint8_t fake_region[VIGIL_SHARED_REGION_SIZE];
extern const struct guest_service_callbacks fake_callbacks;

#define FAKE_TSC_HZ 2000000000ull
#define FAKE_REGION_GPA 0x7f000000ull
#define FAKE_ALL_CAPABILITIES                                                                              \
    (VIGIL_CAPABILITY_EXECUTE | VIGIL_CAPABILITY_SHUTDOWN | VIGIL_CAPABILITY_PARAMETERS |                   \
     VIGIL_CAPABILITY_TIME_SYNC | VIGIL_CAPABILITY_INSTALL_ADDITIONS)

/* cmocka setup/teardown: a fresh service on a dirty region, time 100000 ms. */
int fake_setup(void **state);
/* the same, plus the Additions registered with every capability */
int fake_setup_registered(void **state);
int fake_teardown(void **state);

/* Time: advance without ticking; or advance in steps of step_ms, ticking after each. */
void fake_advance(uint64_t ms);
void fake_run(uint64_t ms, uint64_t step_ms);

/* Shared region views. */
volatile struct vigil_status_page *fake_status(void);
volatile struct vigil_message *fake_request_slot(void);
volatile struct vigil_message *fake_response_slot(void);

/* Fake guest. */
void guest_write_registration(uint32_t abi_version, uint32_t capabilities, const char *version, const char *os_name,
                              const char *computer_name);
uint32_t guest_register_default(void); /* writes a good registration and rings REGISTER */
uint32_t guest_send(uint32_t sequence, uint16_t operation, uint16_t flags, uint32_t status, uint32_t chunk,
                    const void *payload, uint32_t length);
/* a reply to the request in the request slot (its sequence and operation) */
uint32_t guest_reply(uint16_t flags, uint32_t status, uint32_t chunk, const void *payload, uint32_t length);
uint32_t guest_send_event(uint32_t code);

/* Captures. */
const struct guest_service_event *fake_last_event(void);
unsigned fake_count_events(enum guest_service_event_kind kind);
bool fake_log_contains(const char *text);

#endif
