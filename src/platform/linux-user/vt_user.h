/* SPDX-License-Identifier: MIT */
/* Private helpers of the Linux userspace shim. Everything here is
 * async-signal-safe (raw open/read/close, no stdio, no malloc) because lazy
 * initialisation may run inside a signal handler. They follow the library's
 * rule: 0 or a negative VTIME_E* code, outputs by pointer. */
#ifndef VT_USER_H
#define VT_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads up to cap-1 bytes of path into buf, NUL-terminated, *len (optional)
 * the length. 0, VTIME_EINVAL (cap 0) or VTIME_EIO (cannot open). */
int vt_user_read_file(const char *path, char *buf, size_t cap, size_t *len);

/* Calls fn(start, end, name, arg) for every mapping of this process whose
 * name field is non-empty, until fn returns true (stop). 0, or VTIME_EIO if
 * /proc/self/maps cannot be read. */
int vt_user_maps(bool (*fn)(uintptr_t start, uintptr_t end, const char *name, void *arg), void *arg);

/* Copies len bytes from addr through a pipe: the kernel reads them, so an
 * unbacked page gives an error instead of SIGBUS. 0, VTIME_ENODEV (not
 * mapped or not backed: EFAULT), VTIME_EINVAL (len > 4096) or VTIME_EIO. */
int vt_user_safe_copy(void *dst, uintptr_t addr, size_t len);

/* The address of the kernel's vvar page that is page vclock_idx of
 * [vvar_vclock] (Linux >= 6.13) or, where that mapping is absent, page
 * vvar_idx of [vvar]; *mapping names the one used. VTIME_EIO when
 * /proc/self/maps cannot be read, VTIME_ENODEV when neither mapping holds
 * that page. Nothing is read from the page (vt_user_safe_copy() next). */
int vt_user_vvar_page(unsigned vclock_idx, unsigned vvar_idx, uintptr_t *addr, const char **mapping);

/* Bounded string helpers (no libc string.h needed in signal context). */
size_t vt_user_strlcpy(char *dst, const char *src, size_t cap);
size_t vt_user_strlcat(char *dst, const char *src, size_t cap);
/* Appends the decimal value of v. */
size_t vt_user_strlcat_u64(char *dst, uint64_t v, size_t cap);

#endif
