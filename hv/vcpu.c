#include "hv/vcpu.h"

#include <string.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/descriptors.h"
#include "arch/x86_64/msr.h"
#include "arch/x86_64/vmx.h"
#include "arch/x86_64/vmx_entry.h"
#include "hv/log.h"
#include "hv/panic.h"
#include "lib/page_pool.h"

#define CR0_PE (1ull << 0)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_NW (1ull << 29)
#define CR0_CD (1ull << 30)
#define CR0_PG (1ull << 31)
#define CR4_VMXE (1ull << 13)
#define CR4_OSXSAVE (1ull << 18)
#define MSR_IA32_PAT 0x277
#define MSR_IA32_DEBUGCTL 0x1D9
#define VPID_GUEST 1
#define PAT_POWER_ON_DEFAULT 0x0007040600070406ull

/* Segment access rights (SDM Vol. 3C §25.4.1, Table 25-2). */
#define ACCESS_RIGHTS_CODE_32 0xC09Bu  /* execute/read, accessed, S, P, D/B, G */
#define ACCESS_RIGHTS_DATA_32 0xC093u  /* read/write, accessed, S, P, D/B, G */
#define ACCESS_RIGHTS_TSS_BUSY_32 0x008Bu
#define ACCESS_RIGHTS_UNUSABLE (1u << 16)


const char *vcpu_missing_capability(const struct vmx_capabilities *c)
{
    if (!c->ept || !c->ept_4_level_walk || !c->ept_write_back)
        return "EPT with 4-level walks and write-back tables";
    if (!c->unrestricted_guest)
        return "unrestricted guest";
    if (!c->preemption_timer)
        return "VMX-preemption timer";
    if (!vmx_control_allowed(c->procbased_allowed, PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS))
        return "I/O and MSR bitmaps";
    if (!vmx_control_allowed(c->exit_allowed, EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER | EXIT_HOST_ADDRESS_SPACE_SIZE) ||
        !vmx_control_allowed(c->entry_allowed, ENTRY_LOAD_IA32_EFER))
        return "IA32_EFER load/save on VM entry and exit";
    /* The guest's PAT passes through the MSR bitmap only because the VMCS switches it. */
    if (!vmx_control_allowed(c->exit_allowed, EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT) ||
        !vmx_control_allowed(c->entry_allowed, ENTRY_LOAD_IA32_PAT))
        return "IA32_PAT load/save on VM entry and exit";
    return 0;
}

static void *allocate_pages(struct page_pool *pool, uint32_t pages, uint64_t *physical, const char *what)
{
    void *memory = pages == 1 ? page_pool_alloc(pool, physical) : page_pool_alloc_contiguous(pool, pages, physical);
    if (!memory)
        panic("hypervisor page pool exhausted allocating %s (%u pages)", what, pages);
    return memory;
}

/* CR0/CR4 in VMX operation must respect the FIXED0 (must be 1) and FIXED1
 * (may be 1) MSRs (SDM Vol. 3D §A.7, A.8). Caching on (CD and NW clear): VM entry
 * does not load CR0.CD/NW from the guest-state area but keeps the host's (SDM Vol.
 * 3C §27.3.2.1), so a firmware that left them set would run the guest uncached
 * while its CR0 read shadow says otherwise. */
static void enter_vmx_operation(struct vcpu *vcpu, struct page_pool *pool)
{
    const struct vmx_capabilities *c = &vcpu->capabilities;
    cpu_write_cr0(((cpu_read_cr0() & ~(CR0_CD | CR0_NW)) | c->cr0_fixed0) & c->cr0_fixed1);
    cpu_write_cr4((cpu_read_cr4() | CR4_VMXE | c->cr4_fixed0) & c->cr4_fixed1);

    uint32_t *vmxon_region = allocate_pages(pool, 1, &vcpu->vmxon_physical, "the VMXON region");
    vmxon_region[0] = c->vmcs_revision; /* SDM Vol. 3C §25.11.5 */
    vmx_require_success("VMXON", vmx_on(&vcpu->vmxon_physical));

    uint32_t *vmcs = allocate_pages(pool, 1, &vcpu->vmcs_physical, "the VMCS");
    vmcs[0] = c->vmcs_revision; /* bit 31 clear: an ordinary VMCS, not a shadow */
    vmx_require_success("VMCLEAR", vmx_clear(&vcpu->vmcs_physical));
    vmx_require_success("VMPTRLD", vmx_pointer_load(&vcpu->vmcs_physical));
}

void vcpu_intercept_io_ports(struct vcpu *vcpu, uint16_t port, unsigned count)
{
    for (unsigned i = 0; i < count && (unsigned)port + i <= 0xFFFF; i++) {
        unsigned p = port + i;
        vcpu->io_bitmaps[p / 8] |= (uint8_t)(1u << (p % 8));
    }
}

static uint32_t require_controls(const char *name, uint64_t allowed, uint32_t wanted, uint32_t required)
{
    uint32_t value = vmx_adjust_controls(allowed, wanted);
    if ((value & required) != required)
        panic("VMX %s controls: required bits 0x%x not allowed by this CPU (allowed-1 0x%x)", name,
              required & ~value, (uint32_t)(allowed >> 32));
    return value;
}

static void setup_controls(struct vcpu *vcpu)
{
    const struct vmx_capabilities *c = &vcpu->capabilities;
    /* NMI exiting: an NMI during the guest exits instead of entering vigil's IDT;
     * virtual NMIs: vigil injects it with the guest's own NMI blocking tracked
     * (SDM Vol. 3C §25.6.1, §26.7.1). */
    uint32_t pin_required = PIN_PREEMPTION_TIMER | PIN_NMI_EXITING | PIN_VIRTUAL_NMIS;
    uint32_t pin = require_controls("pin-based", c->pinbased_allowed, pin_required, pin_required);

    /* TSC offsetting: guest TSC writes move the offset, never vigil's clock
     * (hv/msr_policy.c). MONITOR/MWAIT exiting: CPUID hides them; they get #UD. */
    uint32_t primary_wanted = PROC_USE_IO_BITMAPS | PROC_USE_MSR_BITMAPS | PROC_ACTIVATE_SECONDARY_CONTROLS |
                              PROC_USE_TSC_OFFSETTING | PROC_MWAIT_EXITING | PROC_MONITOR_EXITING;
    vcpu->primary_controls = require_controls("primary processor-based", c->procbased_allowed, primary_wanted, primary_wanted);

    /* Instructions the guest may use natively must be enabled, or they #UD
     * (SDM Vol. 3C §26.3); CPUID hides those this CPU cannot enable. */
    uint32_t secondary_required = SECONDARY_ENABLE_EPT | SECONDARY_UNRESTRICTED_GUEST;
    uint32_t secondary_wanted = secondary_required | SECONDARY_ENABLE_RDTSCP | SECONDARY_ENABLE_INVPCID |
                                SECONDARY_ENABLE_XSAVES | (c->vpid ? SECONDARY_ENABLE_VPID : 0);
    vcpu->secondary_controls = require_controls("secondary processor-based", c->procbased2_allowed, secondary_wanted,
                                                secondary_required);

    uint32_t exit_required = EXIT_HOST_ADDRESS_SPACE_SIZE | EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER;
    uint32_t exit_wanted = exit_required | EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT | EXIT_SAVE_DEBUG_CONTROLS |
                           EXIT_SAVE_PREEMPTION_TIMER;
    vcpu->exit_controls = require_controls("VM-exit", c->exit_allowed, exit_wanted, exit_required);
    vcpu->preemption_timer_saved = (vcpu->exit_controls & EXIT_SAVE_PREEMPTION_TIMER) != 0;

    uint32_t entry_wanted = ENTRY_LOAD_IA32_EFER | ENTRY_LOAD_IA32_PAT | ENTRY_LOAD_DEBUG_CONTROLS;
    vcpu->entry_controls = require_controls("VM-entry", c->entry_allowed, entry_wanted, ENTRY_LOAD_IA32_EFER);
    vcpu->entry_controls &= ~ENTRY_IA32E_MODE_GUEST; /* a Multiboot1 guest starts in 32-bit mode */

    vmcs_write32(VMCS_PIN_BASED_CONTROLS, pin);
    vmcs_write32(VMCS_PRIMARY_PROCESSOR_CONTROLS, vcpu->primary_controls);
    vmcs_write32(VMCS_SECONDARY_PROCESSOR_CONTROLS, vcpu->secondary_controls);
    vmcs_write32(VMCS_EXIT_CONTROLS, vcpu->exit_controls);
    vmcs_write32(VMCS_ENTRY_CONTROLS, vcpu->entry_controls);
    vmcs_write32(VMCS_EXCEPTION_BITMAP, 0); /* the guest handles its own exceptions */
    vmcs_write32(VMCS_PAGE_FAULT_ERROR_CODE_MASK, 0);
    vmcs_write32(VMCS_PAGE_FAULT_ERROR_CODE_MATCH, 0);
    vmcs_write32(VMCS_CR3_TARGET_COUNT, 0);
    vmcs_write32(VMCS_EXIT_MSR_STORE_COUNT, 0);
    vmcs_write32(VMCS_EXIT_MSR_LOAD_COUNT, 0);
    vmcs_write32(VMCS_ENTRY_MSR_LOAD_COUNT, 0);
    vmcs_write32(VMCS_ENTRY_INTERRUPTION_INFO, 0);
    vmcs_write64(VMCS_IO_BITMAP_A, vcpu->io_bitmaps_physical);
    vmcs_write64(VMCS_IO_BITMAP_B, vcpu->io_bitmaps_physical + 4096);
    vmcs_write64(VMCS_MSR_BITMAP, vcpu->msr_bitmap_physical);
    vmcs_write64(VMCS_EPT_POINTER, vcpu->ept_pointer);
    vmcs_write64(VMCS_TSC_OFFSET, 0);
    if (vcpu->secondary_controls & SECONDARY_ENABLE_VPID)
        vmcs_write16(VMCS_VIRTUAL_PROCESSOR_ID, VPID_GUEST);
    if (vcpu->secondary_controls & SECONDARY_ENABLE_XSAVES)
        vmcs_write64(VMCS_XSS_EXITING_BITMAP, 0);
    vmcs_write32(VMCS_GUEST_PREEMPTION_TIMER_VALUE, vcpu->preemption_timer_ticks);
}

/* Host state: what the CPU loads on every VM exit (SDM Vol. 3C §25.5, §28.5). */
static void setup_host_state(struct vcpu *vcpu)
{
    if (vcpu->cpuid_has_xsave) /* XSETBV on the guest's behalf needs CR4.OSXSAVE in the host */
        cpu_write_cr4(cpu_read_cr4() | CR4_OSXSAVE);
    uint64_t efer = 0, pat = PAT_POWER_ON_DEFAULT;
    cpu_read_msr_checked(MSR_IA32_EFER, &efer);
    cpu_read_msr_checked(MSR_IA32_PAT, &pat);

    vmcs_write_natural(VMCS_HOST_CR0, cpu_read_cr0());
    vmcs_write_natural(VMCS_HOST_CR3, cpu_read_cr3());
    vmcs_write_natural(VMCS_HOST_CR4, cpu_read_cr4());
    vmcs_write16(VMCS_HOST_CS_SELECTOR, SELECTOR_KERNEL_CODE);
    vmcs_write16(VMCS_HOST_SS_SELECTOR, SELECTOR_KERNEL_DATA);
    vmcs_write16(VMCS_HOST_DS_SELECTOR, SELECTOR_KERNEL_DATA);
    vmcs_write16(VMCS_HOST_ES_SELECTOR, SELECTOR_KERNEL_DATA);
    vmcs_write16(VMCS_HOST_FS_SELECTOR, 0);
    vmcs_write16(VMCS_HOST_GS_SELECTOR, 0);
    vmcs_write16(VMCS_HOST_TR_SELECTOR, SELECTOR_TSS);
    vmcs_write_natural(VMCS_HOST_FS_BASE, 0);
    vmcs_write_natural(VMCS_HOST_GS_BASE, 0);
    vmcs_write_natural(VMCS_HOST_TR_BASE, descriptors_tss_base());
    vmcs_write_natural(VMCS_HOST_GDTR_BASE, descriptors_gdt_base());
    vmcs_write_natural(VMCS_HOST_IDTR_BASE, descriptors_idt_base());
    vmcs_write32(VMCS_HOST_IA32_SYSENTER_CS, 0);
    vmcs_write_natural(VMCS_HOST_IA32_SYSENTER_ESP, 0);
    vmcs_write_natural(VMCS_HOST_IA32_SYSENTER_EIP, 0);
    vmcs_write64(VMCS_HOST_IA32_EFER, efer);
    vmcs_write64(VMCS_HOST_IA32_PAT, pat);
    /* Host RSP is written by vmx_enter_guest: exits return on the run loop's stack. */
    vmcs_write_natural(VMCS_HOST_RIP, (uint64_t)(uintptr_t)vmx_guest_exit);
}

static void write_guest_segment(uint32_t selector_field, uint16_t selector, uint32_t base_field,
                                uint32_t limit_field, uint32_t limit, uint32_t rights_field, uint32_t rights)
{
    vmcs_write_checked(selector_field, selector);
    vmcs_write_checked(base_field, 0);
    vmcs_write_checked(limit_field, limit);
    vmcs_write_checked(rights_field, rights);
}

/* The Multiboot1 machine state (spec 0.6.96 §3.2): 32-bit protected mode, paging
 * off, flat 4 GiB segments, A20 on, IF clear. Unrestricted guest lets CR0.PG be 0. */
static void setup_guest_state(struct vcpu *vcpu, const struct guest_entry_state *entry)
{
    const struct vmx_capabilities *c = &vcpu->capabilities;
    uint64_t cr0_shadow = CR0_PE | CR0_ET;
    uint64_t cr0_must_be_one = c->cr0_fixed0 & ~(CR0_PE | CR0_PG); /* relaxed by unrestricted guest */
    uint64_t guest_cr0 = (cr0_shadow | cr0_must_be_one) & c->cr0_fixed1;
    /* Owned by vigil: bits VMX forces either way, and PG (switching IA-32e mode
     * needs the VM-entry control updated, hv/vmexit_cr.c). */
    vcpu->cr0_guest_host_mask = cr0_must_be_one | (~c->cr0_fixed1 & 0xFFFFFFFFull) | CR0_PG;
    vcpu->cr4_guest_host_mask = c->cr4_fixed0 | (~c->cr4_fixed1 & 0xFFFFFFFFull) | CR4_VMXE;
    uint64_t guest_cr4 = c->cr4_fixed0 & c->cr4_fixed1;

    vmcs_write_natural(VMCS_CR0_GUEST_HOST_MASK, vcpu->cr0_guest_host_mask);
    vmcs_write_natural(VMCS_CR0_READ_SHADOW, cr0_shadow);
    vmcs_write_natural(VMCS_GUEST_CR0, guest_cr0);
    vmcs_write_natural(VMCS_CR4_GUEST_HOST_MASK, vcpu->cr4_guest_host_mask);
    vmcs_write_natural(VMCS_CR4_READ_SHADOW, 0);
    vmcs_write_natural(VMCS_GUEST_CR4, guest_cr4);
    vmcs_write_natural(VMCS_GUEST_CR3, 0);
    vmcs_write_natural(VMCS_GUEST_DR7, 0x400);

    uint16_t code = entry->code_selector ? entry->code_selector : 0x08;
    uint16_t data = entry->data_selector ? entry->data_selector : 0x10;
    write_guest_segment(VMCS_GUEST_CS_SELECTOR, code, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT, 0xFFFFFFFF,
                        VMCS_GUEST_CS_ACCESS_RIGHTS, ACCESS_RIGHTS_CODE_32);
    write_guest_segment(VMCS_GUEST_SS_SELECTOR, data, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT, 0xFFFFFFFF,
                        VMCS_GUEST_SS_ACCESS_RIGHTS, ACCESS_RIGHTS_DATA_32);
    write_guest_segment(VMCS_GUEST_DS_SELECTOR, data, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT, 0xFFFFFFFF,
                        VMCS_GUEST_DS_ACCESS_RIGHTS, ACCESS_RIGHTS_DATA_32);
    write_guest_segment(VMCS_GUEST_ES_SELECTOR, data, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT, 0xFFFFFFFF,
                        VMCS_GUEST_ES_ACCESS_RIGHTS, ACCESS_RIGHTS_DATA_32);
    write_guest_segment(VMCS_GUEST_FS_SELECTOR, data, VMCS_GUEST_FS_BASE, VMCS_GUEST_FS_LIMIT, 0xFFFFFFFF,
                        VMCS_GUEST_FS_ACCESS_RIGHTS, ACCESS_RIGHTS_DATA_32);
    write_guest_segment(VMCS_GUEST_GS_SELECTOR, data, VMCS_GUEST_GS_BASE, VMCS_GUEST_GS_LIMIT, 0xFFFFFFFF,
                        VMCS_GUEST_GS_ACCESS_RIGHTS, ACCESS_RIGHTS_DATA_32);
    write_guest_segment(VMCS_GUEST_LDTR_SELECTOR, 0, VMCS_GUEST_LDTR_BASE, VMCS_GUEST_LDTR_LIMIT, 0,
                        VMCS_GUEST_LDTR_ACCESS_RIGHTS, ACCESS_RIGHTS_UNUSABLE);
    /* TR must be usable and busy (SDM Vol. 3C §27.3.1.2) even though the guest has no TSS yet. */
    write_guest_segment(VMCS_GUEST_TR_SELECTOR, 0, VMCS_GUEST_TR_BASE, VMCS_GUEST_TR_LIMIT, 0xFFFF,
                        VMCS_GUEST_TR_ACCESS_RIGHTS, ACCESS_RIGHTS_TSS_BUSY_32);
    vmcs_write_natural(VMCS_GUEST_GDTR_BASE, entry->gdt_base);
    vmcs_write32(VMCS_GUEST_GDTR_LIMIT, entry->gdt_limit ? entry->gdt_limit : 0xFFFF);
    vmcs_write_natural(VMCS_GUEST_IDTR_BASE, 0);
    vmcs_write32(VMCS_GUEST_IDTR_LIMIT, 0xFFFF);

    vmcs_write_natural(VMCS_GUEST_RSP, 0);
    vmcs_write_natural(VMCS_GUEST_RIP, entry->entry_point);
    vmcs_write_natural(VMCS_GUEST_RFLAGS, 0x2); /* bit 1 is reserved-one */
    vmcs_write32(VMCS_GUEST_INTERRUPTIBILITY_STATE, 0);
    vmcs_write32(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_STATE_ACTIVE);
    vmcs_write_natural(VMCS_GUEST_PENDING_DEBUG_EXCEPTIONS, 0);
    vmcs_write32(VMCS_GUEST_IA32_SYSENTER_CS, 0);
    vmcs_write_natural(VMCS_GUEST_IA32_SYSENTER_ESP, 0);
    vmcs_write_natural(VMCS_GUEST_IA32_SYSENTER_EIP, 0);
    vmcs_write64(VMCS_GUEST_IA32_EFER, 0);
    vmcs_write64(VMCS_GUEST_IA32_PAT, PAT_POWER_ON_DEFAULT);
    vmcs_write64(VMCS_GUEST_IA32_DEBUGCTL, 0);
    vmcs_write64(VMCS_VMCS_LINK_POINTER, ~0ull); /* no shadow VMCS (SDM Vol. 3C §27.3.1.5) */
}

void vcpu_setup(struct vcpu *vcpu, const struct vmx_capabilities *capabilities, struct page_pool *pool,
                uint64_t ept_pointer, uint32_t preemption_timer_ticks, const struct guest_entry_state *entry)
{
    memset(vcpu, 0, sizeof *vcpu);
    vcpu->capabilities = *capabilities;
    vcpu->ept_pointer = ept_pointer;
    vcpu->preemption_timer_ticks = preemption_timer_ticks;
    uint32_t registers[4];
    cpu_cpuid(1, 0, registers);
    vcpu->cpuid_has_xsave = (registers[2] & (1u << 26)) != 0;

    enter_vmx_operation(vcpu, pool);
    vcpu->io_bitmaps = allocate_pages(pool, 2, &vcpu->io_bitmaps_physical, "the I/O bitmaps");
    vcpu->msr_bitmap = allocate_pages(pool, 1, &vcpu->msr_bitmap_physical, "the MSR bitmap");

    setup_controls(vcpu);
    setup_host_state(vcpu);
    setup_guest_state(vcpu, entry);
    vcpu->registers.rax = entry->eax;
    vcpu->registers.rbx = entry->ebx;
    vcpu->registers.rsi = entry->esi;
}
