/* SPDX-License-Identifier: MIT */
/* Umbrella header for the freestanding core (no libc needed). Platform
 * headers are separate: <vtime/clock.h> (Linux userspace), <vtime/kvm.h>
 * (VMMs on /dev/kvm). */
#ifndef VTIME_VTIME_H
#define VTIME_VTIME_H

#include <vtime/arch.h>
#include <vtime/calib.h>
#include <vtime/clamp.h>
#include <vtime/counter.h>
#include <vtime/error.h>
#include <vtime/hyperv.h>
#include <vtime/kvm_abi.h>
#include <vtime/pvclock.h>
#include <vtime/scale.h>
#include <vtime/ticks.h>
#include <vtime/tsc.h>
#include <vtime/vmclock.h>
#include <vtime/vmm.h>

#endif
