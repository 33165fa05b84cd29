// RUN: %opt %s --split-input-file -p fuse-pool | filecheck %s
// RUN: %opt %s --split-input-file -p 'fuse-pool{hardware-pool=false}' | filecheck %s --check-prefix=ANY

// ResNet's stem pool (3x3, stride 2, padding 1) after a relu conv: Gemmini pools it.
// CHECK-LABEL: func.func @stem
// CHECK-NEXT:    %p = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 output_scale 1.000000e-02 activation relu pool_kernel [3, 3] pool_stride [2, 2] pool_padding [1, 1, 1, 1] : (tensor<1x8x8x3xi8>, tensor<1x1x3x8xi8>) -> tensor<1x4x4x8xi8>
// CHECK-NEXT:    func.return %p
// ANY-LABEL: func.func @stem
// ANY-NEXT:    %p = graph.conv2d {{.*}} pool_kernel [3, 3] pool_stride [2, 2] pool_padding [1, 1, 1, 1]
func.func @stem(%x: tensor<1x8x8x3xi8>, %w: tensor<1x1x3x8xi8>) -> tensor<1x4x4x8xi8> {
  %y = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 output_scale 0.01 activation relu : (tensor<1x8x8x3xi8>, tensor<1x1x3x8xi8>) -> tensor<1x8x8x8xi8>
  %p = graph.maxpool %y kernel [3, 3] stride [2, 2] padding [1, 1, 1, 1] : (tensor<1x8x8x8xi8>) -> tensor<1x4x4x8xi8>
  func.return %p : tensor<1x4x4x8xi8>
}

// -----

// An explicit pad whose value (-128) never wins joins the pool padding. Gemmini pads
// with 0, which could beat these (possibly negative) results, so by default only the
// unpadded pool fuses.
// CHECK-LABEL: func.func @explicit_pad
// CHECK:         graph.pad
// CHECK-NEXT:    graph.maxpool
// CHECK-NEXT:    %p2 = graph.conv2d {{.*}} output_scale 1.000000e-02 pool_kernel [2, 2] pool_stride [2, 2] pool_padding [0, 0, 0, 0]
// ANY-LABEL: func.func @explicit_pad
// ANY-NEXT:    %p = graph.conv2d {{.*}} output_scale 1.000000e-02 pool_kernel [3, 3] pool_stride [2, 2] pool_padding [1, 1, 1, 1]
// ANY-NEXT:    %p2 = graph.conv2d {{.*}} pool_kernel [2, 2] pool_stride [2, 2] pool_padding [0, 0, 0, 0]
func.func @explicit_pad(%x: tensor<1x8x8x3xi8>, %w: tensor<1x1x3x8xi8>, %x2: tensor<1x8x8x3xi8>) -> (tensor<1x4x4x8xi8>, tensor<1x4x4x8xi8>) {
  %y = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 output_scale 0.01 : (tensor<1x8x8x3xi8>, tensor<1x1x3x8xi8>) -> tensor<1x8x8x8xi8>
  %q = graph.pad %y pads [0, 1, 1, 0, 0, 1, 1, 0] value -128 : (tensor<1x8x8x8xi8>) -> tensor<1x10x10x8xi8>
  %p = graph.maxpool %q kernel [3, 3] stride [2, 2] padding [0, 0, 0, 0] : (tensor<1x10x10x8xi8>) -> tensor<1x4x4x8xi8>
  %y2 = graph.conv2d %x2, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 output_scale 0.01 : (tensor<1x8x8x3xi8>, tensor<1x1x3x8xi8>) -> tensor<1x8x8x8xi8>
  %p2 = graph.maxpool %y2 kernel [2, 2] stride [2, 2] padding [0, 0, 0, 0] : (tensor<1x8x8x8xi8>) -> tensor<1x4x4x8xi8>
  func.return %p, %p2 : tensor<1x4x4x8xi8>, tensor<1x4x4x8xi8>
}

// -----

// Not fused anywhere: the pad value 0 can beat negative conv results.
// CHECK-LABEL: func.func @pad_wins
// CHECK:         graph.pad
// CHECK-NEXT:    graph.maxpool
// ANY-LABEL: func.func @pad_wins
// ANY:           graph.pad
// ANY-NEXT:      graph.maxpool
func.func @pad_wins(%x: tensor<1x8x8x3xi8>, %w: tensor<1x1x3x8xi8>) -> tensor<1x4x4x8xi8> {
  %y = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 output_scale 0.01 : (tensor<1x8x8x3xi8>, tensor<1x1x3x8xi8>) -> tensor<1x8x8x8xi8>
  %q = graph.pad %y pads [0, 1, 1, 0, 0, 1, 1, 0] value 0 : (tensor<1x8x8x8xi8>) -> tensor<1x10x10x8xi8>
  %p = graph.maxpool %q kernel [3, 3] stride [2, 2] padding [0, 0, 0, 0] : (tensor<1x10x10x8xi8>) -> tensor<1x4x4x8xi8>
  func.return %p : tensor<1x4x4x8xi8>
}

// -----

// Not fused: the conv result is used twice; and a matmul has no pooling.
// CHECK-LABEL: func.func @two_uses
// CHECK-NEXT:    %y = graph.conv2d
// CHECK-NEXT:    %p = graph.maxpool %y
func.func @two_uses(%x: tensor<1x8x8x3xi8>, %w: tensor<1x1x3x8xi8>) -> (tensor<1x4x4x8xi8>, tensor<1x8x8x8xi8>) {
  %y = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 output_scale 0.01 activation relu : (tensor<1x8x8x3xi8>, tensor<1x1x3x8xi8>) -> tensor<1x8x8x8xi8>
  %p = graph.maxpool %y kernel [2, 2] stride [2, 2] padding [0, 0, 0, 0] : (tensor<1x8x8x8xi8>) -> tensor<1x4x4x8xi8>
  func.return %p, %y : tensor<1x4x4x8xi8>, tensor<1x8x8x8xi8>
}

// -----

// Gemmini's move-out pool cannot do a 5x5 window (config_st pool_size has 2 bits),
// so only hardware-pool=false fuses it.
// CHECK-LABEL: func.func @wide
// CHECK:         graph.maxpool
// ANY-LABEL: func.func @wide
// ANY-NEXT:      %p = graph.conv2d {{.*}} pool_kernel [5, 5] pool_stride [1, 1] pool_padding [0, 0, 0, 0]
func.func @wide(%x: tensor<1x8x8x3xi8>, %w: tensor<1x1x3x8xi8>) -> tensor<1x4x4x8xi8> {
  %y = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 output_scale 0.01 activation relu : (tensor<1x8x8x3xi8>, tensor<1x1x3x8xi8>) -> tensor<1x8x8x8xi8>
  %p = graph.maxpool %y kernel [5, 5] stride [1, 1] padding [0, 0, 0, 0] : (tensor<1x8x8x8xi8>) -> tensor<1x4x4x8xi8>
  func.return %p : tensor<1x4x4x8xi8>
}
