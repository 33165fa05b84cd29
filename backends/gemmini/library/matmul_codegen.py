"""The instruction stream of the vendor library's weight-stationary matmul
(``tiled_matmul_outer`` + ``sp_tiled_matmul_ws`` in gemmini.h).

The host configures the execute, store and three load units once, then walks the tiles
i0 -> j0 -> k0 and issues one LOOP_WS (six RoCC words) per tile: the bias goes in only
with the first k0 tile (else D = 0 and the tile accumulates onto the previous partial
sums), the output comes out only with the last k0 tile (else C = 0). When all of A or
all of B fits in two tiles, the library marks the operand reusable (a_spad_id /
b_spad_id) and passes a null address for tiles that can reuse what is already in the
scratchpad. A fence ends the layer.
"""

from __future__ import annotations

from dataclasses import dataclass

from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.library.matmul_tiling import MatmulTiling, padded_blocks
from gemforge.backends.gemmini.program import Program, Tensor
from gemforge.target import Target

ACTIVATIONS = {"none": isa.NO_ACTIVATION, "relu": isa.RELU}


@dataclass(frozen=True)
class MatmulOperands:
    """DRAM tensors of one matmul: A [M, K] (int8), B [K, N] (int8), optional bias D (int32,
    one row repeated for every output row, or [M, N]), C [M, N] (int8 or int32 if full_c)."""

    a: Tensor
    b: Tensor
    c: Tensor
    d: Tensor | None = None


def emit_tiled_matmul(program: Program, target: Target, m: int, k: int, n: int, ops: MatmulOperands,
                      tiling: MatmulTiling, *, activation: str = "none", output_scale: float = 1.0,
                      full_c: bool = False, operand_reuse: bool = True, fence: bool = True) -> int:
    """Append the library's instruction stream for C = act(scale * (A B + D)); returns the tile count.

    Strides are taken from the tensors' last dimension (row-major, possibly wider than the
    matrix, as the library's stride arguments allow).
    """
    dim = target.dim
    stride_a, stride_b, stride_c = ops.a.shape[-1], ops.b.shape[-1], ops.c.shape[-1]
    repeating_bias = ops.d is not None and (len(ops.d.shape) == 1 or ops.d.shape[0] == 1)
    stride_d = ops.d.shape[-1] if ops.d is not None else 0
    sizeof_d = ops.d.itemsize if ops.d is not None else target.acc_bytes
    low_d = ops.d is not None and ops.d.itemsize == target.input_bytes
    act = ACTIVATIONS[activation]

    blocks_i, blocks_j, blocks_k = (padded_blocks(x, dim) for x in (m, n, k))
    ti, tj, tk = tiling.tile_i, tiling.tile_j, tiling.tile_k
    n_i, n_j, n_k = -(-blocks_i // ti), -(-blocks_j // tj), -(-blocks_k // tk)
    last_i, last_j, last_k = blocks_i - (n_i - 1) * ti, blocks_j - (n_j - 1) * tj, blocks_k - (n_k - 1) * tk
    pad_i, pad_j, pad_k = blocks_i * dim - m, blocks_j * dim - n, blocks_k * dim - k

    program.emit(
        isa.config_ex(isa.WEIGHT_STATIONARY, act=act, a_stride=1, acc_scale=1.0, c_stride=1),
        isa.config_st(stride_c * ops.c.itemsize, act=act, scale=output_scale),
        isa.config_ld(stride_a * ops.a.itemsize, block_stride=dim, which=0),
        isa.config_ld(stride_b * ops.b.itemsize, block_stride=dim, which=1),
        isa.config_ld(0 if repeating_bias else stride_d * sizeof_d, shrunk=low_d, block_stride=dim, which=2),
    )

    # The library reuses an operand across tiles when it occupies at most two tiles.
    b_reuse = operand_reuse and n_j * n_k <= 2
    a_reuse = operand_reuse and n_i * n_k <= 2
    for i0 in range(n_i):
        for j0 in range(n_j):
            for k0 in range(n_k):
                a_id = (1 if i0 + k0 == 0 else 2) if a_reuse else 0
                b_id = (1 if j0 + k0 == 0 else 2) if b_reuse else 0
                a_addr = ops.a.addr + (i0 * ti * dim * stride_a + k0 * tk * dim) * ops.a.itemsize
                b_addr = ops.b.addr + (k0 * tk * dim * stride_b + j0 * tj * dim) * ops.b.itemsize
                if a_reuse and j0 >= 1:
                    a_addr = 0
                if b_reuse and i0 >= 1:
                    b_addr = 0
                d_addr = 0
                if ops.d is not None and k0 == 0:
                    bias_row = 0 if repeating_bias else i0 * ti * dim
                    d_addr = ops.d.addr + (bias_row * stride_d + j0 * tj * dim) * sizeof_d
                c_addr = ops.c.addr + (i0 * ti * dim * stride_c + j0 * tj * dim) * ops.c.itemsize if k0 == n_k - 1 else 0
                # No bias: the first k0 tile overwrites the accumulator, later ones add.
                ex_accumulate = ops.d is not None or k0 != 0
                program.emit(isa.loop_ws(
                    ti if i0 < n_i - 1 else last_i, tj if j0 < n_j - 1 else last_j, tk if k0 < n_k - 1 else last_k,
                    pad_i if i0 == n_i - 1 else 0, pad_j if j0 == n_j - 1 else 0, pad_k if k0 == n_k - 1 else 0,
                    a_addr, b_addr, d_addr, c_addr,
                    stride_a, stride_b, 0 if repeating_bias else stride_d, stride_c,
                    False, False, full_c, low_d, ex_accumulate, act, a_id, b_id,
                ))
    if fence:
        program.emit(isa.fence())
    return n_i * n_j * n_k
