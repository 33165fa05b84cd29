// RUN: %roundtrip
// RUN: %generic-roundtrip

// The memory-space attribute on memrefs of every space.

func.func @spaces(%d: memref<1x56x56x64xi8, #tile.space<dram>>, %s: memref<32x64xi8, #tile.space<spad>>, %a: memref<16x16xi32, #tile.space<acc>>) {
  func.return
}

// CHECK-LABEL: func.func @spaces
// CHECK-SAME: %d: memref<1x56x56x64xi8, #tile.space<dram>>
// CHECK-SAME: %s: memref<32x64xi8, #tile.space<spad>>
// CHECK-SAME: %a: memref<16x16xi32, #tile.space<acc>>

// -----

// A tiled matmul C[100x48] = relu(A[100x64] x B[64x48] + bias) with 32x32 output tiles;
// the last row tile is a remainder of 4 rows, the last column tile of 16 columns.

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
// CHECK:      %a = tile.alloc : memref<32x64xi8, #tile.space<spad>>
// CHECK-NEXT: %b = tile.alloc : memref<64x32xi8, #tile.space<spad>>
// CHECK-NEXT: %acc = tile.alloc : memref<32x32xi32, #tile.space<acc>>
// CHECK-NEXT: scf.for %i = %c0 to %c100 step %c32 {
// CHECK-NEXT:   %rest = arith.subi %c100, %i : index
// CHECK-NEXT:   %m = arith.minsi %rest, %c32 : index
// CHECK-NEXT:   tile.load %A[%i, 0] [%m, 64] into %a[0, 0] : memref<100x64xi8, #tile.space<dram>> -> memref<32x64xi8, #tile.space<spad>>
// CHECK-NEXT:   scf.for %j = %c0 to %c48 step %c32 {
// CHECK:          tile.load %B[0, %j] [64, %n] into %b[0, 0] : memref<64x48xi8, #tile.space<dram>> -> memref<64x32xi8, #tile.space<spad>>
// CHECK-NEXT:     tile.load %bias[%j] [%m, %n] into %acc[0, 0] : memref<48xi32, #tile.space<dram>> -> memref<32x32xi32, #tile.space<acc>>
// CHECK-NEXT:     tile.matmul %acc[0, 0] [%m, %n] += %a[0, 0] [%m, 64] * %b[0, 0] [64, %n] : memref<32x32xi32, #tile.space<acc>>, memref<32x64xi8, #tile.space<spad>>, memref<64x32xi8, #tile.space<spad>>
// CHECK-NEXT:     tile.store %acc[0, 0] [%m, %n] into %C[%i, %j] scale 1.250000e-01 relu : memref<32x32xi32, #tile.space<acc>> -> memref<100x48xi8, #tile.space<dram>>
// CHECK-NEXT:   }
// CHECK-NEXT: }
// CHECK-NEXT: tile.fence

// -----

// A tiled 3x3 convolution, stride 2, padding 1, x: 1x9x9x16 -> y: 1x5x5x32 (HWIO weights),
// 2x2 output tiles: the last row and column tiles are 1-pixel remainders. The input window
// of an output tile (oh0, ow0) of th x tw pixels starts at (2*oh0 - 1, 2*ow0 - 1) and has
// (2*th + 1) x (2*tw + 1) pixels, zero-padded at the border; each kernel position (kh, kw)
// is one matmul reading the window's pixels (kh + 2*oh, kw + 2*ow) with row stride 2.

func.func @tiled_conv(%X: memref<1x9x9x16xi8, #tile.space<dram>>, %W: memref<3x3x16x32xi8, #tile.space<dram>>, %bias: memref<32xi32, #tile.space<dram>>, %Y: memref<1x5x5x32xi8, #tile.space<dram>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c5 = arith.constant 5 : index
  %in = tile.alloc : memref<1x5x5x16xi8, #tile.space<spad>>
  %w = tile.alloc : memref<3x3x16x32xi8, #tile.space<spad>>
  %acc = tile.alloc : memref<1x2x2x32xi32, #tile.space<acc>>
  tile.load %W[0, 0, 0, 0] [3, 3, 16, 32] into %w[0, 0, 0, 0] : memref<3x3x16x32xi8, #tile.space<dram>> -> memref<3x3x16x32xi8, #tile.space<spad>>
  scf.for %oh0 = %c0 to %c5 step %c2 {
    %hrest = arith.subi %c5, %oh0 : index
    %th = arith.minsi %hrest, %c2 : index
    %h2 = arith.muli %oh0, %c2 : index
    %h0 = arith.subi %h2, %c1 : index
    %th2 = arith.muli %th, %c2 : index
    %ih = arith.addi %th2, %c1 : index
    scf.for %ow0 = %c0 to %c5 step %c2 {
      %wrest = arith.subi %c5, %ow0 : index
      %tw = arith.minsi %wrest, %c2 : index
      %w2 = arith.muli %ow0, %c2 : index
      %w0 = arith.subi %w2, %c1 : index
      %tw2 = arith.muli %tw, %c2 : index
      %iw = arith.addi %tw2, %c1 : index
      tile.load %X[0, %h0, %w0, 0] [1, %ih, %iw, 16] into %in[0, 0, 0, 0] zero_pad : memref<1x9x9x16xi8, #tile.space<dram>> -> memref<1x5x5x16xi8, #tile.space<spad>>
      tile.load %bias[0] [1, %th, %tw, 32] into %acc[0, 0, 0, 0] : memref<32xi32, #tile.space<dram>> -> memref<1x2x2x32xi32, #tile.space<acc>>
      scf.for %kh = %c0 to %c3 step %c1 {
        scf.for %kw = %c0 to %c3 step %c1 {
          tile.matmul %acc[0, 0, 0, 0] [1, %th, %tw, 32] += %in[0, %kh, %kw, 0] [1, %th, %tw, 16] strides [1, 2, 2, 1] * %w[%kh, %kw, 0, 0] [1, 1, 16, 32] : memref<1x2x2x32xi32, #tile.space<acc>>, memref<1x5x5x16xi8, #tile.space<spad>>, memref<3x3x16x32xi8, #tile.space<spad>>
        }
      }
      tile.store %acc[0, 0, 0, 0] [1, %th, %tw, 32] into %Y[0, %oh0, %ow0, 0] scale 0.05 relu : memref<1x2x2x32xi32, #tile.space<acc>> -> memref<1x5x5x32xi8, #tile.space<dram>>
    }
  }
  func.return
}

// CHECK-LABEL: func.func @tiled_conv
// CHECK:      tile.load %W[0, 0, 0, 0] [3, 3, 16, 32] into %w[0, 0, 0, 0] : memref<3x3x16x32xi8, #tile.space<dram>> -> memref<3x3x16x32xi8, #tile.space<spad>>
// CHECK:      tile.load %X[0, %h0, %w0, 0] [1, %ih, %iw, 16] into %in[0, 0, 0, 0] zero_pad : memref<1x9x9x16xi8, #tile.space<dram>> -> memref<1x5x5x16xi8, #tile.space<spad>>
// CHECK-NEXT: tile.load %bias[0] [1, %th, %tw, 32] into %acc[0, 0, 0, 0] : memref<32xi32, #tile.space<dram>> -> memref<1x2x2x32xi32, #tile.space<acc>>
// CHECK-NEXT: scf.for %kh = %c0 to %c3 step %c1 {
// CHECK-NEXT:   scf.for %kw = %c0 to %c3 step %c1 {
// CHECK-NEXT:     tile.matmul %acc[0, 0, 0, 0] [1, %th, %tw, 32] += %in[0, %kh, %kw, 0] [1, %th, %tw, 16] strides [1, 2, 2, 1] * %w[%kh, %kw, 0, 0] [1, 1, 16, 32] : memref<1x2x2x32xi32, #tile.space<acc>>, memref<1x5x5x16xi8, #tile.space<spad>>, memref<3x3x16x32xi8, #tile.space<spad>>
// CHECK-NEXT:   }
// CHECK-NEXT: }
// CHECK-NEXT: tile.store %acc[0, 0, 0, 0] [1, %th, %tw, 32] into %Y[0, %oh0, %ow0, 0] scale 5.000000e-02 relu : memref<1x2x2x32xi32, #tile.space<acc>> -> memref<1x5x5x32xi8, #tile.space<dram>>

// -----

// tile.alloc alone: plain, placed (address), placed in a bank, with a discardable attribute.

%s = tile.alloc : memref<32x64xi8, #tile.space<spad>>
%t = tile.alloc address 128 : memref<4x4x16xi8, #tile.space<spad>>
%u = tile.alloc address 512 bank 1 : memref<16x16xi32, #tile.space<acc>>
%v = tile.alloc {name = "ping"} : memref<16x16xi32, #tile.space<acc>>

// CHECK:      %s = tile.alloc : memref<32x64xi8, #tile.space<spad>>
// CHECK-NEXT: %t = tile.alloc address 128 : memref<4x4x16xi8, #tile.space<spad>>
// CHECK-NEXT: %u = tile.alloc address 512 bank 1 : memref<16x16xi32, #tile.space<acc>>
// CHECK-NEXT: %v = tile.alloc {name = "ping"} : memref<16x16xi32, #tile.space<acc>>

// -----

// tile.load alone: static window, scale, int8 into the accumulator, transpose,
// a padded window with negative offsets, and a broadcast bias.

func.func @loads(%x: memref<64x64xi8, #tile.space<dram>>, %img: memref<1x8x8x16xi8, #tile.space<dram>>, %bias: memref<16xi32, #tile.space<dram>>, %i: index) {
  %s = tile.alloc : memref<32x64xi8, #tile.space<spad>>
  %p = tile.alloc : memref<1x4x4x16xi8, #tile.space<spad>>
  %a = tile.alloc : memref<16x16xi32, #tile.space<acc>>
  tile.load %x[0, 0] [32, 64] into %s[0, 0] : memref<64x64xi8, #tile.space<dram>> -> memref<32x64xi8, #tile.space<spad>>
  tile.load %x[%i, 0] [16, 64] into %s[16, 0] scale 0.5 : memref<64x64xi8, #tile.space<dram>> -> memref<32x64xi8, #tile.space<spad>>
  tile.load %x[0, 0] [16, 16] into %a[0, 0] : memref<64x64xi8, #tile.space<dram>> -> memref<16x16xi32, #tile.space<acc>>
  tile.load %x[0, 8] [32, 64] into %s[0, 0] transpose : memref<64x64xi8, #tile.space<dram>> -> memref<32x64xi8, #tile.space<spad>>
  tile.load %img[0, -1, -1, 0] [1, 4, 4, 16] into %p[0, 0, 0, 0] zero_pad : memref<1x8x8x16xi8, #tile.space<dram>> -> memref<1x4x4x16xi8, #tile.space<spad>>
  tile.load %bias[0] [16, 16] into %a[0, 0] : memref<16xi32, #tile.space<dram>> -> memref<16x16xi32, #tile.space<acc>>
  func.return
}

// CHECK-LABEL: func.func @loads
// CHECK:      tile.load %x[0, 0] [32, 64] into %s[0, 0] : memref<64x64xi8, #tile.space<dram>> -> memref<32x64xi8, #tile.space<spad>>
// CHECK-NEXT: tile.load %x[%i, 0] [16, 64] into %s[16, 0] scale 5.000000e-01 : memref<64x64xi8, #tile.space<dram>> -> memref<32x64xi8, #tile.space<spad>>
// CHECK-NEXT: tile.load %x[0, 0] [16, 16] into %a[0, 0] : memref<64x64xi8, #tile.space<dram>> -> memref<16x16xi32, #tile.space<acc>>
// CHECK-NEXT: tile.load %x[0, 8] [32, 64] into %s[0, 0] transpose : memref<64x64xi8, #tile.space<dram>> -> memref<32x64xi8, #tile.space<spad>>
// CHECK-NEXT: tile.load %img[0, -1, -1, 0] [1, 4, 4, 16] into %p[0, 0, 0, 0] zero_pad : memref<1x8x8x16xi8, #tile.space<dram>> -> memref<1x4x4x16xi8, #tile.space<spad>>
// CHECK-NEXT: tile.load %bias[0] [16, 16] into %a[0, 0] : memref<16xi32, #tile.space<dram>> -> memref<16x16xi32, #tile.space<acc>>

// -----

// tile.store alone: raw int32, scale only, relu, clip, pooled, and raw from the scratchpad.

func.func @stores(%y32: memref<64x64xi32, #tile.space<dram>>, %y: memref<64x64xi8, #tile.space<dram>>, %img: memref<1x4x4x16xi8, #tile.space<dram>>, %pt: index) {
  %a = tile.alloc : memref<16x16xi32, #tile.space<acc>>
  %c = tile.alloc : memref<1x8x8x16xi32, #tile.space<acc>>
  %s = tile.alloc : memref<16x16xi8, #tile.space<spad>>
  tile.store %a[0, 0] [16, 16] into %y32[0, 16] raw : memref<16x16xi32, #tile.space<acc>> -> memref<64x64xi32, #tile.space<dram>>
  tile.store %a[0, 0] [8, 16] into %y[0, 0] scale 0.25 : memref<16x16xi32, #tile.space<acc>> -> memref<64x64xi8, #tile.space<dram>>
  tile.store %a[0, 0] [16, 16] into %y[16, 0] relu : memref<16x16xi32, #tile.space<acc>> -> memref<64x64xi8, #tile.space<dram>>
  tile.store %a[0, 0] [16, 16] into %y[32, 0] scale 0.5 clip(0, 96) : memref<16x16xi32, #tile.space<acc>> -> memref<64x64xi8, #tile.space<dram>>
  tile.store %c[0, 0, 0, 0] [1, 8, 8, 16] into %img[0, 0, 0, 0] scale 0.5 relu pool 3 stride 2 pads [%pt, 1] sizes [1, 4, 4, 16] : memref<1x8x8x16xi32, #tile.space<acc>> -> memref<1x4x4x16xi8, #tile.space<dram>>
  tile.store %s[0, 0] [16, 16] into %y[48, 0] raw : memref<16x16xi8, #tile.space<spad>> -> memref<64x64xi8, #tile.space<dram>>
  func.return
}

// CHECK-LABEL: func.func @stores
// CHECK:      tile.store %a[0, 0] [16, 16] into %y32[0, 16] raw : memref<16x16xi32, #tile.space<acc>> -> memref<64x64xi32, #tile.space<dram>>
// CHECK-NEXT: tile.store %a[0, 0] [8, 16] into %y[0, 0] scale 2.500000e-01 : memref<16x16xi32, #tile.space<acc>> -> memref<64x64xi8, #tile.space<dram>>
// CHECK-NEXT: tile.store %a[0, 0] [16, 16] into %y[16, 0] relu : memref<16x16xi32, #tile.space<acc>> -> memref<64x64xi8, #tile.space<dram>>
// CHECK-NEXT: tile.store %a[0, 0] [16, 16] into %y[32, 0] scale 5.000000e-01 clip(0, 96) : memref<16x16xi32, #tile.space<acc>> -> memref<64x64xi8, #tile.space<dram>>
// CHECK-NEXT: tile.store %c[0, 0, 0, 0] [1, 8, 8, 16] into %img[0, 0, 0, 0] scale 5.000000e-01 relu pool 3 stride 2 pads [%pt, 1] sizes [1, 4, 4, 16] : memref<1x8x8x16xi32, #tile.space<acc>> -> memref<1x4x4x16xi8, #tile.space<dram>>
// CHECK-NEXT: tile.store %s[0, 0] [16, 16] into %y[48, 0] raw : memref<16x16xi8, #tile.space<spad>> -> memref<64x64xi8, #tile.space<dram>>

// -----

// tile.matmul alone: overwrite, accumulate, and strided A rows over a 3-d buffer.

func.func @matmuls(%k: index) {
  %a = tile.alloc : memref<16x64xi8, #tile.space<spad>>
  %b = tile.alloc : memref<64x16xi8, #tile.space<spad>>
  %c = tile.alloc : memref<16x16xi32, #tile.space<acc>>
  %in = tile.alloc : memref<9x9x16xi8, #tile.space<spad>>
  %o = tile.alloc : memref<4x4x16xi32, #tile.space<acc>>
  tile.matmul %c[0, 0] [16, 16] = %a[0, 0] [16, 64] * %b[0, 0] [64, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x64xi8, #tile.space<spad>>, memref<64x16xi8, #tile.space<spad>>
  tile.matmul %c[0, 0] [16, 16] += %a[0, %k] [16, 16] * %b[%k, 0] [16, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x64xi8, #tile.space<spad>>, memref<64x16xi8, #tile.space<spad>>
  tile.matmul %o[0, 0, 0] [4, 4, 16] += %in[1, 1, 0] [4, 4, 16] strides [2, 2, 1] * %b[0, 0] [16, 16] : memref<4x4x16xi32, #tile.space<acc>>, memref<9x9x16xi8, #tile.space<spad>>, memref<64x16xi8, #tile.space<spad>>
  func.return
}

// CHECK-LABEL: func.func @matmuls
// CHECK:      tile.matmul %c[0, 0] [16, 16] = %a[0, 0] [16, 64] * %b[0, 0] [64, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x64xi8, #tile.space<spad>>, memref<64x16xi8, #tile.space<spad>>
// CHECK-NEXT: tile.matmul %c[0, 0] [16, 16] += %a[0, %k] [16, 16] * %b[%k, 0] [16, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x64xi8, #tile.space<spad>>, memref<64x16xi8, #tile.space<spad>>
// CHECK-NEXT: tile.matmul %o[0, 0, 0] [4, 4, 16] += %in[1, 1, 0] [4, 4, 16] strides [2, 2, 1] * %b[0, 0] [16, 16] : memref<4x4x16xi32, #tile.space<acc>>, memref<9x9x16xi8, #tile.space<spad>>, memref<64x16xi8, #tile.space<spad>>

// -----

// tile.fence alone.

tile.fence

// CHECK: tile.fence

// -----

// Double buffering: two buffers picked by iteration parity with arith.select.

func.func @ping_pong(%x: memref<64x64xi8, #tile.space<dram>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c16 = arith.constant 16 : index
  %c64 = arith.constant 64 : index
  %ping = tile.alloc : memref<16x64xi8, #tile.space<spad>>
  %pong = tile.alloc : memref<16x64xi8, #tile.space<spad>>
  scf.for %i = %c0 to %c64 step %c16 {
    %t = arith.divui %i, %c16 : index
    %p = arith.remui %t, %c2 : index
    %odd = arith.cmpi eq, %p, %c1 : index
    %buf = arith.select %odd, %pong, %ping : memref<16x64xi8, #tile.space<spad>>
    tile.load %x[%i, 0] [16, 64] into %buf[0, 0] : memref<64x64xi8, #tile.space<dram>> -> memref<16x64xi8, #tile.space<spad>>
  }
  func.return
}

// CHECK-LABEL: func.func @ping_pong
// CHECK:      %buf = arith.select %odd, %pong, %ping : memref<16x64xi8, #tile.space<spad>>
// CHECK-NEXT: tile.load %x[%i, 0] [16, 64] into %buf[0, 0] : memref<64x64xi8, #tile.space<dram>> -> memref<16x64xi8, #tile.space<spad>>
