/* SPDX-License-Identifier: MIT */
/* Private helpers of the Linux userspace shim. Everything here is
 * async-signal-safe (raw open/read/close, no stdio, no malloc) because lazy
 * initialisation may run inside a signal handler. */
#ifndef VT_USER_H
#define VT_USER_H

#include <stddef.h>
#include <stdint.h>

/* Reads up to cap-1 bytes of path into buf, NUL-terminated. Returns the
 * length or -1. */
long vt_user_read_file(const char *path, char *buf, size_t cap);

/* Calls fn(start, end, name, arg) for every mapping of this process whose
 * name field is non-empty, until fn returns non-zero (returned). Returns -1
 * if /proc/self/maps cannot be read, else 0 or fn's value. */
int vt_user_maps(int (*fn)(uintptr_t start, uintptr_t end, const char *name, void *arg), void *arg);

/* Copies len bytes from addr through a pipe: the kernel reads them, so an
 * unbacked page gives an error instead of SIGBUS. Returns 0, or -errno. */
int vt_user_safe_copy(void *dst, uintptr_t addr, size_t len);

/* Bounded string helpers (no libc string.h needed in signal context). */
size_t vt_user_strlcpy(char *dst, const char *src, size_t cap);
size_t vt_user_strlcat(char *dst, const char *src, size_t cap);
/* Appends the decimal value of v. */
size_t vt_user_strlcat_u64(char *dst, uint64_t v, size_t cap);

#endif
