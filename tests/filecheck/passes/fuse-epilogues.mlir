// RUN: %opt %s --split-input-file -p fuse-epilogues | filecheck %s
// RUN: %opt %s --split-input-file -p 'fuse-epilogues{allow-approximate-residual=true}' | filecheck %s --check-prefix=APPROX

// A ResNet basic block as an importer might write it: conv (int32) + separate bias,
// requantize, relu, stem pool; then a second conv whose int8 result is added to the
// pooled tensor (the residual) and activated.
// CHECK-LABEL: func.func @block
// CHECK-NEXT:    %bias = graph.constant dense<[3, -4]> : tensor<2xi32>
// CHECK-NEXT:    %p = graph.conv2d %x, %w bias %bias stride [1, 1] padding [1, 1, 1, 1] dilation [1, 1] groups 1 output_scale 1.250000e-02 activation relu pool_kernel [3, 3] pool_stride [2, 2] pool_padding [1, 1, 1, 1] : (tensor<1x8x8x2xi8>, tensor<3x3x2x2xi8>, tensor<2xi32>) -> tensor<1x4x4x2xi8>
// CHECK-NEXT:    %z = graph.conv2d %p, %w stride [1, 1] padding [1, 1, 1, 1] dilation [1, 1] groups 1 output_scale 1.000000e-02 : (tensor<1x4x4x2xi8>, tensor<3x3x2x2xi8>) -> tensor<1x4x4x2xi8>
// CHECK-NEXT:    %s = graph.add %z, %p lhs_scale 5.000000e-01 rhs_scale 5.000000e-01 output_scale 1.000000e+00 activation relu : (tensor<1x4x4x2xi8>, tensor<1x4x4x2xi8>) -> tensor<1x4x4x2xi8>
// CHECK-NEXT:    func.return %s
// APPROX-LABEL: func.func @block
// APPROX:        %p = graph.conv2d
// APPROX-NEXT:   %s = graph.conv2d %p, %w residual %p stride [1, 1] padding [1, 1, 1, 1] dilation [1, 1] groups 1 output_scale 5.000000e-03 residual_scale 1.000000e+02 activation relu
// APPROX-NEXT:   func.return %s
func.func @block(%x: tensor<1x8x8x2xi8>, %w: tensor<3x3x2x2xi8>) -> tensor<1x4x4x2xi8> {
  %bias_full = graph.constant dense<[[[[3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4]], [[3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4]], [[3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4]], [[3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4]], [[3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4]], [[3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4]], [[3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4]], [[3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4], [3, -4]]]]> : tensor<1x8x8x2xi32>
  %acc = graph.conv2d %x, %w stride [1, 1] padding [1, 1, 1, 1] dilation [1, 1] groups 1 : (tensor<1x8x8x2xi8>, tensor<3x3x2x2xi8>) -> tensor<1x8x8x2xi32>
  %accb = graph.add %acc, %bias_full : (tensor<1x8x8x2xi32>, tensor<1x8x8x2xi32>) -> tensor<1x8x8x2xi32>
  %q = graph.requantize %accb scale 0.0125 : (tensor<1x8x8x2xi32>) -> tensor<1x8x8x2xi8>
  %r = graph.relu %q : (tensor<1x8x8x2xi8>) -> tensor<1x8x8x2xi8>
  %p = graph.maxpool %r kernel [3, 3] stride [2, 2] padding [1, 1, 1, 1] : (tensor<1x8x8x2xi8>) -> tensor<1x4x4x2xi8>
  %z = graph.conv2d %p, %w stride [1, 1] padding [1, 1, 1, 1] dilation [1, 1] groups 1 output_scale 0.01 : (tensor<1x4x4x2xi8>, tensor<3x3x2x2xi8>) -> tensor<1x4x4x2xi8>
  %s0 = graph.add %z, %p lhs_scale 0.5 rhs_scale 0.5 output_scale 1.0 : (tensor<1x4x4x2xi8>, tensor<1x4x4x2xi8>) -> tensor<1x4x4x2xi8>
  %s = graph.relu %s0 : (tensor<1x4x4x2xi8>) -> tensor<1x4x4x2xi8>
  func.return %s : tensor<1x4x4x2xi8>
}
