#include "hv/guest_life.h"

#include <string.h>

#include "lib/format.h"

void guest_life_init(struct guest_life *life, const struct recovery_config *config, uint32_t console_rate)
{
    memset(life, 0, sizeof *life);
    audit_log_init(&life->audit);
    exec_allowlist_init(&life->allowlist);
    recovery_policy_init(&life->recovery, config);
    rate_limit_init(&life->console_rate, console_rate);
}

void guest_life_note_stop(struct guest_life *life, uint64_t now_ms, const char *reason)
{
    life->stopped = true;
    life->last_stop_ms = now_ms;
    format_string(life->last_stop_reason, sizeof life->last_stop_reason, "%s", reason != NULL ? reason : "unknown");
}

bool guest_life_expect_module(struct guest_life *life, const char *text, size_t length, char *error,
                              size_t error_size)
{
    unsigned index = 0;
    size_t start = 0;
    const char *colon = memchr(text, ':', length);
    if (colon != NULL) {
        size_t digits = (size_t)(colon - text);
        bool ok = digits > 0 && digits <= 2;
        for (size_t i = 0; i < digits && ok; i++) {
            ok = text[i] >= '0' && text[i] <= '9';
            index = index * 10 + (unsigned)(text[i] - '0');
        }
        if (!ok || index >= GUEST_LIFE_MODULES_MAX) {
            format_string(error, error_size, "module_sha256: bad module index '%.*s' (0..%u)",
                          (int)(digits > 8 ? 8 : digits), text, GUEST_LIFE_MODULES_MAX - 1);
            return false;
        }
        start = digits + 1;
    }
    uint8_t digest[SHA256_DIGEST_SIZE];
    if (!sha256_from_hex(text + start, length - start, digest)) {
        format_string(error, error_size, "module_sha256: want [INDEX:]64 hex digits, got %lu characters",
                      (unsigned long)(length - start));
        return false;
    }
    life->modules[index].expected = true;
    memcpy(life->modules[index].expected_digest, digest, sizeof digest);
    return true;
}

bool guest_life_measure_module(struct guest_life *life, unsigned index, const void *data, uint64_t size,
                               char *mismatch, size_t mismatch_size)
{
    if (index >= GUEST_LIFE_MODULES_MAX)
        return true;
    struct guest_life_module *module = &life->modules[index];
    sha256(data, (size_t)size, module->digest);
    module->measured = true;
    module->size = size;
    if (index >= life->module_count)
        life->module_count = index + 1;
    if (!module->expected || memcmp(module->digest, module->expected_digest, SHA256_DIGEST_SIZE) == 0)
        return true;
    char measured[SHA256_HEX_SIZE], expected[SHA256_HEX_SIZE];
    sha256_to_hex(module->digest, measured);
    sha256_to_hex(module->expected_digest, expected);
    format_string(mismatch, mismatch_size, "module %u: SHA-256 %s, but module_sha256= expects %s", index, measured,
                  expected);
    return false;
}
