/*
 * What vigil remembers about its guest across the guest's lives
 * (docs/lifecycle.md): the audit trail, the exec allow-list, the recovery
 * policies, the console's request limit, the boot count, the last stop and the
 * measured launch (the SHA-256 of every boot module, and the value the command
 * line expects). It lives in vigil's own memory, so a guest restart keeps it.
 * Plain data and pure helpers: the console reads it through console_host.life
 * and the unit tests build one directly.
 */
#ifndef VIGIL_HV_GUEST_LIFE_H
#define VIGIL_HV_GUEST_LIFE_H

#include <stdbool.h>
#include <stdint.h>

#include "hv/audit_log.h"
#include "hv/exec_allowlist.h"
#include "hv/rate_limit.h"
#include "hv/recovery_policy.h"
#include "lib/sha256.h"

#define GUEST_LIFE_MODULES_MAX 16u /* = BOOT_MODULE_MAX */
#define GUEST_LIFE_REASON_MAX 96u

struct guest_life_module {
    bool measured;
    bool expected;                          /* module_sha256= gave a value for it */
    uint64_t size;
    uint8_t digest[SHA256_DIGEST_SIZE];     /* measured before the first launch */
    uint8_t expected_digest[SHA256_DIGEST_SIZE];
};

struct guest_life {
    uint32_t heartbeat_interval_ms;         /* heartbeat_interval= at boot; 0: the monitor's default */
    struct audit_log audit;
    struct exec_allowlist allowlist;
    struct recovery_policy recovery;
    struct rate_limit console_rate;
    uint32_t boot_count;                    /* launches of the guest, the first one included */
    bool stopped;                           /* the guest has stopped at least once */
    uint64_t last_stop_ms;                  /* ms since vigil's boot */
    char last_stop_reason[GUEST_LIFE_REASON_MAX];
    unsigned module_count;
    struct guest_life_module modules[GUEST_LIFE_MODULES_MAX];
};

void guest_life_init(struct guest_life *life, const struct recovery_config *config, uint32_t console_rate);
void guest_life_note_stop(struct guest_life *life, uint64_t now_ms, const char *reason);
/* module_sha256= value "INDEX:HEX" or "HEX" for module 0; false with error on a bad one. */
bool guest_life_expect_module(struct guest_life *life, const char *text, size_t length, char *error,
                              size_t error_size);
/* Records a module's digest. False if an expected digest differs (mismatch names both). */
bool guest_life_measure_module(struct guest_life *life, unsigned index, const void *data, uint64_t size,
                               char *mismatch, size_t mismatch_size);

#endif
