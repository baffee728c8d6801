/*
 * Unit tests for drivers/acpi/acpi_madt.c: MADTs dumped from the firmware of our
 * three targets (tests/unit/fixtures/acpi, see its README), then malformed ones
 * built from them and by hand (bad checksum, short length, overlapping and
 * runaway entries, duplicates, disabled processors, x2APIC entries).
 *
 * Every parse gets a heap buffer of exactly the length it is told, so ASan
 * reports any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/acpi/acpi_madt.h"
#include "drivers/acpi/acpi_tables.h"

#define MADT_HEADER 44

/* ---- fixtures and builders --------------------------------------------------- */

static uint8_t *load_fixture(const char *name, size_t *length)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", ACPI_FIXTURE_DIR, name);
    FILE *file = fopen(path, "rb");
    if (!file)
        fail_msg("cannot open fixture %s", path);
    uint8_t *bytes = malloc(65536);
    assert_non_null(bytes);
    *length = fread(bytes, 1, 65536, file);
    fclose(file);
    assert_true(*length >= MADT_HEADER);
    uint8_t *exact = malloc(*length);
    assert_non_null(exact);
    memcpy(exact, bytes, *length);
    free(bytes);
    return exact;
}

static void fix_checksum(uint8_t *table, uint32_t length)
{
    table[9] = 0;
    uint8_t sum = 0;
    for (uint32_t i = 0; i < length; i++)
        sum = (uint8_t)(sum + table[i]);
    table[9] = (uint8_t)-sum;
}

static uint32_t table_length(const uint8_t *table)
{
    uint32_t length;
    memcpy(&length, table + 4, 4);
    return length;
}

static void set_length(uint8_t *table, uint32_t length) { memcpy(table + 4, &length, 4); }

/* A hand-made MADT: header, local APIC address 0xFEE00000, then `entries`. */
static uint8_t *build_madt(const uint8_t *entries, uint32_t entries_length, uint32_t *length)
{
    *length = MADT_HEADER + entries_length;
    uint8_t *madt = calloc(1, *length);
    assert_non_null(madt);
    memcpy(madt, "APIC", 4);
    set_length(madt, *length);
    madt[8] = 4;
    memcpy(madt + 10, "VIGIL ", 6);
    uint32_t lapic = 0xFEE00000u;
    memcpy(madt + 36, &lapic, 4);
    memcpy(madt + MADT_HEADER, entries, entries_length);
    fix_checksum(madt, *length);
    return madt;
}

static const char *parse(const uint8_t *entries, uint32_t entries_length, struct acpi_madt_info *info)
{
    uint32_t length;
    uint8_t *madt = build_madt(entries, entries_length, &length);
    const char *failure = acpi_parse_madt(madt, length, info);
    free(madt);
    return failure;
}

#define LAPIC(uid, id, flags) 0, 8, (uid), (id), (flags), 0, 0, 0
#define X2APIC(id, flags) 9, 16, 0, 0, (id) & 0xFF, ((id) >> 8) & 0xFF, 0, 0, (flags), 0, 0, 0, 1, 0, 0, 0

/* ---- real tables ----------------------------------------------------------------- */

static void expect_fixture(const char *name, unsigned cpus, const uint32_t *ids)
{
    size_t length;
    uint8_t *madt = load_fixture(name, &length);
    struct acpi_madt_info info;
    const char *failure = acpi_parse_madt(madt, length, &info);
    if (failure)
        fail_msg("%s: %s", name, failure);
    assert_int_equal(info.cpu_count, cpus);
    assert_int_equal(info.apic_id_count, cpus);
    for (unsigned i = 0; i < cpus; i++)
        assert_int_equal(info.apic_ids[i], ids[i]);
    assert_int_equal(info.local_apic_address, 0xFEE00000u);
    free(madt);
}

static void test_qemu_seabios_two_cpus(void **state)
{
    (void)state;
    static const uint32_t ids[] = { 0, 1 };
    expect_fixture("madt-qemu-seabios-smp2.bin", 2, ids);
}

static void test_qemu_ovmf_two_cpus(void **state)
{
    (void)state;
    static const uint32_t ids[] = { 0, 1 };
    expect_fixture("madt-qemu-ovmf-smp2.bin", 2, ids);
}

static void test_bochs_two_cpus(void **state)
{
    (void)state;
    static const uint32_t ids[] = { 0, 1 };
    expect_fixture("madt-bochs-smp2.bin", 2, ids);
}

static const char *const fixtures[] = { "madt-qemu-seabios-smp2.bin", "madt-qemu-ovmf-smp2.bin", "madt-bochs-smp2.bin" };

/* Any single flipped byte breaks the checksum: the table is refused whole. */
static void test_real_tables_bad_checksum(void **state)
{
    (void)state;
    for (size_t f = 0; f < sizeof fixtures / sizeof fixtures[0]; f++) {
        size_t length;
        uint8_t *madt = load_fixture(fixtures[f], &length);
        madt[length - 1] ^= 0x01;
        struct acpi_madt_info info;
        assert_string_equal(acpi_parse_madt(madt, length, &info), "MADT length or checksum bad");
        assert_int_equal(info.cpu_count, 0);
        free(madt);
    }
}

/* The declared length exceeds what is mapped; or the buffer is shorter than a header. */
static void test_real_tables_short(void **state)
{
    (void)state;
    for (size_t f = 0; f < sizeof fixtures / sizeof fixtures[0]; f++) {
        size_t length;
        uint8_t *madt = load_fixture(fixtures[f], &length);
        struct acpi_madt_info info;
        assert_string_equal(acpi_parse_madt(madt, length - 1, &info), "MADT length or checksum bad");
        assert_string_equal(acpi_parse_madt(madt, 20, &info), "not an MADT");
        /* A declared length that cuts the last entry in half (checksum fixed). */
        set_length(madt, (uint32_t)length - 3);
        fix_checksum(madt, (uint32_t)length - 3);
        assert_non_null(acpi_parse_madt(madt, length, &info));
        assert_int_equal(info.cpu_count, 0);
        free(madt);
    }
}

/* The first entry claims 4 bytes (a local APIC entry is 8): it overlaps the next. */
static void test_real_tables_overlapping_entry(void **state)
{
    (void)state;
    for (size_t f = 0; f < sizeof fixtures / sizeof fixtures[0]; f++) {
        size_t length;
        uint8_t *madt = load_fixture(fixtures[f], &length);
        assert_int_equal(madt[MADT_HEADER], 0); /* firmware lists the processors first */
        madt[MADT_HEADER + 1] = 4;
        fix_checksum(madt, table_length(madt));
        struct acpi_madt_info info;
        assert_string_equal(acpi_parse_madt(madt, length, &info),
                            "MADT entry shorter than its type (it would overlap the next)");
        free(madt);
    }
}

/* ---- hand-made tables ------------------------------------------------------------ */

static void test_zero_length_entry_refused(void **state)
{
    (void)state;
    const uint8_t entries[] = { LAPIC(0, 0, 1), 5, 0, 0, 0 };
    struct acpi_madt_info info;
    assert_string_equal(parse(entries, sizeof entries, &info),
                        "MADT entry shorter than its type (it would overlap the next)");
}

static void test_entry_past_the_end_refused(void **state)
{
    (void)state;
    const uint8_t entries[] = { LAPIC(0, 0, 1), 1, 12, 0, 0, 0, 0 };
    struct acpi_madt_info info;
    assert_string_equal(parse(entries, sizeof entries, &info), "MADT entry runs past the end of the table");
    assert_int_equal(info.cpu_count, 0);
}

static void test_cut_entry_header_refused(void **state)
{
    (void)state;
    const uint8_t entries[] = { LAPIC(0, 0, 1), 0 };
    struct acpi_madt_info info;
    assert_string_equal(parse(entries, sizeof entries, &info), "MADT entry header cut off at the end of the table");
}

static void test_disabled_and_duplicates(void **state)
{
    (void)state;
    /* ids 0 and 2 enabled, 1 disabled, 2 listed again as x2APIC, 300 only as x2APIC. */
    const uint8_t entries[] = { LAPIC(0, 0, 1), LAPIC(1, 1, 0), LAPIC(2, 2, 1), X2APIC(2, 1), X2APIC(300, 1) };
    struct acpi_madt_info info;
    assert_null(parse(entries, sizeof entries, &info));
    assert_int_equal(info.cpu_count, 3);
    assert_int_equal(info.disabled_count, 1);
    assert_int_equal(info.x2apic_entries, 1);
    assert_int_equal(info.apic_id_count, 3);
    assert_int_equal(info.apic_ids[0], 0);
    assert_int_equal(info.apic_ids[1], 2);
    assert_int_equal(info.apic_ids[2], 300);
}

static void test_no_enabled_processor_refused(void **state)
{
    (void)state;
    const uint8_t entries[] = { LAPIC(0, 0, 0), 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
    struct acpi_madt_info info;
    assert_string_equal(parse(entries, sizeof entries, &info), "MADT lists no enabled processor");
}

static void test_many_cpus_counted_beyond_kept_ids(void **state)
{
    (void)state;
    uint8_t entries[40 * 8];
    for (unsigned i = 0; i < 40; i++) {
        const uint8_t entry[] = { LAPIC((uint8_t)i, (uint8_t)i, 1) };
        memcpy(entries + i * 8, entry, 8);
    }
    struct acpi_madt_info info;
    assert_null(parse(entries, sizeof entries, &info));
    assert_int_equal(info.cpu_count, 40);
    assert_int_equal(info.apic_id_count, ACPI_MADT_MAX_APIC_IDS);
}

static void test_wrong_signature_and_short_fixed_fields(void **state)
{
    (void)state;
    uint32_t length;
    const uint8_t entries[] = { LAPIC(0, 0, 1) };
    uint8_t *madt = build_madt(entries, sizeof entries, &length);
    struct acpi_madt_info info;
    memcpy(madt, "FACP", 4);
    fix_checksum(madt, length);
    assert_string_equal(acpi_parse_madt(madt, length, &info), "not an MADT");
    memcpy(madt, "APIC", 4);
    set_length(madt, 40);
    fix_checksum(madt, 40);
    assert_string_equal(acpi_parse_madt(madt, length, &info), "MADT shorter than its fixed fields");
    free(madt);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qemu_seabios_two_cpus),
        cmocka_unit_test(test_qemu_ovmf_two_cpus),
        cmocka_unit_test(test_bochs_two_cpus),
        cmocka_unit_test(test_real_tables_bad_checksum),
        cmocka_unit_test(test_real_tables_short),
        cmocka_unit_test(test_real_tables_overlapping_entry),
        cmocka_unit_test(test_zero_length_entry_refused),
        cmocka_unit_test(test_entry_past_the_end_refused),
        cmocka_unit_test(test_cut_entry_header_refused),
        cmocka_unit_test(test_disabled_and_duplicates),
        cmocka_unit_test(test_no_enabled_processor_refused),
        cmocka_unit_test(test_many_cpus_counted_beyond_kept_ids),
        cmocka_unit_test(test_wrong_signature_and_short_fixed_fields),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
