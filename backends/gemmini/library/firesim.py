"""Reader for the FireSim calibration CSV (shared/data/firesim, from the DOSA project).

Each row is one layer measured on a 16x16 Gemmini running the vendor library with auto
tiling. Rows with Q = 1 and R = S = 1 are matrix multiplications (BERT's, and the
ResNet classifier with P = Q = 1): M = N * P, K = C, N = K. Every other row is a
convolution as the measuring harness built it (DOSA's ``extract_data_csv.py``, see
calibration.py): input P * stride square, padding R // 2, so the output is
(in - R + 2 * (R // 2)) // stride + 1, which is P for odd kernels and P + 1 for 2x2 ones.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from gemforge.errors import GemforgeError
from gemforge.layers import ConvLayer, Layer, MatmulLayer

_SHARED_CSV = Path("shared") / "data" / "firesim" / "gemmini-auto-calibration.csv"


def find_default_csv() -> Path:
    """Where the measurements are by default: ``$GEMFORGE_FIRESIM_CSV``, else ``../shared``
    beside the repository, found from the working directory (the repository root, as CI and
    the benchmarks run) or from this source tree (an editable install). The data stays
    outside the repository; an installed package has no copy of it."""
    env = os.environ.get("GEMFORGE_FIRESIM_CSV")
    if env:
        return Path(env)
    candidates = [Path.cwd().resolve().parent / _SHARED_CSV, Path(__file__).resolve().parents[4] / _SHARED_CSV]
    return next((c for c in candidates if c.is_file()), candidates[0])


DEFAULT_CSV = find_default_csv()

REQUIRED = (
    "prob.N", "prob.C", "prob.K", "prob.P", "prob.Q", "prob.R", "prob.S",
    "prob.Hstride", "prob.Wstride", "dse.auto_tiling", "target.gemmini_auto_cycle",
)


class CalibrationDataError(GemforgeError):
    """A calibration CSV that cannot be read (names the file, line and column)."""


@dataclass(frozen=True)
class FiresimRow:
    """One measured layer: the layer, the library's recorded tiling and the measured cycles."""

    line: int
    run: str
    layer: Layer
    auto_tiling: str
    measured_cycles: float

    @property
    def label(self) -> str:
        return self.layer.name


def row_to_layer(row: dict[str, str], where: str) -> Layer:
    """Build the layer a CSV row describes (see the module docstring for the rules)."""
    try:
        n, c, k, p, q, r, s, hs, ws = (int(row[col]) for col in REQUIRED[:9])
    except (TypeError, ValueError) as e:
        raise CalibrationDataError(f"{where}: bad shape field: {e}") from None
    if hs != ws:
        raise CalibrationDataError(f"{where}: unequal strides {hs}x{ws} are not supported")
    if q == 1 and r == 1 and s == 1:
        return MatmulLayer(m=n * p, k=c, n=k, name=f"mm_m{n * p}_k{c}_n{k}")
    if r != s:
        raise CalibrationDataError(f"{where}: non-square kernel {r}x{s} is not supported")
    if p != q:
        raise CalibrationDataError(f"{where}: non-square output {p}x{q} is not supported (the harness's are square)")
    pad = r // 2
    in_h = in_w = p * hs
    name = f"conv_n{n}_c{c}_k{k}_{p}x{q}_r{r}_s{hs}"
    return ConvLayer(batch=n, in_h=in_h, in_w=in_w, in_c=c, out_c=k, kernel_h=r, kernel_w=s, stride=hs, pad=pad, name=name)


def load_rows(path: str | Path = DEFAULT_CSV) -> list[FiresimRow]:
    """Every row of a calibration CSV with the FireSim columns (see REQUIRED)."""
    path = Path(path)
    try:
        f = path.open(newline="")
    except OSError as e:
        raise CalibrationDataError(f"{path}: cannot read calibration data: {e.strerror}") from None
    rows = []
    with f:
        reader = csv.DictReader(f)
        missing = [col for col in REQUIRED if col not in (reader.fieldnames or ())]
        if missing:
            raise CalibrationDataError(f"{path}: missing column(s) {', '.join(missing)}")
        for i, row in enumerate(reader):
            where = f"{path}:{i + 2}"
            try:
                cycles = float(row["target.gemmini_auto_cycle"])
            except (TypeError, ValueError):
                raise CalibrationDataError(f"{where}: target.gemmini_auto_cycle is not a number") from None
            rows.append(FiresimRow(i + 2, row.get("dosa.run", ""), row_to_layer(row, where), row["dse.auto_tiling"].strip(), cycles))
    return rows
