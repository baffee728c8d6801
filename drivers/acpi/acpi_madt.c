#include "drivers/acpi/acpi_madt.h"

#include <stdbool.h>
#include <string.h>

#include "drivers/acpi/acpi_tables.h"

#define MADT_ENTRIES_OFFSET 44   /* after the header, Local Interrupt Controller Address and Flags */
#define MADT_TYPE_LOCAL_APIC 0
#define MADT_TYPE_LOCAL_X2APIC 9
#define LOCAL_APIC_ENTRY_LENGTH 8    /* ACPI 6.4 Table 5.22 */
#define LOCAL_X2APIC_ENTRY_LENGTH 16 /* ACPI 6.4 Table 5.37 */
#define PROCESSOR_ENABLED 1u         /* Local APIC Flags bit 0 (Table 5.23) */

static uint32_t read32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

static void add_processor(struct acpi_madt_info *out, uint32_t apic_id, uint32_t flags, bool x2apic)
{
    if (!(flags & PROCESSOR_ENABLED)) {
        out->disabled_count++;
        return;
    }
    /* Firmware may list a processor in both entry types (ACPI §5.2.12.12 asks for
     * x2APIC entries only for ids >= 255, not all comply): count each id once. */
    for (unsigned i = 0; i < out->apic_id_count; i++) {
        if (out->apic_ids[i] == apic_id)
            return;
    }
    if (out->apic_id_count < ACPI_MADT_MAX_APIC_IDS)
        out->apic_ids[out->apic_id_count++] = apic_id;
    /* Beyond the kept ids a duplicate cannot be detected; count it (the log says the list is cut). */
    out->cpu_count++;
    if (x2apic)
        out->x2apic_entries++;
}

static const char *refuse(struct acpi_madt_info *out, const char *why)
{
    memset(out, 0, sizeof *out);
    return why;
}

const char *acpi_parse_madt(const uint8_t *madt, size_t available, struct acpi_madt_info *out)
{
    memset(out, 0, sizeof *out);
    if (available < ACPI_SDT_HEADER_LENGTH || memcmp(madt, "APIC", 4) != 0)
        return "not an MADT";
    uint32_t length = acpi_table_length(madt, available);
    if (length == 0)
        return "MADT length or checksum bad";
    if (length < MADT_ENTRIES_OFFSET)
        return "MADT shorter than its fixed fields";
    out->local_apic_address = read32(madt + 36);
    for (uint32_t offset = MADT_ENTRIES_OFFSET; offset < length;) {
        if (length - offset < 2)
            return refuse(out, "MADT entry header cut off at the end of the table");
        uint8_t type = madt[offset], entry_length = madt[offset + 1];
        uint8_t minimum = type == MADT_TYPE_LOCAL_APIC    ? LOCAL_APIC_ENTRY_LENGTH
                          : type == MADT_TYPE_LOCAL_X2APIC ? LOCAL_X2APIC_ENTRY_LENGTH
                                                           : 2;
        if (entry_length < minimum)
            return refuse(out, "MADT entry shorter than its type (it would overlap the next)");
        if (entry_length > length - offset)
            return refuse(out, "MADT entry runs past the end of the table");
        const uint8_t *entry = madt + offset;
        if (type == MADT_TYPE_LOCAL_APIC)
            add_processor(out, entry[3], read32(entry + 4), false);
        else if (type == MADT_TYPE_LOCAL_X2APIC)
            add_processor(out, read32(entry + 4), read32(entry + 8), true);
        offset += entry_length;
    }
    if (out->cpu_count == 0)
        return refuse(out, "MADT lists no enabled processor");
    return 0;
}
