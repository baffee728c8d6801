#include "hv/apic_filter.h"

#include "arch/x86_64/cpu.h"
#include "hv/log.h"

/* ICR fields (SDM Vol. 3A §11.6.1, Figure 11-12; x2APIC: §11.12.9). */
#define ICR_VECTOR_MASK 0xFFull
#define ICR_DELIVERY_MODE(icr) (((icr) >> 8) & 7)
#define ICR_DESTINATION_LOGICAL (1ull << 11)
#define ICR_SHORTHAND(icr) (((icr) >> 18) & 3)
#define ICR_SHORTHAND_MASK (3ull << 18)
#define ICR_KEEP_LOW 0x000CFFFFull /* vector, delivery mode, level, trigger: bits 19:18 and 11 rebuilt */

enum delivery_mode { DELIVERY_FIXED = 0, DELIVERY_LOWEST = 1, DELIVERY_SMI = 2, DELIVERY_NMI = 4,
                     DELIVERY_INIT = 5, DELIVERY_STARTUP = 6 };
enum shorthand { SHORTHAND_NONE = 0, SHORTHAND_SELF = 1, SHORTHAND_ALL_INCLUDING_SELF = 2,
                 SHORTHAND_ALL_EXCLUDING_SELF = 3 };

#define MSR_IA32_APIC_BASE 0x1B
#define APIC_BASE_X2APIC_ENABLE (1ull << 10)
#define MSR_X2APIC_ID 0x802
#define MSR_X2APIC_LDR 0x80D
#define MSR_X2APIC_ICR 0x830

static struct apic_filter_statistics statistics;

const struct apic_filter_statistics *apic_filter_statistics(void) { return &statistics; }

/* The same IPI, addressed to this CPU alone by physical destination. */
static uint64_t addressed_to_self(uint64_t icr, const struct apic_identity *self)
{
    uint64_t low = icr & ICR_KEEP_LOW & ~ICR_SHORTHAND_MASK & ~ICR_DESTINATION_LOGICAL;
    uint64_t destination = self->x2apic ? (uint64_t)self->apic_id << 32 : (uint64_t)(self->apic_id & 0xFF) << 56;
    return low | destination;
}

static bool destination_includes_self(uint64_t icr, const struct apic_identity *self)
{
    uint32_t destination = self->x2apic ? (uint32_t)(icr >> 32) : (uint32_t)(icr >> 56);
    uint32_t broadcast = self->x2apic ? 0xFFFFFFFFu : 0xFFu;
    if (destination == broadcast)
        return true;
    if (!(icr & ICR_DESTINATION_LOGICAL))
        return destination == self->apic_id;
    if (self->x2apic) /* cluster in bits 31:16, a bit mask of 16 CPUs in 15:0 */
        return (destination >> 16) == (self->logical_id >> 16) && (destination & self->logical_id & 0xFFFF);
    return (destination & self->logical_id & 0xFF) != 0; /* flat model */
}

struct icr_decision apic_filter_icr(uint64_t icr, const struct apic_identity *self)
{
    struct icr_decision decision = { ICR_DROP, 0 };
    unsigned mode = (unsigned)ICR_DELIVERY_MODE(icr);
    if (mode != DELIVERY_FIXED && mode != DELIVERY_LOWEST && mode != DELIVERY_NMI) {
        decision.verdict = ICR_REFUSE_START;
        return decision;
    }
    switch (ICR_SHORTHAND(icr)) {
    case SHORTHAND_SELF:
        /* Only fixed IPIs may use the self shorthand (SDM Vol. 3A §11.6.1). */
        decision.verdict = ICR_DELIVER;
        decision.value = mode == DELIVERY_FIXED ? icr : addressed_to_self(icr, self);
        break;
    case SHORTHAND_ALL_INCLUDING_SELF:
        decision.verdict = ICR_DELIVER;
        decision.value = addressed_to_self(icr, self);
        break;
    case SHORTHAND_ALL_EXCLUDING_SELF:
        break;
    default:
        if (destination_includes_self(icr, self)) {
            decision.verdict = ICR_DELIVER;
            decision.value = addressed_to_self(icr, self);
        }
        break;
    }
    return decision;
}

bool apic_filter_x2apic_icr_write(uint64_t value)
{
    uint64_t apic_base = 0, apic_id = 0, logical_id = 0;
    if (!cpu_read_msr_checked(MSR_IA32_APIC_BASE, &apic_base) || !(apic_base & APIC_BASE_X2APIC_ENABLE) ||
        !cpu_read_msr_checked(MSR_X2APIC_ID, &apic_id) || !cpu_read_msr_checked(MSR_X2APIC_LDR, &logical_id))
        return false;
    struct apic_identity self = { true, (uint32_t)apic_id, (uint32_t)logical_id };
    struct icr_decision decision = apic_filter_icr(value, &self);
    if (apic_filter_count(decision.verdict, value) != ICR_DELIVER)
        return true;
    return cpu_write_msr_checked(MSR_X2APIC_ICR, decision.value);
}

enum icr_verdict apic_filter_count(enum icr_verdict verdict, uint64_t icr)
{
    switch (verdict) {
    case ICR_DELIVER:
        statistics.delivered++;
        break;
    case ICR_DROP:
        statistics.dropped++;
        break;
    case ICR_REFUSE_START:
        if (statistics.start_refused++ == 0)
            log_warn("guest IPI refused: ICR 0x%lx (delivery mode %u; the guest has one CPU; reported once)",
                     (unsigned long)icr, (unsigned)ICR_DELIVERY_MODE(icr));
        break;
    }
    return verdict;
}
