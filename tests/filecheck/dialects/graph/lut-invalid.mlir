// RUN: %verify-diagnostics

// One split per verifier error of graph.lut; each CHECK is the one-line message.

func.func @f(%x: tensor<2x3xi32>, %t: tensor<3x256xi8>) {
  %0 = graph.lut %x, %t : (tensor<2x3xi32>, tensor<3x256xi8>) -> tensor<2x3xi32>
  func.return
}
// CHECK: graph.lut: input must have element type i8, got tensor<2x3xi32>

// -----

func.func @f(%x: tensor<2x3xi8>, %t: tensor<3x256xi32>) {
  %0 = graph.lut %x, %t : (tensor<2x3xi8>, tensor<3x256xi32>) -> tensor<2x3xi8>
  func.return
}
// CHECK: graph.lut: table must have element type i8, got tensor<3x256xi32>

// -----

func.func @f(%x: tensor<2x3xi8>, %t: tensor<3x256xi8>) {
  %0 = graph.lut %x, %t : (tensor<2x3xi8>, tensor<3x256xi8>) -> tensor<2x3xi32>
  func.return
}
// CHECK: graph.lut: result type tensor<2x3xi32> does not match the expected tensor<2x3xi8>

// -----

func.func @f(%x: tensor<2x3xi8>, %t: tensor<768xi8>) {
  %0 = graph.lut %x, %t : (tensor<2x3xi8>, tensor<768xi8>) -> tensor<2x3xi8>
  func.return
}
// CHECK: graph.lut: table must be tensor<3x256xi8> or tensor<1x256xi8>, got tensor<768xi8>

// -----

func.func @f(%x: tensor<2x3xi8>, %t: tensor<3x128xi8>) {
  %0 = graph.lut %x, %t : (tensor<2x3xi8>, tensor<3x128xi8>) -> tensor<2x3xi8>
  func.return
}
// CHECK: graph.lut: table must be tensor<3x256xi8> or tensor<1x256xi8>, got tensor<3x128xi8>

// -----

func.func @f(%x: tensor<2x3xi8>, %t: tensor<2x256xi8>) {
  %0 = graph.lut %x, %t : (tensor<2x3xi8>, tensor<2x256xi8>) -> tensor<2x3xi8>
  func.return
}
// CHECK: graph.lut: table has 2 rows, expected 1 (shared) or 3 (one per channel)

// -----

func.func @f(%x: tensor<2x3xi8>, %t: tensor<3x256xi8>) {
  %0 = graph.lut %x, %t : (tensor<2x3xi8>, tensor<3x256xi8>) -> tensor<3x2xi8>
  func.return
}
// CHECK: graph.lut: result type tensor<3x2xi8> does not match the expected tensor<2x3xi8>

// -----

func.func @f(%x: tensor<i8>, %t: tensor<1x256xi8>) {
  %0 = graph.lut %x, %t : (tensor<i8>, tensor<1x256xi8>) -> tensor<i8>
  func.return
}
// CHECK: graph.lut: input must have rank >= 1 (channels last), got tensor<i8>

// -----

func.func @f(%a: tensor<2x3xi8>, %b: tensor<3x3xi8>, %t: tensor<1x256xi8>) {
  %0 = graph.lut %a, %b table %t : (tensor<2x3xi8>, tensor<3x3xi8>, tensor<1x256xi8>) -> tensor<2x6xi8>
  func.return
}
// CHECK: graph.lut: input 1 tensor<3x3xi8> does not match input 0 tensor<2x3xi8> outside the last axis

// -----

func.func @f(%a: tensor<2x3xi8>, %b: tensor<2x4xi32>, %t: tensor<1x256xi8>) {
  %0 = graph.lut %a, %b table %t : (tensor<2x3xi8>, tensor<2x4xi32>, tensor<1x256xi8>) -> tensor<2x7xi8>
  func.return
}
// CHECK: graph.lut: input 1 must have element type i8, got tensor<2x4xi32>

// -----

func.func @f(%a: tensor<2x3xi8>, %b: tensor<2x4xi8>, %t: tensor<3x256xi8>) {
  %0 = graph.lut %a, %b table %t : (tensor<2x3xi8>, tensor<2x4xi8>, tensor<3x256xi8>) -> tensor<2x7xi8>
  func.return
}
// CHECK: graph.lut: table has 3 rows, expected 1 (shared) or 7 (one per channel)

// -----

func.func @f(%a: tensor<2x3xi8>, %b: tensor<2x4xi8>, %t: tensor<7x256xi8>) {
  %0 = graph.lut %a, %b table %t : (tensor<2x3xi8>, tensor<2x4xi8>, tensor<7x256xi8>) -> tensor<2x3xi8>
  func.return
}
// CHECK: graph.lut: result type tensor<2x3xi8> does not match the expected tensor<2x7xi8>

// -----

func.func @f(%t: tensor<1x256xi8>) {
  %0 = "graph.lut"(%t) : (tensor<1x256xi8>) -> tensor<1xi8>
  func.return
}
// CHECK: graph.lut: needs at least one input
