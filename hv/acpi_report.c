#include "hv/acpi_report.h"

#include "lib/format.h"
#include "hv/log.h"

/* loglevel=debug: the MADT's bytes in hex (how tests/unit/fixtures/acpi got Bochs'
 * table). Read before any guest owns the memory; the identity map covers it. */
static void dump_madt(uint64_t address, uint32_t length)
{
    if (log_get_level() < LOG_DEBUG)
        return;
    uintptr_t pointer = (uintptr_t)address;
    __asm__("" : "+r"(pointer)); /* a computed address, not an object gcc can bound */
    const uint8_t *bytes = (const uint8_t *)pointer;
    for (uint32_t offset = 0; offset < length; offset += 16) {
        char line[16 * 3 + 1];
        size_t used = 0;
        for (uint32_t i = offset; i < length && i < offset + 16; i++)
            used += (size_t)format_string(line + used, sizeof line - used, " %02x", bytes[i]);
        line[used] = 0;
        log_debug("ACPI: MADT bytes %04lx:%s", (unsigned long)offset, line);
    }
}

static void report_madt(const struct acpi_madt_info *madt, uint64_t address)
{
    char ids[160];
    size_t used = 0;
    ids[0] = 0;
    for (unsigned i = 0; i < madt->apic_id_count && used < sizeof ids; i++) {
        int n = format_string(ids + used, sizeof ids - used, "%s%lu", i ? " " : "", (unsigned long)madt->apic_ids[i]);
        if (n < 0 || (size_t)n >= sizeof ids - used)
            break;
        used += (size_t)n;
    }
    log_info("ACPI: MADT: %u CPU%s enabled, APIC ids %s%s (%u from x2APIC entries, %u disabled), local APIC at 0x%lx, table at 0x%lx",
             madt->cpu_count, madt->cpu_count == 1 ? "" : "s", ids, madt->cpu_count > madt->apic_id_count ? " ..." : "",
             madt->x2apic_entries, madt->disabled_count, (unsigned long)madt->local_apic_address,
             (unsigned long)address);
}

void acpi_report(const struct acpi_discovery *found, const struct acpi_power_config *power, const char *failure)
{
    if (found->rsdp_source == ACPI_RSDP_NOT_FOUND) {
        log_warn("ACPI: no valid RSDP (boot loader tag, EBDA, BIOS area): CPU count unknown (vigil uses the boot "
                 "CPU only), no PM timer; power-off falls back to the emulator ports, reset to port 0xCF9 and the "
                 "keyboard controller");
        return;
    }
    log_info("ACPI: RSDP revision %u at 0x%lx from %s, root table %s", found->rsdp_revision,
             (unsigned long)found->rsdp_address, acpi_rsdp_source_name(found->rsdp_source),
             found->root_is_xsdt ? "XSDT" : "RSDT");
    if (found->madt_valid) {
        report_madt(&found->madt, found->madt_address);
        dump_madt(found->madt_address, found->madt_length);
    }
    else
        log_warn("ACPI: MADT refused: %s: CPU count unknown, vigil uses the boot CPU only", found->madt_failure);
    const struct acpi_fadt_info *fadt = &power->fadt;
    if (power->fadt_valid)
        log_info("ACPI: FADT: PM1a control 0x%lx, PM1b control 0x%lx, PM timer 0x%lx, reset register %s0x%x=0x%x, "
                 "SMI command 0x%lx (enable 0x%x)",
                 (unsigned long)fadt->pm1a_control_port, (unsigned long)fadt->pm1b_control_port,
                 (unsigned long)fadt->pm_timer_port, fadt->reset_register_valid ? "" : "(none) ", fadt->reset_port,
                 fadt->reset_value, (unsigned long)fadt->smi_command_port, fadt->acpi_enable_value);
    if (failure)
        log_warn("ACPI: %s: power-off falls back to the emulator ports%s", failure,
                 power->fadt_valid ? "" : ", reset to port 0xCF9 and the keyboard controller, no PM timer");
    else
        log_info("ACPI: S5 SLP_TYP %u/%u: power-off through ACPI", power->s5.pm1a, power->s5.pm1b);
}
