// RUN: %opt %s --split-input-file -p fold-channel-shuffle | filecheck %s

// A grouped producer is made dense by passes/_densify.py (block_diagonal) before its
// output channels are permuted; dense_groups records its groups, so its
// multiply-accumulates still count as the grouped conv's.

// A grouped conv (2 groups of 2 channels) and the five-op shuffle of 2 groups,
// P = [0, 2, 1, 3]: one dense conv, weights block_diagonal(w)[..., P], bias b[P],
// dense_groups 2.
// CHECK-LABEL: func.func @producer
// CHECK-NEXT:    %weight = graph.constant dense<{{\[\[\[}}[1, 0, 2, 0], [-1, 0, -2, 0], [0, 3, 0, 4], [0, -3, 0, -4]]]]> : tensor<1x1x4x4xi8>
// CHECK-NEXT:    %bias = graph.constant dense<[10, 30, 20, 40]> : tensor<4xi32>
// CHECK-NEXT:    %y = graph.conv2d %x, %weight bias %bias stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 dense_groups 2 output_scale 5.000000e-01 activation relu : (tensor<1x2x2x4xi8>, tensor<1x1x4x4xi8>, tensor<4xi32>) -> tensor<1x2x2x4xi8>
// CHECK-NEXT:    func.return %y
// CHECK-NOT:     graph.transpose
// CHECK-NOT:     graph.reshape
func.func @producer(%x: tensor<1x2x2x4xi8>) -> tensor<1x2x2x4xi8> {
  %w = graph.constant dense<[[[[1, 2, 3, 4], [-1, -2, -3, -4]]]]> : tensor<1x1x2x4xi8>
  %b = graph.constant dense<[10, 20, 30, 40]> : tensor<4xi32>
  %c = graph.conv2d %x, %w bias %b stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 2 output_scale 0.5 activation relu : (tensor<1x2x2x4xi8>, tensor<1x1x2x4xi8>, tensor<4xi32>) -> tensor<1x2x2x4xi8>
  %t0 = graph.transpose %c perm [0, 3, 1, 2] : (tensor<1x2x2x4xi8>) -> tensor<1x4x2x2xi8>
  %r0 = graph.reshape %t0 : (tensor<1x4x2x2xi8>) -> tensor<1x2x2x2x2xi8>
  %t1 = graph.transpose %r0 perm [0, 2, 1, 3, 4] : (tensor<1x2x2x2x2xi8>) -> tensor<1x2x2x2x2xi8>
  %r1 = graph.reshape %t1 : (tensor<1x2x2x2x2xi8>) -> tensor<1x4x2x2xi8>
  %y = graph.transpose %r1 perm [0, 2, 3, 1] : (tensor<1x4x2x2xi8>) -> tensor<1x2x2x4xi8>
  func.return %y : tensor<1x2x2x4xi8>
}

// -----

// A producer that is already dense (groups 1, dense_groups 2; the weight above before
// its permutation) keeps dense_groups 2: the count of its zero blocks does not change.
// CHECK-LABEL: func.func @dense_producer
// CHECK-NEXT:    %weight = graph.constant dense<{{\[\[\[}}[1, 0, 2, 0], [-1, 0, -2, 0], [0, 3, 0, 4], [0, -3, 0, -4]]]]> : tensor<1x1x4x4xi8>
// CHECK-NEXT:    %y = graph.conv2d %x, %weight stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 dense_groups 2 : (tensor<1x2x2x4xi8>, tensor<1x1x4x4xi8>) -> tensor<1x2x2x4xi32>
// CHECK-NEXT:    func.return %y
func.func @dense_producer(%x: tensor<1x2x2x4xi8>) -> tensor<1x2x2x4xi32> {
  %w = graph.constant dense<[[[[1, 2, 0, 0], [-1, -2, 0, 0], [0, 0, 3, 4], [0, 0, -3, -4]]]]> : tensor<1x1x4x4xi8>
  %c = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 dense_groups 2 : (tensor<1x2x2x4xi8>, tensor<1x1x4x4xi8>) -> tensor<1x2x2x4xi32>
  %t0 = graph.transpose %c perm [0, 3, 1, 2] : (tensor<1x2x2x4xi32>) -> tensor<1x4x2x2xi32>
  %r0 = graph.reshape %t0 : (tensor<1x4x2x2xi32>) -> tensor<1x2x2x2x2xi32>
  %t1 = graph.transpose %r0 perm [0, 2, 1, 3, 4] : (tensor<1x2x2x2x2xi32>) -> tensor<1x2x2x2x2xi32>
  %r1 = graph.reshape %t1 : (tensor<1x2x2x2x2xi32>) -> tensor<1x4x2x2xi32>
  %y = graph.transpose %r1 perm [0, 2, 3, 1] : (tensor<1x4x2x2xi32>) -> tensor<1x2x2x4xi32>
  func.return %y : tensor<1x2x2x4xi32>
}

// -----

// The producer's result has a second use, so the groups-1 consumer reads it directly
// instead: shuffle of 2 groups of 3, P = [0, 3, 1, 4, 2, 5], the consumer's input rows
// permuted by Pinv = argsort(P) = [0, 2, 4, 1, 3, 5].
// CHECK-LABEL: func.func @consumer
// CHECK:         %c = graph.conv2d %x, %w0 {{.*}} groups 2
// CHECK-NEXT:    %weight = graph.constant dense<{{\[\[\[}}[0, 10], [2, 12], [4, 14], [1, 11], [3, 13], [5, 15]]]]> : tensor<1x1x6x2xi8>
// CHECK-NEXT:    %z = graph.conv2d %c, %weight bias %b1 stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<1x2x2x6xi8>, tensor<1x1x6x2xi8>, tensor<2xi32>) -> tensor<1x2x2x2xi32>
// CHECK-NEXT:    func.return %c, %z
// CHECK-NOT:     graph.transpose
func.func @consumer(%x: tensor<1x2x2x6xi8>) -> (tensor<1x2x2x6xi8>, tensor<1x2x2x2xi32>) {
  %w0 = graph.constant dense<1> : tensor<1x1x3x6xi8>
  %w1 = graph.constant dense<[[[[0, 10], [1, 11], [2, 12], [3, 13], [4, 14], [5, 15]]]]> : tensor<1x1x6x2xi8>
  %b1 = graph.constant dense<[7, -7]> : tensor<2xi32>
  %c = graph.conv2d %x, %w0 stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 2 output_scale 0.25 : (tensor<1x2x2x6xi8>, tensor<1x1x3x6xi8>) -> tensor<1x2x2x6xi8>
  %t0 = graph.transpose %c perm [0, 3, 1, 2] : (tensor<1x2x2x6xi8>) -> tensor<1x6x2x2xi8>
  %r0 = graph.reshape %t0 : (tensor<1x6x2x2xi8>) -> tensor<1x2x3x2x2xi8>
  %t1 = graph.transpose %r0 perm [0, 2, 1, 3, 4] : (tensor<1x2x3x2x2xi8>) -> tensor<1x3x2x2x2xi8>
  %r1 = graph.reshape %t1 : (tensor<1x3x2x2x2xi8>) -> tensor<1x6x2x2xi8>
  %y = graph.transpose %r1 perm [0, 2, 3, 1] : (tensor<1x6x2x2xi8>) -> tensor<1x2x2x6xi8>
  %z = graph.conv2d %y, %w1 bias %b1 stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<1x2x2x6xi8>, tensor<1x1x6x2xi8>, tensor<2xi32>) -> tensor<1x2x2x2xi32>
  func.return %c, %z : tensor<1x2x2x6xi8>, tensor<1x2x2x2xi32>
}

// -----

// Neither: the producer has a second use and the consumer is depthwise.
// CHECK-LABEL: func.func @neither
// CHECK:         graph.transpose %c perm [0, 3, 1, 2]
// CHECK:         graph.reshape
// CHECK:         graph.transpose
// CHECK:         graph.reshape
// CHECK:         %y = graph.transpose
// CHECK-NEXT:    %z = graph.conv2d %y, %w1
func.func @neither(%x: tensor<1x2x2x6xi8>) -> (tensor<1x2x2x6xi8>, tensor<1x2x2x6xi32>) {
  %w0 = graph.constant dense<1> : tensor<1x1x3x6xi8>
  %w1 = graph.constant dense<2> : tensor<3x3x1x6xi8>
  %c = graph.conv2d %x, %w0 stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 2 output_scale 0.25 : (tensor<1x2x2x6xi8>, tensor<1x1x3x6xi8>) -> tensor<1x2x2x6xi8>
  %t0 = graph.transpose %c perm [0, 3, 1, 2] : (tensor<1x2x2x6xi8>) -> tensor<1x6x2x2xi8>
  %r0 = graph.reshape %t0 : (tensor<1x6x2x2xi8>) -> tensor<1x2x3x2x2xi8>
  %t1 = graph.transpose %r0 perm [0, 2, 1, 3, 4] : (tensor<1x2x3x2x2xi8>) -> tensor<1x3x2x2x2xi8>
  %r1 = graph.reshape %t1 : (tensor<1x3x2x2x2xi8>) -> tensor<1x6x2x2xi8>
  %y = graph.transpose %r1 perm [0, 2, 3, 1] : (tensor<1x6x2x2xi8>) -> tensor<1x2x2x6xi8>
  %z = graph.conv2d %y, %w1 stride [1, 1] padding [1, 1, 1, 1] dilation [1, 1] groups 6 : (tensor<1x2x2x6xi8>, tensor<3x3x1x6xi8>) -> tensor<1x2x2x6xi32>
  func.return %c, %z : tensor<1x2x2x6xi8>, tensor<1x2x2x6xi32>
}

// -----

// Not channel permutations: NHWC -> NCHW then flatten (never back to the input's
// shape), and a spatial transpose (same shape, but pixels move).
// CHECK-LABEL: func.func @not_channels
// CHECK-NEXT:    %w = graph.constant
// CHECK-NEXT:    %t = graph.transpose %x perm [0, 3, 1, 2]
// CHECK-NEXT:    %f = graph.reshape %t
// CHECK-NEXT:    %c = graph.conv2d
// CHECK-NEXT:    %s = graph.transpose %c perm [0, 2, 1, 3]
// CHECK-NEXT:    func.return %f, %s
func.func @not_channels(%x: tensor<1x2x2x4xi8>) -> (tensor<1x16xi8>, tensor<1x2x2x4xi32>) {
  %w = graph.constant dense<1> : tensor<1x1x4x4xi8>
  %t = graph.transpose %x perm [0, 3, 1, 2] : (tensor<1x2x2x4xi8>) -> tensor<1x4x2x2xi8>
  %f = graph.reshape %t : (tensor<1x4x2x2xi8>) -> tensor<1x16xi8>
  %c = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<1x2x2x4xi8>, tensor<1x1x4x4xi8>) -> tensor<1x2x2x4xi32>
  %s = graph.transpose %c perm [0, 2, 1, 3] : (tensor<1x2x2x4xi32>) -> tensor<1x2x2x4xi32>
  func.return %f, %s : tensor<1x16xi8>, tensor<1x2x2x4xi32>
}

// -----

// An identity (NHWC -> NCHW -> NHWC) is a no-op: removed, and the producer takes the
// chain's name.
// CHECK-LABEL: func.func @identity
// CHECK-NEXT:    %y = graph.relu %x
// CHECK-NEXT:    func.return %y
func.func @identity(%x: tensor<1x2x3x4xi8>) -> tensor<1x2x3x4xi8> {
  %r = graph.relu %x : (tensor<1x2x3x4xi8>) -> tensor<1x2x3x4xi8>
  %t = graph.transpose %r perm [0, 3, 1, 2] : (tensor<1x2x3x4xi8>) -> tensor<1x4x2x3xi8>
  %y = graph.transpose %t perm [0, 2, 3, 1] : (tensor<1x4x2x3xi8>) -> tensor<1x2x3x4xi8>
  func.return %y : tensor<1x2x3x4xi8>
}
