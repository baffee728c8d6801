/* vctl_json: see vctl_json.h. */
#include "vctl_json.h"

#include <string.h>

json_t *vj_parse_object(const char *text, size_t length, char *error, size_t error_size)
{
    json_error_t problem;
    json_t *value = json_loadb(text, length, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &problem);
    if (value != NULL && !json_is_object(value)) {
        json_decref(value);
        if (error != NULL)
            snprintf(error, error_size, "not a JSON object");
        return NULL;
    }
    if (value == NULL && error != NULL)
        snprintf(error, error_size, "%s at byte %d", problem.text, problem.position);
    return value;
}

const json_t *vj_get(const json_t *object, const char *key)
{
    /* jansson's getters take non-const pointers but do not modify the value */
    return json_is_object(object) ? json_object_get((json_t *)object, key) : NULL;
}

bool vj_as_u64(const json_t *value, uint64_t *out)
{
    if (!json_is_integer(value) || json_integer_value(value) < 0)
        return false;
    *out = (uint64_t)json_integer_value(value);
    return true;
}

bool vj_get_u64(const json_t *object, const char *key, uint64_t *out) { return vj_as_u64(vj_get(object, key), out); }

bool vj_get_i64(const json_t *object, const char *key, int64_t *out)
{
    const json_t *value = vj_get(object, key);
    if (!json_is_integer(value))
        return false;
    *out = (int64_t)json_integer_value(value);
    return true;
}

bool vj_get_bool(const json_t *object, const char *key, bool *out)
{
    const json_t *value = vj_get(object, key);
    if (!json_is_boolean(value))
        return false;
    *out = json_is_true(value);
    return true;
}

const char *vj_get_string(const json_t *object, const char *key, size_t *length)
{
    const json_t *value = vj_get(object, key);
    if (!json_is_string(value))
        return NULL;
    if (length != NULL)
        *length = json_string_length(value);
    return json_string_value(value);
}

bool vj_fprint(FILE *out, const json_t *value)
{
    if (value == NULL)
        return fputs("null", out) >= 0;
    return json_dumpf(value, out, JSON_COMPACT | JSON_ENCODE_ANY) == 0;
}
