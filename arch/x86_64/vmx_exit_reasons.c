#include "arch/x86_64/vmx_exit_reasons.h"

struct exit_reason_names {
    const char *slug, *description;
};

static const struct exit_reason_names names[VMX_EXIT_REASON_LIMIT] = {
#define VMX_EXIT_REASON_NAMES(number, id, slug, description) [number] = { slug, description },
    VMX_EXIT_REASONS(VMX_EXIT_REASON_NAMES)
#undef VMX_EXIT_REASON_NAMES
};

const char *vmx_exit_reason_slug(uint32_t basic_reason)
{
    if (basic_reason < VMX_EXIT_REASON_LIMIT && names[basic_reason].slug)
        return names[basic_reason].slug;
    return "other";
}

const char *vmx_exit_reason_name(uint32_t basic_reason)
{
    if (basic_reason < VMX_EXIT_REASON_LIMIT && names[basic_reason].description)
        return names[basic_reason].description;
    return "unknown exit reason";
}
