// RUN: not %opt %s --split-input-file -p allocate-scratchpad 2>&1 | filecheck %s
// RUN: %opt %s --split-input-file --verify-diagnostics -p allocate-scratchpad | filecheck %s --check-prefix=DIAG

// A buffer that cannot fit ends in one line naming the tile.alloc (no traceback, no IR
// dump). The first split is what a plain run reports.

func.func @too_big() {
  %a = tile.alloc : memref<2049x128xi8, #tile.space<spad>>
  func.return
}

// CHECK-NOT:  Traceback
// CHECK:      {{.*}}allocate-scratchpad-overflow.mlir: error: tile.alloc %a : memref<2049x128xi8, #tile.space<spad>> in @too_big: needs 16392 scratchpad rows, only 16384 free (capacity 16384)
// CHECK-NOT:  {{.}}

// DIAG: tile.alloc %a : memref<2049x128xi8, #tile.space<spad>> in @too_big: needs 16392 scratchpad rows, only 16384 free (capacity 16384)

// -----

// Two accumulator tiles live at the same time: 768 + 512 rows > 1024.

func.func @two_live(%X: memref<16x16xi32, #tile.space<dram>>) {
  %x = tile.alloc : memref<768x16xi32, #tile.space<acc>>
  %y = tile.alloc : memref<512x16xi32, #tile.space<acc>>
  tile.load %X[0, 0] [16, 16] into %x[0, 0] : memref<16x16xi32, #tile.space<dram>> -> memref<768x16xi32, #tile.space<acc>>
  tile.load %X[0, 0] [16, 16] into %y[0, 0] : memref<16x16xi32, #tile.space<dram>> -> memref<512x16xi32, #tile.space<acc>>
  func.return
}

// DIAG: tile.alloc %y : memref<512x16xi32, #tile.space<acc>> in @two_live: needs 512 accumulator rows, only 256 free (capacity 1024; 768 held by 1 other live buffer)

// -----

// The same two tiles fit one after the other: %x is dead when %y is allocated.

func.func @sequential(%X: memref<16x16xi32, #tile.space<dram>>) {
  %x = tile.alloc : memref<768x16xi32, #tile.space<acc>>
  tile.load %X[0, 0] [16, 16] into %x[0, 0] : memref<16x16xi32, #tile.space<dram>> -> memref<768x16xi32, #tile.space<acc>>
  %y = tile.alloc : memref<512x16xi32, #tile.space<acc>>
  tile.load %X[0, 0] [16, 16] into %y[0, 0] : memref<16x16xi32, #tile.space<dram>> -> memref<512x16xi32, #tile.space<acc>>
  func.return
}

// DIAG-LABEL: func.func @sequential
// DIAG:       %x = tile.alloc address 0 bank 0 : memref<768x16xi32, #tile.space<acc>>
// DIAG:       %y = tile.alloc address 0 bank 0 : memref<512x16xi32, #tile.space<acc>>

// -----

// A scratchpad row holds DIM int8 values on this target: an i32 scratchpad buffer has no layout.

func.func @wide() {
  %s = tile.alloc : memref<16x16xi32, #tile.space<spad>>
  func.return
}

// DIAG: tile.alloc %s : memref<16x16xi32, #tile.space<spad>> in @wide: scratchpad elements must be i8 on target gemmini-default, got i32
