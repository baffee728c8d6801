/* Boot module roles from their strings; see guest_modules.h. */
#include "hv/guest_modules.h"

#include <string.h>

#include "lib/format.h"

static const char *skip_spaces(const char *text)
{
    while (*text == ' ' || *text == '\t')
        text++;
    return text;
}

/* The rest of `text` after the word `role` and its spaces, or NULL if `text`
 * does not start with that whole word. */
static const char *after_role(const char *text, const char *role)
{
    text = skip_spaces(text);
    size_t length = strlen(role);
    if (strncmp(text, role, length) != 0 || (text[length] != '\0' && text[length] != ' ' && text[length] != '\t'))
        return NULL;
    return skip_spaces(text + length);
}

static bool claim(int *slot, int index, const char *role, char *error, size_t error_size)
{
    if (*slot != GUEST_MODULE_NONE) {
        format_string(error, error_size, "modules %d and %d both say '%s'", *slot, index, role);
        return false;
    }
    *slot = index;
    return true;
}

bool guest_modules_assign(const struct boot_module *modules, unsigned count, struct guest_modules *out, char *error,
                          size_t error_size)
{
    *out = (struct guest_modules){ GUEST_MODULE_NONE, GUEST_MODULE_NONE, GUEST_MODULE_NONE, "", "", 0 };
    if (count > BOOT_MODULE_MAX)
        count = BOOT_MODULE_MAX;
    bool labelled[BOOT_MODULE_MAX] = { false };
    for (unsigned i = 0; i < count; i++) {
        /* The string was copied out NUL-terminated (multiboot.c); bound it anyway. */
        const char *text = modules[i].cmdline;
        if (memchr(text, 0, sizeof modules[i].cmdline) == NULL)
            text = "";
        const char *args;
        if ((args = after_role(text, "kernel")) != NULL) {
            if (!claim(&out->kernel, (int)i, "kernel", error, error_size))
                return false;
            out->kernel_args = args;
        } else if ((args = after_role(text, "initrd")) != NULL) {
            if (!claim(&out->initrd, (int)i, "initrd", error, error_size))
                return false;
        } else if ((args = after_role(text, "additions")) != NULL) {
            if (!claim(&out->additions, (int)i, "additions", error, error_size))
                return false;
            out->additions_args = args;
        } else {
            continue;
        }
        labelled[i] = true;
    }
    for (unsigned i = 0; i < count; i++) {
        if (labelled[i])
            continue;
        if (out->kernel == GUEST_MODULE_NONE) {
            out->kernel = (int)i;
            out->kernel_args = modules[i].cmdline;
        } else if (out->additions == GUEST_MODULE_NONE) {
            out->additions = (int)i;
            out->additions_args = modules[i].cmdline;
        } else {
            out->unused++;
        }
    }
    if (count > 0 && out->kernel == GUEST_MODULE_NONE) {
        format_string(error, error_size, "%u modules but none is the kernel", count);
        return false;
    }
    return true;
}
