// RUN: %opt %s --split-input-file -p double-buffer | filecheck %s
// RUN: %opt %s --split-input-file -p "double-buffer{only-inputs=true}" | filecheck %s --check-prefix=INPUTS

// The tiled matmul of the tile dialect's documentation. A (i-loop), B and the bias tile
// (j-loop) become ping-pong pairs: a prologue loads the first tile before each loop, each
// iteration picks its buffer by parity and prefetches the next iteration's tile into the
// other buffer (guarded for the last iteration) before computing on its own.

func.func @tiled_matmul(%A: memref<100x64xi8, #tile.space<dram>>, %B: memref<64x48xi8, #tile.space<dram>>, %bias: memref<48xi32, #tile.space<dram>>, %C: memref<100x48xi8, #tile.space<dram>>) {
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  %c48 = arith.constant 48 : index
  %c100 = arith.constant 100 : index
  %a = tile.alloc : memref<32x64xi8, #tile.space<spad>>
  %b = tile.alloc : memref<64x32xi8, #tile.space<spad>>
  %acc = tile.alloc : memref<32x32xi32, #tile.space<acc>>
  scf.for %i = %c0 to %c100 step %c32 {
    %rest = arith.subi %c100, %i : index
    %m = arith.minsi %rest, %c32 : index
    tile.load %A[%i, 0] [%m, 64] into %a[0, 0] : memref<100x64xi8, #tile.space<dram>> -> memref<32x64xi8, #tile.space<spad>>
    scf.for %j = %c0 to %c48 step %c32 {
      %nrest = arith.subi %c48, %j : index
      %n = arith.minsi %nrest, %c32 : index
      tile.load %B[0, %j] [64, %n] into %b[0, 0] : memref<64x48xi8, #tile.space<dram>> -> memref<64x32xi8, #tile.space<spad>>
      tile.load %bias[%j] [%m, %n] into %acc[0, 0] : memref<48xi32, #tile.space<dram>> -> memref<32x32xi32, #tile.space<acc>>
      tile.matmul %acc[0, 0] [%m, %n] += %a[0, 0] [%m, 64] * %b[0, 0] [64, %n] : memref<32x32xi32, #tile.space<acc>>, memref<32x64xi8, #tile.space<spad>>, memref<64x32xi8, #tile.space<spad>>
      tile.store %acc[0, 0] [%m, %n] into %C[%i, %j] scale 0.125 relu : memref<32x32xi32, #tile.space<acc>> -> memref<100x48xi8, #tile.space<dram>>
    }
  }
  tile.fence
  func.return
}

// CHECK-LABEL: func.func @tiled_matmul
// CHECK:      %c1 = arith.constant 1 : index
// CHECK-NEXT: %c2 = arith.constant 2 : index
// CHECK:      %a = tile.alloc : memref<32x64xi8, #tile.space<spad>>
// CHECK-NEXT: %a_pong = tile.alloc : memref<32x64xi8, #tile.space<spad>>
// CHECK-NEXT: %b = tile.alloc : memref<64x32xi8, #tile.space<spad>>
// CHECK-NEXT: %b_pong = tile.alloc : memref<64x32xi8, #tile.space<spad>>
// CHECK-NEXT: %acc = tile.alloc : memref<32x32xi32, #tile.space<acc>>
// CHECK-NEXT: %acc_pong = tile.alloc : memref<32x32xi32, #tile.space<acc>>
// CHECK-NEXT: %[[R0:.*]] = arith.subi %c100, %c0 : index
// CHECK-NEXT: %[[M0:.*]] = arith.minsi %[[R0]], %c32 : index
// CHECK-NEXT: tile.load %A[%c0, 0] [%[[M0]], 64] into %a[0, 0]
// CHECK-NEXT: scf.for %i = %c0 to %c100 step %c32 {
// CHECK-NEXT:   %iter = arith.divui %i, %c32 : index
// CHECK-NEXT:   %parity = arith.remui %iter, %c2 : index
// CHECK-NEXT:   %odd = arith.cmpi eq, %parity, %c1 : index
// CHECK-NEXT:   %a_cur = arith.select %odd, %a_pong, %a : memref<32x64xi8, #tile.space<spad>>
// CHECK-NEXT:   %a_next = arith.select %odd, %a, %a_pong : memref<32x64xi8, #tile.space<spad>>
// CHECK-NEXT:   %rest = arith.subi %c100, %i : index
// CHECK-NEXT:   %m = arith.minsi %rest, %c32 : index
// CHECK-NEXT:   %next = arith.addi %i, %c32 : index
// CHECK-NEXT:   %has_next = arith.cmpi slt, %next, %c100 : index
// CHECK-NEXT:   scf.if %has_next {
// CHECK-NEXT:     %[[R1:.*]] = arith.subi %c100, %next : index
// CHECK-NEXT:     %[[M1:.*]] = arith.minsi %[[R1]], %c32 : index
// CHECK-NEXT:     tile.load %A[%next, 0] [%[[M1]], 64] into %a_next[0, 0]
// CHECK-NEXT:   }
// CHECK:        tile.load %B[0, %c0] [64, %{{.*}}] into %b[0, 0]
// CHECK:        tile.load %bias[%c0] [%m, %{{.*}}] into %acc[0, 0]
// CHECK-NEXT:   scf.for %j = %c0 to %c48 step %c32 {
// CHECK-NEXT:     %iter_1 = arith.divui %j, %c32 : index
// CHECK-NEXT:     %parity_1 = arith.remui %iter_1, %c2 : index
// CHECK-NEXT:     %odd_1 = arith.cmpi eq, %parity_1, %c1 : index
// CHECK-NEXT:     %acc_cur = arith.select %odd_1, %acc_pong, %acc
// CHECK-NEXT:     %acc_next = arith.select %odd_1, %acc, %acc_pong
// CHECK-NEXT:     %b_cur = arith.select %odd_1, %b_pong, %b
// CHECK-NEXT:     %b_next = arith.select %odd_1, %b, %b_pong
// CHECK-NEXT:     %nrest = arith.subi %c48, %j : index
// CHECK-NEXT:     %n = arith.minsi %nrest, %c32 : index
// CHECK-NEXT:     %next_1 = arith.addi %j, %c32 : index
// CHECK-NEXT:     %has_next_1 = arith.cmpi slt, %next_1, %c48 : index
// CHECK-NEXT:     scf.if %has_next_1 {
// CHECK:            tile.load %B[0, %next_1] [64, %{{.*}}] into %b_next[0, 0]
// CHECK:            tile.load %bias[%next_1] [%m, %{{.*}}] into %acc_next[0, 0]
// CHECK-NEXT:     }
// CHECK-NEXT:     tile.matmul %acc_cur[0, 0] [%m, %n] += %a_cur[0, 0] [%m, 64] * %b_cur[0, 0] [64, %n]
// CHECK-NEXT:     tile.store %acc_cur[0, 0] [%m, %n] into %C[%i, %j] scale 1.250000e-01 relu
// CHECK-NEXT:   }
// CHECK-NEXT: }
// CHECK-NEXT: tile.fence

// INPUTS-LABEL: func.func @tiled_matmul
// INPUTS:     %a_pong = tile.alloc
// INPUTS:     %b_pong = tile.alloc
// INPUTS-NOT: %acc_pong
// INPUTS:     tile.load %bias[%j] [%m, %n] into %acc[0, 0]
// INPUTS:     tile.matmul %acc[0, 0] [%m, %n] += %a_cur[0, 0] [%m, 64] * %b_cur[0, 0] [64, %n]

// -----

// Bounds unknown at compile time: the prologue is guarded by lb < ub, the parity counts
// from the lower bound.

func.func @dynamic(%X: memref<256x16xi8, #tile.space<dram>>, %Y: memref<256x16xi8, #tile.space<dram>>, %lb: index, %ub: index) {
  %c16 = arith.constant 16 : index
  %x = tile.alloc : memref<16x16xi8, #tile.space<spad>>
  %w = tile.alloc : memref<16x16xi8, #tile.space<spad>>
  %acc = tile.alloc : memref<16x16xi32, #tile.space<acc>>
  scf.for %i = %lb to %ub step %c16 {
    tile.load %X[%i, 0] [16, 16] into %x[0, 0] : memref<256x16xi8, #tile.space<dram>> -> memref<16x16xi8, #tile.space<spad>>
    tile.matmul %acc[0, 0] [16, 16] = %x[0, 0] [16, 16] * %w[0, 0] [16, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x16xi8, #tile.space<spad>>, memref<16x16xi8, #tile.space<spad>>
    tile.store %acc[0, 0] [16, 16] into %Y[%i, 0] : memref<16x16xi32, #tile.space<acc>> -> memref<256x16xi8, #tile.space<dram>>
  }
  func.return
}

// CHECK-LABEL: func.func @dynamic
// CHECK:      %x_pong = tile.alloc : memref<16x16xi8, #tile.space<spad>>
// CHECK:      %[[NONEMPTY:.*]] = arith.cmpi slt, %lb, %ub : index
// CHECK-NEXT: scf.if %[[NONEMPTY]] {
// CHECK-NEXT:   tile.load %X[%lb, 0] [16, 16] into %x[0, 0]
// CHECK-NEXT: }
// CHECK-NEXT: scf.for %i = %lb to %ub step %c16 {
// CHECK-NEXT:   %[[REL:.*]] = arith.subi %i, %lb : index
// CHECK-NEXT:   %iter = arith.divui %[[REL]], %c16 : index
// CHECK:        %x_cur = arith.select %odd, %x_pong, %x
// CHECK:        tile.load %X[%next, 0] [16, 16] into %x_next[0, 0]
// CHECK:        tile.matmul %acc_cur[0, 0] [16, 16] = %x_cur[0, 0] [16, 16] * %w[0, 0] [16, 16]

// -----

// Left alone: the loop writes the DRAM tensor it loads from (a load one iteration early
// would read stale data).

func.func @writes_source(%X: memref<64x16xi8, #tile.space<dram>>) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %x = tile.alloc : memref<16x16xi8, #tile.space<spad>>
  %acc = tile.alloc : memref<16x16xi32, #tile.space<acc>>
  scf.for %i = %c0 to %c64 step %c16 {
    tile.load %X[%i, 0] [16, 16] into %x[0, 0] : memref<64x16xi8, #tile.space<dram>> -> memref<16x16xi8, #tile.space<spad>>
    tile.matmul %acc[0, 0] [16, 16] = %x[0, 0] [16, 16] * %x[0, 0] [16, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x16xi8, #tile.space<spad>>, memref<16x16xi8, #tile.space<spad>>
    tile.store %acc[0, 0] [16, 16] into %X[%i, 0] : memref<16x16xi32, #tile.space<acc>> -> memref<64x16xi8, #tile.space<dram>>
  }
  func.return
}

// (The accumulator, overwritten first in every iteration, is still ping-ponged.)
// CHECK-LABEL: func.func @writes_source
// CHECK-NOT:   %x_pong
// CHECK:       tile.load %X[%i, 0] [16, 16] into %x[0, 0]

// -----

// Left alone: the accumulator is live across iterations of the k-loop (read by the
// first matmul before anything in the iteration writes it), and %x is used after its loop.

func.func @carried(%X: memref<64x64xi8, #tile.space<dram>>, %bias: memref<16xi32, #tile.space<dram>>, %Y: memref<64x16xi8, #tile.space<dram>>) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %x = tile.alloc : memref<16x16xi8, #tile.space<spad>>
  %w = tile.alloc : memref<16x16xi8, #tile.space<spad>>
  %acc = tile.alloc : memref<16x16xi32, #tile.space<acc>>
  scf.for %k = %c0 to %c64 step %c16 {
    tile.matmul %acc[0, 0] [16, 16] += %w[0, 0] [16, 16] * %w[0, 0] [16, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x16xi8, #tile.space<spad>>, memref<16x16xi8, #tile.space<spad>>
    tile.load %bias[0] [16, 16] into %acc[0, 0] : memref<16xi32, #tile.space<dram>> -> memref<16x16xi32, #tile.space<acc>>
    tile.load %X[0, %k] [16, 16] into %x[0, 0] : memref<64x64xi8, #tile.space<dram>> -> memref<16x16xi8, #tile.space<spad>>
    tile.matmul %acc[0, 0] [16, 16] += %x[0, 0] [16, 16] * %w[0, 0] [16, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x16xi8, #tile.space<spad>>, memref<16x16xi8, #tile.space<spad>>
    tile.store %acc[0, 0] [16, 16] into %Y[%k, 0] : memref<16x16xi32, #tile.space<acc>> -> memref<64x16xi8, #tile.space<dram>>
  }
  tile.store %x[0, 0] [16, 16] into %Y[0, 0] raw : memref<16x16xi8, #tile.space<spad>> -> memref<64x16xi8, #tile.space<dram>>
  func.return
}

// CHECK-LABEL: func.func @carried
// CHECK-NOT:   arith.select
// CHECK-NOT:   _pong
// CHECK:       func.return

// -----

// Left alone: the load's offset depends on a loop-carried value (unknown one iteration
// ahead), and a load under scf.if is not the first access of every iteration.

func.func @unknowable(%X: memref<64x16xi8, #tile.space<dram>>, %Y: memref<64x16xi8, #tile.space<dram>>, %flag: i1) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %x = tile.alloc : memref<16x16xi8, #tile.space<spad>>
  %y = tile.alloc : memref<16x16xi8, #tile.space<spad>>
  %acc = tile.alloc : memref<16x16xi32, #tile.space<acc>>
  %end = scf.for %i = %c0 to %c64 step %c16 iter_args(%row = %c0) -> (index) {
    tile.load %X[%row, 0] [16, 16] into %x[0, 0] : memref<64x16xi8, #tile.space<dram>> -> memref<16x16xi8, #tile.space<spad>>
    scf.if %flag {
      tile.load %X[%i, 0] [16, 16] into %y[0, 0] : memref<64x16xi8, #tile.space<dram>> -> memref<16x16xi8, #tile.space<spad>>
    }
    tile.matmul %acc[0, 0] [16, 16] = %x[0, 0] [16, 16] * %y[0, 0] [16, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x16xi8, #tile.space<spad>>, memref<16x16xi8, #tile.space<spad>>
    tile.store %acc[0, 0] [16, 16] into %Y[%i, 0] : memref<16x16xi32, #tile.space<acc>> -> memref<64x16xi8, #tile.space<dram>>
    %row2 = arith.addi %row, %c16 : index
    scf.yield %row2 : index
  }
  func.return
}

// CHECK-LABEL: func.func @unknowable
// CHECK-NOT:   %x_pong
// CHECK-NOT:   %y_pong
// CHECK:       func.return
