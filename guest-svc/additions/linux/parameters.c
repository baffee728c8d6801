/*
 * The guest's parameter store, persisted: one file per parameter under
 * /var/lib/vigil/parameters/. A name may hold any byte but '\' and NUL ('/' and
 * ".." included) and be 255 bytes long, more than a file name may, so a file is
 * named by the FNV-1a hash of the name (16 hex digits, then "-" and a probe
 * number 0-7 for the rare collision) and holds the name, a NUL, then the value.
 * Writes go to a temporary file renamed over the old one, so a crash leaves the
 * old value or the new, never half of one.
 */
#define _GNU_SOURCE
#include "daemon.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PROBES 8
#define RECORD_MAX (VIGIL_PARAMETER_NAME_MAX + 1 + VIGIL_PARAMETER_VALUE_MAX)

static char directory[200];
static char listed_name[VIGIL_PARAMETER_NAME_MAX + 1];
static char record[RECORD_MAX + 1];

void parameters_init(const char *path)
{
    snprintf(directory, sizeof directory, "%s", path);
    char partial[sizeof directory];
    for (size_t i = 1; i <= strlen(directory); i++) {
        if (directory[i] == '/' || directory[i] == 0) {
            memcpy(partial, directory, i);
            partial[i] = 0;
            mkdir(partial, 0700);
        }
    }
}

static void file_for(const char *name, unsigned probe, char *path, size_t size)
{
    uint64_t hash = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        hash = (hash ^ *p) * 0x100000001b3ull;
    snprintf(path, size, "%s/%016llx-%u", directory, (unsigned long long)hash, probe);
}

/* Reads a record file: its length, or -1 if absent or unreadable. */
static ssize_t read_record(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t got = read(fd, record, RECORD_MAX);
    close(fd);
    if (got >= 0)
        record[got] = 0;
    return got;
}

/* The probe whose file holds `name` (*found), else the first free one; -1 if
 * all probes hold other names. */
static int find(const char *name, bool *found)
{
    char path[sizeof directory + 32];
    int free_probe = -1;
    *found = false;
    for (unsigned probe = 0; probe < PROBES; probe++) {
        file_for(name, probe, path, sizeof path);
        ssize_t got = read_record(path);
        if (got < 0) {
            if (free_probe < 0)
                free_probe = (int)probe;
            continue;
        }
        if (strnlen(record, (size_t)got) < (size_t)got && strcmp(record, name) == 0) {
            *found = true;
            return (int)probe;
        }
    }
    return free_probe;
}

uint32_t parameters_set(const char *name, const char *value)
{
    bool found;
    int probe = find(name, &found);
    if (probe < 0) {
        daemon_log("parameter store: no free slot for a name (%d hash collisions)", PROBES);
        return VIGIL_E_FAIL;
    }
    char path[sizeof directory + 32], temporary[sizeof path + 8];
    file_for(name, (unsigned)probe, path, sizeof path);
    snprintf(temporary, sizeof temporary, "%s.new", path);
    size_t name_size = strlen(name) + 1, value_length = strlen(value);
    int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, name, name_size) != (ssize_t)name_size ||
        write(fd, value, value_length) != (ssize_t)value_length || fsync(fd) != 0 || close(fd) != 0 ||
        rename(temporary, path) != 0) {
        daemon_log("parameter store: %s: %s", temporary, strerror(errno));
        if (fd >= 0)
            unlink(temporary);
        return VIGIL_E_FAIL;
    }
    return VIGIL_S_OK;
}

uint32_t parameters_get(const char *name, char *value, size_t value_size)
{
    bool found;
    int probe = find(name, &found);
    if (!found)
        return VIGIL_E_NOT_FOUND;
    (void)probe;
    const char *stored = record + strlen(record) + 1; /* find() left the record in place */
    snprintf(value, value_size, "%s", stored);
    return VIGIL_S_OK;
}

/* The index-th record in directory order (stable while nothing is written; the
 * library lists in one pass). Temporary files and strays are skipped. */
bool parameters_list(uint32_t index, const char **name)
{
    DIR *dir = opendir(directory);
    if (!dir)
        return false;
    uint32_t seen = 0;
    bool found = false;
    struct dirent *entry;
    char path[sizeof directory + 260];
    while (!found && (entry = readdir(dir)) != NULL) {
        if (strlen(entry->d_name) != 18 || strchr(entry->d_name, '.'))
            continue;
        snprintf(path, sizeof path, "%s/%s", directory, entry->d_name);
        ssize_t got = read_record(path);
        if (got <= 0 || strnlen(record, (size_t)got) >= (size_t)got)
            continue;
        if (seen++ == index) {
            snprintf(listed_name, sizeof listed_name, "%.*s", (int)sizeof listed_name - 1, record);
            found = true;
        }
    }
    closedir(dir);
    if (found)
        *name = listed_name;
    return found;
}
