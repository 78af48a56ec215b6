"""Small server-side SVG charts (bars, grouped bars): no JavaScript charting library on the console."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH = 640
BAR_H = 22
LABEL_W = 200
PALETTE = ("#0b5cad", "#c0392b", "#7f8c8d")


def hbar_chart(
    title: str, rows: list[tuple[str, list[float]]], *, series: list[str], unit: str = ""
) -> Markup:
    """Horizontal bars, one row per label, one bar per series value; escaped labels, fixed size."""
    top = 28
    legend_h = 18 if len(series) > 1 else 0
    row_h = BAR_H * max(1, len(series)) + 6
    height = top + legend_h + max(1, len(rows)) * row_h + 10
    peak = max((v for _label, values in rows for v in values), default=0) or 1
    plot_w = WIDTH - LABEL_W - 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="system-ui,sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="16" font-size="14" font-weight="600">{escape(title)}</text>',
    ]
    if len(series) > 1:
        x = LABEL_W
        for i, name in enumerate(series):
            parts.append(
                f'<rect x="{x}" y="{top - 6}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
            )
            parts.append(f'<text x="{x + 14}" y="{top + 3}">{escape(name)}</text>')
            x += 14 + 8 * len(name) + 20
    if not rows:
        parts.append(f'<text x="{LABEL_W}" y="{top + legend_h + 16}" fill="#5b6b7b">No data yet.</text>')
    y = top + legend_h
    for label, values in rows:
        ty = y + row_h / 2 + 4
        parts.append(f'<text x="{LABEL_W - 8}" y="{ty:.0f}" text-anchor="end">{escape(label[:32])}</text>')
        for i, value in enumerate(values):
            w = plot_w * value / peak
            by = y + i * BAR_H + 3
            color = PALETTE[i % len(PALETTE)]
            parts.append(
                f'<rect x="{LABEL_W}" y="{by}" width="{w:.1f}" height="{BAR_H - 4}" fill="{color}">'
                f"<title>{escape(label)}: {value:g}{escape(unit)}</title></rect>"
            )
            parts.append(
                f'<text x="{LABEL_W + w + 4:.1f}" y="{by + BAR_H - 8}">{value:g}{escape(unit)}</text>'
            )
        y += row_h
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every interpolated text above goes through escape()
