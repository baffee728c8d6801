/*
 * The Additions library's request side: parsing of hostile request payloads,
 * dispatch to the handlers, poll. See additions.h; the protocol steps and their
 * barriers are explained in additions.c.
 */
#include "guest-svc/additions/additions.h"
#include "guest-svc/additions/additions_internal.h"

/* ---- request parsing (hostile input) --------------------------------------------------------- */

/* The NUL-terminated string at *offset inside payload[0..length): its pointer, and
 * *offset moved past its NUL; NULL if no NUL before the end. */
static const char *take_string(const struct vigil_additions_request *request, uint32_t *offset)
{
    if (*offset >= request->length)
        return NULL;
    const char *start = (const char *)request->payload + *offset;
    for (uint32_t i = *offset; i < request->length; i++) {
        if (request->payload[i] == '\0') {
            *offset = i + 1;
            return start;
        }
    }
    return NULL;
}

bool vigil_additions_parse_execute(const struct vigil_additions_request *request, struct vigil_additions_command *c)
{
    struct vigil_execute_request header;
    if (request->length < sizeof header)
        return false;
    additions_copy_from_shared((uint8_t *)&header, request->payload, sizeof header);
    if (header.argc < 1 || header.argc > VIGIL_EXECUTE_ARGUMENTS_MAX ||
        header.env_count > VIGIL_EXECUTE_ARGUMENTS_MAX || header.cwd_present > 1)
        return false;
    uint32_t offset = sizeof header;
    c->argc = header.argc;
    c->env_count = header.env_count;
    c->timeout_ms = header.timeout_ms;
    c->cwd = NULL;
    for (uint32_t i = 0; i < header.argc; i++) {
        if (!(c->argv[i] = take_string(request, &offset)))
            return false;
    }
    if (c->argv[0][0] == '\0')
        return false; /* no program */
    for (uint32_t i = 0; i < header.env_count; i++) {
        if (!(c->env[i] = take_string(request, &offset)))
            return false;
    }
    if (header.cwd_present && !(c->cwd = take_string(request, &offset)))
        return false;
    return true;
}

static bool parameter_name_valid(const char *name)
{
    size_t length = 0;
    for (; name[length]; length++) {
        unsigned char ch = (unsigned char)name[length];
        if (ch == '\\' || ch < 0x20 || ch == 0x7F || length >= VIGIL_PARAMETER_NAME_MAX)
            return false;
    }
    return length >= 1;
}

bool vigil_additions_parse_parameter(const struct vigil_additions_request *request, bool with_value,
                                     const char **name, const char **value)
{
    uint32_t offset = 0;
    *name = take_string(request, &offset);
    if (!*name || !parameter_name_valid(*name))
        return false;
    if (!with_value)
        return true;
    *value = take_string(request, &offset);
    return *value && additions_bounded_length(*value, VIGIL_PARAMETER_VALUE_MAX + 1) <= VIGIL_PARAMETER_VALUE_MAX;
}

bool vigil_additions_parse_shutdown(const struct vigil_additions_request *request, struct vigil_additions_shutdown *s)
{
    struct vigil_shutdown_request header;
    if (request->length < sizeof header)
        return false;
    additions_copy_from_shared((uint8_t *)&header, request->payload, sizeof header);
    s->flags = header.flags;
    s->timeout_ms = header.timeout_ms;
    s->reason = "";
    if (request->length == sizeof header)
        return true;
    uint32_t offset = sizeof header;
    const char *reason = take_string(request, &offset);
    if (!reason || additions_bounded_length(reason, VIGIL_SHUTDOWN_REASON_MAX + 1) > VIGIL_SHUTDOWN_REASON_MAX)
        return false;
    s->reason = reason;
    return true;
}

/* ---- dispatch ------------------------------------------------------------------------------- */

static void answer_list(struct vigil_additions *a, struct vigil_additions_request *request,
                        const struct vigil_additions_handlers *h)
{
    /* Whole names per chunk; the last chunk (no MORE) may be empty. */
    uint8_t *buffer = a->scratch;
    size_t used = 0;
    for (uint32_t index = 0; index < 1000000u; index++) {
        const char *name = NULL;
        if (!h->list_parameter(h->context, index, &name))
            break;
        size_t length = additions_bounded_length(name, VIGIL_PARAMETER_NAME_MAX + 1);
        if (length == 0 || length > VIGIL_PARAMETER_NAME_MAX)
            continue; /* not a valid name: the host would reject it */
        if (used + length + 1 > VIGIL_MESSAGE_PAYLOAD_MAX) {
            if (vigil_additions_stream(a, request, 0, buffer, used) != VIGIL_ADDITIONS_OK)
                return;
            used = 0;
        }
        for (size_t i = 0; i < length; i++)
            buffer[used++] = (uint8_t)name[i];
        buffer[used++] = 0;
    }
    vigil_additions_reply(a, request, VIGIL_S_OK, buffer, used);
}

static void answer_install(struct vigil_additions *a, struct vigil_additions_request *request,
                           const struct vigil_additions_handlers *h)
{
    struct vigil_additions_package package = { 0 };
    volatile struct vigil_status_page *s = a->status;
    if (s->host_flags & VIGIL_HOST_FLAG_ADDITIONS_OFFERED) {
        package.address = s->additions_package_address;
        package.size = s->additions_package_size;
        for (size_t i = 0; i + 1 < sizeof package.version; i++)
            package.version[i] = s->additions_package_version[i];
        package.version[sizeof package.version - 1] = '\0';
        if (package.address != 0 && package.size != 0 && package.size <= VIGIL_ADDITIONS_PACKAGE_SIZE_MAX) {
            package.offered = true;
            package.data = a->platform.map_physical(a->platform.context, package.address, package.size, false);
        }
    }
    vigil_additions_reply(a, request, h->install_additions(h->context, &package), NULL, 0);
}

static void dispatch(struct vigil_additions *a, struct vigil_additions_request *request,
                     const struct vigil_additions_handlers *h)
{
    const char *name, *value;
    switch (request->operation) {
    case VIGIL_OP_NOP:
        vigil_additions_reply(a, request, VIGIL_S_OK, NULL, 0);
        return;
    case VIGIL_OP_EXECUTE: {
        if (!h->execute)
            break;
        struct vigil_additions_command command;
        if (!vigil_additions_parse_execute(request, &command)) {
            a->statistics.requests_malformed++;
            vigil_additions_reply(a, request, VIGIL_E_INVALIDARG, NULL, 0);
            return;
        }
        if (a->executing) {
            vigil_additions_reply(a, request, VIGIL_E_BUSY, NULL, 0);
            return;
        }
        a->executing = true;
        h->execute(h->context, a, request, &command);
        a->executing = false;
        if (!request->answered)
            vigil_additions_reply(a, request, VIGIL_E_FAIL, NULL, 0);
        return;
    }
    case VIGIL_OP_KILL:
        if (!h->kill)
            break;
        vigil_additions_reply(a, request, h->kill(h->context), NULL, 0);
        return;
    case VIGIL_OP_SET_PARAMETER:
    case VIGIL_OP_GET_PARAMETER: {
        bool set = request->operation == VIGIL_OP_SET_PARAMETER;
        if (set ? !h->set_parameter : !h->get_parameter)
            break;
        if (!vigil_additions_parse_parameter(request, set, &name, &value)) {
            a->statistics.requests_malformed++;
            vigil_additions_reply(a, request, VIGIL_E_INVALIDARG, NULL, 0);
            return;
        }
        if (set) {
            vigil_additions_reply(a, request, h->set_parameter(h->context, name, value), NULL, 0);
            return;
        }
        char *buffer = (char *)a->scratch;
        buffer[0] = '\0';
        uint32_t status = h->get_parameter(h->context, name, buffer, VIGIL_PARAMETER_VALUE_MAX + 1);
        buffer[VIGIL_PARAMETER_VALUE_MAX] = '\0';
        if (status == VIGIL_S_OK)
            vigil_additions_reply(a, request, status, buffer, additions_bounded_length(buffer, VIGIL_PARAMETER_VALUE_MAX) + 1);
        else
            vigil_additions_reply(a, request, status, NULL, 0);
        return;
    }
    case VIGIL_OP_LIST_PARAMETERS:
        if (!h->list_parameter)
            break;
        answer_list(a, request, h);
        return;
    case VIGIL_OP_SHUTDOWN: {
        if (!h->shutdown)
            break;
        struct vigil_additions_shutdown shutdown;
        if (!vigil_additions_parse_shutdown(request, &shutdown)) {
            a->statistics.requests_malformed++;
            vigil_additions_reply(a, request, VIGIL_E_INVALIDARG, NULL, 0);
            return;
        }
        h->shutdown(h->context, a, request, &shutdown);
        if (!request->answered)
            vigil_additions_reply(a, request, VIGIL_E_FAIL, NULL, 0);
        return;
    }
    case VIGIL_OP_INSTALL_ADDITIONS:
        if (!h->install_additions)
            break;
        answer_install(a, request, h);
        return;
    default:
        break;
    }
    vigil_additions_reply(a, request, VIGIL_E_NOTIMPL, NULL, 0);
}

int vigil_additions_poll(struct vigil_additions *a, const struct vigil_additions_handlers *handlers)
{
    if (!a || !handlers || !a->registered)
        return 0;
    volatile struct vigil_message *slot = a->request_slot;
    if (!(a->status->host_flags & VIGIL_HOST_FLAG_REQUEST_PENDING))
        return 0;
    BARRIER();
    uint32_t sequence = slot->sequence;
    if (sequence == 0 || sequence == a->last_request_sequence)
        return 0;
    BARRIER();
    if (a->depth >= VIGIL_ADDITIONS_NESTING_MAX) {
        /* No buffer to copy it into: answer from the header alone. */
        struct vigil_additions_request busy = { .sequence = sequence, .operation = slot->operation };
        BARRIER();
        if (slot->sequence != sequence)
            return 0;
        a->last_request_sequence = sequence;
        a->statistics.requests++;
        vigil_additions_reply(a, &busy, VIGIL_E_BUSY, NULL, 0);
        return 1;
    }

    /* Copy it out once; if the host rewrote the slot meanwhile, take it next time. */
    struct vigil_additions_request *request = &a->requests[a->depth];
    request->sequence = sequence;
    request->operation = slot->operation;
    request->flags = slot->flags;
    request->length = slot->length;
    request->next_chunk = 0;
    request->answered = false;
    bool oversized = request->length > VIGIL_MESSAGE_PAYLOAD_MAX;
    if (oversized)
        request->length = 0;
    additions_copy_from_shared(request->payload, slot->payload, request->length);
    request->payload[request->length] = 0;
    BARRIER();
    if (slot->sequence != sequence) {
        a->statistics.requests_torn++;
        return 0;
    }
    a->last_request_sequence = sequence;
    a->statistics.requests++;
    if (oversized) {
        a->statistics.requests_malformed++;
        vigil_additions_reply(a, request, VIGIL_E_INVALIDARG, NULL, 0);
        return 1;
    }
    a->depth++;
    dispatch(a, request, handlers);
    a->depth--;
    return 1;
}
