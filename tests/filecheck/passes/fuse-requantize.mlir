// RUN: %opt %s --split-input-file -p fuse-requantize | filecheck %s

// An int32 conv result requantized once: the scale becomes the conv's output_scale.
// CHECK-LABEL: func.func @conv
// CHECK-NEXT:    %y = graph.conv2d %x, %w bias %b stride [1, 1] padding [1, 1, 1, 1] dilation [1, 1] groups 1 output_scale 1.250000e-02 : (tensor<1x4x4x3xi8>, tensor<3x3x3x8xi8>, tensor<8xi32>) -> tensor<1x4x4x8xi8>
// CHECK-NEXT:    func.return %y
func.func @conv(%x: tensor<1x4x4x3xi8>, %w: tensor<3x3x3x8xi8>, %b: tensor<8xi32>) -> tensor<1x4x4x8xi8> {
  %acc = graph.conv2d %x, %w bias %b stride [1, 1] padding [1, 1, 1, 1] dilation [1, 1] groups 1 : (tensor<1x4x4x3xi8>, tensor<3x3x3x8xi8>, tensor<8xi32>) -> tensor<1x4x4x8xi32>
  %y = graph.requantize %acc scale 0.0125 : (tensor<1x4x4x8xi32>) -> tensor<1x4x4x8xi8>
  func.return %y : tensor<1x4x4x8xi8>
}

// -----

// An int32 clip maps through the requantization: clip [f(-1000), f(4000)] = [rne(-12.5), 50] = [-12, 50].
// CHECK-LABEL: func.func @matmul_clip
// CHECK-NEXT:    %y = graph.matmul %a, %b output_scale 1.250000e-02 clip [-12, 50] : (tensor<2x5xi8>, tensor<5x6xi8>) -> tensor<2x6xi8>
func.func @matmul_clip(%a: tensor<2x5xi8>, %b: tensor<5x6xi8>) -> tensor<2x6xi8> {
  %acc = graph.matmul %a, %b clip [-1000, 4000] : (tensor<2x5xi8>, tensor<5x6xi8>) -> tensor<2x6xi32>
  %y = graph.requantize %acc scale 0.0125 : (tensor<2x6xi32>) -> tensor<2x6xi8>
  func.return %y : tensor<2x6xi8>
}

// -----

// Not fused: the int32 result has a second use.
// CHECK-LABEL: func.func @two_uses
// CHECK-NEXT:    %acc = graph.matmul %a, %b : (tensor<2x5xi8>, tensor<5x6xi8>) -> tensor<2x6xi32>
// CHECK-NEXT:    %y = graph.requantize %acc scale
func.func @two_uses(%a: tensor<2x5xi8>, %b: tensor<5x6xi8>) -> (tensor<2x6xi8>, tensor<2x6xi32>) {
  %acc = graph.matmul %a, %b : (tensor<2x5xi8>, tensor<5x6xi8>) -> tensor<2x6xi32>
  %y = graph.requantize %acc scale 0.0125 : (tensor<2x6xi32>) -> tensor<2x6xi8>
  func.return %y, %acc : tensor<2x6xi8>, tensor<2x6xi32>
}

// -----

// Not fused: requantizing an int8 result rounds twice.
// CHECK-LABEL: func.func @int8_result
// CHECK-NEXT:    %q = graph.matmul %a, %b output_scale
// CHECK-NEXT:    %y = graph.requantize %q scale
func.func @int8_result(%a: tensor<2x5xi8>, %b: tensor<5x6xi8>) -> tensor<2x6xi8> {
  %q = graph.matmul %a, %b output_scale 0.01 : (tensor<2x5xi8>, tensor<5x6xi8>) -> tensor<2x6xi8>
  %y = graph.requantize %q scale 0.5 : (tensor<2x6xi8>) -> tensor<2x6xi8>
  func.return %y : tensor<2x6xi8>
}
