// RUN: %opt %s -p 'convert-graph-to-tile{tiles="m=16,n=20,k=16" stationary=output form=loop}' | filecheck %s

// The LOOP_WS form of a 40x24 x 24x20 matmul in 16x20x16 tiles: one gemmini.loop_ws
// per step, no tile buffers. The configs the loop unit's move-ins and move-outs use
// come first (byte strides of A, B and the repeated bias row, DIM block stride). The
// reduction is split in two k tiles, innermost: the first step loads the bias (d) and
// writes no C, the second (pad_k 8) accumulates and writes C. The 8-row remainder of
// m is emitted after the loop (pad_i 8).

func.func @mm(%x: tensor<40x24xi8>) -> tensor<40x20xi8> {
  %w = graph.constant dense<1> : tensor<24x20xi8>
  %b = graph.constant dense<3> : tensor<20xi32>
  %0 = graph.matmul %x, %w bias %b output_scale 0.5 activation relu : (tensor<40x24xi8>, tensor<24x20xi8>, tensor<20xi32>) -> tensor<40x20xi8>
  func.return %0 : tensor<40x20xi8>
}

// CHECK-LABEL: func.func @mm
// CHECK:       %[[X:.*]] = "memref.extract_aligned_pointer_as_index"(%x)
// CHECK-NEXT:  %[[W:.*]] = "memref.extract_aligned_pointer_as_index"(%const)
// CHECK-NEXT:  %[[OUT:.*]] = "memref.extract_aligned_pointer_as_index"(%output)
// CHECK-NEXT:  %[[BIAS:.*]] = "memref.extract_aligned_pointer_as_index"(%const_1)
// CHECK-NEXT:  gemmini.config_ex dataflow ws
// CHECK-NEXT:  gemmini.config_st stride 20 activation relu scale 5.000000e-01
// CHECK-NEXT:  gemmini.config_ld stride 24 block_stride 16
// CHECK-NEXT:  gemmini.config_ld stride 32 block_stride 16 id 1
// CHECK-NEXT:  gemmini.config_ld stride 0 block_stride 16 id 2
// CHECK-NEXT:  scf.for %m = %c0 to %c32 step %c16 {
// CHECK:         gemmini.loop_ws a %{{.*}}, b %[[W]], d %[[BIAS]] i 1 j 2 k 1 pad_j 12 a_stride 24 b_stride 32 c_stride 20 activation relu ex_accumulate
// CHECK:         gemmini.loop_ws a %{{.*}}, b %{{.*}}, c %{{.*}} i 1 j 2 k 1 pad_j 12 pad_k 8 a_stride 24 b_stride 32 c_stride 20 activation relu ex_accumulate
// CHECK-NEXT:  }
// CHECK:       gemmini.loop_ws a %{{.*}}, b %[[W]], d %[[BIAS]] i 1 j 2 k 1 pad_i 8 pad_j 12
// CHECK:       gemmini.loop_ws a %{{.*}}, b %{{.*}}, c %{{.*}} i 1 j 2 k 1 pad_i 8 pad_j 12 pad_k 8
// CHECK-NEXT:  tile.fence
// CHECK-NOT:   tile.{{load|store|matmul|alloc}}
