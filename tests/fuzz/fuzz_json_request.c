/*
 * libFuzzer target for the console's JSON request path: the strict reader
 * (hv/console/json_reader.c) and the request parser on top of it
 * (hv/console/parse_json.c), then the command run against the fake guest service.
 * Checks beyond ASan/UBSan: a parsed document is self-consistent (every token
 * inside the text, subtrees nested, every string's decoded length what
 * json_string_copy produces), and every line the console answers with is one valid
 * JSON object (an id or null, a status), however bad the request.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hv/console/console_internal.h"
#include "tests/unit/console_fakes.h"

static struct json_document document;
static char copy[CONSOLE_LINE_MAX + 1];

static void check_document(size_t length)
{
    if (document.count == 0 || document.count > JSON_TOKENS_MAX)
        abort();
    for (unsigned i = 0; i < document.count; i++) {
        const struct json_token *token = &document.tokens[i];
        if (token->start > token->end || token->end > length || token->next <= i || token->next > document.count)
            abort();
        if (token->type == JSON_STRING) {
            size_t decoded = json_string_length(&document, i);
            if (decoded > length)
                abort();
            bool copied = json_string_copy(&document, i, copy, sizeof copy);
            if (copied && strlen(copy) != decoded)
                abort();
        }
    }
    if (document.tokens[0].next != document.count)
        abort(); /* the root's subtree is the whole document */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > CONSOLE_LINE_MAX)
        size = CONSOLE_LINE_MAX;
    struct json_error error = {NULL, 0};
    if (json_parse(&document, (const char *)data, size, &error))
        check_document(size);
    else if (error.reason == NULL || error.offset > size)
        abort();

    fake_host_init_console(CONSOLE_MODE_JSON);
    fake_output_clear();
    struct console *console = console_instance();
    struct console_slot *slot = console_slot_free(console);
    struct console_request *request = slot != NULL ? &slot->request : &console->scratch;
    if (console_parse_json(console, (const char *)data, size, request))
        console_run(console, slot, request);
    if (console_mode() == CONSOLE_MODE_JSON && json_lines_valid(fake_output(), fake_output_length()) < 0)
        abort();
    fake_output_clear();
    for (unsigned i = 0; i < fake_service.request_count; i++) {
        struct fake_request *open = fake_request(i);
        if (open->open) {
            fake_stream(open, VIGIL_MESSAGE_STDERR, data, size);
            fake_complete(open, VIGIL_S_OK, 0, 0, "v");
        }
    }
    if (console_mode() == CONSOLE_MODE_JSON && json_lines_valid(fake_output(), fake_output_length()) < 0)
        abort();
    if (console_requests_in_flight() != 0)
        abort();
    return 0;
}
