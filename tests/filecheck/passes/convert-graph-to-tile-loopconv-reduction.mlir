// RUN: %opt %s -p 'convert-graph-to-tile{tiles="ic=16" stationary=output form=loop}' | filecheck %s

// A stride-2 convolution without bias whose 20 input channels are split in two
// reduction steps, innermost: the first passes a dummy bias address (1) with no_bias
// (the loop unit zero-fills the accumulator) and no output; the second (4 channels,
// 16 bytes into the input pixel and 16 weight rows down) passes no bias (it
// accumulates) and the output address; with only 4 channels it packs three kernel
// columns per scratchpad row (max_pixels_per_row 3).

func.func @strided(%x: tensor<1x5x5x20xi8>) -> tensor<1x3x3x16xi8> {
  %w = graph.constant dense<1> : tensor<3x3x20x16xi8>
  %0 = graph.conv2d %x, %w stride [2, 2] padding [1, 1, 1, 1] dilation [1, 1] groups 1 output_scale 0.5 : (tensor<1x5x5x20xi8>, tensor<3x3x20x16xi8>) -> tensor<1x3x3x16xi8>
  func.return %0 : tensor<1x3x3x16xi8>
}

// CHECK-LABEL: func.func @strided
// CHECK:       %[[X:.*]] = "memref.extract_aligned_pointer_as_index"(%x)
// CHECK-NEXT:  %[[W:.*]] = "memref.extract_aligned_pointer_as_index"(%const)
// CHECK-NEXT:  %[[OUT:.*]] = "memref.extract_aligned_pointer_as_index"(%output)
// CHECK-NEXT:  gemmini.config_st stride 16 scale 5.000000e-01
// CHECK-NEXT:  gemmini.config_ex dataflow ws a_stride 2
// CHECK-NEXT:  gemmini.loop_conv_ws weights %[[W]], output %c0, bias %c1, input %[[X]] {{.*}} stride 2 padding 1 kernel_dim 3 batches 1 porows 3 pocols 3 pochs 16 krows 3 kcols 3 kchs 16 lpad 1 rpad 2 upad 1 dpad 2 orows 3 ocols 3 in_stride 20 weight_stride 16 out_stride 16 no_bias no_pool :
// CHECK-NEXT:  %[[X16:.*]] = arith.addi %[[X]], %c16
// CHECK-NEXT:  %[[W16:.*]] = arith.addi %[[W]], %c256
// CHECK-NEXT:  gemmini.loop_conv_ws weights %[[W16]], output %[[OUT]], input %[[X16]] {{.*}} kchs 4 lpad 1 rpad 2 upad 1 dpad 2 orows 3 ocols 3 in_stride 20 weight_stride 16 out_stride 16 no_bias no_pool max_pixels_per_row 3 :
// CHECK-NEXT:  tile.fence
