/* HRESULT names and sentences (docs/abi.md "Status codes"), for vigilctl. */
#ifndef VCTL_STATUS_H
#define VCTL_STATUS_H

#include <stdbool.h>
#include <stdint.h>

/* "VM_E_ADDITIONS_NOT_AVAIL", or NULL for a code not in the table. */
const char *vctl_status_name(uint32_t status);
/* "the guest Additions are not running", or "unknown status code". */
const char *vctl_status_message(uint32_t status);
/* A failure HRESULT: bit 31 set. */
static inline bool vctl_status_failed(uint32_t status) { return (status & 0x80000000u) != 0; }

#endif
