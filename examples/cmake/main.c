/* SPDX-License-Identifier: MIT */
/* A program built by CMake against an installed vtime (CMakeLists.txt here):
 * the library's version and the scale KVM publishes for a 2.6 GHz TSC. */
#include <stdio.h>
#include <vtime/version.h>
#include <vtime/vtime.h>

int main(void)
{
	struct vtime_scale s;
	int err = vtime_scale_init(&s, 2599999000ull, VTIME_NSEC_PER_SEC);

	if (err) {
		fprintf(stderr, "vtime_scale_init: %s\n", vtime_strerror(err));
		return 1;
	}
	printf("vtime %s (headers %s): 2599999000 Hz -> mul %u shift %d\n", vtime_version_string(),
	       VTIME_VERSION_STRING, s.mul, s.shift);
	/* The values KVM's kvm_get_time_scale() gives for this frequency. */
	return s.mul == 3303822267u && s.shift == -1 ? 0 : 1;
}
