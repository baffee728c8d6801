/*
 * The MADT ("APIC", ACPI 6.4 §5.2.12): how many processors the firmware enabled
 * and their APIC ids, from the Processor Local APIC (type 0) and Processor Local
 * x2APIC (type 9) entries. A pure function over a byte buffer (host-testable).
 */
#ifndef VIGIL_DRIVERS_ACPI_ACPI_MADT_H
#define VIGIL_DRIVERS_ACPI_ACPI_MADT_H

#include <stddef.h>
#include <stdint.h>

#define ACPI_MADT_MAX_APIC_IDS 32 /* ids kept for the log; cpu_count counts them all */

struct acpi_madt_info {
    uint32_t local_apic_address;
    unsigned cpu_count;        /* distinct enabled processors (an id listed twice counts once) */
    unsigned disabled_count;   /* processor entries without the Enabled flag */
    unsigned x2apic_entries;   /* enabled processors that came from x2APIC entries */
    unsigned apic_id_count;    /* ids in apic_ids (at most ACPI_MADT_MAX_APIC_IDS) */
    uint32_t apic_ids[ACPI_MADT_MAX_APIC_IDS];
};

/* Validates the table (signature, length within available, checksum) and every
 * entry (at least 2 bytes, inside the table, processor entries at least their
 * defined size). Returns NULL, or why the MADT is refused (then *out is zeroed). */
const char *acpi_parse_madt(const uint8_t *madt, size_t available, struct acpi_madt_info *out);

#endif
