#include "hv/guest_state_dump.h"

#include "arch/x86_64/vmx.h"
#include "hv/log.h"

static void dump_segment(const char *name, uint32_t selector_field, uint32_t base_field, uint32_t limit_field,
                         uint32_t rights_field)
{
    log_raw_printf("vigil:   %-4s sel=0x%04lx base=0x%lx limit=0x%lx ar=0x%lx\n", name,
                   (unsigned long)vmcs_read_checked(selector_field), (unsigned long)vmcs_read_checked(base_field),
                   (unsigned long)vmcs_read_checked(limit_field), (unsigned long)vmcs_read_checked(rights_field));
}

void guest_state_dump(const char *headline)
{
    log_raw_printf("vigil: %s\n", headline);
    log_raw_printf("vigil:   rip=0x%lx rsp=0x%lx rflags=0x%lx activity=%lu interruptibility=0x%lx\n",
                   (unsigned long)vmcs_read_natural(VMCS_GUEST_RIP), (unsigned long)vmcs_read_natural(VMCS_GUEST_RSP),
                   (unsigned long)vmcs_read_natural(VMCS_GUEST_RFLAGS),
                   (unsigned long)vmcs_read32(VMCS_GUEST_ACTIVITY_STATE),
                   (unsigned long)vmcs_read32(VMCS_GUEST_INTERRUPTIBILITY_STATE));
    log_raw_printf("vigil:   cr0=0x%lx (shadow 0x%lx) cr3=0x%lx cr4=0x%lx (shadow 0x%lx) efer=0x%lx\n",
                   (unsigned long)vmcs_read_natural(VMCS_GUEST_CR0), (unsigned long)vmcs_read_natural(VMCS_CR0_READ_SHADOW),
                   (unsigned long)vmcs_read_natural(VMCS_GUEST_CR3), (unsigned long)vmcs_read_natural(VMCS_GUEST_CR4),
                   (unsigned long)vmcs_read_natural(VMCS_CR4_READ_SHADOW), (unsigned long)vmcs_read64(VMCS_GUEST_IA32_EFER));
    dump_segment("cs", VMCS_GUEST_CS_SELECTOR, VMCS_GUEST_CS_BASE, VMCS_GUEST_CS_LIMIT, VMCS_GUEST_CS_ACCESS_RIGHTS);
    dump_segment("ss", VMCS_GUEST_SS_SELECTOR, VMCS_GUEST_SS_BASE, VMCS_GUEST_SS_LIMIT, VMCS_GUEST_SS_ACCESS_RIGHTS);
    dump_segment("ds", VMCS_GUEST_DS_SELECTOR, VMCS_GUEST_DS_BASE, VMCS_GUEST_DS_LIMIT, VMCS_GUEST_DS_ACCESS_RIGHTS);
    dump_segment("es", VMCS_GUEST_ES_SELECTOR, VMCS_GUEST_ES_BASE, VMCS_GUEST_ES_LIMIT, VMCS_GUEST_ES_ACCESS_RIGHTS);
    dump_segment("tr", VMCS_GUEST_TR_SELECTOR, VMCS_GUEST_TR_BASE, VMCS_GUEST_TR_LIMIT, VMCS_GUEST_TR_ACCESS_RIGHTS);
    log_raw_printf("vigil:   gdtr=0x%lx/0x%lx idtr=0x%lx/0x%lx\n", (unsigned long)vmcs_read_natural(VMCS_GUEST_GDTR_BASE),
                   (unsigned long)vmcs_read32(VMCS_GUEST_GDTR_LIMIT), (unsigned long)vmcs_read_natural(VMCS_GUEST_IDTR_BASE),
                   (unsigned long)vmcs_read32(VMCS_GUEST_IDTR_LIMIT));
}
