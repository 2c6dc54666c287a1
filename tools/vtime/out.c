/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "vt_tool.h"

void vt_err(const char *fmt, ...)
{
	va_list ap;
	fputs("vtime: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void key(struct vt_json *j, const char *k)
{
	if (j->need_comma[j->depth])
		fputc(',', j->f);
	j->need_comma[j->depth] = true;
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
	if (k) {
		vj_string(j->f, k);
		fputs(": ", j->f);
	}
}

/* Length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * forms, no surrogates, nothing above U+10FFFF), 0 if there is none. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	unsigned lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* above U+10FFFF */
	} else {
		return 0;
	}
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* A JSON string: quotes and backslashes escaped, control characters (and
 * DEL) as \u00XX, well-formed UTF-8 passed through, every other byte (a
 * CPUID signature or a sysfs name can hold anything) as U+FFFD: the output
 * is always valid UTF-8 JSON. */
void vj_string(FILE *f, const char *v)
{
	const unsigned char *s = (const unsigned char *)v;

	fputc('"', f);
	while (*s) {
		size_t n;
		if (*s == '"' || *s == '\\') {
			fprintf(f, "\\%c", *s++);
			continue;
		}
		if (*s < 0x20 || *s == 0x7f) {
			fprintf(f, "\\u%04x", *s++);
			continue;
		}
		n = utf8_len(s);
		if (n == 0) {
			fputs("\\ufffd", f);
			s++;
			continue;
		}
		fwrite(s, 1, n, f);
		s += n;
	}
	fputc('"', f);
}

void vj_begin(struct vt_json *j, FILE *f)
{
	j->f = f;
	j->depth = 0;
	for (int i = 0; i < 16; i++)
		j->need_comma[i] = false;
	fputc('{', f);
	j->depth = 1;
}

static void open_(struct vt_json *j, const char *k, char c)
{
	key(j, k);
	fputc(c, j->f);
	if (j->depth < 15)
		j->depth++;
	j->need_comma[j->depth] = false;
}

static void close_(struct vt_json *j, char c)
{
	j->depth--;
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
	fputc(c, j->f);
}

void vj_obj(struct vt_json *j, const char *k) { open_(j, k, '{'); }
void vj_arr(struct vt_json *j, const char *k) { open_(j, k, '['); }
void vj_end_obj(struct vt_json *j) { close_(j, '}'); }
void vj_end_arr(struct vt_json *j) { close_(j, ']'); }

void vj_str(struct vt_json *j, const char *k, const char *v)
{
	key(j, k);
	if (v)
		vj_string(j->f, v);
	else
		fputs("null", j->f);
}

void vj_u64(struct vt_json *j, const char *k, uint64_t v)
{
	key(j, k);
	fprintf(j->f, "%llu", (unsigned long long)v);
}

void vj_i64(struct vt_json *j, const char *k, int64_t v)
{
	key(j, k);
	fprintf(j->f, "%lld", (long long)v);
}

void vj_dbl(struct vt_json *j, const char *k, double v)
{
	key(j, k);
	if (isfinite(v))
		fprintf(j->f, "%.15g", v);
	else
		fputs("null", j->f);
}

void vj_bool(struct vt_json *j, const char *k, bool v)
{
	key(j, k);
	fputs(v ? "true" : "false", j->f);
}

void vj_null(struct vt_json *j, const char *k)
{
	key(j, k);
	fputs("null", j->f);
}

void vj_finish(struct vt_json *j)
{
	close_(j, '}');
	fputc('\n', j->f);
}
