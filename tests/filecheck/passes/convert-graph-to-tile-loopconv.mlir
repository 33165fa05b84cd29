// RUN: %opt %s -p 'convert-graph-to-tile{tiles="oh=4,ow=6" form=loop}' | filecheck %s

// The LOOP_CONV_WS form of a padded 3x3 convolution over a 6x6x3 image: one
// gemmini.loop_conv_ws per step of 4 (then 2) output rows, after one config_st (output
// stride, ReLU, scale) and one config_ex (WS, A stride = conv stride). The loop unit
// zero-fills the halo: the first tile pads its window above (upad) and both sides, the
// last below (dpad); its input starts at the first in-image row (row 3 = 54 bytes in).
// The weights are pinned in the top of scratchpad half 1 (b_spad_id 2), moved in by the
// first step only (the second passes address 0). Three channels: three kernel columns
// share a scratchpad row (max_pixels_per_row 3).

func.func @conv(%x: tensor<1x6x6x3xi8>) -> tensor<1x6x6x20xi8> {
  %w = graph.constant dense<1> : tensor<3x3x3x20xi8>
  %b = graph.constant dense<3> : tensor<20xi32>
  %0 = graph.conv2d %x, %w bias %b stride [1, 1] padding [1, 1, 1, 1] dilation [1, 1] groups 1 output_scale 0.5 activation relu : (tensor<1x6x6x3xi8>, tensor<3x3x3x20xi8>, tensor<20xi32>) -> tensor<1x6x6x20xi8>
  func.return %0 : tensor<1x6x6x20xi8>
}

// CHECK-LABEL: func.func @conv
// CHECK:       %[[X:.*]] = "memref.extract_aligned_pointer_as_index"(%x)
// CHECK-NEXT:  %[[W:.*]] = "memref.extract_aligned_pointer_as_index"(%const)
// CHECK-NEXT:  %[[OUT:.*]] = "memref.extract_aligned_pointer_as_index"(%output)
// CHECK-NEXT:  %[[BIAS:.*]] = "memref.extract_aligned_pointer_as_index"(%const_1)
// CHECK-NEXT:  gemmini.config_st stride 20 activation relu scale 5.000000e-01
// CHECK-NEXT:  gemmini.config_ex dataflow ws
// CHECK-NEXT:  gemmini.loop_conv_ws weights %[[W]], output %[[OUT]], bias %[[BIAS]], input %[[X]] batch_size 1 in_row_dim 6 in_col_dim 6 in_channels 3 out_channels 20 out_row_dim 6 out_col_dim 6 pool_out_row_dim 6 pool_out_col_dim 6 padding 1 kernel_dim 3 batches 1 porows 4 pocols 6 pochs 20 krows 3 kcols 3 kchs 3 lpad 1 rpad 1 upad 1 orows 4 ocols 6 in_stride 3 weight_stride 32 out_stride 20 activation relu no_pool max_pixels_per_row 3 b_spad_id 2
// CHECK-NEXT:  %[[X3:.*]] = arith.addi %[[X]], %c54
// CHECK-NEXT:  %[[OUT4:.*]] = arith.addi %[[OUT]], %c480
// CHECK-NEXT:  gemmini.loop_conv_ws weights %c0, output %[[OUT4]], bias %[[BIAS]], input %[[X3]] {{.*}} porows 2 pocols 6 pochs 20 krows 3 kcols 3 kchs 3 lpad 1 rpad 1 dpad 1 orows 2 ocols 6 {{.*}} b_spad_id 2
// CHECK-NEXT:  tile.fence
// CHECK-NOT:   tile.{{load|store|matmul|alloc}}
