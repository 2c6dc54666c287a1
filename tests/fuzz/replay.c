/* SPDX-License-Identifier: MIT */
/* Replays inputs through one fuzz harness without libFuzzer: every file
 * named, and every file in every folder named (seed corpora and the
 * regression cases: inputs that once broke an invariant). A path written
 * ?PATH may be missing (a harness with no regression case yet). A broken
 * invariant aborts (FZ_CHECK), so the test fails. Built with every harness
 * in normal builds (gcc or clang, no sanitizer needed; the sanitizer CI step
 * runs it under ASan+UBSan). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static unsigned long inputs;

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f) {
		perror(path);
		return -1;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf || (n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n)) {
		fprintf(stderr, "%s: read failed\n", path);
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	inputs++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int err = 0;

	if (!d) {
		perror(dir);
		return -1;
	}
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "README.md"))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			names = realloc(names, cap * sizeof *names);
			if (!names)
				return -1;
		}
		names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		if (!err && run_file(path))
			err = -1;
		free(names[i]);
	}
	free(names);
	return err;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: %s NAME FILE-OR-DIR...\n", argv[0]);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		const char *path = argv[i][0] == '?' ? argv[i] + 1 : argv[i];
		struct stat st;
		if (stat(path, &st)) {
			if (argv[i][0] == '?')
				continue;
			perror(path);
			return 1;
		}
		if ((S_ISDIR(st.st_mode) ? run_dir(path) : run_file(path)) != 0)
			return 1;
	}
	printf("fuzz replay %s: %lu inputs, every invariant held\n", argv[1], inputs);
	return 0;
}
