"""Draw a rumour's status history as an SVG strip across the years. No ORM here.

Each status in force is a coloured band from its effective date to the next
change (or now); each change is a marker, hollow and struck through when retracted.
Denials and revivals are visible at a glance. The SVG is self-contained and
escapes every label, so it can be placed straight into the admin page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

COLOURS = {
    "rumoured": "#f0a202",
    "in_talks": "#1e88e5",
    "agreed": "#7b1fa2",
    "completed": "#2e7d32",
    "abandoned": "#757575",
    "denied": "#d32f2f",
    "expired": "#bdbdbd",
}
WIDTH, HEIGHT = 900, 96
LEFT, RIGHT = 16, 16
BAND_Y, BAND_H = 28, 22


@dataclass(frozen=True)
class Point:
    status: str
    label: str
    effective_at: datetime
    retracted: bool = False


def render(points: list[Point], *, now: datetime) -> str:
    """The SVG markup for ``points`` (any order); an empty history gives a short note."""
    if not points:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="24" role="img">'
            '<text x="0" y="16" font-size="13" fill="#666">No status recorded yet.</text></svg>'
        )
    points = sorted(points, key=lambda p: p.effective_at)
    start = min(points[0].effective_at, now)
    start = start.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    end = max(now, points[-1].effective_at)
    span = max((end - start).total_seconds(), 1.0)

    def x(moment: datetime) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (moment - start).total_seconds() / span

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'style="max-width:100%;height:auto" role="img" aria-label="Status timeline" class="rumour-timeline" '
        'font-family="sans-serif">'
    ]
    for year in range(start.year, end.year + 1):
        tick = x(start.replace(year=year))
        parts.append(f'<line x1="{tick:.1f}" y1="20" x2="{tick:.1f}" y2="{BAND_Y + BAND_H + 6}" stroke="#ddd"/>')
        parts.append(f'<text x="{tick + 3:.1f}" y="14" font-size="11" fill="#555">{year}</text>')
    in_force = [p for p in points if not p.retracted]
    for current, following in zip(in_force, [*in_force[1:], None], strict=True):
        left = x(current.effective_at)
        right = x(following.effective_at) if following else x(end)
        colour = COLOURS.get(current.status, "#999")
        parts.append(
            f'<rect x="{left:.1f}" y="{BAND_Y}" width="{max(right - left, 2):.1f}" height="{BAND_H}" '
            f'fill="{colour}" opacity="0.85"><title>{escape(current.label)} from '
            f"{current.effective_at:%Y-%m-%d}</title></rect>"
        )
    for index, point in enumerate(points):
        cx = x(point.effective_at)
        colour = COLOURS.get(point.status, "#999")
        label_y = BAND_Y + BAND_H + 18 + (index % 2) * 14  # alternate rows so close changes stay legible
        fill = "#fff" if point.retracted else colour
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{BAND_Y + BAND_H / 2}" r="6" fill="{fill}" stroke="#333" stroke-width="1.5">'
            f"<title>{escape(point.label)} on {point.effective_at:%Y-%m-%d}"
            f"{' (retracted)' if point.retracted else ''}</title></circle>"
        )
        decoration = ' text-decoration="line-through" fill="#999"' if point.retracted else ' fill="#222"'
        parts.append(
            f'<text x="{cx:.1f}" y="{label_y}" font-size="11" text-anchor="middle"{decoration}>'
            f"{escape(point.label)} {point.effective_at:%b %Y}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
