// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

/*
 * AGENTDECK_SSE2 is 1 where the hot byte scans (JSON strings, log file lines,
 * redaction triggers) use SSE2, 0 where they use their portable loops. Every
 * x86-64 compiler has SSE2; configuring with AGENTDECK_SCALAR=ON turns it off so
 * that the portable loops, which other processors run, are built and tested too.
 */
#if defined(__SSE2__) && !defined(AGENTDECK_SCALAR)
#define AGENTDECK_SSE2 1
#include <emmintrin.h>
#else
#define AGENTDECK_SSE2 0
#endif
