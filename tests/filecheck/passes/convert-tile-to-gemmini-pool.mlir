// RUN: %opt %s --split-input-file -p convert-tile-to-gemmini | filecheck %s
// Exercises passes/_lowering_pool.py (the pooled store's instruction selection).

// A pooled tile.store is Gemmini's pooled move-out: a config_st with the pool fields (window,
// stride, pads, the pooled rows x cols written, the unpooled view's rows x cols, the DRAM
// distance between pooled rows in pixels), one mvout of at most DIM columns per column block
// (its rows are ignored by the hardware: 1), then the store's unpooled config_st again. The
// int8 rows were moved into the accumulator "shrunk" (sign-extended), 64 columns per mvin.

func.func @pool(%x: memref<1x7x5x20xi8, #tile.space<dram>>, %y: memref<1x4x3x20xi8, #tile.space<dram>>) {
  %buf = tile.alloc address 0 bank 0 : memref<1x7x5x32xi32, #tile.space<acc>>
  tile.load %x[0, 0, 0, 0] [1, 7, 5, 20] into %buf[0, 0, 0, 0] : memref<1x7x5x20xi8, #tile.space<dram>> -> memref<1x7x5x32xi32, #tile.space<acc>>
  tile.store %buf[0, 0, 0, 0] [1, 7, 5, 20] into %y[0, 0, 0, 0] pool 3 stride 2 pads [1, 1] sizes [1, 4, 3, 20] : memref<1x7x5x32xi32, #tile.space<acc>> -> memref<1x4x3x20xi8, #tile.space<dram>>
  tile.fence
  func.return
}

// CHECK-LABEL: func.func @pool
// CHECK-DAG:   %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG:   %[[C16:.*]] = arith.constant 16 : index
// CHECK-DAG:   %[[C35:.*]] = arith.constant 35 : index
// CHECK-DAG:   %[[Y:.*]] = "memref.extract_aligned_pointer_as_index"(%y)
// CHECK:       gemmini.config_ld stride 20 block_stride 35 shrunk
// CHECK:       scf.for
// CHECK:         gemmini.mvin %{{.*}} -> acc[%{{.*}}] rows 5 cols 20 : index
// CHECK:       gemmini.config_st stride 20 pool_stride 2 pool_size 3 upad 1 lpad 1 pool_out_dim 3 porows 4 pocols 3 orows 7 ocols 5
// CHECK-NEXT:  gemmini.mvout acc[%[[C0]]] rows 1 cols 16 -> %[[Y]] : index
// CHECK-NEXT:  %[[Y16:.*]] = arith.addi %[[Y]], %[[C16]] : index
// CHECK-NEXT:  gemmini.mvout acc[%[[C35]]] rows 1 cols 4 -> %[[Y16]] : index
// CHECK-NEXT:  gemmini.config_st stride 20
// CHECK-NEXT:  gemmini.fence

// -----

// A batched view pools each batch entry (12 accumulator rows apart) into a window of a
// larger output (pooled rows 8 pixels apart), with the store's scale and ReLU; a later
// unpooled store sets its own config.

func.func @batched(%x: memref<2x3x4x16xi8, #tile.space<dram>>, %y: memref<2x8x8x16xi8, #tile.space<dram>>) {
  %buf = tile.alloc address 64 bank 0 : memref<2x3x4x16xi32, #tile.space<acc>>
  tile.load %x[0, 0, 0, 0] [2, 3, 4, 16] into %buf[0, 0, 0, 0] : memref<2x3x4x16xi8, #tile.space<dram>> -> memref<2x3x4x16xi32, #tile.space<acc>>
  tile.store %buf[0, 0, 0, 0] [2, 3, 4, 16] into %y[0, 4, 2, 0] scale 0.5 relu pool 2 stride 2 pads [0, 0] sizes [2, 1, 2, 16] : memref<2x3x4x16xi32, #tile.space<acc>> -> memref<2x8x8x16xi8, #tile.space<dram>>
  tile.store %buf[0, 0, 0, 0] [2, 3, 4, 16] into %x[0, 0, 0, 0] scale 0.5 : memref<2x3x4x16xi32, #tile.space<acc>> -> memref<2x3x4x16xi8, #tile.space<dram>>
  func.return
}

// CHECK-LABEL: func.func @batched
// CHECK-DAG:   %[[OFF:.*]] = arith.constant 544 : index
// CHECK-DAG:   %[[BATCH:.*]] = arith.constant 1024 : index
// CHECK-DAG:   %[[ROWS:.*]] = arith.constant 12 : index
// CHECK-DAG:   %[[BASE:.*]] = arith.constant 64 : index
// CHECK-DAG:   %[[Y:.*]] = "memref.extract_aligned_pointer_as_index"(%y)
// CHECK:       gemmini.config_st stride 16 activation relu scale 5.000000e-01 pool_stride 2 pool_size 2 pool_out_dim 8 porows 1 pocols 2 orows 3 ocols 4
// CHECK-NEXT:  scf.for %[[B:.*]] = %{{.*}} to %{{.*}} step %{{.*}} {
// CHECK-NEXT:    %[[T0:.*]] = arith.muli %[[B]], %[[BATCH]] : index
// CHECK-NEXT:    %[[T1:.*]] = arith.addi %[[Y]], %[[T0]] : index
// CHECK-NEXT:    %[[DRAM:.*]] = arith.addi %[[T1]], %[[OFF]] : index
// CHECK-NEXT:    %[[T2:.*]] = arith.muli %[[B]], %[[ROWS]] : index
// CHECK-NEXT:    %[[ROW:.*]] = arith.addi %[[BASE]], %[[T2]] : index
// CHECK-NEXT:    gemmini.mvout acc[%[[ROW]]] rows 1 cols 16 -> %[[DRAM]] : index
// CHECK-NEXT:  }
// CHECK-NEXT:  gemmini.config_st stride 16 activation relu scale 5.000000e-01
// CHECK-NEXT:  gemmini.config_st stride 16 scale 5.000000e-01
// CHECK:         gemmini.mvout acc[%{{.*}}] rows 4 cols 16
