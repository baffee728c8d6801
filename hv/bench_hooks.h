/*
 * Benchmark build only (CMake option VIGIL_BENCH_EMPTY_DISPATCH, target
 * image-bench, build/bench/vigil-empty-dispatch.elf): the run loop (hv/vcpu_run.c)
 * handles exits through bench_empty_handle (hv/bench_empty_dispatch.c), which
 * gives VMCALL, CPUID and an OUT to the doorbell port an empty handler (advance
 * RIP only) and every other exit to vmexit_handle, so tools/bench can compare a
 * round trip through the real handlers with the bare cost of exit, recording,
 * dispatch and entry. vigil.elf never defines it: there this is vmexit_handle.
 */
#ifndef VIGIL_HV_BENCH_HOOKS_H
#define VIGIL_HV_BENCH_HOOKS_H

#include "hv/vmexit.h"

#ifdef VIGIL_BENCH_EMPTY_DISPATCH
enum vmexit_action bench_empty_handle(struct vcpu *vcpu);
#define VMEXIT_HANDLE bench_empty_handle
#else
#define VMEXIT_HANDLE vmexit_handle
#endif

#endif
