/* SPDX-License-Identifier: MIT */
/* vtime: this machine's clocks under virtualization. See docs/vtime.1.
 * Options are parsed with getopt_long, globally (before the command) and
 * per command; an option a command does not take is an error, never
 * ignored. Every command has its own --help (also `vtime help COMMAND`). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vtime/version.h>

#include "vt_parse.h"
#include "vt_tool.h"

enum { OPT_JSON = 1u << 0, OPT_SECONDS = 1u << 1 };

struct cmd {
	const char *name;
	int (*fn)(const struct vt_opts *);
	const char *args;    /* positional arguments, for the usage line */
	int nargs;           /* how many it needs */
	int nargs_max;       /* how many it takes (more than nargs: the rest optional) */
	unsigned opts;       /* OPT_* it takes */
	double seconds_dflt; /* --seconds default (with OPT_SECONDS) */
	const char *summary; /* one line */
	const char *help;    /* what it does, for its --help */
};

static const struct cmd cmds[] = {
	{ "status", cmd_status, "", 0, 0, OPT_JSON, 0,
	  "hypervisor, clocksource, TSC, host pages, frequency sources, vtime's choice, the bound",
	  "Shows what this machine offers for timekeeping (CPUID, the kernel's clocksources and NTP\n"
	  "state, the host pvclock page), every source of the counter frequency and how far they\n"
	  "agree, the source vtime_now_ns() chose and why; then the Hyper-V reference TSC page and\n"
	  "the VMClock device (present with their fields, or absent with the reason) and what\n"
	  "vtime_bounded_now()'s error bound rests on (vtime_bounded_info).\n" },
	{ "now", cmd_now, "", 0, 0, OPT_JSON, 0, "every clock side by side, and the bounded interval",
	  "Reads every clock back to back (CLOCK_MONOTONIC, vtime_now_ns(), vtime_counter_to_ns(),\n"
	  "kvmclock, CLOCK_MONOTONIC_RAW, CLOCK_BOOTTIME, CLOCK_REALTIME, vtime_realtime_ns())\n"
	  "with their differences from CLOCK_MONOTONIC, then vtime_bounded_now()'s interval: earliest,\n"
	  "latest, width, status (synchronized, free-running, unknown, disrupted) and the source of\n"
	  "the bound.\n" },
	{ "check", cmd_check, "", 0, 0, OPT_JSON | OPT_SECONDS, 5,
	  "monotonicity across threads pinned to every CPU, drift vs CLOCK_MONOTONIC",
	  "One thread pinned to every CPU reads vtime_now_ns() for --seconds; fails (exit 1) on a\n"
	  "backward step, an established error beyond 1 ms against CLOCK_MONOTONIC, or too few\n"
	  "bracketed samples to judge.\n" },
	{ "bench", cmd_bench, "", 0, 0, OPT_JSON | OPT_SECONDS, 2,
	  "ns per call of vtime and the alternatives, with the ratios",
	  "Measures ns per call of vtime's clocks and the alternatives (clock_gettime through the\n"
	  "vDSO and as a system call, bare counter reads), in about --seconds in all.\n" },
	{ "scale", cmd_scale, "HZ", 1, 1, OPT_JSON, 0,
	  "the (shift, mul) a VMM publishes for a TSC of HZ, both directions",
	  "Prints the (shift, mul) KVM publishes in a pvclock record for a TSC of HZ, the reverse\n"
	  "scale, and the frequency recovered from it. HZ: 2599999000, 2.6GHz, 1996.248MHz, 2599999k\n"
	  "(a whole number of Hz, 1 to 18446744073709551615).\n" },
	{ "pvclock", cmd_pvclock, "", 0, 0, OPT_JSON, 0,
	  "dump this machine's host pvclock record (or say why there is none)",
	  "Dumps the host pvclock record the kernel maps into every process (version, timestamps,\n"
	  "mul, shift, flags, the TSC frequency and kvmclock now), or says why there is none.\n" },
	{ "vmclock", cmd_vmclock, "[PATH]", 0, 1, OPT_JSON, 0,
	  "dump a VMClock page: /dev/vmclock0 (or say why there is none), or PATH",
	  "Dumps a VMClock page (Linux's ptp_vmclock device, /dev/vmclock0 by default, or PATH: another\n"
	  "device, or a one-page file standing in for one): the header, counter_id, time_type,\n"
	  "seq_count, disruption marker, generation counter, flags, clock status, UTC/TAI and leap\n"
	  "second, the counter period and its errors, the time and its errors at the reference point,\n"
	  "and the time now with its maxerror. Without PATH, a missing device is an answer (exit 0,\n"
	  "with the reason); a PATH that cannot be opened or holds no VMClock is an error (exit 3).\n" },
	{ "hv", cmd_hv, "[PATH]", 0, 1, OPT_JSON, 0,
	  "dump the Hyper-V reference TSC page (or say why there is none), or PATH",
	  "Dumps the Hyper-V reference TSC page the kernel maps into every process's vvar area\n"
	  "(tsc_sequence, tsc_scale, tsc_offset, the TSC frequency they give, the reference time\n"
	  "now), or says why there is none; with PATH, the page in that file (a 4096-byte stand-in).\n"
	  "Without PATH, no page is an answer (exit 0); a PATH that cannot be read as one is an\n"
	  "error (exit 3).\n" },
	{ NULL, NULL, NULL, 0, 0, 0, 0, NULL, NULL },
};

static const struct cmd *find_cmd(const char *name)
{
	for (const struct cmd *c = cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vtime [--json] COMMAND [OPTIONS] [ARGS]\n"
		   "       vtime COMMAND --help | vtime help [COMMAND] | vtime --version\n\ncommands:\n");
	for (const struct cmd *c = cmds; c->name; c++) {
		char head[32];
		snprintf(head, sizeof head, "%s%s%s", c->name, c->args[0] ? " " : "", c->args);
		fprintf(f, "  %-15s %s\n", head, c->summary);
	}
	fprintf(f, "\noptions (before the command):\n"
		   "  --json          machine-readable output (every command also takes it)\n"
		   "  -h, --help      this text\n"
		   "  --version       print the version\n"
		   "\n'vtime COMMAND --help' lists a command's own options.\n");
}

static void cmd_usage(FILE *f, const struct cmd *c)
{
	fprintf(f, "usage: vtime %s%s%s%s%s\n\n%s\noptions:\n", c->name, c->opts & OPT_SECONDS ? " [--seconds N]" : "",
		c->opts & OPT_JSON ? " [--json]" : "", c->args[0] ? " " : "", c->args, c->help);
	if (c->opts & OPT_SECONDS)
		fprintf(f, "  --seconds N     how long to run, in (0, 86400] seconds (default %g)\n", c->seconds_dflt);
	if (c->opts & OPT_JSON)
		fprintf(f, "  --json          one JSON object on standard output\n");
	fprintf(f, "  -h, --help      this text\n");
}

/* The commands that take a long option (for "not an option of ..."). */
static void takers(const char *opt, char *out, size_t n)
{
	out[0] = '\0';
	if (strcmp(opt, "seconds") != 0)
		return;
	for (const struct cmd *c = cmds; c->name; c++)
		if (c->opts & OPT_SECONDS) {
			if (out[0])
				strncat(out, " and ", n - strlen(out) - 1);
			strncat(out, c->name, n - strlen(out) - 1);
		}
}

/* The option argv[optind - 1] named, without its value. */
static void opt_name(const char *arg, char *out, size_t n)
{
	size_t len = strcspn(arg, "=");
	snprintf(out, n, "%.*s", (int)(len < n ? len : n - 1), arg);
}

/* getopt_long's '?' or ':' turned into one message (where: the command,
 * NULL for the options before it); always VT_EXIT_USAGE. */
static int bad_option(const char *where, const char *help, int ret, char **argv, int optind_now,
		      const struct option *longs)
{
	const char *arg = argv[optind_now - 1];
	char name[64], who[64], pre[40];

	/* "check: " for a command's options, nothing for the global ones */
	snprintf(pre, sizeof pre, "%s%s", where ? where : "", where ? ": " : "");

	if (optopt && optopt != '?' && arg[0] == '-' && arg[1] != '-') {
		if (ret == ':')
			vt_err("%soption '-%c' needs a value (see %s)", pre, optopt, help);
		else
			vt_err("%sunknown option '-%c' (see %s)", pre, optopt, help);
		return VT_EXIT_USAGE;
	}
	opt_name(arg, name, sizeof name);
	for (const struct option *o = longs; o->name && name[2]; o++) {
		if (!strncmp(name + 2, o->name, strlen(name + 2))) {
			if (ret == ':' || (o->has_arg == required_argument && !strchr(arg, '=')))
				vt_err("%soption '--%s' needs a value (see %s)", pre, o->name, help);
			else if (o->has_arg == no_argument && strchr(arg, '='))
				vt_err("%soption '--%s' takes no value (see %s)", pre, o->name, help);
			else
				vt_err("%sbad option '%s' (see %s)", pre, arg, help);
			return VT_EXIT_USAGE;
		}
	}
	takers(name + 2, who, sizeof who);
	if (who[0]) {
		char first[32];
		snprintf(first, sizeof first, "%.*s", (int)strcspn(who, " "), who);
		vt_err("%s'%s' is not an option here (%s take%s it: vtime %s %s N; see %s)", pre, name, who,
		       strchr(who, ' ') ? "" : "s", first, name, help);
	} else
		vt_err("%sunknown option '%s' (see %s)", pre, name, help);
	return VT_EXIT_USAGE;
}

static int run_cmd(const struct cmd *c, int argc, char **argv, bool json)
{
	struct vt_opts o = { json, false, c->seconds_dflt, false, 0, NULL };
	struct option longs[4];
	int nl = 0, ret;
	char where[32], help[48];

	snprintf(where, sizeof where, "%s", c->name);
	snprintf(help, sizeof help, "vtime %s --help", c->name);
	if (c->opts & OPT_JSON)
		longs[nl++] = (struct option){ "json", no_argument, NULL, 'j' };
	if (c->opts & OPT_SECONDS)
		longs[nl++] = (struct option){ "seconds", required_argument, NULL, 's' };
	longs[nl++] = (struct option){ "help", no_argument, NULL, 'h' };
	longs[nl] = (struct option){ NULL, 0, NULL, 0 };

	optind = 0; /* glibc: a full re-initialisation for the command's arguments */
	opterr = 0;
	while ((ret = getopt_long(argc, argv, ":h", longs, NULL)) != -1) {
		const char *why;
		switch (ret) {
		case 'j':
			o.json = true;
			break;
		case 's':
			if (vt_parse_seconds(optarg, 86400, &o.seconds, &why) != 0) {
				vt_err("%s: --seconds '%s' is not a duration in (0, 86400] seconds", where, optarg);
				return VT_EXIT_USAGE;
			}
			o.seconds_set = true;
			break;
		case 'h':
			cmd_usage(stdout, c);
			return VT_EXIT_OK;
		default:
			return bad_option(where, help, ret, argv, optind, longs);
		}
	}
	o.argc = argc - optind;
	o.argv = argv + optind;
	if (o.argc > c->nargs_max) {
		vt_err("%s: unexpected argument '%s' (see %s)", where, o.argv[c->nargs_max], help);
		return VT_EXIT_USAGE;
	}
	if (o.argc < c->nargs) {
		vt_err("usage: vtime %s %s   (see %s)", c->name, c->args, help);
		return VT_EXIT_USAGE;
	}
	return c->fn(&o);
}

int main(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct cmd *c;
	bool json = false;
	int ret;

	opterr = 0;
	/* '+': stop at the command; what follows it is the command's. */
	while ((ret = getopt_long(argc, argv, "+:h", longs, NULL)) != -1) {
		switch (ret) {
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return VT_EXIT_OK;
		case 'V':
			printf("vtime %s\n", VTIME_VERSION_STRING);
			return VT_EXIT_OK;
		default:
			return bad_option(NULL, "vtime --help", ret, argv, optind, longs);
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return VT_EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "help")) {
		if (optind + 1 >= argc) {
			usage(stdout);
			return VT_EXIT_OK;
		}
		c = find_cmd(argv[optind + 1]);
		if (!c || optind + 2 < argc) {
			vt_err("help: %s (see vtime --help)", c ? "one command at a time" : "no such command");
			return VT_EXIT_USAGE;
		}
		cmd_usage(stdout, c);
		return VT_EXIT_OK;
	}
	c = find_cmd(argv[optind]);
	if (!c) {
		vt_err("unknown command '%s' (see vtime --help)", argv[optind]);
		return VT_EXIT_USAGE;
	}
	return run_cmd(c, argc - optind, argv + optind, json);
}
