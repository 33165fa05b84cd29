// RUN: %opt %s --split-input-file -p fold-lut | filecheck %s
// RUN: %opt %s --split-input-file -p 'fold-lut{min-visits=1}' | filecheck %s --check-prefix=ONE

// The pass is passes/fold_lut.py; its tables come from passes/_lut_chain.py and the
// absorptions of concats and producers (cases (a)-(d) below) from passes/_lut_absorb.py.

// A batch norm that no conv absorbs, then the add of a per-channel constant with ReLU:
// one table of 3 channels x 256 entries, named after the add.
// CHECK-LABEL: func.func @affine_add_relu
// CHECK-NEXT:    %table = graph.constant dense<"0x{{[0-9A-F]+}}"> : tensor<3x256xi8>
// CHECK-NEXT:    %y = graph.lut %x, %table : (tensor<1x2x2x3xi8>, tensor<3x256xi8>) -> tensor<1x2x2x3xi8>
// CHECK-NEXT:    func.return %y
func.func @affine_add_relu(%x: tensor<1x2x2x3xi8>) -> tensor<1x2x2x3xi8> {
  %s = graph.constant dense<[1.5, -0.5, 2.0]> : tensor<3xf32>
  %t = graph.constant dense<[0.25, 1.0, -3.0]> : tensor<3xf32>
  %m = graph.constant dense<1.0> : tensor<3xf32>
  %b = graph.constant dense<[[[[10, -20, 30], [10, -20, 30]], [[10, -20, 30], [10, -20, 30]]]]> : tensor<1x2x2x3xi8>
  %a = graph.channel_affine %x, %s, %t, %m input_scale 0.1 output_scale 0.05 : (tensor<1x2x2x3xi8>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<1x2x2x3xi8>
  %y = graph.add %a, %b lhs_scale 0.05 rhs_scale 0.01 output_scale 0.06 activation relu : (tensor<1x2x2x3xi8>, tensor<1x2x2x3xi8>) -> tensor<1x2x2x3xi8>
  func.return %y : tensor<1x2x2x3xi8>
}

// -----

// A chain without per-channel constants (requantize, then clip) has one shared table:
// entry i is clip(rne((i - 128) * 0.5), -3, 5).
// CHECK-LABEL: func.func @shared_table
// CHECK-NEXT:    %table = graph.constant dense<"0x{{(FD)+}}{{(FE)+}}{{(FF)+}}{{(00)+}}{{(01)+}}{{(02)+}}{{(03)+}}{{(04)+}}{{(05)+}}"> : tensor<1x256xi8>
// CHECK-NEXT:    %c = graph.lut %x, %table : (tensor<4x2xi8>, tensor<1x256xi8>) -> tensor<4x2xi8>
func.func @shared_table(%x: tensor<4x2xi8>) -> tensor<4x2xi8> {
  %q = graph.requantize %x scale 0.5 : (tensor<4x2xi8>) -> tensor<4x2xi8>
  %c = graph.clip %q min -3 max 5 : (tensor<4x2xi8>) -> tensor<4x2xi8>
  func.return %c : tensor<4x2xi8>
}

// -----

// A lone requantize (one element visit, like the lookup) stays; min-visits=1 folds it.
// CHECK-LABEL: func.func @lone_requantize
// CHECK-NEXT:    %q = graph.requantize %x scale 5.000000e-01
// CHECK-NOT:     graph.lut
// ONE-LABEL:   func.func @lone_requantize
// ONE-NEXT:      %table = graph.constant
// ONE-NEXT:      %q = graph.lut %x, %table
func.func @lone_requantize(%x: tensor<4x2xi8>) -> tensor<4x2xi8> {
  %q = graph.requantize %x scale 0.5 : (tensor<4x2xi8>) -> tensor<4x2xi8>
  func.return %q : tensor<4x2xi8>
}

// -----

// %r has two uses, so the chain ends there: channel_affine + relu become one lookup and
// requantize + clip another that reads it; a lone channel_affine (four visits) folds. Then
// each reader of the first lookup composes it into its own table, and %r goes.
// CHECK-LABEL: func.func @second_use
// CHECK-NEXT:    %table = graph.constant dense<"0x{{[0-9A-F]+}}"> : tensor<2x256xi8>
// CHECK-NEXT:    %c = graph.lut %x, %table : (tensor<4x2xi8>, tensor<2x256xi8>) -> tensor<4x2xi8>
// CHECK-NEXT:    %table_1 = graph.constant dense<"0x{{[0-9A-F]+}}"> : tensor<2x256xi8>
// CHECK-NEXT:    %lone = graph.lut %x, %table_1 : (tensor<4x2xi8>, tensor<2x256xi8>) -> tensor<4x2xi8>
// CHECK-NEXT:    func.return %c, %lone
func.func @second_use(%x: tensor<4x2xi8>) -> (tensor<4x2xi8>, tensor<4x2xi8>) {
  %s = graph.constant dense<[1.5, -0.5]> : tensor<2xf32>
  %t = graph.constant dense<[0.25, 1.0]> : tensor<2xf32>
  %m = graph.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %a = graph.channel_affine %x, %s, %t, %m input_scale 0.1 output_scale 0.05 : (tensor<4x2xi8>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<4x2xi8>
  %r = graph.relu %a : (tensor<4x2xi8>) -> tensor<4x2xi8>
  %q = graph.requantize %r scale 0.7 : (tensor<4x2xi8>) -> tensor<4x2xi8>
  %c = graph.clip %q min -3 max 50 : (tensor<4x2xi8>) -> tensor<4x2xi8>
  %lone = graph.channel_affine %r, %s, %t, %m input_scale 0.05 output_scale 0.1 : (tensor<4x2xi8>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<4x2xi8>
  func.return %c, %lone : tensor<4x2xi8>, tensor<4x2xi8>
}

// -----

// Untouched: an add of two computed values, an add whose constant differs between
// pixels (not per-channel), and a relu after either (it is alone: one visit).
// CHECK-LABEL: func.func @not_per_channel
// CHECK-NEXT:    %b = graph.constant dense<{{\[}}[1, 2], [3, 4]]> : tensor<2x2xi8>
// CHECK-NEXT:    %s = graph.add %x, %y
// CHECK-NEXT:    %r = graph.relu %s
// CHECK-NEXT:    %p = graph.add %b, %x
// CHECK-NEXT:    %q = graph.relu %p
// CHECK-NOT:     graph.lut
func.func @not_per_channel(%x: tensor<2x2xi8>, %y: tensor<2x2xi8>) -> (tensor<2x2xi8>, tensor<2x2xi8>) {
  %b = graph.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi8>
  %s = graph.add %x, %y lhs_scale 0.5 rhs_scale 0.25 output_scale 0.5 : (tensor<2x2xi8>, tensor<2x2xi8>) -> tensor<2x2xi8>
  %r = graph.relu %s : (tensor<2x2xi8>) -> tensor<2x2xi8>
  %p = graph.add %b, %x lhs_scale 0.5 rhs_scale 0.25 output_scale 0.5 : (tensor<2x2xi8>, tensor<2x2xi8>) -> tensor<2x2xi8>
  %q = graph.relu %p : (tensor<2x2xi8>) -> tensor<2x2xi8>
  func.return %r, %q : tensor<2x2xi8>, tensor<2x2xi8>
}

// -----

// (a) A concat of a concat on the same axis reads the pieces; the inner one stays for
// its other reader (the return). A concat on another axis is not flattened.
// CHECK-LABEL: func.func @flatten_concat
// CHECK-NEXT:    %ab = graph.concat %a, %b axis 1 : (tensor<2x3xi8>, tensor<2x1xi8>) -> tensor<2x4xi8>
// CHECK-NEXT:    %abc = graph.concat %a, %b, %c axis 1 : (tensor<2x3xi8>, tensor<2x1xi8>, tensor<2x2xi8>) -> tensor<2x6xi8>
// CHECK-NEXT:    %v = graph.concat %a, %a axis 0
// CHECK-NEXT:    %w = graph.concat %v, %v axis 1
// CHECK-NEXT:    func.return %ab, %abc, %w
func.func @flatten_concat(%a: tensor<2x3xi8>, %b: tensor<2x1xi8>, %c: tensor<2x2xi8>) -> (tensor<2x4xi8>, tensor<2x6xi8>, tensor<4x6xi8>) {
  %ab = graph.concat %a, %b axis 1 : (tensor<2x3xi8>, tensor<2x1xi8>) -> tensor<2x4xi8>
  %abc = graph.concat %ab, %c axis 1 : (tensor<2x4xi8>, tensor<2x2xi8>) -> tensor<2x6xi8>
  %v = graph.concat %a, %a axis 0 : (tensor<2x3xi8>, tensor<2x3xi8>) -> tensor<4x3xi8>
  %w = graph.concat %v, %v axis 1 : (tensor<4x3xi8>, tensor<4x3xi8>) -> tensor<4x6xi8>
  func.return %ab, %abc, %w : tensor<2x4xi8>, tensor<2x6xi8>, tensor<4x6xi8>
}

// -----

// (b) A lookup reads its concat's inputs (same table). %k has another reader and stays;
// %j has none after that and goes, and so does the concat %i it flattened.
// CHECK-LABEL: func.func @lut_absorbs_concat
// CHECK-NEXT:    %t = graph.constant
// CHECK-NEXT:    %k = graph.concat %a, %b axis 1
// CHECK-NEXT:    %y = graph.lut %a, %b table %t : (tensor<2x3xi8>, tensor<2x1xi8>, tensor<1x256xi8>) -> tensor<2x4xi8>
// CHECK-NEXT:    %z = graph.lut %a, %b, %a, %b table %t : (tensor<2x3xi8>, tensor<2x1xi8>, tensor<2x3xi8>, tensor<2x1xi8>, tensor<1x256xi8>) -> tensor<2x8xi8>
// CHECK-NEXT:    func.return %k, %y, %z
func.func @lut_absorbs_concat(%a: tensor<2x3xi8>, %b: tensor<2x1xi8>) -> (tensor<2x4xi8>, tensor<2x4xi8>, tensor<2x8xi8>) {
  %t = graph.constant dense<"0x808182838485868788898A8B8C8D8E8F909192939495969798999A9B9C9D9E9FA0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBFC0C1C2C3C4C5C6C7C8C9CACBCCCDCECFD0D1D2D3D4D5D6D7D8D9DADBDCDDDEDFE0E1E2E3E4E5E6E7E8E9EAEBECEDEEEFF0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F606162636465666768696A6B6C6D6E6F707172737475767778797A7B7C7D7E7F"> : tensor<1x256xi8>
  %k = graph.concat %a, %b axis 1 : (tensor<2x3xi8>, tensor<2x1xi8>) -> tensor<2x4xi8>
  %y = graph.lut %k, %t : (tensor<2x4xi8>, tensor<1x256xi8>) -> tensor<2x4xi8>
  %i = graph.concat %a, %b axis 1 : (tensor<2x3xi8>, tensor<2x1xi8>) -> tensor<2x4xi8>
  %j = graph.concat %i, %i axis 1 : (tensor<2x4xi8>, tensor<2x4xi8>) -> tensor<2x8xi8>
  %z = graph.lut %j, %t : (tensor<2x8xi8>, tensor<1x256xi8>) -> tensor<2x8xi8>
  func.return %k, %y, %z : tensor<2x4xi8>, tensor<2x4xi8>, tensor<2x8xi8>
}

// -----

// (c) A relu read by two lookups is composed into each (identity table: the composed
// rows are relu's own, 0 for the negative half) and then, unused, removed; the rows of
// the other input keep the identity. The lookups' first tables go too.
// CHECK-LABEL: func.func @compose_producer
// CHECK-NEXT:    %table = graph.constant dense<"0x8081{{[0-9A-F]+}}7E7F{{(00)+}}0102{{[0-9A-F]+}}7E7F"> : tensor<2x256xi8>
// CHECK-NEXT:    %y = graph.lut %x, %q table %table : (tensor<4x1xi8>, tensor<4x1xi8>, tensor<2x256xi8>) -> tensor<4x2xi8>
// CHECK-NEXT:    %table_1 = graph.constant dense<"0x{{(00)+}}0102{{[0-9A-F]+}}7E7F"> : tensor<1x256xi8>
// CHECK-NEXT:    %z = graph.lut %q, %table_1 : (tensor<4x1xi8>, tensor<1x256xi8>) -> tensor<4x1xi8>
// CHECK-NEXT:    func.return %y, %z
// CHECK-NOT:     graph.relu
func.func @compose_producer(%x: tensor<4x1xi8>, %q: tensor<4x1xi8>) -> (tensor<4x2xi8>, tensor<4x1xi8>) {
  %t = graph.constant dense<"0x808182838485868788898A8B8C8D8E8F909192939495969798999A9B9C9D9E9FA0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBFC0C1C2C3C4C5C6C7C8C9CACBCCCDCECFD0D1D2D3D4D5D6D7D8D9DADBDCDDDEDFE0E1E2E3E4E5E6E7E8E9EAEBECEDEEEFF0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F606162636465666768696A6B6C6D6E6F707172737475767778797A7B7C7D7E7F"> : tensor<1x256xi8>
  %r = graph.relu %q : (tensor<4x1xi8>) -> tensor<4x1xi8>
  %y = graph.lut %x, %r table %t : (tensor<4x1xi8>, tensor<4x1xi8>, tensor<1x256xi8>) -> tensor<4x2xi8>
  %z = graph.lut %r, %t : (tensor<4x1xi8>, tensor<1x256xi8>) -> tensor<4x1xi8>
  func.return %y, %z : tensor<4x2xi8>, tensor<4x1xi8>
}

// -----

// (b), (c) and (d) together on a DenseNet-like block: each dense step's requantize and
// concat disappear; every lookup reads the block's pieces (%x, %c1, %c2) directly. A
// requantize that something else (the return) reads stays for it.
// CHECK-LABEL: func.func @dense_block
// CHECK-NOT:     graph.concat
// CHECK:         %l0 = graph.lut %x, %c1 table %{{.*}} : (tensor<1x2x2x2xi8>, tensor<1x2x2x1xi8>, tensor<3x256xi8>)
// CHECK-NEXT:    %q2 = graph.requantize %c2 scale
// CHECK-NEXT:    %table_1 = graph.constant
// CHECK-NEXT:    %l1 = graph.lut %x, %c1, %c2 table %table_1 : (tensor<1x2x2x2xi8>, tensor<1x2x2x1xi8>, tensor<1x2x2x1xi8>, tensor<4x256xi8>)
// CHECK-NEXT:    func.return %l0, %l1, %q2
// CHECK-NOT:     graph.concat
func.func @dense_block(%x: tensor<1x2x2x2xi8>, %c1: tensor<1x2x2x1xi8>, %c2: tensor<1x2x2x1xi8>) -> (tensor<1x2x2x3xi8>, tensor<1x2x2x4xi8>, tensor<1x2x2x1xi8>) {
  %t0 = graph.constant dense<"0x808182838485868788898A8B8C8D8E8F909192939495969798999A9B9C9D9E9FA0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBFC0C1C2C3C4C5C6C7C8C9CACBCCCDCECFD0D1D2D3D4D5D6D7D8D9DADBDCDDDEDFE0E1E2E3E4E5E6E7E8E9EAEBECEDEEEFF0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F202122232425262728292A2B2C2D2E2F303132333435363738393A3B3C3D3E3F404142434445464748494A4B4C4D4E4F505152535455565758595A5B5C5D5E5F606162636465666768696A6B6C6D6E6F707172737475767778797A7B7C7D7E7F"> : tensor<1x256xi8>
  %q1 = graph.requantize %c1 scale 0.5 : (tensor<1x2x2x1xi8>) -> tensor<1x2x2x1xi8>
  %k1 = graph.concat %x, %q1 axis 3 : (tensor<1x2x2x2xi8>, tensor<1x2x2x1xi8>) -> tensor<1x2x2x3xi8>
  %l0 = graph.lut %k1, %t0 : (tensor<1x2x2x3xi8>, tensor<1x256xi8>) -> tensor<1x2x2x3xi8>
  %q2 = graph.requantize %c2 scale 2.0 : (tensor<1x2x2x1xi8>) -> tensor<1x2x2x1xi8>
  %k2 = graph.concat %k1, %q2 axis 3 : (tensor<1x2x2x3xi8>, tensor<1x2x2x1xi8>) -> tensor<1x2x2x4xi8>
  %l1 = graph.lut %k2, %t0 : (tensor<1x2x2x4xi8>, tensor<1x256xi8>) -> tensor<1x2x2x4xi8>
  func.return %l0, %l1, %q2 : tensor<1x2x2x3xi8>, tensor<1x2x2x4xi8>, tensor<1x2x2x1xi8>
}

// -----

// (d) Unused Pure graph ops (a relu, a constant) are erased; what func.return reads stays.
// CHECK-LABEL: func.func @dead_code
// CHECK-NEXT:    %kept = graph.relu %x
// CHECK-NEXT:    func.return %kept
func.func @dead_code(%x: tensor<4x2xi8>) -> tensor<4x2xi8> {
  %unused = graph.constant dense<1> : tensor<2xi8>
  %dead = graph.relu %x : (tensor<4x2xi8>) -> tensor<4x2xi8>
  %kept = graph.relu %x : (tensor<4x2xi8>) -> tensor<4x2xi8>
  func.return %kept : tensor<4x2xi8>
}

// -----

// A concat of a branch output and a requantized branch output (Inception, SqueezeNet), read
// by a max pool: it becomes a lookup whose identity rows copy %a and whose other rows are
// the requantize, which goes. A requantize that the return also reads would stay.
// CHECK-LABEL: func.func @concat_of_requantized_branch
// CHECK-NEXT:    %table = graph.constant dense<"0x8081{{[0-9A-F]+}}7E7F{{[0-9A-F]+}}"> : tensor<3x256xi8>
// CHECK-NEXT:    %k = graph.lut %a, %b table %table : (tensor<1x2x2x2xi8>, tensor<1x2x2x1xi8>, tensor<3x256xi8>) -> tensor<1x2x2x3xi8>
// CHECK-NEXT:    %p = graph.maxpool %k
// CHECK-NOT:     graph.requantize
// CHECK-NOT:     graph.concat
func.func @concat_of_requantized_branch(%a: tensor<1x2x2x2xi8>, %b: tensor<1x2x2x1xi8>) -> tensor<1x1x1x3xi8> {
  %q = graph.requantize %b scale 0.5 : (tensor<1x2x2x1xi8>) -> tensor<1x2x2x1xi8>
  %k = graph.concat %a, %q axis 3 : (tensor<1x2x2x2xi8>, tensor<1x2x2x1xi8>) -> tensor<1x2x2x3xi8>
  %p = graph.maxpool %k kernel [2, 2] stride [2, 2] padding [0, 0, 0, 0] : (tensor<1x2x2x3xi8>) -> tensor<1x1x1x3xi8>
  func.return %p : tensor<1x1x1x3xi8>
}

// -----

// Without a unary producer that only it reads, a concat stays a concat.
// CHECK-LABEL: func.func @plain_concat
// CHECK:         %k = graph.concat %a, %q axis 3
// CHECK-NOT:     graph.lut
func.func @plain_concat(%a: tensor<1x2x2x2xi8>, %b: tensor<1x2x2x1xi8>) -> (tensor<1x1x1x3xi8>, tensor<1x2x2x1xi8>) {
  %q = graph.requantize %b scale 0.5 : (tensor<1x2x2x1xi8>) -> tensor<1x2x2x1xi8>
  %k = graph.concat %a, %q axis 3 : (tensor<1x2x2x2xi8>, tensor<1x2x2x1xi8>) -> tensor<1x2x2x3xi8>
  %p = graph.maxpool %k kernel [2, 2] stride [2, 2] padding [0, 0, 0, 0] : (tensor<1x2x2x3xi8>) -> tensor<1x1x1x3xi8>
  func.return %p, %q : tensor<1x1x1x3xi8>, tensor<1x2x2x1xi8>
}
