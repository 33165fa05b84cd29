/*
 * gemmini_record_core.h: the instruction record shared by the test-only gemmini.h
 * stand-ins (gemmini_record.h, and real_gemmini/ for checks against the real header).
 * Each instruction becomes a line "funct rs1 rs2" (unsigned decimal) in the file named
 * by $GEMMINI_RECORD (else stderr); DRAM operands that point into the image announced by
 * GEMMINI_RECORD_IMAGE(pointer, bytes, program_base) are recorded in the Program's
 * address space: address - pointer + program_base.
 */
#ifndef GEMFORGE_GEMMINI_RECORD_CORE_H
#define GEMFORGE_GEMMINI_RECORD_CORE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define GEMMINI_RECORD_FENCE 1000

/* ---------------------------------------------------------------- the record */
static FILE *gemmini_record_out;
static uintptr_t gemmini_record_image_lo, gemmini_record_image_hi;
static uint64_t gemmini_record_program_base;

static inline void gemmini_record_set_image(const void *image, uint64_t bytes, uint64_t program_base) {
  gemmini_record_image_lo = (uintptr_t)image;
  gemmini_record_image_hi = (uintptr_t)image + bytes;
  gemmini_record_program_base = program_base;
}
#define GEMMINI_RECORD_IMAGE(image, bytes, program_base) \
  gemmini_record_set_image((image), (bytes), (program_base))

/* A DRAM operand that points into the image is recorded in the Program's address space. */
static inline uint64_t gemmini_record_dram(uint64_t addr) {
  if (gemmini_record_image_hi != 0 && addr >= gemmini_record_image_lo && addr <= gemmini_record_image_hi)
    return addr - gemmini_record_image_lo + gemmini_record_program_base;
  return addr;
}

static inline void gemmini_record_insn(unsigned funct, uint64_t rs1, uint64_t rs2) {
  switch (funct) {
    case 1: case 2: case 14: case 3: /* mvin2, mvin, mvin3, mvout */
      rs1 = gemmini_record_dram(rs1);
      break;
    case 10: case 11: case 20: case 21: /* loop_ws addresses, loop_conv_ws config 5 and 6 */
      rs1 = gemmini_record_dram(rs1);
      rs2 = gemmini_record_dram(rs2);
      break;
    default:
      break;
  }
  if (gemmini_record_out == NULL) {
    const char *path = getenv("GEMMINI_RECORD");
    gemmini_record_out = path ? fopen(path, "w") : stderr;
    if (gemmini_record_out == NULL) {
      perror(path);
      exit(2);
    }
  }
  fprintf(gemmini_record_out, "%u %llu %llu\n", funct, (unsigned long long)rs1, (unsigned long long)rs2);
}

#endif /* GEMFORGE_GEMMINI_RECORD_CORE_H */
