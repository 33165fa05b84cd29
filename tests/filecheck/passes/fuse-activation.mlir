// RUN: %opt %s --split-input-file -p fuse-activation | filecheck %s

// relu on an int8 conv result becomes the conv's activation.
// CHECK-LABEL: func.func @conv_relu
// CHECK-NEXT:    %r = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 output_scale 1.000000e-02 activation relu : (tensor<1x4x4x3xi8>, tensor<1x1x3x8xi8>) -> tensor<1x4x4x8xi8>
// CHECK-NEXT:    func.return %r
func.func @conv_relu(%x: tensor<1x4x4x3xi8>, %w: tensor<1x1x3x8xi8>) -> tensor<1x4x4x8xi8> {
  %y = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 output_scale 0.01 : (tensor<1x4x4x3xi8>, tensor<1x1x3x8xi8>) -> tensor<1x4x4x8xi8>
  %r = graph.relu %y : (tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  func.return %r : tensor<1x4x4x8xi8>
}

// -----

// Clamps compose: relu then clip [-5, 60] is clip [0, 60]; on a matmul and on an add.
// CHECK-LABEL: func.func @compose
// CHECK-NEXT:    %c = graph.matmul %a, %b output_scale 1.000000e-02 clip [0, 60] : (tensor<2x5xi8>, tensor<5x6xi8>) -> tensor<2x6xi8>
// CHECK-NEXT:    %s = graph.add %c, %c lhs_scale 1.000000e-02 rhs_scale 1.000000e-02 output_scale 2.000000e-02 activation relu : (tensor<2x6xi8>, tensor<2x6xi8>) -> tensor<2x6xi8>
func.func @compose(%a: tensor<2x5xi8>, %b: tensor<5x6xi8>) -> tensor<2x6xi8> {
  %y = graph.matmul %a, %b output_scale 0.01 activation relu : (tensor<2x5xi8>, tensor<5x6xi8>) -> tensor<2x6xi8>
  %c = graph.clip %y min -5 max 60 : (tensor<2x6xi8>) -> tensor<2x6xi8>
  %s0 = graph.add %c, %c lhs_scale 0.01 rhs_scale 0.01 output_scale 0.02 : (tensor<2x6xi8>, tensor<2x6xi8>) -> tensor<2x6xi8>
  %s = graph.relu %s0 : (tensor<2x6xi8>) -> tensor<2x6xi8>
  func.return %s : tensor<2x6xi8>
}

// -----

// An int32 relu stays in int32 units.
// CHECK-LABEL: func.func @int32
// CHECK-NEXT:    %r = graph.matmul %a, %b activation relu : (tensor<2x5xi8>, tensor<5x6xi8>) -> tensor<2x6xi32>
func.func @int32(%a: tensor<2x5xi8>, %b: tensor<5x6xi8>) -> tensor<2x6xi32> {
  %y = graph.matmul %a, %b : (tensor<2x5xi8>, tensor<5x6xi8>) -> tensor<2x6xi32>
  %r = graph.relu %y : (tensor<2x6xi32>) -> tensor<2x6xi32>
  func.return %r : tensor<2x6xi32>
}

// -----

// Not fused: the conv result is also returned unactivated.
// CHECK-LABEL: func.func @two_uses
// CHECK-NEXT:    %y = graph.matmul %a, %b output_scale 1.000000e-02 : (tensor<2x5xi8>, tensor<5x6xi8>) -> tensor<2x6xi8>
// CHECK-NEXT:    %r = graph.relu %y
func.func @two_uses(%a: tensor<2x5xi8>, %b: tensor<5x6xi8>) -> (tensor<2x6xi8>, tensor<2x6xi8>) {
  %y = graph.matmul %a, %b output_scale 0.01 : (tensor<2x5xi8>, tensor<5x6xi8>) -> tensor<2x6xi8>
  %r = graph.relu %y : (tensor<2x6xi8>) -> tensor<2x6xi8>
  func.return %r, %y : tensor<2x6xi8>, tensor<2x6xi8>
}
