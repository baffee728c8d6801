/*
 * libFuzzer target for the hypervisor console (hv/console/): the input is fed byte
 * by byte through the line editor, in JSON mode or human mode (first input byte),
 * with the fake guest service of tests/unit/console_fakes.c. At every line end the
 * open fake requests get streamed output (taken from the input), an event fires
 * and some requests complete. Must never crash or trip a sanitizer; while the
 * console is in JSON mode, every line it writes must be one valid JSON object.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -I. -Iguest-svc/include \
 *     tests/fuzz/fuzz_console_line.c tests/unit/console_fakes.c hv/console/(*).c lib/format.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/console_fakes.h"

static void check_json(enum console_mode before)
{
    if (before == CONSOLE_MODE_JSON && console_mode() == CONSOLE_MODE_JSON &&
        json_lines_valid(fake_output(), fake_output_length()) < 0)
        abort();
    fake_output_clear();
}

static void drive_callbacks(const uint8_t *data, size_t size, size_t position)
{
    static const enum guest_service_event_kind kinds[] = {
        GUEST_EVENT_ADDITIONS_REGISTERED, GUEST_EVENT_HEARTBEAT_STOPPED, GUEST_EVENT_HEARTBEAT_RESUMED,
        GUEST_EVENT_GUEST_SHUTDOWN,       GUEST_EVENT_TRIPLE_FAULT,      GUEST_EVENT_HEARTBEAT_ANOMALY,
    };
    const uint8_t *chunk = data + position;
    size_t chunk_length = size - position > 700 ? 700 : size - position;
    for (unsigned i = 0; i < fake_service.request_count; i++) {
        struct fake_request *request = fake_request(i);
        if (!request->open)
            continue;
        enum console_mode before = console_mode();
        uint32_t stream = (position + i) & 1 ? VIGIL_MESSAGE_STDERR : VIGIL_MESSAGE_STDOUT;
        if (request->kind == FAKE_LIST_PARAMETERS)
            stream = 0;
        fake_stream(request, stream, chunk, chunk_length);
        check_json(before);
        if (((position + i) % 3) == 0) {
            char value[64];
            snprintf(value, sizeof value, "%.*s", (int)(chunk_length < 40 ? chunk_length : 40), (const char *)chunk);
            uint32_t status = (position & 4) ? VIGIL_S_OK : VIGIL_VM_E_VM_NOT_RUNNING;
            fake_complete(request, status, (int32_t)position - 5, (uint32_t)position & 3, value);
            check_json(before);
        }
    }
    struct guest_service_event event;
    memset(&event, 0, sizeof event);
    event.kind = kinds[position % 6];
    event.time_ms = position;
    memcpy(event.detail, chunk, chunk_length < sizeof event.detail ? chunk_length : sizeof event.detail);
    enum console_mode before = console_mode();
    console_event(&event);
    check_json(before);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    enum console_mode mode = (data[0] & 1) ? CONSOLE_MODE_JSON : CONSOLE_MODE_HUMAN;
    fake_host_init_console(mode);
    fake_service.registered = (data[0] & 2) == 0;
    if (data[0] & 4)
        fake_service.submit_status = VIGIL_E_BUSY;
    fake_output_clear();
    for (size_t i = 1; i < size; i++) {
        enum console_mode before = console_mode();
        console_input_byte(data[i]);
        check_json(before);
        if (data[i] == '\n' || data[i] == '\r') {
            drive_callbacks(data, size, i);
            before = console_mode();
            console_tick();
            check_json(before);
        }
    }
    /* finish everything still open */
    for (unsigned i = 0; i < fake_service.request_count; i++) {
        struct fake_request *request = fake_request(i);
        if (request->open) {
            enum console_mode before = console_mode();
            fake_complete(request, VIGIL_S_OK, 0, 0, "v");
            check_json(before);
        }
    }
    if (console_requests_in_flight() != 0)
        abort();
    return 0;
}
