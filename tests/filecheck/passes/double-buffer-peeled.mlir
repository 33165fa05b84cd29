// RUN: %opt %s -p 'double-buffer{target=gemmini-default}' | filecheck %s
// Exercises passes/_double_buffer_legality.py (which loads of a peeled tile may be prefetched).

// A tile peeled into its own buffers at the top of a loop body (as convert-graph-to-tile
// emits border tiles), its window filled by two loads (the image part and the zero halo):
// with a target, both buffers move in front of the loop and ping-pong when they still fit,
// and both loads are prefetched one iteration ahead.

func.func @rows(%X: memref<6x9x4xi8, #tile.space<dram>>, %Z: memref<6x9x4xi8, #tile.space<dram>>, %W: memref<4x8xi8, #tile.space<dram>>, %Y: memref<6x4x8xi32, #tile.space<dram>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c6 = arith.constant 6 : index
  %w = tile.alloc : memref<4x8xi8, #tile.space<spad>>
  tile.load %W[0, 0] [4, 8] into %w[0, 0] : memref<4x8xi8, #tile.space<dram>> -> memref<4x8xi8, #tile.space<spad>>
  scf.for %r = %c0 to %c6 step %c1 {
    %a = tile.alloc : memref<1x5x4xi8, #tile.space<spad>>
    %acc = tile.alloc : memref<1x4x8xi32, #tile.space<acc>>
    tile.load %X[%r, 0, 0] [1, 4, 4] into %a[0, 1, 0] : memref<6x9x4xi8, #tile.space<dram>> -> memref<1x5x4xi8, #tile.space<spad>>
    tile.load %Z[0, 0, 0] [1, 1, 4] into %a[0, 0, 0] : memref<6x9x4xi8, #tile.space<dram>> -> memref<1x5x4xi8, #tile.space<spad>>
    tile.matmul %acc[0, 0, 0] [1, 4, 8] = %a[0, 0, 0] [1, 4, 4] * %w[0, 0] [4, 8] : memref<1x4x8xi32, #tile.space<acc>>, memref<1x5x4xi8, #tile.space<spad>>, memref<4x8xi8, #tile.space<spad>>
    tile.store %acc[0, 0, 0] [1, 4, 8] into %Y[%r, 0, 0] raw : memref<1x4x8xi32, #tile.space<acc>> -> memref<6x4x8xi32, #tile.space<dram>>
  }
  tile.fence
  func.return
}

// CHECK-LABEL: func.func @rows
// CHECK:       %a = tile.alloc : memref<1x5x4xi8, #tile.space<spad>>
// CHECK-NEXT:  %a_pong = tile.alloc : memref<1x5x4xi8, #tile.space<spad>>
// CHECK-NEXT:  tile.load %X[%c0, 0, 0] [1, 4, 4] into %a[0, 1, 0]
// CHECK-NEXT:  tile.load %Z[0, 0, 0] [1, 1, 4] into %a[0, 0, 0]
// CHECK-NEXT:  %acc = tile.alloc : memref<1x4x8xi32, #tile.space<acc>>
// CHECK-NEXT:  %acc_pong = tile.alloc : memref<1x4x8xi32, #tile.space<acc>>
// CHECK-NEXT:  scf.for %r = %c0 to %c6 step %c1 {
// CHECK:         %a_cur = arith.select %odd, %a_pong, %a
// CHECK-NEXT:    %a_next = arith.select %odd, %a, %a_pong
// CHECK:         scf.if %has_next {
// CHECK-NEXT:      tile.load %X[%next, 0, 0] [1, 4, 4] into %a_next[0, 1, 0]
// CHECK-NEXT:      tile.load %Z[0, 0, 0] [1, 1, 4] into %a_next[0, 0, 0]
// CHECK:         tile.matmul %acc_cur[0, 0, 0] [1, 4, 8] = %a_cur[0, 0, 0] [1, 4, 4]
// CHECK:         tile.store %acc_cur[0, 0, 0] [1, 4, 8] into %Y[%r, 0, 0] raw
// CHECK:       tile.fence
