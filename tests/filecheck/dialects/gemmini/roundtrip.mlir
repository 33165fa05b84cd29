// RUN: %roundtrip
// RUN: %generic-roundtrip

// Every gemmini op in custom syntax; fields at their default are elided.

// CHECK-LABEL: func.func @config
func.func @config() {
  // CHECK-NEXT: gemmini.config_ex dataflow ws activation relu acc_scale 5.000000e-01 transpose_b
  gemmini.config_ex dataflow ws activation relu acc_scale 0.5 transpose_b
  // Fields parse in any order and print in ISA order; explicit defaults are elided.
  // CHECK-NEXT: gemmini.config_ex dataflow os a_stride 2 c_stride 3 in_shift 7 transpose_a set_only_strides
  gemmini.config_ex set_only_strides dataflow os activation none a_stride 2 c_stride 3 in_shift 7 transpose_a
  // CHECK-NEXT: gemmini.config_ld stride 64 block_stride 16
  gemmini.config_ld stride 64 block_stride 16 id 0 scale 1.0 pixel_repeats 1
  // CHECK-NEXT: gemmini.config_ld stride 256 block_stride 16 id 2 scale 2.500000e-01 pixel_repeats 3 shrunk
  gemmini.config_ld stride 256 block_stride 16 id 2 scale 0.25 pixel_repeats 3 shrunk
  // CHECK-NEXT: gemmini.config_st stride 16
  gemmini.config_st stride 16
  // CHECK-NEXT: gemmini.config_st stride 64 activation relu scale 1.250000e-01 pool_stride 2 pool_size 3 upad 1 lpad 2 pool_out_dim 56 porows 28 pocols 28 orows 112 ocols 112
  gemmini.config_st stride 64 activation relu scale 0.125 pool_stride 2 pool_size 3 upad 1 lpad 2 pool_out_dim 56 porows 28 pocols 28 orows 112 ocols 112
  // An f32 that is not a short decimal survives exactly.
  // CHECK-NEXT: gemmini.config_st stride 16 scale 0.00314159272
  gemmini.config_st stride 16 scale 0.00314159272
  // CHECK-NEXT: gemmini.flush skip
  gemmini.flush skip
  // CHECK-NEXT: gemmini.flush
  gemmini.flush
  // CHECK-NEXT: gemmini.fence
  gemmini.fence
  // CHECK-NEXT: gemmini.fence attributes {note = "tagged"}
  gemmini.fence attributes {note = "tagged"}
  // CHECK-NEXT: func.return
  func.return
}

// CHECK-LABEL: func.func @moves
// CHECK-SAME: (%[[D:.*]]: i64, %[[X:.*]]: index, %[[R:.*]]: index)
func.func @moves(%d: i64, %x: index, %r: index) {
  // CHECK-NEXT: gemmini.mvin %[[D]] -> spad[%[[R]]] rows 16 cols 64 : i64
  gemmini.mvin %d -> spad[%r] rows 16 cols 64 : i64
  // CHECK-NEXT: gemmini.mvin2 %[[X]] -> acc[%[[R]]] accumulate rows 16 cols 16 : index
  gemmini.mvin2 %x -> acc[%r] accumulate rows 16 cols 16 : index
  // CHECK-NEXT: gemmini.mvin3 %[[D]] -> acc[%[[R]]] rows 4 cols 16 : i64
  gemmini.mvin3 %d -> acc[%r] rows 4 cols 16 : i64
  // CHECK-NEXT: gemmini.mvout acc[%[[R]]] full rows 16 cols 16 -> %[[D]] : i64
  gemmini.mvout acc[%r] full rows 16 cols 16 -> %d : i64
  // CHECK-NEXT: gemmini.mvout spad[%[[R]]] rows 3 cols 5 -> %[[X]] attributes {tag = 1 : i64} : index
  gemmini.mvout spad[%r] rows 3 cols 5 -> %x attributes {tag = 1 : i64} : index
  // CHECK-NEXT: func.return
  func.return
}

// CHECK-LABEL: func.func @execute
// CHECK-SAME: (%[[A:.*]]: index, %[[B:.*]]: index, %[[C:.*]]: index)
func.func @execute(%a: index, %b: index, %c: index) {
  // CHECK-NEXT: gemmini.preload spad[%[[B]]] rows 16 cols 16 -> acc[%[[C]]] accumulate rows 16 cols 16
  gemmini.preload spad[%b] rows 16 cols 16 -> acc[%c] accumulate rows 16 cols 16
  // CHECK-NEXT: gemmini.preload garbage rows 16 cols 16 -> garbage rows 16 cols 16
  gemmini.preload garbage rows 16 cols 16 -> garbage rows 16 cols 16
  // CHECK-NEXT: gemmini.preload acc[%[[B]]] full rows 16 cols 16 -> acc[%[[C]]] full rows 12 cols 10
  gemmini.preload acc[%b] full rows 16 cols 16 -> acc[%c] full rows 12 cols 10
  // CHECK-NEXT: gemmini.compute_preloaded spad[%[[A]]] rows 16 cols 16, garbage rows 16 cols 16
  gemmini.compute_preloaded spad[%a] rows 16 cols 16, garbage rows 16 cols 16
  // CHECK-NEXT: gemmini.compute_accumulated spad[%[[A]]] rows 8 cols 16, acc[%[[B]]] full rows 8 cols 16
  gemmini.compute_accumulated spad[%a] rows 8 cols 16, acc[%b] full rows 8 cols 16
  // CHECK-NEXT: func.return
  func.return
}

// Addresses computed inside loops: DRAM in i64, local rows in index.
// CHECK-LABEL: func.func @tiled_matmul
func.func @tiled_matmul(%A: i64, %B: i64, %C: i64) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c16 = arith.constant 16 : index
  %c1024 = arith.constant 1024 : index
  %c3072 = arith.constant 3072 : index
  %acc = arith.constant 0 : index
  // CHECK: gemmini.config_ex dataflow ws
  gemmini.config_ex dataflow ws
  // CHECK: gemmini.config_ld stride 64 block_stride 16
  gemmini.config_ld stride 64 block_stride 16
  // CHECK: scf.for %[[K:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
  scf.for %k = %c0 to %c4 step %c1 {
    // CHECK-NEXT: %[[OFF:.*]] = arith.muli %[[K]], %{{.*}} : index
    %off = arith.muli %k, %c1024 : index
    // CHECK-NEXT: %[[OFF64:.*]] = arith.index_cast %[[OFF]] : index to i64
    %off64 = arith.index_cast %off : index to i64
    // CHECK-NEXT: %[[ADDR:.*]] = arith.addi %{{.*}}, %[[OFF64]] : i64
    %addr = arith.addi %A, %off64 : i64
    // CHECK-NEXT: %[[ROW:.*]] = arith.muli %[[K]], %{{.*}} : index
    %row = arith.muli %k, %c16 : index
    // CHECK-NEXT: gemmini.mvin %[[ADDR]] -> spad[%[[ROW]]] rows 16 cols 16 : i64
    gemmini.mvin %addr -> spad[%row] rows 16 cols 16 : i64
    // CHECK-NEXT: %[[BROW:.*]] = arith.addi %[[ROW]], %{{.*}} : index
    %brow = arith.addi %row, %c3072 : index
    // CHECK-NEXT: gemmini.mvin %{{.*}} -> spad[%[[BROW]]] rows 16 cols 16 : i64
    gemmini.mvin %B -> spad[%brow] rows 16 cols 16 : i64
    // CHECK-NEXT: gemmini.preload spad[%[[BROW]]] rows 16 cols 16 -> acc[%{{.*}}] accumulate rows 16 cols 16
    gemmini.preload spad[%brow] rows 16 cols 16 -> acc[%acc] accumulate rows 16 cols 16
    // CHECK-NEXT: gemmini.compute_preloaded spad[%[[ROW]]] rows 16 cols 16, garbage rows 16 cols 16
    gemmini.compute_preloaded spad[%row] rows 16 cols 16, garbage rows 16 cols 16
  }
  // CHECK: gemmini.config_st stride 16
  gemmini.config_st stride 16
  // CHECK-NEXT: gemmini.mvout acc[%{{.*}}] rows 16 cols 16 -> %{{.*}} : i64
  gemmini.mvout acc[%acc] rows 16 cols 16 -> %C : i64
  // CHECK-NEXT: gemmini.fence
  gemmini.fence
  func.return
}

// CHECK-LABEL: func.func @loops
// CHECK-SAME: (%[[A:.*]]: i64, %[[B:.*]]: i64, %[[D:.*]]: i64, %[[C:.*]]: index)
func.func @loops(%a: i64, %b: i64, %d: i64, %c: index) {
  // CHECK-NEXT: gemmini.loop_ws a %[[A]], b %[[B]], d %[[D]], c %[[C]] i 4 j 3 k 2 pad_i 5 pad_j 6 pad_k 7 a_stride 128 b_stride 48 d_stride 48 c_stride 48 activation relu transpose_a transpose_b full_c low_d ex_accumulate is_resadd a_spad_id 1 b_spad_id 2 : i64, i64, i64, index
  gemmini.loop_ws a %a, b %b, d %d, c %c i 4 j 3 k 2 pad_i 5 pad_j 6 pad_k 7 a_stride 128 b_stride 48 d_stride 48 c_stride 48 activation relu transpose_a transpose_b full_c low_d ex_accumulate is_resadd a_spad_id 1 b_spad_id 2 : i64, i64, i64, index
  // No bias and no output: D and C are absent.
  // CHECK-NEXT: gemmini.loop_ws a %[[A]], b %[[B]] i 1 j 1 k 1 a_stride 16 b_stride 16 : i64, i64
  gemmini.loop_ws a %a, b %b i 1 j 1 k 1 a_stride 16 b_stride 16 : i64, i64
  // CHECK-NEXT: gemmini.loop_conv_ws weights %[[B]], output %[[D]], bias %[[A]], input %[[A]] batch_size 1 in_row_dim 56 in_col_dim 56 in_channels 64 out_channels 64 out_row_dim 56 out_col_dim 56 pool_out_row_dim 28 pool_out_col_dim 28 stride 2 padding 1 kernel_dim 3 kernel_dilation 2 pool_size 3 pool_stride 2 pool_padding 1 batches 1 porows 7 pocols 28 pochs 64 krows 3 kcols 3 kchs 64 lpad 1 rpad 1 upad 1 dpad 1 plpad 1 prpad 1 pupad 1 pdpad 1 orows 14 ocols 56 in_stride 64 weight_stride 64 out_stride 64 activation relu wrot180 trans_output_1203 trans_weight_1203 trans_weight_0132 trans_input_3120 dw max_pixels_per_row 3 a_spad_id 1 b_spad_id 3 : i64, i64, i64, i64
  gemmini.loop_conv_ws weights %b, output %d, bias %a, input %a batch_size 1 in_row_dim 56 in_col_dim 56 in_channels 64 out_channels 64 out_row_dim 56 out_col_dim 56 pool_out_row_dim 28 pool_out_col_dim 28 stride 2 padding 1 kernel_dim 3 kernel_dilation 2 pool_size 3 pool_stride 2 pool_padding 1 batches 1 porows 7 pocols 28 pochs 64 krows 3 kcols 3 kchs 64 lpad 1 rpad 1 upad 1 dpad 1 plpad 1 prpad 1 pupad 1 pdpad 1 orows 14 ocols 56 in_stride 64 weight_stride 64 out_stride 64 activation relu wrot180 trans_output_1203 trans_weight_1203 trans_weight_0132 trans_input_3120 dw max_pixels_per_row 3 a_spad_id 1 b_spad_id 3 : i64, i64, i64, i64
  // CHECK-NEXT: gemmini.loop_conv_ws weights %[[B]], output %[[D]], input %[[A]] batch_size 2 in_row_dim 8 in_col_dim 8 in_channels 3 out_channels 16 out_row_dim 8 out_col_dim 8 pool_out_row_dim 8 pool_out_col_dim 8 kernel_dim 1 batches 2 porows 8 pocols 8 pochs 16 krows 1 kcols 1 kchs 3 orows 8 ocols 8 in_stride 3 weight_stride 16 out_stride 16 no_bias no_pool downsample input_dilated : i64, i64, i64
  gemmini.loop_conv_ws weights %b, output %d, input %a batch_size 2 in_row_dim 8 in_col_dim 8 in_channels 3 out_channels 16 out_row_dim 8 out_col_dim 8 pool_out_row_dim 8 pool_out_col_dim 8 kernel_dim 1 batches 2 porows 8 pocols 8 pochs 16 krows 1 kcols 1 kchs 3 orows 8 ocols 8 in_stride 3 weight_stride 16 out_stride 16 no_bias no_pool downsample input_dilated : i64, i64, i64
  // CHECK-NEXT: func.return
  func.return
}
