#include "hv/vmexit_statistics.h"

#include "hv/log.h"
#include "lib/format.h"

static struct vmexit_statistics statistics;

void vmexit_statistics_count(uint32_t basic_reason)
{
    statistics.total++;
    statistics.by_reason[basic_reason < VMX_EXIT_REASON_LIMIT ? basic_reason : VMX_EXIT_REASON_LIMIT]++;
}

const struct vmexit_statistics *vmexit_get_statistics(void) { return &statistics; }

void vmexit_print_statistics(void)
{
    char line[512];
    int used = format_string(line, sizeof line, "vigil: exits: total=%lu", (unsigned long)statistics.total);
    for (uint32_t reason = 0; reason <= VMX_EXIT_REASON_LIMIT && used > 0 && (size_t)used < sizeof line; reason++) {
        if (statistics.by_reason[reason])
            used += format_string(line + used, sizeof line - (size_t)used, " %s=%lu", vmx_exit_reason_slug(reason),
                                  (unsigned long)statistics.by_reason[reason]);
    }
    log_raw_printf("%s\n", line);
}
