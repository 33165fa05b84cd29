// RUN: %verify-diagnostics

// One split per verifier error of every gemmini op.

// ---- config_ex

gemmini.config_ex dataflow ws a_stride 70000
// CHECK: gemmini.config_ex: a_stride = 70000 is outside [0, 65535] (16-bit field)

// -----

gemmini.config_ex dataflow os in_shift 4294967296
// CHECK: gemmini.config_ex: in_shift = 4294967296 is outside [0, 4294967295] (32-bit field)

// -----

"gemmini.config_ex"() <{dataflow = #gemmini<dataflow ws>, acc_scale = 0x7F800000 : f32}> : () -> ()
// CHECK: gemmini.config_ex: acc_scale must be a finite f32, got inf

// -----

"gemmini.config_ex"() <{dataflow = #gemmini<activation relu>}> : () -> ()
// CHECK: #gemmini<activation relu> should be of base attribute gemmini.dataflow

// -----

"gemmini.config_ex"() <{activation = #gemmini<activation relu>}> : () -> ()
// CHECK: property 'dataflow' expected in operation 'gemmini.config_ex'

// ---- config_ld

// -----

gemmini.config_ld stride 64 block_stride 16 id 3
// CHECK: gemmini.config_ld: id = 3 is outside [0, 2] (2-bit field)

// -----

gemmini.config_ld stride -1 block_stride 16
// CHECK: gemmini.config_ld: stride = -1 is outside [0, 9223372036854775807] (64-bit field)

// -----

gemmini.config_ld stride 64 block_stride 65536
// CHECK: gemmini.config_ld: block_stride = 65536 is outside [0, 65535] (16-bit field)

// -----

gemmini.config_ld stride 64 block_stride 16 pixel_repeats 256
// CHECK: gemmini.config_ld: pixel_repeats = 256 is outside [0, 255] (8-bit field)

// -----

"gemmini.config_ld"() <{stride = 64 : i64, block_stride = 16 : i64, scale = 0x7FC00000 : f32}> : () -> ()
// CHECK: gemmini.config_ld: scale must be a finite f32, got nan

// ---- config_st

// -----

gemmini.config_st stride 4294967296
// CHECK: gemmini.config_st: stride = 4294967296 is outside [0, 4294967295] (32-bit field)

// -----

gemmini.config_st stride 16 pool_stride 4
// CHECK: gemmini.config_st: pool_stride = 4 is outside [0, 3] (2-bit field)

// -----

gemmini.config_st stride 16 ocols 256
// CHECK: gemmini.config_st: ocols = 256 is outside [0, 255] (8-bit field)

// -----

"gemmini.config_st"() <{stride = 16 : i64, activation = #gemmini<dataflow os>}> : () -> ()
// CHECK: #gemmini<dataflow os> should be of base attribute gemmini.activation

// -----

"gemmini.config_st"() <{stride = 16 : i64, scale = 0xFF800000 : f32}> : () -> ()
// CHECK: gemmini.config_st: scale must be a finite f32, got -inf

// ---- flush and fence

// -----

"gemmini.flush"() <{skip = 3 : i64}> : () -> ()
// CHECK: Expected attribute i1 but got i64

// -----

"gemmini.fence"() <{skip = true}> : () -> ()
// CHECK: property 'skip' is not defined by the operation 'gemmini.fence'

// ---- mvin, mvin2, mvin3

// -----

%d = "test.op"() : () -> i64
%r = "test.op"() : () -> index
gemmini.mvin %d -> spad[%r] rows 0 cols 16 : i64
// CHECK: gemmini.mvin: rows = 0 is outside [1, 65535] (16-bit field)

// -----

%d = "test.op"() : () -> i64
%r = "test.op"() : () -> index
gemmini.mvin2 %d -> spad[%r] rows 16 cols 65536 : i64
// CHECK: gemmini.mvin2: cols = 65536 is outside [1, 65535] (16-bit field)

// -----

%d = "test.op"() : () -> i64
%r = "test.op"() : () -> index
gemmini.mvin3 %d -> spad[%r] accumulate rows 16 cols 16 : i64
// CHECK: gemmini.mvin3: 'accumulate' needs a written accumulator address (destination address)

// -----

%d = "test.op"() : () -> i64
%r = "test.op"() : () -> index
gemmini.mvin %d -> acc[%r] full rows 16 cols 16 : i64
// CHECK: gemmini.mvin: 'full' needs an accumulator address that is read (destination address)

// -----

%d = "test.op"() : () -> i64
%r = arith.constant 67108864 : index
gemmini.mvin %d -> spad[%r] rows 16 cols 16 : i64
// CHECK: gemmini.mvin: destination address row 67108864 is outside [0, 67108863]

// -----

%d = "test.op"() : () -> i64
%r = "test.op"() : () -> index
"gemmini.mvin"(%d, %r) <{space = #gemmini<space garbage>, rows = 1 : i64, cols = 1 : i64}> : (i64, index) -> ()
// CHECK: gemmini.mvin: the destination address cannot be garbage

// -----

%d = "test.op"() : () -> i32
%r = "test.op"() : () -> index
"gemmini.mvin"(%d, %r) <{space = #gemmini<space spad>, rows = 1 : i64, cols = 1 : i64}> : (i32, index) -> ()
// CHECK: operand 'dram_addr' at position 0 does not verify

// ---- mvout

// -----

%d = "test.op"() : () -> i64
%r = "test.op"() : () -> index
gemmini.mvout acc[%r] accumulate rows 16 cols 16 -> %d : i64
// CHECK: gemmini.mvout: 'accumulate' needs a written accumulator address (source address)

// -----

%d = "test.op"() : () -> i64
%r = "test.op"() : () -> index
gemmini.mvout spad[%r] full rows 16 cols 16 -> %d : i64
// CHECK: gemmini.mvout: 'full' needs an accumulator address that is read (source address)

// -----

%d = "test.op"() : () -> i64
%r = "test.op"() : () -> index
gemmini.mvout acc[%r] rows 65536 cols 16 -> %d : i64
// CHECK: gemmini.mvout: rows = 65536 is outside [1, 65535] (16-bit field)

// -----

%d = "test.op"() : () -> i64
%r = "test.op"() : () -> index
"gemmini.mvout"(%d, %r) <{space = #gemmini<space garbage>, rows = 1 : i64, cols = 1 : i64}> : (i64, index) -> ()
// CHECK: gemmini.mvout: the source address cannot be garbage

// ---- preload

// -----

%r = "test.op"() : () -> index
gemmini.preload spad[%r] rows 16 cols 16 -> acc[%r] rows 0 cols 16
// CHECK: gemmini.preload: c_rows = 0 is outside [1, 65535] (16-bit field)

// -----

%r = "test.op"() : () -> index
gemmini.preload acc[%r] accumulate rows 16 cols 16 -> garbage rows 16 cols 16
// CHECK: gemmini.preload: 'accumulate' needs a written accumulator address (B/D address)

// -----

%r = "test.op"() : () -> index
gemmini.preload garbage rows 16 cols 16 -> spad[%r] accumulate rows 16 cols 16
// CHECK: gemmini.preload: 'accumulate' needs a written accumulator address (C address)

// -----

%r = arith.constant -1 : index
gemmini.preload garbage rows 16 cols 16 -> acc[%r] rows 16 cols 16
// CHECK: gemmini.preload: C address row -1 is outside [0, 67108863]

// -----

%r = "test.op"() : () -> index
"gemmini.preload"(%r) <{bd_space = #gemmini<space garbage>, bd_rows = 1 : i64, bd_cols = 1 : i64, c_space = #gemmini<space garbage>, c_rows = 1 : i64, c_cols = 1 : i64, operandSegmentSizes = array<i32: 1, 0>}> : (index) -> ()
// CHECK: gemmini.preload: a garbage B/D address takes no row operand

// -----

"gemmini.preload"() <{bd_space = #gemmini<space garbage>, bd_rows = 1 : i64, bd_cols = 1 : i64, c_space = #gemmini<space garbage>, c_accumulate = true, c_rows = 1 : i64, c_cols = 1 : i64, operandSegmentSizes = array<i32: 0, 0>}> : () -> ()
// CHECK: gemmini.preload: a garbage C address takes no accumulate / full flag

// -----

"gemmini.preload"() <{bd_space = #gemmini<space garbage>, bd_rows = 1 : i64, bd_cols = 1 : i64, c_space = #gemmini<space acc>, c_rows = 1 : i64, c_cols = 1 : i64, operandSegmentSizes = array<i32: 0, 0>}> : () -> ()
// CHECK: gemmini.preload: the C address in acc needs a row operand

// ---- compute_preloaded, compute_accumulated

// -----

%r = "test.op"() : () -> index
gemmini.compute_preloaded spad[%r] rows 16 cols 0, garbage rows 16 cols 16
// CHECK: gemmini.compute_preloaded: a_cols = 0 is outside [1, 65535] (16-bit field)

// -----

%r = "test.op"() : () -> index
gemmini.compute_accumulated spad[%r] rows 16 cols 16, acc[%r] accumulate rows 16 cols 16
// CHECK: gemmini.compute_accumulated: 'accumulate' needs a written accumulator address (B/D address)

// -----

%r = "test.op"() : () -> index
gemmini.compute_preloaded spad[%r] full rows 16 cols 16, garbage rows 16 cols 16
// CHECK: gemmini.compute_preloaded: 'full' needs an accumulator address that is read (A address)

// -----

%r = arith.constant 70000000 : index
gemmini.compute_accumulated spad[%r] rows 16 cols 16, garbage rows 16 cols 16
// CHECK: gemmini.compute_accumulated: A address row 70000000 is outside [0, 67108863]

// -----

"gemmini.compute_preloaded"() <{a_space = #gemmini<space garbage>, a_rows = 1 : i64, a_cols = 1 : i64, bd_space = #gemmini<space garbage>, bd_rows = 1 : i64, bd_cols = 1 : i64, operandSegmentSizes = array<i32: 0, 0>}> : () -> ()
// CHECK: expected 1 value for a_row, but got 0

// -----

%r = "test.op"() : () -> index
"gemmini.compute_preloaded"(%r) <{a_space = #gemmini<space garbage>, a_rows = 1 : i64, a_cols = 1 : i64, bd_space = #gemmini<space garbage>, bd_rows = 1 : i64, bd_cols = 1 : i64, operandSegmentSizes = array<i32: 1, 0>}> : (index) -> ()
// CHECK: gemmini.compute_preloaded: the A address cannot be garbage

// -----

%r = "test.op"() : () -> index
"gemmini.compute_accumulated"(%r) <{a_space = #gemmini<space spad>, a_rows = 1 : i64, a_cols = 1 : i64, bd_space = #gemmini<space spad>, bd_rows = 1 : i64, bd_cols = 1 : i64, operandSegmentSizes = array<i32: 1, 0>}> : (index) -> ()
// CHECK: gemmini.compute_accumulated: the B/D address in spad needs a row operand

// ---- loop_ws

// -----

%a = "test.op"() : () -> i64
gemmini.loop_ws a %a, b %a i 0 j 1 k 1 a_stride 16 b_stride 16 : i64, i64
// CHECK: gemmini.loop_ws: i = 0 is outside [1, 65535] (16-bit field)

// -----

%a = "test.op"() : () -> i64
gemmini.loop_ws a %a, b %a i 1 j 1 k 1 pad_k 65536 a_stride 16 b_stride 16 : i64, i64
// CHECK: gemmini.loop_ws: pad_k = 65536 is outside [0, 65535] (16-bit field)

// -----

%a = "test.op"() : () -> i64
gemmini.loop_ws a %a, b %a i 1 j 1 k 1 a_stride 16 b_stride 16 a_spad_id 4 : i64, i64
// CHECK: gemmini.loop_ws: a_spad_id = 4 is outside [0, 3] (2-bit field)

// -----

%a = "test.op"() : () -> i64
gemmini.loop_ws a %a, b %a i 1 j 1 k 1 a_stride 16 b_stride -16 : i64, i64
// CHECK: gemmini.loop_ws: b_stride = -16 is outside [0, 9223372036854775807] (64-bit field)

// -----

%a = "test.op"() : () -> i64
"gemmini.loop_ws"(%a) <{i = 1 : i64, j = 1 : i64, k = 1 : i64, a_stride = 1 : i64, b_stride = 1 : i64, operandSegmentSizes = array<i32: 1, 0, 0, 0>}> : (i64) -> ()
// CHECK: expected 1 value for b, but got 0

// ---- loop_conv_ws

// -----

%a = "test.op"() : () -> i64
gemmini.loop_conv_ws weights %a, output %a, input %a batch_size 1 in_row_dim 8 in_col_dim 8 in_channels 16 out_channels 16 out_row_dim 8 out_col_dim 8 pool_out_row_dim 8 pool_out_col_dim 8 kernel_dim 1 batches 1 porows 8 pocols 8 pochs 16 krows 1 kcols 1 kchs 16 orows 8 ocols 8 in_stride 16 weight_stride 16 out_stride 16 no_pool : i64, i64, i64
// CHECK: gemmini.loop_conv_ws: without a bias operand the op needs 'no_bias'

// -----

%a = "test.op"() : () -> i64
gemmini.loop_conv_ws weights %a, output %a, input %a batch_size 1 in_row_dim 8 in_col_dim 8 in_channels 16 out_channels 16 out_row_dim 8 out_col_dim 8 pool_out_row_dim 8 pool_out_col_dim 8 stride 0 kernel_dim 1 batches 1 porows 8 pocols 8 pochs 16 krows 1 kcols 1 kchs 16 orows 8 ocols 8 in_stride 16 weight_stride 16 out_stride 16 no_bias : i64, i64, i64
// CHECK: gemmini.loop_conv_ws: stride = 0 is outside [1, 255] (8-bit field)

// -----

%a = "test.op"() : () -> i64
gemmini.loop_conv_ws weights %a, output %a, input %a batch_size 1 in_row_dim 8 in_col_dim 8 in_channels 16 out_channels 16 out_row_dim 8 out_col_dim 8 pool_out_row_dim 8 pool_out_col_dim 8 kernel_dim 1 batches 1 porows 8 pocols 8 pochs 16 krows 1 kcols 1 kchs 16 pupad 2048 orows 8 ocols 8 in_stride 16 weight_stride 16 out_stride 16 no_bias : i64, i64, i64
// CHECK: gemmini.loop_conv_ws: pupad = 2048 is outside [0, 2047] (11-bit field)

// -----

%a = "test.op"() : () -> i64
gemmini.loop_conv_ws weights %a, output %a, input %a batch_size 1 in_row_dim 8 in_col_dim 8 in_channels 16 out_channels 16 out_row_dim 8 out_col_dim 8 pool_out_row_dim 8 pool_out_col_dim 8 kernel_dim 1 kernel_dilation 1024 batches 1 porows 8 pocols 8 pochs 16 krows 1 kcols 1 kchs 16 orows 8 ocols 8 in_stride 16 weight_stride 16 out_stride 16 no_bias : i64, i64, i64
// CHECK: gemmini.loop_conv_ws: kernel_dilation = 1024 is outside [1, 1023] (10-bit field)

// -----

%a = "test.op"() : () -> i64
gemmini.loop_conv_ws weights %a, output %a, input %a batch_size 1 in_row_dim 8 in_col_dim 8 in_channels 16 out_channels 16 out_row_dim 8 out_col_dim 8 pool_out_row_dim 8 pool_out_col_dim 8 kernel_dim 1 batches 1 porows 8 pocols 8 pochs 0 krows 1 kcols 1 kchs 16 orows 8 ocols 8 in_stride 16 weight_stride 16 out_stride 16 no_bias : i64, i64, i64
// CHECK: gemmini.loop_conv_ws: pochs = 0 is outside [1, 65535] (16-bit field)
