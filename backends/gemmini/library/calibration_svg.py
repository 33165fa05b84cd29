"""A predicted-vs-measured scatter plot as a self-contained SVG document (no plotting library).

Used by ``benchmarks/firesim_calibration.py --plot OUT.svg`` so the README can show the
calibration without a matplotlib dependency: log-log axes with a tick and a label at every
decade, one point per row (measured x, predicted y), the line y = x and a shaded band of
+-``band`` around it, and a title line (e.g. with MAPE and Spearman).
"""

from __future__ import annotations

import math
from html import escape

_MARGIN = (70, 20, 48, 58)  # left, right, top, bottom (pixels)


def _decades(lo: float, hi: float) -> tuple[int, int]:
    """Integer exponents (a, b) with 10**a <= lo and hi <= 10**b, b > a."""
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    return a, max(b, a + 1)


def _label(e: int) -> str:
    return f"10<tspan dy=\"-6\" font-size=\"9\">{e}</tspan>"


def scatter_svg(points: list[tuple[float, float]], title: str, band: float = 0.15, size: int = 480,
                xlabel: str = "measured cycles (FireSim)", ylabel: str = "simulated cycles (gemforge)") -> str:
    """The SVG text of a log-log scatter of ``points`` (x, y), all positive."""
    pts = [(float(x), float(y)) for x, y in points if x > 0 and y > 0]
    if not pts:
        raise ValueError("scatter_svg: no positive points to plot")
    lo = min(min(x, y) for x, y in pts) / (1 + band)
    hi = max(max(x, y) for x, y in pts) * (1 + band)
    a, b = _decades(lo, hi)
    left, right, top, bottom = _MARGIN
    w = h = size
    pw, ph = w - left - right, h - top - bottom

    def px(v: float) -> float:
        return left + pw * (math.log10(v) - a) / (b - a)

    def py(v: float) -> float:
        return top + ph * (1 - (math.log10(v) - a) / (b - a))

    v0, v1 = 10.0 ** a, 10.0 ** b
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2:.1f}" y="20" text-anchor="middle" font-size="13">{escape(title)}</text>']
    # the +-band around y = x, clipped to the plot box by construction (from v0 to v1 / (1 + band))
    band_pts = [(v0, v0 * (1 - band)), (v1, v1 * (1 - band)), (v1 / (1 + band), v1), (v0, v0 * (1 + band))]
    out.append('<polygon fill="#4c9be8" fill-opacity="0.15" stroke="none" points="'
               + " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in band_pts) + '"/>')
    out.append(f'<line x1="{px(v0):.1f}" y1="{py(v0):.1f}" x2="{px(v1):.1f}" y2="{py(v1):.1f}" '
               'stroke="black" stroke-dasharray="4 3" stroke-width="0.8"/>')
    # axes box, decade ticks, grid and labels
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="black"/>')
    for e in range(a, b + 1):
        x, y = px(10.0 ** e), py(10.0 ** e)
        out.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="#ddd" stroke-width="0.6"/>')
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd" stroke-width="0.6"/>')
        out.append(f'<line x1="{x:.1f}" y1="{top + ph}" x2="{x:.1f}" y2="{top + ph + 5}" stroke="black"/>')
        out.append(f'<line x1="{left - 5}" y1="{y:.1f}" x2="{left}" y2="{y:.1f}" stroke="black"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 20}" text-anchor="middle">{_label(e)}</text>')
        out.append(f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{_label(e)}</text>')
    out.append(f'<text x="{left + pw / 2:.1f}" y="{h - 12}" text-anchor="middle">{escape(xlabel)}</text>')
    out.append(f'<text x="16" y="{top + ph / 2:.1f}" text-anchor="middle" '
               f'transform="rotate(-90 16 {top + ph / 2:.1f})">{escape(ylabel)}</text>')
    for x, y in pts:
        inside = abs(y - x) <= band * x
        out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.6" fill="{"#1f6fbf" if inside else "#d9541e"}" '
                   'fill-opacity="0.8"/>')
    out.append(f'<text x="{left + 8}" y="{top + 16}" font-size="11">shaded: within {100 * band:.0f}%; '
               'orange: outside</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
