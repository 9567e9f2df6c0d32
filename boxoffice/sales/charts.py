"""Bar charts as SVG, drawn here from the numbers: no script, no style sheet, no font and no
link to anything elsewhere, so that a page shows them under its Content-Security-Policy and an
e-mail or a file keeps them as they are. The chart is one image to assistive technology
(`role="img"`), named by its `<title>` and described by a `<desc>` that states every number.

Sizes are estimates from the font size (there is no text measuring without a browser); labels
that would not fit are shortened or thinned out, never drawn over each other."""

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 600, 300
FONT_SIZE = 12
# The advance of an average character of a sans-serif face at FONT_SIZE, generously.
CHAR_WIDTH = 7.0
MOST_TICKS = 5
# A label drawn at an angle is shortened to this many characters (the full one is in the
# bar's tooltip and in the description).
SLANTED_CHARS = 16
# What a bar may take of its slot, and at most in pixels: one bar is not a wall.
BAR_SHARE, WIDEST_BAR = 0.7, 80.0

MARGIN_TOP, MARGIN_RIGHT = 50.0, 16.0
TEXT, MUTED, GRID, BAR = "#1f2328", "#57606a", "#d0d7de", "#2f62a3"

# XML 1.0 has no way to write most control characters, not even as references: a name that
# holds one would make the whole document unreadable, so it is shown as U+FFFD instead.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int


def bar_chart(
    *,
    name: str,
    title: str,
    bars: Sequence[Bar],
    tick_text: Callable[[int], str],
    value_text: Callable[[int], str],
    note: str = "",
) -> str:
    """A bar chart of non-negative integers, at WIDTH × HEIGHT (and scalable: it has a
    viewBox). `name` makes the ids of its title and description, unique within a page that
    shows several charts inline. `tick_text` writes a value on the axis and above a bar (`12.50`),
    `value_text` in the description (`12.50 EUR`, `1 seat`); `note` follows the title there."""
    top = max((bar.value for bar in bars), default=0)
    ticks = axis_ticks(top)
    tick_labels = [tick_text(tick) for tick in ticks]
    left = 16 + CHAR_WIDTH * max(len(label) for label in tick_labels)
    slot = (WIDTH - left - MARGIN_RIGHT) / max(len(bars), 1)
    labels = _x_labels([bar.label for bar in bars], slot)
    if labels.slanted:
        # The first label leans left, out of the picture unless the plot moves over for it
        # (the slots narrow a little, so which labels are shown is worked out again).
        left = max(left, _slanted_reach(labels) - slot / 2 + 8)
        slot = (WIDTH - left - MARGIN_RIGHT) / len(bars)
        labels = _x_labels([bar.label for bar in bars], slot)
    bottom = HEIGHT - (_slanted_reach(labels) + 20 if labels.slanted else 28.0)
    height = bottom - MARGIN_TOP

    def y(value: int) -> float:
        return bottom - height * value / ticks[-1] if ticks[-1] else bottom

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}"'
        f' viewBox="0 0 {WIDTH} {HEIGHT}" role="img"'
        f' aria-labelledby="{name}-title" aria-describedby="{name}-desc"'
        f' font-family="system-ui, sans-serif" font-size="{FONT_SIZE}" fill="{TEXT}">',
        f'<title id="{name}-title">{_text(title)}</title>',
        f'<desc id="{name}-desc">{_text(_description(title, note, bars, value_text))}</desc>',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>',
        f'<text x="8" y="22" font-size="15" font-weight="bold">{_text(title)}</text>',
    ]
    for tick, label in zip(ticks, tick_labels, strict=True):
        parts.append(
            f'<line x1="{left:.1f}" x2="{WIDTH - MARGIN_RIGHT:.1f}" y1="{y(tick):.1f}"'
            f' y2="{y(tick):.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6:.1f}" y="{y(tick) + 4:.1f}" text-anchor="end"'
            f' fill="{MUTED}">{_text(label)}</text>'
        )
    value_labels = all(len(tick_text(bar.value)) * CHAR_WIDTH <= slot for bar in bars)
    bar_width = min(slot * BAR_SHARE, WIDEST_BAR)
    for index, bar in enumerate(bars):
        middle = left + slot * (index + 0.5)
        parts.append(f"<g><title>{_text(f'{bar.label}: {value_text(bar.value)}')}</title>")
        if bar.value:
            parts.append(
                f'<rect x="{middle - bar_width / 2:.1f}" y="{y(bar.value):.1f}"'
                f' width="{bar_width:.1f}" height="{bottom - y(bar.value):.1f}" fill="{BAR}"/>'
            )
        if value_labels:
            parts.append(
                f'<text x="{middle:.1f}" y="{y(bar.value) - 4:.1f}"'
                f' text-anchor="middle">{_text(tick_text(bar.value))}</text>'
            )
        parts.append("</g>")
        shown = labels.shown[index]
        if shown is not None:
            parts.append(_x_label(shown, middle, bottom, slanted=labels.slanted))
    parts.append(
        f'<line x1="{left:.1f}" x2="{WIDTH - MARGIN_RIGHT:.1f}" y1="{bottom:.1f}"'
        f' y2="{bottom:.1f}" stroke="{MUTED}"/>'
    )
    if not top:
        parts.append(
            f'<text x="{(left + WIDTH - MARGIN_RIGHT) / 2:.1f}" y="{MARGIN_TOP + height / 2:.1f}"'
            f' text-anchor="middle" fill="{MUTED}">Nothing yet</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def axis_ticks(top: int) -> list[int]:
    """0 and equal steps of 1, 2 or 5 times a power of ten, up to the first at or above `top`:
    at most MOST_TICKS steps, never a fraction of a unit (of a seat, of a cent)."""
    if top <= 0:
        return [0]
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            steps = -(-top // step)
            if steps <= MOST_TICKS:
                return [step * n for n in range(steps + 1)]
        magnitude *= 10


@dataclass(frozen=True, slots=True)
class _Labels:
    # One entry per bar: what to write under it, or None to leave it out.
    shown: list[str | None]
    slanted: bool


def _x_labels(labels: list[str], slot: float) -> _Labels:
    """Upright under their bars, shortened to the slot, while the slot holds enough of them to
    read; else slanted, shortened to SLANTED_CHARS, and only every so many when the slots are
    narrower than a line of text."""
    fits = int((slot - 4) // CHAR_WIDTH)
    longest = max((len(label) for label in labels), default=0)
    if fits >= min(longest, 10):
        return _Labels([_shortened(label, fits) for label in labels], slanted=False)
    every = math.ceil(FONT_SIZE * 1.5 / slot)
    return _Labels(
        [
            _shortened(label, SLANTED_CHARS) if index % every == 0 else None
            for index, label in enumerate(labels)
        ],
        slanted=True,
    )


def _slanted_reach(labels: _Labels) -> float:
    """How far the longest label reaches down, and left, at 45 degrees."""
    longest = max(len(label) for label in labels.shown if label is not None)
    return longest * CHAR_WIDTH * math.sqrt(0.5)


def _x_label(label: str, middle: float, bottom: float, *, slanted: bool) -> str:
    if not slanted:
        return (
            f'<text x="{middle:.1f}" y="{bottom + 18:.1f}" text-anchor="middle">'
            f"{_text(label)}</text>"
        )
    x, y = middle + 4, bottom + 12
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="end"'
        f' transform="rotate(-45 {x:.1f} {y:.1f})">{_text(label)}</text>'
    )


def _shortened(label: str, most: int) -> str:
    return label if len(label) <= most else label[: max(most - 1, 1)] + "…"


def _description(
    title: str, note: str, bars: Sequence[Bar], value_text: Callable[[int], str]
) -> str:
    heading = f"{title} ({note})" if note else title
    if not bars:
        return f"{heading}: nothing yet."
    listed = "; ".join(f"{bar.label}: {value_text(bar.value)}" for bar in bars)
    return f"{heading}. {listed}. Total: {value_text(sum(bar.value for bar in bars))}."


def _text(value: str) -> str:
    """Text for an element's content or a quoted attribute: user input (a ticket type's name)
    cannot open a tag, an entity or a quote."""
    return escape(_NOT_XML.sub("\ufffd", value), {'"': "&quot;"})
