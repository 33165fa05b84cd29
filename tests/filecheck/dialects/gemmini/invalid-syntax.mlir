// RUN: %parse-diagnostics

// Errors the custom syntax reports while parsing.

gemmini.config_ex a_stride 2
// CHECK: expected field 'dataflow'

// -----

gemmini.config_ex dataflow ws dataflow os
// CHECK: field 'dataflow' given twice

// -----

gemmini.config_ex dataflow diagonal
// CHECK: Expected `os`, or `ws`.

// -----

gemmini.config_ld stride 64 block_stride 16 bogus 1
// CHECK: unknown field 'bogus' (fields: stride, block_stride, id, scale, pixel_repeats, shrunk)

// -----

%d = "test.op"() : () -> i64
gemmini.mvin %d -> garbage rows 16 cols 16 : i64
// CHECK: the destination address cannot be garbage

// -----

%r = "test.op"() : () -> index
gemmini.preload acc[%r] full full rows 16 cols 16 -> garbage rows 16 cols 16
// CHECK: 'full' given twice

// -----

%r = "test.op"() : () -> index
gemmini.compute_preloaded spad[%r] rows 16, garbage rows 16 cols 16
// CHECK: Expected 'cols'

// -----

%a = "test.op"() : () -> i64
gemmini.loop_ws b %a, a %a i 1 j 1 k 1 a_stride 16 b_stride 16 : i64, i64
// CHECK: operand 'a' out of order (expected a, b, d, c)

// -----

%a = "test.op"() : () -> i64
gemmini.loop_ws a %a, b %a i 1 j 1 k 1 a_stride 16 b_stride 16 : i64
// CHECK: expected 2 operand types, got 1

// -----

%a = "test.op"() : () -> i64
gemmini.loop_ws a %a, c %a i 1 j 1 k 1 a_stride 16 b_stride 16 : i64, i64
// CHECK: gemmini.loop_ws needs operand(s) b

// -----

gemmini.config_ld stride 9223372036854775808 block_stride 16
// CHECK: stride = 9223372036854775808 does not fit an i64

// -----

%d = "test.op"() : () -> i64
%r = "test.op"() : () -> index
gemmini.mvin %d -> spad[%r] rows 99999999999999999999 cols 16 : i64
// CHECK: rows = 99999999999999999999 does not fit an i64

// -----

gemmini.config_ex dataflow ws acc_scale 1.0e40
// CHECK: acc_scale = 1e+40 does not fit an f32
