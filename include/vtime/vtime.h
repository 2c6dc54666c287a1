/* SPDX-License-Identifier: MIT */
/* Umbrella header for the freestanding core. */
#ifndef VTIME_VTIME_H
#define VTIME_VTIME_H

#include <vtime/counter.h>
#include <vtime/error.h>
#include <vtime/pvclock.h>
#include <vtime/scale.h>
#include <vtime/tsc.h>

#endif
