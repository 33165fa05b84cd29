// RUN: %opt %s -p 'convert-graph-to-tile{tiles="oh=2,ow=3" form=fine}' | filecheck %s

// A 3x3 stride-2 padded conv in 2x3 output tiles: each input window is loaded without
// its halo, which is zero-filled from a zero tensor with the input's row stride; one
// matmul per kernel position reads the window with A-row stride 2.

func.func @conv(%x: tensor<1x5x5x8xi8>) -> tensor<1x3x3x16xi8> {
  %w = graph.constant dense<1> : tensor<3x3x8x16xi8>
  %0 = graph.conv2d %x, %w stride [2, 2] padding [1, 1, 1, 1] dilation [1, 1] groups 1 output_scale 0.5 activation relu : (tensor<1x5x5x8xi8>, tensor<3x3x8x16xi8>) -> tensor<1x3x3x16xi8>
  func.return %0 : tensor<1x3x3x16xi8>
}

// CHECK-LABEL: func.func @conv
// CHECK:       %zeros = memref.get_global @__gf_zeros1 : memref<1x5x7x8xi8, #tile.space<dram>>
// CHECK-NEXT:  %b = tile.alloc : memref<3x3x8x16xi8, #tile.space<spad>>
// CHECK-NEXT:  tile.load %const[0, 0, 0, 0] [3, 3, 8, 16] into %b[0, 0, 0, 0]
// CHECK-NEXT:  %a = tile.alloc : memref<1x5x7x8xi8, #tile.space<spad>>
// CHECK-NEXT:  %acc = tile.alloc : memref<1x2x3x16xi32, #tile.space<acc>>
// CHECK-NEXT:  tile.load %x[0, 0, 0, 0] [1, 4, 5, 8] into %a[0, 1, 1, 0]
// CHECK-NEXT:  tile.load %zeros[0, 0, 0, 0] [1, 1, 7, 8] into %a[0, 0, 0, 0]
// CHECK-NEXT:  tile.load %zeros[0, 0, 0, 0] [1, 4, 1, 8] into %a[0, 1, 0, 0]
// CHECK-NEXT:  tile.load %zeros[0, 0, 0, 0] [1, 4, 1, 8] into %a[0, 1, 6, 0]
// CHECK-NEXT:  tile.matmul %acc[0, 0, 0, 0] [1, 2, 3, 16] = %a[0, 0, 0, 0] [1, 2, 3, 8] strides [1, 2, 2, 1] * %b[0, 0, 0, 0] [1, 1, 8, 16]
// CHECK-NEXT:  tile.matmul %acc[0, 0, 0, 0] [1, 2, 3, 16] += %a[0, 0, 1, 0] [1, 2, 3, 8] strides [1, 2, 2, 1] * %b[0, 1, 0, 0] [1, 1, 8, 16]
// CHECK:       tile.store %acc[0, 0, 0, 0] [1, 2, 3, 16] into %output[0, 0, 0, 0] scale 5.000000e-01 relu
// CHECK:       tile.load %x[0, 3, 0, 0] [1, 2, 5, 8] into %a_1[0, 0, 1, 0]
// CHECK-NEXT:  tile.load %zeros[0, 0, 0, 0] [1, 1, 7, 8] into %a_1[0, 2, 0, 0]
// CHECK:       tile.store %acc_1[0, 0, 0, 0] [1, 1, 3, 16] into %output[0, 2, 0, 0] scale 5.000000e-01 relu
// CHECK-NEXT:  tile.fence
