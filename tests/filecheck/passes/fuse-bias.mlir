// RUN: %opt %s --split-input-file -p fuse-bias | filecheck %s

// A full-shaped constant repeating one row [1, 2] joins the bias (3 + 1, -4 + 2), and
// the add's activation moves to the conv.
// CHECK-LABEL: func.func @conv
// CHECK-NEXT:    %bias = graph.constant dense<[4, -2]> : tensor<2xi32>
// CHECK-NEXT:    %y = graph.conv2d %x, %w bias %bias stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 activation relu : (tensor<1x2x2x3xi8>, tensor<1x1x3x2xi8>, tensor<2xi32>) -> tensor<1x2x2x2xi32>
// CHECK-NEXT:    func.return %y
func.func @conv(%x: tensor<1x2x2x3xi8>, %w: tensor<1x1x3x2xi8>) -> tensor<1x2x2x2xi32> {
  %b = graph.constant dense<[3, -4]> : tensor<2xi32>
  %c = graph.constant dense<[[[[1, 2], [1, 2]], [[1, 2], [1, 2]]]]> : tensor<1x2x2x2xi32>
  %acc = graph.conv2d %x, %w bias %b stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<1x2x2x3xi8>, tensor<1x1x3x2xi8>, tensor<2xi32>) -> tensor<1x2x2x2xi32>
  %y = graph.add %c, %acc activation relu : (tensor<1x2x2x2xi32>, tensor<1x2x2x2xi32>) -> tensor<1x2x2x2xi32>
  func.return %y : tensor<1x2x2x2xi32>
}

// -----

// A matmul without bias gets the row as its bias.
// CHECK-LABEL: func.func @matmul
// CHECK-NEXT:    %bias = graph.constant dense<7> : tensor<3xi32>
// CHECK-NEXT:    %y = graph.matmul %a, %b bias %bias : (tensor<2x4xi8>, tensor<4x3xi8>, tensor<3xi32>) -> tensor<2x3xi32>
func.func @matmul(%a: tensor<2x4xi8>, %b: tensor<4x3xi8>) -> tensor<2x3xi32> {
  %c = graph.constant dense<7> : tensor<2x3xi32>
  %acc = graph.matmul %a, %b : (tensor<2x4xi8>, tensor<4x3xi8>) -> tensor<2x3xi32>
  %y = graph.add %acc, %c : (tensor<2x3xi32>, tensor<2x3xi32>) -> tensor<2x3xi32>
  func.return %y : tensor<2x3xi32>
}

// -----

// Not fused: the constant differs between rows, so it is no per-channel bias.
// CHECK-LABEL: func.func @varies
// CHECK:         %acc = graph.matmul %a, %b :
// CHECK-NEXT:    %y = graph.add %acc, %c
func.func @varies(%a: tensor<2x4xi8>, %b: tensor<4x3xi8>) -> tensor<2x3xi32> {
  %c = graph.constant dense<[[1, 2, 3], [1, 2, 4]]> : tensor<2x3xi32>
  %acc = graph.matmul %a, %b : (tensor<2x4xi8>, tensor<4x3xi8>) -> tensor<2x3xi32>
  %y = graph.add %acc, %c : (tensor<2x3xi32>, tensor<2x3xi32>) -> tensor<2x3xi32>
  func.return %y : tensor<2x3xi32>
}

// -----

// Not fused: the matmul's relu acts before the add.
// CHECK-LABEL: func.func @activated
// CHECK:         %acc = graph.matmul %a, %b activation relu
// CHECK-NEXT:    %y = graph.add %acc, %c
func.func @activated(%a: tensor<2x4xi8>, %b: tensor<4x3xi8>) -> tensor<2x3xi32> {
  %c = graph.constant dense<7> : tensor<2x3xi32>
  %acc = graph.matmul %a, %b activation relu : (tensor<2x4xi8>, tensor<4x3xi8>) -> tensor<2x3xi32>
  %y = graph.add %acc, %c : (tensor<2x3xi32>, tensor<2x3xi32>) -> tensor<2x3xi32>
  func.return %y : tensor<2x3xi32>
}
