/*
 * Basic VM-exit reasons (SDM Vol. 3D Appendix C, Table C-1): the one home of
 * what vigil knows about them. Each row: number, name in code (EXIT_REASON_*),
 * a short stable slug for counters, the console and tools/bench ("cpuid", "io"),
 * and a description for log lines. hv/vmexit.c maps reasons to handlers.
 */
#ifndef VIGIL_ARCH_X86_64_VMX_EXIT_REASONS_H
#define VIGIL_ARCH_X86_64_VMX_EXIT_REASONS_H

#include <stdint.h>

#define VMX_EXIT_REASONS(X)                                                                                    \
    X(0, EXCEPTION_OR_NMI, "exception", "exception or NMI")                                                   \
    X(1, EXTERNAL_INTERRUPT, "external-interrupt", "external interrupt")                                      \
    X(2, TRIPLE_FAULT, "triple-fault", "triple fault")                                                        \
    X(3, INIT_SIGNAL, "init", "INIT signal")                                                                  \
    X(4, STARTUP_IPI, "sipi", "start-up IPI")                                                                 \
    X(5, IO_SMI, "io-smi", "I/O SMI")                                                                         \
    X(6, OTHER_SMI, "other-smi", "other SMI")                                                                 \
    X(7, INTERRUPT_WINDOW, "interrupt-window", "interrupt window")                                            \
    X(8, NMI_WINDOW, "nmi-window", "NMI window")                                                              \
    X(9, TASK_SWITCH, "task-switch", "task switch")                                                           \
    X(10, CPUID, "cpuid", "CPUID")                                                                            \
    X(11, GETSEC, "getsec", "GETSEC")                                                                         \
    X(12, HLT, "hlt", "HLT")                                                                                  \
    X(13, INVD, "invd", "INVD")                                                                               \
    X(14, INVLPG, "invlpg", "INVLPG")                                                                         \
    X(15, RDPMC, "rdpmc", "RDPMC")                                                                            \
    X(16, RDTSC, "rdtsc", "RDTSC")                                                                            \
    X(17, RSM, "rsm", "RSM")                                                                                  \
    X(18, VMCALL, "vmcall", "VMCALL")                                                                         \
    X(19, VMCLEAR, "vmclear", "VMCLEAR")                                                                      \
    X(20, VMLAUNCH, "vmlaunch", "VMLAUNCH")                                                                   \
    X(21, VMPTRLD, "vmptrld", "VMPTRLD")                                                                      \
    X(22, VMPTRST, "vmptrst", "VMPTRST")                                                                      \
    X(23, VMREAD, "vmread", "VMREAD")                                                                         \
    X(24, VMRESUME, "vmresume", "VMRESUME")                                                                   \
    X(25, VMWRITE, "vmwrite", "VMWRITE")                                                                      \
    X(26, VMXOFF, "vmxoff", "VMXOFF")                                                                         \
    X(27, VMXON, "vmxon", "VMXON")                                                                            \
    X(28, CONTROL_REGISTER_ACCESS, "cr-access", "control-register access")                                    \
    X(29, MOV_DR, "mov-dr", "MOV DR")                                                                         \
    X(30, IO_INSTRUCTION, "io", "I/O instruction")                                                            \
    X(31, RDMSR, "rdmsr", "RDMSR")                                                                            \
    X(32, WRMSR, "wrmsr", "WRMSR")                                                                            \
    X(33, ENTRY_FAILURE_GUEST_STATE, "entry-failure-guest-state", "VM-entry failure: invalid guest state")    \
    X(34, ENTRY_FAILURE_MSR_LOADING, "entry-failure-msr-loading", "VM-entry failure: MSR loading")            \
    X(36, MWAIT, "mwait", "MWAIT")                                                                            \
    X(37, MONITOR_TRAP_FLAG, "monitor-trap-flag", "monitor trap flag")                                        \
    X(39, MONITOR, "monitor", "MONITOR")                                                                      \
    X(40, PAUSE, "pause", "PAUSE")                                                                            \
    X(41, ENTRY_FAILURE_MACHINE_CHECK, "entry-failure-machine-check", "VM-entry failure: machine-check event") \
    X(43, TPR_BELOW_THRESHOLD, "tpr-below-threshold", "TPR below threshold")                                  \
    X(44, APIC_ACCESS, "apic-access", "APIC access")                                                          \
    X(45, VIRTUALIZED_EOI, "virtualized-eoi", "virtualized EOI")                                              \
    X(46, GDTR_IDTR_ACCESS, "gdtr-idtr-access", "GDTR/IDTR access")                                           \
    X(47, LDTR_TR_ACCESS, "ldtr-tr-access", "LDTR/TR access")                                                 \
    X(48, EPT_VIOLATION, "ept-violation", "EPT violation")                                                    \
    X(49, EPT_MISCONFIGURATION, "ept-misconfiguration", "EPT misconfiguration")                               \
    X(50, INVEPT, "invept", "INVEPT")                                                                         \
    X(51, RDTSCP, "rdtscp", "RDTSCP")                                                                         \
    X(52, PREEMPTION_TIMER, "preemption-timer", "VMX-preemption timer expired")                               \
    X(53, INVVPID, "invvpid", "INVVPID")                                                                      \
    X(54, WBINVD, "wbinvd", "WBINVD/WBNOINVD")                                                                \
    X(55, XSETBV, "xsetbv", "XSETBV")                                                                         \
    X(56, APIC_WRITE, "apic-write", "APIC write")                                                             \
    X(57, RDRAND, "rdrand", "RDRAND")                                                                         \
    X(58, INVPCID, "invpcid", "INVPCID")                                                                      \
    X(59, VMFUNC, "vmfunc", "VMFUNC")                                                                         \
    X(60, ENCLS, "encls", "ENCLS")                                                                            \
    X(61, RDSEED, "rdseed", "RDSEED")                                                                         \
    X(62, PML_FULL, "pml-full", "page-modification log full")                                                 \
    X(63, XSAVES, "xsaves", "XSAVES")                                                                         \
    X(64, XRSTORS, "xrstors", "XRSTORS")                                                                      \
    X(66, SPP_EVENT, "spp-event", "SPP-related event")                                                        \
    X(67, UMWAIT, "umwait", "UMWAIT")                                                                         \
    X(68, TPAUSE, "tpause", "TPAUSE")                                                                         \
    X(69, LOADIWKEY, "loadiwkey", "LOADIWKEY")

enum vmx_exit_reason {
#define VMX_EXIT_REASON_ENUM(number, id, slug, description) EXIT_REASON_##id = number,
    VMX_EXIT_REASONS(VMX_EXIT_REASON_ENUM)
#undef VMX_EXIT_REASON_ENUM
};

/* Basic reasons are 0..VMX_EXIT_REASON_LIMIT-1; counters keep one more slot for the rest. */
#define VMX_EXIT_REASON_LIMIT 70
/* Bit 31 of the exit-reason field: VM entry failed (SDM Vol. 3C §28.2.1). */
#define VMX_EXIT_REASON_ENTRY_FAILURE (1u << 31)
/* The basic exit reason is bits 15:0 of the exit-reason field. */
#define VMX_EXIT_REASON_BASIC(field) ((field) & 0xFFFFu)

/* "cpuid", "io", ...; "other" for numbers Table C-1 does not list. */
const char *vmx_exit_reason_slug(uint32_t basic_reason);
/* "CPUID", "I/O instruction", ...; "unknown exit reason" otherwise. */
const char *vmx_exit_reason_name(uint32_t basic_reason);

#endif
