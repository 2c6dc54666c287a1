/* SPDX-License-Identifier: MIT */
/* A program that gets vtime as a Meson subproject (see meson.build here):
 * converts counter ticks to ns the way a KVM guest does. */
#include <inttypes.h>
#include <stdio.h>
#include <vtime/version.h>
#include <vtime/vtime.h>

int main(void)
{
	struct vtime_scale s;
	const uint64_t hz = 3000000000ull;
	int err = vtime_scale_init(&s, hz, VTIME_NSEC_PER_SEC);

	if (err) {
		fprintf(stderr, "vtime_scale_init: %s\n", vtime_strerror(err));
		return 1;
	}
	/* One second of ticks is 1e9 ns, less at most 1 ns of rounding down. */
	uint64_t ns = vtime_scale_apply(&s, hz);
	printf("vtime %s (headers %s): %" PRIu64 " ticks at %" PRIu64 " Hz = %" PRIu64 " ns\n",
	       vtime_version_string(), VTIME_VERSION_STRING, hz, vtime_scale_source_hz(&s), ns);
	return (ns == VTIME_NSEC_PER_SEC || ns == VTIME_NSEC_PER_SEC - 1) ? 0 : 1;
}
