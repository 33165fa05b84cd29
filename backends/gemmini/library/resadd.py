"""The vendor library's int8 residual add (``tiled_resadd_auto`` / ``tiled_resadd`` /
``sp_tiled_resadd`` / ``resadd_cpu`` in gemmini.h, gemmini-rocc-tests branch ``dosa``).

C = clip(ACC_SCALE(MVIN_SCALE(A, A_scale) + MVIN_SCALE(B, B_scale), C_scale), relu ? 0 : -128, 127)
for two I x J int8 matrices, computed by the accumulator alone (no matmul):

* tiling (``tiled_resadd_auto``): start from the whole matrix and shrink the larger of
  (tile_I, tile_J) by one element at a time until the tile's accumulator rows,
  ceil(tile_I/DIM)*DIM * ceil(tile_J/DIM), fit ACC_ROWS (the whole accumulator: the
  library does not double-buffer here).
* stream (``tiled_resadd``): config_st (row stride J, ReLU or none, acc scale C_scale),
  config_ex (WS, no activation), config_ld 0 / 1 (row stride J, scale A_scale / B_scale,
  shrunk = int8 into the accumulator, block stride DIM); then per tile (i outer, j inner)
  three phases over DIM-row x (blocks*DIM)-column pieces: MVIN A into the accumulator
  (overwrite), MVIN2 B onto the same rows (accumulate bit), MVOUT C from them (scaled,
  activated, int8). A fence ends the stream.

The accumulator row of piece (i, j) of a tile is ``i * ceil(J_tile/DIM) + j``: DIM-row
groups of one tile row lie side by side, each DIM-column block in its own DIM rows.
Hardware sizes (DIM, ACC_ROWS, MAX_BLOCK_LEN = widest scratchpad-type mvin) come from the
:class:`~gemforge.target.Target`.

**Numerics.** The mvin scale unit rounds half-to-even in fp32 and saturates to the *input*
type even when the destination is the accumulator, and the move-out scales in fp32 again;
:func:`resadd_reference` computes exactly that. Expressing ``graph.add``'s
``y = sat(rne(a*sa + b*sb))`` this way is lossy (see :func:`resadd_scales`).
"""

from __future__ import annotations

import numpy as np

from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.library.matmul_tiling import TilingError
from gemforge.backends.gemmini.program import Program, Tensor
from gemforge.errors import GemforgeError
from gemforge.target import Target

F32 = np.float32
INT8_MIN, INT8_MAX = -128, 127
# |scale| * 128 <= NO_SAT_BOUND: no int8 input can leave the int8 range after mvin scaling.
NO_SAT_BOUND = 127.5


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def acc_rows_needed(tile_i: int, tile_j: int, dim: int) -> int:
    """Accumulator rows one resadd tile occupies (the library's ``total_acc_rows``)."""
    return _ceil_div(tile_i, dim) * dim * _ceil_div(tile_j, dim)


def resadd_tiling(I: int, J: int, target: Target) -> tuple[int, int]:
    """``tiled_resadd_auto``'s (tile_I, tile_J) for an I x J residual add.

    The library decrements the larger tile size by one until the tile fits the accumulator;
    since fitting is monotone in each size, each run of decrements of one size is taken in a
    single jump (to the largest fitting size, or to where the other size becomes the larger).
    """
    if I < 1 or J < 1:
        raise TilingError(f"resadd tiling: matrix {I} x {J} has a non-positive extent")
    dim, acc = target.dim, target.acc_rows
    ti, tj = I, J
    while ti >= 1 and tj >= 1 and acc_rows_needed(ti, tj, dim) > acc:
        if ti >= tj:  # shrink ti while ti >= tj and it does not fit
            fit = dim * (acc // (dim * _ceil_div(tj, dim)))
            ti = max(fit, tj - 1)
        else:  # shrink tj while tj > ti and it does not fit
            fit = dim * (acc // (dim * _ceil_div(ti, dim)))
            tj = max(fit, ti)
    if ti < 1 or tj < 1:
        raise TilingError(f"resadd tiling: target {target.name} has fewer than {dim} accumulator rows "
                          f"({acc}): not even one {dim}-column block fits")
    return ti, tj


def resadd_scales(scale_a: float, scale_b: float) -> tuple[float, float, float]:
    """(A_scale, B_scale, C_scale) expressing ``graph.add``'s y = sat(rne(a*scale_a + b*scale_b)).

    When both |scale| * 128 <= 127.5, no scaled int8 input can saturate in the mvin scale
    unit, so the scales pass through with C_scale = 1. Otherwise both are divided by
    k = max(|scale_a|, |scale_b|) * 128 / 127.5 (> 1) and C_scale = k restores the magnitude.

    Error versus the exact form (both rounding in fp32, before the final clip, which can
    only shrink it): each mvin rounding moves its term by <= 0.5 input units, i.e. by
    <= 0.5 * C_scale after the move-out. With C_scale = 1 the sum is already an integer,
    so the result is off by at most 1 LSB; with C_scale = k the move-out rounds once more
    and the result is off by at most floor(k) + 1 LSB. It is not always exact: a = b = 1,
    scale_a = scale_b = 0.5 gives rne(0.5) + rne(0.5) = 0 where graph.add gives rne(1) = 1.
    (For a negative scale with |scale| * 128 exactly 127.5, a = -128 maps to +127.5 -> 128,
    which saturates to 127: one more LSB at that single point.)
    """
    sa, sb = float(scale_a), float(scale_b)
    if max(abs(sa), abs(sb)) * 128 <= NO_SAT_BOUND:
        return sa, sb, 1.0
    k = max(abs(sa), abs(sb)) * 128 / NO_SAT_BOUND
    return sa / k, sb / k, k


def _scale_sat(x: np.ndarray, scale: float) -> np.ndarray:
    """rne(fp32(x) * fp32(scale)) saturated to int8, as int64 (the hardware's scale units)."""
    return np.clip(np.rint(x.astype(F32) * F32(scale)), INT8_MIN, INT8_MAX).astype(np.int64)


def resadd_reference(a: np.ndarray, b: np.ndarray, A_scale: float, B_scale: float, C_scale: float,
                     relu: bool) -> np.ndarray:
    """The int8 result of ``resadd_cpu``'s formula, with the hardware's fp32 arithmetic.

    MVIN_SCALE (skipped at scale 1, which is exact anyway) saturates each scaled input to
    int8; the int32 sum is scaled by C_scale in fp32 on move-out, rounded half-to-even and
    clipped to [relu ? 0 : -128, 127].
    """
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        raise GemforgeError(f"resadd reference: operand shapes {a.shape} and {b.shape} differ")
    total = _scale_sat(a, A_scale) + _scale_sat(b, B_scale)
    y = np.clip(np.rint(total.astype(F32) * F32(C_scale)), 0 if relu else INT8_MIN, INT8_MAX)
    return y.astype(np.int8)


def _check_operands(name: str, a: Tensor, b: Tensor, out: Tensor, target: Target) -> tuple[int, int]:
    """(I, J) of the operands, or a one-line error naming ``name``."""
    want = np.dtype(f"int{target.input_bits}").name
    for role, t in (("a", a), ("b", b), ("out", out)):
        if t.dtype != want:
            raise GemforgeError(f"resadd {name}: operand {role} ({t.name}) has dtype {t.dtype}, expected {want}")
        if not t.shape:
            raise GemforgeError(f"resadd {name}: operand {role} ({t.name}) is a scalar")
    if not a.shape == b.shape == out.shape:
        raise GemforgeError(f"resadd {name}: shapes differ (a {a.shape}, b {b.shape}, out {out.shape})")
    J = a.shape[-1]
    return a.size // J, J


def _check_tiles(name: str, tiles, I: int, J: int, target: Target) -> tuple[int, int]:
    try:
        ti, tj = (int(x) for x in tiles)
    except (TypeError, ValueError):
        raise TilingError(f"resadd {name}: tiles {tiles!r} are not two integers") from None
    if ti < 1 or tj < 1:
        raise TilingError(f"resadd {name}: tiles ({ti}, {tj}) must be positive")
    # A tile larger than the matrix is clipped to it, as tiled_resadd does.
    need = acc_rows_needed(min(ti, I), min(tj, J), target.dim)
    if need > target.acc_rows:
        raise TilingError(f"resadd {name}: tiles ({ti}, {tj}) need {need} accumulator rows, "
                          f"target {target.name} has {target.acc_rows}")
    return ti, tj


def emit_resadd(program: Program, name: str, a: Tensor, b: Tensor, out: Tensor, A_scale: float, B_scale: float,
                C_scale: float, relu: bool, target: Target, tiles: tuple[int, int] | None = None) -> tuple[int, int]:
    """Append ``tiled_resadd``'s whole stream for out = resadd(a, b) to ``program``.

    ``a``, ``b``, ``out``: int8 tensors of one shape, seen as I x J with J the last
    dimension (NHWC: I = N*H*W, J = C). ``tiles`` = (tile_I, tile_J) in elements, default
    :func:`resadd_tiling`. Returns the tiles used. Bad operands or tiles raise a one-line
    :class:`~gemforge.errors.GemforgeError` naming ``name``.
    """
    I, J = _check_operands(name, a, b, out, target)
    tile_i, tile_j = resadd_tiling(I, J, target) if tiles is None else _check_tiles(name, tiles, I, J, target)
    dim = target.dim
    max_blocks = target.dma_max_spad_mvin_blocks  # the header's MAX_BLOCK_LEN
    widest = min(_ceil_div(min(tile_j, J), dim), max_blocks)
    if widest > target.dma_max_mvout_blocks:
        raise GemforgeError(f"resadd {name}: the library moves out {widest} blocks at once, target "
                            f"{target.name} allows {target.dma_max_mvout_blocks}")
    row_bytes = J * a.itemsize
    program.emit(
        isa.config_st(row_bytes, act=isa.RELU if relu else isa.NO_ACTIVATION, scale=C_scale),
        isa.config_ex(isa.WEIGHT_STATIONARY, act=isa.NO_ACTIVATION, a_stride=1, acc_scale=1.0, c_stride=1),
        isa.config_ld(row_bytes, scale=A_scale, shrunk=True, block_stride=dim, which=0),
        isa.config_ld(row_bytes, scale=B_scale, shrunk=True, block_stride=dim, which=1),
    )
    for i0 in range(0, I, tile_i):
        for j0 in range(0, J, tile_j):
            _emit_tile(program, a, b, out, J, i0, j0, min(tile_i, I - i0), min(tile_j, J - j0), target)
    program.emit(isa.fence())
    return tile_i, tile_j


def _emit_tile(program: Program, a: Tensor, b: Tensor, out: Tensor, J: int, i0: int, j0: int, rows_i: int,
               cols_j: int, target: Target) -> None:
    """``sp_tiled_resadd`` on the rows_i x cols_j window at (i0, j0): mvin A, mvin2 B, mvout C."""
    dim = target.dim
    blocks = min(_ceil_div(cols_j, dim), target.dma_max_spad_mvin_blocks)
    blocks_per_row = _ceil_div(cols_j, dim)  # rounded_up_J / DIM
    pieces = [(i, j, min(dim, rows_i - i), min(blocks * dim, cols_j - j))
              for i in range(0, rows_i, dim) for j in range(0, cols_j, blocks * dim)]

    def dram(t: Tensor, i: int, j: int) -> int:
        return t.addr + ((i0 + i) * J + j0 + j) * t.itemsize

    for i, j, rows, cols in pieces:
        program.emit(isa.mvin(dram(a, i, j), isa.acc(i * blocks_per_row + j), rows, cols, which=0))
    for i, j, rows, cols in pieces:
        program.emit(isa.mvin(dram(b, i, j), isa.acc(i * blocks_per_row + j, accumulate=True), rows, cols, which=1))
    for i, j, rows, cols in pieces:
        program.emit(isa.mvout(dram(out, i, j), isa.acc(i * blocks_per_row + j), rows, cols))
