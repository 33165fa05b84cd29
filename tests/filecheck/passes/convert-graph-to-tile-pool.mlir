// RUN: %opt %s -p 'convert-graph-to-tile{tiles="oh=5,ow=8"}' | filecheck %s
// Exercises passes/_tiling_pooled.py (the pooled conv's checks and geometry).

// A 3x3 conv with a fused 3x3/2 max pool (padding 1) after ReLU, as ResNet's stem: one
// LOOP_CONV_WS per pooled tile, pooling on the loop's move-outs. The forced tile of 5 x 8
// convolution rows and columns gives the largest pooled tiles whose windows fit in it,
// 1 x 3 (p pooled rows need p*2 + 3 - 1 convolution rows: 4 <= 5, 8 <= 8); each step
// computes the convolution rows its pooling windows need (orows / ocols, overlapping the
// next step's), less the pooling padding at the image border (pupad / plpad / prpad).

func.func @stem(%x: tensor<1x8x8x3xi8>) -> tensor<1x4x4x16xi8> {
  %w = graph.constant dense<1> : tensor<3x3x3x16xi8>
  %0 = graph.conv2d %x, %w stride [1, 1] padding [1, 1, 1, 1] dilation [1, 1] groups 1 output_scale 0.5 activation relu pool_kernel [3, 3] pool_stride [2, 2] pool_padding [1, 1, 1, 1] : (tensor<1x8x8x3xi8>, tensor<3x3x3x16xi8>) -> tensor<1x4x4x16xi8>
  func.return %0 : tensor<1x4x4x16xi8>
}

// CHECK-LABEL: func.func @stem
// CHECK:       gemmini.config_st stride 16 activation relu scale 5.000000e-01
// CHECK:       gemmini.loop_conv_ws {{.*}} out_row_dim 8 out_col_dim 8 pool_out_row_dim 4 pool_out_col_dim 4 padding 1 kernel_dim 3 pool_size 3 pool_stride 2 pool_padding 1 batches 1 porows 1 pocols 3 pochs 16 {{.*}} lpad 1 upad 1 plpad 1 pupad 1 orows 3 ocols 7 {{.*}} activation relu no_bias
// CHECK:       gemmini.loop_conv_ws {{.*}} porows 1 pocols 1 {{.*}} rpad 1 upad 1 prpad 1 pupad 1 orows 3 ocols 3
// CHECK:       scf.for %oh = %c1 to %c3 step %c1 {
// CHECK:         gemmini.loop_conv_ws {{.*}} porows 1 pocols 3 {{.*}} lpad 1 plpad 1 orows 4 ocols 7
// CHECK:         gemmini.loop_conv_ws {{.*}} porows 1 pocols 1 {{.*}} rpad 1 prpad 1 orows 4 ocols 3
// CHECK:       }
// CHECK-NOT:   no_pool
// CHECK:       tile.fence
