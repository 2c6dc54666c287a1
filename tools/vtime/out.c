/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdarg.h>
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
	if (k)
		fprintf(j->f, "\"%s\": ", k);
}

static void str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
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
		str(j->f, v);
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
