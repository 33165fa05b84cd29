"""Reference programs built directly with the Program builder (tests, benchmarks, examples).

* :func:`gemm_fine`: ``C = sat(rne((A @ B + bias) * scale))`` (optionally ReLU), tiled
  weight-stationary with explicit mvin / preload / compute / mvout.  When the sizes are
  multiples of the tile it is written with Program loops (so it stays small) and
  double-buffers A and B between two scratchpad regions; otherwise edges are emitted
  with Python-level loops.
* :func:`gemm_loop_ws`: the same computation, one LOOP_WS per tile, as gemmini.h's
  ``tiled_matmul_ws`` does (bias only at k0 = 0, output only at the last k0).
"""

from __future__ import annotations

import numpy as np

from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.program import Program
from gemforge.target import Target


def gemm_reference(a, b, bias=None, scale=1.0, relu=False) -> np.ndarray:
    acc = a.astype(np.int64) @ b.astype(np.int64)
    if bias is not None:
        acc = acc + bias.astype(np.int64)
    acc = acc.astype(np.int32)
    y = np.clip(np.rint(acc.astype(np.float32) * np.float32(scale)), -128, 127)
    if relu:
        y = np.maximum(y, 0)
    return y.astype(np.int8)


def _tensors(p: Program, M, K, N, bias: bool):
    a = p.add_tensor("A", (M, K), "int8", "input")
    b = p.add_tensor("B", (K, N), "int8", "input")
    d = p.add_tensor("bias", (N,), "int32", "input") if bias else None
    c = p.add_tensor("C", (M, N), "int8", "output")
    return a, b, d, c


def _configs(p: Program, t: Target, K, N, scale, relu):
    p.emit(isa.config_ex(isa.WEIGHT_STATIONARY),
           isa.config_ld(K, block_stride=t.dim, which=0),
           isa.config_ld(N, block_stride=t.dim, which=1),
           isa.config_ld(0, block_stride=t.dim, which=2),
           isa.config_st(N, act=isa.RELU if relu else 0, scale=scale))


def gemm_fine(M: int, K: int, N: int, t: Target, *, tile=(4, 4, 4), bias=False, scale=1.0, relu=False,
              name="gemm_fine") -> Program:
    """Fine-grained WS GEMM (see module docstring); ``tile`` = (TI, TJ, TK) in DIM blocks."""
    dim = t.dim
    TI, TJ, TK = tile
    p = Program(t.name, name)
    A, B, D, C = _tensors(p, M, K, N, bias)
    _configs(p, t, K, N, scale, relu)
    nI, nJ, nK = -(-M // (TI * dim)), -(-N // (TJ * dim)), -(-K // (TK * dim))
    regular = M % (TI * dim) == 0 and N % (TJ * dim) == 0 and K % (TK * dim) == 0 and nK % 2 == 0
    buf_rows = (TI * TK + TK * TJ) * dim
    assert 2 * buf_rows <= t.spad_rows and TI * TJ * dim <= t.acc_rows, "tile does not fit"

    def size(total, base, n):
        """Rows/cols of a block starting at ``base`` (symbolic bases are always full)."""
        if not isinstance(base, int):
            return n
        return max(0, min(n, total - base))

    def tile_body(i0, j0, k0, buf):
        a_base, b_base = buf * buf_rows, buf * buf_rows + TI * TK * dim
        for i in range(TI):
            for kb in range(TK):
                r0, c0 = (i0 * TI + i) * dim, (k0 * TK + kb) * dim
                rows, cols = size(M, r0, dim), size(K, c0, dim)
                if rows and cols:
                    p.emit(isa.mvin(A.addr + r0 * K + c0, isa.spad(a_base + (i * TK + kb) * dim), rows, cols, 0))
        for kb in range(TK):
            for jb in range(TJ):
                r0, c0 = (k0 * TK + kb) * dim, (j0 * TJ + jb) * dim
                rows, cols = size(K, r0, dim), size(N, c0, dim)
                if rows and cols:
                    p.emit(isa.mvin(B.addr + r0 * N + c0, isa.spad(b_base + (kb * TJ + jb) * dim), rows, cols, 1))
        for kb in range(TK):
            kk = size(K, (k0 * TK + kb) * dim, dim)
            for jb in range(TJ):
                cols = size(N, (j0 * TJ + jb) * dim, dim)
                for i in range(TI):
                    rows = size(M, (i0 * TI + i) * dim, dim)
                    if not (rows and cols and kk):
                        continue
                    first = isinstance(k0, int) and k0 == 0 and kb == 0 and not bias
                    c_addr = isa.acc((i * TJ + jb) * dim, accumulate=not first)
                    b_addr = isa.spad(b_base + (kb * TJ + jb) * dim) if i == 0 else isa.GARBAGE
                    p.emit(isa.preload(b_addr, c_addr, kk, cols, rows, cols))
                    p.emit(isa.compute(isa.spad(a_base + (i * TK + kb) * dim), isa.GARBAGE, rows, kk, dim, dim,
                                       preloaded=i == 0))

    def out_tile(i0, j0, before):
        for i in range(TI):
            for jb in range(TJ):
                r0, c0 = (i0 * TI + i) * dim, (j0 * TJ + jb) * dim
                rows, cols = size(M, r0, dim), size(N, c0, dim)
                if not (rows and cols):
                    continue
                local = (i * TJ + jb) * dim
                if before and D is not None:
                    p.emit(isa.mvin(D.addr + c0 * 4, isa.acc(local), rows, cols, 2))
                elif not before:
                    p.emit(isa.mvout(C.addr + r0 * N + c0, isa.acc(local), rows, cols))

    if regular:
        # k0 = 0 must overwrite (no bias): peel it; then pairs of k0 alternate buffers.
        with p.loop(nI, "i0") as i0, p.loop(nJ, "j0") as j0:
            out_tile(i0, j0, True)
            tile_body(i0, j0, 0, 0)
            tile_body(i0, j0, 1, 1) if nK > 1 else None
            if nK > 2:
                with p.loop((nK - 2) // 2, "k0") as k2:
                    tile_body(i0, j0, k2 * 2 + 2, 0)
                    tile_body(i0, j0, k2 * 2 + 3, 1)
            out_tile(i0, j0, False)
    else:
        for i0 in range(nI):
            for j0 in range(nJ):
                out_tile(i0, j0, True)
                for k0 in range(nK):
                    tile_body(i0, j0, k0, k0 % 2)
                out_tile(i0, j0, False)
    p.emit(isa.fence())
    return p


def gemm_loop_ws(M: int, K: int, N: int, t: Target, *, tile=(4, 4, 4), bias=False, scale=1.0, relu=False,
                 name="gemm_loop_ws") -> Program:
    """The GEMM with one LOOP_WS per tile (padding the edges), as gemmini.h does."""
    dim = t.dim
    TI, TJ, TK = tile
    p = Program(t.name, name)
    A, B, D, C = _tensors(p, M, K, N, bias)
    _configs(p, t, K, N, scale, relu)
    bI, bJ, bK = -(-M // dim), -(-N // dim), -(-K // dim)
    nI, nJ, nK = -(-bI // TI), -(-bJ // TJ), -(-bK // TK)
    for i0 in range(nI):
        for j0 in range(nJ):
            for k0 in range(nK):
                I, J, Kt = min(TI, bI - i0 * TI), min(TJ, bJ - j0 * TJ), min(TK, bK - k0 * TK)
                pad_I = (i0 * TI + I) * dim - M if i0 == nI - 1 else 0
                pad_J = (j0 * TJ + J) * dim - N if j0 == nJ - 1 else 0
                pad_K = (k0 * TK + Kt) * dim - K if k0 == nK - 1 else 0
                r0, c0, kk = i0 * TI * dim, j0 * TJ * dim, k0 * TK * dim
                d_addr = D.addr + c0 * 4 if (bias and k0 == 0) else 0
                c_addr = C.addr + r0 * N + c0 if k0 == nK - 1 else 0
                p.emit(isa.loop_ws(I, J, Kt, pad_I, pad_J, pad_K, A.addr + r0 * K + kk, B.addr + kk * N + c0,
                                   d_addr, c_addr, K, N, 0, N, 0, 0, 0, 0, int(bias or k0 > 0)))
    p.emit(isa.fence())
    return p


def conv_reference(x, w, bias=None, stride=1, padding=0, scale=1.0, relu=False, pool=None) -> np.ndarray:
    """NHWC int8 input, HWIO int8 weights -> NHWC int8 (int32 accumulation, Gemmini rounding);
    ``pool`` = (size, stride, padding) max pooling after the activation (padding never wins)."""
    n, h, wd, c = x.shape
    k, oc = w.shape[0], w.shape[3]
    oh, ow = (h + 2 * padding - k) // stride + 1, (wd + 2 * padding - k) // stride + 1
    xp = np.zeros((n, h + 2 * padding, wd + 2 * padding, c), np.int64)
    xp[:, padding:padding + h, padding:padding + wd] = x
    acc = np.zeros((n, oh, ow, oc), np.int64)
    for kr in range(k):
        for kc in range(k):
            patch = xp[:, kr:kr + stride * oh:stride, kc:kc + stride * ow:stride]
            acc += patch @ w[kr, kc].astype(np.int64)
    if bias is not None:
        acc += bias.astype(np.int64)
    y = np.clip(np.rint(acc.astype(np.int32).astype(np.float32) * np.float32(scale)), -128, 127)
    if relu:
        y = np.maximum(y, 0)
    if pool:
        size, ps, pp = pool
        ph, pw = (oh + 2 * pp - size) // ps + 1, (ow + 2 * pp - size) // ps + 1
        yp = np.full((n, oh + 2 * pp, ow + 2 * pp, oc), -np.inf)
        yp[:, pp:pp + oh, pp:pp + ow] = y
        y = np.max([yp[:, i:i + ps * ph:ps, j:j + ps * pw:ps] for i in range(size) for j in range(size)], axis=0)
    return y.astype(np.int8)


def conv_loop_conv_ws(N: int, H: int, W: int, C: int, OC: int, k: int, stride: int, padding: int, t: Target, *,
                      bias=False, scale=1.0, relu=False, pool=None, tile_och=None, tile_ich=None, tile_rows=None,
                      name="conv_loop_conv_ws") -> Program:
    """A convolution (NHWC, HWIO weights) as LOOP_CONV_WS tiles over output rows, output
    channels and input channels (kernel whole; with ``pool`` the image rows are not tiled)."""
    dim = t.dim
    p = Program(t.name, name)
    X = p.add_tensor("X", (N, H, W, C), "int8", "input")
    Wt = p.add_tensor("W", (k, k, C, OC), "int8", "input")
    Bt = p.add_tensor("bias", (OC,), "int32", "input") if bias else None
    OH, OW = (H + 2 * padding - k) // stride + 1, (W + 2 * padding - k) // stride + 1
    ps, pst, ppad = pool if pool else (1, 1, 0)
    POH, POW = (OH + 2 * ppad - ps) // pst + 1, (OW + 2 * ppad - ps) // pst + 1
    Y = p.add_tensor("Y", (N, POH, POW, OC), "int8", "output")
    act = isa.RELU if relu else 0
    p.emit(isa.config_st(OC, act=act, scale=scale), isa.config_ex(isa.WEIGHT_STATIONARY, a_stride=stride))
    och_t = min(OC, tile_och or 2 * dim)
    ich_t = min(C, tile_ich or 2 * dim)
    if pool:
        rows_t = OH
    else:
        rows_t = tile_rows or max(1, (t.acc_rows // 2) // (-(-och_t // dim) * N * OW))
        rows_t = min(rows_t, OH)
    dummy_bias = Bt.addr if Bt else X.addr  # a non-zero address: with no_bias the unroller moves in zeros
    for orow0 in range(0, OH, rows_t):
        orows = min(rows_t, OH - orow0)
        top = orow0 * stride - padding
        upad = max(0, -top)
        # The unroller reads orows * stride + k - 1 input rows (one stride more than needed)
        dpad = max(0, top + orows * stride + k - 1 - H)
        lpad = padding
        rpad = max(0, -padding + OW * stride + k - 1 - W)
        first_row = top + upad
        for och0 in range(0, OC, och_t):
            pochs = min(och_t, OC - och0)
            for ich0 in range(0, C, ich_t):
                kchs = min(ich_t, C - ich0)
                first, last = ich0 == 0, ich0 + ich_t >= C
                args = dict(
                    batch_size=N, in_row_dim=H, in_col_dim=W, in_channels=C, out_channels=OC, out_row_dim=OH,
                    out_col_dim=OW, pool_out_row_dim=POH, pool_out_col_dim=POW, stride=stride, padding=padding,
                    kernel_dim=k, kernel_dilation=1, pool_size=ps, pool_stride=pst, pool_padding=ppad, batches=N,
                    porows=POH if pool else orows, pocols=POW if pool else OW, pochs=pochs, krows=k, kcols=k,
                    kchs=kchs, lpad=lpad, rpad=rpad, upad=upad, dpad=dpad, plpad=ppad if pool else 0,
                    prpad=max(0, POW * pst + ps - 1 - ppad - OW) if pool else 0, pupad=ppad if pool else 0,
                    pdpad=max(0, POH * pst + ps - 1 - ppad - OH) if pool else 0, orows=orows, ocols=OW,
                    weights=Wt.addr + ich0 * OC + och0,
                    output=(Y.addr + (orow0 * OW * OC if not pool else 0) + och0) if last else 0,
                    bias=((Bt.addr + och0 * 4) if bias else dummy_bias) if first else 0,
                    input=X.addr + (first_row * W * C) + ich0, no_bias=int(not bias), no_pool=int(not pool),
                    downsample=0, wrot180=0, input_dilated=0, activation=act, trans_output_1203=0,
                    trans_weight_1203=0, trans_weight_0132=0, trans_input_3120=0, max_pixels_per_row=1,
                    in_stride=C, weight_stride=OC, out_stride=OC, dw=0, a_spad_id=0, b_spad_id=0)
                p.emit(isa.loop_conv_ws(**args))
    p.emit(isa.fence())
    return p
