/*
 * libFuzzer target for the console's human-mode line parser (hv/console/parse_human.c):
 * the input is one line as the line editor would hand it over (at most
 * CONSOLE_LINE_MAX bytes, but any byte values: the parser must not rely on the
 * editor's filtering), parsed and, when it parses, run against the fake guest
 * service; open requests are then completed. Besides ASan/UBSan it checks what an
 * operator relies on: the output never carries a raw control byte other than the
 * line ends, and no request stays in flight after its completion.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hv/console/console_internal.h"
#include "tests/unit/console_fakes.h"

static void check_output(void)
{
    const char *output = fake_output();
    for (size_t i = 0; i < fake_output_length(); i++) {
        uint8_t c = (uint8_t)output[i];
        if ((c < 0x20 && c != '\n') || c == 0x7F)
            abort();
    }
    fake_output_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > CONSOLE_LINE_MAX)
        size = CONSOLE_LINE_MAX;
    fake_host_init_console(CONSOLE_MODE_HUMAN);
    fake_output_clear();
    struct console *console = console_instance();
    struct console_slot *slot = console_slot_free(console);
    struct console_request *request = slot != NULL ? &slot->request : &console->scratch;
    if (console_parse_human(console, (const char *)data, size, request))
        console_run(console, slot, request);
    if (console_mode() == CONSOLE_MODE_HUMAN)
        check_output();
    else
        fake_output_clear();
    for (unsigned i = 0; i < fake_service.request_count; i++) {
        struct fake_request *open = fake_request(i);
        if (open->open) {
            fake_stream(open, VIGIL_MESSAGE_STDOUT, data, size);
            fake_complete(open, VIGIL_S_OK, 1, 0, (const char *)fake_service.os_name);
        }
    }
    if (console_mode() == CONSOLE_MODE_HUMAN)
        check_output();
    if (console_requests_in_flight() != 0)
        abort();
    return 0;
}
