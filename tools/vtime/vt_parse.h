/* SPDX-License-Identifier: MIT */
/* The vtime tool's number parsers, kept apart from option handling (which
 * may change) and tested on their own (tests/userspace/test_parse.c, and the
 * fuzz harness tests/fuzz/fuzz_cli_parse.c against an exact oracle). */
#ifndef VT_PARSE_H
#define VT_PARSE_H

#include <stdint.h>

/* A frequency: "2599999000", "2.6GHz", "1996.248 MHz", "2599999k": an exact
 * whole number of Hz in 1..2^64-1 (units Hz, k/kHz, M/MHz, G/GHz, any case;
 * blanks around the number and before the unit). Exact: the decimal point
 * is moved by the unit's power of ten on the digits themselves, so no step
 * can wrap; digits beyond the unit's precision must be zeros. Returns 0, or
 * -1 with a static reason in *why (too large, not whole, 0, malformed). */
int vt_parse_hz(const char *s, uint64_t *hz, const char **why);

/* A duration for --seconds: a decimal number in (0, max] seconds (strtod
 * syntax, no trailing characters, not NaN or infinite). 0 or -1 with a
 * reason in *why. */
int vt_parse_seconds(const char *s, double max, double *out, const char **why);

#endif
