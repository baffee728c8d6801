#include "hv/service.h"

#include <string.h>

#include "arch/x86_64/cpu.h"
#include "hv/clock.h"
#include "hv/event_injection.h"
#include "hv/log.h"
#include "hv/msr_policy.h"
#include "hv/operator_console.h"
#include "hv/panic.h"
#include "hv/vcpu.h"

#define SERVICE_STORAGE_SIZE (64 * 1024)

static uint8_t service_storage[SERVICE_STORAGE_SIZE] __attribute__((aligned(64)));
static struct guest_service *service;
static const struct service_observer *observer;

void service_set_observer(const struct service_observer *new_observer) { observer = new_observer; }
static uint64_t region_physical;
static struct vcpu *guest_vcpu;
/* What platform_force_guest_off decided during the tick service_tick runs. */
static enum service_tick_result tick_result;

static uint64_t platform_now_ms(void *context)
{
    (void)context;
    return clock_now_ms();
}

static uint64_t platform_unix_time_ns(void *context)
{
    (void)context;
    return clock_unix_time_ns();
}

/* The guest's TSC is the host's plus the offset its TSC writes set (hv/msr_policy.c). */
static uint64_t platform_guest_tsc(void *context)
{
    (void)context;
    return cpu_read_tsc() + msr_policy_tsc_offset();
}

static void platform_inject_interrupt(void *context, uint8_t vector)
{
    (void)context;
    inject_external_interrupt(guest_vcpu, vector);
}

static void platform_emit_event(void *context, const struct guest_service_event *event)
{
    (void)context;
    operator_console_event(event);
    if (observer && observer->event)
        observer->event(event);
}

/* Called from inside guest_service_tick: note it, and service_tick returns it
 * once the service's own bookkeeping is complete; the run loop ends the guest. */
static void platform_force_guest_off(void *context, bool reboot, const char *reason)
{
    (void)context;
    log_info("forcing the guest off: %s", reason ? reason : "shutdown timeout");
    tick_result = reboot ? SERVICE_FORCE_GUEST_OFF_REBOOT : SERVICE_FORCE_GUEST_OFF;
}

static void platform_log(void *context, const char *message)
{
    (void)context;
    log_warn("guest service: %s", message);
}

static struct guest_service_platform platform = {
    .now_ms = platform_now_ms,
    .unix_time_ns = platform_unix_time_ns,
    .guest_tsc = platform_guest_tsc,
    .inject_interrupt = platform_inject_interrupt,
    .emit_event = platform_emit_event,
    .force_guest_off = platform_force_guest_off,
    .log = platform_log,
};

void service_start(struct vcpu *vcpu, uint64_t shared_region_physical)
{
    guest_vcpu = vcpu;
    if (guest_service_size() > sizeof service_storage)
        panic("guest service state (%lu bytes) exceeds its storage (%lu)", (unsigned long)guest_service_size(),
              (unsigned long)sizeof service_storage);
    platform.tsc_frequency_hz = clock_tsc_frequency();
    service = (struct guest_service *)service_storage;
    region_physical = shared_region_physical;
    uintptr_t pointer = (uintptr_t)shared_region_physical;
    __asm__("" : "+r"(pointer)); /* identity-mapped guest memory, not a C object */
    guest_service_init(service, &platform, (volatile void *)pointer, shared_region_physical);
}

void service_offer_additions(uint64_t guest_physical, uint32_t size, const char *version)
{
    if (service)
        guest_service_offer_additions(service, guest_physical, size, version);
}

bool service_active(void) { return service != 0; }
struct guest_service *service_instance(void) { return service; }

void service_cpuid_shared_region(uint32_t registers[4])
{
    if (!service) {
        registers[0] = registers[1] = registers[2] = registers[3] = 0;
        return;
    }
    registers[0] = (uint32_t)region_physical;
    registers[1] = (uint32_t)(region_physical >> 32);
    registers[2] = VIGIL_SHARED_REGION_SIZE;
    registers[3] = 0;
}

uint32_t service_doorbell(void)
{
    if (!service)
        return VIGIL_DOORBELL_REJECTED;
    return guest_service_doorbell(service);
}

void service_inject_nmi(void)
{
    if (guest_vcpu)
        inject_nmi(guest_vcpu);
}

enum service_tick_result service_tick(void)
{
    tick_result = SERVICE_GUEST_CONTINUES;
    if (service)
        guest_service_tick(service);
    if (observer && observer->tick && observer->tick() && tick_result == SERVICE_GUEST_CONTINUES)
        tick_result = SERVICE_POLICY_STOP_GUEST;
    return tick_result;
}

void service_guest_restarted(void)
{
    if (service)
        guest_service_guest_restarted(service);
}

void service_guest_ended(enum guest_service_event_kind why, const char *detail)
{
    if (observer && observer->guest_ended)
        observer->guest_ended(why, detail);
    if (service)
        guest_service_guest_stopped(service, why, detail);
}
