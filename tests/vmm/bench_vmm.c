/* SPDX-License-Identifier: MIT */
/* The VMM core at scale: ns per record (per vCPU) of each whole-VM
 * operation at 1, 16, 256, 1024 and 4096 vCPUs (KVM's limit), and the
 * ratio of the largest VM's cost to the smallest's, all in one run:
 *   publish   vtime_vmm_publish_all() (every vCPU's record)
 *   tsc       a TSC write on every vCPU that matches (KVM's 1-second rule)
 *   pause     vtime_vmm_pause() + vtime_vmm_resume() (GUEST_STOPPED requested
 *             on every vCPU) + vtime_vmm_publish_all()
 *   save      vtime_vmm_save() + every vtime_vmm_vcpu_save(), each encoded
 *   restore   a fresh VM: vtime_vmm_init(), every vtime_vmm_vcpu_init(), the
 *             images decoded, vtime_vmm_restore() + every vtime_vmm_vcpu_restore()
 * The core is caller-allocated: the benchmark allocates the vCPUs and their
 * records (64 bytes apart, like a guest's per-CPU records). Each figure is
 * the best of several rounds (noise on a shared machine only adds). Exits 1
 * if any operation at 4096 vCPUs costs more than VTIME_BENCH_MAX_RATIO
 * (default 3) times its cost at 1 vCPU: a cost that grows with the VM (the
 * old publish_all was 690x) fails; ordinary noise does not. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vtime/error.h>
#include <vtime/pvclock.h>
#include <vtime/vmm.h>

#define HZ 2600000000ull
#define NOPS 5

static const unsigned sizes[] = { 1, 16, 256, 1024, 4096 };
#define NSIZES (sizeof sizes / sizeof sizes[0])
static const char *const names[NOPS] = { "publish", "tsc", "pause", "save", "restore" };

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct rec64 {
	struct vtime_pvclock_vcpu_time_info r;
	uint8_t pad[32];
};

struct vmx {
	struct vtime_vmm vm;
	struct vtime_vmm_vcpu *v;
	struct rec64 *rec;
	unsigned n;
	uint64_t tsc;
};

static struct vtime_vmm_now now_at(uint64_t tsc)
{
	struct vtime_vmm_now n;
	n.host_tsc = tsc;
	n.host_ns = tsc / 26 * 10; /* 2.6 GHz */
	n.realtime_ns = 1700000000000000000ull + n.host_ns;
	return n;
}

static int check(int err, const char *what)
{
	if (err) {
		fprintf(stderr, "bench_vmm: %s: %s\n", what, vtime_strerror(err));
		exit(2);
	}
	return 0;
}

static void setup(struct vmx *x, unsigned n)
{
	struct vtime_vmm_config cfg;
	struct vtime_vmm_now now;

	memset(&cfg, 0, sizeof cfg);
	cfg.host_hz = HZ;
	x->n = n;
	x->tsc = 1000000;
	x->v = calloc(n, sizeof *x->v);
	x->rec = aligned_alloc(64, (size_t)n * sizeof *x->rec);
	if (!x->v || !x->rec)
		exit(2);
	memset(x->rec, 0, (size_t)n * sizeof *x->rec);
	now = now_at(x->tsc);
	check(vtime_vmm_init(&x->vm, &cfg, &now), "init");
	for (unsigned i = 0; i < n; i++) {
		check(vtime_vmm_vcpu_init(&x->vm, &x->v[i]), "vcpu_init");
		check(vtime_vmm_vcpu_set_record(&x->v[i], &x->rec[i].r), "set_record");
		check(vtime_vmm_vcpu_write_tsc(&x->v[i], 0, &now, true, NULL), "write_tsc");
	}
	check(vtime_vmm_publish_all(&x->vm, &now), "publish_all");
}

static void teardown(struct vmx *x)
{
	free(x->v);
	free(x->rec);
}

/* reps rounds of operation op over the whole VM; returns ns spent. The
 * host reading advances by a constant step (no division in the loop). */
static uint64_t batch(struct vmx *x, int op, unsigned long reps, uint8_t *img, uint8_t *vimg, struct vmx *y)
{
	struct vtime_vmm_now now = now_at(x->tsc), later;
	struct vtime_vmm_config cfg;
	struct vtime_vmm_state st;
	struct vtime_vmm_vcpu_state vs;
	uint64_t t0 = mono_ns();

	memset(&cfg, 0, sizeof cfg);
	cfg.host_hz = HZ;
	for (unsigned long k = 0; k < reps; k++) {
		now.host_tsc += 2600;
		now.host_ns += 1000;
		now.realtime_ns += 1000;
		switch (op) {
		case 0:
			check(vtime_vmm_publish_all(&x->vm, &now), "publish_all");
			break;
		case 1: {
			uint64_t guest = vtime_vmm_vcpu_tsc(&x->v[0], now.host_tsc);
			for (unsigned i = 0; i < x->n; i++)
				check(vtime_vmm_vcpu_write_tsc(&x->v[i], guest + i, &now, false, NULL), "write_tsc");
			break;
		}
		case 2:
			later = now;
			later.host_tsc += 1300;
			later.host_ns += 500;
			later.realtime_ns += 500;
			check(vtime_vmm_pause(&x->vm, &now), "pause");
			check(vtime_vmm_resume(&x->vm, &later, VTIME_RESUME_FREEZE), "resume");
			check(vtime_vmm_publish_all(&x->vm, &later), "publish_all");
			now = later;
			break;
		case 3:
			check(vtime_vmm_save(&x->vm, &now, &st), "save");
			check(vtime_vmm_state_encode(&st, img, VTIME_VMM_STATE_BYTES), "encode");
			for (unsigned i = 0; i < x->n; i++) {
				check(vtime_vmm_vcpu_save(&x->v[i], &now, &vs), "vcpu_save");
				check(vtime_vmm_vcpu_state_encode(&vs, vimg + (size_t)i * VTIME_VMM_VCPU_STATE_BYTES,
								  VTIME_VMM_VCPU_STATE_BYTES),
				      "vcpu encode");
			}
			break;
		default:
			check(vtime_vmm_init(&y->vm, &cfg, &now), "init");
			check(vtime_vmm_state_decode(&st, img, VTIME_VMM_STATE_BYTES), "decode");
			check(vtime_vmm_restore(&y->vm, &st, &now, VTIME_RESUME_FREEZE), "restore");
			for (unsigned i = 0; i < x->n; i++) {
				check(vtime_vmm_vcpu_init(&y->vm, &y->v[i]), "vcpu_init");
				check(vtime_vmm_vcpu_set_record(&y->v[i], &y->rec[i].r), "set_record");
				check(vtime_vmm_vcpu_state_decode(&vs, vimg + (size_t)i * VTIME_VMM_VCPU_STATE_BYTES,
								  VTIME_VMM_VCPU_STATE_BYTES),
				      "vcpu decode");
				check(vtime_vmm_vcpu_restore(&y->v[i], &vs, &now, NULL), "vcpu_restore");
			}
			break;
		}
	}
	x->tsc = now.host_tsc;
	return mono_ns() - t0;
}

int main(void)
{
	double res[NOPS][NSIZES];
	const char *s = getenv("VTIME_BENCH_ITERS");
	unsigned long budget = s && *s ? strtoul(s, NULL, 0) : 2000000; /* records per figure */
	const char *r = getenv("VTIME_BENCH_MAX_RATIO");
	double max_ratio = r && *r ? strtod(r, NULL) : 3.0;
	int fail = 0;

	for (size_t k = 0; k < NSIZES; k++) {
		unsigned n = sizes[k];
		struct vmx x, y;
		uint8_t img[VTIME_VMM_STATE_BYTES];
		uint8_t *vimg = malloc((size_t)n * VTIME_VMM_VCPU_STATE_BYTES);
		unsigned long rounds = budget / n < 20 ? 20 : budget / n;

		if (!vimg)
			return 2;
		setup(&x, n);
		setup(&y, n);
		(void)batch(&x, 3, 1, img, vimg, &y); /* images for the restore rounds */
		for (int op = 0; op < NOPS; op++) {
			double best = 1e300;
			/* best of 5 batches of rounds/5 rounds each */
			for (int b = 0; b < 5; b++) {
				unsigned long reps = rounds / 5 + 1;
				double per = (double)batch(&x, op, reps, img, vimg, &y) / (double)reps / n;
				if (per < best)
					best = per;
			}
			res[op][k] = best;
		}
		teardown(&x);
		teardown(&y);
		free(vimg);
	}
	printf("VMM core, ns per record (per vCPU), best of 5 batches; ratio = 4096 vCPUs / 1 vCPU\n");
	printf("%-8s", "vCPUs");
	for (size_t k = 0; k < NSIZES; k++)
		printf(" %9u", sizes[k]);
	printf("     ratio\n");
	for (int op = 0; op < NOPS; op++) {
		double ratio = res[op][NSIZES - 1] / res[op][0];
		printf("%-8s", names[op]);
		for (size_t k = 0; k < NSIZES; k++)
			printf(" %9.1f", res[op][k]);
		printf(" %9.2fx\n", ratio);
		if (ratio > max_ratio) {
			printf("  FAIL: %s costs %.2fx more per record at %u vCPUs than at 1 (limit %.1fx)\n", names[op],
			       ratio, sizes[NSIZES - 1], max_ratio);
			fail = 1;
		}
	}
	return fail;
}
