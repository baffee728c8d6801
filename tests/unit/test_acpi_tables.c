/*
 * Unit tests for drivers/acpi/acpi_tables.c over hand-built tables: RSDP v1/v2,
 * SDT headers, the FADT fields vigil uses, and \_S5 in DSDT AML.
 *
 * Parsers are given buffers allocated at exactly the length they are told, so
 * ASan reports any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "drivers/acpi/acpi_tables.h"
#include "tests/unit/acpi_table_builders.h"

/* ---- builders --------------------------------------------------------------- */

/* An exact-size heap copy, so reading one byte too far is an ASan error. */
static uint8_t *exact(const void *bytes, size_t length)
{
    uint8_t *copy = malloc(length ? length : 1);
    assert_non_null(copy);
    memcpy(copy, bytes, length);
    return copy;
}

/* ---- checksums ---------------------------------------------------------------- */

static void test_checksum(void **state)
{
    (void)state;
    uint8_t bytes[8] = { 1, 2, 3, 4, 5, 6, 7, 0 };
    assert_false(acpi_checksum_valid(bytes, 8));
    bytes[7] = (uint8_t)(0x100 - 28);
    assert_true(acpi_checksum_valid(bytes, 8));
    assert_false(acpi_checksum_valid(bytes, 7)); /* length respected */
    bytes[3] ^= 0x80;
    assert_false(acpi_checksum_valid(bytes, 8));
    assert_true(acpi_checksum_valid(bytes, 0)); /* the empty sum is zero */
    uint8_t wraps[3] = { 0xFF, 0xFF, 0x02 };    /* 0x200: zero modulo 256 */
    assert_true(acpi_checksum_valid(wraps, 3));
}

/* ---- RSDP ---------------------------------------------------------------------- */

static void test_parse_rsdp_v1(void **state)
{
    (void)state;
    uint8_t raw[20];
    rsdp_v1(raw, 0x7FFE14A0);
    uint8_t *p = exact(raw, 20);
    struct acpi_rsdp_info info;
    memset(&info, 0xCC, sizeof info);
    assert_true(acpi_parse_rsdp(p, 20, &info));
    assert_int_equal(info.revision, 0);
    assert_int_equal(info.rsdt_address, 0x7FFE14A0);
    assert_int_equal(info.xsdt_address, 0);
    assert_false(acpi_parse_rsdp(p, 19, &info)); /* too short */
    free(p);
}

static void test_parse_rsdp_v1_rejects(void **state)
{
    (void)state;
    uint8_t raw[20];
    struct acpi_rsdp_info info;

    rsdp_v1(raw, 0x1000);
    raw[16] ^= 1; /* checksum now wrong */
    assert_false(acpi_parse_rsdp(raw, 20, &info));

    rsdp_v1(raw, 0x1000);
    raw[7] = '_'; /* "RSD PTR_" with a fixed-up checksum */
    raw[8] = checksum_byte(raw, 20, 8);
    assert_false(acpi_parse_rsdp(raw, 20, &info));
}

static void test_parse_rsdp_v2(void **state)
{
    (void)state;
    uint8_t raw[36];
    rsdp_v2(raw, 0x7FFE14A0, 0x1234567890ull);
    uint8_t *p = exact(raw, 36);
    struct acpi_rsdp_info info;
    assert_true(acpi_parse_rsdp(p, 36, &info));
    assert_int_equal(info.revision, 2);
    assert_int_equal(info.rsdt_address, 0x7FFE14A0);
    assert_int_equal(info.xsdt_address, 0x1234567890ull);
    free(p);
}

static void test_parse_rsdp_v2_xsdt_needs_extended_checksum_and_length(void **state)
{
    (void)state;
    uint8_t raw[36];
    struct acpi_rsdp_info info;

    /* Extended checksum wrong, first 20 bytes fine: the RSDT is still usable. */
    rsdp_v2(raw, 0x2000, 0x3000);
    raw[32] ^= 0x55;
    assert_true(acpi_parse_rsdp(raw, 36, &info));
    assert_int_equal(info.revision, 2);
    assert_int_equal(info.rsdt_address, 0x2000);
    assert_int_equal(info.xsdt_address, 0);

    /* Fewer than 36 bytes available: the v2 part is not looked at. */
    rsdp_v2(raw, 0x2000, 0x3000);
    uint8_t *p = exact(raw, 20);
    assert_true(acpi_parse_rsdp(p, 20, &info));
    assert_int_equal(info.xsdt_address, 0);
    free(p);
    p = exact(raw, 35);
    assert_true(acpi_parse_rsdp(p, 35, &info));
    assert_int_equal(info.xsdt_address, 0);
    free(p);

    /* A length field beyond what is available. */
    rsdp_v2(raw, 0x2000, 0x3000);
    put32(raw + 20, 40);
    raw[32] = 0;
    raw[32] = checksum_byte(raw, 36, 32); /* sums to zero over 36, but the length says 40 */
    p = exact(raw, 36);
    assert_true(acpi_parse_rsdp(p, 36, &info));
    assert_int_equal(info.xsdt_address, 0);
    free(p);

    /* A length field shorter than a v2 RSDP. */
    rsdp_v2(raw, 0x2000, 0x3000);
    put32(raw + 20, 20);
    raw[32] = checksum_byte(raw, 36, 32);
    assert_true(acpi_parse_rsdp(raw, 36, &info));
    assert_int_equal(info.xsdt_address, 0);

    /* Revision 0 ignores an XSDT address even if present. */
    rsdp_v2(raw, 0x2000, 0x3000);
    raw[15] = 0;
    raw[8] = checksum_byte(raw, 20, 8);
    raw[32] = checksum_byte(raw, 36, 32);
    assert_true(acpi_parse_rsdp(raw, 36, &info));
    assert_int_equal(info.revision, 0);
    assert_int_equal(info.xsdt_address, 0);

    /* The 20-byte checksum is required even when the extended one is good. */
    rsdp_v2(raw, 0x2000, 0x3000);
    raw[8] ^= 1;
    raw[32] = checksum_byte(raw, 36, 32);
    assert_false(acpi_parse_rsdp(raw, 36, &info));
}

static void test_find_rsdp(void **state)
{
    (void)state;
    uint8_t area[256];
    memset(area, 0xEE, sizeof area);
    rsdp_v2(area + 0x40, 0x1000, 0x2000);
    uint8_t *p = exact(area, sizeof area);
    assert_int_equal(acpi_find_rsdp(p, sizeof area), 0x40);
    free(p);

    /* At offset 0. */
    memset(area, 0, sizeof area);
    rsdp_v1(area, 0x1000);
    assert_int_equal(acpi_find_rsdp(area, sizeof area), 0);
}

static void test_find_rsdp_only_at_16_byte_offsets(void **state)
{
    (void)state;
    uint8_t area[256];
    for (unsigned offset = 1; offset < 16; offset++) {
        memset(area, 0, sizeof area);
        rsdp_v1(area + 0x40 + offset, 0x1000);
        assert_int_equal(acpi_find_rsdp(area, sizeof area), -1);
    }
    /* Misaligned decoy first, real one later. */
    memset(area, 0, sizeof area);
    rsdp_v1(area + 0x28, 0x1111);
    rsdp_v1(area + 0x80, 0x2222);
    assert_int_equal(acpi_find_rsdp(area, sizeof area), 0x80);
}

static void test_find_rsdp_skips_bad_checksum(void **state)
{
    (void)state;
    uint8_t area[256];
    memset(area, 0, sizeof area);
    rsdp_v1(area + 0x10, 0x1111);
    area[0x10 + 8] ^= 1;
    assert_int_equal(acpi_find_rsdp(area, sizeof area), -1);
    rsdp_v1(area + 0x90, 0x2222);
    assert_int_equal(acpi_find_rsdp(area, sizeof area), 0x90);
    /* Only the signature, no valid structure. */
    memset(area, 0, sizeof area);
    memcpy(area + 0x20, "RSD PTR ", 8);
    area[0x20 + 8] = 1;
    assert_int_equal(acpi_find_rsdp(area, sizeof area), -1);
}

static void test_find_rsdp_area_bounds(void **state)
{
    (void)state;
    /* A candidate whose 20 bytes do not fit is not read. */
    uint8_t raw[64];
    memset(raw, 0, sizeof raw);
    rsdp_v1(raw + 32, 0x1000);
    uint8_t *p = exact(raw, 51);
    assert_int_equal(acpi_find_rsdp(p, 51), -1);
    free(p);
    p = exact(raw, 52); /* exactly fits */
    assert_int_equal(acpi_find_rsdp(p, 52), 32);
    free(p);
    p = exact(raw, 19);
    assert_int_equal(acpi_find_rsdp(p, 19), -1);
    free(p);
    assert_int_equal(acpi_find_rsdp(raw, 0), -1);
    /* A length that is not a multiple of 16. */
    uint8_t odd[0x37];
    memset(odd, 0, sizeof odd);
    rsdp_v1(odd + 0x20, 0x5);
    p = exact(odd, sizeof odd);
    assert_int_equal(acpi_find_rsdp(p, sizeof odd), 0x20);
    free(p);
}

/* ---- SDT header ---------------------------------------------------------------- */

static void test_table_length(void **state)
{
    (void)state;
    uint8_t table[64];
    memset(table, 0, sizeof table);
    sdt_header(table, "APIC", 44, 3);
    memset(table + 36, 0x11, 8);
    fix_checksum(table, 44);
    uint8_t *p = exact(table, 44);
    assert_int_equal(acpi_table_length(p, 44), 44);
    assert_int_equal(acpi_table_length(p, 43), 0);  /* length beyond what is available */
    assert_int_equal(acpi_table_length(p, 35), 0);  /* not even a header */
    free(p);
    assert_int_equal(acpi_table_length(table, 64), 44); /* more available is fine */

    table[40] ^= 0x01; /* checksum now bad */
    assert_int_equal(acpi_table_length(table, 64), 0);
    table[40] ^= 0x01;
    assert_int_equal(acpi_table_length(table, 64), 44);

    /* A length field below the header size. */
    sdt_header(table, "SSDT", 20, 1);
    fix_checksum(table, 20);
    assert_int_equal(acpi_table_length(table, 64), 0);

    /* Header only. */
    sdt_header(table, "SSDT", 36, 1);
    fix_checksum(table, 36);
    assert_int_equal(acpi_table_length(table, 36), 36);

    /* A huge length field is refused without reading it. */
    sdt_header(table, "SSDT", 0xFFFFFFF0u, 1);
    assert_int_equal(acpi_table_length(table, 64), 0);
}

/* ---- FADT ---------------------------------------------------------------------- */

static void test_parse_fadt_v1(void **state)
{
    (void)state;
    uint8_t raw[116];
    fadt(raw, 116, 1);
    uint8_t *p = exact(raw, 116);
    struct acpi_fadt_info info;
    memset(&info, 0xCC, sizeof info);
    assert_true(acpi_parse_fadt(p, 116, &info));
    assert_int_equal(info.dsdt_address, 0x7FFE0040);
    assert_int_equal(info.smi_command_port, 0xB2);
    assert_int_equal(info.acpi_enable_value, 0xF1);
    assert_int_equal(info.pm1a_control_port, 0x604);
    assert_int_equal(info.pm1b_control_port, 0);
    assert_false(info.reset_register_valid);
    assert_int_equal(info.reset_port, 0);
    assert_int_equal(info.reset_value, 0);
    free(p);
}

static void test_parse_fadt_pm1b_and_short_lengths(void **state)
{
    (void)state;
    uint8_t raw[116];
    struct acpi_fadt_info info;
    fadt(raw, 116, 1);
    put32(raw + 68, 0x704);
    fix_checksum(raw, 116);
    assert_true(acpi_parse_fadt(raw, 116, &info));
    assert_int_equal(info.pm1b_control_port, 0x704);

    /* 76 bytes is the shortest accepted; 75 is too short. */
    fadt(raw, 76, 1);
    uint8_t *p = exact(raw, 76);
    assert_true(acpi_parse_fadt(p, 76, &info));
    assert_int_equal(info.pm1a_control_port, 0x604);
    free(p);
    fadt(raw, 75, 1);
    assert_false(acpi_parse_fadt(raw, 75, &info));
}

static void test_parse_fadt_rejects(void **state)
{
    (void)state;
    uint8_t raw[FADT_FULL_LENGTH];
    struct acpi_fadt_info info;

    fadt(raw, 116, 1);
    raw[100] ^= 0x10; /* bad checksum */
    assert_false(acpi_parse_fadt(raw, 116, &info));

    fadt(raw, 116, 1);
    memcpy(raw, "APIC", 4);
    fix_checksum(raw, 116);
    assert_false(acpi_parse_fadt(raw, 116, &info));

    fadt(raw, 116, 1);
    assert_false(acpi_parse_fadt(raw, 115, &info)); /* table longer than available */

    fadt(raw, 116, 1);
    put32(raw + 64, 0); /* no PM1a control block: cannot power off */
    fix_checksum(raw, 116);
    assert_false(acpi_parse_fadt(raw, 116, &info));
}

static void test_parse_fadt_reset_register(void **state)
{
    (void)state;
    uint8_t raw[FADT_FULL_LENGTH];
    struct acpi_fadt_info info;

    fadt(raw, FADT_FULL_LENGTH, 6);
    fadt_set_reset(raw, FADT_FULL_LENGTH, 0x01, 0xCF9, 0x06, true);
    uint8_t *p = exact(raw, FADT_FULL_LENGTH);
    assert_true(acpi_parse_fadt(p, FADT_FULL_LENGTH, &info));
    assert_true(info.reset_register_valid);
    assert_int_equal(info.reset_port, 0xCF9);
    assert_int_equal(info.reset_value, 0x06);
    free(p);

    /* RESET_REG_SUP clear: not used. */
    fadt(raw, FADT_FULL_LENGTH, 6);
    fadt_set_reset(raw, FADT_FULL_LENGTH, 0x01, 0xCF9, 0x06, false);
    assert_true(acpi_parse_fadt(raw, FADT_FULL_LENGTH, &info));
    assert_false(info.reset_register_valid);
    assert_int_equal(info.reset_port, 0);

    /* System memory space (0x00) and PCI config space (0x02) are not I/O ports. */
    for (uint8_t space = 0; space <= 2; space += 2) {
        fadt(raw, FADT_FULL_LENGTH, 6);
        fadt_set_reset(raw, FADT_FULL_LENGTH, space, 0xCF9, 0x06, true);
        assert_true(acpi_parse_fadt(raw, FADT_FULL_LENGTH, &info));
        assert_false(info.reset_register_valid);
    }

    /* 129 bytes reach RESET_VALUE; 128 do not. */
    fadt(raw, 129, 2);
    fadt_set_reset(raw, 129, 0x01, 0x64, 0xFE, true);
    p = exact(raw, 129);
    assert_true(acpi_parse_fadt(p, 129, &info));
    assert_true(info.reset_register_valid);
    assert_int_equal(info.reset_port, 0x64);
    assert_int_equal(info.reset_value, 0xFE);
    free(p);
    fadt(raw, FADT_FULL_LENGTH, 2);
    fadt_set_reset(raw, FADT_FULL_LENGTH, 0x01, 0x64, 0xFE, true);
    put32(raw + 4, 128);
    fix_checksum(raw, 128);
    p = exact(raw, 128);
    assert_true(acpi_parse_fadt(p, 128, &info));
    assert_false(info.reset_register_valid);
    free(p);
}

static void test_parse_fadt_x_dsdt(void **state)
{
    (void)state;
    uint8_t raw[FADT_FULL_LENGTH];
    struct acpi_fadt_info info;

    fadt(raw, FADT_FULL_LENGTH, 6);
    put64(raw + 140, 0x123456789000ull);
    fix_checksum(raw, FADT_FULL_LENGTH);
    assert_true(acpi_parse_fadt(raw, FADT_FULL_LENGTH, &info));
    assert_int_equal(info.dsdt_address, 0x123456789000ull);

    /* X_DSDT zero: the 32-bit DSDT stays. */
    fadt(raw, FADT_FULL_LENGTH, 6);
    put64(raw + 140, 0);
    fix_checksum(raw, FADT_FULL_LENGTH);
    assert_true(acpi_parse_fadt(raw, FADT_FULL_LENGTH, &info));
    assert_int_equal(info.dsdt_address, 0x7FFE0040);

    /* Exactly through X_DSDT (148 bytes). */
    fadt(raw, FADT_FULL_LENGTH, 3);
    put64(raw + 140, 0xABCD0000ull);
    put32(raw + 4, 148);
    fix_checksum(raw, 148);
    uint8_t *p = exact(raw, 148);
    assert_true(acpi_parse_fadt(p, 148, &info));
    assert_int_equal(info.dsdt_address, 0xABCD0000ull);
    free(p);

    /* A table that ends before X_DSDT does not have it, whatever follows in memory. */
    fadt(raw, FADT_FULL_LENGTH, 3);
    put64(raw + 140, 0xABCD0000ull);
    put32(raw + 4, 147);
    fix_checksum(raw, 147);
    assert_true(acpi_parse_fadt(raw, sizeof raw, &info));
    assert_int_equal(info.dsdt_address, 0x7FFE0040);
}

/* ---- \_S5 in AML ----------------------------------------------------------------- */

static bool find_s5(const uint8_t *aml, size_t length, struct acpi_sleep_type *out)
{
    uint8_t *p = exact(aml, length);
    out->pm1a = out->pm1b = 0xEE;
    bool found = acpi_find_s5_sleep_type(p, length, out);
    free(p);
    return found;
}

#define S5_NAME 0x5F, 0x53, 0x35, 0x5F

static void test_s5_byte_prefix(void **state)
{
    (void)state;
    struct acpi_sleep_type sleep;
    /* Name(_S5_, Package(){0x05, 0x05, 0, 0}) */
    const uint8_t aml[] = { 0x08, S5_NAME, 0x12, 0x0A, 0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00 };
    assert_true(find_s5(aml, sizeof aml, &sleep));
    assert_int_equal(sleep.pm1a, 5);
    assert_int_equal(sleep.pm1b, 5);
    /* Different values, so a swap would show. */
    const uint8_t distinct[] = { 0x08, S5_NAME, 0x12, 0x0A, 0x04, 0x0A, 0x07, 0x0A, 0x03, 0x00, 0x00 };
    assert_true(find_s5(distinct, sizeof distinct, &sleep));
    assert_int_equal(sleep.pm1a, 7);
    assert_int_equal(sleep.pm1b, 3);
}

static void test_s5_root_and_parent_prefix(void **state)
{
    (void)state;
    struct acpi_sleep_type sleep;
    const uint8_t root[] = { 0x08, '\\', S5_NAME, 0x12, 0x0A, 0x04, 0x0A, 0x06, 0x0A, 0x02, 0x00, 0x00 };
    assert_true(find_s5(root, sizeof root, &sleep));
    assert_int_equal(sleep.pm1a, 6);
    assert_int_equal(sleep.pm1b, 2);
    const uint8_t parent[] = { 0x08, '^', S5_NAME, 0x12, 0x06, 0x04, 0x0A, 0x04, 0x0A, 0x01, 0x00, 0x00 };
    assert_true(find_s5(parent, sizeof parent, &sleep));
    assert_int_equal(sleep.pm1a, 4);
    assert_int_equal(sleep.pm1b, 1);
    /* Some other byte between NameOp and the name is not a prefix. */
    const uint8_t other[] = { 0x08, 'X', S5_NAME, 0x12, 0x0A, 0x04, 0x0A, 0x06, 0x0A, 0x02, 0x00, 0x00 };
    assert_false(find_s5(other, sizeof other, &sleep));
}

static void test_s5_zero_and_one_ops(void **state)
{
    (void)state;
    struct acpi_sleep_type sleep;
    const uint8_t zero_one[] = { 0x08, S5_NAME, 0x12, 0x06, 0x04, 0x00, 0x01, 0x00, 0x00 };
    assert_true(find_s5(zero_one, sizeof zero_one, &sleep));
    assert_int_equal(sleep.pm1a, 0);
    assert_int_equal(sleep.pm1b, 1);
    const uint8_t one_byte[] = { 0x08, S5_NAME, 0x12, 0x07, 0x04, 0x01, 0x0A, 0x07, 0x00, 0x00 };
    assert_true(find_s5(one_byte, sizeof one_byte, &sleep));
    assert_int_equal(sleep.pm1a, 1);
    assert_int_equal(sleep.pm1b, 7);
    const uint8_t byte_zero[] = { 0x08, S5_NAME, 0x12, 0x07, 0x02, 0x0A, 0x07, 0x00 };
    assert_true(find_s5(byte_zero, sizeof byte_zero, &sleep));
    assert_int_equal(sleep.pm1a, 7);
    assert_int_equal(sleep.pm1b, 0);
}

static void test_s5_multi_byte_pkglength(void **state)
{
    (void)state;
    struct acpi_sleep_type sleep;
    /* Lead byte 0x4A: one more PkgLength byte (length 0x0A | 0x00 << 4). */
    const uint8_t two[] = { 0x08, S5_NAME, 0x12, 0x4A, 0x00, 0x04, 0x0A, 0x05, 0x0A, 0x06, 0x00, 0x00 };
    assert_true(find_s5(two, sizeof two, &sleep));
    assert_int_equal(sleep.pm1a, 5);
    assert_int_equal(sleep.pm1b, 6);
    /* Lead byte 0x8B: two more bytes. */
    const uint8_t three[] = { 0x08, S5_NAME, 0x12, 0x8B, 0x00, 0x00, 0x04, 0x0A, 0x03, 0x0A, 0x04, 0x00, 0x00 };
    assert_true(find_s5(three, sizeof three, &sleep));
    assert_int_equal(sleep.pm1a, 3);
    assert_int_equal(sleep.pm1b, 4);
    /* Lead byte 0xCC: three more bytes. */
    const uint8_t four[] = { 0x08, S5_NAME, 0x12, 0xCC, 0x00, 0x00, 0x00, 0x04, 0x01, 0x0A, 0x09, 0x00, 0x00 };
    assert_true(find_s5(four, sizeof four, &sleep));
    assert_int_equal(sleep.pm1a, 1);
    assert_int_equal(sleep.pm1b, 9);
}

static void test_s5_not_a_name(void **state)
{
    (void)state;
    struct acpi_sleep_type sleep;
    /* Store(_S5_, Local0) — a reference to _S5_, not its definition — and nothing else. */
    const uint8_t store[] = { 0x70, S5_NAME, 0x60, 0x12, 0x0A, 0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00 };
    assert_false(find_s5(store, sizeof store, &sleep));
    /* Return(_S5_) followed by bytes that happen to look like a package. */
    const uint8_t call[] = { 0xA4, S5_NAME, 0x12, 0x0A, 0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00 };
    assert_false(find_s5(call, sizeof call, &sleep));
    /* "_S5_" at the very start of the AML: nothing before it to read. */
    const uint8_t start[] = { S5_NAME, 0x12, 0x0A, 0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00 };
    assert_false(find_s5(start, sizeof start, &sleep));
    /* Name(_S5_, 5): a Name, but not of a Package. */
    const uint8_t integer[] = { 0x08, S5_NAME, 0x0A, 0x05, 0x0A, 0x05, 0x0A, 0x05 };
    assert_false(find_s5(integer, sizeof integer, &sleep));
    /* Name(_S4_, Package(){...}) is not _S5_. */
    const uint8_t s4[] = { 0x08, 0x5F, 0x53, 0x34, 0x5F, 0x12, 0x0A, 0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00 };
    assert_false(find_s5(s4, sizeof s4, &sleep));
}

static void test_s5_reference_before_definition(void **state)
{
    (void)state;
    struct acpi_sleep_type sleep;
    /* A method that returns _S5_ comes first; the real Name follows. */
    const uint8_t aml[] = {
        0x14, 0x08, 'F', 'O', 'O', '_', 0x00, 0xA4, S5_NAME,            /* Method(FOO_) { Return(_S5_) } */
        0x08, '\\', S5_NAME, 0x12, 0x0A, 0x04, 0x0A, 0x05, 0x0A, 0x06, 0x00, 0x00,
    };
    assert_true(find_s5(aml, sizeof aml, &sleep));
    assert_int_equal(sleep.pm1a, 5);
    assert_int_equal(sleep.pm1b, 6);
}

static void test_s5_unsupported_element_encoding(void **state)
{
    (void)state;
    struct acpi_sleep_type sleep;
    /* WordPrefix (0x0B) is not a small integer as read here. */
    const uint8_t word[] = { 0x08, S5_NAME, 0x12, 0x0B, 0x04, 0x0B, 0x05, 0x00, 0x0A, 0x05, 0x00, 0x00 };
    assert_false(find_s5(word, sizeof word, &sleep));
    const uint8_t second_word[] = { 0x08, S5_NAME, 0x12, 0x0B, 0x04, 0x0A, 0x05, 0x0B, 0x05, 0x00, 0x00, 0x00 };
    assert_false(find_s5(second_word, sizeof second_word, &sleep));
}

static void test_s5_truncated(void **state)
{
    (void)state;
    struct acpi_sleep_type sleep;
    const uint8_t full[] = { 0x08, S5_NAME, 0x12, 0x0A, 0x04, 0x0A, 0x05, 0x0A, 0x06, 0x00, 0x00 };
    /* Every cut before the second value's last byte fails, without reading past the end. */
    const size_t needed = 12; /* through the 0x06 of the second BytePrefix */
    for (size_t length = 0; length < needed; length++)
        if (find_s5(full, length, &sleep))
            fail_msg("found _S5_ in the first %zu bytes", length);
    assert_true(find_s5(full, needed, &sleep));
    assert_int_equal(sleep.pm1a, 5);
    assert_int_equal(sleep.pm1b, 6);
    /* The same with a multi-byte PkgLength cut inside it. */
    const uint8_t multi[] = { 0x08, S5_NAME, 0x12, 0x8B, 0x00, 0x00, 0x04, 0x0A, 0x03, 0x0A, 0x04 };
    for (size_t length = 0; length < sizeof multi; length++)
        assert_false(find_s5(multi, length, &sleep));
    assert_true(find_s5(multi, sizeof multi, &sleep));
}

static void test_s5_in_dsdt(void **state)
{
    (void)state;
    /* A DSDT: header, some unrelated AML, then Scope(\) { Name(_S5_, ...) } */
    uint8_t table[128];
    memset(table, 0, sizeof table);
    const uint8_t body[] = {
        0x08, 'P', 'I', 'C', 'D', 0x00,                                 /* Name(PICD, Zero) */
        0x10, 0x12, '\\',                                              /* Scope(\) ... */
        0x08, S5_NAME, 0x12, 0x0A, 0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00,
        0x08, 0x5F, 0x53, 0x33, 0x5F, 0x12, 0x06, 0x02, 0x0A, 0x01, 0x0A, 0x01, /* Name(_S3_, ...) after */
    };
    uint32_t length = ACPI_SDT_HEADER_LENGTH + (uint32_t)sizeof body;
    sdt_header(table, "DSDT", length, 2);
    memcpy(table + ACPI_SDT_HEADER_LENGTH, body, sizeof body);
    fix_checksum(table, length);
    assert_int_equal(acpi_table_length(table, sizeof table), length);
    struct acpi_sleep_type sleep;
    assert_true(find_s5(table + ACPI_SDT_HEADER_LENGTH, length - ACPI_SDT_HEADER_LENGTH, &sleep));
    assert_int_equal(sleep.pm1a, 5);
    assert_int_equal(sleep.pm1b, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checksum),
        cmocka_unit_test(test_parse_rsdp_v1),
        cmocka_unit_test(test_parse_rsdp_v1_rejects),
        cmocka_unit_test(test_parse_rsdp_v2),
        cmocka_unit_test(test_parse_rsdp_v2_xsdt_needs_extended_checksum_and_length),
        cmocka_unit_test(test_find_rsdp),
        cmocka_unit_test(test_find_rsdp_only_at_16_byte_offsets),
        cmocka_unit_test(test_find_rsdp_skips_bad_checksum),
        cmocka_unit_test(test_find_rsdp_area_bounds),
        cmocka_unit_test(test_table_length),
        cmocka_unit_test(test_parse_fadt_v1),
        cmocka_unit_test(test_parse_fadt_pm1b_and_short_lengths),
        cmocka_unit_test(test_parse_fadt_rejects),
        cmocka_unit_test(test_parse_fadt_reset_register),
        cmocka_unit_test(test_parse_fadt_x_dsdt),
        cmocka_unit_test(test_s5_byte_prefix),
        cmocka_unit_test(test_s5_root_and_parent_prefix),
        cmocka_unit_test(test_s5_zero_and_one_ops),
        cmocka_unit_test(test_s5_multi_byte_pkglength),
        cmocka_unit_test(test_s5_not_a_name),
        cmocka_unit_test(test_s5_reference_before_definition),
        cmocka_unit_test(test_s5_unsupported_element_encoding),
        cmocka_unit_test(test_s5_truncated),
        cmocka_unit_test(test_s5_in_dsdt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
