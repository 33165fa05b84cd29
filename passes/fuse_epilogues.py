"""``fuse-epilogues``: every epilogue fusion at once, applied greedily until none
matches, so chains such as conv (int32) -> add bias -> requantize -> relu -> maxpool
collapse into one ``graph.conv2d``.

The patterns and what each fuses exactly are documented in their passes:
``fuse-bias`` (:mod:`~gemforge.passes.fuse_bias`), ``fuse-requantize``
(:mod:`~gemforge.passes.fuse_requantize`), ``fuse-activation``
(:mod:`~gemforge.passes.fuse_activation`), ``fuse-pool``
(:mod:`~gemforge.passes.fuse_pool`) and ``fuse-residual``
(:mod:`~gemforge.passes.fuse_residual`). Every fusion but the residual one is exact;
each rewrite preserves the function's results on its own, so the order in which they
fire cannot change them (a pattern declines when the producer's epilogue has no room
left in the right place, e.g. an activation or pool already fused blocks a later bias
or residual, which would have to act before them).

Options: ``allow-approximate-residual`` (default false) as in ``fuse-residual``;
``hardware-pool`` (default true) as in ``fuse-pool``.
"""

from __future__ import annotations

from dataclasses import dataclass

from xdsl.context import Context
from xdsl.dialects.builtin import ModuleOp
from xdsl.passes import ModulePass

from gemforge.passes._fusion import run_patterns
from gemforge.passes.fuse_activation import FuseActivationPattern
from gemforge.passes.fuse_bias import FuseBiasPattern
from gemforge.passes.fuse_pool import FusePoolPattern
from gemforge.passes.fuse_requantize import FuseRequantizePattern
from gemforge.passes.fuse_residual import FuseResidualPattern


@dataclass(frozen=True)
class FuseEpilogues(ModulePass):
    """Fold bias, requantize, relu / clip, max pool (and, opt-in, residual adds) into
    the producing conv2d / matmul."""

    name = "fuse-epilogues"

    allow_approximate_residual: bool = False
    hardware_pool: bool = True

    def apply(self, ctx: Context, op: ModuleOp) -> None:
        run_patterns(
            ctx,
            op,
            FuseBiasPattern(),
            FuseRequantizePattern(),
            FuseActivationPattern(),
            FusePoolPattern(self.hardware_pool),
            FuseResidualPattern(self.allow_approximate_residual),
        )
