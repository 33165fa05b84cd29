// RUN: %opt %s --split-input-file -p fuse-residual | filecheck %s --check-prefix=OFF
// RUN: %opt %s --split-input-file -p 'fuse-residual{allow-approximate-residual=true}' | filecheck %s

// The int8 residual add is never bit-exact, so by default nothing fuses.
// OFF-LABEL: func.func @residual
// OFF-NEXT:    %y = graph.conv2d
// OFF-NEXT:    %s = graph.add %y, %r

// Opt-in: ma = 0.5 / 1.0, mb = 0.25 / 1.0, Os = So * ma = 0.0005 and Rs = mb / Os
// (499.999969 in f32, as f32(0.001) is not 0.001); the add's relu becomes the conv's.
// CHECK-LABEL: func.func @residual
// CHECK-NEXT:    %s = graph.conv2d %x, %w residual %r stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 output_scale 5.000000e-04 residual_scale 499.999969 activation relu : (tensor<1x4x4x3xi8>, tensor<1x1x3x8xi8>, tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
// CHECK-NEXT:    func.return %s
func.func @residual(%x: tensor<1x4x4x3xi8>, %w: tensor<1x1x3x8xi8>, %r: tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8> {
  %y = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 output_scale 0.001 : (tensor<1x4x4x3xi8>, tensor<1x1x3x8xi8>) -> tensor<1x4x4x8xi8>
  %s = graph.add %y, %r lhs_scale 0.5 rhs_scale 0.25 output_scale 1.0 activation relu : (tensor<1x4x4x8xi8>, tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  func.return %s : tensor<1x4x4x8xi8>
}

// -----

// Not fused even with the option: the conv operand (rhs here) enters the sum at
// ma = 3, beyond the 1-LSB bound (ma + Os <= 1.99).
// CHECK-LABEL: func.func @large_ratio
// CHECK-NEXT:    %y = graph.conv2d
// CHECK-NEXT:    %s = graph.add %r, %y
func.func @large_ratio(%x: tensor<1x4x4x3xi8>, %w: tensor<1x1x3x8xi8>, %r: tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8> {
  %y = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 output_scale 0.001 : (tensor<1x4x4x3xi8>, tensor<1x1x3x8xi8>) -> tensor<1x4x4x8xi8>
  %s = graph.add %r, %y lhs_scale 0.5 rhs_scale 3.0 output_scale 1.0 : (tensor<1x4x4x8xi8>, tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  func.return %s : tensor<1x4x4x8xi8>
}

// -----

// Not fused: the conv's relu acts before the add; and a conv result used twice.
// CHECK-LABEL: func.func @blocked
// CHECK-NEXT:    %y = graph.conv2d {{.*}} activation relu
// CHECK-NEXT:    %s = graph.add %y, %r
// CHECK-NEXT:    %z = graph.conv2d
// CHECK-NEXT:    %t = graph.add %z, %r
func.func @blocked(%x: tensor<1x4x4x3xi8>, %w: tensor<1x1x3x8xi8>, %r: tensor<1x4x4x8xi8>) -> (tensor<1x4x4x8xi8>, tensor<1x4x4x8xi8>, tensor<1x4x4x8xi8>) {
  %y = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 output_scale 0.001 activation relu : (tensor<1x4x4x3xi8>, tensor<1x1x3x8xi8>) -> tensor<1x4x4x8xi8>
  %s = graph.add %y, %r lhs_scale 0.5 rhs_scale 0.25 output_scale 1.0 : (tensor<1x4x4x8xi8>, tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  %z = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 output_scale 0.001 : (tensor<1x4x4x3xi8>, tensor<1x1x3x8xi8>) -> tensor<1x4x4x8xi8>
  %t = graph.add %z, %r lhs_scale 0.5 rhs_scale 0.25 output_scale 1.0 : (tensor<1x4x4x8xi8>, tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  func.return %s, %t, %z : tensor<1x4x4x8xi8>, tensor<1x4x4x8xi8>, tensor<1x4x4x8xi8>
}
