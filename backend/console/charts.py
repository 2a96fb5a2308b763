"""Bar charts drawn by the server as inline SVG (no JavaScript library, nothing from a CDN)."""
from __future__ import annotations

from markupsafe import Markup, escape

COLOURS = ("#2f6f9f", "#3f9a82", "#d08a2e", "#8a5fb0", "#c4574f", "#5a7d2b")
_ROW = 28
_LABEL = 150


def _number(value: float) -> str:
    return f"{value:g}" if value != int(value) else str(int(value))


def bars(items: list[tuple[str, float]], *, title: str, unit: str = "", width: int = 560,
         colour: str = COLOURS[0]) -> Markup:
    """Horizontal bars, one row per label: readable with long Chinese labels."""
    if not items:
        return Markup('<p class="empty">所选时间内没有数据</p>')
    top = max(value for _, value in items) or 1
    room = width - _LABEL - 60
    height = _ROW * len(items) + 8
    rows = []
    for i, (label, value) in enumerate(items):
        y = 4 + i * _ROW
        length = max(value / top * room, 2 if value else 0)
        rows.append(
            f'<text x="{_LABEL - 8}" y="{y + 18}" text-anchor="end" class="label">{escape(label)}</text>'
            f'<rect x="{_LABEL}" y="{y + 4}" width="{length:.1f}" height="{_ROW - 10}" rx="3" fill="{colour}">'
            f'<title>{escape(label)}：{_number(value)}{escape(unit)}</title></rect>'
            f'<text x="{_LABEL + length + 6:.1f}" y="{y + 18}" class="value">{_number(value)}{escape(unit)}</text>')
    return Markup(f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
                  f'width="100%" preserveAspectRatio="xMinYMin meet">{"".join(rows)}</svg>')


def columns(items: list[tuple[str, float]], *, title: str, width: int = 560, height: int = 200,
            colour: str = COLOURS[1]) -> Markup:
    """Vertical bars over a time axis (one per day)."""
    if not items:
        return Markup('<p class="empty">所选时间内没有数据</p>')
    top = max(value for _, value in items) or 1
    base, room = height - 28, height - 52
    step = (width - 20) / len(items)
    bar = max(min(step * 0.7, 40), 3)
    parts = [f'<line x1="10" y1="{base}" x2="{width - 10}" y2="{base}" class="axis"/>']
    every = max(1, round(len(items) / 12))
    for i, (label, value) in enumerate(items):
        x = 10 + i * step + (step - bar) / 2
        h = value / top * room
        parts.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" rx="2" '
                     f'fill="{colour}"><title>{escape(label)}：{_number(value)}</title></rect>')
        if value:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{base - h - 4:.1f}" text-anchor="middle" '
                         f'class="value">{_number(value)}</text>')
        if i % every == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{base + 16}" text-anchor="middle" '
                         f'class="label">{escape(label)}</text>')
    return Markup(f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {width} {height}" '
                  f'width="100%" preserveAspectRatio="xMinYMin meet">{"".join(parts)}</svg>')
