// RUN: %opt %s --split-input-file -p double-buffer | filecheck %s
// RUN: %opt %s --split-input-file -p "double-buffer{only-inputs=true}" | filecheck %s --check-prefix=INPUTS

// An accumulator tile that no load fills: the first matmul of each iteration overwrites
// it (the bias comes in as the D operand from a resident block) and the store reads it.
// It is ping-ponged by parity without a prologue or prefetch, so iteration i+1's matmuls
// need not wait for iteration i's store; the bias block, loaded once outside the loop,
// stays single.

func.func @written(%A: memref<64x32xi8, #tile.space<dram>>, %B: memref<32x16xi8, #tile.space<dram>>, %bias: memref<16xi32, #tile.space<dram>>, %C: memref<64x16xi8, #tile.space<dram>>) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %b = tile.alloc : memref<32x16xi8, #tile.space<spad>>
  tile.load %B[0, 0] [32, 16] into %b[0, 0] : memref<32x16xi8, #tile.space<dram>> -> memref<32x16xi8, #tile.space<spad>>
  %d = tile.alloc : memref<16x16xi32, #tile.space<acc>>
  tile.load %bias[0] [16, 16] into %d[0, 0] : memref<16xi32, #tile.space<dram>> -> memref<16x16xi32, #tile.space<acc>>
  %a = tile.alloc : memref<16x32xi8, #tile.space<spad>>
  %acc = tile.alloc : memref<16x16xi32, #tile.space<acc>>
  scf.for %i = %c0 to %c64 step %c16 {
    tile.load %A[%i, 0] [16, 32] into %a[0, 0] : memref<64x32xi8, #tile.space<dram>> -> memref<16x32xi8, #tile.space<spad>>
    tile.matmul %acc[0, 0] [16, 16] = %a[0, 0] [16, 32] * %b[0, 0] [32, 16] + %d[0, 0] [16, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x32xi8, #tile.space<spad>>, memref<32x16xi8, #tile.space<spad>>, memref<16x16xi32, #tile.space<acc>>
    tile.store %acc[0, 0] [16, 16] into %C[%i, 0] scale 0.125 : memref<16x16xi32, #tile.space<acc>> -> memref<64x16xi8, #tile.space<dram>>
  }
  tile.fence
  func.return
}

// CHECK-LABEL: func.func @written
// CHECK:      %d = tile.alloc : memref<16x16xi32, #tile.space<acc>>
// CHECK-NOT:  %d_pong
// CHECK:      %acc = tile.alloc : memref<16x16xi32, #tile.space<acc>>
// CHECK-NEXT: %acc_pong = tile.alloc : memref<16x16xi32, #tile.space<acc>>
// CHECK:      scf.for %i = %c0 to %c64 step %c16 {
// CHECK:        %odd = arith.cmpi eq, %parity, %c1 : index
// CHECK-DAG:    %acc_cur = arith.select %odd, %acc_pong, %acc : memref<16x16xi32, #tile.space<acc>>
// CHECK-DAG:    %a_cur = arith.select %odd, %a_pong, %a : memref<16x32xi8, #tile.space<spad>>
// CHECK:        tile.matmul %acc_cur[0, 0] [16, 16] = %a_cur[0, 0] [16, 32] * %b[0, 0] [32, 16] + %d[0, 0] [16, 16]
// CHECK-NEXT:   tile.store %acc_cur[0, 0] [16, 16] into %C[%i, 0]

// INPUTS-LABEL: func.func @written
// INPUTS-NOT:   %acc_pong
// INPUTS:       tile.matmul %acc[0, 0] [16, 16] = %a_cur

// -----

// Not ping-ponged: the first use of an iteration accumulates (it reads the previous value).

func.func @accumulates(%A: memref<64x32xi8, #tile.space<dram>>, %B: memref<32x16xi8, #tile.space<dram>>, %C: memref<64x16xi8, #tile.space<dram>>) {
  %c0 = arith.constant 0 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %b = tile.alloc : memref<32x16xi8, #tile.space<spad>>
  tile.load %B[0, 0] [32, 16] into %b[0, 0] : memref<32x16xi8, #tile.space<dram>> -> memref<32x16xi8, #tile.space<spad>>
  %a = tile.alloc : memref<16x32xi8, #tile.space<spad>>
  %acc = tile.alloc : memref<16x16xi32, #tile.space<acc>>
  tile.matmul %acc[0, 0] [16, 16] = %a[0, 0] [16, 32] * %b[0, 0] [32, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x32xi8, #tile.space<spad>>, memref<32x16xi8, #tile.space<spad>>
  scf.for %i = %c0 to %c64 step %c16 {
    tile.matmul %acc[0, 0] [16, 16] += %a[0, 0] [16, 32] * %b[0, 0] [32, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x32xi8, #tile.space<spad>>, memref<32x16xi8, #tile.space<spad>>
    tile.store %acc[0, 0] [16, 16] into %C[%i, 0] scale 0.125 : memref<16x16xi32, #tile.space<acc>> -> memref<64x16xi8, #tile.space<dram>>
  }
  tile.fence
  func.return
}

// CHECK-LABEL: func.func @accumulates
// CHECK-NOT:   %acc_pong
// CHECK:       tile.matmul %acc[0, 0] [16, 16] += %a[0, 0]
