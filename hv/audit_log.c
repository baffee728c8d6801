#include "hv/audit_log.h"

#include <string.h>

#include "lib/sha256.h"

void audit_log_init(struct audit_log *log)
{
    memset(log, 0, sizeof *log);
    log->next_sequence = 1;
}

static void copy_text(char *out, size_t size, const char *text)
{
    size_t length = 0;
    if (text != NULL)
        while (length + 1 < size && text[length] != '\0')
            length++;
    if (length > 0)
        memcpy(out, text, length);
    out[length] = '\0';
}

static struct audit_entry *append(struct audit_log *log, uint64_t time_ms, enum audit_origin origin,
                                  const char *operation)
{
    if (log->next_sequence > AUDIT_LOG_CAPACITY)
        log->overwritten++;
    struct audit_entry *entry = &log->entries[(log->next_sequence - 1) % AUDIT_LOG_CAPACITY];
    memset(entry, 0, sizeof *entry);
    entry->sequence = log->next_sequence++;
    entry->time_ms = time_ms;
    entry->origin = origin;
    copy_text(entry->operation, sizeof entry->operation, operation);
    return entry;
}

uint64_t audit_log_request(struct audit_log *log, uint64_t time_ms, enum audit_origin origin, bool has_request_id,
                           uint64_t request_id, const char *operation, const void *arguments, size_t length)
{
    struct audit_entry *entry = append(log, time_ms, origin, operation);
    entry->has_request_id = has_request_id;
    entry->request_id = has_request_id ? request_id : 0;
    uint8_t digest[SHA256_DIGEST_SIZE];
    sha256(length > 0 ? arguments : "", length, digest);
    memcpy(entry->arguments_digest, digest, AUDIT_DIGEST_SIZE);
    return entry->sequence;
}

const struct audit_entry *audit_log_find(const struct audit_log *log, uint64_t sequence)
{
    if (sequence < audit_log_oldest(log) || sequence >= log->next_sequence)
        return NULL;
    return &log->entries[(sequence - 1) % AUDIT_LOG_CAPACITY];
}

bool audit_log_complete(struct audit_log *log, uint64_t sequence, uint32_t status, const char *detail)
{
    struct audit_entry *entry = (struct audit_entry *)audit_log_find(log, sequence);
    if (entry == NULL || entry->completed)
        return false;
    entry->completed = true;
    entry->status = status;
    if (detail != NULL)
        copy_text(entry->detail, sizeof entry->detail, detail);
    return true;
}

uint64_t audit_log_action(struct audit_log *log, uint64_t time_ms, enum audit_origin origin, const char *operation,
                          uint32_t status, const char *detail)
{
    struct audit_entry *entry = append(log, time_ms, origin, operation);
    entry->completed = true;
    entry->status = status;
    copy_text(entry->detail, sizeof entry->detail, detail);
    return entry->sequence;
}

uint64_t audit_log_oldest(const struct audit_log *log)
{
    return log->next_sequence > AUDIT_LOG_CAPACITY ? log->next_sequence - AUDIT_LOG_CAPACITY : 1;
}

const char *audit_origin_name(enum audit_origin origin)
{
    switch (origin) {
    case AUDIT_ORIGIN_HUMAN: return "human";
    case AUDIT_ORIGIN_JSON: return "json";
    case AUDIT_ORIGIN_POLICY: return "policy";
    case AUDIT_ORIGIN_BOOT: return "boot";
    }
    return "unknown";
}
