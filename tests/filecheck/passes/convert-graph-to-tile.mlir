// RUN: %opt %s --split-input-file -p 'convert-graph-to-tile{tiles="m=16,n=16,k=16" stationary=output form=fine}' | filecheck %s

// A 40x24 x 24x20 matmul in 16x16x16 tiles: the m loop runs the two full row tiles and
// the 8-row remainder is emitted after it; n and k (two tiles each, the second a
// remainder) are inline runs. The bias is loaded at each output tile's first visit,
// partial sums stay in the accumulator (output stationary), the store requantizes.

func.func @mm(%x: tensor<40x24xi8>) -> tensor<40x20xi8> {
  %w = graph.constant dense<1> : tensor<24x20xi8>
  %b = graph.constant dense<3> : tensor<20xi32>
  %0 = graph.matmul %x, %w bias %b output_scale 0.5 activation relu : (tensor<40x24xi8>, tensor<24x20xi8>, tensor<20xi32>) -> tensor<40x20xi8>
  func.return %0 : tensor<40x20xi8>
}

// CHECK-LABEL: func.func @mm(%x: memref<40x24xi8, #tile.space<dram>>, %output: memref<40x20xi8, #tile.space<dram>>) attributes {gemforge.outputs = 1 : i64}
// CHECK:       %const = memref.get_global @__gf_const0 : memref<24x32xi8, #tile.space<dram>>
// CHECK-NEXT:  %const_1 = memref.get_global @__gf_const1 : memref<20xi32, #tile.space<dram>>
// CHECK-NEXT:  scf.for %m = %c0 to %c32 step %c16 {
// CHECK-NEXT:    %acc = tile.alloc : memref<16x16xi32, #tile.space<acc>>
// CHECK-NEXT:    %bias = tile.alloc : memref<16x16xi32, #tile.space<acc>>
// CHECK-NEXT:    tile.load %const_1[0] [16, 16] into %bias[0, 0]
// CHECK-NEXT:    %a = tile.alloc : memref<16x16xi8, #tile.space<spad>>
// CHECK-NEXT:    %b = tile.alloc : memref<16x16xi8, #tile.space<spad>>
// CHECK-NEXT:    tile.load %x[%m, 0] [16, 16] into %a[0, 0]
// CHECK-NEXT:    tile.load %const[0, 0] [16, 16] into %b[0, 0] : memref<24x32xi8, #tile.space<dram>>
// CHECK-NEXT:    tile.matmul %acc[0, 0] [16, 16] = %a[0, 0] [16, 16] * %b[0, 0] [16, 16] + %bias[0, 0] [16, 16]
// CHECK:         tile.load %x[%m, 16] [16, 8] into %a_1[0, 0]
// CHECK:         tile.matmul %acc[0, 0] [16, 16] += %a_1[0, 0] [16, 8] * %b_1[0, 0] [8, 16]
// CHECK-NEXT:    tile.store %acc[0, 0] [16, 16] into %output[%m, 0] scale 5.000000e-01 relu
// CHECK:         tile.load %const_1[16] [16, 4] into %bias_1[0, 0]
// CHECK:         tile.matmul %acc_1[0, 0] [16, 4] = %a_2[0, 0] [16, 16] * %b_2[0, 0] [16, 4] + %bias_1[0, 0] [16, 4]
// CHECK:         tile.store %acc_1[0, 0] [16, 4] into %output[%m, 16] scale 5.000000e-01 relu
// CHECK:       }
// CHECK:       tile.store %acc_2[0, 0] [8, 16] into %output[32, 0] scale 5.000000e-01 relu
// CHECK:       tile.store %acc_3[0, 0] [8, 4] into %output[32, 16] scale 5.000000e-01 relu
// CHECK-NEXT:  tile.fence
// CHECK-NEXT:  func.return
// CHECK:       "memref.global"() <{sym_name = "__gf_const0", type = memref<24x32xi8, #tile.space<dram>>, initial_value = dense<
