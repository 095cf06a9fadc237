"""Cell background colors as album flags: the tracker colors the Length cell orange for a
debut and green for a reissue or special release.

Colors are compared by Euclidean distance over 0-255 RGB channels, so a hand-picked shade
near a legend color (the real 2025 tab has one #93c47d among its #96da77) counts as it.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from .errors import ConfigurationError

RGB = tuple[int, int, int]
FLAGS = ("debut", "reissue")
DEFAULT_COLOR_FLAGS: dict[str, str] = {"#ffba4a": "debut", "#96da77": "reissue"}
MATCH_DISTANCE = 48.0
_HEX = re.compile(r"#?([0-9a-fA-F]{6})$")


def parse_hex(text: str) -> RGB:
    """ "#ffba4a" -> (255, 186, 74); raises ValueError for anything else."""
    match = _HEX.match(text.strip())
    if not match:
        raise ValueError(text)
    value = int(match.group(1), 16)
    return (value >> 16, (value >> 8) & 0xFF, value & 0xFF)


def api_color(color: Mapping[str, Any] | None) -> RGB | None:
    """A Sheets API Color ({red, green, blue} floats 0-1, a 0 channel omitted) as RGB."""
    if not color:
        return None
    try:
        return tuple(  # type: ignore[return-value]
            max(0, min(255, round(float(color.get(c) or 0) * 255)))
            for c in ("red", "green", "blue")
        )
    except (TypeError, ValueError):
        return None


def color_legend(setting: Any = None) -> tuple[tuple[RGB, str], ...]:
    """The (color, flag) legend from SYNCCORE_COLOR_FLAGS (JSON {"#ffba4a": "debut", ...});
    the tracker's legend when unset."""
    mapping = DEFAULT_COLOR_FLAGS if setting in (None, "", {}) else setting
    if isinstance(mapping, str):
        try:
            mapping = json.loads(mapping)
        except ValueError:
            mapping = None
    if not isinstance(mapping, Mapping):
        raise ConfigurationError(
            'SYNCCORE_COLOR_FLAGS must be JSON like {"#ffba4a": "debut", "#96da77": "reissue"}.'
        )
    legend = []
    for color, flag in mapping.items():
        try:
            rgb = parse_hex(str(color))
        except ValueError:
            raise ConfigurationError(
                f'SYNCCORE_COLOR_FLAGS: "{color}" is not a color; write it as #rrggbb.'
            ) from None
        if flag not in FLAGS:
            raise ConfigurationError(
                f'SYNCCORE_COLOR_FLAGS: "{flag}" is not a flag; use one of: {", ".join(FLAGS)}.'
            )
        legend.append((rgb, str(flag)))
    return tuple(legend)


def color_flag(rgb: RGB | None, legend: tuple[tuple[RGB, str], ...]) -> str | None:
    """The flag of the nearest legend color within MATCH_DISTANCE, or None."""
    if rgb is None:
        return None
    best, best_distance = None, MATCH_DISTANCE
    for color, flag in legend:
        distance = math.dist(rgb, color)
        if distance <= best_distance:
            best, best_distance = flag, distance
    return best
