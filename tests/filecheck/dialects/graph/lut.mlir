// RUN: %roundtrip
// RUN: %generic-roundtrip

// graph.lut with a per-channel table and with one table shared by every channel; with
// several inputs (channels joined in order) the table follows the keyword `table`, and
// the old form (the table last, no keyword) parses too.

// CHECK-LABEL: func.func @lut
func.func @lut(%x: tensor<1x2x2x3xi8>, %t: tensor<3x256xi8>, %s: tensor<1x256xi8>, %v: tensor<5xi8>) {
  // CHECK-NEXT: %{{.*}} = graph.lut %x, %t : (tensor<1x2x2x3xi8>, tensor<3x256xi8>) -> tensor<1x2x2x3xi8>
  %0 = graph.lut %x, %t : (tensor<1x2x2x3xi8>, tensor<3x256xi8>) -> tensor<1x2x2x3xi8>
  // CHECK-NEXT: %{{.*}} = graph.lut %x, %s : (tensor<1x2x2x3xi8>, tensor<1x256xi8>) -> tensor<1x2x2x3xi8>
  %1 = graph.lut %x, %s : (tensor<1x2x2x3xi8>, tensor<1x256xi8>) -> tensor<1x2x2x3xi8>
  // CHECK-NEXT: %{{.*}} = graph.lut %v, %s : (tensor<5xi8>, tensor<1x256xi8>) -> tensor<5xi8>
  %2 = graph.lut %v, %s : (tensor<5xi8>, tensor<1x256xi8>) -> tensor<5xi8>
  func.return
}

// CHECK-LABEL: func.func @lut_inputs
func.func @lut_inputs(%a: tensor<1x2x2x3xi8>, %b: tensor<1x2x2x2xi8>, %t: tensor<8x256xi8>, %s: tensor<1x256xi8>) {
  // CHECK-NEXT: %{{.*}} = graph.lut %a, %b, %a table %t : (tensor<1x2x2x3xi8>, tensor<1x2x2x2xi8>, tensor<1x2x2x3xi8>, tensor<8x256xi8>) -> tensor<1x2x2x8xi8>
  %0 = graph.lut %a, %b, %a table %t : (tensor<1x2x2x3xi8>, tensor<1x2x2x2xi8>, tensor<1x2x2x3xi8>, tensor<8x256xi8>) -> tensor<1x2x2x8xi8>
  // CHECK-NEXT: %{{.*}} = graph.lut %a, %b table %s : (tensor<1x2x2x3xi8>, tensor<1x2x2x2xi8>, tensor<1x256xi8>) -> tensor<1x2x2x5xi8>
  %1 = graph.lut %a, %b, %s : (tensor<1x2x2x3xi8>, tensor<1x2x2x2xi8>, tensor<1x256xi8>) -> tensor<1x2x2x5xi8>
  // CHECK-NEXT: %{{.*}} = graph.lut %a, %s : (tensor<1x2x2x3xi8>, tensor<1x256xi8>) -> tensor<1x2x2x3xi8>
  %2 = graph.lut %a table %s : (tensor<1x2x2x3xi8>, tensor<1x256xi8>) -> tensor<1x2x2x3xi8>
  func.return
}
