"""Tile selection of the vendor library's convolution (``tiled_conv_auto`` and
``tiled_conv_dw_auto`` in gemmini.h).

Seven tile arguments (batches, pooled output rows, pooled output cols, output channels,
kernel rows, kernel cols, input channels) start at their full sizes. While one tile's
input + weight rows exceed half the scratchpad or its output rows exceed half the
accumulator, the largest argument shrinks (channels to a multiple of DIM or by DIM, the
rest by one; output cols are kept at >= DIM while output rows > 1). Then output cols grow
while they fit, and finally every argument grows by one, round-robin, while it fits.
Every size comes from the :class:`~gemforge.target.Target`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from gemforge.backends.gemmini.library.matmul_tiling import TilingError
from gemforge.layers import ConvLayer
from gemforge.target import Target

# Index of each argument in the library's args[] array.
_BATCH, _POROWS, _POCOLS, _POCHS, _KROWS, _KCOLS, _KCHS = range(7)


@dataclass(frozen=True)
class ConvTiling:
    """Tile sizes of a weight-stationary convolution (elements, not blocks)."""

    batches: int
    porows: int
    pocols: int
    pochs: int
    krows: int
    kcols: int
    kchs: int

    def as_args(self) -> list[int]:
        return [getattr(self, f.name) for f in fields(self)]

    def auto_tiling_string(self) -> str:
        """The FireSim CSV's ``dse.auto_tiling`` form R_S_Q_P_C_K_N."""
        return f"{self.krows}_{self.kcols}_{self.pocols}_{self.porows}_{self.kchs}_{self.pochs}_{self.batches}"


@dataclass(frozen=True)
class ConvGeometry:
    """What the library's row counting needs to know about a convolution."""

    stride: int
    kernel_dilation: int = 1
    downsample: bool = False
    pool_size: int = 1
    pool_stride: int = 1


def downsamples(layer: ConvLayer, pool_stride: int = 0, enabled: bool = True) -> bool:
    """The library's strided-1x1 shortcut: it moves in every other input pixel.

    ``tiled_conv``'s condition: it needs no pooling at all (``pool_stride == 0``; an
    explicit 1x1 pool with stride 1 already turns it off) and a dense layer.
    ``enabled=False``: a library without the shortcut (DOSA's, see calibration.py)."""
    return (
        enabled and not layer.depthwise
        and layer.stride == 2 and layer.kernel_h == 1 and layer.kernel_w == 1 and layer.pad == 0
        and pool_stride == 0 and layer.in_h % 2 == 0 and layer.in_w % 2 == 0
    )


def conv_rows(args: list[int], geom: ConvGeometry, dim: int) -> tuple[int, int]:
    """(scratchpad rows, accumulator rows) of one tile with the given seven arguments."""
    batches, porows, pocols, ochs, krows, kcols, kchs = args
    orows = porows * geom.pool_stride + geom.pool_size - 1
    ocols = pocols * geom.pool_stride + geom.pool_size - 1
    krows_d = krows + (geom.kernel_dilation - 1) * (krows - 1)
    kcols_d = kcols + (geom.kernel_dilation - 1) * (kcols - 1)
    # Padding is ignored on purpose: the library sizes the tile as if it were all input.
    irows = (orows * geom.stride + krows_d - 1) >> geom.downsample
    icols = (ocols * geom.stride + kcols_d - 1) >> geom.downsample
    ich_blocks = -(-kchs // dim)
    och_blocks = -(-ochs // dim)
    a_rows = ich_blocks * batches * irows * icols
    b_rows = och_blocks * kcols * krows * kchs
    c_rows = och_blocks * batches * orows * ocols
    return a_rows + b_rows, c_rows


def _auto(full: list[int], geom: ConvGeometry, target: Target, channel_idx: tuple[int, ...],
          where: str) -> tuple[list[int], int]:
    """The library's search: (tile arguments, candidate tiles it checked on the way)."""
    dim = target.dim
    max_spad, max_acc = target.spad_rows // 2, target.acc_rows // 2
    args = list(full)
    checked = 0

    def fits(a: list[int]) -> bool:
        nonlocal checked
        checked += 1
        spad, acc = conv_rows(a, geom, dim)
        return spad <= max_spad and acc <= max_acc

    while not fits(args):
        # The largest argument shrinks (first one wins ties); output cols are spared
        # at <= DIM while there is more than one output row, to keep the array busy.
        max_val, max_idx = -1, -1
        for i, v in enumerate(args):
            if i == _POCOLS and v <= dim and args[_POROWS] > 1:
                continue
            if v > max_val:
                max_val, max_idx = v, i
        if max_idx in channel_idx:
            v = args[max_idx]
            v = (v // dim) * dim if v % dim else v - dim
            args[max_idx] = max(v, 1)
        else:
            args[max_idx] -= 1
        if args[max_idx] < 1:
            raise TilingError(f"{where}: no tile fits half the scratchpad and half the accumulator of {target.name}")

    while args[_POCOLS] + 1 <= full[_POCOLS]:
        cand = list(args)
        cand[_POCOLS] += 1
        if not fits(cand):
            break
        args = cand

    grew = True
    while grew:
        grew = False
        for i in range(len(args)):
            cand = list(args)
            cand[i] += 1
            if cand[i] <= full[i] and fits(cand):
                args = cand
                grew = True
    return args, checked


def pooled_dims(layer: ConvLayer, pool_size: int, pool_stride: int, pool_padding: int) -> tuple[int, int]:
    """Pooled output (rows, cols); pool_stride 0 means no pooling."""
    if pool_stride == 0:
        return layer.out_h, layer.out_w
    return (
        (layer.out_h + 2 * pool_padding - pool_size) // pool_stride + 1,
        (layer.out_w + 2 * pool_padding - pool_size) // pool_stride + 1,
    )


def _geometry(layer: ConvLayer, pool_size: int, pool_stride: int, depthwise: bool, downsample: bool = True) -> ConvGeometry:
    if layer.kernel_h != layer.kernel_w:
        raise TilingError(f"layer {layer.name}: the library's conv needs a square kernel, got {layer.kernel_h}x{layer.kernel_w}")
    shortcut = downsamples(layer, pool_stride, downsample)  # before "no pool" becomes a 1x1 pool
    if pool_stride == 0:
        pool_size, pool_stride = 1, 1
    return ConvGeometry(
        stride=layer.stride,
        kernel_dilation=1 if depthwise else layer.dilation,
        downsample=shortcut,
        pool_size=pool_size,
        pool_stride=pool_stride,
    )


def conv_auto_tiling(layer: ConvLayer, target: Target, pool_size: int = 1, pool_stride: int = 0, pool_padding: int = 0,
                     downsample: bool = True) -> ConvTiling:
    """The tiling ``tiled_conv_auto`` (or ``tiled_conv_dw_auto`` for depthwise) picks.

    ``pool_stride == 0`` means no pooling, as in the library. For a depthwise layer the
    channel arguments are 1: the library runs one channel per tile. ``downsample=False``:
    a library whose strided-1x1 shortcut is switched off (DOSA's, see calibration.py).
    """
    return conv_auto_search(layer, target, pool_size, pool_stride, pool_padding, downsample)[0]


def conv_auto_search(layer: ConvLayer, target: Target, pool_size: int = 1, pool_stride: int = 0,
                     pool_padding: int = 0, downsample: bool = True) -> tuple[ConvTiling, int]:
    """:func:`conv_auto_tiling` and how many candidate tiles the search checks on the way.

    The library searches at run time, on the host, every time ``tiled_conv_auto`` is
    called: it shrinks the largest argument until the tile fits half the scratchpad and
    half the accumulator, then grows each argument by one while it still fits, checking
    every candidate with two ``tiled_conv_total_spad_rows`` calls (each with integer
    divisions).  A layer with many channels checks about a thousand candidates (c2048 ->
    624 input channels per tile: 1022), which the FireSim measurements include (issue #4).
    """
    porows, pocols = pooled_dims(layer, pool_size, pool_stride, pool_padding)
    if layer.depthwise:
        geom = _geometry(layer, pool_size, pool_stride, depthwise=True)
        full = [layer.batch, porows, pocols, 1, layer.kernel_h, layer.kernel_w, 1]
        args, checked = _auto(full, geom, target, channel_idx=(_POCHS,), where=f"layer {layer.name}")
    elif layer.groups == 1:
        geom = _geometry(layer, pool_size, pool_stride, depthwise=False, downsample=downsample)
        full = [layer.batch, porows, pocols, layer.out_c, layer.kernel_h, layer.kernel_w, layer.in_c]
        args, checked = _auto(full, geom, target, channel_idx=(_POCHS, _KCHS), where=f"layer {layer.name}")
    else:
        raise TilingError(f"layer {layer.name}: the library has no grouped conv (groups = {layer.groups}, not depthwise)")
    return ConvTiling(*args), checked


def check_conv_tiling(layer: ConvLayer, tiling: ConvTiling, target: Target, pool_size: int = 1, pool_stride: int = 0, pool_padding: int = 0,
                      downsample: bool = True) -> None:
    """Reject explicit tile sizes the library's ``tiled_conv`` would reject."""
    porows, pocols = pooled_dims(layer, pool_size, pool_stride, pool_padding)
    geom = _geometry(layer, pool_size, pool_stride, depthwise=layer.depthwise, downsample=downsample)
    where = f"layer {layer.name}: tiling {tiling.auto_tiling_string()}"
    if layer.depthwise and (tiling.pochs != 1 or tiling.kchs != 1):
        raise TilingError(f"{where}: a depthwise tile has one channel (pochs = kchs = 1)")
    chans = (1, 1) if layer.depthwise else (layer.out_c, layer.in_c)
    full = [layer.batch, porows, pocols, chans[0], layer.kernel_h, layer.kernel_w, chans[1]]
    for f, v, limit in zip(fields(ConvTiling), tiling.as_args(), full):
        if not 1 <= v <= limit:
            raise TilingError(f"{where}: {f.name} = {v} must be in 1..{limit}")
    spad, acc = conv_rows(tiling.as_args(), geom, target.dim)
    if spad > target.spad_rows // 2:
        raise TilingError(f"{where}: inputs and weights need {spad} scratchpad rows, budget {target.spad_rows // 2}")
    if acc > target.acc_rows // 2:
        raise TilingError(f"{where}: outputs need {acc} accumulator rows, budget {target.acc_rows // 2}")
    if layer.kernel_h <= layer.pad:
        raise TilingError(f"layer {layer.name}: the library needs kernel ({layer.kernel_h}) > padding ({layer.pad})")
