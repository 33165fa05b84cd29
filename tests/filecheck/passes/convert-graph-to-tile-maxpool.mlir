// RUN: %opt %s --split-input-file -p convert-graph-to-tile | filecheck %s
// Exercises passes/_tiling_maxpool.py (the standalone max pool's tiling) and, in @after_relu,
// passes/_sign.py (known_nonnegative: which inputs make a padded pool exact on Gemmini).

// A standalone int8 max pool: per tile of pooled pixels, the input pixels its windows reach
// move into an accumulator buffer (int8 -> int32, all 40 channels of a pixel in one mvin row)
// and out through the pooled store. A buffer must fit half the accumulator (512 rows of 3
// channel blocks: 12 input rows x 13 columns); the windows of 6 pooled columns reach 13 input
// columns, and neighbouring tiles share (reload) one halo column. The first tile starts in the
// padding (pads [1, 1]); the last holds the 2 pooled columns left. The caller vouches for a
// non-negative input (gemforge.nonnegative_input), as Gemmini pools padding as 0. Each run of
// column tiles has its own buffer, as wide as its tiles (window rows are ocols apart).

func.func @columns(%x: tensor<1x12x100x40xi8>) -> tensor<1x6x50x40xi8> {
  %0 = graph.maxpool %x kernel [3, 3] stride [2, 2] padding [1, 1, 1, 1] {gemforge.nonnegative_input} : (tensor<1x12x100x40xi8>) -> tensor<1x6x50x40xi8>
  func.return %0 : tensor<1x6x50x40xi8>
}

// CHECK-LABEL: func.func @columns
// CHECK:       %[[B0:.*]] = tile.alloc : memref<1x12x12x48xi32, #tile.space<acc>>
// CHECK-NEXT:  tile.load %x[0, 0, 0, 0] [1, 12, 12, 40] into %[[B0]][0, 0, 0, 0]
// CHECK-NEXT:  tile.store %[[B0]][0, 0, 0, 0] [1, 12, 12, 40] into %output[0, 0, 0, 0] pool 3 stride 2 pads [1, 1] sizes [1, 6, 6, 40]
// CHECK-NEXT:  %[[B1:.*]] = tile.alloc : memref<1x12x13x48xi32, #tile.space<acc>>
// CHECK-NEXT:  scf.for %[[PW:.*]] = %c6 to %c48 step %c6 {
// CHECK-NEXT:    %[[T:.*]] = arith.muli %[[PW]], %c2 : index
// CHECK-NEXT:    %[[FIRST:.*]] = arith.addi %[[T]], %cm1 : index
// CHECK-NEXT:    tile.load %x[0, 0, %[[FIRST]], 0] [1, 12, 13, 40] into %[[B1]][0, 0, 0, 0]
// CHECK-NEXT:    tile.store %[[B1]][0, 0, 0, 0] [1, 12, 13, 40] into %output[0, 0, %[[PW]], 0] pool 3 stride 2 pads [1, 0] sizes [1, 6, 6, 40]
// CHECK-NEXT:  }
// CHECK-NEXT:  %[[B2:.*]] = tile.alloc : memref<1x12x5x48xi32, #tile.space<acc>>
// CHECK-NEXT:  tile.load %x[0, 0, 95, 0] [1, 12, 5, 40] into %[[B2]][0, 0, 0, 0]
// CHECK-NEXT:  tile.store %[[B2]][0, 0, 0, 0] [1, 12, 5, 40] into %output[0, 0, 48, 0] pool 3 stride 2 pads [1, 0] sizes [1, 6, 2, 40]
// CHECK-NEXT:  tile.fence

// -----

// Rows and columns both tiled: 11 x 11 pooled pixels reach 22 x 22 input pixels (484 rows of
// one channel block); the second row and column tiles start on the shared halo (input 21).

func.func @rows_and_columns(%x: tensor<1x40x40x16xi8>) -> tensor<1x20x20x16xi8> {
  %0 = graph.maxpool %x kernel [3, 3] stride [2, 2] padding [1, 1, 1, 1] {gemforge.nonnegative_input} : (tensor<1x40x40x16xi8>) -> tensor<1x20x20x16xi8>
  func.return %0 : tensor<1x20x20x16xi8>
}

// CHECK-LABEL: func.func @rows_and_columns
// CHECK:       tile.load %x[0, 0, 0, 0] [1, 22, 22, 16]
// CHECK-NEXT:  tile.store {{.*}} into %output[0, 0, 0, 0] pool 3 stride 2 pads [1, 1] sizes [1, 11, 11, 16]
// CHECK:       tile.load %x[0, 0, 21, 0] [1, 22, 19, 16]
// CHECK-NEXT:  tile.store {{.*}} into %output[0, 0, 11, 0] pool 3 stride 2 pads [1, 0] sizes [1, 11, 9, 16]
// CHECK:       tile.load %x[0, 21, 0, 0] [1, 19, 22, 16]
// CHECK-NEXT:  tile.store {{.*}} into %output[0, 11, 0, 0] pool 3 stride 2 pads [0, 1] sizes [1, 9, 11, 16]
// CHECK:       tile.load %x[0, 21, 21, 0] [1, 19, 19, 16]
// CHECK-NEXT:  tile.store {{.*}} into %output[0, 11, 11, 0] pool 3 stride 2 pads [0, 0] sizes [1, 9, 9, 16]

// -----

// After a ReLU conv in the same function the input is known non-negative: a padded pool
// (top / left only) is lowered without a mark, one tile per batch entry.

func.func @after_relu(%x: tensor<2x8x8x16xi8>) -> tensor<2x4x4x16xi8> {
  %w = graph.constant dense<1> : tensor<1x1x16x16xi8>
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 output_scale 0.5 activation relu : (tensor<2x8x8x16xi8>, tensor<1x1x16x16xi8>) -> tensor<2x8x8x16xi8>
  %1 = graph.maxpool %0 kernel [2, 2] stride [2, 2] padding [1, 1, 0, 0] : (tensor<2x8x8x16xi8>) -> tensor<2x4x4x16xi8>
  func.return %1 : tensor<2x4x4x16xi8>
}

// CHECK-LABEL: func.func @after_relu
// CHECK:       %[[CONV:.*]] = memref.alloc() : memref<2x8x8x16xi8, #tile.space<dram>>
// CHECK:       tile.store %acc{{.*}} relu
// CHECK:       tile.fence
// CHECK-NEXT:  scf.for %[[N:.*]] = %c0 to %c2 step %c1 {
// CHECK-NEXT:    %[[BUF:.*]] = tile.alloc : memref<1x7x7x16xi32, #tile.space<acc>>
// CHECK-NEXT:    tile.load %[[CONV]][%[[N]], 0, 0, 0] [1, 7, 7, 16] into %[[BUF]][0, 0, 0, 0]
// CHECK-NEXT:    tile.store %[[BUF]][0, 0, 0, 0] [1, 7, 7, 16] into %output[%[[N]], 0, 0, 0] pool 2 stride 2 pads [1, 1] sizes [1, 4, 4, 16]
// CHECK-NEXT:  }
// CHECK-NEXT:  tile.fence
