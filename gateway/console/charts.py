"""The console's pictures, drawn on the server as SVG (no chart library, no CDN): the page
shows them as images from `/console/charts/<name>.svg`, so the strict CSP stays as it is.

- `deliveries`: deliveries acknowledged per hour and destination, the last 24 hours;
- `backlog`: deliveries not yet settled at the end of each hour, per destination;
- `on-time`: the 双公示 on-time rate per agency by month of the deadline;
- `feed-lag`: the changes waiting to be decided, by how long they have waited.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 150, 30, 36
PALETTE = ("#1d3557", "#e63946", "#2a9d8f", "#f4a261", "#6a4c93", "#457b9d", "#8d99ae", "#bc6c25", "#264653",
           "#d62828")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000, 50000, 100000):
        if value <= step:
            return float(step)
    return float(value)


def _frame(title: str, name: str, body: list[str], legend: Sequence[str], y_max: float, percent: bool,
           labels: Sequence[str], every: int) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" data-chart="{escape(name)}">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
           f'<text x="{LEFT}" y="18" font-family="Noto Sans CJK SC, sans-serif" font-size="13" font-weight="600" '
           f'fill="#1d2430">{escape(title)}</text>']
    for i in range(5):  # horizontal grid and y ticks
        y = TOP + plot_h - plot_h * i / 4
        value = y_max * i / 4
        tick = f"{value * 100:.0f} %" if percent else (f"{value:.0f}" if y_max >= 4 else f"{value:.1f}")
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#eceff3"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-family="Noto Sans CJK SC, sans-serif" '
                   f'font-size="10" fill="#4a5568">{tick}</text>')
    n = max(len(labels), 1)
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = LEFT + plot_w * (i + 0.5) / n
        out.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle" font-family="Noto Sans CJK SC, sans-serif" '
                   f'font-size="10" fill="#4a5568">{escape(label)}</text>')
    out.append(f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{LEFT + plot_w}" y2="{TOP + plot_h}" stroke="#8a99ad"/>')
    out.extend(body)
    for i, series in enumerate(legend):
        y = TOP + 6 + i * 16
        out.append(f'<rect x="{WIDTH - RIGHT + 12}" y="{y - 8}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>')
        out.append(f'<text x="{WIDTH - RIGHT + 26}" y="{y + 1}" font-family="Noto Sans CJK SC, sans-serif" font-size="11" '
                   f'fill="#1d2430" class="legend">{escape(series)}</text>')
    if not legend:
        out.append(f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" '
                   f'font-family="Noto Sans CJK SC, sans-serif" font-size="12" fill="#718096">nothing yet</text>')
    out.append("</svg>")
    return "\n".join(out)


def line_chart(name: str, title: str, labels: Sequence[str], series: dict[str, Sequence[float]]) -> str:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    y_max = _nice_max(max((v for values in series.values() for v in values), default=0))
    n = max(len(labels), 1)
    body = []
    for i, (key, values) in enumerate(series.items()):
        points = " ".join(f"{LEFT + plot_w * (j + 0.5) / n:.1f},{TOP + plot_h - plot_h * v / y_max:.1f}"
                          for j, v in enumerate(values))
        body.append(f'<polyline class="series" data-series="{escape(key)}" fill="none" '
                    f'stroke="{PALETTE[i % len(PALETTE)]}" stroke-width="2" points="{points}"/>')
    return _frame(title, name, body, list(series), y_max, False, labels, every=max(1, len(labels) // 8))


def bar_chart(name: str, title: str, labels: Sequence[str], series: dict[str, Sequence[float | None]], *,
              percent: bool = False) -> str:
    """Grouped bars: one group per label, one bar per series; None draws no bar (nothing to measure)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    y_max = 1.0 if percent else _nice_max(max((v or 0 for values in series.values() for v in values), default=0))
    n, k = max(len(labels), 1), max(len(series), 1)
    group = plot_w / n
    bar = group * 0.8 / k
    body = []
    for i, (key, values) in enumerate(series.items()):
        for j, v in enumerate(values):
            if v is None:
                continue
            h = max(plot_h * v / y_max, 2.0)  # a 0 % month still shows a sliver: measured, not missing
            x = LEFT + group * j + group * 0.1 + bar * i
            shown = f"{v * 100:.0f} %" if percent else f"{v:g}"
            body.append(f'<rect class="bar" data-series="{escape(key)}" x="{x:.1f}" y="{TOP + plot_h - h:.1f}" '
                        f'width="{max(bar - 1, 1):.1f}" height="{h:.1f}" fill="{PALETTE[i % len(PALETTE)]}">'
                        f'<title>{escape(key)} {escape(labels[j])}: {shown}</title></rect>')
    return _frame(title, name, body, list(series), y_max, percent, labels, every=1)


def render(name: str, data: dict[str, Any]) -> str:
    """One picture by name from the repository's data (`gateway.console.repository`)."""
    if name == "deliveries":
        return line_chart(name, "Deliveries acknowledged per hour, last 24 h", data["labels"],
                          {d: s["delivered"] for d, s in data["destinations"].items()})
    if name == "backlog":
        return line_chart(name, "Backlog (not yet settled) per destination, last 24 h", data["labels"],
                          {d: s["backlog"] for d, s in data["destinations"].items()})
    if name == "on-time":
        return bar_chart(name, "双公示 published on time (7 working days), per agency by month", data["labels"],
                         data["agencies"], percent=True)
    if name == "feed-lag":
        oldest = data["oldest_seconds"]
        title = (f"Change feed: waiting changes by age (oldest {oldest:.0f} s, "
                 f"{data['quarantined']} set aside)")
        return bar_chart(name, title, data["labels"], {"waiting": data["pending"]} if sum(data["pending"]) else {})
    raise KeyError(name)


NAMES = ("deliveries", "backlog", "on-time", "feed-lag")
