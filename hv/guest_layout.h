/*
 * Where vigil puts what it keeps while a guest runs, and where the guest's boot
 * information goes (docs/vmx.md "vigil's memory").
 *
 * A PC's guest expects its RAM from 1 MiB up to be contiguous (mem_upper) and
 * may be linked anywhere in it. So vigil takes its own pieces from the top of
 * RAM below 4 GiB, highest first: the pristine copy of the guest image (kept for
 * restarts and loaded from, never visible to the guest), the page pool (VMCS,
 * bitmaps, EPT tables), then the shared region (guest-visible, reserved in the
 * guest's map). The boot information goes into guest RAM right after the guest
 * image, as GRUB does, clear of every segment and module.
 *
 * Pure planning over memory maps: no memory is touched (unit tested).
 */
#ifndef VIGIL_HV_GUEST_LAYOUT_H
#define VIGIL_HV_GUEST_LAYOUT_H

#include <stdint.h>

#include "hv/guest_elf.h"
#include "lib/memmap.h"

struct guest_layout_request {
    uint64_t image_copy_size;         /* bytes of the guest image file to keep (0: none) */
    uint64_t pool_size, pool_alignment;
    uint64_t shared_region_size;      /* 0: none */
    uint64_t boot_info_size;
    const struct address_range *segments; /* where the guest image will be loaded */
    unsigned segment_count;
    const struct address_range *modules;  /* every boot module, module 0 first */
    unsigned module_count;
};

struct guest_layout {
    uint64_t image_copy;    /* 0 when no copy was asked for */
    uint64_t pool;
    uint64_t shared_region; /* 0 when none was asked for */
    uint64_t boot_info;
};

/*
 * Chooses the layout and marks it in `map` (the machine's normalised map, which
 * becomes the guest's after type conversion): the image copy and the pool as
 * MEMMAP_HYPERVISOR, the shared region as MEMMAP_SHARED_REGION; the boot
 * information stays RAM (the guest owns it once it runs, as with GRUB).
 * The high pieces avoid the segments and every module (module 0 is copied from);
 * the boot information avoids the segments, modules 1.. and the high pieces, and
 * is the lowest fit at or after the image's highest segment end (the lowest one
 * from 1 MiB up if nothing fits there).
 * Returns NULL, or why not (then `map` may hold part of the carving: the caller
 * stops before launch).
 */
const char *guest_layout_plan(struct memmap *map, const struct guest_layout_request *request,
                              struct guest_layout *layout);

#endif
