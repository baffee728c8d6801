/*
 * The audit trail (docs/lifecycle.md): every console and vigilctl request and
 * every recovery-policy action, in a bounded ring in vigil's own memory. It is
 * not part of the guest, so it survives guest restarts; when full, the oldest
 * entry is overwritten and counted.
 *
 * An entry records when (ms since boot), who (origin: a human at the prompt, a
 * JSON client such as vigilctl, or vigil's own policy), the request id (JSON
 * id or human request number), the operation (the command word or the policy
 * action), a digest of the arguments (the first 8 bytes of the SHA-256 of the
 * request line as received) and the final status (HRESULT), filled in when the
 * request completes. Pure C, no hardware: host-tested.
 */
#ifndef VIGIL_HV_AUDIT_LOG_H
#define VIGIL_HV_AUDIT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AUDIT_LOG_CAPACITY 128u
#define AUDIT_OPERATION_MAX 16u   /* including the NUL */
#define AUDIT_DETAIL_MAX 64u      /* including the NUL */
#define AUDIT_DIGEST_SIZE 8u

enum audit_origin {
    AUDIT_ORIGIN_HUMAN = 0, /* the human console prompt */
    AUDIT_ORIGIN_JSON,      /* the JSON line protocol (vigilctl, scripts) */
    AUDIT_ORIGIN_POLICY,    /* vigil itself: a recovery-policy action */
    AUDIT_ORIGIN_BOOT,      /* vigil itself: the measured launch */
};

struct audit_entry {
    uint64_t sequence;      /* 1, 2, 3, ... over the whole boot of vigil */
    uint64_t time_ms;
    uint64_t request_id;
    bool has_request_id;
    bool completed;         /* status is final */
    enum audit_origin origin;
    uint32_t status;        /* HRESULT once completed */
    char operation[AUDIT_OPERATION_MAX];
    uint8_t arguments_digest[AUDIT_DIGEST_SIZE];
    char detail[AUDIT_DETAIL_MAX]; /* policy actions and refusals: why; else empty */
};

struct audit_log {
    struct audit_entry entries[AUDIT_LOG_CAPACITY];
    uint64_t next_sequence; /* the sequence the next entry gets (first: 1) */
    uint64_t overwritten;   /* entries lost to the ring's bound */
};

void audit_log_init(struct audit_log *log);
/* A request as received: returns its sequence, to complete it later. arguments
 * (may be NULL when length is 0) is digested, not kept. operation is cut to fit. */
uint64_t audit_log_request(struct audit_log *log, uint64_t time_ms, enum audit_origin origin, bool has_request_id,
                           uint64_t request_id, const char *operation, const void *arguments, size_t length);
/* The final status of a request (once; later calls do not change it). detail may be
 * NULL. False if the entry is no longer in the ring or was completed already. */
bool audit_log_complete(struct audit_log *log, uint64_t sequence, uint32_t status, const char *detail);
/* An action vigil took on its own (completed at once). Returns its sequence. */
uint64_t audit_log_action(struct audit_log *log, uint64_t time_ms, enum audit_origin origin, const char *operation,
                          uint32_t status, const char *detail);
/* The entry with this sequence, or NULL if it was overwritten or does not exist yet. */
const struct audit_entry *audit_log_find(const struct audit_log *log, uint64_t sequence);
/* The oldest sequence still in the ring (== next_sequence when empty). */
uint64_t audit_log_oldest(const struct audit_log *log);
const char *audit_origin_name(enum audit_origin origin); /* "human", "json", "policy", "boot" */

#endif
