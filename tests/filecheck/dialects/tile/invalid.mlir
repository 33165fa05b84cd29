// RUN: %verify-diagnostics
//
// One split per verifier error of each tile op; each CHECK is the exact message.

%b = tile.alloc : memref<32x64xi8, #tile.space<dram>>

// CHECK: tile.alloc: result must be in #tile.space<spad> or #tile.space<acc>, got #tile.space<dram>

// -----

%b = tile.alloc : memref<32x64xi8>

// CHECK: tile.alloc: result must be in #tile.space<spad> or #tile.space<acc>, got no memory space

// -----

%b = tile.alloc : memref<64xi8, #tile.space<spad>>

// CHECK: tile.alloc: result must have rank >= 2 (rows x columns), got memref<64xi8, #tile.space<spad>>

// -----

%b = tile.alloc : memref<32x64xf32, #tile.space<spad>>

// CHECK: tile.alloc: result element type must be an integer, got f32

// -----

%b = tile.alloc : memref<?x64xi8, #tile.space<spad>>

// CHECK: tile.alloc: result must have a static shape, got memref<?x64xi8, #tile.space<spad>>

// -----

%b = tile.alloc address -16 : memref<32x64xi8, #tile.space<spad>>

// CHECK: tile.alloc: address must be non-negative, got -16

// -----

func.func @f(%src: memref<64x64xi8, #tile.space<spad>>) {
  %dst = "test.op"() : () -> memref<32x64xi8, #tile.space<spad>>
  tile.load %src[0, 0] [32, 64] into %dst[0, 0] : memref<64x64xi8, #tile.space<spad>> -> memref<32x64xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.load: source must be in #tile.space<dram>, got #tile.space<spad>

// -----

func.func @f(%src: memref<64x64xi8, #tile.space<dram>>) {
  %dst = "test.op"() : () -> memref<32x64xi8, #tile.space<dram>>
  tile.load %src[0, 0] [32, 64] into %dst[0, 0] : memref<64x64xi8, #tile.space<dram>> -> memref<32x64xi8, #tile.space<dram>>
  func.return
}

// CHECK: tile.load: destination must be in #tile.space<spad> or #tile.space<acc>, got #tile.space<dram>

// -----

func.func @f(%src: memref<64x64xi32, #tile.space<dram>>) {
  %dst = "test.op"() : () -> memref<32x64xi8, #tile.space<spad>>
  tile.load %src[0, 0] [32, 64] into %dst[0, 0] : memref<64x64xi32, #tile.space<dram>> -> memref<32x64xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.load: element type mismatch: source i32, destination i8

// -----

func.func @f(%src: memref<64x64xi64, #tile.space<dram>>) {
  %dst = "test.op"() : () -> memref<32x64xi32, #tile.space<acc>>
  tile.load %src[0, 0] [32, 64] into %dst[0, 0] : memref<64x64xi64, #tile.space<dram>> -> memref<32x64xi32, #tile.space<acc>>
  func.return
}

// CHECK: tile.load: element type mismatch: i64 source is wider than i32 accumulator

// -----

func.func @f(%src: memref<64x64xi8, #tile.space<dram>>) {
  %dst = "test.op"() : () -> memref<32x64xi8, #tile.space<spad>>
  tile.load %src[0, 0] [32, 64, 1] into %dst[0, 0] : memref<64x64xi8, #tile.space<dram>> -> memref<32x64xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.load: 3 sizes given but the destination has rank 2

// -----

func.func @f(%src: memref<1x64x64xi8, #tile.space<dram>>) {
  %dst = "test.op"() : () -> memref<32x64xi8, #tile.space<spad>>
  tile.load %src[0, 0, 0] [32, 64] into %dst[0, 0] : memref<1x64x64xi8, #tile.space<dram>> -> memref<32x64xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.load: source rank 3 exceeds destination rank 2

// -----

func.func @f(%src: memref<1x8x8x16xi8, #tile.space<dram>>) {
  %dst = "test.op"() : () -> memref<1x8x8x16xi8, #tile.space<spad>>
  tile.load %src[0, 0, 0, 0] [1, 8, 8, 16] into %dst[0, 0, 0, 0] transpose : memref<1x8x8x16xi8, #tile.space<dram>> -> memref<1x8x8x16xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.load: transpose needs a rank-2 source and destination

// -----

func.func @f(%src: memref<64x64xi8, #tile.space<dram>>) {
  %dst = "test.op"() : () -> memref<32x64xi8, #tile.space<spad>>
  tile.load %src[0, 0] [40, 64] into %dst[0, 0] : memref<64x64xi8, #tile.space<dram>> -> memref<32x64xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.load: destination window dimension 0 reads 0..39 (offset 0, size 40), outside 0..31

// -----

func.func @f(%src: memref<64x64xi8, #tile.space<dram>>) {
  %dst = "test.op"() : () -> memref<32x64xi8, #tile.space<spad>>
  tile.load %src[-1, 0] [32, 64] into %dst[0, 0] : memref<64x64xi8, #tile.space<dram>> -> memref<32x64xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.load: source window dimension 0 reads -1..30 (offset -1, size 32), outside 0..63

// -----

func.func @f(%src: memref<64x64xi8, #tile.space<dram>>) {
  %dst = "test.op"() : () -> memref<32x64xi8, #tile.space<spad>>
  tile.load %src[0, 60] [16, 16] into %dst[0, 0] zero_pad : memref<64x64xi8, #tile.space<dram>> -> memref<32x64xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.load: source window dimension 1 reads 60..75 (offset 60, size 16), outside 0..63

// -----

func.func @f(%src: memref<64x64xi8, #tile.space<dram>>) {
  %dst = "test.op"() : () -> memref<32x64xi8, #tile.space<spad>>
  tile.load %src[0, 0] [0, 64] into %dst[0, 0] : memref<64x64xi8, #tile.space<dram>> -> memref<32x64xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.load: source window size 0 of dimension 0 must be positive

// -----

func.func @f(%src: memref<64x64xi8, #tile.space<dram>>) {
  %dst = "test.op"() : () -> memref<32x64xi8, #tile.space<spad>>
  tile.load %src[0] [32, 64] into %dst[0, 0] : memref<64x64xi8, #tile.space<dram>> -> memref<32x64xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.load: source window has 1 offsets but its buffer has rank 2

// -----

func.func @f(%src: memref<64x64xi8, #tile.space<dram>>) {
  %dst = "test.op"() : () -> memref<32x64xi8, #tile.space<spad>>
  tile.load %src[0, 0] [32, 64] into %dst[0] : memref<64x64xi8, #tile.space<dram>> -> memref<32x64xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.load: destination window has 1 offsets but its buffer has rank 2

// -----

func.func @f(%src: memref<64x64xi8, #tile.space<dram>>, %dst: memref<32x64xi8, #tile.space<spad>>) {
  "tile.load"(%src, %dst) <{static_offsets = array<i64: 0, 0>, static_sizes = array<i64: 32, 64>, static_dest_offsets = array<i64: 0, 0>, scale = 0x7F800000 : f32, operandSegmentSizes = array<i32: 1, 0, 0, 1, 0>}> : (memref<64x64xi8, #tile.space<dram>>, memref<32x64xi8, #tile.space<spad>>) -> ()
  func.return
}

// CHECK: tile.load: scale must be finite, got inf

// -----

func.func @f(%src: memref<64x64xi8, #tile.space<dram>>, %dst: memref<32x64xi8, #tile.space<spad>>) {
  "tile.load"(%src, %dst) <{static_offsets = array<i64: 0, 0>, static_sizes = array<i64: -9223372036854775808, 64>, static_dest_offsets = array<i64: 0, 0>, operandSegmentSizes = array<i32: 1, 0, 0, 1, 0>}> : (memref<64x64xi8, #tile.space<dram>>, memref<32x64xi8, #tile.space<spad>>) -> ()
  func.return
}

// CHECK: The number of dynamic positions passed as values (0) does not match the number of dynamic position markers (1) in the sizes of tile.load.

// -----

func.func @f(%dst: memref<64x64xi8, #tile.space<dram>>) {
  %src = "test.op"() : () -> memref<16x16xi32, #tile.space<dram>>
  tile.store %src[0, 0] [16, 16] into %dst[0, 0] : memref<16x16xi32, #tile.space<dram>> -> memref<64x64xi8, #tile.space<dram>>
  func.return
}

// CHECK: tile.store: source must be in #tile.space<acc> or #tile.space<spad>, got #tile.space<dram>

// -----

func.func @f(%dst: memref<64x64xi8, #tile.space<spad>>) {
  %src = "test.op"() : () -> memref<16x16xi32, #tile.space<acc>>
  tile.store %src[0, 0] [16, 16] into %dst[0, 0] : memref<16x16xi32, #tile.space<acc>> -> memref<64x64xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.store: destination must be in #tile.space<dram>, got #tile.space<spad>

// -----

func.func @f(%dst: memref<1x4x4x16xi8, #tile.space<dram>>) {
  %src = "test.op"() : () -> memref<16x16xi32, #tile.space<acc>>
  tile.store %src[0, 0] [16, 16] into %dst[0, 0, 0, 0] : memref<16x16xi32, #tile.space<acc>> -> memref<1x4x4x16xi8, #tile.space<dram>>
  func.return
}

// CHECK: tile.store: source rank 2 differs from destination rank 4

// -----

func.func @f(%dst: memref<64x64xi8, #tile.space<dram>>) {
  %src = "test.op"() : () -> memref<16x16xi8, #tile.space<spad>>
  tile.store %src[0, 0] [16, 16] into %dst[0, 0] : memref<16x16xi8, #tile.space<spad>> -> memref<64x64xi8, #tile.space<dram>>
  func.return
}

// CHECK: tile.store: a store from #tile.space<spad> must be raw (no epilogue)

// -----

func.func @f(%dst: memref<64x64xi32, #tile.space<dram>>) {
  %src = "test.op"() : () -> memref<16x16xi32, #tile.space<acc>>
  tile.store %src[0, 0] [16, 16] into %dst[0, 0] raw scale 0.5 : memref<16x16xi32, #tile.space<acc>> -> memref<64x64xi32, #tile.space<dram>>
  func.return
}

// CHECK: tile.store: a raw store takes no scale, activation or pooling

// -----

func.func @f(%dst: memref<64x64xi8, #tile.space<dram>>) {
  %src = "test.op"() : () -> memref<16x16xi32, #tile.space<acc>>
  tile.store %src[0, 0] [16, 16] into %dst[0, 0] raw : memref<16x16xi32, #tile.space<acc>> -> memref<64x64xi8, #tile.space<dram>>
  func.return
}

// CHECK: tile.store: element type mismatch: a raw store needs equal element types, got i32 -> i8

// -----

func.func @f(%dst: memref<64x64xi64, #tile.space<dram>>) {
  %src = "test.op"() : () -> memref<16x16xi32, #tile.space<acc>>
  tile.store %src[0, 0] [16, 16] into %dst[0, 0] : memref<16x16xi32, #tile.space<acc>> -> memref<64x64xi64, #tile.space<dram>>
  func.return
}

// CHECK: tile.store: element type mismatch: destination i64 is wider than source i32

// -----

func.func @f(%dst: memref<64x64xi8, #tile.space<dram>>) {
  %src = "test.op"() : () -> memref<16x16xi32, #tile.space<acc>>
  tile.store %src[0, 0] [16, 16] into %dst[0, 0] clip(10, -10) : memref<16x16xi32, #tile.space<acc>> -> memref<64x64xi8, #tile.space<dram>>
  func.return
}

// CHECK: tile.store: clip bounds must satisfy lo <= hi, got (10, -10)

// -----

func.func @f(%src: memref<16x16xi32, #tile.space<acc>>, %dst: memref<64x64xi8, #tile.space<dram>>) {
  "tile.store"(%src, %dst) <{static_offsets = array<i64: 0, 0>, static_sizes = array<i64: 16, 16>, static_dest_offsets = array<i64: 0, 0>, activation = #tile.activation<clip>, operandSegmentSizes = array<i32: 1, 0, 0, 1, 0, 0, 0>}> : (memref<16x16xi32, #tile.space<acc>>, memref<64x64xi8, #tile.space<dram>>) -> ()
  func.return
}

// CHECK: tile.store: clip activation needs clip_min and clip_max

// -----

func.func @f(%src: memref<16x16xi32, #tile.space<acc>>, %dst: memref<64x64xi8, #tile.space<dram>>) {
  "tile.store"(%src, %dst) <{static_offsets = array<i64: 0, 0>, static_sizes = array<i64: 16, 16>, static_dest_offsets = array<i64: 0, 0>, activation = #tile.activation<relu>, clip_min = 0 : i64, clip_max = 5 : i64, operandSegmentSizes = array<i32: 1, 0, 0, 1, 0, 0, 0>}> : (memref<16x16xi32, #tile.space<acc>>, memref<64x64xi8, #tile.space<dram>>) -> ()
  func.return
}

// CHECK: tile.store: clip bounds given without the clip activation

// -----

func.func @f(%dst: memref<64x64xi8, #tile.space<dram>>) {
  %src = "test.op"() : () -> memref<16x16xi32, #tile.space<acc>>
  tile.store %src[0, 0] [16, 16] into %dst[0, 0] pool 2 stride 2 pads [0, 0] sizes [8, 16] : memref<16x16xi32, #tile.space<acc>> -> memref<64x64xi8, #tile.space<dram>>
  func.return
}

// CHECK: tile.store: pooling needs a view of rank >= 3 ([..., H, W, C]), got rank 2

// -----

func.func @f(%dst: memref<1x4x4x16xi8, #tile.space<dram>>) {
  %src = "test.op"() : () -> memref<1x8x8x16xi32, #tile.space<acc>>
  tile.store %src[0, 0, 0, 0] [1, 8, 8, 16] into %dst[0, 0, 0, 0] pool 0 stride 2 pads [0, 0] sizes [1, 4, 4, 16] : memref<1x8x8x16xi32, #tile.space<acc>> -> memref<1x4x4x16xi8, #tile.space<dram>>
  func.return
}

// CHECK: tile.store: pool window and stride must be positive, got 0, 2

// -----

func.func @f(%dst: memref<1x4x4x16xi8, #tile.space<dram>>) {
  %src = "test.op"() : () -> memref<1x8x8x16xi32, #tile.space<acc>>
  tile.store %src[0, 0, 0, 0] [1, 8, 8, 16] into %dst[0, 0, 0, 0] pool 3 stride 2 pads [3, 0] sizes [1, 4, 4, 16] : memref<1x8x8x16xi32, #tile.space<acc>> -> memref<1x4x4x16xi8, #tile.space<dram>>
  func.return
}

// CHECK: tile.store: pool pad 3 must be in 0..2

// -----

func.func @f(%dst: memref<1x4x4x16xi8, #tile.space<dram>>) {
  %src = "test.op"() : () -> memref<1x8x8x16xi32, #tile.space<acc>>
  tile.store %src[0, 0, 0, 0] [1, 8, 8, 16] into %dst[0, 0, 0, 0] pool 3 stride 2 pads [1] sizes [1, 4, 4, 16] : memref<1x8x8x16xi32, #tile.space<acc>> -> memref<1x4x4x16xi8, #tile.space<dram>>
  func.return
}

// CHECK: tile.store: pooling needs 2 pads (top, left), got 1

// -----

func.func @f(%dst: memref<1x4x4x16xi8, #tile.space<dram>>) {
  %src = "test.op"() : () -> memref<1x8x8x16xi32, #tile.space<acc>>
  tile.store %src[0, 0, 0, 0] [1, 8, 8, 16] into %dst[0, 0, 0, 0] pool 3 stride 2 pads [1, 1] sizes [4, 4, 16] : memref<1x8x8x16xi32, #tile.space<acc>> -> memref<1x4x4x16xi8, #tile.space<dram>>
  func.return
}

// CHECK: tile.store: pooling gives 3 sizes but the view has rank 4

// -----

func.func @f(%dst: memref<1x4x4x16xi8, #tile.space<dram>>) {
  %src = "test.op"() : () -> memref<1x8x8x16xi32, #tile.space<acc>>
  tile.store %src[0, 0, 0, 0] [1, 8, 8, 16] into %dst[0, 0, 0, 0] pool 3 stride 2 pads [1, 1] sizes [1, 4, 4, 8] : memref<1x8x8x16xi32, #tile.space<acc>> -> memref<1x4x4x16xi8, #tile.space<dram>>
  func.return
}

// CHECK: tile.store: pooling keeps dimension 3: pooled size 8 differs from view size 16

// -----

func.func @f(%src: memref<1x8x8x16xi32, #tile.space<acc>>, %dst: memref<1x4x4x16xi8, #tile.space<dram>>) {
  "tile.store"(%src, %dst) <{static_offsets = array<i64: 0, 0, 0, 0>, static_sizes = array<i64: 1, 8, 8, 16>, static_dest_offsets = array<i64: 0, 0, 0, 0>, pool_window = 2 : i64, operandSegmentSizes = array<i32: 1, 0, 0, 1, 0, 0, 0>}> : (memref<1x8x8x16xi32, #tile.space<acc>>, memref<1x4x4x16xi8, #tile.space<dram>>) -> ()
  func.return
}

// CHECK: tile.store: pooling needs pool_window, pool_stride, pads and sizes together

// -----

func.func @f(%dst: memref<1x4x4x16xi8, #tile.space<dram>>) {
  %src = "test.op"() : () -> memref<1x8x8x16xi32, #tile.space<acc>>
  tile.store %src[0, 0, 0, 0] [1, 8, 8, 16] into %dst[0, 0, 0, 0] pool 2 stride 2 pads [0, 0] sizes [1, 5, 4, 16] : memref<1x8x8x16xi32, #tile.space<acc>> -> memref<1x4x4x16xi8, #tile.space<dram>>
  func.return
}

// CHECK: tile.store: destination window dimension 1 reads 0..4 (offset 0, size 5), outside 0..3

// -----

func.func @f(%dst: memref<64x64xi8, #tile.space<dram>>) {
  %src = "test.op"() : () -> memref<16x16xi32, #tile.space<acc>>
  tile.store %src[8, 0] [16, 16] into %dst[0, 0] : memref<16x16xi32, #tile.space<acc>> -> memref<64x64xi8, #tile.space<dram>>
  func.return
}

// CHECK: tile.store: source window dimension 0 reads 8..23 (offset 8, size 16), outside 0..15

// -----

func.func @f(%a: memref<16x64xi8, #tile.space<acc>>, %b: memref<64x16xi8, #tile.space<spad>>, %c: memref<16x16xi32, #tile.space<acc>>) {
  tile.matmul %c[0, 0] [16, 16] += %a[0, 0] [16, 64] * %b[0, 0] [64, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x64xi8, #tile.space<acc>>, memref<64x16xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.matmul: operand A must be in #tile.space<spad>, got #tile.space<acc>

// -----

func.func @f(%a: memref<16x64xi8, #tile.space<spad>>, %b: memref<64x16xi8, #tile.space<dram>>, %c: memref<16x16xi32, #tile.space<acc>>) {
  tile.matmul %c[0, 0] [16, 16] += %a[0, 0] [16, 64] * %b[0, 0] [64, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x64xi8, #tile.space<spad>>, memref<64x16xi8, #tile.space<dram>>
  func.return
}

// CHECK: tile.matmul: operand B must be in #tile.space<spad>, got #tile.space<dram>

// -----

func.func @f(%a: memref<16x64xi8, #tile.space<spad>>, %b: memref<64x16xi8, #tile.space<spad>>, %c: memref<16x16xi32, #tile.space<spad>>) {
  tile.matmul %c[0, 0] [16, 16] += %a[0, 0] [16, 64] * %b[0, 0] [64, 16] : memref<16x16xi32, #tile.space<spad>>, memref<16x64xi8, #tile.space<spad>>, memref<64x16xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.matmul: operand C must be in #tile.space<acc>, got #tile.space<spad>

// -----

func.func @f(%a: memref<16x64xi8, #tile.space<spad>>, %b: memref<64x16xi16, #tile.space<spad>>, %c: memref<16x16xi32, #tile.space<acc>>) {
  tile.matmul %c[0, 0] [16, 16] += %a[0, 0] [16, 64] * %b[0, 0] [64, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x64xi8, #tile.space<spad>>, memref<64x16xi16, #tile.space<spad>>
  func.return
}

// CHECK: tile.matmul: element type mismatch: A is i8, B is i16

// -----

func.func @f(%a: memref<16x64xi16, #tile.space<spad>>, %b: memref<64x16xi16, #tile.space<spad>>, %c: memref<16x16xi8, #tile.space<acc>>) {
  tile.matmul %c[0, 0] [16, 16] += %a[0, 0] [16, 64] * %b[0, 0] [64, 16] : memref<16x16xi8, #tile.space<acc>>, memref<16x64xi16, #tile.space<spad>>, memref<64x16xi16, #tile.space<spad>>
  func.return
}

// CHECK: tile.matmul: element type mismatch: accumulator i8 is narrower than inputs i16

// -----

func.func @f(%a: memref<16x64xi8, #tile.space<spad>>, %b: memref<64x16xi8, #tile.space<spad>>, %c: memref<16x16xi32, #tile.space<acc>>) {
  tile.matmul %c[0, 0] [8, 16] += %a[0, 0] [16, 64] * %b[0, 0] [64, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x64xi8, #tile.space<spad>>, memref<64x16xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.matmul: shape mismatch: A rows (16) != C rows (8); A is 16x64, B is 64x16, C is 8x16

// -----

func.func @f(%a: memref<16x64xi8, #tile.space<spad>>, %b: memref<64x16xi8, #tile.space<spad>>, %c: memref<16x16xi32, #tile.space<acc>>) {
  tile.matmul %c[0, 0] [16, 16] += %a[0, 0] [16, 32] * %b[0, 0] [64, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x64xi8, #tile.space<spad>>, memref<64x16xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.matmul: shape mismatch: A columns (32) != B rows (64); A is 16x32, B is 64x16, C is 16x16

// -----

func.func @f(%a: memref<16x64xi8, #tile.space<spad>>, %b: memref<64x16xi8, #tile.space<spad>>, %c: memref<16x16xi32, #tile.space<acc>>) {
  tile.matmul %c[0, 0] [16, 8] += %a[0, 0] [16, 64] * %b[0, 0] [64, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x64xi8, #tile.space<spad>>, memref<64x16xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.matmul: shape mismatch: B columns (16) != C columns (8); A is 16x64, B is 64x16, C is 16x8

// -----

func.func @f(%a: memref<16x64xi8, #tile.space<spad>>, %b: memref<64x16xi8, #tile.space<spad>>, %c: memref<16x16xi32, #tile.space<acc>>) {
  tile.matmul %c[0, 0] [16, 16] += %a[0, 0] [16, 32] strides [1, 2] * %b[0, 0] [32, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x64xi8, #tile.space<spad>>, memref<64x16xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.matmul: operand A stride of the last (column) dimension must be 1, got 2

// -----

func.func @f(%a: memref<16x64xi8, #tile.space<spad>>, %b: memref<64x16xi8, #tile.space<spad>>, %c: memref<16x16xi32, #tile.space<acc>>) {
  tile.matmul %c[0, 0] [16, 16] += %a[0, 0] [16, 64] strides [2, 1, 1] * %b[0, 0] [64, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x64xi8, #tile.space<spad>>, memref<64x16xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.matmul: operand A has 3 strides but its buffer has rank 2

// -----

func.func @f(%a: memref<16x64xi8, #tile.space<spad>>, %b: memref<64x16xi8, #tile.space<spad>>, %c: memref<16x16xi32, #tile.space<acc>>) {
  tile.matmul %c[0, 0] [16, 16] += %a[0, 0] [16, 64] strides [0, 1] * %b[0, 0] [64, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x64xi8, #tile.space<spad>>, memref<64x16xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.matmul: operand A strides must be positive, got [0, 1]

// -----

func.func @f(%a: memref<16x64xi8, #tile.space<spad>>, %b: memref<64x16xi8, #tile.space<spad>>, %c: memref<16x16xi32, #tile.space<acc>>) {
  tile.matmul %c[0, 0] [16, 16] += %a[0, 0] [8, 64] strides [3, 1] * %b[0, 0] [64, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x64xi8, #tile.space<spad>>, memref<64x16xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.matmul: operand A dimension 0 reads 0..21 (offset 0, size 8, stride 3), outside 0..15

// -----

func.func @f(%src: memref<i8, #tile.space<dram>>) {
  %dst = "test.op"() : () -> memref<4x4xi8, #tile.space<spad>>
  tile.load %src[] [4, 4] into %dst[0, 0] : memref<i8, #tile.space<dram>> -> memref<4x4xi8, #tile.space<spad>>
  func.return
}

// CHECK: tile.load: source must have rank >= 1, got memref<i8, #tile.space<dram>>
