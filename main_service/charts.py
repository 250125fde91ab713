"""Small server-side SVG charts for the dashboard and reports: no script, no CDN.

Each chart is inline ``<svg role="img">`` markup with a ``<title>`` and a
``<desc>``, axis and value labels, a legend, and a ``<title>`` on every bar
and point (a tooltip). Series differ by pattern (solid, hatched) and line
style as well as by colour, and bars carry direct labels, so a chart reads
without colour. Only SVG presentation attributes are used, never ``style``,
so the Content Security Policy (no inline styles) has nothing to block.

Geometry is worked out in floats (pixel positions only); every label is
formatted from the Decimal it shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from markupsafe import Markup, escape

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"
INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#e1e7ef"
CHAR_WIDTH = 0.58  # average glyph width per font-size unit, for fitting labels

_UNITS = ((Decimal(10) ** 12, "T"), (Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "K"))


def compact(value: Decimal) -> str:
    """``1.2M``, ``350K``, ``950``, ``−4.5K``: short figures for labels on a chart."""
    sign = "−" if value < 0 else ""
    value = abs(Decimal(value))
    for index, (size, suffix) in enumerate(_UNITS):
        if value >= size:
            scaled = value / size
            places = Decimal("0.1") if scaled < 10 else Decimal("1")
            rounded = scaled.quantize(places, rounding=ROUND_HALF_UP)
            if rounded >= 1000 and index > 0:  # 999,950 is 1M, not 1000K
                size, suffix = _UNITS[index - 1]
                rounded = (value / size).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
            text = format(rounded, "f")
            return sign + (text[:-2] if text.endswith(".0") else text) + suffix
    if value == value.to_integral_value() or value >= 10:
        return sign + format(value.quantize(Decimal("1"), rounding=ROUND_HALF_UP), "f")
    return sign + format(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), "f")


def text_width(text: str, size: float) -> float:
    return len(text) * size * CHAR_WIDTH


def nice_ticks(low: float, high: float, target: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5 or 5 times a power of ten) covering ``low``..``high``."""
    if high <= low:
        high = low + 1
    raw = (high - low) / target
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step) * step
    last = math.ceil(high / step) * step
    count = round((last - first) / step)
    return [first + i * step for i in range(count + 1)]


@dataclass(frozen=True)
class Series:
    """One bar or line series: its name in the legend, values, colour and fill pattern."""

    name: str
    values: Sequence[Decimal]
    colour: str
    pattern: str = "solid"  # solid | hatch


def _attrs(**attributes) -> Markup:
    parts = []
    for name, value in attributes.items():
        if value is None:
            continue
        if isinstance(value, float):
            value = f"{value:.1f}".rstrip("0").rstrip(".")
        parts.append(Markup(' {}="{}"').format(Markup(name.rstrip("_").replace("_", "-")), value))
    return Markup("").join(parts)


def _tag(name: str, content: str | Markup = "", **attributes) -> Markup:
    if content == "":
        return Markup("<{}{}/>").format(Markup(name), _attrs(**attributes))
    return Markup("<{0}{1}>{2}</{0}>").format(Markup(name), _attrs(**attributes), content)


def _text(x: float, y: float, content: str, *, size: float = 11, anchor: str = "start", **attributes) -> Markup:
    return _tag("text", escape(content), x=x, y=y, font_size=size, text_anchor=anchor, **attributes)


def _defs(chart_id: str, series: Sequence[Series]) -> Markup:
    """A hatch pattern for every series that asks for one."""
    patterns = []
    for index, s in enumerate(series):
        if s.pattern != "hatch":
            continue
        body = _tag("rect", width=6, height=6, fill=s.colour) + _tag(
            "line", x1=0, y1=0, x2=0, y2=6, stroke="#ffffff", stroke_width=2.2
        )
        patterns.append(
            _tag(
                "pattern",
                body,
                id=f"{chart_id}-p{index}",
                width=6,
                height=6,
                patternUnits="userSpaceOnUse",
                patternTransform="rotate(45)",
            )
        )
    return _tag("defs", Markup("").join(patterns)) if patterns else Markup("")


def _fill(chart_id: str, index: int, s: Series) -> str:
    return f"url(#{chart_id}-p{index})" if s.pattern == "hatch" else s.colour


def _svg(chart_id: str, width: int, height: int, title: str, desc: str, body: Markup) -> Markup:
    head = _tag("title", escape(title), id=f"{chart_id}-title") + _tag("desc", escape(desc), id=f"{chart_id}-desc")
    return _tag(
        "svg",
        head + body,
        xmlns="http://www.w3.org/2000/svg",
        viewBox=f"0 0 {width} {height}",
        role="img",
        aria_labelledby=f"{chart_id}-title {chart_id}-desc",
        font_family=FONT,
        fill=INK,
        class_="chart",
        id=chart_id,
    )


def _legend(chart_id: str, x: float, y: float, bars: Sequence[Series], line: Series | None) -> Markup:
    items = []
    for index, s in enumerate(bars):
        items.append(_tag("rect", x=x, y=y - 10, width=14, height=14, rx=2, fill=_fill(chart_id, index, s)))
        items.append(_text(x + 20, y + 1, s.name, size=12))
        x += 20 + text_width(s.name, 12) + 22
    if line is not None:
        items.append(
            _tag(
                "line",
                x1=x,
                y1=y - 3,
                x2=x + 22,
                y2=y - 3,
                stroke=line.colour,
                stroke_width=2.5,
                stroke_dasharray="6 3",
            )
        )
        items.append(_tag("circle", cx=x + 11, cy=y - 3, r=3.5, fill="#ffffff", stroke=line.colour, stroke_width=2))
        items.append(_text(x + 28, y + 1, line.name, size=12))
    return _tag("g", Markup("").join(items), class_="legend")


def column_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    categories: Sequence[tuple[str, str]],
    bars: Sequence[Series],
    line: Series | None = None,
    width: int = 960,
    height: int = 340,
) -> Markup:
    """Grouped columns per category (``(label, sub-label)``, e.g. month and year), an optional line over them."""
    left, right, top, bottom = 58, 14, 46, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [float(v) for s in bars for v in s.values] + ([float(v) for v in line.values] if line else [])
    ticks = nice_ticks(min([0.0, *values]), max([0.0, *values]) or 1.0)
    low, high = ticks[0], ticks[-1]

    def y(value: float) -> float:
        return top + plot_h - (value - low) / (high - low) * plot_h

    parts = [_defs(chart_id, bars), _legend(chart_id, left, 20, bars, line)]
    grid = []
    for tick in ticks:
        grid.append(_tag("line", x1=left, y1=y(tick), x2=width - right, y2=y(tick), stroke=GRID, stroke_width=1))
        grid.append(_text(left - 8, y(tick) + 4, compact(Decimal(str(tick))), size=11, anchor="end", fill=MUTED))
    parts.append(_tag("g", Markup("").join(grid), class_="y-axis"))

    slot = plot_w / max(1, len(categories))
    bar_w = min(36.0, slot * 0.8 / max(1, len(bars)) - 2)
    group_w = bar_w * len(bars) + 2 * (len(bars) - 1)
    label_size = 10
    # Value labels only when each fits over its own bar; otherwise the tooltips and the table beside carry them.
    widest = max([text_width(compact(v), label_size) for s in bars for v in s.values] + [0.0])
    show_values = widest <= bar_w + 1
    columns, labels, axis = [], [], []
    zero = y(0.0)
    for i, (label, sub_label) in enumerate(categories):
        centre = left + slot * (i + 0.5)
        x0 = centre - group_w / 2
        for k, s in enumerate(bars):
            value = s.values[i]
            top_y, bottom_y = sorted((y(float(value)), zero))
            x = x0 + k * (bar_w + 2)
            shown = f"{s.name}, {label} {sub_label}".strip() + f": {compact(value)}"
            columns.append(
                _tag(
                    "rect",
                    _tag("title", escape(shown)),
                    x=x,
                    y=top_y,
                    width=bar_w,
                    height=max(bottom_y - top_y, 0.0),
                    fill=_fill(chart_id, k, s),
                    stroke=s.colour,
                    stroke_width=1,
                    class_="bar",
                    data_value=str(value),
                )
            )
            if value != 0 and show_values:
                text = compact(value)
                labels.append(
                    _text(
                        x + bar_w / 2,
                        top_y - 4,
                        text,
                        size=label_size,
                        anchor="middle",
                        class_="value",
                        # A white halo keeps the figure legible where the line crosses it.
                        stroke="#ffffff",
                        stroke_width=3,
                        paint_order="stroke",
                        stroke_linejoin="round",
                    )
                )
        axis.append(_text(centre, height - bottom + 18, label, size=11, anchor="middle", fill=MUTED))
        if sub_label:
            axis.append(_text(centre, height - bottom + 32, sub_label, size=10, anchor="middle", fill=MUTED))
    parts.append(_tag("g", Markup("").join(columns), class_="bars"))
    parts.append(_tag("line", x1=left, y1=zero, x2=width - right, y2=zero, stroke=MUTED, stroke_width=1))
    parts.append(_tag("g", Markup("").join(axis), class_="x-axis"))

    if line is not None:
        points = [(left + slot * (i + 0.5), y(float(v))) for i, v in enumerate(line.values)]
        path = " ".join(f"{x:.1f},{py:.1f}" for x, py in points)
        markers = [
            _tag(
                "circle",
                _tag(
                    "title", escape(f"{line.name}, {categories[i][0]} {categories[i][1]}".strip() + f": {compact(v)}")
                ),
                cx=x,
                cy=py,
                r=4,
                fill="#ffffff",
                stroke=line.colour,
                stroke_width=2,
                class_="point",
                data_value=str(v),
            )
            for i, ((x, py), v) in enumerate(zip(points, line.values, strict=True))
        ]
        parts.append(
            _tag(
                "g",
                _tag(
                    "polyline",
                    points=path,
                    fill="none",
                    stroke=line.colour,
                    stroke_width=2.5,
                    stroke_dasharray="6 3",
                    stroke_linejoin="round",
                    class_="line",
                )
                + Markup("").join(markers),
                class_="line-series",
            )
        )
    parts.append(_tag("g", Markup("").join(labels), class_="value-labels"))
    return _svg(chart_id, width, height, title, desc, Markup("").join(parts))


@dataclass(frozen=True)
class Bar:
    """One row of a horizontal bar chart."""

    label: str
    value: Decimal
    shown: str  # the value label, e.g. "NGN 1.2M · 3"
    colour: str
    pattern: str = "solid"


def bar_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    rows: Sequence[Bar],
    width: int = 520,
    row_height: int = 34,
) -> Markup:
    """Horizontal bars, each named on the left and labelled with its value at its end."""
    label_w = max([text_width(r.label, 12) for r in rows] + [60.0]) + 16
    value_w = max([text_width(r.shown, 11.5) for r in rows] + [30.0]) + 12
    top = 8
    height = top + row_height * len(rows) + 8
    plot_w = width - label_w - value_w - 8
    largest = max([float(r.value) for r in rows] + [0.0]) or 1.0
    as_series = [Series(r.label, [r.value], r.colour, r.pattern) for r in rows]
    body = [_defs(chart_id, as_series)]
    for index, row in enumerate(rows):
        y = top + index * row_height
        length = float(row.value) / largest * plot_w
        body.append(_text(label_w - 10, y + row_height / 2 + 4, row.label, size=12, anchor="end"))
        body.append(
            _tag(
                "rect",
                _tag("title", escape(f"{row.label}: {row.shown}")),
                x=label_w,
                y=y + 6,
                width=max(length, 0.0),
                height=row_height - 12,
                rx=2,
                fill=_fill(chart_id, index, as_series[index]),
                stroke=row.colour,
                stroke_width=1,
                class_="bar",
                data_value=str(row.value),
            )
        )
        body.append(_text(label_w + length + 6, y + row_height / 2 + 4, row.shown, size=11.5, class_="value"))
    body.append(_tag("line", x1=label_w, y1=top, x2=label_w, y2=height - 8, stroke=MUTED, stroke_width=1))
    return _svg(chart_id, width, height, title, desc, Markup("").join(body))
