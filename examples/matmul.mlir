// A 64x32 by 32x16 int8 matmul with an int32 bias, requantized to int8 and ReLU'd.
// The weights are a second function argument; the importer-style separate
// requantize and relu ops are folded into the matmul's epilogue by fuse-epilogues.
//
//   python examples/run_default_pipeline.py examples/matmul.mlir

func.func @matmul(%x: tensor<64x32xi8>, %w: tensor<32x16xi8>) -> tensor<64x16xi8> {
  %b = graph.constant dense<[-40, -30, -20, -10, 0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110]> : tensor<16xi32>
  %acc = graph.matmul %x, %w bias %b : (tensor<64x32xi8>, tensor<32x16xi8>, tensor<16xi32>) -> tensor<64x16xi32>
  %q = graph.requantize %acc scale 0.0125 : (tensor<64x16xi32>) -> tensor<64x16xi8>
  %y = graph.relu %q : (tensor<64x16xi8>) -> tensor<64x16xi8>
  func.return %y : tensor<64x16xi8>
}
