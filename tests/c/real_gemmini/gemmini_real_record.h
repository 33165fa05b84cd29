/*
 * Test-only: the real include/gemmini.h (found through -I<gemmini-rocc-tests>), with its
 * RoCC macros recording (rocc-software/src/xcustom.h in this folder) and its fence,
 * a RISC-V instruction, recorded as funct 1000.  Glue outside the Program: not recorded.
 */
#ifndef GEMFORGE_GEMMINI_REAL_RECORD_H
#define GEMFORGE_GEMMINI_REAL_RECORD_H

#include "include/gemmini.h"

#undef gemmini_fence
#define gemmini_fence() gemmini_record_insn(GEMMINI_RECORD_FENCE, 0, 0)
#define GEMFORGE_START() do { } while (0)
#define GEMFORGE_HOST_FENCE() do { } while (0)

#endif
