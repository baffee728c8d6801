/* Shared between the Additions library's files (additions.c,
 * additions_requests.c); not part of the API. */
#ifndef VIGIL_GUEST_SVC_ADDITIONS_ADDITIONS_INTERNAL_H
#define VIGIL_GUEST_SVC_ADDITIONS_ADDITIONS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#define BARRIER() __asm__ volatile("" ::: "memory")

/* strlen bounded by max; 0 for NULL. */
size_t additions_bounded_length(const char *text, size_t max);
/* Byte-wise copy out of the shared region (volatile: each byte read once). */
void additions_copy_from_shared(uint8_t *destination, const volatile uint8_t *source, size_t length);

#endif
