/*
 * The IVMGuestOS methods (DESIGN.md §1): each is refused at once (guest not
 * running, Additions absent, capability missing, invalid argument, queue full) or
 * validated completely, encoded into its request payload (abi.h) and accepted.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "guest-svc/host/guest_service.h"
#include "guest-svc/host/mailbox.h"
#include "guest-svc/host/service_state.h"

bool guest_service_parameter_name_valid(const char *name) { return gs_parameter_name_valid(name); }

/* Reserves a request and fills its common fields; NULL = queue full. */
static struct gs_request *begin(struct guest_service *service, uint16_t operation,
                                const struct guest_service_callbacks *callbacks, uint32_t timeout_ms)
{
    struct gs_request *request = gs_reserve(service);
    if (!request)
        return NULL;
    request->operation = operation;
    request->internal = false;
    request->shutdown_force = request->shutdown_reboot = false;
    request->shutdown_reason[0] = '\0';
    request->length = 0;
    request->timeout_ms = timeout_ms;
    if (callbacks)
        request->callbacks = *callbacks;
    else
        memset(&request->callbacks, 0, sizeof(request->callbacks));
    return request;
}

/* Appends a string and its NUL; the caller has checked that it fits. */
static void append_string(struct gs_request *request, const char *text, size_t length)
{
    memcpy(request->payload + request->length, text, length);
    request->payload[request->length + length] = '\0';
    request->length += (uint32_t)length + 1;
}

/* Adds a string of at most max characters to *total; false if it cannot fit. */
static bool measure(const char *text, size_t *total)
{
    if (!text)
        return false;
    size_t length = gs_bounded_length(text, VIGIL_MESSAGE_PAYLOAD_MAX);
    *total += length + 1;
    return *total <= VIGIL_MESSAGE_PAYLOAD_MAX;
}

/* ---- EXECUTE ---------------------------------------------------------------------------- */

uint32_t guest_service_execute(struct guest_service *service, const struct guest_execute_command *command,
                               const struct guest_service_callbacks *callbacks, uint32_t *request_id)
{
    uint32_t status = gs_check_available(service, VIGIL_CAPABILITY_EXECUTE);
    if (status != VIGIL_S_OK)
        return status;
    if (!command || command->argc < 1 || command->argc > VIGIL_EXECUTE_ARGUMENTS_MAX || !command->argv ||
        command->env_count > VIGIL_EXECUTE_ARGUMENTS_MAX || (command->env_count && !command->env))
        return VIGIL_E_INVALIDARG;
    size_t total = sizeof(struct vigil_execute_request);
    for (unsigned i = 0; i < command->argc; i++)
        if (!measure(command->argv[i], &total))
            return VIGIL_E_INVALIDARG;
    if (command->argv[0][0] == '\0')
        return VIGIL_E_INVALIDARG;
    for (unsigned i = 0; i < command->env_count; i++) {
        if (!measure(command->env[i], &total))
            return VIGIL_E_INVALIDARG;
        const char *equals = strchr(command->env[i], '=');
        if (!equals || equals == command->env[i])
            return VIGIL_E_INVALIDARG; /* "NAME=value" */
    }
    if (command->cwd && (command->cwd[0] == '\0' || !measure(command->cwd, &total)))
        return VIGIL_E_INVALIDARG;

    uint32_t timeout = command->timeout_ms ? command->timeout_ms + GS_EXECUTE_TIMEOUT_GRACE_MS
                                           : GUEST_SERVICE_REQUEST_TIMEOUT_DEFAULT_MS;
    if (command->timeout_ms > UINT32_MAX - GS_EXECUTE_TIMEOUT_GRACE_MS)
        timeout = UINT32_MAX;
    struct gs_request *request = begin(service, VIGIL_OP_EXECUTE, callbacks, timeout);
    if (!request)
        return VIGIL_E_BUSY;
    struct vigil_execute_request header = {
        .argc = command->argc,
        .env_count = command->env_count,
        .cwd_present = command->cwd != NULL,
        .timeout_ms = command->timeout_ms,
    };
    memcpy(request->payload, &header, sizeof(header));
    request->length = sizeof(header);
    for (unsigned i = 0; i < command->argc; i++)
        append_string(request, command->argv[i], strlen(command->argv[i]));
    for (unsigned i = 0; i < command->env_count; i++)
        append_string(request, command->env[i], strlen(command->env[i]));
    if (command->cwd)
        append_string(request, command->cwd, strlen(command->cwd));
    gs_commit(service, request, request_id);
    return VIGIL_S_OK;
}

uint32_t guest_service_kill(struct guest_service *service, uint32_t request_id)
{
    return gs_kill(service, request_id);
}

/* ---- Parameters -------------------------------------------------------------------------- */

uint32_t guest_service_set_parameter(struct guest_service *service, const char *name, const char *value,
                                     const struct guest_service_callbacks *callbacks, uint32_t *request_id)
{
    uint32_t status = gs_check_available(service, VIGIL_CAPABILITY_PARAMETERS);
    if (status != VIGIL_S_OK)
        return status;
    if (!guest_service_parameter_name_valid(name) || !value)
        return VIGIL_E_INVALIDARG;
    size_t value_length = gs_bounded_length(value, VIGIL_PARAMETER_VALUE_MAX + 1);
    if (value_length > VIGIL_PARAMETER_VALUE_MAX)
        return VIGIL_E_INVALIDARG;
    struct gs_request *request = begin(service, VIGIL_OP_SET_PARAMETER, callbacks,
                                       GUEST_SERVICE_REQUEST_TIMEOUT_DEFAULT_MS);
    if (!request)
        return VIGIL_E_BUSY;
    append_string(request, name, strlen(name));
    append_string(request, value, value_length);
    gs_commit(service, request, request_id);
    return VIGIL_S_OK;
}

uint32_t guest_service_get_parameter(struct guest_service *service, const char *name,
                                     const struct guest_service_callbacks *callbacks, uint32_t *request_id)
{
    uint32_t status = gs_check_available(service, VIGIL_CAPABILITY_PARAMETERS);
    if (status != VIGIL_S_OK)
        return status;
    if (!guest_service_parameter_name_valid(name))
        return VIGIL_E_INVALIDARG;
    struct gs_request *request = begin(service, VIGIL_OP_GET_PARAMETER, callbacks,
                                       GUEST_SERVICE_REQUEST_TIMEOUT_DEFAULT_MS);
    if (!request)
        return VIGIL_E_BUSY;
    append_string(request, name, strlen(name));
    gs_commit(service, request, request_id);
    return VIGIL_S_OK;
}

uint32_t guest_service_list_parameters(struct guest_service *service, const struct guest_service_callbacks *callbacks,
                                       uint32_t *request_id)
{
    uint32_t status = gs_check_available(service, VIGIL_CAPABILITY_PARAMETERS);
    if (status != VIGIL_S_OK)
        return status;
    struct gs_request *request = begin(service, VIGIL_OP_LIST_PARAMETERS, callbacks,
                                       GUEST_SERVICE_REQUEST_TIMEOUT_DEFAULT_MS);
    if (!request)
        return VIGIL_E_BUSY;
    gs_commit(service, request, request_id);
    return VIGIL_S_OK;
}

/* ---- Shutdown, InstallAdditions, NOP -------------------------------------------------- */

uint32_t guest_service_shutdown(struct guest_service *service, const struct guest_shutdown_command *command,
                                const struct guest_service_callbacks *callbacks, uint32_t *request_id)
{
    uint32_t status = gs_check_available(service, VIGIL_CAPABILITY_SHUTDOWN);
    if (status != VIGIL_S_OK)
        return status;
    if (!command)
        return VIGIL_E_INVALIDARG;
    const char *reason = command->reason ? command->reason : "";
    size_t reason_length = gs_bounded_length(reason, VIGIL_SHUTDOWN_REASON_MAX + 1);
    if (reason_length > VIGIL_SHUTDOWN_REASON_MAX)
        return VIGIL_E_INVALIDARG;
    uint32_t timeout = command->timeout_ms ? command->timeout_ms : GUEST_SERVICE_SHUTDOWN_TIMEOUT_DEFAULT_MS;
    struct gs_request *request = begin(service, VIGIL_OP_SHUTDOWN, callbacks, timeout);
    if (!request)
        return VIGIL_E_BUSY;
    struct vigil_shutdown_request header = {
        .flags = (command->force ? VIGIL_SHUTDOWN_FORCE : 0u) | (command->reboot ? VIGIL_SHUTDOWN_REBOOT : 0u),
        .timeout_ms = timeout,
    };
    memcpy(request->payload, &header, sizeof(header));
    request->length = sizeof(header);
    append_string(request, reason, reason_length);
    request->shutdown_force = command->force;
    request->shutdown_reboot = command->reboot;
    memcpy(request->shutdown_reason, reason, reason_length);
    request->shutdown_reason[reason_length] = '\0';
    gs_commit(service, request, request_id);
    return VIGIL_S_OK;
}

uint32_t guest_service_install_additions(struct guest_service *service, const struct guest_service_callbacks *callbacks,
                                         uint32_t *request_id)
{
    uint32_t status = gs_check_available(service, VIGIL_CAPABILITY_INSTALL_ADDITIONS);
    if (status != VIGIL_S_OK)
        return status;
    if (!service->package_offered)
        return VIGIL_VM_E_DRIVE_INVALID; /* no Additions package to install from */
    struct gs_request *request = begin(service, VIGIL_OP_INSTALL_ADDITIONS, callbacks,
                                       GUEST_SERVICE_REQUEST_TIMEOUT_DEFAULT_MS);
    if (!request)
        return VIGIL_E_BUSY;
    gs_commit(service, request, request_id);
    return VIGIL_S_OK;
}

uint32_t guest_service_nop(struct guest_service *service, const struct guest_service_callbacks *callbacks,
                           uint32_t *request_id)
{
    uint32_t status = gs_check_available(service, 0);
    if (status != VIGIL_S_OK)
        return status;
    struct gs_request *request = begin(service, VIGIL_OP_NOP, callbacks, GUEST_SERVICE_REQUEST_TIMEOUT_DEFAULT_MS);
    if (!request)
        return VIGIL_E_BUSY;
    gs_commit(service, request, request_id);
    return VIGIL_S_OK;
}
