/* SPDX-License-Identifier: MIT */
#include <vtime/error.h>

const char *vtime_strerror(int err)
{
	switch (err) {
	case VTIME_OK: return "success";
	case VTIME_EINVAL: return "invalid argument";
	case VTIME_EAGAIN: return "record busy (writer in progress or stuck): try again";
	case VTIME_ERANGE: return "value or ratio not representable";
	case VTIME_ENOTSUP: return "not supported on this platform or build";
	case VTIME_ENODEV: return "clock or device not present";
	case VTIME_EPROTO: return "record contents invalid (multiplier 0 or shift out of range)";
	case VTIME_ENODATA: return "record never published";
	case VTIME_EIO: return "operating-system call failed";
	case VTIME_EBUSY: return "resource busy";
	case VTIME_ENOMEM: return "out of memory";
	case VTIME_ESTATE: return "operation not valid in the current state";
	case VTIME_ENOCOUNTER: return "no counter-to-time data (VMClock page in marker-only mode)";
	case VTIME_EUNRELIABLE: return "the host reports its clock as unreliable";
	case VTIME_ENOTVALID: return "record marked invalid by its writer: use the fallback clock";
	default: return "unknown vtime error";
	}
}
