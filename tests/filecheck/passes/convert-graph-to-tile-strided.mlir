// RUN: %opt %s -p 'convert-graph-to-tile{tiles="oh=1" form=fine}' | filecheck %s
// Exercises passes/_tiling_conv_forms.py (strided_pointwise_conv).

// A 1x1 stride-2 conv over a 4x6 image reads only every second pixel of every second
// row: the input is viewed as [N*H/2, 2, W/2, 2*C] (pixel (oh, ow) at [oh, 0, ow, 0:C])
// and the output as [N*OH, 1, OW, OC], and the conv is tiled as a stride-1 one over
// the views: each input tile is the 3 pixels of one output row, no window, no halo.

func.func @pw(%x: tensor<1x4x6x8xi8>) -> tensor<1x2x3x16xi8> {
  %w = graph.constant dense<1> : tensor<1x1x8x16xi8>
  %0 = graph.conv2d %x, %w stride [2, 2] padding [0, 0, 0, 0] dilation [1, 1] groups 1 output_scale 0.5 : (tensor<1x4x6x8xi8>, tensor<1x1x8x16xi8>) -> tensor<1x2x3x16xi8>
  func.return %0 : tensor<1x2x3x16xi8>
}

// CHECK-LABEL: func.func @pw
// CHECK:       %[[FLAT:.*]] = memref.collapse_shape %x
// CHECK-NEXT:  %[[XV:.*]] = memref.expand_shape %[[FLAT]] {{.*}} output_shape [2, 2, 3, 16] {{.*}} into memref<2x2x3x16xi8, #tile.space<dram>>
// CHECK-NEXT:  %[[OFLAT:.*]] = memref.collapse_shape %output
// CHECK-NEXT:  %[[OV:.*]] = memref.expand_shape %[[OFLAT]] {{.*}} into memref<2x1x3x16xi8, #tile.space<dram>>
// CHECK:       %a = tile.alloc : memref<1x1x3x8xi8, #tile.space<spad>>
// CHECK:       scf.for %[[R:.*]] = %c0 to %c2 step %c1 {
// CHECK-NEXT:    tile.load %[[XV]][%[[R]], 0, 0, 0] [1, 1, 3, 8] into %a[0, 0, 0, 0]
// CHECK-NEXT:    tile.matmul %acc[0, 0, 0, 0] [1, 1, 3, 16] = %a[0, 0, 0, 0] [1, 1, 3, 8] * %b[0, 0, 0, 0] [1, 1, 8, 16]
// CHECK-NEXT:    tile.store %acc[0, 0, 0, 0] [1, 1, 3, 16] into %[[OV]][%[[R]], 0, 0, 0] scale 5.000000e-01
// CHECK-NEXT:  }
