/*
 * Test-only stand-in for rocc-software's xcustom.h, so that gemmini-rocc-tests' real
 * include/gemmini.h can be compiled on the build machine: the two RoCC instruction
 * macros gemmini.h builds on record (funct, rs1, rs2) instead of issuing a custom-3
 * instruction.  Used by tests/c/test_real_gemmini_h.py with $GEMMINI_ROCC_TESTS.
 */
#ifndef GEMFORGE_XCUSTOM_RECORD_H
#define GEMFORGE_XCUSTOM_RECORD_H

#include "gemmini_record_core.h"

#define ROCC_INSTRUCTION_0_R_R(x, rs1, rs2, funct) \
  { gemmini_record_insn((funct), (uint64_t)(rs1), (uint64_t)(rs2)); }
#define ROCC_INSTRUCTION(x, rd, rs1, rs2, funct) \
  { gemmini_record_insn((funct), (uint64_t)(rs1), (uint64_t)(rs2)); (rd) = 0; }

#endif
