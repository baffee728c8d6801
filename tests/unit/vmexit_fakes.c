/* Link-time fakes for the VM-exit unit tests: see vmexit_fakes.h. */
#include "vmexit_fakes.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/port_io.h"
#include "arch/x86_64/vmx_entry.h"
#include "hv/msr_policy.h"
#include "hv/event_injection.h"
#include "hv/log.h"
#include "hv/panic.h"
#include "hv/service.h"
#include "hv/timer.h"

struct vcpu the_vcpu;

/* ---- VMCS field map --------------------------------------------------------- */

#define MAX_FIELDS 128

struct fake_field {
    uint32_t field;
    uint64_t value;
    unsigned writes;
    enum vmx_result fail;
};

static struct fake_field fields[MAX_FIELDS];
static unsigned field_count;

void fake_vmcs_reset(void)
{
    memset(fields, 0, sizeof fields);
    field_count = 0;
}

static struct fake_field *find_field(uint32_t field, bool create)
{
    for (unsigned i = 0; i < field_count; i++)
        if (fields[i].field == field)
            return &fields[i];
    if (!create)
        return NULL;
    if (field_count == MAX_FIELDS) {
        fail_msg("fake VMCS: more than %u fields", MAX_FIELDS);
        abort();
    }
    fields[field_count].field = field;
    return &fields[field_count++];
}

void fake_vmcs_set(uint32_t field, uint64_t value)
{
    struct fake_field *f = find_field(field, true);
    f->value = value;
    f->writes = 0;
}

uint64_t fake_vmcs_get(uint32_t field)
{
    const struct fake_field *f = find_field(field, false);
    return f ? f->value : 0;
}

unsigned fake_vmcs_write_count(uint32_t field)
{
    const struct fake_field *f = find_field(field, false);
    return f ? f->writes : 0;
}

void fake_vmcs_fail(uint32_t field, enum vmx_result result, uint32_t instruction_error)
{
    find_field(field, true)->fail = result;
    if (result == VMX_FAIL_VALID)
        find_field(VMCS_VM_INSTRUCTION_ERROR, true)->value = instruction_error;
}

static uint64_t width_mask(uint32_t field)
{
    switch (VMCS_FIELD_WIDTH(field)) {
    case VMCS_WIDTH_16: return 0xFFFF;
    case VMCS_WIDTH_32: return 0xFFFFFFFF;
    default: return UINT64_MAX;
    }
}

enum vmx_result vmcs_read_raw(uint32_t field, uint64_t *value)
{
    const struct fake_field *f = find_field(field, false);
    if (f && f->fail != VMX_SUCCEEDED)
        return f->fail;
    *value = f ? f->value & width_mask(field) : 0;
    return VMX_SUCCEEDED;
}

enum vmx_result vmcs_write_raw(uint32_t field, uint64_t value)
{
    struct fake_field *f = find_field(field, true);
    if (f->fail != VMX_SUCCEEDED)
        return f->fail;
    if (((field >> 10) & 3) == 1) { /* read-only data fields (SDM Vol. 3C §31.4 error 13) */
        find_field(VMCS_VM_INSTRUCTION_ERROR, true)->value = 13;
        return VMX_FAIL_VALID;
    }
    f->value = value & width_mask(field);
    f->writes++;
    return VMX_SUCCEEDED;
}

/* ---- noreturn ends ------------------------------------------------------------ */

struct fake_outcome fake_outcome;
static jmp_buf *jump_target;

static __attribute__((noreturn)) void end(enum fake_outcome_kind kind)
{
    fake_outcome.kind = kind;
    if (!jump_target) {
        fail_msg("unexpected noreturn end %d outside fake_run: %s", (int)kind, fake_outcome.message);
        abort();
    }
    longjmp(*jump_target, 1);
}

enum fake_outcome_kind fake_run(void (*fn)(void *), void *argument)
{
    jmp_buf here;
    memset(&fake_outcome, 0, sizeof fake_outcome);
    jump_target = &here;
    if (setjmp(here) == 0) {
        fn(argument);
        jump_target = NULL;
        return FAKE_RETURNED;
    }
    jump_target = NULL;
    return fake_outcome.kind;
}

void panic(const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    vsnprintf(fake_outcome.message, sizeof fake_outcome.message, format, arguments);
    va_end(arguments);
    end(FAKE_PANIC);
}

void panic_apply_policy(void) { end(FAKE_PANIC_POLICY); }

void hv_stop_after_guest(const char *reason)
{
    snprintf(fake_outcome.message, sizeof fake_outcome.message, "%s", reason);
    end(FAKE_GUEST_STOPPED);
}

void hv_power_off(const char *reason)
{
    snprintf(fake_outcome.message, sizeof fake_outcome.message, "%s", reason);
    end(FAKE_POWER_OFF);
}

/* The guest ended: the outcome is how (guest_ending), the message its reason. */
static __attribute__((noreturn)) void guest_ended(void)
{
    const struct guest_end *ending = guest_ending();
    assert_non_null(ending);
    snprintf(fake_outcome.message, sizeof fake_outcome.message, "%s", ending->reason);
    end(ending->kind == GUEST_END_POWERED_OFF ? FAKE_POWER_OFF : FAKE_GUEST_STOPPED);
}

/* ---- the guest entry: one scripted exit ----------------------------------------- */

static struct guest_registers *scripted_registers;
static unsigned guest_entries;

/* The first entry (the launch) comes back at once with the scripted exit; the
 * next one means the run loop resumed the guest: the test learns what the guest
 * gets, and the run ends there. */
enum vmx_result vmx_enter_guest(struct guest_registers *registers, bool launched)
{
    if (guest_entries++ == 0) {
        assert_false(launched);
        *registers = *scripted_registers;
        return VMX_SUCCEEDED;
    }
    assert_true(launched);
    *scripted_registers = *registers;
    end(FAKE_RETURNED);
}

char vmx_guest_exit[1];

static void run_guest(void *argument)
{
    (void)argument;
    vcpu_run(&the_vcpu);
    *scripted_registers = the_vcpu.registers;
    guest_ended();
}

enum fake_outcome_kind fake_dispatch(uint32_t exit_reason, uint64_t qualification, struct guest_registers *registers)
{
    fake_vmcs_set(VMCS_EXIT_REASON, exit_reason);
    fake_vmcs_set(VMCS_EXIT_QUALIFICATION, qualification);
    scripted_registers = registers;
    guest_entries = 0;
    the_vcpu.launched = false;
    return fake_run(run_guest, NULL);
}

static vmexit_handler *handler_to_call;

static void run_handler(void *argument)
{
    (void)argument;
    if (handler_to_call(&the_vcpu) == VMEXIT_GUEST_ENDED)
        guest_ended();
}

enum fake_outcome_kind fake_handle(vmexit_handler *handler, uint32_t reason, uint64_t qualification,
                                   struct guest_registers *registers)
{
    the_vcpu.registers = *registers;
    the_vcpu.exit_reason = reason;
    the_vcpu.exit_entry_failed = false;
    the_vcpu.exit_qualification = qualification;
    handler_to_call = handler;
    enum fake_outcome_kind outcome = fake_run(run_handler, NULL);
    *registers = the_vcpu.registers;
    return outcome;
}

/* ---- log -------------------------------------------------------------------- */

static char log_buffer[16384];
static size_t log_used;

void fake_log_reset(void)
{
    log_used = 0;
    log_buffer[0] = 0;
}

const char *fake_log_text(void) { return log_buffer; }

unsigned fake_log_count(const char *needle)
{
    unsigned count = 0;
    size_t length = strlen(needle);
    for (const char *at = strstr(log_buffer, needle); at && length; at = strstr(at + length, needle))
        count++;
    return count;
}

void log_write(const char *text, size_t length)
{
    size_t room = sizeof log_buffer - 1 - log_used;
    if (length > room)
        length = room;
    memcpy(log_buffer + log_used, text, length);
    log_used += length;
    log_buffer[log_used] = 0;
}

static void log_vformat(const char *prefix, const char *format, va_list arguments, bool newline)
{
    char line[1024];
    int used = snprintf(line, sizeof line, "%s", prefix);
    used += vsnprintf(line + used, sizeof line - (size_t)used, format, arguments);
    if ((size_t)used >= sizeof line - 1)
        used = (int)sizeof line - 2;
    if (newline)
        line[used++] = '\n';
    log_write(line, (size_t)used);
}

void log_raw_printf(const char *format, ...)
{
    va_list arguments;
    va_start(arguments, format);
    log_vformat("", format, arguments, false);
    va_end(arguments);
}

void log_message(enum log_level level, const char *format, ...)
{
    static const char *const prefixes[] = {
        [LOG_ERROR] = "vigil: error: ", [LOG_WARN] = "vigil: warning: ", [LOG_INFO] = "vigil: ",
        [LOG_DEBUG] = "vigil: debug: ", [LOG_TRACE] = "vigil: trace: ",
    };
    va_list arguments;
    va_start(arguments, format);
    log_vformat(prefixes[level], format, arguments, true);
    va_end(arguments);
}

/* ---- MSRs ------------------------------------------------------------------- */

#define MAX_MSRS 32

struct fake_msr {
    uint32_t msr;
    uint64_t value;
    bool refuse_writes;
};

static struct fake_msr msrs[MAX_MSRS];
static unsigned msr_count, msr_reads, msr_writes;

void fake_msr_reset(void)
{
    memset(msrs, 0, sizeof msrs);
    msr_count = msr_reads = msr_writes = 0;
}

static struct fake_msr *find_msr(uint32_t msr)
{
    for (unsigned i = 0; i < msr_count; i++)
        if (msrs[i].msr == msr)
            return &msrs[i];
    return NULL;
}

void fake_msr_set(uint32_t msr, uint64_t value)
{
    struct fake_msr *m = find_msr(msr);
    if (!m) {
        assert_true(msr_count < MAX_MSRS);
        m = &msrs[msr_count++];
        m->msr = msr;
    }
    m->value = value;
}

void fake_msr_refuse_writes(uint32_t msr)
{
    struct fake_msr *m = find_msr(msr);
    assert_non_null(m);
    m->refuse_writes = true;
}

bool fake_msr_get(uint32_t msr, uint64_t *value)
{
    const struct fake_msr *m = find_msr(msr);
    if (m)
        *value = m->value;
    return m != NULL;
}

unsigned fake_msr_read_count(void) { return msr_reads; }
unsigned fake_msr_write_count(void) { return msr_writes; }

bool cpu_read_msr_checked(uint32_t msr, uint64_t *value)
{
    msr_reads++;
    return fake_msr_get(msr, value);
}

bool cpu_write_msr_checked(uint32_t msr, uint64_t value)
{
    msr_writes++;
    struct fake_msr *m = find_msr(msr);
    if (!m || m->refuse_writes)
        return false;
    m->value = value;
    return true;
}

/* ---- I/O ports -------------------------------------------------------------- */

#define MAX_PORT_ACCESSES 32

static struct fake_port_access port_accesses[MAX_PORT_ACCESSES];
static unsigned port_access_count;
static uint32_t port_input;

void fake_ports_reset(void)
{
    port_access_count = 0;
    port_input = 0;
}

void fake_ports_set_input(uint32_t value) { port_input = value; }
unsigned fake_port_access_count(void) { return port_access_count; }

const struct fake_port_access *fake_port_access(unsigned index)
{
    assert_true(index < port_access_count);
    return &port_accesses[index];
}

static uint32_t port_access(uint16_t port, unsigned size, bool is_out, uint32_t value)
{
    assert_true(port_access_count < MAX_PORT_ACCESSES);
    uint32_t mask = size == 4 ? 0xFFFFFFFFu : (1u << (size * 8)) - 1;
    if (!is_out)
        value = port_input & mask;
    port_accesses[port_access_count++] = (struct fake_port_access){ port, size, is_out, value };
    return value;
}

uint8_t port_in8(uint16_t port) { return (uint8_t)port_access(port, 1, false, 0); }
uint16_t port_in16(uint16_t port) { return (uint16_t)port_access(port, 2, false, 0); }
uint32_t port_in32(uint16_t port) { return port_access(port, 4, false, 0); }
void port_out8(uint16_t port, uint8_t value) { port_access(port, 1, true, value); }
void port_out16(uint16_t port, uint16_t value) { port_access(port, 2, true, value); }
void port_out32(uint16_t port, uint32_t value) { port_access(port, 4, true, value); }

/* ---- bitmap intercepts ---------------------------------------------------------- */

#define MAX_INTERCEPTS 128

static struct fake_io_intercept io_intercepts[MAX_INTERCEPTS];
static unsigned io_intercept_count;

void fake_intercepts_reset(void) { io_intercept_count = 0; }
unsigned fake_io_intercept_count(void) { return io_intercept_count; }

const struct fake_io_intercept *fake_io_intercept(unsigned index)
{
    assert_true(index < io_intercept_count);
    return &io_intercepts[index];
}

void vcpu_intercept_io_ports(struct vcpu *vcpu, uint16_t port, unsigned count)
{
    assert_ptr_equal(vcpu, &the_vcpu);
    assert_true(io_intercept_count < MAX_INTERCEPTS);
    io_intercepts[io_intercept_count++] = (struct fake_io_intercept){ port, count };
}

/* ---- the local APIC ----------------------------------------------------------------- */

static uint32_t apic_registers[1024];
static unsigned apic_writes;

void fake_apic_reset(void)
{
    memset(apic_registers, 0, sizeof apic_registers);
    apic_writes = 0;
}
void fake_apic_set(unsigned offset, uint32_t value) { apic_registers[(offset & 0xFFF) / 4] = value; }
uint32_t fake_apic_get(unsigned offset) { return apic_registers[(offset & 0xFFF) / 4]; }
unsigned fake_apic_write_count(void) { return apic_writes; }
uint32_t apic_mmio_read(uint64_t address) { return apic_registers[(address & 0xFFF) / 4]; }

void apic_mmio_write(uint64_t address, uint32_t value)
{
    apic_writes++;
    apic_registers[(address & 0xFFF) / 4] = value;
}

/* ---- NMIs vigil took itself (arch/x86_64/exception.c) ---------------------------- */

volatile uint64_t exception_host_nmi_count;

/* ---- timer -------------------------------------------------------------------- */

unsigned fake_timer_ticks;
enum service_tick_result fake_timer_result;

uint32_t fake_preemption_value = 12345;
uint64_t timer_next_due; /* 0: work is always due, so every exit runs it */
uint32_t fake_preemption_value_after_tick;
uint64_t fake_tsc_frequency = 100000000u;
uint64_t clock_tsc_frequency(void) { return fake_tsc_frequency; }
enum service_tick_result timer_run_due(void)
{
    fake_timer_ticks++;
    if (fake_preemption_value_after_tick)
        fake_preemption_value = fake_preemption_value_after_tick; /* the work moved the next deadline */
    return fake_timer_result;
}
uint32_t timer_preemption_value(void) { return fake_preemption_value; }

/* ---- guest service -------------------------------------------------------------- */

struct fake_service fake_service;

bool service_active(void) { return fake_service.active; }

void service_cpuid_shared_region(uint32_t registers[4]) { memcpy(registers, fake_service.shared_region, 16); }

uint32_t service_doorbell(void)
{
    fake_service.doorbells++;
    return fake_service.doorbell_result;
}

void service_guest_ended(enum guest_service_event_kind why, const char *detail)
{
    fake_service.ended++;
    fake_service.ended_kind = why;
    snprintf(fake_service.ended_detail, sizeof fake_service.ended_detail, "%s", detail);
}

/* ---- all -------------------------------------------------------------------- */

void fake_reset_all(void)
{
    memset(&the_vcpu, 0, sizeof the_vcpu); /* no queued interrupt either: the queue is the vCPU's */
    fake_vmcs_reset();
    /* The statistics object is not const (only the getter's view is): zero it between tests. */
    memset((struct vmexit_statistics *)vmexit_get_statistics(), 0, sizeof(struct vmexit_statistics));
    memset(&fake_outcome, 0, sizeof fake_outcome);
    fake_log_reset();
    msr_policy_start(NULL); /* MSR counters and virtual MSR values back to zero */
    fake_msr_reset();
    fake_ports_reset();
    fake_intercepts_reset();
    fake_timer_ticks = 0;
    fake_timer_result = SERVICE_GUEST_CONTINUES;
    fake_preemption_value = 12345;
    fake_preemption_value_after_tick = 0;
    memset(&fake_service, 0, sizeof fake_service);
    exception_host_nmi_count = 0;
    fake_apic_reset();
    /* Protected mode, as the guest starts (exceptions then carry error codes). */
    fake_vmcs_set(VMCS_GUEST_CR0, 0x31);
}
