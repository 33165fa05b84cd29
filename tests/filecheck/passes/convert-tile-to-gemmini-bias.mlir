// RUN: %opt %s -p convert-tile-to-gemmini | filecheck %s

// A matmul with a bias block D (16 broadcast int32 rows per column block, at accumulator
// row 64): the computes of the first reduction block read D (the r-row piece of column
// block j reads D's first r rows of block j), the second reduction block accumulates with
// a garbage D. A is 20 rows: a 16-row piece then a 4-row one.

func.func @bias_d(%A: memref<20x32xi8, #tile.space<dram>>, %B: memref<32x32xi8, #tile.space<dram>>, %bias: memref<32xi32, #tile.space<dram>>, %C: memref<20x32xi8, #tile.space<dram>>) {
  %a = tile.alloc address 0 bank 0 : memref<20x32xi8, #tile.space<spad>>
  %b = tile.alloc address 4096 bank 1 : memref<32x32xi8, #tile.space<spad>>
  %acc = tile.alloc address 0 bank 0 : memref<20x32xi32, #tile.space<acc>>
  %d = tile.alloc address 64 bank 0 : memref<16x32xi32, #tile.space<acc>>
  tile.load %bias[0] [16, 32] into %d[0, 0] : memref<32xi32, #tile.space<dram>> -> memref<16x32xi32, #tile.space<acc>>
  tile.load %A[0, 0] [20, 32] into %a[0, 0] : memref<20x32xi8, #tile.space<dram>> -> memref<20x32xi8, #tile.space<spad>>
  tile.load %B[0, 0] [32, 32] into %b[0, 0] : memref<32x32xi8, #tile.space<dram>> -> memref<32x32xi8, #tile.space<spad>>
  tile.matmul %acc[0, 0] [20, 32] = %a[0, 0] [20, 32] * %b[0, 0] [32, 32] + %d[0, 0] [16, 32] : memref<20x32xi32, #tile.space<acc>>, memref<20x32xi8, #tile.space<spad>>, memref<32x32xi8, #tile.space<spad>>, memref<16x32xi32, #tile.space<acc>>
  tile.store %acc[0, 0] [20, 32] into %C[0, 0] scale 0.25 : memref<20x32xi32, #tile.space<acc>> -> memref<20x32xi8, #tile.space<dram>>
  tile.fence
  func.return
}

// CHECK-LABEL: func.func @bias_d
// CHECK:       scf.for
// CHECK:         gemmini.mvin %{{.*}} -> acc[%{{.*}}] rows 16 cols 16 : index
// First reduction block: both pieces read D.
// CHECK:       scf.for
// CHECK:         gemmini.preload spad[%{{.*}}] rows 16 cols 16 -> acc[%{{.*}}] rows 16 cols 16
// CHECK-NEXT:    gemmini.compute_preloaded spad[%{{.*}}] rows 16 cols 16, acc[%[[D:.*]]] rows 16 cols 16
// CHECK:         gemmini.preload garbage rows 16 cols 16 -> acc[%{{.*}}] rows 4 cols 16
// CHECK-NEXT:    gemmini.compute_accumulated spad[%{{.*}}] rows 4 cols 16, acc[%[[D]]] rows 4 cols 16
// Second reduction block: accumulate, D garbage.
// CHECK:       scf.for
// CHECK:         gemmini.preload spad[%{{.*}}] rows 16 cols 16 -> acc[%{{.*}}] accumulate rows 16 cols 16
// CHECK-NEXT:    gemmini.compute_preloaded spad[%{{.*}}] rows 16 cols 16, garbage rows 16 cols 16
// CHECK:         gemmini.compute_accumulated spad[%{{.*}}] rows 4 cols 16, garbage rows 16 cols 16
// CHECK:       gemmini.mvout
