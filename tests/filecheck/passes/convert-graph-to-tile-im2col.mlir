// RUN: %opt %s -p 'convert-graph-to-tile{form=im2col}' | filecheck %s
// Exercises passes/_tiling_conv_forms.py (im2col_conv, forced).

// The im2col form of a 3x3 stride-2 pad-1 conv with 3 input channels over a 5x9 image
// (output 3x5): one mvin per kernel row reads the 9-byte (kx, c) windows of the interior
// output pixels 1..3 through an overlapping view of the input (indexed by the byte the
// first window starts at; pixel stride 2*3 bytes: one pixel phase, the output is too narrow
// for more); the border pixels 0 and 4 read only their 6 in-image bytes and
// multiply their own weight variants (1 and 2), so no padding byte is ever read.
// Output row 0 skips kernel row 0 (input row -1); row 2 skips kernel row 2 (input row 5).
// Each kernel row has its own input buffer (a single load each, so double-buffer can ping-pong it).

func.func @stem(%x: tensor<1x5x9x3xi8>) -> tensor<1x3x5x16xi8> {
  %w = graph.constant dense<1> : tensor<3x3x3x16xi8>
  %0 = graph.conv2d %x, %w stride [2, 2] padding [1, 1, 1, 1] dilation [1, 1] groups 1 output_scale 0.5 : (tensor<1x5x9x3xi8>, tensor<3x3x3x16xi8>) -> tensor<1x3x5x16xi8>
  func.return %0 : tensor<1x3x5x16xi8>
}

// CHECK-LABEL: func.func @stem
// CHECK:       %[[W:.*]] = memref.get_global @__gf_im2col_weights{{[0-9]+}} : memref<3x3x9x16xi8, #tile.space<dram>>
// CHECK-NEXT:  %[[WIN:.*]] = memref.reinterpret_cast %x to offset: [0], sizes: [1, 135, 5, 9], strides: [135, 1, 6, 1] {{.*}} to memref<1x135x5x9xi8, strided<[135, 1, 6, 1]>, #tile.space<dram>>
// CHECK-NEXT:  %[[OUT:.*]] = memref.reinterpret_cast %output to offset: [0], sizes: [1, 15, 5, 16], strides: [240, 16, 16, 1]
// CHECK:       tile.load %[[W]][0, 0, 0, 0] [3, 3, 9, 16] into %b[0, 0, 0, 0]
// CHECK:       %a1 = tile.alloc : memref<1x1x5x9xi8, #tile.space<spad>>
// CHECK:       tile.load %[[WIN]][0, 3, 0, 0] [1, 1, 3, 9] into %a1[0, 0, 1, 0]
// CHECK-NEXT:  tile.load %[[WIN]][0, 0, 0, 0] [1, 1, 1, 6] into %a1[0, 0, 0, 0]
// CHECK-NEXT:  tile.load %[[WIN]][0, 21, 0, 0] [1, 1, 1, 6] into %a1[0, 0, 4, 0]
// CHECK-NEXT:  tile.load %[[WIN]][0, 30, 0, 0] [1, 1, 3, 9] into %a2[0, 0, 1, 0]
// CHECK:       tile.matmul %acc[0, 0, 1, 0] [1, 1, 3, 16] = %a1[0, 0, 1, 0] [1, 1, 3, 9] * %b[0, 1, 0, 0] [1, 1, 9, 16]
// CHECK-NEXT:  tile.matmul %acc[0, 0, 1, 0] [1, 1, 3, 16] += %a2[0, 0, 1, 0] [1, 1, 3, 9] * %b[0, 2, 0, 0] [1, 1, 9, 16]
// CHECK-NEXT:  tile.matmul %acc[0, 0, 0, 0] [1, 1, 1, 16] = %a1[0, 0, 0, 0] [1, 1, 1, 6] * %b[1, 1, 0, 0] [1, 1, 6, 16]
// CHECK-NEXT:  tile.matmul %acc[0, 0, 0, 0] [1, 1, 1, 16] += %a2[0, 0, 0, 0] [1, 1, 1, 6] * %b[1, 2, 0, 0] [1, 1, 6, 16]
// CHECK-NEXT:  tile.matmul %acc[0, 0, 4, 0] [1, 1, 1, 16] = %a1[0, 0, 4, 0] [1, 1, 1, 6] * %b[2, 1, 0, 0] [1, 1, 6, 16]
// CHECK-NEXT:  tile.matmul %acc[0, 0, 4, 0] [1, 1, 1, 16] += %a2[0, 0, 4, 0] [1, 1, 1, 6] * %b[2, 2, 0, 0] [1, 1, 6, 16]
// CHECK-NEXT:  tile.store %acc[0, 0, 0, 0] [1, 1, 5, 16] into %[[OUT]][0, 0, 0, 0] scale 5.000000e-01
// CHECK:       tile.matmul %acc_1[0, 0, 1, 0] [1, 1, 3, 16] = %a0_1[0, 0, 1, 0] [1, 1, 3, 9] * %b[0, 0, 0, 0] [1, 1, 9, 16]
// CHECK:       tile.store %acc_1[0, 0, 0, 0] [1, 1, 5, 16] into %[[OUT]][0, 5, 0, 0]
// CHECK:       tile.matmul %acc_2[0, 0, 1, 0] [1, 1, 3, 16] += %a1_2[0, 0, 1, 0] [1, 1, 3, 9] * %b[0, 1, 0, 0] [1, 1, 9, 16]
// CHECK-NEXT:  tile.matmul %acc_2[0, 0, 0, 0] [1, 1, 1, 16] = %a0_2[0, 0, 0, 0] [1, 1, 1, 6] * %b[1, 0, 0, 0] [1, 1, 6, 16]
// CHECK:       tile.store %acc_2[0, 0, 0, 0] [1, 1, 5, 16] into %[[OUT]][0, 10, 0, 0]
// CHECK-NEXT:  tile.fence

// A 64-wide image (output 2x32): the cost model takes four pixel phases, so one window mvin
// reads 8 windows 4*2*3 = 24 bytes apart (fewer share an L2 line) and the tile is stored
// 4 pixels apart. Phase 0 (pixels 0, 4, ..., 28) holds the left border pixel 0; phases 1-3
// are all interior and run as one loop.

func.func @wide(%x: tensor<1x3x64x3xi8>) -> tensor<1x2x32x16xi8> {
  %w = graph.constant dense<1> : tensor<3x3x3x16xi8>
  %0 = graph.conv2d %x, %w stride [2, 2] padding [1, 1, 1, 1] dilation [1, 1] groups 1 output_scale 0.5 : (tensor<1x3x64x3xi8>, tensor<3x3x3x16xi8>) -> tensor<1x2x32x16xi8>
  func.return %0 : tensor<1x2x32x16xi8>
}

// CHECK-LABEL: func.func @wide
// CHECK:       %[[WIN2:.*]] = memref.reinterpret_cast %x to offset: [0], sizes: [1, 576, 8, 9], strides: [576, 1, 24, 1]
// CHECK-NEXT:  %[[OUT2:.*]] = memref.reinterpret_cast %output to offset: [0], sizes: [1, 64, 8, 16], strides: [1024, 16, 64, 1]
// CHECK:       tile.load %[[WIN2]][0, 21, 0, 0] [1, 1, 7, 9] into %a1[0, 0, 1, 0]
// CHECK-NEXT:  tile.load %[[WIN2]][0, 0, 0, 0] [1, 1, 1, 6] into %a1[0, 0, 0, 0]
// CHECK:       tile.store %acc[0, 0, 0, 0] [1, 1, 8, 16] into %[[OUT2]][0, 0, 0, 0]
// CHECK:       scf.for %[[OWP:.*]] = %c1 to %c4 step %c1 {
// CHECK:         tile.load %[[WIN2]][0, %{{.*}}, 0, 0] [1, 1, 8, 9] into %a1_1[0, 0, 0, 0]
// CHECK:         tile.store %acc_1[0, 0, 0, 0] [1, 1, 8, 16] into %[[OUT2]][0, %[[OWP]], 0, 0]
// CHECK:       tile.store %acc_2[0, 0, 0, 0] [1, 1, 8, 16] into %[[OUT2]][0, 32, 0, 0]
// CHECK:       tile.store %acc_3[0, 0, 0, 0] [1, 1, 8, 16] into %[[OUT2]][0, %{{.*}}, 0, 0]
// CHECK-NEXT:  }
// CHECK-NEXT:  tile.fence
