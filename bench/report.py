"""The results table (markdown, for stdout and the README) and the JSON file."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .common import RESULTS_DIR, Figure

COLUMNS = ("Scenario", "DB", "Figure", "Value", "Baseline (same run)", "Ratio", "Target", "Holds")


def format_value(value: float | None, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "s":
        if value < 0.001:
            return f"{value * 1e6:,.0f} µs"
        if value < 1:
            return f"{value * 1000:,.1f} ms"
        return f"{value:,.2f} s"
    if unit == "ms":
        return f"{value:,.1f} ms"
    if unit in ("rows/s", "rows", "requests", "albums", "count"):
        return f"{value:,.0f} {unit}" if unit != "count" else f"{value:,.0f}"
    if unit == "MB":
        return f"{value:,.0f} MB"
    return f"{value:,.3g} {unit}".strip()


def _holds(flag: bool | None) -> str:
    return {True: "yes", False: "**no**", None: ""}[flag]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(figures: Iterable[Figure]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for f in figures:
        value = format_value(f.value, f.unit)
        if f.note:
            value += f" ({f.note})"
        baseline = f.baseline
        if f.baseline_value is not None:
            baseline = f"{baseline}: {format_value(f.baseline_value, f.unit)}"
        cells = (
            f.scenario,
            f.db,
            f.figure,
            value,
            baseline,
            f.ratio_text,
            f.target,
            _holds(f.holds),
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def write_json(figures: list[Figure], meta: dict[str, Any], path: Path | None = None) -> Path:
    path = path or RESULTS_DIR / "latest.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **meta,
        "figures": [f.to_json() for f in figures],
    }
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path
