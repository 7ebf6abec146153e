// SPDX-License-Identifier: GPL-2.0
#define NR_FIX_MARKER "NR-AGENT-FIX-2"
#include "fix_common.h"
MODULE_DESCRIPTION("noreboot agent vm test: /proc/cmdline shows NR-AGENT-FIX-2");
