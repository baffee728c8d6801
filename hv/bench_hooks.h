/*
 * Benchmark build only (CMake option VIGIL_BENCH_EMPTY_DISPATCH, target
 * image-bench, build/bench/vigil-empty-dispatch.elf): the run loop dispatches
 * through bench_empty_dispatch (hv/bench_empty_dispatch.c), which records and
 * counts every exit like vmexit_dispatch but gives VMCALL, CPUID and an OUT to
 * the doorbell port an empty handler (advance RIP only), so tools/bench can
 * compare a round trip through the real handlers with the bare cost of exit,
 * dispatch and entry. vigil.elf never defines it: there this is vmexit_dispatch.
 */
#ifndef VIGIL_HV_BENCH_HOOKS_H
#define VIGIL_HV_BENCH_HOOKS_H

#include "hv/vmexit.h"

#ifdef VIGIL_BENCH_EMPTY_DISPATCH
enum vmexit_action bench_empty_dispatch(struct vcpu *vcpu);
#define VMEXIT_DISPATCH bench_empty_dispatch
#else
#define VMEXIT_DISPATCH vmexit_dispatch
#endif

#endif
