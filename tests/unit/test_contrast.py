"""WCAG 2.1 AA: every colour pair the UI paints data with (severity badges, SLA cells, the
wall's tiles and cells) has a contrast ratio of at least 4.5:1."""
from __future__ import annotations

import re

import pytest

from dashboard import ui


def luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    h = "".join(c * 2 for c in h) if len(h) == 3 else h
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(int(h[i:i + 2], 16) / 255) for i in (0, 2, 4))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def css_pair(css: str) -> tuple[str, str]:
    bg = re.search(r"background-color:\s*(#[0-9a-fA-F]{3,6})", css)
    fg = re.search(r"(?<!-)color:\s*(#[0-9a-fA-F]{3,6})", css)
    assert bg and fg, css
    return bg.group(1), fg.group(1)


def pairs() -> list[tuple[str, str, str]]:
    from pages import wall
    out = [(f"severity {k}", bg, fg) for k, (bg, fg) in ui.SEVERITY_COLORS.items()]
    out += [(f"SLA {k}", *css_pair(css)) for k, css in ui.SLA_STYLES.items()]
    out += [(f"wall tile {k}", bg, fg) for k, (bg, fg) in wall.TILE_COLORS.items()]
    return out


def test_the_known_failures_would_be_caught() -> None:
    assert round(contrast("#e65100", "#ffffff"), 2) == 3.79   # the old "high" badge
    assert round(contrast("#fff3e0", "#e65100"), 2) == 3.46   # the old "at risk" cell


@pytest.mark.parametrize("name, bg, fg", pairs())
def test_every_data_colour_pair_passes_aa(name: str, bg: str, fg: str) -> None:
    assert contrast(bg, fg) >= 4.5, f"{name}: {bg} on {fg} is {contrast(bg, fg):.2f}:1"
