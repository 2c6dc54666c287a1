/* SPDX-License-Identifier: MIT */
/* Symbol visibility for the public API. The library is built with
 * -fvisibility=hidden; only VTIME_API symbols are exported (see src/vtime.map). */
#ifndef VTIME_EXPORT_H
#define VTIME_EXPORT_H

#if defined(VTIME_STATIC) || defined(VTIME_KERNEL)
#define VTIME_API
#elif defined(_WIN32)
#ifdef VTIME_BUILDING
#define VTIME_API __declspec(dllexport)
#else
#define VTIME_API __declspec(dllimport)
#endif
#elif defined(__GNUC__)
#define VTIME_API __attribute__((visibility("default")))
#else
#define VTIME_API
#endif

#endif
