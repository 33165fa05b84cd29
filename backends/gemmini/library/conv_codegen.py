"""The instruction stream of the vendor library's convolutions (``tiled_conv`` /
``tiled_conv_dw`` + ``sp_tiled_conv`` in gemmini.h).

After one config_st (output stride, activation, scale) and one config_ex (weight
stationary, the input-row stride), the host walks the tiles batch -> pooled rows ->
pooled cols -> output channels -> kernel rows -> kernel cols -> input channels and
issues one LOOP_CONV_WS (seven RoCC words) per tile, with the tile's padding worked out
at the image borders. The bias goes in with the first reduction tile only, the output
comes out with the last. When a whole operand fits in two tiles the library marks it
reusable (a_spad_id / b_spad_id) and passes a null address where it can be reused.
Depthwise layers take the library's ``tiled_conv_dw`` path: one channel per tile, the
weights stored channel-major ([C, KH, KW]). A fence ends the layer.
"""

from __future__ import annotations

from dataclasses import dataclass

from gemforge.backends.gemmini import isa
from gemforge.backends.gemmini.library.conv_tiling import ConvTiling, downsamples
from gemforge.backends.gemmini.library.matmul_codegen import ACTIVATIONS
from gemforge.backends.gemmini.program import Program, Tensor
from gemforge.layers import ConvLayer
from gemforge.target import Target


@dataclass(frozen=True)
class ConvOperands:
    """DRAM tensors of one conv: input NHWC, weights (HWIO, or [C, KH, KW] for depthwise),
    optional int32 bias [out_c], output NHWC (pooled)."""

    input: Tensor
    weights: Tensor
    output: Tensor
    bias: Tensor | None = None


@dataclass(frozen=True)
class _Geom:
    """The layer-wide quantities every tile of tiled_conv shares."""

    kernel: int
    stride: int
    padding: int
    dilation: int
    in_rows: int
    in_cols: int
    out_rows: int
    out_cols: int
    pool_size: int
    pool_stride: int
    pool_padding: int
    no_pool: bool
    downsample: bool

    @property
    def pool_out_rows(self) -> int:
        return (self.out_rows + 2 * self.pool_padding - self.pool_size) // self.pool_stride + 1

    @property
    def pool_out_cols(self) -> int:
        return (self.out_cols + 2 * self.pool_padding - self.pool_size) // self.pool_stride + 1


def _ceil_div(a: int, b: int) -> int:
    return max(1, -(-a // b))


def _tile_pads(g: _Geom, orow: int, ocol: int, krow: int, kcol: int, porows_: int, pocols_: int, krows_: int,
               kcols_: int) -> dict[str, int]:
    """Output-side (pooling) and input-side padding of one tile at its position."""
    ocols_ = pocols_ * g.pool_stride + g.pool_size - 1
    orows_ = porows_ * g.pool_stride + g.pool_size - 1
    plpad = -ocol if ocol < 0 else 0
    prpad = max(0, ocol + ocols_ - g.out_cols)
    pupad = -orow if orow < 0 else 0
    pdpad = max(0, orow + orows_ - g.out_rows)
    irow = max(orow, 0) * g.stride + krow * g.dilation - g.padding
    icol = max(ocol, 0) * g.stride + kcol * g.dilation - g.padding
    dkrows = krows_ + (g.dilation - 1) * (krows_ - 1)
    dkcols = kcols_ + (g.dilation - 1) * (kcols_ - 1)
    icols_ = (ocols_ - plpad - prpad) * g.stride + dkcols - 1
    irows_ = (orows_ - pupad - pdpad) * g.stride + dkrows - 1
    return dict(
        irow=irow, icol=icol,
        lpad=-icol if icol < 0 else 0, rpad=max(0, icol + icols_ - g.in_cols),
        upad=-irow if irow < 0 else 0, dpad=max(0, irow + irows_ - g.in_rows),
        plpad=plpad, prpad=prpad, pupad=pupad, pdpad=pdpad,
        orows=orows_ - pupad - pdpad, ocols=ocols_ - plpad - prpad,
    )


def _max_pixels_per_row(g: _Geom, kchs: int, kcols: int, dim: int, enabled: bool) -> int:
    # The library's first-layer optimisation packs several kernel columns into one
    # DIM-wide row when the channels are few (HAS_FIRST_LAYER_OPTIMIZATIONS).
    if not enabled or g.downsample or g.dilation > 1 or kchs > dim:
        return 1
    return min(dim // kchs, kcols)


def _geometry(layer: ConvLayer, pool_size: int, pool_stride: int, pool_padding: int, downsample: bool = True) -> _Geom:
    no_pool = pool_stride == 0
    shortcut = downsamples(layer, pool_stride, downsample)  # the same decision as the tiling's
    if no_pool:
        pool_size, pool_stride, pool_padding = 1, 1, 0
    return _Geom(
        kernel=layer.kernel_h, stride=layer.stride, padding=layer.pad, dilation=layer.dilation,
        in_rows=layer.in_h, in_cols=layer.in_w, out_rows=layer.out_h, out_cols=layer.out_w,
        pool_size=pool_size, pool_stride=pool_stride, pool_padding=pool_padding, no_pool=no_pool,
        downsample=shortcut,
    )


def emit_tiled_conv(program: Program, target: Target, layer: ConvLayer, ops: ConvOperands, tiling: ConvTiling, *,
                    activation: str = "none", output_scale: float = 1.0, pool_size: int = 1, pool_stride: int = 0,
                    pool_padding: int = 0, operand_reuse: bool = True, first_layer_optimizations: bool = True,
                    fence: bool = True, downsample: bool = True) -> int:
    """Append the library's instruction stream for one convolution; returns the tile count.
    ``downsample=False`` switches the strided-1x1 shortcut off (DOSA's library)."""
    dim = target.dim
    g = _geometry(layer, pool_size, pool_stride, pool_padding, downsample)
    act = ACTIVATIONS[activation]
    dw = layer.depthwise
    in_ch, out_ch = layer.in_c, layer.out_c
    in_stride, out_stride = ops.input.shape[-1], ops.output.shape[-1]
    weight_stride = 1 if dw else ops.weights.shape[-1]
    ab, wb, ob = ops.input.itemsize, ops.weights.itemsize, ops.output.itemsize
    bias_bytes = ops.bias.itemsize if ops.bias is not None else target.acc_bytes
    # Without a bias the library passes a dummy non-null pointer (1) and sets no_bias.
    bias_base = ops.bias.addr if ops.bias is not None else 1

    program.emit(
        isa.config_st(out_stride * ob, act=act, scale=output_scale),
        isa.config_ex(isa.WEIGHT_STATIONARY, act=0, acc_scale=0.0, c_stride=1, a_stride=g.stride >> g.downsample),
    )

    t = tiling
    kchs, pochs = (1, 1) if dw else (t.kchs, t.pochs)
    ch_tiles = range(out_ch) if dw else range(0, out_ch, pochs)
    num_kch = 1 if dw else _ceil_div(in_ch, kchs)
    num_poch = _ceil_div(out_ch, pochs)
    num_b, num_porow, num_pocol = _ceil_div(layer.batch, t.batches), _ceil_div(g.pool_out_rows, t.porows), _ceil_div(g.pool_out_cols, t.pocols)
    num_krow, num_kcol = _ceil_div(g.kernel, t.krows), _ceil_div(g.kernel, t.kcols)
    b_reuse = operand_reuse and not dw and num_kch * num_poch * num_krow * num_kcol <= 2
    a_reuse = operand_reuse and not dw and num_kch * num_krow * num_kcol * num_b * num_porow * num_pocol <= 2

    tiles = 0
    for b in range(0, layer.batch, t.batches):
        for porow in range(0, g.pool_out_rows, t.porows):
            orow = porow * g.pool_stride - g.pool_padding
            for pocol in range(0, g.pool_out_cols, t.pocols):
                ocol = pocol * g.pool_stride - g.pool_padding
                for poch in ch_tiles:
                    for krow in range(0, g.kernel, t.krows):
                        for kcol in range(0, g.kernel, t.kcols):
                            for kch in ([0] if dw else range(0, in_ch, kchs)):
                                batches_ = min(t.batches, layer.batch - b)
                                porows_ = min(t.porows, g.pool_out_rows - porow)
                                pocols_ = min(t.pocols, g.pool_out_cols - pocol)
                                pochs_ = 1 if dw else min(pochs, out_ch - poch)
                                krows_ = min(t.krows, g.kernel - krow)
                                kcols_ = min(t.kcols, g.kernel - kcol)
                                kchs_ = 1 if dw else min(kchs, in_ch - kch)
                                p = _tile_pads(g, orow, ocol, krow, kcol, porows_, pocols_, krows_, kcols_)
                                last = krow + t.krows >= g.kernel and kcol + t.kcols >= g.kernel and (dw or kch + kchs >= in_ch)
                                first = krow == 0 and kcol == 0 and kch == 0
                                pix = b * g.pool_out_rows * g.pool_out_cols + porow * g.pool_out_cols + pocol
                                out_addr = ops.output.addr + (pix * out_stride + poch) * ob if last else 0
                                bias_addr = bias_base + poch * bias_bytes if first else 0
                                in_pix = b * g.in_rows * g.in_cols + (p["irow"] + p["upad"]) * g.in_cols + p["icol"] + p["lpad"]
                                in_addr = ops.input.addr + (in_pix * in_stride + (poch if dw else kch)) * ab
                                if dw:
                                    w_addr = ops.weights.addr + ((poch * g.kernel + krow) * g.kernel + kcol) * wb
                                else:
                                    w_row = krow * g.kernel * in_ch + kcol * in_ch + kch
                                    w_addr = ops.weights.addr + (w_row * weight_stride + poch) * wb
                                a_id = (1 if kch + krow + kcol + b + porow + pocol == 0 else 2) if a_reuse else 0
                                b_id = (1 if kch + poch + krow + kcol == 0 else 2) if b_reuse else 0
                                if b_reuse and pocol + porow + b > 0:
                                    w_addr = 0
                                if a_reuse and poch > 0:
                                    in_addr = 0
                                program.emit(isa.loop_conv_ws(
                                    batch_size=layer.batch, in_row_dim=g.in_rows, in_col_dim=g.in_cols,
                                    in_channels=in_ch, out_channels=out_ch, out_row_dim=g.out_rows,
                                    out_col_dim=g.out_cols, pool_out_row_dim=g.pool_out_rows,
                                    pool_out_col_dim=g.pool_out_cols, stride=g.stride, padding=g.padding,
                                    kernel_dim=g.kernel, kernel_dilation=g.dilation, pool_size=g.pool_size,
                                    pool_stride=g.pool_stride, pool_padding=g.pool_padding,
                                    batches=batches_, porows=porows_, pocols=pocols_, pochs=pochs_,
                                    krows=krows_, kcols=kcols_, kchs=kchs_,
                                    lpad=p["lpad"], rpad=p["rpad"], upad=p["upad"], dpad=p["dpad"],
                                    plpad=p["plpad"], prpad=p["prpad"], pupad=p["pupad"], pdpad=p["pdpad"],
                                    orows=p["orows"], ocols=p["ocols"],
                                    weights=w_addr, output=out_addr, bias=bias_addr, input=in_addr,
                                    no_bias=ops.bias is None, no_pool=g.no_pool, downsample=g.downsample,
                                    wrot180=False, input_dilated=False, activation=act,
                                    trans_output_1203=False, trans_weight_1203=False, trans_weight_0132=False,
                                    trans_input_3120=False,
                                    max_pixels_per_row=_max_pixels_per_row(g, kchs_, kcols_, dim, first_layer_optimizations),
                                    in_stride=in_stride, weight_stride=weight_stride, out_stride=out_stride,
                                    dw=dw, a_spad_id=a_id, b_spad_id=b_id,
                                ))
                                tiles += 1
    if fence:
        program.emit(isa.fence())
    return tiles
