/* SPDX-License-Identifier: MIT */
/* vtime: this machine's clocks under virtualization. See docs/vtime.1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vtime/version.h>

#include "vt_parse.h"
#include "vt_tool.h"

struct cmd {
	const char *name;
	int (*fn)(const struct vt_opts *);
	const char *help;
};

static const struct cmd cmds[] = {
	{ "status", cmd_status, "status       hypervisor, clocksource, TSC, host pvclock record, frequency sources, vtime's choice" },
	{ "now", cmd_now, "now          every clock side by side" },
	{ "check", cmd_check, "check        monotonicity across threads pinned to every CPU, drift vs CLOCK_MONOTONIC" },
	{ "bench", cmd_bench, "bench        ns per call of vtime and the alternatives, with the ratios" },
	{ "scale", cmd_scale, "scale HZ     the (shift, mul) a VMM publishes for a TSC of HZ, both directions" },
	{ "pvclock", cmd_pvclock, "pvclock      dump this machine's host pvclock record (or say why there is none)" },
	{ NULL, NULL, NULL },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vtime [--json] COMMAND [ARGS]\n\ncommands:\n");
	for (const struct cmd *c = cmds; c->name; c++)
		fprintf(f, "  %s\n", c->help);
	fprintf(f, "\noptions:\n  --json          machine-readable output\n"
		   "  --seconds N     duration of check (default 5) and bench (default 2)\n  -h, --help      this text\n"
		   "  --version       print the version\n");
}

int main(int argc, char **argv)
{
	struct vt_opts o = { false, false, 5.0, false, 0, NULL };
	const char *name = NULL;
	char *pos[16];
	int npos = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--json")) {
			o.json = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help") || !strcmp(a, "help")) {
			usage(stdout);
			return VT_EXIT_OK;
		} else if (!strcmp(a, "--version")) {
			printf("vtime %s\n", VTIME_VERSION_STRING);
			return VT_EXIT_OK;
		} else if (!strcmp(a, "--seconds") || !strncmp(a, "--seconds=", 10)) {
			const char *v = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[++i] : NULL);
			const char *why;
			if (!v) {
				vt_err("--seconds needs a value");
				return VT_EXIT_USAGE;
			}
			if (vt_parse_seconds(v, 86400, &o.seconds, &why) != 0) {
				vt_err("--seconds: '%s' is not a duration in (0, 86400] seconds", v);
				return VT_EXIT_USAGE;
			}
			o.seconds_set = true;
		} else if (a[0] == '-' && a[1] == '-') {
			vt_err("unknown option '%s' (see vtime --help)", a);
			return VT_EXIT_USAGE;
		} else if (!name) {
			name = a;
		} else if (npos < 16) {
			pos[npos++] = argv[i];
		} else {
			vt_err("too many arguments");
			return VT_EXIT_USAGE;
		}
	}
	if (!name) {
		usage(stderr);
		return VT_EXIT_USAGE;
	}
	o.argc = npos;
	o.argv = pos;
	for (const struct cmd *c = cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return c->fn(&o);
	vt_err("unknown command '%s' (see vtime --help)", name);
	return VT_EXIT_USAGE;
}
