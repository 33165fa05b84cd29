// RUN: %roundtrip
// RUN: %generic-roundtrip

// tile.matmul with a bias view D (an accumulator block of broadcast rows added to every
// row of C): printed after B, its type last.

%a = tile.alloc : memref<32x16xi8, #tile.space<spad>>
%b = tile.alloc : memref<16x32xi8, #tile.space<spad>>
%c = tile.alloc : memref<32x32xi32, #tile.space<acc>>
%d = tile.alloc : memref<16x32xi32, #tile.space<acc>>
tile.matmul %c[0, 0] [32, 32] = %a[0, 0] [32, 16] * %b[0, 0] [16, 32] + %d[0, 0] [16, 32] : memref<32x32xi32, #tile.space<acc>>, memref<32x16xi8, #tile.space<spad>>, memref<16x32xi8, #tile.space<spad>>, memref<16x32xi32, #tile.space<acc>>
tile.matmul %c[0, 0] [32, 16] += %a[0, 0] [32, 16] * %b[0, 16] [16, 16] + %d[0, 16] [16, 16] : memref<32x32xi32, #tile.space<acc>>, memref<32x16xi8, #tile.space<spad>>, memref<16x32xi8, #tile.space<spad>>, memref<16x32xi32, #tile.space<acc>>
tile.matmul %c[0, 0] [32, 32] += %a[0, 0] [32, 16] * %b[0, 0] [16, 32] : memref<32x32xi32, #tile.space<acc>>, memref<32x16xi8, #tile.space<spad>>, memref<16x32xi8, #tile.space<spad>>

// CHECK:      tile.matmul %c[0, 0] [32, 32] = %a[0, 0] [32, 16] * %b[0, 0] [16, 32] + %d[0, 0] [16, 32] : memref<32x32xi32, #tile.space<acc>>, memref<32x16xi8, #tile.space<spad>>, memref<16x32xi8, #tile.space<spad>>, memref<16x32xi32, #tile.space<acc>>
// CHECK-NEXT: tile.matmul %c[0, 0] [32, 16] += %a[0, 0] [32, 16] * %b[0, 16] [16, 16] + %d[0, 16] [16, 16] : memref<32x32xi32, #tile.space<acc>>, memref<32x16xi8, #tile.space<spad>>, memref<16x32xi8, #tile.space<spad>>, memref<16x32xi32, #tile.space<acc>>
// CHECK-NEXT: tile.matmul %c[0, 0] [32, 32] += %a[0, 0] [32, 16] * %b[0, 0] [16, 32] : memref<32x32xi32, #tile.space<acc>>, memref<32x16xi8, #tile.space<spad>>, memref<16x32xi8, #tile.space<spad>>
