// RUN: %verify-diagnostics

// One split per verifier error of every graph op; each CHECK is the one-line message.

func.func @f() {
  %0 = "graph.constant"() <{value = dense<1> : tensor<2xi16>}> : () -> tensor<2xi16>
  func.return
}
// CHECK: graph.constant: element type must be i8, i32 or f32, got tensor<2xi16>

// -----

func.func @f() {
  %0 = "graph.constant"() <{value = dense<1> : tensor<2xi8>}> : () -> tensor<3xi8>
  func.return
}
// CHECK: graph.constant: result type tensor<3xi8> does not match the expected tensor<2xi8>

// -----

func.func @f(%x: tensor<8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: input must have rank 4, got tensor<8x8x16xi8>

// -----

func.func @f(%x: tensor<1x8x8x16xi32>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<1x8x8x16xi32>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: input must have element type i8, got tensor<1x8x8x16xi32>

// -----

func.func @f(%x: tensor<1x?x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<1x?x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: input must be a statically shaped tensor, got tensor<1x?x8x16xi8>

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi32>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi32>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: weight must have element type i8, got tensor<3x3x16x32xi32>

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: stride must have 2 values, got [1]

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0] dilation [1, 1] groups 1 : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: padding must have 4 values, got [0, 0]

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1, 1] groups 1 : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: dilation must have 2 values, got [1, 1, 1]

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [0, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: stride values must be positive, got [0, 1]

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, -1, 0, 0] dilation [1, 1] groups 1 : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: padding values must be non-negative, got [0, -1, 0, 0]

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 0] groups 1 : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: dilation values must be positive, got [1, 0]

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 0 : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: groups must be positive, got 0

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x5x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 3 : (tensor<1x8x8x16xi8>, tensor<3x3x5x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: groups 3 must divide input channels 16 and output channels 32

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x8x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<1x8x8x16xi8>, tensor<3x3x8x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: weight (HWIO) has 8 input channels, expected 16 (channels / groups)

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 dense_groups 1 : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: dense_groups must be at least 2, got 1

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x8x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 2 dense_groups 2 : (tensor<1x8x8x16xi8>, tensor<3x3x8x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: dense_groups 2 needs groups 1, got groups 2

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 dense_groups 3 : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: dense_groups 3 must divide input channels 16 and output channels 32

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x24xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 dense_groups 16 : (tensor<1x8x8x16xi8>, tensor<3x3x16x24xi8>) -> tensor<1x6x6x24xi32>
  func.return
}
// CHECK: graph.conv2d: dense_groups 16 must divide input channels 16 and output channels 24

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>, %b: tensor<16xi32>) {
  %0 = graph.conv2d %x, %w bias %b stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>, tensor<16xi32>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: bias must be tensor<32xi32>, got tensor<16xi32>

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<9x9x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<1x8x8x16xi8>, tensor<9x9x16x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: dilated kernel 9x9 does not fit the padded 8x8 input

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 output_scale -0.5 : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi8>
  func.return
}
// CHECK: graph.conv2d: output_scale must be a finite positive number, got -0.5

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>, %r: tensor<1x6x6x32xi8>) {
  %0 = graph.conv2d %x, %w residual %r stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>, tensor<1x6x6x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: residual and residual_scale must be given together

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>, %r: tensor<1x8x8x32xi8>) {
  %0 = graph.conv2d %x, %w residual %r stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 residual_scale 1.0 : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>, tensor<1x8x8x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: residual must be tensor<1x6x6x32xi8> (the accumulator shape), got tensor<1x8x8x32xi8>

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 activation gelu : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: unknown activation 'gelu' (expected relu; a clip is the clip property)

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 activation relu clip [0, 6] : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: activation relu and clip exclude each other

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 clip [6, 0] : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: clip must be [lo, hi] with lo <= hi, got [6, 0]

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 output_scale 0.5 clip [0, 200] : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi8>
  func.return
}
// CHECK: graph.conv2d: clip [0, 200] is outside the i8 range [-128, 127]

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 pool_kernel [2, 2] : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x3x3x32xi32>
  func.return
}
// CHECK: graph.conv2d: pool_kernel, pool_stride, pool_padding must be given together

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 pool_kernel [2, 2] pool_stride [2, 2] pool_padding [2, 0, 0, 0] : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x3x3x32xi32>
  func.return
}
// CHECK: graph.conv2d: pool_padding [2, 0, 0, 0] must be smaller than pool_kernel [2, 2]

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 pool_kernel [7, 7] pool_stride [1, 1] pool_padding [0, 0, 0, 0] : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x1x1x32xi32>
  func.return
}
// CHECK: graph.conv2d: pool_kernel [7, 7] does not fit the padded 6x6 input

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 pool_kernel [2, 2] pool_stride [0, 2] pool_padding [0, 0, 0, 0] : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x3x3x32xi32>
  func.return
}
// CHECK: graph.conv2d: pool_stride values must be positive, got [0, 2]

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] groups 1 : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi8>
  func.return
}
// CHECK: graph.conv2d: result type tensor<1x6x6x32xi8> does not match the expected tensor<1x6x6x32xi32>

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = graph.conv2d %x, %w stride [1, 1] padding [0, 0, 0, 0] dilation [1, 1] : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: property 'groups' expected in operation 'graph.conv2d'

// -----

func.func @f(%x: tensor<1x8x8x16xi8>, %w: tensor<3x3x16x32xi8>) {
  %0 = "graph.conv2d"(%x, %w) <{stride = array<i32: 1, 1>, padding = array<i64: 0, 0, 0, 0>, dilation = array<i64: 1, 1>, groups = 1 : i64, operandSegmentSizes = array<i32: 1, 1, 0, 0>}> : (tensor<1x8x8x16xi8>, tensor<3x3x16x32xi8>) -> tensor<1x6x6x32xi32>
  func.return
}
// CHECK: graph.conv2d: property 'stride' must be an array<i64: ...>, got array<i32: 1, 1>

// -----

func.func @f(%a: tensor<64xi8>, %w: tensor<64x10xi8>) {
  %0 = graph.matmul %a, %w : (tensor<64xi8>, tensor<64x10xi8>) -> tensor<10xi32>
  func.return
}
// CHECK: graph.matmul: lhs must have rank >= 2, got tensor<64xi8>

// -----

func.func @f(%a: tensor<4x64xi32>, %w: tensor<64x10xi8>) {
  %0 = graph.matmul %a, %w : (tensor<4x64xi32>, tensor<64x10xi8>) -> tensor<4x10xi32>
  func.return
}
// CHECK: graph.matmul: lhs must have element type i8, got tensor<4x64xi32>

// -----

func.func @f(%a: tensor<2x4x64xi8>, %w: tensor<3x64x10xi8>) {
  %0 = graph.matmul %a, %w : (tensor<2x4x64xi8>, tensor<3x64x10xi8>) -> tensor<2x4x10xi32>
  func.return
}
// CHECK: graph.matmul: rhs must be [K, N] or [B..., K, N] with the batch dims [2] of lhs, got tensor<3x64x10xi8>

// -----

func.func @f(%a: tensor<4x64xi8>, %w: tensor<32x10xi8>) {
  %0 = graph.matmul %a, %w : (tensor<4x64xi8>, tensor<32x10xi8>) -> tensor<4x10xi32>
  func.return
}
// CHECK: graph.matmul: contraction mismatch: lhs has K = 64, rhs has K = 32

// -----

func.func @f(%a: tensor<4x64xi8>, %w: tensor<64x10xi8>, %b: tensor<10xi8>) {
  %0 = graph.matmul %a, %w bias %b : (tensor<4x64xi8>, tensor<64x10xi8>, tensor<10xi8>) -> tensor<4x10xi32>
  func.return
}
// CHECK: graph.matmul: bias must be tensor<10xi32>, got tensor<10xi8>

// -----

func.func @f(%a: tensor<4x64xi8>, %w: tensor<64x10xi8>) {
  %0 = graph.matmul %a, %w output_scale 0.5 : (tensor<4x64xi8>, tensor<64x10xi8>) -> tensor<4x10xi32>
  func.return
}
// CHECK: graph.matmul: result type tensor<4x10xi32> does not match the expected tensor<4x10xi8>

// -----

func.func @f(%a: tensor<4xi8>, %b: tensor<5xi8>) {
  %0 = graph.add %a, %b lhs_scale 1.0 rhs_scale 1.0 output_scale 1.0 : (tensor<4xi8>, tensor<5xi8>) -> tensor<4xi8>
  func.return
}
// CHECK: graph.add: operands must have the same type, got tensor<4xi8> and tensor<5xi8>

// -----

func.func @f(%a: tensor<4xf32>, %b: tensor<4xf32>) {
  %0 = graph.add %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  func.return
}
// CHECK: graph.add: lhs must have element type i8 or i32, got tensor<4xf32>

// -----

func.func @f(%a: tensor<4xi8>, %b: tensor<4xi8>) {
  %0 = graph.add %a, %b lhs_scale 1.0 output_scale 1.0 : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi8>
  func.return
}
// CHECK: graph.add: int8 operands need lhs_scale, rhs_scale and output_scale

// -----

func.func @f(%a: tensor<4xi32>, %b: tensor<4xi32>) {
  %0 = graph.add %a, %b output_scale 1.0 : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
  func.return
}
// CHECK: graph.add: int32 operands take no scales, got output_scale

// -----

func.func @f(%a: tensor<4xi8>, %b: tensor<4xi8>) {
  %0 = graph.add %a, %b lhs_scale 0.0 rhs_scale 1.0 output_scale 1.0 : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi8>
  func.return
}
// CHECK: graph.add: lhs_scale must be a finite positive number, got 0.0

// -----

func.func @f(%a: tensor<4xi8>, %b: tensor<4xi8>) {
  %0 = graph.add %a, %b lhs_scale 1.0 rhs_scale 1.0 output_scale 1.0 clip [-129, 0] : (tensor<4xi8>, tensor<4xi8>) -> tensor<4xi8>
  func.return
}
// CHECK: graph.add: clip [-129, 0] is outside the i8 range [-128, 127]

// -----

func.func @f(%a: tensor<4xi16>) {
  %0 = graph.relu %a : (tensor<4xi16>) -> tensor<4xi16>
  func.return
}
// CHECK: graph.relu: input must have element type i8 or i32 or f32, got tensor<4xi16>

// -----

func.func @f(%a: tensor<4xi8>) {
  %0 = graph.relu %a : (tensor<4xi8>) -> tensor<4xi32>
  func.return
}
// CHECK: graph.relu: result type tensor<4xi32> does not match the expected tensor<4xi8>

// -----

func.func @f(%a: tensor<4xi8>) {
  %0 = graph.clip %a min 6 max 0 : (tensor<4xi8>) -> tensor<4xi8>
  func.return
}
// CHECK: graph.clip: need -128 <= min <= max <= 127, got min 6 max 0

// -----

func.func @f(%a: tensor<4xf32>) {
  %0 = graph.clip %a min 0 max 6 : (tensor<4xf32>) -> tensor<4xf32>
  func.return
}
// CHECK: graph.clip: input must have element type i8 or i32, got tensor<4xf32>

// -----

func.func @f(%a: tensor<4xf32>) {
  %0 = graph.requantize %a scale 1.0 : (tensor<4xf32>) -> tensor<4xi8>
  func.return
}
// CHECK: graph.requantize: input must have element type i8 or i32, got tensor<4xf32>

// -----

func.func @f(%a: tensor<4xi32>) {
  %0 = "graph.requantize"(%a) <{scale = 1.0 : f64}> : (tensor<4xi32>) -> tensor<4xi8>
  func.return
}
// CHECK: graph.requantize: property 'scale' must be an f32 float, got 1.000000e+00 : f64

// -----

func.func @f(%a: tensor<4xi32>) {
  %0 = graph.requantize %a scale 0.5 : (tensor<4xi32>) -> tensor<4xi32>
  func.return
}
// CHECK: graph.requantize: result type tensor<4xi32> does not match the expected tensor<4xi8>

// -----

func.func @f(%a: tensor<2x10xf32>) {
  %0 = graph.softmax %a axis 2 : (tensor<2x10xf32>) -> tensor<2x10xf32>
  func.return
}
// CHECK: graph.softmax: axis 2 is out of range for rank 2

// -----

func.func @f(%a: tensor<2x10xi8>) {
  %0 = graph.softmax %a axis 1 input_scale 0.5 : (tensor<2x10xi8>) -> tensor<2x10xi8>
  func.return
}
// CHECK: graph.softmax: int8 input needs input_scale and output_scale

// -----

func.func @f(%a: tensor<2x10xf32>) {
  %0 = graph.softmax %a axis 1 output_scale 0.5 : (tensor<2x10xf32>) -> tensor<2x10xf32>
  func.return
}
// CHECK: graph.softmax: f32 input takes no scales, got output_scale

// -----

func.func @f(%a: tensor<2x10xi32>) {
  %0 = graph.softmax %a axis 1 : (tensor<2x10xi32>) -> tensor<2x10xi32>
  func.return
}
// CHECK: graph.softmax: input must have element type i8 or f32, got tensor<2x10xi32>

// -----

func.func @f(%a: tensor<7x7x8xi8>) {
  %0 = graph.maxpool %a kernel [2, 2] stride [2, 2] padding [0, 0, 0, 0] : (tensor<7x7x8xi8>) -> tensor<3x3x8xi8>
  func.return
}
// CHECK: graph.maxpool: input must have rank 4, got tensor<7x7x8xi8>

// -----

func.func @f(%a: tensor<1x7x7x8xf32>) {
  %0 = graph.maxpool %a kernel [2, 2] stride [2, 2] padding [0, 0, 0, 0] : (tensor<1x7x7x8xf32>) -> tensor<1x3x3x8xf32>
  func.return
}
// CHECK: graph.maxpool: input must have element type i8 or i32, got tensor<1x7x7x8xf32>

// -----

func.func @f(%a: tensor<1x7x7x8xi8>) {
  %0 = graph.maxpool %a kernel [2, 2] stride [2, 2] padding [0, 0, 0, 2] : (tensor<1x7x7x8xi8>) -> tensor<1x3x4x8xi8>
  func.return
}
// CHECK: graph.maxpool: padding [0, 0, 0, 2] must be smaller than kernel [2, 2]

// -----

func.func @f(%a: tensor<1x7x7x8xi8>) {
  %0 = graph.maxpool %a kernel [8, 8] stride [1, 1] padding [0, 0, 0, 0] : (tensor<1x7x7x8xi8>) -> tensor<1x1x1x8xi8>
  func.return
}
// CHECK: graph.maxpool: kernel [8, 8] does not fit the padded 7x7 input

// -----

func.func @f(%a: tensor<1x7x7x8xi8>) {
  %0 = graph.maxpool %a kernel [2, 2] stride [2, 2] padding [0, 0] : (tensor<1x7x7x8xi8>) -> tensor<1x3x3x8xi8>
  func.return
}
// CHECK: graph.maxpool: padding must have 4 values, got [0, 0]

// -----

func.func @f(%a: tensor<1x7x7x8xi8>) {
  %0 = graph.maxpool %a kernel [2, 2] stride [2, 2] padding [0, 0, 0, 0] : (tensor<1x7x7x8xi8>) -> tensor<1x4x4x8xi8>
  func.return
}
// CHECK: graph.maxpool: result type tensor<1x4x4x8xi8> does not match the expected tensor<1x3x3x8xi8>

// -----

func.func @f(%a: tensor<1x7x7x8xi32>) {
  %0 = graph.avgpool %a kernel [2, 2] stride [2, 2] padding [0, 0, 0, 0] scale 1.0 : (tensor<1x7x7x8xi32>) -> tensor<1x3x3x8xi32>
  func.return
}
// CHECK: graph.avgpool: input must have element type i8, got tensor<1x7x7x8xi32>

// -----

func.func @f(%a: tensor<1x7x7x8xi8>) {
  %0 = graph.avgpool %a kernel [2, 2] stride [2, 2] padding [0, 0, 0, 0] scale -1.0 : (tensor<1x7x7x8xi8>) -> tensor<1x3x3x8xi8>
  func.return
}
// CHECK: graph.avgpool: scale must be a finite positive number, got -1.0

// -----

func.func @f(%a: tensor<1x7x7x8xi32>) {
  %0 = graph.global_avgpool %a scale 1.0 : (tensor<1x7x7x8xi32>) -> tensor<1x1x1x8xi32>
  func.return
}
// CHECK: graph.global_avgpool: input must have element type i8, got tensor<1x7x7x8xi32>

// -----

func.func @f(%a: tensor<1x7x7x8xi8>) {
  %0 = graph.global_avgpool %a scale 1.0 : (tensor<1x7x7x8xi8>) -> tensor<1x8xi8>
  func.return
}
// CHECK: graph.global_avgpool: result type tensor<1x8xi8> does not match the expected tensor<1x1x1x8xi8>

// -----

func.func @f(%a: tensor<7x7x8xi8>) {
  %0 = graph.global_avgpool %a scale 1.0 : (tensor<7x7x8xi8>) -> tensor<1x1x8xi8>
  func.return
}
// CHECK: graph.global_avgpool: input must have rank 4, got tensor<7x7x8xi8>

// -----

func.func @f(%a: tensor<2x8xi8>) {
  %0 = graph.reshape %a : (tensor<2x8xi8>) -> tensor<15xi8>
  func.return
}
// CHECK: graph.reshape: cannot reshape tensor<2x8xi8> to tensor<15xi8>: element type and count must match

// -----

func.func @f(%a: tensor<2x8xi8>) {
  %0 = graph.reshape %a : (tensor<2x8xi8>) -> tensor<16xi32>
  func.return
}
// CHECK: graph.reshape: cannot reshape tensor<2x8xi8> to tensor<16xi32>: element type and count must match

// -----

func.func @f(%a: tensor<2x8xi16>) {
  %0 = graph.reshape %a : (tensor<2x8xi16>) -> tensor<16xi16>
  func.return
}
// CHECK: graph.reshape: input must have element type i8 or i32 or f32, got tensor<2x8xi16>

// -----

func.func @f(%a: tensor<2x3x4xi8>) {
  %0 = graph.transpose %a perm [0, 2, 2] : (tensor<2x3x4xi8>) -> tensor<2x4x4xi8>
  func.return
}
// CHECK: graph.transpose: perm [0, 2, 2] is not a permutation of 0..2

// -----

func.func @f(%a: tensor<2x3x4xi8>) {
  %0 = graph.transpose %a perm [2, 0, 1] : (tensor<2x3x4xi8>) -> tensor<2x3x4xi8>
  func.return
}
// CHECK: graph.transpose: result type tensor<2x3x4xi8> does not match the expected tensor<4x2x3xi8>

// -----

func.func @f(%a: tensor<2x3xi8>, %b: tensor<3x3xi8>) {
  %0 = graph.concat %a, %b axis 1 : (tensor<2x3xi8>, tensor<3x3xi8>) -> tensor<2x6xi8>
  func.return
}
// CHECK: graph.concat: input 1 tensor<3x3xi8> does not match input 0 tensor<2x3xi8> outside axis 1

// -----

func.func @f(%a: tensor<2x3xi8>, %b: tensor<2x3xi32>) {
  %0 = graph.concat %a, %b axis 0 : (tensor<2x3xi8>, tensor<2x3xi32>) -> tensor<4x3xi8>
  func.return
}
// CHECK: graph.concat: input 1 tensor<2x3xi32> does not match input 0 tensor<2x3xi8> outside axis 0

// -----

func.func @f(%a: tensor<2x3xi8>) {
  %0 = graph.concat %a axis 2 : (tensor<2x3xi8>) -> tensor<2x3xi8>
  func.return
}
// CHECK: graph.concat: axis 2 is out of range for rank 2

// -----

func.func @f() {
  %0 = graph.concat axis 0 : () -> tensor<2x3xi8>
  func.return
}
// CHECK: graph.concat: needs at least one input

// -----

func.func @f(%a: tensor<2x3xi8>) {
  %0 = graph.pad %a pads [1, 1] value 0 : (tensor<2x3xi8>) -> tensor<3x4xi8>
  func.return
}
// CHECK: graph.pad: pads must have 4 values (2 x rank), got [1, 1]

// -----

func.func @f(%a: tensor<2x3xi8>) {
  %0 = graph.pad %a pads [1, 1, -1, 0] value 0 : (tensor<2x3xi8>) -> tensor<2x4xi8>
  func.return
}
// CHECK: graph.pad: pads values must be non-negative, got [1, 1, -1, 0]

// -----

func.func @f(%a: tensor<2x3xi8>) {
  %0 = graph.pad %a pads [0, 0, 0, 0] value 128 : (tensor<2x3xi8>) -> tensor<2x3xi8>
  func.return
}
// CHECK: graph.pad: value 128 is not exact in i8 (range [-128, 127])

// -----

func.func @f(%a: tensor<2x3xf32>) {
  %0 = graph.pad %a pads [0, 0, 0, 0] value 16777217 : (tensor<2x3xf32>) -> tensor<2x3xf32>
  func.return
}
// CHECK: graph.pad: value 16777217 is not exact in f32 (range [-16777216, 16777216])

// -----

func.func @f(%a: tensor<1x4x4x8xi8>) {
  %0 = graph.lrn %a size 4 alpha 0.0001 beta 0.75 bias 1.0 input_scale 0.5 output_scale 0.5 : (tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  func.return
}
// CHECK: graph.lrn: size must be a positive odd number, got 4

// -----

func.func @f(%a: tensor<4x8xi8>) {
  %0 = graph.lrn %a size 3 alpha 0.0001 beta 0.75 bias 1.0 input_scale 0.5 output_scale 0.5 : (tensor<4x8xi8>) -> tensor<4x8xi8>
  func.return
}
// CHECK: graph.lrn: input must have rank 4, got tensor<4x8xi8>

// -----

func.func @f(%a: tensor<1x4x4x8xi32>) {
  %0 = graph.lrn %a size 3 alpha 0.0001 beta 0.75 bias 1.0 input_scale 0.5 output_scale 0.5 : (tensor<1x4x4x8xi32>) -> tensor<1x4x4x8xi32>
  func.return
}
// CHECK: graph.lrn: input must have element type i8, got tensor<1x4x4x8xi32>

// -----

func.func @f(%a: tensor<1x4x4x8xi8>) {
  %0 = graph.lrn %a size 3 alpha 0.0001 beta 0.75 bias -1.0 input_scale 0.5 output_scale 0.5 : (tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  func.return
}
// CHECK: graph.lrn: bias must be a finite number >= 0, got -1.0

// -----

func.func @f(%a: tensor<1x4x4x8xi8>) {
  %0 = graph.lrn %a size 3 alpha 0.0 beta 0.75 bias 1.0 input_scale 0.5 output_scale 0.5 : (tensor<1x4x4x8xi8>) -> tensor<1x4x4x8xi8>
  func.return
}
// CHECK: graph.lrn: alpha must be a finite positive number, got 0.0

// -----

func.func @f(%a: tensor<2x8xi8>, %s: tensor<4xf32>, %t: tensor<8xf32>) {
  %0 = graph.channel_affine %a, %s, %t, %t input_scale 0.5 output_scale 0.5 : (tensor<2x8xi8>, tensor<4xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x8xi8>
  func.return
}
// CHECK: graph.channel_affine: scale must be tensor<8xf32> (one f32 per channel), got tensor<4xf32>

// -----

func.func @f(%a: tensor<2x8xi8>, %s: tensor<8xf32>) {
  %0 = graph.channel_affine %a, %s, %s, %s input_scale -0.5 output_scale 0.5 : (tensor<2x8xi8>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x8xi8>
  func.return
}
// CHECK: graph.channel_affine: input_scale must be a finite positive number, got -0.5

// -----

func.func @f(%a: tensor<2x8xi8>) {
  %s = graph.constant dense<1.0> : tensor<8xf32>
  %n = "graph.constant"() <{value = dense<"0x0000C07F0000C07F0000C07F0000C07F0000C07F0000C07F0000C07F0000C07F"> : tensor<8xf32>}> : () -> tensor<8xf32>
  %0 = graph.channel_affine %a, %s, %n, %s input_scale 0.5 output_scale 0.5 : (tensor<2x8xi8>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x8xi8>
  func.return
}
// CHECK: graph.channel_affine: shift holds a non-finite value
