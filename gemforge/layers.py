"""Layer descriptions: the unit of work the scheduler, the baseline and the benchmarks share.

A :class:`ConvLayer` or :class:`MatmulLayer` says what to compute (shapes, stride,
padding, groups), independent of any IR. ``load_suite`` reads the benchmark suites
(``gemforge/suites/layers.csv``, shipped with the package: columns suite,name,op,batch,in_h,in_w,in_c,out_c,kernel_h,
kernel_w,stride,pad,groups; matmuls use in_h = M, in_c = K, out_c = N).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from gemforge.errors import GemforgeError


class LayerError(GemforgeError):
    """A layer description that makes no sense (names the layer and the field)."""


@dataclass(frozen=True)
class ConvLayer:
    """2-D convolution, NHWC input, HWIO weights (depthwise: groups == in_c == out_c)."""

    batch: int
    in_h: int
    in_w: int
    in_c: int
    out_c: int
    kernel_h: int
    kernel_w: int
    stride: int = 1
    pad: int = 0
    groups: int = 1
    dilation: int = 1
    name: str = "conv"

    def __post_init__(self):
        for f in ("batch", "in_h", "in_w", "in_c", "out_c", "kernel_h", "kernel_w", "stride", "groups", "dilation"):
            if getattr(self, f) < 1:
                raise LayerError(f"layer {self.name}: {f} = {getattr(self, f)} must be positive")
        if self.pad < 0:
            raise LayerError(f"layer {self.name}: pad = {self.pad} must not be negative")
        if self.in_c % self.groups or self.out_c % self.groups:
            raise LayerError(f"layer {self.name}: groups = {self.groups} does not divide in_c and out_c")
        if self.out_h < 1 or self.out_w < 1:
            raise LayerError(f"layer {self.name}: the kernel does not fit the padded input")

    @property
    def out_h(self) -> int:
        return (self.in_h + 2 * self.pad - self.dilation * (self.kernel_h - 1) - 1) // self.stride + 1

    @property
    def out_w(self) -> int:
        return (self.in_w + 2 * self.pad - self.dilation * (self.kernel_w - 1) - 1) // self.stride + 1

    @property
    def depthwise(self) -> bool:
        return self.groups > 1 and self.groups == self.in_c == self.out_c

    @property
    def macs(self) -> int:
        per_out = self.kernel_h * self.kernel_w * (self.in_c // self.groups)
        return self.batch * self.out_h * self.out_w * self.out_c * per_out

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.in_h, self.in_w, self.in_c)

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        return (self.kernel_h, self.kernel_w, self.in_c // self.groups, self.out_c)

    @property
    def output_shape(self) -> tuple[int, int, int, int]:
        return (self.batch, self.out_h, self.out_w, self.out_c)


@dataclass(frozen=True)
class MatmulLayer:
    """C[M, N] = A[M, K] x B[K, N]."""

    m: int
    k: int
    n: int
    name: str = "matmul"

    def __post_init__(self):
        for f in ("m", "k", "n"):
            if getattr(self, f) < 1:
                raise LayerError(f"layer {self.name}: {f} = {getattr(self, f)} must be positive")

    @property
    def macs(self) -> int:
        return self.m * self.k * self.n

    @property
    def input_shape(self) -> tuple[int, int]:
        return (self.m, self.k)

    @property
    def weight_shape(self) -> tuple[int, int]:
        return (self.k, self.n)

    @property
    def output_shape(self) -> tuple[int, int]:
        return (self.m, self.n)


Layer = ConvLayer | MatmulLayer

SUITE_COLUMNS = ("suite", "name", "op", "batch", "in_h", "in_w", "in_c", "out_c", "kernel_h", "kernel_w", "stride", "pad", "groups")
DEFAULT_SUITE = Path(__file__).resolve().parent / "suites" / "layers.csv"


def layer_from_row(row: dict[str, str], where: str) -> tuple[str, Layer]:
    """One CSV row -> (suite, layer); errors name the file, line and column."""
    missing = [c for c in SUITE_COLUMNS if c not in row or row[c] in (None, "")]
    if missing:
        raise LayerError(f"{where}: missing column(s) {', '.join(missing)}")
    try:
        v = {c: int(row[c]) for c in SUITE_COLUMNS[3:]}
    except ValueError as e:
        raise LayerError(f"{where}: layer {row['name']}: {e}") from None
    op = row["op"]
    if op == "matmul":
        return row["suite"], MatmulLayer(m=v["batch"] * v["in_h"], k=v["in_c"], n=v["out_c"], name=row["name"])
    if op in ("conv2d", "depthwise_conv2d"):
        return row["suite"], ConvLayer(
            batch=v["batch"], in_h=v["in_h"], in_w=v["in_w"], in_c=v["in_c"], out_c=v["out_c"],
            kernel_h=v["kernel_h"], kernel_w=v["kernel_w"], stride=v["stride"], pad=v["pad"],
            groups=v["groups"], name=row["name"],
        )
    raise LayerError(f"{where}: layer {row['name']}: unknown op '{op}' (expected conv2d, depthwise_conv2d, matmul)")


def load_suite(path: str | Path = DEFAULT_SUITE, suite: str = "all") -> list[tuple[str, Layer]]:
    """Read a layer-suite CSV; ``suite`` filters by the suite column ('all' keeps every row)."""
    path = Path(path)
    try:
        f = path.open(newline="")
    except OSError as e:
        raise LayerError(f"{path}: cannot read layer suite: {e.strerror}") from None
    with f:
        rows = [layer_from_row(r, f"{path}:{i + 2}") for i, r in enumerate(csv.DictReader(f))]
    return [(s, layer) for s, layer in rows if suite in ("all", s)]
