#include "hv/apic_trap.h"

#include "arch/x86_64/vmx.h"
#include "hv/apic_filter.h"
#include "hv/guest_lifecycle.h"
#include "hv/guest_paging.h"
#include "hv/log.h"
#include "hv/mmio_decode.h"

/* xAPIC register offsets (SDM Vol. 3A Table 11-1). */
#define APIC_ID 0x20
#define APIC_LDR 0xD0
#define APIC_ICR_LOW 0x300
#define APIC_ICR_HIGH 0x310
#define EPT_QUALIFICATION_WRITE (1ull << 1)
#define ACCESS_RIGHTS_L (1u << 13)
#define ACCESS_RIGHTS_DB (1u << 14)
#define EFER_LMA (1ull << 10)
#define INSTRUCTION_BYTES 15

static uint64_t apic_page;
static apic_trap_memory_reader *read_guest;
static void *read_context;

void apic_trap_configure(uint64_t page, apic_trap_memory_reader *reader, void *context)
{
    apic_page = page & ~0xFFFull;
    read_guest = reader;
    read_context = context;
}

bool apic_trap_covers(uint64_t guest_physical, uint64_t qualification)
{
    return read_guest && (guest_physical & ~0xFFFull) == apic_page && (qualification & EPT_QUALIFICATION_WRITE);
}

#ifndef VIGIL_HOST_TEST
uint32_t apic_mmio_read(uint64_t address)
{
    uintptr_t pointer = (uintptr_t)address; /* identity-mapped MMIO */
    __asm__("" : "+r"(pointer));
    return *(volatile uint32_t *)pointer;
}

void apic_mmio_write(uint64_t address, uint32_t value)
{
    uintptr_t pointer = (uintptr_t)address;
    __asm__("" : "+r"(pointer));
    *(volatile uint32_t *)pointer = value;
}
#endif

/* The guest's instruction bytes at CS:RIP, through its paging; a page boundary
 * inside the instruction is followed. Returns how many bytes could be read. */
static unsigned fetch_instruction(uint8_t bytes[INSTRUCTION_BYTES], enum cpu_code_size *mode)
{
    uint32_t cs_rights = vmcs_read32(VMCS_GUEST_CS_ACCESS_RIGHTS);
    uint64_t efer = vmcs_read64(VMCS_GUEST_IA32_EFER);
    *mode = ((efer & EFER_LMA) && (cs_rights & ACCESS_RIGHTS_L)) ? CODE_64
            : (cs_rights & ACCESS_RIGHTS_DB)                       ? CODE_32
                                                                   : CODE_16;
    uint64_t linear = vmcs_read_natural(VMCS_GUEST_RIP) + (*mode == CODE_64 ? 0 : vmcs_read_natural(VMCS_GUEST_CS_BASE));
    struct guest_paging paging = { vmcs_read_natural(VMCS_GUEST_CR0), vmcs_read_natural(VMCS_GUEST_CR3),
                                   vmcs_read_natural(VMCS_GUEST_CR4), efer, read_guest, read_context };
    unsigned got = 0;
    while (got < INSTRUCTION_BYTES) {
        uint64_t physical;
        if (!guest_linear_to_physical(&paging, linear + got, &physical))
            break;
        unsigned chunk = (unsigned)(0x1000 - (physical & 0xFFF));
        if (chunk > INSTRUCTION_BYTES - got)
            chunk = INSTRUCTION_BYTES - got;
        if (!read_guest(read_context, physical, bytes + got, chunk))
            break;
        got += chunk;
    }
    return got;
}

/* An ICR-low write sends the IPI that ICR high addresses (SDM Vol. 3A §11.6.1). */
static void write_icr_low(uint32_t low)
{
    uint32_t high = apic_mmio_read(apic_page + APIC_ICR_HIGH);
    struct apic_identity self = { false, apic_mmio_read(apic_page + APIC_ID) >> 24,
                                  apic_mmio_read(apic_page + APIC_LDR) >> 24 };
    uint64_t icr = ((uint64_t)high << 32) | low;
    struct icr_decision decision = apic_filter_icr(icr, &self);
    if (apic_filter_count(decision.verdict, icr) != ICR_DELIVER)
        return;
    apic_mmio_write(apic_page + APIC_ICR_HIGH, (uint32_t)(decision.value >> 32));
    apic_mmio_write(apic_page + APIC_ICR_LOW, (uint32_t)decision.value);
}

enum vmexit_action apic_trap_write(struct vcpu *vcpu, uint64_t guest_physical)
{
    uint8_t bytes[INSTRUCTION_BYTES];
    enum cpu_code_size mode;
    unsigned available = fetch_instruction(bytes, &mode);
    struct mmio_write store;
    if (!mmio_decode_write(bytes, available, mode, &store))
        return guest_stop(vcpu, "write to the local APIC page at 0x%lx by an instruction vigil does not emulate "
                                "(bytes %02x %02x %02x %02x)",
                          (unsigned long)guest_physical, available > 0 ? bytes[0] : 0, available > 1 ? bytes[1] : 0,
                          available > 2 ? bytes[2] : 0, available > 3 ? bytes[3] : 0);
    uint32_t value = store.source_is_register ? (uint32_t)vcpu_register_read(vcpu, store.source_register)
                                              : store.immediate;
    unsigned offset = (unsigned)(guest_physical & 0xFFF) & ~3u;
    if (store.exchange)
        vcpu_register_write(vcpu, store.source_register, apic_mmio_read(apic_page + offset));
    if (offset == APIC_ICR_LOW)
        write_icr_low(value);
    else
        apic_mmio_write(apic_page + offset, value);
    vcpu_skip_instruction_by(vcpu, store.length);
    return VMEXIT_RESUME_GUEST;
}
