// A 3x3 stride-2 padded convolution, NHWC int8 input and HWIO int8 weights, with an
// int32 bias, output scale and ReLU in its epilogue (1x10x10x8 -> 1x5x5x16).
//
//   python examples/run_default_pipeline.py examples/conv.mlir

func.func @conv(%x: tensor<1x10x10x8xi8>, %w: tensor<3x3x8x16xi8>) -> tensor<1x5x5x16xi8> {
  %b = graph.constant dense<[-64, -48, -32, -16, 0, 16, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176]> : tensor<16xi32>
  %y = graph.conv2d %x, %w bias %b stride [2, 2] padding [1, 1, 1, 1] dilation [1, 1] groups 1 output_scale 0.01 activation relu : (tensor<1x10x10x8xi8>, tensor<3x3x8x16xi8>, tensor<16xi32>) -> tensor<1x5x5x16xi8>
  func.return %y : tensor<1x5x5x16xi8>
}
