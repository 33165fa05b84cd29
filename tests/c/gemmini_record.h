/*
 * gemmini_record.h: a TEST-ONLY stand-in for gemmini-rocc-tests' include/gemmini.h.
 *
 * It provides the macro names that gemforge's C backend uses (the gemmini_extended_*,
 * gemmini_config_*, gemmini_loop_* and gemmini_fence macros and the raw
 * ROCC_INSTRUCTION_RS1_RS2) but, instead of issuing a RoCC instruction, each one appends
 * a line "funct rs1 rs2" (three unsigned decimal numbers) to a record.  A fence is
 * recorded as funct 1000 with zero operands.  The bit packing is written from the field
 * layouts of Gemmini's ISA (register, shift, width), one helper per operand shape.
 *
 * DRAM addresses.  On hardware the DRAM operands (mvin/mvout rs1, the loop_ws address
 * words, loop_conv_ws config words 5 and 6) are host pointers into the program's static
 * image.  To compare them with the simulator, which sees the Program's own addresses,
 * the emitted C announces its image with GEMMINI_RECORD_IMAGE(pointer, bytes,
 * program_base); such an operand that points into [pointer, pointer + bytes] is recorded
 * as  address - pointer + program_base  (other values, e.g. 0 = "no bias", unchanged).
 *
 * Output goes to the file named by the environment variable GEMMINI_RECORD, else stderr.
 * Compile the emitted C with -DGEMFORGE_GEMMINI_H='"gemmini_record.h"' -I<this folder>.
 */
#ifndef GEMFORGE_GEMMINI_RECORD_H
#define GEMFORGE_GEMMINI_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemmini_record_core.h"

/* ---------------------------------------------------------------- ISA constants */
#define XCUSTOM_ACC 3
#define ADDR_LEN 32

#define k_CONFIG 0
#define k_MVIN2 1
#define k_MVIN 2
#define k_MVOUT 3
#define k_COMPUTE_PRELOADED 4
#define k_COMPUTE_ACCUMULATE 5
#define k_PRELOAD 6
#define k_FLUSH 7
#define k_LOOP_WS 8
#define k_LOOP_WS_CONFIG_BOUNDS 9
#define k_LOOP_WS_CONFIG_ADDRS_AB 10
#define k_LOOP_WS_CONFIG_ADDRS_DC 11
#define k_LOOP_WS_CONFIG_STRIDES_AB 12
#define k_LOOP_WS_CONFIG_STRIDES_DC 13
#define k_MVIN3 14
#define k_LOOP_CONV_WS 15
#define k_LOOP_CONV_WS_CONFIG_1 16
#define k_LOOP_CONV_WS_CONFIG_2 17
#define k_LOOP_CONV_WS_CONFIG_3 18
#define k_LOOP_CONV_WS_CONFIG_4 19
#define k_LOOP_CONV_WS_CONFIG_5 20
#define k_LOOP_CONV_WS_CONFIG_6 21
#define k_COUNTER 126

#define CONFIG_EX 0
#define CONFIG_LD 1
#define CONFIG_ST 2
#define GARBAGE_ADDR ((uint32_t)(-1))
#define OUTPUT_STATIONARY 0
#define WEIGHT_STATIONARY 1
#define NO_ACTIVATION 0
#define RELU 1

typedef float scale_t;
typedef float acc_scale_t;

/* fp32 bit patterns, as the hardware receives them. */
static inline uint32_t gemmini_record_f32_bits(float x) {
  uint32_t bits;
  memcpy(&bits, &x, sizeof bits);
  return bits;
}
#define scale_t_to_scale_t_bits(x) gemmini_record_f32_bits((float)(x))
#define acc_scale_t_to_acc_scale_t_bits(x) gemmini_record_f32_bits((float)(x))

/* ---------------------------------------------------------------- operand packing */
/* rows<<48 | cols<<32 | local address: mvin, mvout, preload and compute operands. */
static inline uint64_t gemmini_record_operand(uint64_t local, uint64_t cols, uint64_t rows) {
  return (rows << (ADDR_LEN + 16)) | (cols << ADDR_LEN) | (local & 0xFFFFFFFFull);
}

/* Four 16-bit fields, lowest first. */
static inline uint64_t gemmini_record_16x4(uint64_t f0, uint64_t f1, uint64_t f2, uint64_t f3) {
  return (f3 << 48) | (f2 << 32) | (f1 << 16) | f0;
}

#define ROCC_INSTRUCTION_RS1_RS2(x, rs1, rs2, funct) \
  gemmini_record_insn((funct), (uint64_t)(rs1), (uint64_t)(rs2));

/* ---------------------------------------------------------------- data movement */
#define gemmini_extended_mvin(dram_addr, spad_addr, cols, rows) \
  gemmini_record_insn(k_MVIN, (uint64_t)(dram_addr), gemmini_record_operand((spad_addr), (cols), (rows)));
#define gemmini_extended_mvin2(dram_addr, spad_addr, cols, rows) \
  gemmini_record_insn(k_MVIN2, (uint64_t)(dram_addr), gemmini_record_operand((spad_addr), (cols), (rows)));
#define gemmini_extended_mvin3(dram_addr, spad_addr, cols, rows) \
  gemmini_record_insn(k_MVIN3, (uint64_t)(dram_addr), gemmini_record_operand((spad_addr), (cols), (rows)));
#define gemmini_extended_mvout(dram_addr, spad_addr, cols, rows) \
  gemmini_record_insn(k_MVOUT, (uint64_t)(dram_addr), gemmini_record_operand((spad_addr), (cols), (rows)));

/* ---------------------------------------------------------------- execute */
#define gemmini_extended_preload(BD, C, BD_cols, BD_rows, C_cols, C_rows) \
  gemmini_record_insn(k_PRELOAD, gemmini_record_operand((BD), (BD_cols), (BD_rows)), \
                      gemmini_record_operand((C), (C_cols), (C_rows)));
#define gemmini_extended_compute_preloaded(A, BD, A_cols, A_rows, BD_cols, BD_rows) \
  gemmini_record_insn(k_COMPUTE_PRELOADED, gemmini_record_operand((A), (A_cols), (A_rows)), \
                      gemmini_record_operand((BD), (BD_cols), (BD_rows)));
#define gemmini_extended_compute_accumulated(A, BD, A_cols, A_rows, BD_cols, BD_rows) \
  gemmini_record_insn(k_COMPUTE_ACCUMULATE, gemmini_record_operand((A), (A_cols), (A_rows)), \
                      gemmini_record_operand((BD), (BD_cols), (BD_rows)));

/* ---------------------------------------------------------------- configuration */
/* rs1: cmd[1:0] dataflow[2] act[4:3] set_only_strides[7] transposes[9:8] A stride[31:16]
 * acc scale[63:32]; rs2: shift[31:0] C stride[63:48]. */
#define gemmini_extended3_config_ex(dataflow, act, sys_shift, acc_scale, C_stride, A_stride, A_transpose, \
                                    B_transpose, set_only_strides) \
  gemmini_record_insn(k_CONFIG, \
      ((uint64_t)acc_scale_t_to_acc_scale_t_bits(acc_scale) << 32) | ((uint64_t)(A_stride) << 16) | \
      ((uint64_t)(B_transpose) << 9) | ((uint64_t)(A_transpose) << 8) | ((uint64_t)(set_only_strides) << 7) | \
      ((uint64_t)(act) << 3) | ((uint64_t)(dataflow) << 2) | CONFIG_EX, \
      ((uint64_t)(C_stride) << 48) | (uint64_t)(sys_shift));

/* rs1: cmd shrunk[2] id[4:3] pixel_repeats[15:8] block stride[31:16] scale[63:32]; rs2: stride. */
#define gemmini_extended5_config_ld(stride, scale, shrunk, block_mvin_stride, pixel_repeats, id) \
  gemmini_record_insn(k_CONFIG, \
      ((uint64_t)scale_t_to_scale_t_bits(scale) << 32) | ((uint64_t)(block_mvin_stride) << 16) | \
      ((uint64_t)(pixel_repeats) << 8) | ((uint64_t)(id) << 3) | ((uint64_t)(shrunk) << 2) | CONFIG_LD, \
      (uint64_t)(stride));

/* rs1: cmd act[3:2] pool stride[5:4] pool size[7:6] upad[9:8] lpad[11:10] pool_out_dim[31:24]
 * porows[39:32] pocols[47:40] orows[55:48] ocols[63:56]; rs2: scale[63:32] stride[31:0]. */
#define gemmini_extended2_config_st(stride, acc_act, acc_scale, pool_stride, pool_size, pool_out_dim, porows, \
                                    pocols, orows, ocols, upad, lpad) \
  gemmini_record_insn(k_CONFIG, \
      ((uint64_t)(ocols) << 56) | ((uint64_t)(orows) << 48) | ((uint64_t)(pocols) << 40) | \
      ((uint64_t)(porows) << 32) | ((uint64_t)(pool_out_dim) << 24) | ((uint64_t)(lpad) << 10) | \
      ((uint64_t)(upad) << 8) | ((uint64_t)(pool_size) << 6) | ((uint64_t)(pool_stride) << 4) | \
      ((uint64_t)(acc_act) << 2) | CONFIG_ST, \
      ((uint64_t)acc_scale_t_to_acc_scale_t_bits(acc_scale) << 32) | (uint64_t)(uint32_t)(stride));

/* Runtime glue of the emitted C that is not part of the Program's stream: not recorded. */
#define GEMFORGE_START() do { } while (0)
#define GEMFORGE_HOST_FENCE() do { } while (0)

#define gemmini_flush(skip) gemmini_record_insn(k_FLUSH, (uint64_t)(skip), 0);
#define gemmini_fence() gemmini_record_insn(GEMMINI_RECORD_FENCE, 0, 0)

/* ---------------------------------------------------------------- hardware loops */
#define gemmini_loop_ws(I, J, K, pad_I, pad_J, pad_K, A, B, D, C, A_stride, B_stride, D_stride, C_stride, \
                        A_transpose, B_transpose, full_C, low_D, ex_accumulate, act, a_spad_id, b_spad_id, \
                        is_resadd) \
  { \
    gemmini_record_insn(k_LOOP_WS_CONFIG_BOUNDS, gemmini_record_16x4((pad_I), (pad_J), (pad_K), 0), \
                        gemmini_record_16x4((I), (J), (K), 0)); \
    gemmini_record_insn(k_LOOP_WS_CONFIG_ADDRS_AB, (uint64_t)(A), (uint64_t)(B)); \
    gemmini_record_insn(k_LOOP_WS_CONFIG_ADDRS_DC, (uint64_t)(D), (uint64_t)(C)); \
    gemmini_record_insn(k_LOOP_WS_CONFIG_STRIDES_AB, (uint64_t)(A_stride), (uint64_t)(B_stride)); \
    gemmini_record_insn(k_LOOP_WS_CONFIG_STRIDES_DC, (uint64_t)(D_stride), (uint64_t)(C_stride)); \
    gemmini_record_insn(k_LOOP_WS, \
        ((uint64_t)(a_spad_id) << 18) | ((uint64_t)(b_spad_id) << 16) | ((uint64_t)(act) << 8) | \
        ((uint64_t)(low_D) << 2) | ((uint64_t)(full_C) << 1) | (uint64_t)(ex_accumulate), \
        ((uint64_t)(is_resadd) << 2) | ((uint64_t)(B_transpose) << 1) | (uint64_t)(A_transpose)); \
  }

#define gemmini_loop_conv_ws(batch_size, in_row_dim, in_col_dim, in_channels, out_channels, out_row_dim, \
    out_col_dim, pool_out_row_dim, pool_out_col_dim, stride, padding, kernel_dim, kernel_dilation, pool_size, \
    pool_stride, pool_padding, batches, porows, pocols, pochs, krows, kcols, kchs, lpad, rpad, upad, dpad, plpad, \
    prpad, pupad, pdpad, orows, ocols, weights, output, bias, input, no_bias, no_pool, downsample, wrot180, \
    input_dilated, activation, trans_output_1203, trans_weight_1203, trans_weight_0132, trans_input_3120, \
    max_pixels_per_row, in_stride, weight_stride, out_stride, dw, a_spad_id, b_spad_id) \
  { \
    gemmini_record_insn(k_LOOP_CONV_WS_CONFIG_1, \
        gemmini_record_16x4((batch_size), (in_row_dim), (in_channels), (out_channels)), \
        ((uint64_t)(padding) << 56) | ((uint64_t)(stride) << 48) | ((uint64_t)(out_col_dim) << 32) | \
        ((uint64_t)(pool_out_row_dim) << 16) | (uint64_t)(out_row_dim)); \
    gemmini_record_insn(k_LOOP_CONV_WS_CONFIG_2, \
        ((uint64_t)(kernel_dim) << 48) | ((uint64_t)(pool_out_col_dim) << 32) | ((uint64_t)(pool_size) << 16) | \
        ((uint64_t)(pool_stride) << 8) | (uint64_t)(pool_padding), \
        gemmini_record_16x4((pochs), (pocols), (porows), (batches))); \
    gemmini_record_insn(k_LOOP_CONV_WS_CONFIG_3, gemmini_record_16x4((lpad), (kchs), (kcols), (krows)), \
        ((uint64_t)(rpad) << 48) | ((uint64_t)(upad) << 32) | ((uint64_t)(dpad) << 24) | \
        ((uint64_t)(plpad) << 16) | (uint64_t)(in_col_dim)); \
    gemmini_record_insn(k_LOOP_CONV_WS_CONFIG_4, \
        ((uint64_t)(orows) << 48) | ((uint64_t)(prpad) << 32) | ((uint64_t)(pupad) << 21) | \
        ((uint64_t)(pdpad) << 10) | (uint64_t)(kernel_dilation), \
        gemmini_record_16x4((ocols), (out_stride), (weight_stride), (in_stride))); \
    gemmini_record_insn(k_LOOP_CONV_WS_CONFIG_5, (uint64_t)(weights), (uint64_t)(output)); \
    gemmini_record_insn(k_LOOP_CONV_WS_CONFIG_6, (uint64_t)(bias), (uint64_t)(input)); \
    gemmini_record_insn(k_LOOP_CONV_WS, \
        ((uint64_t)(a_spad_id) << 18) | ((uint64_t)(b_spad_id) << 16) | ((uint64_t)(max_pixels_per_row) << 8) | \
        ((uint64_t)(dw) << 6) | ((uint64_t)(trans_input_3120) << 5) | ((uint64_t)(trans_weight_0132) << 4) | \
        ((uint64_t)(trans_weight_1203) << 3) | ((uint64_t)(trans_output_1203) << 2) | \
        ((uint64_t)(wrot180) << 1) | (uint64_t)(no_bias), \
        ((uint64_t)(activation) << 3) | ((uint64_t)(input_dilated) << 2) | ((uint64_t)(downsample) << 1) | \
        (uint64_t)(no_pool)); \
  }

#endif /* GEMFORGE_GEMMINI_RECORD_H */
