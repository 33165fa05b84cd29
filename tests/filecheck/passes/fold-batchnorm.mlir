// RUN: %opt %s --split-input-file -p fold-batchnorm | filecheck %s
// RUN: %opt %s --split-input-file -p 'fold-batchnorm{exact-only=true}' | filecheck %s --check-prefix=EXACT

// Integer scale and shift fold exactly: w2 = w * scale, b2 = b * scale + shift.
// CHECK-LABEL: func.func @exact
// CHECK-NEXT:    %weight = graph.constant dense<{{\[\[\[}}[2, -3], [-4, 0]]]]> : tensor<1x1x2x2xi8>
// CHECK-NEXT:    %bias = graph.constant dense<[12, -5]> : tensor<2xi32>
// CHECK-NEXT:    %y = graph.conv2d %x, %weight bias %bias stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<1x3x3x2xi8>, tensor<1x1x2x2xi8>, tensor<2xi32>) -> tensor<1x3x3x2xi32>
// CHECK-NEXT:    func.return %y
// EXACT-LABEL: func.func @exact
// EXACT-NOT:     graph.batch_norm
func.func @exact(%x: tensor<1x3x3x2xi8>) -> tensor<1x3x3x2xi32> {
  %w = graph.constant dense<[[[[1, 3], [-2, 0]]]]> : tensor<1x1x2x2xi8>
  %b = graph.constant dense<[1, 2]> : tensor<2xi32>
  %scale = graph.constant dense<[2.0, -1.0]> : tensor<2xf32>
  %shift = graph.constant dense<[10.0, -3.0]> : tensor<2xf32>
  %acc = graph.conv2d %x, %w bias %b stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<1x3x3x2xi8>, tensor<1x1x2x2xi8>, tensor<2xi32>) -> tensor<1x3x3x2xi32>
  %y = graph.batch_norm %acc, %scale, %shift : (tensor<1x3x3x2xi32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x3x3x2xi32>
  func.return %y : tensor<1x3x3x2xi32>
}

// -----

// Fractional scales re-quantize the weights: k = max(|w| * |scale|) / 127 = 100 * 0.5 / 127,
// w2 = rne(w * scale / k), b2 = rne((b * scale + shift) / k), requantize scale S * k.
// CHECK-LABEL: func.func @requantized
// CHECK-NEXT:    %weight = graph.constant dense<{{\[}}[127, -13], [-64, 25]]> : tensor<2x2xi8>
// CHECK-NEXT:    %bias = graph.constant dense<[254, -13]> : tensor<2xi32>
// CHECK-NEXT:    %y = graph.matmul %x, %weight bias %bias : (tensor<2x2xi8>, tensor<2x2xi8>, tensor<2xi32>) -> tensor<2x2xi32>
// CHECK-NEXT:    %q = graph.requantize %y scale 0.00393700786 : (tensor<2x2xi32>) -> tensor<2x2xi8>
// EXACT-LABEL: func.func @requantized
// EXACT:         graph.batch_norm
func.func @requantized(%x: tensor<2x2xi8>) -> tensor<2x2xi8> {
  %w = graph.constant dense<[[100, -10], [-50, 20]]> : tensor<2x2xi8>
  %b = graph.constant dense<[200, -10]> : tensor<2xi32>
  %scale = graph.constant dense<[0.5, 0.5]> : tensor<2xf32>
  %shift = graph.constant dense<[0.0, 0.0]> : tensor<2xf32>
  %acc = graph.matmul %x, %w bias %b : (tensor<2x2xi8>, tensor<2x2xi8>, tensor<2xi32>) -> tensor<2x2xi32>
  %y = graph.batch_norm %acc, %scale, %shift : (tensor<2x2xi32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2x2xi32>
  %q = graph.requantize %y scale 0.01 : (tensor<2x2xi32>) -> tensor<2x2xi8>
  func.return %q : tensor<2x2xi8>
}

// -----

// Not folded: the batch norm feeds a relu, not a requantize (its units must not change).
// CHECK-LABEL: func.func @other_user
// CHECK:         graph.batch_norm
func.func @other_user(%x: tensor<2x2xi8>) -> tensor<2x2xi32> {
  %w = graph.constant dense<[[100, -10], [-50, 20]]> : tensor<2x2xi8>
  %scale = graph.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %shift = graph.constant dense<[0.0, 1.5]> : tensor<2xf32>
  %acc = graph.matmul %x, %w : (tensor<2x2xi8>, tensor<2x2xi8>) -> tensor<2x2xi32>
  %y = graph.batch_norm %acc, %scale, %shift : (tensor<2x2xi32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2x2xi32>
  %r = graph.relu %y : (tensor<2x2xi32>) -> tensor<2x2xi32>
  func.return %r : tensor<2x2xi32>
}
