// RUN: %opt %s -p 'gemforge-pipeline{tiles="m=32,n=16,k=32" form=fine}' | filecheck %s

// The whole path on a 64x32 x 32x16 matmul with bias and ReLU: fuse-epilogues,
// tiling (two 32-row tiles in a loop; the bias is a block of 16 broadcast accumulator
// rows moved in once and added as the D operand of the first reduction block),
// double buffering (the A tile alternates between two scratchpad buffers: an index
// select of their rows by iteration parity, the next tile's mvins issued under scf.if
// before this tile's computes; the accumulator tile alternates too, without a prefetch),
// allocation and instruction selection. Only gemmini, scf, arith and memref ops remain.

func.func @mm(%x: tensor<64x32xi8>) -> tensor<64x16xi8> {
  %w = graph.constant dense<2> : tensor<32x16xi8>
  %b = graph.constant dense<-7> : tensor<16xi32>
  %0 = graph.matmul %x, %w bias %b output_scale 0.125 activation relu : (tensor<64x32xi8>, tensor<32x16xi8>, tensor<16xi32>) -> tensor<64x16xi8>
  func.return %0 : tensor<64x16xi8>
}

// CHECK-LABEL: func.func @mm(%x: memref<64x32xi8, #tile.space<dram>>, %output: memref<64x16xi8, #tile.space<dram>>)
// CHECK:       gemmini.config_ex dataflow ws
// CHECK-NEXT:  gemmini.config_st stride 16 activation relu scale 1.250000e-01
// CHECK:       gemmini.mvin{{.*}} -> spad
// CHECK:       gemmini.mvin{{.*}} -> acc[%[[D:.*]]] rows 16 cols 16
// CHECK:       scf.for %m = %c0 to %c64 step %c32 {
// CHECK-COUNT-3: arith.select %odd, %{{.*}}, %{{.*}} : index
// CHECK:         scf.if %has_next {
// CHECK:           gemmini.mvin{{.*}} -> spad
// CHECK-NOT:       gemmini.mvin{{.*}} -> acc
// CHECK:         }
// CHECK:         gemmini.preload spad[%{{.*}}] rows 16 cols 16 -> acc[%{{.*}}] rows 16 cols 16
// CHECK-NEXT:    gemmini.compute_preloaded spad[%{{.*}}] rows 16 cols 16, acc[%[[D]]] rows 16 cols 16
// CHECK:         gemmini.preload spad[%{{.*}}] rows 16 cols 16 -> acc[%{{.*}}] accumulate rows 16 cols 16
// CHECK-NEXT:    gemmini.compute_preloaded spad[%{{.*}}] rows 16 cols 16, garbage rows 16 cols 16
// CHECK:         gemmini.mvout acc
// CHECK:       }
// CHECK:       gemmini.fence
// CHECK-NOT:   tile.{{load|store|matmul|alloc|fence}}
// CHECK-NOT:   graph.
