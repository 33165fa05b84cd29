"""The ``tile`` dialect: loops over tiles, buffers in the dram / spad / acc memory spaces.

The middle level of the flow (graph -> tile -> gemmini). Loops are ``scf.for`` and index
arithmetic is ``arith`` (remainder tiles: ``arith.minsi`` of the tile size and what is
left). Buffers are builtin memrefs whose memory space is ``#tile.space<dram|spad|acc>``:
DRAM tensors are function arguments (NHWC activations, weight matrices or HWIO kernels,
bias vectors); local buffers come from ``tile.alloc``. Ops:

``tile.alloc``   a scratchpad / accumulator buffer; ``address``/``bank`` set by allocate-scratchpad
``tile.load``    DRAM window -> buffer (remainders, zero padding, broadcast, scale, transpose)
``tile.matmul``  C[acc] (+)= A[spad] x B[spad] over strided views (convolutions included)
``tile.store``   buffer -> DRAM through the epilogue (scale, relu/clip, max-pool) or raw
``tile.fence``   wait for all issued tile ops (DRAM read-after-write)

Every op names the part of a buffer it touches as a *view* ``%buf[offsets] [sizes]``
(mixed static / ``index`` entries, see :mod:`gemforge.dialects.tile_view`); a view is a
matrix whose rows are its leading dimensions flattened row-major and whose columns are
its last dimension. How a buffer maps onto DIM-wide local rows is documented in
:mod:`gemforge.dialects.tile_attrs` (``AllocOp.rows(dim)``).

Semantics are sequential: each tile op completes before the next begins; the lowering
overlaps them where the hardware's dependence tracking allows. Live ranges: a buffer
lives from its ``tile.alloc`` to its last use in the same block (no dealloc op).
Double buffering: two ``tile.alloc`` s chosen per iteration with ``arith.select`` on the
iteration's parity; ops accept any memref value, and :func:`defining_allocs` maps a
buffer operand back to the allocs it may be. (Two separate allocs rather than one
``[2 x ...]`` buffer: a buffer's column blocks interleave its leading slots, which would
make the two halves' local address ranges overlap.)

A tiled matmul ``C[100x48] = relu(A[100x64] x B[64x48] + bias)``, 32x32 output tiles,
the last row tile a remainder of 4::

    %a = tile.alloc : memref<32x64xi8, #tile.space<spad>>
    %b = tile.alloc : memref<64x32xi8, #tile.space<spad>>
    %acc = tile.alloc : memref<32x32xi32, #tile.space<acc>>
    scf.for %i = %c0 to %c100 step %c32 {
      %rest = arith.subi %c100, %i : index
      %m = arith.minsi %rest, %c32 : index
      tile.load %A[%i, 0] [%m, 64] into %a[0, 0] : memref<100x64xi8, #tile.space<dram>> -> memref<32x64xi8, #tile.space<spad>>
      scf.for %j = %c0 to %c48 step %c32 {
        %nrest = arith.subi %c48, %j : index
        %n = arith.minsi %nrest, %c32 : index
        tile.load %B[0, %j] [64, %n] into %b[0, 0] : memref<64x48xi8, #tile.space<dram>> -> memref<64x32xi8, #tile.space<spad>>
        tile.load %bias[%j] [%m, %n] into %acc[0, 0] : memref<48xi32, #tile.space<dram>> -> memref<32x32xi32, #tile.space<acc>>
        tile.matmul %acc[0, 0] [%m, %n] += %a[0, 0] [%m, 64] * %b[0, 0] [64, %n] : memref<32x32xi32, #tile.space<acc>>, memref<32x64xi8, #tile.space<spad>>, memref<64x32xi8, #tile.space<spad>>
        tile.store %acc[0, 0] [%m, %n] into %C[%i, %j] scale 1.250000e-01 relu : memref<32x32xi32, #tile.space<acc>> -> memref<100x48xi8, #tile.space<dram>>
      }
    }

A tiled 3x3 convolution, stride 2, padding 1, ``x: 1x9x9x16 -> y: 1x5x5x32``, 2x2 output
tiles (the last a 1-pixel remainder). An output tile at ``(oh0, ow0)`` of ``th x tw``
pixels needs the zero-padded input window starting at ``(2*oh0 - 1, 2*ow0 - 1)`` of
``(2*th + 1) x (2*tw + 1)`` pixels; each kernel position ``(kh, kw)`` is one matmul whose
A rows are that window's pixels ``(kh + 2*oh, kw + 2*ow)``, read with stride 2::

    %in = tile.alloc : memref<1x5x5x16xi8, #tile.space<spad>>
    %w = tile.alloc : memref<3x3x16x32xi8, #tile.space<spad>>
    %acc = tile.alloc : memref<1x2x2x32xi32, #tile.space<acc>>
    tile.load %W[0, 0, 0, 0] [3, 3, 16, 32] into %w[0, 0, 0, 0] : ...
    scf.for %oh0 = %c0 to %c5 step %c2 {   // and %ow0 likewise; %h0, %ih, %th from arith
      tile.load %X[0, %h0, %w0, 0] [1, %ih, %iw, 16] into %in[0, 0, 0, 0] zero_pad : ...
      tile.load %bias[0] [1, %th, %tw, 32] into %acc[0, 0, 0, 0] : ...
      scf.for %kh = %c0 to %c3 step %c1 {
        scf.for %kw = %c0 to %c3 step %c1 {
          tile.matmul %acc[0, 0, 0, 0] [1, %th, %tw, 32]
              += %in[0, %kh, %kw, 0] [1, %th, %tw, 16] strides [1, 2, 2, 1]
              * %w[%kh, %kw, 0, 0] [1, 1, 16, 32] : ...
        }
      }
      tile.store %acc[0, 0, 0, 0] [1, %th, %tw, 32] into %Y[0, %oh0, %ow0, 0] scale 5.000000e-02 relu : ...
    }

Full versions of both are in ``tests/filecheck/dialects/tile/roundtrip.mlir``.
"""

from xdsl.ir import Dialect

from gemforge.dialects.tile_attrs import (
    ACC,
    DRAM,
    SPAD,
    Activation,
    ActivationAttr,
    MemorySpace,
    SpaceAttr,
    buffer_row_count,
    buffer_rows,
    buffer_type,
    element_position,
    memory_space,
)
from gemforge.dialects.tile_load import LoadOp
from gemforge.dialects.tile_matmul import MatmulOp
from gemforge.dialects.tile_memory import AllocOp, FenceOp, defining_allocs
from gemforge.dialects.tile_store import Pool, StoreOp
from gemforge.dialects.tile_view import Mixed, View, static_int

Tile = Dialect(
    "tile",
    [AllocOp, LoadOp, StoreOp, MatmulOp, FenceOp],
    [SpaceAttr, ActivationAttr],
)

__all__ = [
    "ACC",
    "DRAM",
    "SPAD",
    "Activation",
    "ActivationAttr",
    "AllocOp",
    "FenceOp",
    "LoadOp",
    "MatmulOp",
    "MemorySpace",
    "Mixed",
    "Pool",
    "SpaceAttr",
    "StoreOp",
    "Tile",
    "View",
    "buffer_row_count",
    "buffer_rows",
    "buffer_type",
    "defining_allocs",
    "element_position",
    "memory_space",
    "static_int",
]
