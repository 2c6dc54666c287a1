/* SPDX-License-Identifier: MIT */
/* Shared bits of the vtime tool: output (text table or JSON) and commands. */
#ifndef VT_TOOL_H
#define VT_TOOL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct vt_opts {
	bool json;
	bool quiet;
	double seconds;   /* check, bench */
	bool seconds_set; /* --seconds was given */
	int argc;         /* positional arguments after the command */
	char **argv;
};

/* Exit codes: 0 ok, 1 a check failed, 2 usage error, 3 runtime error. */
enum { VT_EXIT_OK = 0, VT_EXIT_FAIL = 1, VT_EXIT_USAGE = 2, VT_EXIT_ERR = 3 };

/* JSON writer: nested objects/arrays with automatic commas. */
struct vt_json {
	FILE *f;
	int depth;
	bool need_comma[16];
};
void vj_begin(struct vt_json *j, FILE *f);
void vj_obj(struct vt_json *j, const char *key);  /* key NULL inside arrays / at top */
void vj_arr(struct vt_json *j, const char *key);
void vj_end_obj(struct vt_json *j);
void vj_end_arr(struct vt_json *j);
void vj_str(struct vt_json *j, const char *key, const char *v);
void vj_u64(struct vt_json *j, const char *key, uint64_t v);
void vj_i64(struct vt_json *j, const char *key, int64_t v);
void vj_dbl(struct vt_json *j, const char *key, double v);
void vj_bool(struct vt_json *j, const char *key, bool v);
void vj_null(struct vt_json *j, const char *key);
void vj_finish(struct vt_json *j);
/* A JSON string literal of v, always valid UTF-8 (see out.c). */
void vj_string(FILE *f, const char *v);

void vt_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

int cmd_scale(const struct vt_opts *o);
int cmd_pvclock(const struct vt_opts *o);
int cmd_status(const struct vt_opts *o);
int cmd_now(const struct vt_opts *o);
int cmd_check(const struct vt_opts *o);
int cmd_bench(const struct vt_opts *o);
int cmd_vmclock(const struct vt_opts *o);
int cmd_hv(const struct vt_opts *o);

/* cmd_pages.c: names of the bound's status and source, an ISO 8601 UTC
 * time, and vtime status's sections on the Hyper-V page, the VMClock device
 * and the bound (j NULL: text). */
const char *vt_bound_status_name(uint32_t s);
const char *vt_bound_source_name(uint32_t s);
const char *vt_bound_source_text(uint32_t s);
void vt_iso_time(uint64_t sec, uint32_t nsec, char *buf, size_t n);
void vt_pages_status(struct vt_json *j);

#endif
