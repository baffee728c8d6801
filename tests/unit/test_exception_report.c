/*
 * Unit tests for the report of a CPU exception in the hypervisor
 * (arch/x86_64/exception_report.c) from a fake frame: the names of the vectors,
 * every register in its place, a stack overflow into a guard page named, and the
 * stack dump — eight words when the dispatcher found RSP aligned and mapped (a page
 * the test maps), one "not dumpable" line otherwise, never a read through a bad RSP.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "arch/x86_64/exception.h"
#include "tests/unit/log_capture.h"

static int setup(void **state)
{
    (void)state;
    log_capture_reset();
    return 0;
}

#define assert_output_has(expected)                                                                                    \
    do {                                                                                                               \
        if (strstr(log_capture.text, (expected)) == NULL)                                                              \
            fail_msg("output lacks \"%s\":\n%s", (expected), log_capture.text);                                       \
    } while (0)

static struct exception_frame sample_frame(uint64_t rsp)
{
    struct exception_frame frame = {
        .r15 = 0xF15, .r14 = 0xF14, .r13 = 0xF13, .r12 = 0xF12, .r11 = 0xF11, .r10 = 0xF10, .r9 = 0xF09,
        .r8 = 0xF08, .rbp = 0xB0, .rdi = 0xD1, .rsi = 0x51, .rdx = 0xD0, .rcx = 0xC0, .rbx = 0xB1,
        .rax = 0xFFFFFFFFFFFFFFFFull, .vector = 14, .error_code = 0x2, .rip = 0x1234567, .cs = 0x8,
        .rflags = 0x10046, .rsp = rsp, .ss = 0x10,
    };
    return frame;
}

static struct exception_state state_with(bool stack_readable)
{
    struct exception_state state = {0x80050033, 0xDEAD000, 0x105000, 0x2020, NULL, stack_readable};
    return state;
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(exception_name(0), "#DE divide error");
    assert_string_equal(exception_name(2), "NMI");
    assert_string_equal(exception_name(8), "#DF double fault");
    assert_string_equal(exception_name(13), "#GP general protection");
    assert_string_equal(exception_name(14), "#PF page fault");
    assert_string_equal(exception_name(31), "reserved 31");
    assert_string_equal(exception_name(32), "external interrupt");
    assert_string_equal(exception_name(UINT64_MAX), "external interrupt");
}

static void test_report_registers(void **state)
{
    (void)state;
    struct exception_frame frame = sample_frame(0x7); /* misaligned: no dump, even if "readable" */
    struct exception_state state_readable = state_with(true);
    exception_report(&frame, &state_readable);
    assert_output_has("vigil: EXCEPTION #PF page fault (vector 14) error=0x2 rip=0x1234567 rsp=0x7 cr2=0xdead000\n");
    assert_output_has("vigil:   cs=0x8 ss=0x10 rflags=0x10046 cr0=0x80050033 cr3=0x105000 cr4=0x2020\n");
    assert_output_has("vigil:   rax=ffffffffffffffff rbx=00000000000000b1 rcx=00000000000000c0 rdx=00000000000000d0\n");
    assert_output_has("vigil:   rsi=0000000000000051 rdi=00000000000000d1 rbp=00000000000000b0 r8 =0000000000000f08\n");
    assert_output_has("vigil:   r9 =0000000000000f09 r10=0000000000000f10 r11=0000000000000f11 r12=0000000000000f12\n");
    assert_output_has("vigil:   r13=0000000000000f13 r14=0000000000000f14 r15=0000000000000f15\n");
    assert_output_has("vigil:   stack: rsp 0x7 not dumpable\n");
    /* every line is vigil's */
    for (const char *line = log_capture.text; *line != '\0'; line = strchr(line, '\n') + 1)
        assert_true(strncmp(line, "vigil: ", 7) == 0);
}

static void test_unreadable_stack_not_read(void **state)
{
    (void)state;
    /* what the dispatcher found unmapped (a guard page, nothing there) is never read */
    static const uint64_t bad[] = {0, 0x800, 0xFFFFFFC8ull, 0x100000000ull, 0xFFFFFFFFFFFFFFF8ull, 0x20000000};
    struct exception_state unreadable = state_with(false);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        setup(NULL);
        struct exception_frame frame = sample_frame(bad[i]);
        exception_report(&frame, &unreadable); /* a read there would crash the test */
        assert_output_has("not dumpable\n");
        assert_null(strstr(log_capture.text, "[rsp+"));
    }
}

static void test_stack_dump(void **state)
{
    (void)state;
    /* a page in the low 4 GiB, where the hypervisor's identity map reads the stack */
    uint64_t *page = mmap((void *)0x20000000, 4096, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (page == MAP_FAILED)
        fail_msg("cannot map a test page at 0x20000000");
    for (unsigned i = 0; i < 512; i++)
        page[i] = 0x1111111111111111ull * (i % 15 + 1);
    struct exception_frame frame = sample_frame(0x20000000 + 8 * 10);
    struct exception_state readable = state_with(true);
    exception_report(&frame, &readable);
    assert_output_has("vigil:   [rsp+0x00] bbbbbbbbbbbbbbbb cccccccccccccccc\n");
    assert_output_has("vigil:   [rsp+0x10] dddddddddddddddd eeeeeeeeeeeeeeee\n");
    assert_output_has("vigil:   [rsp+0x20] ffffffffffffffff 1111111111111111\n");
    assert_output_has("vigil:   [rsp+0x30] 2222222222222222 3333333333333333\n");
    assert_null(strstr(log_capture.text, "[rsp+0x40]"));
    munmap(page, 4096);
}

static void test_stack_overflow_named(void **state)
{
    (void)state;
    struct exception_frame frame = sample_frame(0x1000);
    struct exception_state overflow = state_with(false);
    overflow.overflowed_stack = "boot";
    exception_report(&frame, &overflow);
    assert_output_has("vigil:   stack overflow: the boot stack ran into its guard page\n"
                      "vigil:   stack: rsp 0x1000 not dumpable\n");
    setup(NULL);
    overflow.overflowed_stack = NULL;
    exception_report(&frame, &overflow);
    assert_null(strstr(log_capture.text, "overflow"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_names, setup),
        cmocka_unit_test_setup(test_report_registers, setup),
        cmocka_unit_test_setup(test_unreadable_stack_not_read, setup),
        cmocka_unit_test_setup(test_stack_dump, setup),
        cmocka_unit_test_setup(test_stack_overflow_named, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
