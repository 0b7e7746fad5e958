/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef VNP_COMPILER_H
#define VNP_COMPILER_H

#define VNP_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define VNP_UNUSED __attribute__((unused))
#define VNP_EXPORT __attribute__((visibility("default")))
#define VNP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VNP_MIN(a, b) ((a) < (b) ? (a) : (b))
#define VNP_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
