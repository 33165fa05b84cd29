// RUN: %parse-diagnostics
//
// Syntax errors of the tile dialect: each ends in a message naming what was expected.

%b = tile.alloc : memref<32x64xi8, #tile.space<l2>>

// CHECK: unknown memory space 'l2', expected dram, spad or acc

// -----

%b = tile.alloc : i32

// CHECK: tile.alloc: expected a memref type, got i32

// -----

%b = tile.alloc : memref<16x16xi32, #tile.space<acc>>
tile.matmul %b[0, 0] [16, 16] -= %b[0, 0] [16, 16] * %b[0, 0] [16, 16] : memref<16x16xi32, #tile.space<acc>>, memref<16x16xi32, #tile.space<acc>>, memref<16x16xi32, #tile.space<acc>>

// CHECK: Expected '=' ('+=' accumulates into C, '=' overwrites it)

// -----

%b = tile.alloc : memref<16x16xi32, #tile.space<acc>>
%x = "test.op"() : () -> memref<16x16xi8, #tile.space<dram>>
tile.store %b[0, 0] [16, 16] into %x[0, 0] pool 2 pads [0, 0] sizes [1, 1] : memref<16x16xi32, #tile.space<acc>> -> memref<16x16xi8, #tile.space<dram>>

// CHECK: Expected 'stride'

// -----

%b = tile.alloc : memref<16x16xi32, #tile.space<acc>>
%x = "test.op"() : () -> memref<16x16xi8, #tile.space<dram>>
tile.store %b[0, 0] [16, 16] into %x[0, 0] clip(1) : memref<16x16xi32, #tile.space<acc>> -> memref<16x16xi8, #tile.space<dram>>

// CHECK: Expected ','
