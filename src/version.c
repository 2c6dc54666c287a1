/* SPDX-License-Identifier: MIT */
#include <vtime/version.h>

const char *vtime_version_string(void)
{
	return VTIME_VERSION_STRING;
}
