// RUN: %roundtrip
// RUN: %generic-roundtrip

// Every graph op in its custom syntax; both runs must print exactly these lines.

// CHECK-LABEL: func.func @constants
func.func @constants() -> (tensor<2x2xi8>, tensor<4xi32>, tensor<2xf32>, tensor<3x3x4x4xi8>, tensor<16x16xi8>, tensor<i32>) {
  // CHECK-NEXT: %{{.*}} = graph.constant dense<{{\[}}[1, -2], [127, -128]]> : tensor<2x2xi8>
  %0 = graph.constant dense<[[1, -2], [127, -128]]> : tensor<2x2xi8>
  // CHECK-NEXT: %{{.*}} = graph.constant dense<[0, -1, 2147483647, -2147483648]> : tensor<4xi32>
  %1 = graph.constant dense<[0, -1, 2147483647, -2147483648]> : tensor<4xi32>
  // CHECK-NEXT: %{{.*}} = graph.constant {tag = "s"} dense<[1.500000e+00, -2.500000e-01]> : tensor<2xf32>
  %2 = graph.constant {tag = "s"} dense<[1.5, -0.25]> : tensor<2xf32>
  // More than 100 elements print as a hex string of the little-endian bytes.
  // CHECK-NEXT: %{{.*}} = graph.constant dense<"0x80A5CAEF14395E83A8CDF2173C6186ABD0F51A3F6489AED3F81D42678CB1D6FB20456A8FB4D9FE23486D92B7DC01264B7095BADF04294E7398BDE2072C51769BC0E50A2F54799EC3E80D32577CA1C6EB10355A7FA4C9EE13385D82A7CCF1163B6085AACFF4193E6388ADD2F71C41668BB0D5FA1F44698EB3D8FD22476C91B6DB00254A6F94B9DE03284D7297BCE1062B"> : tensor<3x3x4x4xi8>
  %3 = graph.constant dense<"0x80A5CAEF14395E83A8CDF2173C6186ABD0F51A3F6489AED3F81D42678CB1D6FB20456A8FB4D9FE23486D92B7DC01264B7095BADF04294E7398BDE2072C51769BC0E50A2F54799EC3E80D32577CA1C6EB10355A7FA4C9EE13385D82A7CCF1163B6085AACFF4193E6388ADD2F71C41668BB0D5FA1F44698EB3D8FD22476C91B6DB00254A6F94B9DE03284D7297BCE1062B"> : tensor<3x3x4x4xi8>
  // A large splat prints as one literal.
  // CHECK-NEXT: %{{.*}} = graph.constant dense<-3> : tensor<16x16xi8>
  %4 = graph.constant dense<-3> : tensor<16x16xi8>
  // CHECK-NEXT: %{{.*}} = graph.constant dense<7> : tensor<i32>
  %5 = graph.constant dense<7> : tensor<i32>
  func.return %0, %1, %2, %3, %4, %5 : tensor<2x2xi8>, tensor<4xi32>, tensor<2xf32>, tensor<3x3x4x4xi8>, tensor<16x16xi8>, tensor<i32>
}

// -----

// CHECK-LABEL: func.func @conv
func.func @conv(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>, %dw: tensor<3x3x1x16xi8>, %b: tensor<32xi32>, %r: tensor<1x8x8x32xi8>) {
  // Raw int32 accumulators, no bias.
  // CHECK-NEXT: %{{.*}} = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  // Bias, requantization and ReLU; keywords may come in any order and print in a fixed one.
  // CHECK-NEXT: %{{.*}} = graph.conv2d %x, %w bias %b stride [2, 2] padding [1, 1, 1, 1] dilation [1, 1] groups 1 output_scale 1.250000e-02 activation relu : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>, tensor<32xi32>) -> tensor<1x4x4x32xi8>
  %1 = graph.conv2d %x, %w bias %b activation relu output_scale 0.0125 groups 1 dilation [1, 1] padding [1, 1, 1, 1] stride [2, 2] : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>, tensor<32xi32>) -> tensor<1x4x4x32xi8>
  // Depthwise with dilation and asymmetric padding.
  // CHECK-NEXT: %{{.*}} = graph.conv2d %x, %dw stride [2, 2] padding [0, 0, 1, 1] dilation [2, 2] groups 16 output_scale 5.000000e-01 : (tensor<1x8x8x16xi8>, tensor<3x3x1x16xi8>) -> tensor<1x3x3x16xi8>
  %2 = graph.conv2d %x, %dw stride [2, 2] padding [0, 0, 1, 1] dilation [2, 2] groups 16 output_scale 0.5 : (tensor<1x8x8x16xi8>, tensor<3x3x1x16xi8>) -> tensor<1x3x3x16xi8>
  // Full epilogue: residual, clip, fused max pool, and a discardable attribute.
  // CHECK-NEXT: %{{.*}} = graph.conv2d %x, %w bias %b residual %r stride [1, 1] padding [1, 1, 1, 1] dilation [1, 1] groups 1 output_scale 5.000000e-01 residual_scale 2.000000e+00 clip [0, 100] pool_kernel [3, 3] pool_stride [2, 2] pool_padding [1, 1, 1, 1] {layer = "res2a"} : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>, tensor<32xi32>, tensor<1x8x8x32xi8>) -> tensor<1x4x4x32xi8>
  %3 = graph.conv2d %x, %w bias %b residual %r stride [1, 1] padding [1, 1, 1, 1] dilation [1, 1] groups 1 output_scale 0.5 residual_scale 2.0 clip [0, 100] pool_kernel [3, 3] pool_stride [2, 2] pool_padding [1, 1, 1, 1] {layer = "res2a"} : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>, tensor<32xi32>, tensor<1x8x8x32xi8>) -> tensor<1x4x4x32xi8>
  // int32 result with a ReLU.
  // CHECK-NEXT: %{{.*}} = graph.conv2d %x, %w stride [1, 1] padding [1, 1, 1, 1] dilation [1, 1] groups 1 activation relu : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x8x8x32xi32>
  %4 = graph.conv2d %x, %w stride [1, 1] padding [1, 1, 1, 1] dilation [1, 1] groups 1 activation relu : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x8x8x32xi32>
  // The dense form of a 4-group conv (fold-channel-shuffle); dense_groups prints after groups.
  // CHECK-NEXT: %{{.*}} = graph.conv2d %x, %w stride [1, 1] padding [1, 1, 1, 1] dilation [1, 1] groups 1 dense_groups 4 output_scale 2.500000e-01 : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x8x8x32xi8>
  %5 = graph.conv2d %x, %w output_scale 0.25 dense_groups 4 groups 1 dilation [1, 1] padding [1, 1, 1, 1] stride [1, 1] : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x8x8x32xi8>
  func.return
}

// -----

// CHECK-LABEL: func.func @matmul
func.func @matmul(%a: tensor<4x64xi8>, %w: tensor<64x10xi8>, %b: tensor<10xi32>, %ba: tensor<2x4x64xi8>, %bw: tensor<2x64x10xi8>, %r: tensor<4x10xi8>) {
  // CHECK-NEXT: %{{.*}} = graph.matmul %a, %w : (tensor<4x64xi8>, tensor<64x10xi8>) -> tensor<4x10xi32>
  %0 = graph.matmul %a, %w : (tensor<4x64xi8>, tensor<64x10xi8>) -> tensor<4x10xi32>
  // CHECK-NEXT: %{{.*}} = graph.matmul %a, %w bias %b residual %r output_scale 2.500000e-01 residual_scale 1.000000e+00 activation relu : (tensor<4x64xi8>, tensor<64x10xi8>, tensor<10xi32>, tensor<4x10xi8>) -> tensor<4x10xi8>
  %1 = graph.matmul %a, %w bias %b residual %r output_scale 0.25 residual_scale 1.0 activation relu : (tensor<4x64xi8>, tensor<64x10xi8>, tensor<10xi32>, tensor<4x10xi8>) -> tensor<4x10xi8>
  // Batched lhs with a shared and a per-batch rhs.
  // CHECK-NEXT: %{{.*}} = graph.matmul %ba, %w bias %b clip [-5, 5] : (tensor<2x4x64xi8>, tensor<64x10xi8>, tensor<10xi32>) -> tensor<2x4x10xi32>
  %2 = graph.matmul %ba, %w bias %b clip [-5, 5] : (tensor<2x4x64xi8>, tensor<64x10xi8>, tensor<10xi32>) -> tensor<2x4x10xi32>
  // CHECK-NEXT: %{{.*}} = graph.matmul %ba, %bw : (tensor<2x4x64xi8>, tensor<2x64x10xi8>) -> tensor<2x4x10xi32>
  %3 = graph.matmul %ba, %bw : (tensor<2x4x64xi8>, tensor<2x64x10xi8>) -> tensor<2x4x10xi32>
  func.return
}

// -----

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%a: tensor<1x4x4x8xi8>, %b: tensor<1x4x4x8xi8>, %c: tensor<1x4x4x8xi32>, %f: tensor<2x10xf32>, %q: tensor<2x10xi8>) {
  // CHECK-NEXT: %{{.*}} = graph.add %a, %b lhs_scale 1.000000e-01 rhs_scale 2.000000e-01 output_scale 2.500000e-01 : (tensor<1x4x4x8xi8>, tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  %0 = graph.add %a, %b lhs_scale 0.1 rhs_scale 0.2 output_scale 0.25 : (tensor<1x4x4x8xi8>, tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  // CHECK-NEXT: %{{.*}} = graph.add %a, %b lhs_scale 1.000000e-01 rhs_scale 2.000000e-01 output_scale 2.500000e-01 activation relu : (tensor<1x4x4x8xi8>, tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  %1 = graph.add %a, %b lhs_scale 0.1 rhs_scale 0.2 output_scale 0.25 activation relu : (tensor<1x4x4x8xi8>, tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  // CHECK-NEXT: %{{.*}} = graph.add %c, %c : (tensor<1x4x4x8xi32>, tensor<1x4x4x8xi32>) -> tensor<1x4x4x8xi32>
  %2 = graph.add %c, %c : (tensor<1x4x4x8xi32>, tensor<1x4x4x8xi32>) -> tensor<1x4x4x8xi32>
  // CHECK-NEXT: %{{.*}} = graph.relu %a : (tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  %3 = graph.relu %a : (tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  // CHECK-NEXT: %{{.*}} = graph.relu %f : (tensor<2x10xf32>) -> tensor<2x10xf32>
  %4 = graph.relu %f : (tensor<2x10xf32>) -> tensor<2x10xf32>
  // CHECK-NEXT: %{{.*}} = graph.clip %a min 0 max 6 : (tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  %5 = graph.clip %a min 0 max 6 : (tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  // CHECK-NEXT: %{{.*}} = graph.clip %c min -100000 max 100000 : (tensor<1x4x4x8xi32>) -> tensor<1x4x4x8xi32>
  %6 = graph.clip %c min -100000 max 100000 : (tensor<1x4x4x8xi32>) -> tensor<1x4x4x8xi32>
  // CHECK-NEXT: %{{.*}} = graph.requantize %c scale 3.05175781e-05 : (tensor<1x4x4x8xi32>) -> tensor<1x4x4x8xi8>
  %7 = graph.requantize %c scale 3.0517578125e-05 : (tensor<1x4x4x8xi32>) -> tensor<1x4x4x8xi8>
  // CHECK-NEXT: %{{.*}} = graph.requantize %a scale 5.000000e-01 : (tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  %8 = graph.requantize %a scale 0.5 : (tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  // CHECK-NEXT: %{{.*}} = graph.softmax %f axis 1 : (tensor<2x10xf32>) -> tensor<2x10xf32>
  %9 = graph.softmax %f axis 1 : (tensor<2x10xf32>) -> tensor<2x10xf32>
  // CHECK-NEXT: %{{.*}} = graph.softmax %q axis 1 input_scale 1.250000e-01 output_scale 3.906250e-03 : (tensor<2x10xi8>) -> tensor<2x10xi8>
  %10 = graph.softmax %q axis 1 input_scale 0.125 output_scale 0.00390625 : (tensor<2x10xi8>) -> tensor<2x10xi8>
  func.return
}

// -----

// CHECK-LABEL: func.func @pooling
func.func @pooling(%x: tensor<1x7x7x8xi8>, %y: tensor<1x7x7x8xi32>) {
  // CHECK-NEXT: %{{.*}} = graph.maxpool %x kernel [3, 3] stride [2, 2] padding [1, 1, 1, 1] : (tensor<1x7x7x8xi8>) -> tensor<1x4x4x8xi8>
  %0 = graph.maxpool %x kernel [3, 3] stride [2, 2] padding [1, 1, 1, 1] : (tensor<1x7x7x8xi8>) -> tensor<1x4x4x8xi8>
  // CHECK-NEXT: %{{.*}} = graph.maxpool %y kernel [2, 2] stride [2, 2] padding [0, 0, 1, 1] : (tensor<1x7x7x8xi32>) -> tensor<1x4x4x8xi32>
  %1 = graph.maxpool %y kernel [2, 2] stride [2, 2] padding [0, 0, 1, 1] : (tensor<1x7x7x8xi32>) -> tensor<1x4x4x8xi32>
  // CHECK-NEXT: %{{.*}} = graph.avgpool %x kernel [3, 3] stride [1, 1] padding [1, 1, 1, 1] scale 1.000000e+00 : (tensor<1x7x7x8xi8>) -> tensor<1x7x7x8xi8>
  %2 = graph.avgpool %x kernel [3, 3] stride [1, 1] padding [1, 1, 1, 1] scale 1.0 : (tensor<1x7x7x8xi8>) -> tensor<1x7x7x8xi8>
  // CHECK-NEXT: %{{.*}} = graph.avgpool %x kernel [2, 2] stride [2, 2] padding [0, 0, 0, 0] count_include_pad scale 7.500000e-01 : (tensor<1x7x7x8xi8>) -> tensor<1x3x3x8xi8>
  %3 = graph.avgpool %x kernel [2, 2] stride [2, 2] padding [0, 0, 0, 0] count_include_pad scale 0.75 : (tensor<1x7x7x8xi8>) -> tensor<1x3x3x8xi8>
  // CHECK-NEXT: %{{.*}} = graph.global_avgpool %x scale 1.000000e+00 : (tensor<1x7x7x8xi8>) -> tensor<1x1x1x8xi8>
  %4 = graph.global_avgpool %x scale 1.0 : (tensor<1x7x7x8xi8>) -> tensor<1x1x1x8xi8>
  func.return
}

// -----

// CHECK-LABEL: func.func @shapes
func.func @shapes(%x: tensor<1x1x1x2048xi8>, %a: tensor<1x4x4x8xi8>, %b: tensor<1x4x4x16xi8>, %f: tensor<2x3xf32>) {
  // CHECK-NEXT: %{{.*}} = graph.reshape %x : (tensor<1x1x1x2048xi8>) -> tensor<1x2048xi8>
  %0 = graph.reshape %x : (tensor<1x1x1x2048xi8>) -> tensor<1x2048xi8>
  // CHECK-NEXT: %{{.*}} = graph.transpose %a perm [0, 3, 1, 2] : (tensor<1x4x4x8xi8>) -> tensor<1x8x4x4xi8>
  %1 = graph.transpose %a perm [0, 3, 1, 2] : (tensor<1x4x4x8xi8>) -> tensor<1x8x4x4xi8>
  // CHECK-NEXT: %{{.*}} = graph.transpose %f perm [1, 0] : (tensor<2x3xf32>) -> tensor<3x2xf32>
  %2 = graph.transpose %f perm [1, 0] : (tensor<2x3xf32>) -> tensor<3x2xf32>
  // CHECK-NEXT: %{{.*}} = graph.concat %a, %b, %a axis 3 : (tensor<1x4x4x8xi8>, tensor<1x4x4x16xi8>, tensor<1x4x4x8xi8>) -> tensor<1x4x4x32xi8>
  %3 = graph.concat %a, %b, %a axis 3 : (tensor<1x4x4x8xi8>, tensor<1x4x4x16xi8>, tensor<1x4x4x8xi8>) -> tensor<1x4x4x32xi8>
  // CHECK-NEXT: %{{.*}} = graph.concat %f axis 0 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %4 = graph.concat %f axis 0 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK-NEXT: %{{.*}} = graph.pad %a pads [0, 1, 2, 0, 0, 3, 4, 0] value -128 : (tensor<1x4x4x8xi8>) -> tensor<1x8x10x8xi8>
  %5 = graph.pad %a pads [0, 1, 2, 0, 0, 3, 4, 0] value -128 : (tensor<1x4x4x8xi8>) -> tensor<1x8x10x8xi8>
  // CHECK-NEXT: %{{.*}} = graph.pad %f pads [1, 0, 1, 0] value 0 : (tensor<2x3xf32>) -> tensor<4x3xf32>
  %6 = graph.pad %f pads [1, 0, 1, 0] value 0 : (tensor<2x3xf32>) -> tensor<4x3xf32>
  func.return
}

// -----

// CHECK-LABEL: func.func @float_islands
func.func @float_islands(%x: tensor<1x5x5x8xi8>, %s: tensor<8xf32>, %t: tensor<8xf32>, %m: tensor<8xf32>) {
  // CHECK-NEXT: %{{.*}} = graph.lrn %x size 5 alpha 1.000000e-04 beta 7.500000e-01 bias 1.000000e+00 input_scale 5.000000e-01 output_scale 2.500000e-01 : (tensor<1x5x5x8xi8>) -> tensor<1x5x5x8xi8>
  %0 = graph.lrn %x size 5 alpha 0.0001 beta 0.75 bias 1.0 input_scale 0.5 output_scale 0.25 : (tensor<1x5x5x8xi8>) -> tensor<1x5x5x8xi8>
  // CHECK-NEXT: %{{.*}} = graph.lrn %x size 3 alpha 5.000000e-01 beta 6.000000e-01 bias 0.000000e+00 input_scale 1.000000e+00 output_scale 1.000000e+00 : (tensor<1x5x5x8xi8>) -> tensor<1x5x5x8xi8>
  %1 = graph.lrn %x output_scale 1.0 input_scale 1.0 bias 0.0 beta 0.6 alpha 0.5 size 3 : (tensor<1x5x5x8xi8>) -> tensor<1x5x5x8xi8>
  // CHECK-NEXT: %{{.*}} = graph.channel_affine %x, %s, %t, %m input_scale 1.250000e-01 output_scale 6.250000e-02 : (tensor<1x5x5x8xi8>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x5x5x8xi8>
  %2 = graph.channel_affine %x, %s, %t, %m input_scale 0.125 output_scale 0.0625 : (tensor<1x5x5x8xi8>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x5x5x8xi8>
  func.return
}
