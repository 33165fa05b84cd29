// RUN: %opt %s -p convert-tile-to-gemmini | filecheck %s

// One double-buffered matmul tile loop, as double-buffer + allocate-scratchpad leave it.
// Configs are hoisted (one of each state), the ping/pong buffer select becomes a select
// of first rows, each load becomes mvins, the matmul preload + compute pairs per DIM
// block (the 20-row A view: a 16-row block then a 4-row one), the store mvouts.
// Regular runs of instructions stay loops: the two 16-row chunks of B are one scf.for
// whose addresses are affine in its index.

func.func @mm(%A: memref<40x32xi8, #tile.space<dram>>, %B: memref<32x16xi8, #tile.space<dram>>, %C: memref<40x16xi8, #tile.space<dram>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c20 = arith.constant 20 : index
  %c40 = arith.constant 40 : index
  %b = tile.alloc address 4096 bank 1 : memref<32x16xi8, #tile.space<spad>>
  tile.load %B[0, 0] [32, 16] into %b[0, 0] : memref<32x16xi8, #tile.space<dram>> -> memref<32x16xi8, #tile.space<spad>>
  %a = tile.alloc address 0 bank 0 : memref<20x32xi8, #tile.space<spad>>
  %a_pong = tile.alloc address 64 bank 0 : memref<20x32xi8, #tile.space<spad>>
  %acc = tile.alloc address 0 bank 0 : memref<20x16xi32, #tile.space<acc>>
  scf.for %i = %c0 to %c40 step %c20 {
    %iter = arith.divui %i, %c20 : index
    %parity = arith.remui %iter, %c2 : index
    %odd = arith.cmpi eq, %parity, %c1 : index
    %cur = arith.select %odd, %a_pong, %a : memref<20x32xi8, #tile.space<spad>>
    tile.load %A[%i, 0] [20, 32] into %cur[0, 0] : memref<40x32xi8, #tile.space<dram>> -> memref<20x32xi8, #tile.space<spad>>
    tile.matmul %acc[0, 0] [20, 16] = %cur[0, 0] [20, 32] * %b[0, 0] [32, 16] : memref<20x16xi32, #tile.space<acc>>, memref<20x32xi8, #tile.space<spad>>, memref<32x16xi8, #tile.space<spad>>
    tile.store %acc[0, 0] [20, 16] into %C[%i, 0] scale 0.25 relu : memref<20x16xi32, #tile.space<acc>> -> memref<40x16xi8, #tile.space<dram>>
  }
  tile.fence
  func.return
}

// CHECK-LABEL: func.func @mm
// CHECK:       %[[B16:.*]] = arith.constant 4112 : index
// CHECK:       %[[C16:.*]] = arith.constant 16 : index
// CHECK:       %[[B0:.*]] = arith.constant 4096 : index
// CHECK:       gemmini.config_ex dataflow ws
// CHECK-NEXT:  gemmini.config_st stride 16 activation relu scale 2.500000e-01
// CHECK-NEXT:  gemmini.config_ld stride 16 block_stride 32
// CHECK-NEXT:  gemmini.config_ld stride 32 block_stride 20 id 1
// CHECK:       scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK:         %[[OFF:.*]] = arith.muli %[[J]], %[[C16]] : index
// CHECK-NEXT:    %[[ROWB:.*]] = arith.addi %[[B0]], %[[OFF]] : index
// CHECK-NEXT:    gemmini.mvin %{{.*}} -> spad[%[[ROWB]]] rows 16 cols 16 : index
// CHECK-NEXT:  }
// CHECK-NEXT:  scf.for %i = %c0 to %c40 step %c20 {
// CHECK:         %[[ROW:.*]] = arith.select %odd, %{{.*}}, %{{.*}} : index
// CHECK:         gemmini.mvin2 %{{.*}} -> spad[%[[ROW]]] rows 16 cols 32 : index
// CHECK:         gemmini.mvin2 %{{.*}} -> spad[%{{.*}}] rows 4 cols 32 : index
// CHECK-NEXT:    gemmini.preload spad[%[[B0]]] rows 16 cols 16 -> acc[%{{.*}}] rows 16 cols 16
// CHECK-NEXT:    gemmini.compute_preloaded spad[%[[ROW]]] rows 16 cols 16, garbage rows 16 cols 16
// CHECK-NEXT:    %{{.*}} = arith.addi %[[ROW]], %{{.*}} : index
// CHECK-NEXT:    gemmini.preload garbage rows 16 cols 16 -> acc[%{{.*}}] rows 4 cols 16
// CHECK-NEXT:    gemmini.compute_accumulated spad[%{{.*}}] rows 4 cols 16, garbage rows 16 cols 16
// CHECK:         gemmini.preload spad[%[[B16]]] rows 16 cols 16 -> acc[%{{.*}}] accumulate rows 16 cols 16
// CHECK:         gemmini.mvout acc[%{{.*}}] rows 16 cols 16 -> %{{.*}} : index
// CHECK:         gemmini.mvout acc[%{{.*}}] rows 4 cols 16 -> %{{.*}} : index
// CHECK-NEXT:  }
// CHECK-NEXT:  gemmini.fence
// CHECK-NOT:   tile.{{load|store|matmul|alloc|fence}}
