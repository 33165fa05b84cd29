// RUN: %opt %s --split-input-file -p allocate-scratchpad | filecheck %s
// RUN: %opt %s --split-input-file -p "allocate-scratchpad{target=gemmini-32x32}" | filecheck %s --check-prefix=WIDE

// A tiled matmul: A and B tiles in different scratchpad banks (4096 rows each on the
// default target), the accumulator tile in the accumulator. With DIM = 32 a 64-column
// buffer is 2 blocks of 32 rows: A takes 64 rows.

func.func @matmul(%A: memref<64x64xi8, #tile.space<dram>>, %B: memref<64x64xi8, #tile.space<dram>>, %C: memref<64x64xi8, #tile.space<dram>>) {
  %c0 = arith.constant 0 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  %a = tile.alloc : memref<32x64xi8, #tile.space<spad>>
  %b = tile.alloc : memref<64x64xi8, #tile.space<spad>>
  %acc = tile.alloc : memref<32x64xi32, #tile.space<acc>>
  tile.load %B[0, 0] [64, 64] into %b[0, 0] : memref<64x64xi8, #tile.space<dram>> -> memref<64x64xi8, #tile.space<spad>>
  scf.for %i = %c0 to %c64 step %c32 {
    tile.load %A[%i, 0] [32, 64] into %a[0, 0] : memref<64x64xi8, #tile.space<dram>> -> memref<32x64xi8, #tile.space<spad>>
    tile.matmul %acc[0, 0] [32, 64] = %a[0, 0] [32, 64] * %b[0, 0] [64, 64] : memref<32x64xi32, #tile.space<acc>>, memref<32x64xi8, #tile.space<spad>>, memref<64x64xi8, #tile.space<spad>>
    tile.store %acc[0, 0] [32, 64] into %C[%i, 0] : memref<32x64xi32, #tile.space<acc>> -> memref<64x64xi8, #tile.space<dram>>
  }
  func.return
}

// CHECK-LABEL: func.func @matmul
// CHECK:      %a = tile.alloc address 0 bank 0 : memref<32x64xi8, #tile.space<spad>>
// CHECK-NEXT: %b = tile.alloc address 4096 bank 1 : memref<64x64xi8, #tile.space<spad>>
// CHECK-NEXT: %acc = tile.alloc address 0 bank 0 : memref<32x64xi32, #tile.space<acc>>

// WIDE-LABEL: func.func @matmul
// WIDE:      %a = tile.alloc address 0 bank 0 : memref<32x64xi8, #tile.space<spad>>
// WIDE-NEXT: %b = tile.alloc address 4096 bank 1 : memref<64x64xi8, #tile.space<spad>>
// WIDE-NEXT: %acc = tile.alloc address 0 bank 0 : memref<32x64xi32, #tile.space<acc>>

// -----

// Reuse: %x is dead after its store, so %y (allocated later) takes its rows; %z is live
// with %y and goes after it (best fit: right behind %y, both in bank 0).

func.func @reuse(%X: memref<64x16xi32, #tile.space<dram>>, %Y: memref<64x16xi32, #tile.space<dram>>) {
  %x = tile.alloc : memref<64x16xi32, #tile.space<acc>>
  tile.load %X[0, 0] [64, 16] into %x[0, 0] : memref<64x16xi32, #tile.space<dram>> -> memref<64x16xi32, #tile.space<acc>>
  tile.store %x[0, 0] [64, 16] into %Y[0, 0] raw : memref<64x16xi32, #tile.space<acc>> -> memref<64x16xi32, #tile.space<dram>>
  %y = tile.alloc : memref<32x16xi32, #tile.space<acc>>
  %z = tile.alloc : memref<16x16xi32, #tile.space<acc>>
  tile.load %X[0, 0] [32, 16] into %y[0, 0] : memref<64x16xi32, #tile.space<dram>> -> memref<32x16xi32, #tile.space<acc>>
  tile.load %X[0, 0] [16, 16] into %z[0, 0] : memref<64x16xi32, #tile.space<dram>> -> memref<16x16xi32, #tile.space<acc>>
  tile.store %y[0, 0] [32, 16] into %Y[0, 0] raw : memref<32x16xi32, #tile.space<acc>> -> memref<64x16xi32, #tile.space<dram>>
  tile.store %z[0, 0] [16, 16] into %Y[0, 0] raw : memref<16x16xi32, #tile.space<acc>> -> memref<64x16xi32, #tile.space<dram>>
  func.return
}

// CHECK-LABEL: func.func @reuse
// CHECK:      %x = tile.alloc address 0 bank 0 : memref<64x16xi32, #tile.space<acc>>
// CHECK:      %y = tile.alloc address 0 bank 0 : memref<32x16xi32, #tile.space<acc>>
// CHECK-NEXT: %z = tile.alloc address 32 bank 0 : memref<16x16xi32, #tile.space<acc>>

// -----

// Loops are conservative: %outer is read inside the loop, so it is live for the whole
// loop and the buffer allocated in the loop body cannot reuse its rows; %after is
// allocated after the loop and reuses both.

func.func @loops(%X: memref<64x16xi32, #tile.space<dram>>, %Y: memref<64x16xi32, #tile.space<dram>>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c1_i1 = arith.constant true
  %outer = tile.alloc : memref<64x16xi32, #tile.space<acc>>
  tile.load %X[0, 0] [64, 16] into %outer[0, 0] : memref<64x16xi32, #tile.space<dram>> -> memref<64x16xi32, #tile.space<acc>>
  scf.for %i = %c0 to %n step %c1 {
    %inner = tile.alloc : memref<16x16xi32, #tile.space<acc>>
    tile.load %X[0, 0] [16, 16] into %inner[0, 0] : memref<64x16xi32, #tile.space<dram>> -> memref<16x16xi32, #tile.space<acc>>
    tile.store %inner[0, 0] [16, 16] into %Y[0, 0] raw : memref<16x16xi32, #tile.space<acc>> -> memref<64x16xi32, #tile.space<dram>>
    scf.if %c1_i1 {
      tile.store %outer[0, 0] [16, 16] into %Y[0, 0] raw : memref<64x16xi32, #tile.space<acc>> -> memref<64x16xi32, #tile.space<dram>>
    }
  }
  %after = tile.alloc : memref<64x16xi32, #tile.space<acc>>
  tile.load %X[0, 0] [64, 16] into %after[0, 0] : memref<64x16xi32, #tile.space<dram>> -> memref<64x16xi32, #tile.space<acc>>
  func.return
}

// CHECK-LABEL: func.func @loops
// CHECK:      %outer = tile.alloc address 0 bank 0 : memref<64x16xi32, #tile.space<acc>>
// CHECK:      %inner = tile.alloc address 64 bank 0 : memref<16x16xi32, #tile.space<acc>>
// CHECK:      %after = tile.alloc address 0 bank 0 : memref<64x16xi32, #tile.space<acc>>

// -----

// Double-buffered operands: ping and pong are both live in the loop (through the
// select), so they get separate rows. A and B buffers avoid each other's banks first,
// then each pong avoids its ping's bank: the array reads (A, B) from banks (0, 2) or
// (1, 3) while the DMA fills the other two.
// After the loop all of them are dead: a buffer larger than a bank (5000 rows) starts
// at row 0 and spans banks 0 and 1.

func.func @ping_pong(%A: memref<64x64xi8, #tile.space<dram>>, %C: memref<64x16xi8, #tile.space<dram>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %a = tile.alloc : memref<16x64xi8, #tile.space<spad>>
  %a_pong = tile.alloc : memref<16x64xi8, #tile.space<spad>>
  %b = tile.alloc : memref<64x16xi8, #tile.space<spad>>
  %b_pong = tile.alloc : memref<64x16xi8, #tile.space<spad>>
  %acc = tile.alloc : memref<16x16xi32, #tile.space<acc>>
  scf.for %i = %c0 to %c64 step %c16 {
    %t = arith.divui %i, %c16 : index
    %p = arith.remui %t, %c2 : index
    %odd = arith.cmpi eq, %p, %c1 : index
    %a_cur = arith.select %odd, %a_pong, %a : memref<16x64xi8, #tile.space<spad>>
    %b_cur = arith.select %odd, %b_pong, %b : memref<64x16xi8, #tile.space<spad>>
    tile.load %A[%i, 0] [16, 64] into %a_cur[0, 0] : memref<64x64xi8, #tile.space<dram>> -> memref<16x64xi8, #tile.space<spad>>
    tile.load %A[0, %i] [64, 16] into %b_cur[0, 0] : memref<64x64xi8, #tile.space<dram>> -> memref<64x16xi8, #tile.space<spad>>
    tile.matmul %acc[0, 0] [16, 16] = %a_cur[0, 0] [16, 64] * %b_cur[0, 0] [64, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x64xi8, #tile.space<spad>>, memref<64x16xi8, #tile.space<spad>>
    tile.store %acc[0, 0] [16, 16] into %C[%i, 0] : memref<16x16xi32, #tile.space<acc>> -> memref<64x16xi8, #tile.space<dram>>
  }
  %big = tile.alloc : memref<5000x16xi8, #tile.space<spad>>
  tile.load %A[0, 0] [64, 16] into %big[0, 0] : memref<64x64xi8, #tile.space<dram>> -> memref<5000x16xi8, #tile.space<spad>>
  func.return
}

// CHECK-LABEL: func.func @ping_pong
// CHECK:      %a = tile.alloc address 0 bank 0 : memref<16x64xi8, #tile.space<spad>>
// CHECK-NEXT: %a_pong = tile.alloc address 4096 bank 1 : memref<16x64xi8, #tile.space<spad>>
// CHECK-NEXT: %b = tile.alloc address 8192 bank 2 : memref<64x16xi8, #tile.space<spad>>
// CHECK-NEXT: %b_pong = tile.alloc address 12288 bank 3 : memref<64x16xi8, #tile.space<spad>>
// CHECK:      %big = tile.alloc address 0 bank 0 : memref<5000x16xi8, #tile.space<spad>>

// -----

// Placements already present are recomputed (the pass is idempotent).

%s = tile.alloc address 999 bank 3 : memref<16x16xi8, #tile.space<spad>>

// CHECK: %s = tile.alloc address 0 bank 0 : memref<16x16xi8, #tile.space<spad>>
