/*
 * The exec allow-list (docs/lifecycle.md), enforced by vigil before an exec
 * request reaches the guest, in the spirit of qemu-ga's --allow-rpcs: programs
 * are allowed by absolute path, exactly ("/usr/bin/uptime") or by prefix
 * (a path ending in "/" followed by a star: anything under that directory). Set at boot by exec_allow= on
 * vigil's command line, extended on the console until it is locked
 * (exec_allow_lock=1 or `allowlist lock`); once locked nothing can be added.
 *
 * With no entries and not locked, the list is open: every program is allowed
 * (vigil's behaviour before the list existed). A locked empty list allows
 * nothing. Programs to check must be absolute paths without "." or ".."
 * segments or "//", so a prefix cannot be escaped ("/usr/bin/../../bin/sh").
 * Pure C, host-tested.
 */
#ifndef VIGIL_HV_EXEC_ALLOWLIST_H
#define VIGIL_HV_EXEC_ALLOWLIST_H

#include <stdbool.h>
#include <stddef.h>

#define EXEC_ALLOWLIST_MAX 16u
#define EXEC_ALLOWLIST_PATH_MAX 128u /* including the NUL, and the "*" of a prefix */

struct exec_allowlist_entry {
    bool prefix;                        /* path ends in '/' and matches everything below */
    char path[EXEC_ALLOWLIST_PATH_MAX]; /* without the '*' */
};

struct exec_allowlist {
    bool locked;
    unsigned count;
    struct exec_allowlist_entry entries[EXEC_ALLOWLIST_MAX];
};

void exec_allowlist_init(struct exec_allowlist *list);
/* Adds entries from a comma-separated list of paths and prefixes. All
 * or nothing: on any bad entry (not absolute, "*" anywhere but after a final '/',
 * "." or ".." segments, too long, list full, list locked) nothing is added and
 * error (if not NULL) says which entry and why. Duplicates are added once. */
bool exec_allowlist_add(struct exec_allowlist *list, const char *text, size_t length, char *error, size_t error_size);
void exec_allowlist_lock(struct exec_allowlist *list);
/* Open (no entries, not locked): everything is allowed. */
bool exec_allowlist_enforcing(const struct exec_allowlist *list);
/* Whether program may run. If not, why (if not NULL) holds one line. */
bool exec_allowlist_permits(const struct exec_allowlist *list, const char *program, char *why, size_t why_size);
/* The index-th entry as written (a prefix with its star) into out; false past the last. */
bool exec_allowlist_entry_text(const struct exec_allowlist *list, unsigned index, char *out, size_t size);

#endif
