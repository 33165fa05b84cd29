// RUN: %parse-diagnostics

// Malformed custom syntax ends in a parse error that names the op and the problem.

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: 'stride' given twice

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] strides [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: unknown keyword 'strides' (known: bias, residual, stride, padding, dilation, groups, dense_groups, output_scale, residual_scale, activation, clip, pool_kernel, pool_stride, pool_padding)

// -----

func.func @f(%x: tensor<1x8x8x16xi8>) {
  %0 = graph.relu %x, %x : (tensor<1x8x8x16xi8>, tensor<1x8x8x16xi8>) -> tensor<1x8x8x16xi8>
  func.return
}
// CHECK: graph.relu expects 1 operand(s) (input), got 2

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>, %b: tensor<32xi32>) {
  %0 = graph.conv2d %x, %w bias %b stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d needs 3 operand type(s) and 1 result type, got 2 and 1

// -----

func.func @f(%x: tensor<1x8x8x16xi8>) {
  %0 = graph.requantize %x scale relu : (tensor<1x8x8x16xi8>) -> tensor<1x8x8x16xi8>
  func.return
}
// CHECK: integer or float literal expected for 'scale' of graph.requantize

// -----

func.func @f(%x: tensor<1x8x8x16xi8>) {
  %0 = graph.transpose %x perm [0, 1.5] : (tensor<1x8x8x16xi8>) -> tensor<1x8x8x16xi8>
  func.return
}
// CHECK: Expected integer literal for 'perm' of graph.transpose

// -----

%0 = graph.constant 3 : i8
// CHECK: graph.constant expects a dense<...> : tensor<...> literal
